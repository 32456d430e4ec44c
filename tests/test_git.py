"""`sprawl git` on real repositories: history, attribution, branches, bare/mirror/shallow/corrupt."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import GITHUB_TOKEN, run_sprawl
from tests.gitutil import commit, git, init_repo


@pytest.fixture
def leaky_repo(tmp_path: Path) -> tuple[Path, str]:
    repo = init_repo(tmp_path / "repo")
    commit(repo, {"README.md": "hello\n"}, "init", date="2025-01-01T10:00:00+00:00")
    added = commit(repo, {"config.py": f'TOKEN = "{GITHUB_TOKEN}"\n'}, "add config", author="Alice Leaker",
                   email="alice@example.test", date="2025-02-01T10:00:00+00:00")
    commit(repo, {"config.py": 'import os\nTOKEN = os.environ["TOKEN"]\n'}, "remove secret",
           author="Bob Fixer", date="2025-02-02T10:00:00+00:00")
    for i in range(5):
        git(repo, "branch", f"feature-{i}")
    return repo, added


def findings(res) -> list[dict]:
    assert res.returncode in (0, 1), res.stderr.decode()
    return json.loads(res.stdout)["findings"]


def test_deleted_secret_is_found_once_and_attributed_to_the_adding_commit(leaky_repo):
    repo, added = leaky_repo
    [f] = findings(run_sprawl("git", str(repo), "-f", "json"))
    assert f["rule_id"] == "github-pat-classic"
    [loc] = f["locations"]
    assert loc["path"] == "config.py" and loc["line"] == 1 and loc["source"] == "git"
    assert loc["provenance"]["commit"] == added
    assert loc["provenance"]["author"] == "Alice Leaker"
    assert loc["provenance"]["date"].startswith("2025-02-01")


def test_working_tree_scan_keeps_its_filesystem_meaning(leaky_repo):
    repo, _ = leaky_repo
    assert run_sprawl("scan", str(repo)).returncode == 0
    assert run_sprawl("scan", str(repo), "--history").returncode == 1


def test_same_blob_in_other_commits_and_paths_is_listed(leaky_repo):
    repo, added = leaky_repo
    git(repo, "checkout", "-q", "feature-2")
    copy = commit(repo, {"backup/config.py": f'TOKEN = "{GITHUB_TOKEN}"\n'}, "backup", date="2025-03-01T10:00:00+00:00")
    [f] = findings(run_sprawl("git", str(repo), "-f", "json"))
    commits = [(loc["provenance"]["commit"], loc["path"]) for loc in f["locations"]]
    assert commits == [(added, "config.py"), (copy, "backup/config.py")]


def test_branch_and_since_commit_narrow_the_walk(leaky_repo):
    repo, added = leaky_repo
    git(repo, "checkout", "-q", "-b", "other", f"{added}~1")
    other = commit(repo, {"deploy.env": f"GH={GITHUB_TOKEN[:-4]}abcd\nX={GITHUB_TOKEN}\n"}, "other branch")
    main_only = findings(run_sprawl("git", str(repo), "--branch", "main", "-f", "json"))
    assert [loc["path"] for loc in main_only[0]["locations"]] == ["config.py"]
    since = findings(run_sprawl("git", str(repo), "--since-commit", added, "-f", "json"))
    assert {loc["provenance"]["commit"] for f in since for loc in f["locations"]} == {other}


def test_bare_and_mirror_clones(leaky_repo, tmp_path):
    repo, added = leaky_repo
    for how in ("--bare", "--mirror"):
        clone = tmp_path / f"clone{how}.git"
        git(tmp_path, "clone", "-q", how, str(repo), str(clone))
        [f] = findings(run_sprawl("git", str(clone), "-f", "json"))
        assert f["locations"][0]["provenance"]["commit"] == added


def test_shallow_clone_says_what_it_skipped(leaky_repo, tmp_path):
    repo, _ = leaky_repo
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    res = run_sprawl("git", str(clone))
    assert res.returncode == 0
    assert "shallow clone" in res.stdout.decode()


def test_corrupt_repository_scans_what_it_can(leaky_repo):
    repo, _ = leaky_repo
    blob = git(repo, "rev-parse", "HEAD~1:config.py").strip()
    readme = git(repo, "rev-parse", "HEAD:README.md").strip()
    (repo / ".git" / "objects" / readme[:2] / readme[2:]).unlink()
    res = run_sprawl("git", str(repo), "-f", "json")
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    assert doc["findings"][0]["locations"][0]["path"] == "config.py"
    assert any("README.md" in s["path"] and "missing" in s["reason"] for s in doc["summary"]["skipped"])
    assert blob


def test_not_a_repository_is_a_one_line_error(tmp_path):
    res = run_sprawl("git", str(tmp_path))
    err = res.stderr.decode()
    assert res.returncode == 2 and "not a git repository" in err and "Traceback" not in err


def test_empty_repository_is_clean(tmp_path):
    repo = init_repo(tmp_path / "empty")
    res = run_sprawl("git", str(repo))
    assert res.returncode == 0, res.stderr.decode()


def test_parallel_history_scan_matches_serial(tmp_path):
    repo = init_repo(tmp_path / "big")
    filler = "value = 'lorem ipsum dolor'\n" * 9000  # 12 blobs over the parallel threshold
    for i in range(12):
        commit(repo, {f"mod{i}.py": filler + (f"t = '{GITHUB_TOKEN}'\n" if i % 4 == 0 else f"# {i}\n")}, f"c{i}")
    serial = findings(run_sprawl("git", str(repo), "-f", "json", "-j", "1"))
    parallel = findings(run_sprawl("git", str(repo), "-f", "json", "-j", "2"))
    assert serial == parallel and len(serial[0]["locations"]) == 3


def test_history_blobs_are_scanned_under_their_path(tmp_path):
    """Path-specific rules (a .pgpass file) and test-file confidence apply to history too."""
    repo = init_repo(tmp_path / "paths")
    commit(repo, {".pgpass": "db.internal:5432:billing:billing_rw:h7Fq2mZ9vL4xQ\n",
                  "tests/test_api.py": f"T = '{GITHUB_TOKEN}'\n"}, "add")
    res = run_sprawl("git", str(repo), "-f", "json", "--min-confidence", "low")
    by_rule = {f["rule_id"]: f for f in findings(res)}
    assert "pgpass-entry" in by_rule
    assert by_rule["github-pat-classic"]["confidence"] == "medium"  # high, one level down in tests/


def test_walk_lists_blobs_and_occurrences_in_the_order_the_commits_were_made(tmp_path):
    """The walk runs newest first (git reads deltas cheapest so), yet leaves the history as `git log
    --reverse` lists it: blobs by introducing commit, each one's occurrences introducing first."""
    from scanner.sources.git import enumerate_history

    repo = init_repo(tmp_path / "order")
    commit(repo, {"a.py": "x = 1\n", "b.py": "y = 1\n"}, "one")
    git(repo, "branch", "side")
    commit(repo, {"a.py": "x = 2\n", "copy/a.py": "x = 2\n"}, "two")
    git(repo, "checkout", "-q", "side")
    commit(repo, {"b.py": "x = 2\n", "c.py": "y = 1\n"}, "three, on a branch")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-edit", "side")
    commit(repo, {"d.py": "x = 1\n", "a.py": "x = 3\n"}, "four: a.py's first version again, elsewhere")
    listed = git(repo, "log", "--all", "--raw", "--no-abbrev", "--no-renames", "--diff-merges=first-parent",
                 "--topo-order", "--reverse", "--format=%x01%H")
    expected: dict[str, list[tuple[str, str]]] = {}
    for line in listed.splitlines():
        if line.startswith("\x01"):
            current = line[1:]
        elif line.startswith(":"):
            meta, path = line.split("\t")
            expected.setdefault(meta.split()[3], []).append((current, path))
    history = enumerate_history(str(repo))
    assert [(oid, [(o.commit, o.path) for o in occs]) for oid, occs in history.blobs.items()] == list(expected.items())
    assert any(len(occs) > 2 for occs in expected.values())  # the order within a blob's list was tested


def test_renamed_file_is_judged_as_the_path_that_introduced_it(tmp_path):
    """The newest-first walk first reaches the blob at its new path (under tests/, where confidence
    drops); the finding still has the confidence, and the first location, of the path it was added at."""
    repo = init_repo(tmp_path / "renamed")
    commit(repo, {"config.py": f"T = '{GITHUB_TOKEN}'\n"}, "add")
    commit(repo, {"tests/config.py": f"T = '{GITHUB_TOKEN}'\n", "config.py": None}, "move")
    for args in ([], ["-j", "2"], ["--whole-blobs"]):
        (finding,) = findings(run_sprawl("git", str(repo), "-f", "json", "--min-confidence", "low", *args))
        assert finding["confidence"] == "high"
        assert [loc["path"] for loc in finding["locations"]] == ["config.py", "tests/config.py"]


def test_a_file_renamed_where_the_engine_judges_it_alike_is_scanned_once(tmp_path, monkeypatch):
    import scanner.pipeline.workers as scan_module
    from scanner.pipeline.engines import get_engine
    from scanner.pipeline.git import scan_git
    from scanner.pipeline.options import ScanOptions

    engine = get_engine()
    assert engine.path_profile("src/config.py") == engine.path_profile("app/settings/config.py")
    assert engine.path_profile("src/config.py") != engine.path_profile("tests/config.py")  # test-file confidence
    assert engine.path_profile("src/config.py") != engine.path_profile("src/config.yaml")  # another format
    assert engine.path_profile("home/.pgpass") != engine.path_profile("home/pgpass.txt")  # a path-specific rule

    repo = init_repo(tmp_path / "moved")
    commit(repo, {"src/config.py": f"T = '{GITHUB_TOKEN}'\n"}, "add")
    commit(repo, {"app/settings/config.py": f"T = '{GITHUB_TOKEN}'\n", "src/config.py": None}, "move")
    scanned: list[str] = []
    real = scan_module.scan_batch

    def counting(items, *args):
        scanned.extend(work.path for work in items)
        return real(items, *args)

    monkeypatch.setattr(scan_module, "scan_batch", counting)
    (finding,) = scan_git(str(repo), ScanOptions(jobs=1)).findings
    assert scanned == ["app/settings/config.py"]  # reached there first, and not scanned again as src/
    commits = {loc.path: loc.provenance.commit for loc in finding.locations}
    assert commits == {"src/config.py": git(repo, "rev-parse", "HEAD~1").strip(),
                       "app/settings/config.py": git(repo, "rev-parse", "HEAD").strip()}

"""`git diff | sprawl scan -` (and `--diff`): only added lines are scanned, each finding at the new file's
path and line number; a diff is recognised from its first lines (issue 24)."""
from __future__ import annotations

import json
import subprocess

from scanner.sources.diff import looks_like_diff, parse_diff
from tests.conftest import run_sprawl
from tests.gitutil import commit, git, init_repo
from tests.repogen import github_token

OLD, NEW, OTHER, TRICKY = (github_token(f"diff-{n}") for n in ("old", "new", "other", "tricky"))


def _findings(res) -> list[tuple[str, int, int, str]]:
    doc = json.loads(res.stdout)
    return sorted((loc["path"], loc["line"], loc["column"], loc["source"]) for f in doc["findings"]
                  for loc in f["locations"])


def _repo(tmp_path):
    repo = init_repo(tmp_path / "service")
    body = "".join(f"line {i}\n" for i in range(1, 21))
    commit(repo, {"app/settings.py": body + f'OLD = "{OLD}"\n' + body, "notes.txt": "nothing\n"}, "first")
    return repo, body


def _diff(repo, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True).stdout


def test_only_added_lines_at_their_new_line_numbers(tmp_path):
    repo, body = _repo(tmp_path)
    # The old secret is removed, the new one added further down, after lines that moved.
    (repo / "app" / "settings.py").write_text("header\n" * 3 + body + body + f'    NEW = "{NEW}"\n')
    diff = _diff(repo, "diff")
    assert OLD.encode() in diff and looks_like_diff(diff[:8192])
    res = run_sprawl("scan", "-", "-f", "json", stdin=diff)
    assert res.returncode == 1, res.stderr
    assert _findings(res) == [("app/settings.py", 44, 12, "diff")]
    assert (repo / "app" / "settings.py").read_text().splitlines()[43].index(NEW) + 1 == 12


def test_a_removed_secret_alone_is_clean(tmp_path):
    repo, body = _repo(tmp_path)
    (repo / "app" / "settings.py").write_text(body)
    res = run_sprawl("scan", "-", stdin=_diff(repo, "diff"))
    assert res.returncode == 0, res.stdout
    git(repo, "rm", "-q", "-f", "app/settings.py")
    assert run_sprawl("scan", "-", stdin=_diff(repo, "diff", "--cached")).returncode == 0


def test_renames_new_files_and_quoted_paths_report_the_new_path(tmp_path):
    repo, _body = _repo(tmp_path)
    (repo / "docs").mkdir()
    git(repo, "mv", "notes.txt", "docs/my notes é.txt")
    (repo / "docs" / "my notes é.txt").write_text(f"nothing\nkey {OTHER}\n")
    (repo / "new.env").write_text(f"GH={NEW}\n")
    git(repo, "add", "-A")
    diff = _diff(repo, "diff", "--cached", "-M")
    assert b'"b/docs/my notes \\303\\251.txt"' in diff or b"b/docs/my notes" in diff
    res = run_sprawl("scan", "-", "-f", "json", stdin=diff)
    assert _findings(res) == [("docs/my notes é.txt", 2, 5, "diff"), ("new.env", 1, 4, "diff")]


def test_added_lines_that_look_like_headers_are_content(tmp_path):
    repo, body = _repo(tmp_path)
    (repo / "notes.txt").write_text(f"nothing\n++ {TRICKY}\n-- removed?\n+++ b/elsewhere.txt\n@@ -1 +1 @@\n")
    res = run_sprawl("scan", "-", "-f", "json", stdin=_diff(repo, "diff"))
    assert _findings(res) == [("notes.txt", 2, 4, "diff")]


def test_git_log_p_needs_diff_and_then_reports_each_commit_addition(tmp_path):
    repo, body = _repo(tmp_path)
    commit(repo, {"notes.txt": f"nothing\n{OTHER}\n"}, "second")
    log = _diff(repo, "log", "-p", "-1")
    assert log.startswith(b"commit ") and not looks_like_diff(log[:8192])
    res = run_sprawl("scan", "-", "--diff", "-f", "json", stdin=log)
    assert _findings(res) == [("notes.txt", 2, 1, "diff")]
    whole = run_sprawl("scan", "-", "-f", "json", stdin=log)  # without --diff: one stream, as before
    assert [loc[0] for loc in _findings(whole)] == ["<stdin>"]


def test_patch_files_with_diff(tmp_path):
    repo, body = _repo(tmp_path)
    (repo / "notes.txt").write_text(f"nothing\nGH={NEW}\n")
    patch = tmp_path / "change.patch"
    patch.write_bytes(_diff(repo, "diff"))
    res = run_sprawl("scan", "--diff", str(patch), "-f", "json")
    assert _findings(res) == [("notes.txt", 2, 4, "diff")]
    bad = run_sprawl("scan", "--diff", str(tmp_path))
    assert bad.returncode == 2 and b"Traceback" not in bad.stderr


def test_plain_diff_u_with_timestamps_and_several_files():
    text = (b"--- old/a.txt\t2026-01-01 10:00:00.000000000 +0000\n+++ new/a.txt\t2026-01-02 10:00:00.000000000 +0000\n"
            b"@@ -1,2 +1,3 @@\n keep\n-gone\n+added one\n+added two\n"
            b"--- b.txt\n+++ b.txt\n@@ -5 +5,2 @@\n ctx\n+fresh\n\\ No newline at end of file\n")
    assert looks_like_diff(text)
    files = list(parse_diff(text.splitlines(keepends=True)))
    assert [(f.path, [a for h in f.hunks for a in h.added]) for f in files] == [
        ("new/a.txt", [(2, b"added one"), (3, b"added two")]), ("b.txt", [(6, b"fresh")])]
    assert files[0].blob().data == b"\nadded one\nadded two\n"

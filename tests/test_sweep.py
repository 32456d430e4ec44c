"""`sprawl sweep` on real generated repositories: exact sprawl counts, resume after kill -9, incremental runs."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_sprawl
from tests.repogen import add_commits, github_token, make_repo
from tests.sweepkit import kill_sweep_after_first_repository

KEY_ENV = {"SPRAWL_FINGERPRINT_KEY": "test-organisation-key"}
SHARED = [github_token(f"shared-{k}") for k in range(4)]
RETIRED = github_token("retired")
REPOS = 50


def holders(k: int) -> list[int]:
    return [i for i in range(REPOS) if i % (k + 2) == 0]


def build_org(root: Path, count: int = REPOS) -> Path:
    """Repository i holds shared secret k when i % (k+2) == 0; every third one copies it to backup/ in a
    second commit; the first 8 hold a secret that a later commit deletes; each has one secret of its own."""
    for i in range(count):
        first = {"README.md": f"service {i}\n", "app.py": f'GITHUB_TOKEN = "{github_token(f"own-{i}")}"\n'}
        second: dict[str, str | None] = {"CHANGELOG": f"v2 of {i}\n"}
        for k, secret in enumerate(SHARED):
            if i % (k + 2) == 0:
                first[f"svc/config_{k}.py"] = f'TOKEN = "{secret}"\n'
                if i % 3 == 0:
                    second[f"backup/config_{k}.py"] = f'TOKEN = "{secret}"\n'
        if i < 8:
            first["old/creds.py"] = f'TOKEN = "{RETIRED}"\n'
            second["old/creds.py"] = None
        bare = i % 10 == 9
        make_repo(root / f"team{i % 3}" / (f"r{i}.git" if bare else f"r{i}"), [first, second], bare=bare)
    return root


@pytest.fixture(scope="module")
def org(tmp_path_factory) -> Path:
    return build_org(tmp_path_factory.mktemp("org"))


@pytest.fixture(scope="module")
def swept(org, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    db = tmp_path_factory.mktemp("db") / "full.db"
    return db, run_sprawl("sweep", str(org), "--db", str(db), "-j", "2", env=KEY_ENV)


def sweep(*args, env=None) -> subprocess.CompletedProcess:
    return run_sprawl("sweep", *args, env={**KEY_ENV, **(env or {})})


def findings(db: Path, *args) -> list[dict]:
    res = run_sprawl("findings", "--db", str(db), "-f", "json", "--min-confidence", "low", *args, env=KEY_ENV)
    assert res.returncode in (0, 1), res.stderr.decode()
    return json.loads(res.stdout)["findings"]


def by_preview(found: list[dict], secret: str) -> dict:
    [f] = [f for f in found if f["fingerprint"] == _portable(secret)]
    return f


def _portable(secret: str) -> str:
    """The token's fingerprint as the datastore shows it: the portable one, keyed (issue 17)."""
    from scanner.findings.collect import portable_fingerprint
    from scanner.store.keys import keyed_fingerprint

    return keyed_fingerprint(portable_fingerprint("github-pat-classic", secret), KEY_ENV["SPRAWL_FINGERPRINT_KEY"].encode())


def test_sweep_of_50_repositories_counts_every_shared_credential_exactly(swept):
    db, res = swept
    assert res.returncode == 1, res.stderr.decode()
    err = res.stderr.decode()
    assert "50 repositories (0 unchanged, 0 failed)" in err and "55 new findings" in err
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM findings").fetchone()[0] == 4 + 1 + REPOS
    for k, secret in enumerate(SHARED):
        fid, resolved = conn.execute("SELECT id, resolved_at_head FROM findings WHERE keyed_fingerprint = ?",
                                     [_portable(secret)]).fetchone()
        repos = holders(k)
        copies = [i for i in repos if i % 3 == 0]
        locations, files, repositories, commits = conn.execute(
            'SELECT count(*), count(DISTINCT repo || path), count(DISTINCT repository_id), count(DISTINCT "commit") '
            "FROM locations WHERE finding_id = ?", [fid]).fetchone()
        assert (locations, files, repositories, commits) == (len(repos) + len(copies),) * 2 + (len(repos),
                                                                                            len(repos) + len(copies))
        assert resolved == 0
    fid, resolved = conn.execute("SELECT id, resolved_at_head FROM findings WHERE keyed_fingerprint = ?",
                                 [_portable(RETIRED)]).fetchone()
    assert resolved == 1
    assert conn.execute("SELECT count(*), sum(at_head) FROM locations WHERE finding_id = ?", [fid]).fetchone() == (8, 0)


def test_findings_report_sprawl_and_filters(swept):
    db, _ = swept
    everything = findings(db)
    shared = by_preview(everything, SHARED[3])
    assert {loc["provenance"]["repo"] for loc in shared["locations"]} == {
        f"r{i}" for i in holders(3)}
    assert len(findings(db, "--status", "resolved")) == 1
    assert len(findings(db, "--repo", "r1")) == 2  # its own secret and the retired one
    assert len(findings(db, "--repo", "r0")) == 1 + 4 + 1
    assert findings(db, "--new-since", "1") == []


def state(db: Path) -> dict:
    """The datastore's content, without row ids and wall-clock times."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    keys = {r["id"]: r["credential_key"] for r in conn.execute("SELECT id, credential_key FROM findings")}
    repos = {r["id"]: r["path"] for r in conn.execute("SELECT id, path FROM repositories")}
    drop = {"id", "status_changed"}
    out = {
        "findings": sorted(tuple(v for k, v in dict(r).items() if k not in drop)
                           for r in conn.execute("SELECT * FROM findings")),
        "locations": sorted(tuple((keys[v] if k == "finding_id" else repos.get(v) if k == "repository_id" else v)
                                  for k, v in dict(r).items() if k != "id")
                            for r in conn.execute("SELECT * FROM locations")),
        "blobs": sorted(tuple(r) for r in conn.execute("SELECT oid, rules_version, scan_id FROM blobs")),
        "repositories": sorted(tuple(r) for r in conn.execute("SELECT path, name, refs_hash, last_scan_id "
                                                                "FROM repositories")),
        "scans": [tuple(r) for r in conn.execute("SELECT id, kind, target, status, rules_version FROM scans")],
    }
    conn.close()
    return out


def test_sweep_killed_mid_way_then_rerun_equals_an_uninterrupted_sweep(org, swept, tmp_path):
    db, _ = swept
    killed = tmp_path / "killed.db"
    kill_sweep_after_first_repository(["sweep", str(org), "--db", str(killed), "-j", "2"], KEY_ENV)
    conn = sqlite3.connect(killed)
    assert conn.execute("SELECT status FROM scans").fetchall() == [("running",)]
    done = conn.execute("SELECT count(*) FROM repositories WHERE last_scan_id IS NOT NULL").fetchone()[0]
    conn.close()
    assert 1 <= done < REPOS, "the kill should land mid-way"
    rerun = sweep(str(org), "--db", str(killed), "-j", "2")
    assert rerun.returncode == 1, "what the killed run found is still new in the resumed sweep"
    assert "resumed an interrupted sweep" in rerun.stderr.decode()
    assert "55 new findings" in rerun.stderr.decode()
    assert state(killed) == state(db)


@pytest.fixture
def small_org(tmp_path) -> tuple[Path, Path]:
    return build_org(tmp_path / "org", 6), tmp_path / "s.db"


def test_large_repositories_swept_in_slices_equal_a_sweep_in_whole_units(small_org, tmp_path):
    root, whole = small_org
    assert sweep(str(root), "--db", str(whole), "-j", "2").returncode == 1
    sliced = tmp_path / "sliced.db"
    res = sweep(str(root), "--db", str(sliced), "-j", "2", "--slice-blobs", "2")
    assert res.returncode == 1, res.stderr.decode()
    assert len(re.findall(r"new blobs in \d+ slices", res.stderr.decode())) == 6
    assert state(sliced) == state(whole)
    again = sweep(str(root), "--db", str(sliced), "-j", "2", "--slice-blobs", "2")
    assert again.returncode == 0 and "6 repositories (6 unchanged" in again.stderr.decode()


def test_second_sweep_with_nothing_new_scans_nothing_and_exits_0(small_org):
    root, db = small_org
    assert sweep(str(root), "--db", str(db)).returncode == 1
    again = sweep(str(root), "--db", str(db))
    assert again.returncode == 0, again.stderr.decode()
    err = again.stderr.decode()
    assert "6 repositories (6 unchanged, 0 failed), 0 blobs scanned, 0 new findings" in err
    assert err.count("sprawl: unchanged r") == 6  # a plain log line per repository off a terminal


def test_new_commit_scans_only_new_blobs_and_reports_new_and_resolved(small_org):
    root, db = small_org
    sweep(str(root), "--db", str(db))
    fresh = github_token("fresh")
    add_commits(root / "team0" / "r0", [{"deploy.sh": f"export GH={fresh}\n", "svc/config_0.py": "TOKEN = None\n",
                                            "backup/config_0.py": None}])
    res = sweep(str(root), "--db", str(db))
    assert res.returncode == 1, res.stderr.decode()
    err = res.stderr.decode()
    assert "2 blobs scanned, 1 new findings" in err and "5 unchanged" in err
    found = findings(db)
    assert by_preview(found, fresh)["locations"][0]["path"] == "deploy.sh"
    # SHARED[0] is still at the head of r2 and r4: not resolved; its r0 locations stay in history.
    shared = by_preview(found, SHARED[0])
    assert "resolved at head" not in " ".join(shared["reasons"])
    r0 = [loc for loc in shared["locations"] if loc["provenance"]["repo"] == "r0"]
    assert len(r0) == 2 and not any(loc["provenance"]["at_head"] for loc in r0)
    add_commits(root / "team2" / "r2", [{"svc/config_0.py": None}])
    add_commits(root / "team1" / "r4", [{"svc/config_0.py": None}])
    res = sweep(str(root), "--db", str(db))
    assert res.returncode == 0 and "1 resolved at head" in res.stderr.decode()
    assert by_preview(findings(db, "--status", "resolved"), SHARED[0])["locations"]


def test_same_blob_in_a_new_repository_is_recorded_without_rescanning(small_org):
    root, db = small_org
    sweep(str(root), "--db", str(db))
    make_repo(root / "late" / "copy", [{"svc/config_1.py": f'TOKEN = "{SHARED[1]}"\n'}])
    res = sweep(str(root), "--db", str(db))
    assert res.returncode == 0, "a known credential in a new place is not a new finding"
    assert "0 blobs scanned" in res.stderr.decode()
    repos = {loc["provenance"]["repo"] for loc in by_preview(findings(db), SHARED[1])["locations"]}
    assert repos == {"r0", "r3", "copy"}


def test_triage_status_survives_later_sweeps(small_org):
    root, db = small_org
    sweep(str(root), "--db", str(db))
    fp = _portable(SHARED[2])
    res = run_sprawl("status", fp, "--set", "revoked", "--reason", "rotated in INC-7", "--db", str(db))
    assert res.returncode == 0 and b"revoked (rotated in INC-7)" in res.stdout
    add_commits(root / "team1" / "r1", [{"more.py": f'TOKEN = "{SHARED[2]}"\n'}])
    assert sweep(str(root), "--db", str(db)).returncode == 0
    [f] = findings(db, "--status", "revoked")
    assert f["fingerprint"] == fp and "r1" in {loc["provenance"]["repo"] for loc in f["locations"]}
    assert fp not in {f["fingerprint"] for f in findings(db, "--status", "open")}


def test_repository_list_file_and_bad_entries(small_org, tmp_path):
    root, db = small_org
    listing = tmp_path / "repos.txt"
    listing.write_text(f"# two repositories and a folder that is not one\n{root / 'team0' / 'r0'}\n"
                       f"{root / 'team0' / 'r3'}\n{tmp_path}\n")
    res = sweep("--repos", str(listing), "--db", str(db))
    err = res.stderr.decode()
    assert res.returncode == 1 and "3 repositories (0 unchanged, 1 failed)" in err
    assert "not a git repository" in err and "Traceback" not in err
    missing = sweep("--repos", str(tmp_path / "nope.txt"), "--db", str(db))
    assert missing.returncode == 2 and missing.stderr.decode().count("\n") == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    none = sweep(str(empty), "--db", str(db))
    assert none.returncode == 2 and "no repositories to sweep" in none.stderr.decode()


def test_rules_change_rescans_blobs(small_org, tmp_path):
    root, db = small_org
    sweep(str(root), "--db", str(db))
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "github.yaml").write_text((REPO / "rules" / "github.yaml").read_text())
    res = sweep(str(root), "--db", str(db), "--rules", str(rules))
    assert "0 unchanged" in res.stderr.decode() and " 0 blobs scanned" not in res.stderr.decode()


@pytest.mark.skipif(not shutil.which("script"), reason="needs script(1) for a pseudo-terminal")
def test_progress_bar_on_a_terminal_instead_of_log_lines(small_org):
    root, db = small_org
    cmd = f"{shlex.quote(sys.executable)} -m scanner.cli sweep {shlex.quote(str(root))} --db {shlex.quote(str(db))}"
    res = subprocess.run(["script", "-qec", cmd, "/dev/null"], cwd=REPO, capture_output=True, timeout=300,
                         env={**os.environ, **KEY_ENV})
    out = res.stdout.decode(errors="replace")
    assert res.returncode == 1 and "scanning" in out and "100% 6/6 repositories" in out
    assert "sprawl: swept" not in out and "6 repositories (0 unchanged, 0 failed)" in out
    # --quiet: no bar, no per-repository line; a run with nothing new prints nothing at all.
    quiet = subprocess.run(["script", "-qec", cmd + " --quiet", "/dev/null"], cwd=REPO, capture_output=True,
                           timeout=300, env={**os.environ, **KEY_ENV})
    assert quiet.returncode == 0 and quiet.stdout.strip() == b"", quiet.stdout


def test_quiet_sweep_prints_only_what_matters(small_org):
    root, db = small_org
    first = sweep(str(root), "--db", str(db), "--quiet")
    err = first.stderr.decode()
    assert first.returncode == 1 and "sprawl: swept" not in err and "6 repositories (0 unchanged" in err
    again = sweep(str(root), "--db", str(db), "--quiet")
    assert again.returncode == 0 and again.stderr == b""


def test_json_summary_to_a_fifo_is_written_in_place(small_org, tmp_path):
    """-o naming a FIFO (or /dev/null) writes into it: the atomic rename used for files would replace the device
    with a regular file (as root, /dev/null itself)."""
    import threading

    root, db = small_org
    fifo = tmp_path / "summary.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    res = sweep(str(root), "--db", str(db), "-f", "json", "-o", str(fifo))
    reader.join(timeout=60)
    assert res.returncode == 1, res.stderr.decode()
    assert json.loads(got[0])["repositories"] == 6
    assert fifo.is_fifo() and not list(tmp_path.glob(".summary.fifo.*"))

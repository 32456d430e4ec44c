"""A repository in a folder whose name is not UTF-8 (issue 17): open_repo names it as the file system does
(surrogate escapes, os.fsdecode), and `sprawl git` and `sprawl sweep --db` scan and record it. A real repository
in a real folder with bytes 0xff 0xfe in its name."""
from __future__ import annotations

import json
import os
import sqlite3
import sys

import pytest
from gitutil import commit, init_repo

from scanner.sources.git import open_repo
from tests.conftest import run_sprawl
from tests.test_store_fingerprints import ghp

KEY = {"SPRAWL_FINGERPRINT_KEY": "repo-names-test"}

pytestmark = pytest.mark.skipif(sys.platform == "darwin", reason="APFS refuses names that are not UTF-8")


@pytest.fixture()
def odd_repo(tmp_path):
    token = ghp()
    name = os.fsdecode(b"agent-\xff\xfe")
    repo = init_repo(tmp_path / "org" / name)
    commit(repo, {"deploy.env": f"GITHUB_TOKEN={token}\n"}, "add deploy env")
    return repo, token


def test_open_repo_keeps_the_folder_name_as_the_file_system_has_it(odd_repo):
    repo, _token = odd_repo
    git_dir = open_repo(str(repo))
    assert os.fsencode(git_dir) == os.fsencode(str(repo / ".git"))
    assert os.path.isdir(git_dir)


def test_git_and_sweep_scan_and_record_a_repository_whose_name_is_not_utf8(odd_repo, tmp_path):
    repo, token = odd_repo
    r = run_sprawl("git", str(repo), "-f", "json", env=KEY)
    assert r.returncode == 1 and b"Traceback" not in r.stderr, r.stderr.decode(errors="replace")
    assert [f["rule_id"] for f in json.loads(r.stdout)["findings"]] == ["github-pat-classic"]
    db = tmp_path / "sprawl.db"
    r = run_sprawl("sweep", str(repo.parent), "--db", str(db), env=KEY)
    assert r.returncode == 1 and b"0 failed" in r.stderr, r.stderr.decode(errors="replace")
    with sqlite3.connect(db) as conn:
        [(path,)] = conn.execute("SELECT path FROM repositories").fetchall()
    assert (path if isinstance(path, bytes) else path.encode()) == os.fsencode(str(repo / ".git"))
    assert token not in r.stdout.decode() + r.stderr.decode(errors="replace")

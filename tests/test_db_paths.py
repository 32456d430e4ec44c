"""The datastore's default place is never in the work tree: the repository's git dir (the common one for a
linked work tree), else the user data directory; a named datastore inside a work tree that git does not
ignore gets a one-line warning; the file is mode 0600 (issue 24)."""
from __future__ import annotations

import stat

from scanner.store.paths import default_db, git_dir, user_data_dir
from tests.conftest import run_sprawl
from tests.gitutil import commit, git, init_repo
from tests.repogen import github_token

TOKEN = github_token("db-paths")


def _repo(tmp_path):
    repo = init_repo(tmp_path / "service")
    commit(repo, {"app.py": f'TOKEN = "{TOKEN}"\n'}, "add")
    return repo


def test_db_alone_lands_in_the_git_dir_and_the_work_tree_stays_clean(tmp_path):
    repo = _repo(tmp_path)
    res = run_sprawl("scan", ".", "--db", cwd=repo)
    assert res.returncode == 1, res.stderr
    db = repo / ".git" / "sprawl" / "sprawl.db"
    assert f"in {db}" in res.stderr.decode()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert "warning" not in res.stderr.decode()
    listed = run_sprawl("findings", cwd=repo / ".")  # no --db: the same default
    assert listed.returncode == 1 and "1 credential(s) listed" in listed.stdout.decode()


def test_a_scan_of_another_repository_records_in_that_repository(tmp_path):
    repo = _repo(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    res = run_sprawl("scan", str(repo), "--db", "--", cwd=elsewhere, env={"XDG_DATA_HOME": str(tmp_path / "data")})
    assert res.returncode == 1, res.stderr
    assert (repo / ".git" / "sprawl" / "sprawl.db").is_file() and not (tmp_path / "data").exists()


def test_a_linked_work_tree_shares_the_repositorys_datastore(tmp_path):
    repo = _repo(tmp_path)
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked))
    assert git_dir(linked / "app.py") == (repo / ".git").resolve()
    res = run_sprawl("git", ".", "--db", cwd=linked)
    assert res.returncode == 1, res.stderr
    assert (repo / ".git" / "sprawl" / "sprawl.db").is_file()
    assert git(linked, "status", "--porcelain", "--untracked-files=all") == ""


def test_outside_git_the_user_data_directory(tmp_path, monkeypatch):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "notes.txt").write_text(f"token {TOKEN}\n")
    data = tmp_path / "data"
    res = run_sprawl("scan", ".", "--db", cwd=folder, env={"XDG_DATA_HOME": str(data)})
    assert res.returncode == 1, res.stderr
    db = data / "secret-sprawl" / "sprawl.db"
    assert db.is_file() and stat.S_IMODE(db.stat().st_mode) == 0o600
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    assert user_data_dir() == data / "secret-sprawl" and default_db(folder) == db


def test_a_named_datastore_in_the_work_tree_is_warned_about_unless_ignored(tmp_path):
    repo = _repo(tmp_path)
    res = run_sprawl("scan", ".", "--db", "findings.db", cwd=repo)
    assert res.returncode == 1, res.stderr
    [warning] = [line for line in res.stderr.decode().splitlines() if "warning" in line]
    assert "findings.db" in warning and "not ignored" in warning and ".gitignore" in warning
    listed = run_sprawl("findings", "--db", "findings.db", cwd=repo)
    assert "not ignored" in listed.stderr.decode()
    (repo / ".gitignore").write_text("*.db\n")
    quiet = run_sprawl("scan", ".", "--db", "findings.db", cwd=repo)
    assert quiet.returncode == 1 and "warning" not in quiet.stderr.decode()
    outside = run_sprawl("scan", ".", "--db", str(tmp_path / "org.db"), cwd=repo)
    assert "warning" not in outside.stderr.decode()


def test_db_given_a_folder_is_a_one_line_usage_error(tmp_path):
    # `--db` takes an optional value: `sprawl scan --db .` would read the scan's path as the datastore.
    (tmp_path / "a.py").write_text("x = 1\n")
    res = run_sprawl("scan", "--db", str(tmp_path), cwd=tmp_path)
    err = res.stderr.decode()
    assert res.returncode == 2 and "Traceback" not in err and "is a folder, not a datastore file" in err
    assert not list(tmp_path.rglob("*.db"))

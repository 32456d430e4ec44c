"""`sprawl staged` and the hooks, on real repositories and real commits."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GITHUB_TOKEN, REPO, run_sprawl
from tests.gitutil import commit, git, init_repo

OTHER_TOKEN = "ghp_" + "Zq8Lm3Np5Rt7Vx9Bd2Fh4Jk6Mp8Qs0"  # completed with its checksum below


def _with_checksum(prefix_body: str) -> str:
    import binascii

    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    n, out = binascii.crc32(prefix_body[4:].encode()), ""
    while n:
        n, r = divmod(n, 62)
        out = alphabet[r] + out
    return prefix_body + out.rjust(6, "0")


OTHER_TOKEN = _with_checksum(OTHER_TOKEN)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "work")
    commit(repo, {"app.py": f"OLD = '{GITHUB_TOKEN}'  # an old leak already in history\nx = 1\n",
                  "notes.txt": "hello\n"}, "init")
    return repo


def test_reports_only_added_lines_of_staged_content(repo):
    (repo / "app.py").write_text(f"OLD = '{GITHUB_TOKEN}'  # an old leak already in history\nx = 1\nNEW = '{OTHER_TOKEN}'\n")
    git(repo, "add", "app.py")
    res = run_sprawl("staged", cwd=repo)
    out, err = res.stdout.decode(), res.stderr.decode()
    assert res.returncode == 1
    assert "app.py" in out and "3:8" in out and "github-pat-classic" in out
    assert "1:" not in out.split("app.py", 1)[1].split("\n")[1]  # the old line is not reported
    assert "sprawl:allow" in out and "commit blocked" in err and "environment" in err


def test_unstaged_work_tree_changes_are_not_scanned(repo):
    (repo / "notes.txt").write_text(f"token {OTHER_TOKEN}\n")
    res = run_sprawl("staged", cwd=repo)
    assert res.returncode == 0
    assert "nothing" in res.stdout.decode() or "0 finding" in res.stdout.decode()


def test_index_not_work_tree(repo):
    (repo / "notes.txt").write_text(f"token {OTHER_TOKEN}\n")
    git(repo, "add", "notes.txt")
    (repo / "notes.txt").write_text("cleaned in the work tree but still staged\n")
    assert run_sprawl("staged", cwd=repo).returncode == 1


def test_allow_marker_lets_a_false_positive_through(repo):
    (repo / "notes.txt").write_text(f"token {OTHER_TOKEN}  # sprawl:allow\n")
    git(repo, "add", "notes.txt")
    assert run_sprawl("staged", cwd=repo).returncode == 0


def test_initial_commit_and_new_files(tmp_path):
    repo = init_repo(tmp_path / "fresh")
    (repo / "a.env").write_text(f"GITHUB_TOKEN={OTHER_TOKEN}\n")
    git(repo, "add", "a.env")
    res = run_sprawl("staged", cwd=repo)
    assert res.returncode == 1 and "a.env" in res.stdout.decode()


def test_outside_a_repository_is_an_error(tmp_path):
    res = run_sprawl("staged", cwd=tmp_path)
    assert res.returncode == 2 and "not inside a git work tree" in res.stderr.decode()


def test_given_files_are_scanned_exactly(repo):
    (repo / "notes.txt").write_text(f"token {OTHER_TOKEN}\n")  # not staged: every line counts
    res = run_sprawl("staged", "notes.txt", cwd=repo)
    assert res.returncode == 1 and "notes.txt" in res.stdout.decode()
    assert run_sprawl("staged", "app.py", cwd=repo).returncode == 1  # unstaged, so its old leak counts
    assert "1 file(s)" in run_sprawl("staged", "notes.txt", cwd=repo).stdout.decode()


def _install_plain_hook(repo: Path) -> None:
    res = run_sprawl("install-hook", cwd=repo)
    assert res.returncode == 0, res.stderr.decode()
    assert (repo / ".git" / "hooks" / "pre-commit").is_file()


def _commit(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null"}
    return subprocess.run(["git", "-C", str(repo), "commit", "-q", *args], capture_output=True, env=env)


def test_plain_hook_blocks_commit_a_and_commit_file(repo):
    _install_plain_hook(repo)
    (repo / "notes.txt").write_text(f"token {OTHER_TOKEN}\n")
    res = _commit(repo, "-a", "-m", "leak via commit -a")  # stages into a temporary index
    assert res.returncode != 0 and b"notes.txt" in res.stdout + res.stderr
    res = _commit(repo, "notes.txt", "-m", "leak via commit FILE")
    assert res.returncode != 0
    (repo / "notes.txt").write_text("token from os.environ['TOKEN']\n")
    assert _commit(repo, "-a", "-m", "clean").returncode == 0
    assert run_sprawl("install-hook", cwd=repo).returncode == 0  # re-installing over our own hook is fine


def test_install_hook_does_not_clobber_a_foreign_hook(repo):
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho mine\n")
    res = run_sprawl("install-hook", cwd=repo)
    assert res.returncode == 2 and "--force" in res.stderr.decode()
    assert run_sprawl("install-hook", "--force", cwd=repo).returncode == 0


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    if subprocess.run([sys.executable, "-m", "pre_commit", "--version"], capture_output=True).returncode != 0:
        pytest.skip("the pre-commit framework is not installed (pip install -e '.[test]')")
    return tmp_path_factory.mktemp("pre-commit-home")


def _pre_commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "GIT_CONFIG_GLOBAL": "/dev/null"}
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=repo, capture_output=True, env=env,
                          timeout=600)


def test_pre_commit_framework_try_repo_blocks_then_passes(repo, pre_commit_home):
    (repo / "settings.py").write_text(f"GITHUB_TOKEN = '{OTHER_TOKEN}'\n")
    git(repo, "add", "settings.py")
    res = _pre_commit(repo, pre_commit_home, "try-repo", str(REPO), "sprawl")
    out = (res.stdout + res.stderr).decode()
    assert res.returncode == 1, out
    assert "settings.py" in out and "github-pat-classic" in out

    (repo / "settings.py").write_text("import os\nGITHUB_TOKEN = os.environ['GITHUB_TOKEN']\n")
    git(repo, "add", "settings.py")
    res = _pre_commit(repo, pre_commit_home, "try-repo", str(REPO), "sprawl")
    assert res.returncode == 0, (res.stdout + res.stderr).decode()

    # --files and --all-files scan exactly the files given, not an empty index.
    (repo / "loose.txt").write_text(f"t {OTHER_TOKEN}\n")
    res = _pre_commit(repo, pre_commit_home, "try-repo", str(REPO), "sprawl", "--files", "loose.txt")
    assert res.returncode == 1 and "loose.txt" in (res.stdout + res.stderr).decode()
    res = _pre_commit(repo, pre_commit_home, "try-repo", str(REPO), "sprawl", "--all-files")
    assert res.returncode == 1 and "app.py" in (res.stdout + res.stderr).decode()


def test_the_hook_reads_the_repository_baseline(repo):
    (repo / "config.py").write_text(f"TOKEN = '{OTHER_TOKEN}'\n")
    git(repo, "add", "config.py")
    assert run_sprawl("staged", cwd=repo).returncode == 1
    assert run_sprawl("baseline", "create", ".", cwd=repo).returncode == 0  # writes .sprawl-baseline.json
    res = run_sprawl("staged", "--quiet", cwd=repo)  # no --baseline flag: the repository's baseline is read
    assert res.returncode == 0 and res.stdout == b"", res.stdout
    assert run_sprawl("staged", "--no-ignore-file", cwd=repo).returncode == 1

"""Build real git repositories for tests."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path


def git(repo: Path, *args: str, env: dict | None = None) -> str:
    full_env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", **(env or {})}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=full_env).stdout.decode()


def init_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test Runner")
    git(path, "config", "user.email", "runner@example.test")
    git(path, "config", "commit.gpgsign", "false")
    return path


def commit(repo: Path, files: dict[str, str | None], message: str, author: str = "Test Runner",
           email: str = "runner@example.test", date: str = "2025-01-01T10:00:00+00:00") -> str:
    for name, content in files.items():
        f = repo / name
        if content is None:
            git(repo, "rm", "-q", name)
            continue
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(content)
        git(repo, "add", name)
    env = {"GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date,
           "GIT_COMMITTER_DATE": date}
    git(repo, "commit", "-q", "--allow-empty", "-m", message, env=env)
    return git(repo, "rev-parse", "HEAD").strip()

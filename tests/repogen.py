"""Generate many real git repositories quickly (one `git fast-import` each), for sweep tests and benchmarks."""
from __future__ import annotations

import binascii
import hashlib
import os
import subprocess
from pathlib import Path

from scanner.rules.checks import _BASE62, _in_base

_ENV = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


def github_token(seed: str) -> str:
    """A made-up GitHub classic token with a valid checksum, different for every seed."""
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    body = "".join(_BASE62[(digest >> (6 * i)) % 62] for i in range(30))
    return "ghp_" + body + _in_base(binascii.crc32(body.encode()), 6, _BASE62)


def make_repo(path: Path, commits: list[dict[str, str | None]], bare: bool = False, branch: str = "main",
              start: int = 1735725600) -> Path:
    """A repository whose `branch` holds these commits, oldest first (None deletes a file)."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", *(["--bare"] if bare else []), "-b", branch, str(path)], check=True,
                   env=_ENV)
    add_commits(path, commits, branch, start)
    return path


def add_commits(path: Path, commits: list[dict[str, str | None]], branch: str = "main",
                start: int | None = None) -> None:
    tip = subprocess.run(["git", "-C", str(path), "rev-parse", "-q", "--verify", f"refs/heads/{branch}"],
                         capture_output=True, env=_ENV).stdout.decode().strip()
    when = start or 1735725600 + 86400 * 365
    out = []
    for n, files in enumerate(commits):
        msg = f"commit {n}\n".encode()
        stamp = f"Test Runner <runner@example.test> {when + 3600 * n} +0000"
        out += [f"commit refs/heads/{branch}".encode(), f"author {stamp}".encode(), f"committer {stamp}".encode(),
                f"data {len(msg)}".encode(), msg]
        if n == 0 and tip:
            out.append(f"from {tip}".encode())
        for name, content in files.items():
            if content is None:
                out.append(f"D {name}".encode())
            else:
                data = content.encode()
                out += [f"M 100644 inline {name}".encode(), f"data {len(data)}".encode(), data]
        out.append(b"")
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet", "--force"], input=b"\n".join(out) + b"\n",
                   check=True, env=_ENV, capture_output=True)

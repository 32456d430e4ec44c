"""Running git: the one wrapper every source uses, failing with a one-line GitError."""
from __future__ import annotations

import subprocess

from scanner.errors import SprawlError


class GitError(SprawlError):
    """A git command failed; `detail` is git's last line on standard error, `returncode` its exit code
    (None: git did not run, or ran out of time)."""

    def __init__(self, message: str, detail: str = "", returncode: int | None = None):
        super().__init__(message)
        self.detail = detail
        self.returncode = returncode


def git(repo: str, *args: str, data: bytes | None = None, timeout: float | None = None) -> bytes:
    """git's standard output for `git -C repo ARGS` (paths unquoted), or GitError."""
    try:
        res = subprocess.run(["git", "-C", repo, "-c", "core.quotePath=false", *args], input=data,
                             capture_output=True, timeout=timeout)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than {timeout:g} s") from None
    if res.returncode != 0:
        lines = res.stderr.decode(errors="replace").strip().splitlines()
        detail = lines[-1] if lines else f"exit code {res.returncode}"
        raise GitError(f"git {args[0]} failed: {detail}", detail, res.returncode)
    return res.stdout

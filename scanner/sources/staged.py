"""Staged source, for the pre-commit hook: what is about to be committed, and which lines are new.

Reads the index (honouring GIT_INDEX_FILE, which `git commit -a` and `git commit FILE` set
to a temporary index), not the work tree. Under the pre-commit framework the hook is given
file names; those files are scanned exactly, whether or not they are staged.
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass

from scanner.errors import SprawlError
from scanner.model import Skip
from scanner.sources.catfile import read_objects
from scanner.sources.filesystem import read_file
from scanner.sources.gitcmd import GitError, git

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class StagedSourceError(SprawlError):
    pass


@dataclass(slots=True)
class StagedFile:
    path: str  # relative to the repository root, as it will be committed
    data: bytes | Skip
    added_lines: set[int] | None  # None: every line counts (a file given by name, not staged)


def repo_root(cwd: str = ".") -> str:
    try:
        return git(cwd, "rev-parse", "--show-toplevel").decode().strip()
    except GitError:
        raise StagedSourceError("not inside a git work tree: `sprawl staged` scans what is about to be committed") from None


def staged_paths(root: str) -> list[str]:
    out = git(root, "diff", "--cached", "--name-only", "-z", "--no-renames", "--diff-filter=ACM")
    return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]


def added_lines(root: str, paths: list[str]) -> dict[str, set[int]]:
    """Line numbers (in the staged version) of every added line, per path."""
    if not paths:
        return {}
    out = git(root, "diff", "--cached", "-U0", "--no-color", "--no-ext-diff", "--no-renames", "--", *paths)
    result: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in out.splitlines():
        if line.startswith(b"+++ "):
            name = line[4:].decode("utf-8", "surrogateescape")
            current = None if name == "/dev/null" else result.setdefault(name[2:] if name.startswith("b/") else name, set())
        elif line.startswith(b"@@") and current is not None:
            m = _HUNK.match(line)
            if m:
                start, count = int(m.group(1)), int(m.group(2) or 1)
                current.update(range(start, start + count))
    return result


def read_index(root: str, paths: list[str]) -> dict[str, bytes | Skip]:
    """Staged contents through one `git cat-file --batch` call."""
    if not paths:
        return {}
    out = git(root, "cat-file", "--batch", data="".join(f":{p}\n" for p in paths).encode("utf-8", "surrogateescape"))
    return dict(zip(paths, read_objects(io.BytesIO(out), paths, unreadable="not readable from the index")))


def collect(files: list[str] | None = None, cwd: str = ".") -> tuple[str, list[StagedFile]]:
    """The repository root and what to scan: the staged files, or exactly the given files."""
    root = repo_root(cwd)
    staged = staged_paths(root)
    if files:
        wanted = [os.path.relpath(os.path.abspath(os.path.join(cwd, f)), root) for f in files]
        staged_set = set(staged)
        in_index = [p for p in wanted if p in staged_set]
        others = [p for p in wanted if p not in staged_set]
    else:
        in_index, others = staged, []
    lines = added_lines(root, in_index)
    contents = read_index(root, in_index)
    result = [StagedFile(p, contents[p], lines.get(p, set())) for p in in_index]
    for p in others:
        full = os.path.join(root, p)
        data = read_file(full) if os.path.isfile(full) else Skip(p, "no such file")
        result.append(StagedFile(p, data, None))
    return root, result

"""Repositories for a sweep: which folders are repositories, which `--repos` lines are URLs to mirror,
and cheap facts about a repository's refs.

A sweep of unchanged repositories must cost almost nothing, so `quick_state` reads the ref files
themselves, with no git process (tests/test_sweep.py)."""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from scanner.errors import SprawlError
from scanner.sources.gitcmd import git


class SweepError(SprawlError):
    """The list of repositories cannot be read or holds none."""


_URL_SCHEMES = ("https", "http", "ssh", "git", "file", "git+ssh", "ssh+git")
_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!//)")


def is_repository_url(line: str) -> bool:
    """A `--repos` line naming a repository to mirror (https, ssh, git, file URL, or scp-like
    user@host:path) rather than a local folder (tests/test_sweep_hosts.py)."""
    scheme, sep, _ = line.partition("://")
    return bool(sep) and scheme.lower() in _URL_SCHEMES or bool(_SCP_LIKE.match(line))


@dataclass
class SweepTargets:
    """What a sweep was given: local repository folders, and repository URLs to mirror first."""

    paths: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)


def discover(list_file: str | None, roots: list[str]) -> list[str]:
    """Repository paths from a file (one a line, # comments) and folders holding many repositories."""
    targets = find_targets(list_file, roots)
    if targets.urls:
        raise SweepError(f"{list_file} lists repository URLs: sweep them with `sprawl sweep --repos`")
    return targets.paths


def find_targets(list_file: str | None, roots: list[str], allow_empty: bool = False) -> SweepTargets:
    """Local repositories and repository URLs from a file (one a line, # comments) and from folders
    holding many repositories; raises SweepError when there is nothing to sweep (unless allow_empty)."""
    found: list[str] = []
    urls: list[str] = []
    if list_file:
        try:
            text = Path(list_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise SweepError(f"cannot read repository list {list_file}: {exc.strerror}") from None
        base = Path(list_file).parent
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if is_repository_url(line):
                if line not in urls:
                    urls.append(line)
            else:
                found.append(str((base / line) if not os.path.isabs(line) else Path(line)))
    for root in roots:
        if not Path(root).is_dir():
            raise SweepError(f"not a folder: {root}")
        found.extend(_repos_under(Path(root)))
    seen, out = set(), []
    for p in found:
        key = os.path.realpath(p)
        if key not in seen:
            seen.add(key)
            out.append(p)
    if not out and not urls and not allow_empty:
        raise SweepError("no repositories to sweep (give --repos FILE or a folder holding repositories)")
    return SweepTargets(out, urls)


def is_repo(p: Path) -> bool:
    return (p / ".git").exists() or ((p / "HEAD").is_file() and (p / "objects").is_dir() and (p / "refs").is_dir())


def _repos_under(root: Path) -> list[str]:
    """Work trees and bare or mirror clones, at any depth; a repository's insides are not searched."""
    if is_repo(root):
        return [str(root)]
    out = []
    for dirpath, dirnames, _files in os.walk(root):
        dirnames.sort()
        keep = []
        for d in dirnames:
            p = Path(dirpath) / d
            if is_repo(p):
                out.append(str(p))
            elif not d.startswith("."):
                keep.append(d)
        dirnames[:] = keep
    return out


def refs_hash(git_dir: str, rules_version: str) -> str:
    refs = git(git_dir, "for-each-ref", "--format=%(objectname) %(refname)")
    return hashlib.sha256(rules_version.encode() + b"\0git\0" + refs).hexdigest()


def quick_state(path: str, rules_version: str) -> tuple[str, str] | None:
    """(git dir, refs hash) read from the ref files themselves, with no git process: what makes a
    sweep of unchanged repositories cheap. Any ref update rewrites a loose ref or packed-refs, so
    the hash changes (a `git pack-refs` also changes it: a harmless rescan of nothing new).
    None when git must answer (a .git file, reftable refs)."""
    p = Path(path)
    if (p / ".git").is_dir():
        git_dir = p / ".git"
    elif is_repo(p) and not (p / ".git").exists():
        git_dir = p
    else:
        return None
    if (git_dir / "reftable").exists():
        return None
    h = hashlib.sha256(rules_version.encode() + b"\0files\0")
    try:
        packed = git_dir / "packed-refs"
        if packed.is_file():
            h.update(b"packed-refs\0" + packed.read_bytes() + b"\0")
        for folder, dirs, files in os.walk(git_dir / "refs"):
            dirs.sort()
            for name in sorted(files):
                f = Path(folder) / name
                h.update(str(f.relative_to(git_dir)).encode() + b"\0" + f.read_bytes() + b"\0")
    except OSError:
        return None
    return os.path.realpath(git_dir), h.hexdigest()


def _branch_tips(git_dir: str) -> list[str]:
    """Local branches; a clone holding only remote-tracking refs uses those."""
    for pattern in ("refs/heads", "refs/remotes"):
        tips = git(git_dir, "for-each-ref", "--format=%(objectname)", pattern).decode().split()
        if tips:
            return sorted(set(tips))
    return []


def head_pairs(git_dir: str, wanted: set[str]) -> list[tuple[str, str]]:
    """(path, blob) pairs at a branch head, for the wanted blobs."""
    pairs = set()
    if not wanted:
        return []
    for tip in _branch_tips(git_dir):
        out = git(git_dir, "ls-tree", "-r", "-z", "--full-tree", tip)
        for entry in out.split(b"\0"):
            meta, _, path = entry.partition(b"\t")
            parts = meta.split()
            if len(parts) == 3 and parts[1] == b"blob" and parts[2].decode() in wanted:
                pairs.add((path.decode("utf-8", "surrogateescape"), parts[2].decode()))
    return sorted(pairs)


def blob_sizes(git_dir: str, oids: list[str], cap: int | None = None) -> dict[str, int]:
    """Each blob's size in bytes (`git cat-file --batch-check`, one process), at most `cap` (what a scan of a
    larger blob costs: it is read past, not scanned); a blob git cannot find counts 0."""
    out = git(git_dir, "cat-file", "--batch-check=%(objectname) %(objectsize)", data="\n".join(oids).encode() + b"\n")
    sizes = dict.fromkeys(oids, 0)
    for line in out.decode().splitlines():
        oid, _, size = line.partition(" ")
        if size.isdigit() and oid in sizes:
            sizes[oid] = min(int(size), cap) if cap else int(size)
    return sizes

"""Git source: every unique blob reachable from the chosen refs, and every commit that introduced it.

One `git log --raw` pass enumerates blobs with the commit, path, author and date that
added them; one long-running `git cat-file --batch` per process reads contents. A blob is
scanned once however many commits, branches and paths hold it.

The walk runs newest commit first, and blobs are read in that order: git packs a file's newer
versions whole and its older ones as deltas against them, so reading newest first finds each
delta's base already inflated (on a history of large files, half a second of cat-file per worker
oldest first, 0.03 s newest first). The commit that introduced a blob is then the last one the
walk reaches.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from scanner.errors import SprawlError
from scanner.model import Provenance, Skip
from scanner.sources.catfile import STOPPED, read_objects
from scanner.sources.gitcmd import GitError, git

_NULL_OID = "0" * 40
_SKIP_MODES = ("160000", "120000")  # submodule commits and symlinks are not file contents


class GitSourceError(SprawlError):
    """The path is not a repository git can read; the message is one line for the user."""


@dataclass(slots=True)
class Occurrence:
    commit: str
    path: str
    author: str
    email: str
    date: str  # ISO-8601 author date

    def provenance(self) -> Provenance:
        return Provenance(commit=self.commit, author=self.author, email=self.email, date=self.date)


@dataclass
class History:
    repo: str
    # oid -> occurrences, introducing first. While the walk runs, the dict is in walk order and each
    # list newest first; when it ends, both are in the order the commits were made.
    blobs: dict[str, list[Occurrence]] = field(default_factory=dict)
    # oid -> a blob that replaced it at the same path (a later version of the file, reached earlier by
    # the walk): the version a scan in walk order has at hand to compare it with
    successors: dict[str, str] = field(default_factory=dict)
    commits: int = 0
    shallow: bool = False
    warnings: list[str] = field(default_factory=list)


def open_repo(path: str) -> str:
    """The repository's git dir, for work trees, bare and mirror clones alike: as the file system names it
    (os.fsdecode: a folder name that is not UTF-8 keeps its bytes as surrogate escapes, as every path here does;
    tests/test_repo_names.py)."""
    try:
        return os.fsdecode(git(path, "rev-parse", "--absolute-git-dir").rstrip(b"\r\n"))
    except GitError as exc:
        if not exc.detail:
            raise
        raise GitSourceError(f"{path}: not a git repository ({exc.detail})") from None


def enumerate_history(path: str, branch: str | None = None, since_commit: str | None = None,
                      revs: list[str] | None = None) -> History:
    """The whole history at once (a sweep compares it with what it has already seen); `revs`: only the
    commits these revisions reach (e.g. MirrorOutcome.new_object_range(): new tips, old tips excluded)."""
    if revs is not None and not revs:
        return History(open_repo(path))  # nothing moved: nothing to walk
    history, new_blobs = walk_history(path, branch, since_commit, revs)
    for _ in new_blobs:
        pass
    return history


def walk_history(path: str, branch: str | None = None, since_commit: str | None = None,
                 revs: list[str] | None = None) -> tuple[History, Iterator[str]]:
    """The history being filled in, and an iterator of each blob id as the walk (newest commit first)
    first reaches it.

    git starts walking at once, so a caller can load its rules meanwhile, and a scan can start on
    the first blobs while git is still diffing older commits. Until the iterator is exhausted,
    `history.blobs[oid][0]` is the newest occurrence seen so far; after, it is the introducing one,
    and every occurrence is listed. A repository git cannot open raises here; a history walk that
    fails raises (or warns, after some commits) at the end.
    """
    repo = open_repo(path)
    history = History(repo)
    if git(repo, "rev-parse", "--is-shallow-repository").strip() == b"true":
        history.shallow = True
        history.warnings.append("shallow clone: commits before the shallow boundary are not scanned")
    revs = list(revs) if revs else [branch] if branch else ["--all"]
    if since_commit:
        revs.append(f"^{since_commit}")
    cmd = ["git", "-C", repo, "-c", "core.quotePath=false", "log", *revs, "--raw", "--no-abbrev",
           "--no-renames", "--diff-merges=first-parent", "--topo-order", "--no-color",
           "--format=%x01%H%x1f%an%x1f%ae%x1f%aI", "--"]
    return history, _walk(path, history, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE))


def _walk(path: str, history: History, proc: subprocess.Popen) -> Iterator[str]:
    current: tuple[str, str, str, str] | None = None
    assert proc.stdout is not None
    blobs = history.blobs
    introduced: dict[str, tuple[int, int]] = {}  # oid -> (commit, line) of its oldest occurrence so far
    line_no = 0
    for raw in proc.stdout:
        line_no += 1
        line = raw.rstrip(b"\n").decode("utf-8", "surrogateescape")
        if line.startswith("\x01"):
            current = tuple(line[1:].split("\x1f", 3))
            history.commits += 1
        elif line.startswith(":") and current is not None:
            meta, _, file_path = line.partition("\t")
            parts = meta.split()
            if len(parts) < 5 or parts[1] in _SKIP_MODES or parts[3] == _NULL_OID or parts[4].startswith("D"):
                continue
            oid = parts[3]
            occ = Occurrence(current[0], _unquote(file_path), current[1], current[2], current[3])
            introduced[oid] = (history.commits, line_no)
            if parts[2] != _NULL_OID:
                history.successors[parts[2]] = oid
            occurrences = blobs.get(oid)
            if occurrences is None:
                blobs[oid] = [occ]
                yield oid
            else:
                occurrences.append(occ)
    _oldest_first(history, introduced)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.wait() != 0:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else "git log failed"
        if history.commits == 0:
            if "does not have any commits" in stderr or "bad default revision" in stderr:
                return
            raise GitSourceError(f"{path}: cannot read history ({last})")
        history.warnings.append(f"history walk stopped early: {last}")


def _oldest_first(history: History, introduced: dict[str, tuple[int, int]]) -> None:
    """Put the walk's blobs in the order the commits were made, as `git log --reverse` lists them:
    blobs by the commit and line that introduced them, each blob's occurrences introducing first."""
    order = sorted(introduced, key=lambda oid: (-introduced[oid][0], introduced[oid][1]))
    blobs = history.blobs
    for occurrences in blobs.values():
        if len(occurrences) > 1:
            occurrences.reverse()
            _keep_commit_order(occurrences)
    history.blobs = {oid: blobs[oid] for oid in order}


def _keep_commit_order(occurrences: list[Occurrence]) -> None:
    """Reversing a newest-first list also reversed the paths within each commit: put those back."""
    start = 0
    for i in range(1, len(occurrences) + 1):
        if i == len(occurrences) or occurrences[i].commit != occurrences[start].commit:
            if i - start > 1:
                occurrences[start:i] = occurrences[start:i][::-1]
            start = i


def _unquote(path: str) -> str:
    """Undo git's C-style quoting of unusual paths."""
    if len(path) >= 2 and path[0] == path[-1] == '"':
        return path[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1").decode(
            "utf-8", "replace")
    return path


class BlobReader:
    """Reads blob contents through one long-running `git cat-file --batch` per process."""

    def __init__(self, repo: str):
        self.repo = repo
        self._batch: subprocess.Popen | None = None

    def many(self, oids: list[str], max_size: int | None = None):
        """Yield each blob's bytes (or a Skip) in order, the request for the whole list written at once.
        A blob over max_size is read past, not kept, and skipped.

        One blob per round trip leaves git and the scanner each waiting for the other; with every
        id written up front (by a thread, so neither pipe can fill and block), git inflates the next
        objects while this process scans. Used for the batches the scan workers are handed.
        """
        import threading

        proc = self._batch
        if proc is None or proc.poll() is not None:
            # A 16 MB delta base cache, not git's 96 MB: each worker reads its own files' versions
            # newest first, so the bases it needs are recent ones. Measured on the 149 MB history, each
            # cat-file then takes half the memory and no more time; 32 MB was no faster either.
            proc = self._batch = subprocess.Popen(["git", "-C", self.repo, "-c", "core.deltaBaseCacheLimit=16m",
                                                   "cat-file", "--batch"],
                                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                  stderr=subprocess.DEVNULL)
            _widen_pipe(proc.stdout)
        request = "".join(f"{oid}\n" for oid in oids).encode()
        stdin, stdout = proc.stdin, proc.stdout
        assert stdin is not None and stdout is not None  # both piped when the process was started

        def write() -> None:
            try:
                stdin.write(request)
                stdin.flush()
            except OSError:
                pass  # git exited: the reads below see end of file and report it

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        for item in read_objects(stdout, oids, max_size):
            if isinstance(item, Skip) and item.reason == STOPPED:
                self._batch = None  # git stopped: the next batch starts a new process
            yield item
        writer.join()


def _widen_pipe(pipe) -> None:
    """Let git run up to a megabyte ahead of the reader. In a 64 KB pipe, git can inflate a large blob
    only while the scan waits for it: the two processes take turns instead of running side by side."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, or a lower pipe-max-size: the default pipe works, at a cost in time


def repo_name(repo_git_dir: str) -> str:
    p = Path(repo_git_dir)
    return p.parent.name if p.name == ".git" else p.name.removesuffix(".git")


def enclosing_repo(paths: list[str]) -> str | None:
    """The repository scanned paths are in: the name of the work tree holding them (or of the bare
    repository they are), as a sweep names it; None outside git."""
    for p in paths:
        cur = Path(p).resolve()
        for folder in (cur, *cur.parents):
            if (folder / ".git").exists():
                return folder.name
            if (folder / "HEAD").is_file() and (folder / "objects").is_dir():
                return folder.name.removesuffix(".git")
    return None

"""Filesystem source: which files to scan, and reading one file into a Blob.

Enumeration happens in the parent process (cheap: stat only); reading happens in the
workers, one read() per file, so file contents never travel through pipes.
"""
from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

from scanner.model import Skip
from scanner.sources.globs import path_matches

DEFAULT_MAX_SIZE = 64 * 1024 * 1024
SNIFF_BYTES = 8000  # as git does: a NUL byte in the first 8000 bytes means binary
# Formats whose first bytes say "binary" even before a NUL byte appears.
_BINARY_MAGIC = (
    b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF-", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF", b"MZ",
    b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"BZh", b"\xfd7zXZ", b"\x28\xb5\x2f\xfd", b"wOFF", b"wOF2",
    b"OggS", b"ID3", b"RIFF", b"SQLite format 3\x00",
)


@dataclass(slots=True)
class FileTask:
    path: str  # as reported
    size: int


@dataclass(slots=True)
class WalkOptions:
    max_size: int = DEFAULT_MAX_SIZE
    excludes: tuple[str, ...] = ()
    respect_gitignore: bool = False



def too_large(size: int, limit: int) -> str:
    """The reason a file or blob over the size limit is skipped."""
    return f"larger than the size limit ({size} > {limit} bytes)"


def unreadable(exc: OSError) -> str:
    """The reason a file that cannot be opened or read is skipped."""
    return f"unreadable: {exc.strerror or exc}"


def iter_files(roots: list[str], options: WalkOptions) -> Iterator[FileTask | Skip]:
    """Every file under the roots, in a stable order, or why it was skipped."""
    for root in roots:
        try:
            st = os.stat(root)
        except OSError as exc:
            yield Skip(root, f"cannot access: {exc.strerror or exc}", incomplete=True)
            continue
        if stat.S_ISDIR(st.st_mode):
            allowed = _git_visible_files(root) if options.respect_gitignore else None
            yield from _walk(root, options, allowed)
        else:
            yield _classify(root, root, st, options)


def _walk(root: str, options: WalkOptions, allowed: set[str] | None) -> Iterator[FileTask | Skip]:
    def on_error(exc: OSError) -> None:
        errors.append(Skip(exc.filename or root, f"cannot read folder: {exc.strerror or exc}", incomplete=True))

    errors: list[Skip] = []
    for folder, dirs, files in os.walk(root, onerror=on_error):
        yield from errors
        errors.clear()
        rel_folder = os.path.relpath(folder, root)
        kept = []
        for d in sorted(dirs):
            rel = d if rel_folder == "." else f"{rel_folder}/{d}"
            if d == ".git" or any(path_matches(rel, g) for g in options.excludes):
                continue
            kept.append(d)
        dirs[:] = kept
        for name in sorted(files):
            rel = name if rel_folder == "." else f"{rel_folder}/{name}"
            if any(path_matches(rel, g) for g in options.excludes):
                continue
            if allowed is not None and rel not in allowed:
                continue
            full = os.path.join(folder, name)
            try:
                st = os.lstat(full)
            except OSError as exc:
                yield Skip(full, f"cannot access: {exc.strerror or exc}", incomplete=True)
                continue
            yield _classify(full, rel, st, options)
    yield from errors


def _classify(full: str, rel: str, st: os.stat_result, options: WalkOptions) -> FileTask | Skip:
    if stat.S_ISLNK(st.st_mode):
        return Skip(full, "symbolic link (not followed)")
    if not stat.S_ISREG(st.st_mode):
        return Skip(full, "not a regular file")
    # A file over max_size is not skipped: the reader streams it in chunks (scanner.sources.archive.scan_file).
    return FileTask(full, st.st_size)


def _git_visible_files(root: str) -> set[str] | None:
    """Files git does not ignore (tracked or untracked), relative to root; None outside a work tree."""
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True, check=True, timeout=120,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}


def read_file(path: str) -> bytes | Skip:
    """The file's bytes, or why it cannot be scanned (unreadable, binary)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return Skip(path, unreadable(exc), incomplete=True)
    if is_binary(data):
        return Skip(path, "binary")
    return data


def is_binary(data: bytes) -> bool:
    head = data[:SNIFF_BYTES]
    return b"\0" in head or head.startswith(_BINARY_MAGIC)

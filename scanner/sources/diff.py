"""A unified diff (`git diff`, `git show`, `git log -p`, `diff -u`) read as what it adds: one FileDiff per
file with its hunks' added lines at their line numbers in the new file; removed and context lines are
never scanned (tests/test_diff.py).

A file's blob holds its added lines at their new line numbers and blank lines between them, so a finding's
line and column are those of the new file. Hunk bodies are read by their line counts, so an added line
that starts with `++ ` or `-- ` is never taken for a file header.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from scanner.model import Blob
from scanner.sources.stream import Readable

_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_GIT_HEADER = re.compile(rb"^diff --git ")
_DEV_NULL = "/dev/null"
SNIFF = 8192  # bytes of standard input read to recognise a diff


@dataclass(slots=True)
class Hunk:
    new_start: int
    added: list[tuple[int, bytes]] = field(default_factory=list)  # (line in the new file, its text)


@dataclass(slots=True)
class FileDiff:
    path: str  # the new file's path ("" until its header names it)
    old_path: str = ""
    hunks: list[Hunk] = field(default_factory=list)
    binary: bool = False

    @property
    def added_lines(self) -> set[int]:
        return {n for h in self.hunks for n, _text in h.added}

    def blob(self) -> Blob:
        """The added lines at their new line numbers, blank lines between them."""
        parts, line = [], 1
        for n, text in sorted((a for h in self.hunks for a in h.added), key=lambda a: a[0]):
            if n < line:
                continue  # a line given twice (overlapping hunks): the first kept
            parts.append(b"\n" * (n - line))
            parts.append(text + b"\n")
            line = n + 1
        return Blob(b"".join(parts), self.path, "diff")


def iter_lines(fh: Readable, size: int = 1 << 16) -> Iterator[bytes]:
    """The stream's lines, each with its newline (the last one may have none); a line longer than a read
    is gathered in pieces, never re-copied."""
    pending: list[bytes] = []
    while chunk := fh.read(size):
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            pending.append(chunk[start:end + 1])
            yield b"".join(pending)
            pending, start = [], end + 1
        if start < len(chunk):
            pending.append(chunk[start:])
    if pending:
        yield b"".join(pending)


def looks_like_diff(head: bytes) -> bool:
    """The start of standard input is a unified diff: a `diff --git` line, or `--- ` then `+++ ` as its
    first lines (after any `commit`/`Author:` header of `git log -p` or `git show`, `--diff` is needed)."""
    lines = head.split(b"\n", 3)
    if _GIT_HEADER.match(lines[0]):
        return True
    return len(lines) > 2 and lines[0].startswith(b"--- ") and lines[1].startswith(b"+++ ") and bool(
        _HUNK.match(lines[2]))


def parse_diff(lines: Iterable[bytes]) -> Iterator[FileDiff]:
    """Each file of the diff, as soon as its last hunk is read. Lines carry their newline (or not, last)."""
    current: FileDiff | None = None
    old_left = new_left = 0
    hunk: Hunk | None = None
    new_line = 0
    for raw in lines:
        line = raw[:-1] if raw.endswith(b"\n") else raw
        if hunk is not None and old_left <= 0 and new_left <= 0:
            hunk = None  # the hunk is read whole
        if hunk is not None:
            tag = line[:1]
            if tag == b"+":
                hunk.added.append((new_line, line[1:]))
                new_line, new_left = new_line + 1, new_left - 1
                continue
            if tag == b"-":
                old_left -= 1
                continue
            if tag == b" " or line == b"":  # context (an empty line: a blank context line some tools emit)
                new_line, old_left, new_left = new_line + 1, old_left - 1, new_left - 1
                continue
            if tag == b"\\":  # "\ No newline at end of file"
                continue
            hunk = None  # a short hunk: the header reads again below
        if line.startswith(b"\\"):
            continue
        if _GIT_HEADER.match(line):
            if current is not None:
                yield current
            current, hunk = FileDiff(_git_header_path(line)), None
            continue
        if line.startswith(b"--- ") and hunk is None:
            if current is None or current.hunks:
                if current is not None:
                    yield current
                current = FileDiff("")
            current.old_path = _header_path(line[4:])
            continue
        if line.startswith(b"+++ ") and hunk is None and current is not None:
            path = _header_path(line[4:])
            if path != _DEV_NULL:
                current.path = path
            continue
        if line.startswith(b"Binary files ") and current is not None:
            current.binary = True
            continue
        m = _HUNK.match(line)
        if m and current is not None:
            old_left = int(m[2]) if m[2] is not None else 1
            new_left = int(m[4]) if m[4] is not None else 1
            new_line = int(m[3])
            hunk = Hunk(new_line)
            current.hunks.append(hunk)
            continue
        # Anything else (commit headers, index, mode and rename lines, a combined diff's @@@) adds nothing.
    if current is not None:
        yield current


def _git_header_path(line: bytes) -> str:
    """The new path of `diff --git a/X b/Y` (the `+++` line, when there is one, names it again)."""
    rest = line[len(b"diff --git "):]
    if rest.startswith(b'"'):
        parts = _quoted_tokens(rest)
        return _strip_prefix(parts[-1]) if parts else ""
    half = rest.find(b" b/")
    return _decode(rest[half + 3:]) if half >= 0 else _decode(rest.split(b" ")[-1])


def _header_path(text: bytes) -> str:
    """The path of a `--- ` or `+++ ` line: C-quoted or not, without git's a/ or b/ prefix or diff -u's
    tab and timestamp."""
    if text.startswith(b'"'):
        parts = _quoted_tokens(text)
        return _strip_prefix(parts[0]) if parts else ""
    text = text.split(b"\t", 1)[0].rstrip(b"\r")
    path = _decode(text)
    return path if path == _DEV_NULL else _strip_prefix(path)


def _strip_prefix(path: str) -> str:
    return path[2:] if path[:2] in ("a/", "b/") else path


def _quoted_tokens(text: bytes) -> list[str]:
    """The C-quoted strings git writes for unusual paths ("b/my \\"file\\".txt", octal for non-ASCII)."""
    out, i = [], 0
    while i < len(text):
        if text[i:i + 1] != b'"':
            j = text.find(b" ", i)
            out.append(_decode(text[i:] if j < 0 else text[i:j]))
            i = len(text) if j < 0 else j + 1
            continue
        buf, i = bytearray(), i + 1
        while i < len(text) and text[i:i + 1] != b'"':
            c = text[i:i + 1]
            if c == b"\\" and i + 1 < len(text):
                nxt = text[i + 1:i + 2]
                if nxt.isdigit() and i + 3 < len(text):
                    buf.append(int(text[i + 1:i + 4], 8) & 0xFF)
                    i += 4
                    continue
                buf += {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"a": b"\a", b"b": b"\b", b"f": b"\f",
                        b"v": b"\v"}.get(nxt, nxt)
                i += 2
                continue
            buf += c
            i += 1
        out.append(_decode(bytes(buf)))
        i += 2  # the closing quote and the space after it
    return out


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")

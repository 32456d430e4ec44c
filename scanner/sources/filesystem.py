"""Filesystem source: which files to scan, and reading one file into a Blob.

Enumeration happens in the parent process (cheap: stat only); reading happens in the
workers, one read() per file, so file contents never travel through pipes.
"""
from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from scanner.model import Skip
from scanner.sources.gitcmd import GitError, git
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
    # Files of a compiled-code, image, font or media format (COMPILED_SUFFIXES) are reported as binary
    # without being opened, as sniffing would report them: a source tree's bytecode is most of its files.
    # False with --scan-binaries, whose strings pass looks into them.
    skip_compiled: bool = True


# Formats that are never text; archives (.jar, .whl, .zip) are not among them: they are opened and read.
COMPILED_SUFFIXES = frozenset((
    ".pyc", ".pyo", ".so", ".dll", ".dylib", ".exe", ".o", ".obj", ".a", ".lib", ".class", ".wasm",
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tif", ".tiff",
    ".woff", ".woff2", ".ttf", ".otf", ".eot",
    ".mp3", ".mp4", ".m4a", ".wav", ".ogg", ".flac", ".avi", ".mov", ".mkv", ".webm",
))



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
    """Top down, each folder's files (sorted) before its subfolders (sorted), as os.walk would give them;
    on os.scandir, so that an entry's type comes from the folder listing and a file skipped by its name
    (bytecode: most of an installed tree) is never stat'ed."""
    yield from _walk_folder(root, ".", options, allowed)


def _walk_folder(folder: str, rel_folder: str, options: WalkOptions,
                 allowed: set[str] | None) -> Iterator[FileTask | Skip]:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        yield Skip(exc.filename or folder, f"cannot read folder: {exc.strerror or exc}", incomplete=True)
        return
    subfolders = []
    for entry in entries:
        name = entry.name
        rel = name if rel_folder == "." else f"{rel_folder}/{name}"
        try:
            is_dir = entry.is_dir()  # a link to a folder counts as one, and is not followed (os.walk's way)
        except OSError:
            is_dir = False
        if is_dir:
            if name != ".git" and not any(path_matches(rel, g) for g in options.excludes) and not entry.is_symlink():
                subfolders.append((entry.path, rel))
            continue
        if any(path_matches(rel, g) for g in options.excludes):
            continue
        if allowed is not None and rel not in allowed:
            continue
        yield _classify_entry(entry, rel, options)
    for path, rel in subfolders:
        yield from _walk_folder(path, rel, options, allowed)


def _classify_entry(entry: os.DirEntry, rel: str, options: WalkOptions) -> FileTask | Skip:
    """_classify, with a regular file's bytecode told by its name from the folder listing, before any stat."""
    try:
        if options.skip_compiled and _compiled_name(entry.name) and entry.is_file(follow_symlinks=False):
            return Skip(entry.path, "binary (by file name)")  # not opened (tests/test_scan_cli.py::test_compiled_files_are_not_opened)
        return _classify(entry.path, rel, entry.stat(follow_symlinks=False), options)
    except OSError as exc:
        return Skip(entry.path, f"cannot access: {exc.strerror or exc}", incomplete=True)


def _classify(full: str, rel: str, st: os.stat_result, options: WalkOptions) -> FileTask | Skip:
    if stat.S_ISLNK(st.st_mode):
        return Skip(full, "symbolic link (not followed)")
    if not stat.S_ISREG(st.st_mode):
        return Skip(full, "not a regular file")
    if options.skip_compiled and _compiled_name(full):
        return Skip(full, "binary (by file name)")
    # A file over max_size is not skipped: the reader streams it in chunks (scanner.sources.archive.read_file).
    return FileTask(full, st.st_size)


def _compiled_name(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in COMPILED_SUFFIXES


def _git_visible_files(root: str) -> set[str] | None:
    """Files git does not ignore (tracked or untracked), relative to root; None outside a work tree."""
    try:
        out = git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", timeout=120)
    except GitError:
        return None
    return {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}


def read_file(path: str) -> bytes | Skip:
    """The file's bytes (UTF-16 and UTF-32 text as UTF-8), or why it cannot be scanned (unreadable, binary)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return Skip(path, unreadable(exc), incomplete=True)
    if is_binary(data):
        return Skip(path, "binary")
    return as_utf8(data)


def is_binary(data: bytes) -> bool:
    """Whether the head of a file says binary: a NUL in the first SNIFF_BYTES or a binary format's magic.
    UTF-16 and UTF-32 text (wide_encoding) is text (tests/test_wide_text.py)."""
    head = data[:SNIFF_BYTES]
    return (b"\0" in head or head.startswith(_BINARY_MAGIC)) and wide_encoding(head) is None


@dataclass(frozen=True, slots=True)
class WideEncoding:
    """UTF-16 or UTF-32 text: the codec (byte order explicit) and the byte-order mark it starts with, if any."""

    codec: str
    bom: bytes


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_MARK_LEADS = frozenset(bom[:1] for bom, _ in _BOMS)
# The NUL pattern of ASCII text, by the position of the non-NUL byte in each code unit.
_NUL_PATTERNS = (("utf-32-le", 4, 0), ("utf-32-be", 4, 3), ("utf-16-le", 2, 0), ("utf-16-be", 2, 1))


def wide_encoding(head: bytes) -> WideEncoding | None:
    """The encoding of UTF-16 or UTF-32 text, told by its byte-order mark or, without one, by the NUL pattern
    of mostly-ASCII text (every code unit but its low byte NUL); None for anything else. The head must
    decode to printable text either way, so a binary that starts like a mark stays binary."""
    head = head[:SNIFF_BYTES]
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return WideEncoding(codec, bom) if _printable(head[len(bom):], codec) else None
    if len(head) < 8 or b"\0" not in head:
        return None
    for codec, width, low in _NUL_PATTERNS:
        body = head[: len(head) - len(head) % width]
        units = len(body) // width
        lows = body[low::width]
        if lows.count(0) > units // 20:
            continue
        zeros = body.count(0)
        if zeros >= units * (width - 1) * 19 // 20 and _printable(body, codec):
            return WideEncoding(codec, b"")
    return None


def _printable(body: bytes, codec: str) -> bool:
    text = body.decode(codec, "replace")
    return sum(c.isprintable() or c in "\r\n\t\f" for c in text) >= 0.95 * len(text)


def as_utf8(data: bytes) -> bytes:
    """The text as UTF-8 if it is UTF-16 or UTF-32 (mark dropped), else the bytes as they are."""
    if data[:1] not in _MARK_LEADS and data.find(b"\0", 0, SNIFF_BYTES) < 0:
        return data  # most text: neither a byte-order mark nor a NUL, so not wide (one C search)
    wide = wide_encoding(data[:SNIFF_BYTES])
    if wide is None:
        return data
    return data[len(wide.bom):].decode(wide.codec, "replace").encode("utf-8")


class Transcoded:
    """A readable stream of UTF-16 or UTF-32 text read as UTF-8, decoded as it is read (its mark dropped).
    Offsets and lines of what is scanned are those of the UTF-8 text."""

    def __init__(self, fh, wide: WideEncoding, errors: str = "replace"):
        self.fh, self.dec = fh, codecs.getincrementaldecoder(wide.codec)(errors)
        self.errors, self.buf, self.done = errors, b"", False
        self.skip = len(wide.bom)

    def read(self, n: int = -1) -> bytes:
        while not self.done and (n is None or n < 0 or len(self.buf) < n):
            raw = self.fh.read(1 << 20 if n is None or n < 0 else max(n, 4096))
            if self.skip:
                raw, cut = raw[self.skip:], min(self.skip, len(raw))
                self.skip -= cut
            self.done = not raw
            self.buf += self.dec.decode(raw, final=self.done).encode("utf-8", "surrogatepass")
        if n is None or n < 0:
            out, self.buf = self.buf, b""
        else:
            out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def readable(self) -> bool:
        return True


# Printable ASCII and tab stay; every other byte reads as a newline, so each run of printable text is a line.
_PRINTABLE_ONLY = bytes(b if 0x20 <= b < 0x7F or b == 0x09 else 0x0A for b in range(256))


class PrintableRuns:
    """A binary file read as its printable strings (as `strings` finds them): every byte that is not
    printable ASCII reads as a newline, so offsets are those of the file and a secret found can be masked
    in place. `original` keeps the bytes as they are for a reader that must write them (redact)."""

    def __init__(self, fh, keep_original: bool = False):
        self.fh, self.keep = fh, keep_original
        self.original = bytearray()

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        if self.keep:
            self.original += data
        return data.translate(_PRINTABLE_ONLY)

    def readable(self) -> bool:
        return True

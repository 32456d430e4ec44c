"""Redact a bundle: a copy with the same layout (folders, archive members, compression) and every secret masked.

Masks keep the length of what they hide (the redacted preview's prefix, then `*`), so text members
keep their sizes and line/column positions, and the copy can be shared with a vendor. Members stream
through the same chunked scanner as a scan, under the scan's limits (scanner.sources.archive.Limits:
depth, ratio, total, members, time); a re-packed archive is spooled (in memory up to SPOOL_MEMORY)
because its new size must be known before its header is written.

Redaction fails closed (tests/test_redact_closed.py): every file is scanned as the scan would read it
(UTF-16 and UTF-32 text decoded and masked in its own encoding, a binary file's printable strings masked
in place), or the copy is refused; a member that cannot be read or is over a limit stops the copy with an
error. The copy is written under a temporary name and renamed at the end, so an error, a full disk or
SIGTERM leaves nothing behind. In a folder, what cannot be read (an unreadable subfolder or file) or is
no regular file (a FIFO, a device, a link) is left out of the copy and reported in `RedactStats.skipped`.
"""
from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import os
import re
import shutil
import signal
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from scanner.engine import previews
from scanner.errors import SprawlError
from scanner.model import CONFIDENCE_RANK, Match, Skip
from scanner.pipeline.blobs import scan_stream
from scanner.sources.archive import (
    COMPRESSORS,
    SNIFF,
    SPOOL_MEMORY,
    ArchiveBomb,
    Budget,
    Counted,
    Guarded,
    Limits,
    Prefixed,
    _decompressor,
    _errors,
    sniff,
)
from scanner.sources.filesystem import PrintableRuns, Transcoded, WideEncoding, is_binary, wide_encoding
from scanner.sources.stream import Chunk, Readable, read_full

Scan = Callable[[bytes, str], list[Match]]


@dataclass
class RedactStats:
    files: int = 0
    masked: int = 0
    binary: int = 0  # binary files whose printable strings were scanned (and masked in place)
    wide: int = 0  # UTF-16 or UTF-32 text files, masked in their own encoding
    masked_where: list[str] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)  # left out of the copy, and why

    @property
    def incomplete(self) -> bool:
        """Whether something that should have been copied could not be read (exit code 3)."""
        return any(s.incomplete for s in self.skipped)


class _Terminated(Exception):
    """SIGTERM while the copy was being written: the partial copy is removed, as on any error."""


class Redactor:
    def __init__(self, scan: Scan, min_confidence: str = "low", limits: Limits | None = None):
        self.scan, self.floor = scan, CONFIDENCE_RANK[min_confidence]
        self.limits = limits or Limits()
        self.stats = RedactStats()
        self.budget = Budget(self.limits)

    def path(self, src: str, dst: str) -> RedactStats:
        if os.path.lexists(dst):
            raise SprawlError(f"{dst} exists; give a new path for the redacted copy")
        try:
            st = os.stat(src)
        except OSError as exc:
            raise SprawlError(f"cannot read {src}: {exc.strerror or exc}") from exc
        if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
            raise SprawlError(f"{src} is not a regular file or folder (a FIFO or a device); nothing to redact")
        parent = os.path.dirname(os.path.abspath(dst))
        if not os.path.isdir(parent):
            raise SprawlError(f"no such folder for the copy: {parent}")
        # The copy is written beside its final name (the same file system, so the rename is atomic).
        tmp = os.path.join(parent, f".{os.path.basename(dst)}.sprawl-{os.getpid()}.tmp")
        previous = _on_sigterm()
        refused: tuple[type[BaseException], ...] = (*_errors(), ArchiveBomb)  # UnicodeError (bad UTF-16) is a ValueError, among them
        try:
            if stat.S_ISDIR(st.st_mode):
                self._tree(src, tmp, {os.path.realpath(dst), os.path.realpath(tmp)})
            else:
                self._file(src, tmp)
            os.rename(tmp, dst)
        except refused as exc:
            _remove(tmp)
            raise SprawlError(f"cannot redact {src}: {exc}; no copy written") from exc
        except _Terminated as exc:
            _remove(tmp)
            raise SprawlError(f"terminated while redacting {src}; no copy written") from exc
        except BaseException:
            _remove(tmp)
            raise
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        return self.stats

    def _tree(self, src: str, dst: str, own: set[str]) -> None:
        def on_error(exc: OSError) -> None:
            self.stats.skipped.append(Skip(exc.filename or src, f"cannot read folder: {exc.strerror or exc}",
                                           incomplete=True))

        os.makedirs(dst)
        for folder, dirs, files in os.walk(src, onerror=on_error):
            # Never into the copy being written (`redact b -o b/sub/clean`).
            dirs[:] = sorted(d for d in dirs if os.path.realpath(os.path.join(folder, d)) not in own)
            rel = os.path.relpath(folder, src)
            for d in dirs:
                os.makedirs(os.path.join(dst, rel, d), exist_ok=True)
            for name in sorted(files):
                full = os.path.join(folder, name)
                if os.path.realpath(full) in own:
                    continue
                try:
                    st = os.lstat(full)
                except OSError as exc:
                    self.stats.skipped.append(Skip(full, f"cannot access: {exc.strerror or exc}", incomplete=True))
                    continue
                if stat.S_ISLNK(st.st_mode):
                    self.stats.skipped.append(Skip(full, "symbolic link (not followed, not copied)"))
                    continue
                if not stat.S_ISREG(st.st_mode):
                    self.stats.skipped.append(Skip(full, "not a regular file (a FIFO, socket or device); not copied",
                                                   incomplete=True))
                    continue
                try:
                    fin = open(full, "rb")
                except OSError as exc:
                    self.stats.skipped.append(Skip(full, f"unreadable: {exc.strerror or exc}; not copied",
                                                   incomplete=True))
                    continue
                with fin:
                    self._copy(fin, full, os.path.join(dst, rel, name), st.st_size)

    def _file(self, src: str, dst: str) -> None:
        with open(src, "rb") as fin:
            self._copy(fin, src, dst, os.fstat(fin.fileno()).st_size)

    def _copy(self, fin, src: str, dst: str, size: int) -> None:
        self.budget = Budget(self.limits, size)  # each file on disk has the limits a scan gives it
        with open(dst, "xb") as fout:
            self.stream(fin, fout, src, read_full(fin, SNIFF), 0)
        shutil.copymode(src, dst)

    def stream(self, fin, fout, where: str, head: bytes, depth: int) -> None:
        kind = sniff(head)
        if kind is None:
            self._leaf(fin, fout, where, head, depth > 0)
            return
        if depth >= self.limits.max_depth:
            raise ArchiveBomb(f"{where}: archive nested deeper than {self.limits.max_depth} levels")
        if kind in COMPRESSORS:
            counted = Counted(Prefixed(head, fin))
            dec = Guarded(_decompressor(kind, counted), lambda: counted.n, self.budget, where)
            with _compressor(kind, fout) as comp:
                self.stream(dec, comp, where, read_full(dec, SNIFF), depth + 1)
        elif kind == "tar":
            self._tar(Prefixed(head, fin), fout, where, depth)
        else:
            self._zip(fin, fout, where, head, depth)

    def _tar(self, fin, fout, where: str, depth: int) -> None:
        with tarfile.open(fileobj=fin, mode="r|") as tin, tarfile.open(fileobj=fout, mode="w|",
                                                                        format=tarfile.PAX_FORMAT) as tout:
            for member in tin:
                self.budget.count_member(where)
                if not member.isfile():
                    tout.addfile(member)
                    continue
                src = tin.extractfile(member)
                assert src is not None  # a regular file member (isfile above) always has contents
                with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY) as spool:
                    self.stream(src, spool, f"{where}!{member.name}", read_full(src, SNIFF), depth + 1)
                    member.size = spool.tell()
                    spool.seek(0)
                    tout.addfile(member, spool)

    def _zip(self, fin, fout, where: str, head: bytes, depth: int) -> None:
        # A zip is written with seeks (its central directory, each member's sizes): into a spool, then
        # copied to fout, which may be a compressor (.zip.gz, .zip.zst) that cannot seek.
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY) as spool_in, \
                tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY) as spool_out:
            if depth == 0:
                fin.seek(0)
                source = fin
            else:
                spool_in.write(head)
                shutil.copyfileobj(fin, spool_in, 1024 * 1024)
                spool_in.seek(0)
                source = spool_in
            with zipfile.ZipFile(source) as zin, zipfile.ZipFile(spool_out, "w") as zout:
                for info in zin.infolist():
                    self.budget.count_member(where)
                    out_info = zipfile.ZipInfo(info.filename, info.date_time)
                    out_info.compress_type, out_info.external_attr = info.compress_type, info.external_attr
                    if info.is_dir():
                        zout.writestr(out_info, b"")
                        continue
                    inner = f"{where}!{info.filename}"
                    if info.flag_bits & 0x1:
                        raise SprawlError(f"{inner}: encrypted archive member, cannot be read to redact")
                    with zin.open(info) as raw, zout.open(out_info, "w", force_zip64=True) as dst:
                        src = Guarded(raw, lambda info=info: info.compress_size, self.budget, inner)  # type: ignore[misc]
                        self.stream(src, dst, inner, read_full(src, SNIFF), depth + 1)
            spool_out.seek(0)
            shutil.copyfileobj(spool_out, fout, 1024 * 1024)

    def _leaf(self, fin, fout, where: str, head: bytes, in_archive: bool) -> None:
        self.stats.files += 1
        name = where.rsplit("!", 1)[-1]
        wide = wide_encoding(head) if head else None
        binary = wide is None and bool(head) and is_binary(head)
        source: _Source
        if wide is not None:
            self.stats.wide += 1
            reader = Transcoded(Prefixed(head, fin), wide, errors="surrogatepass")
            out = _Encoded(fout, wide)
            source = _Source(reader, read_full(reader, SNIFF), lambda data, lo, hi: data)
        elif binary:
            self.stats.binary += 1
            runs = PrintableRuns(Prefixed(head, fin), keep_original=True)
            source = _Source(runs, read_full(runs, SNIFF), _originals(runs))
            out = fout
        else:
            source, out = _Source(fin, head, lambda data, lo, hi: data), fout
        pending: list[tuple[int, bytes]] = []  # (absolute start, mask) still to be written

        def on_chunk(c: Chunk, kept: list[Match]) -> None:
            if in_archive:
                self.budget.take(c.cut_hi - c.cut_lo, where)
            else:
                self.budget.tick(where)
            for m in kept:
                if CONFIDENCE_RANK[m.confidence] >= self.floor:
                    pending.append((c.offset + m.start, mask(c.data[m.start : m.end])))
                    self.stats.masked += 1
                    self.stats.masked_where.append(where)
            lo, hi = c.offset + c.cut_lo, c.offset + c.cut_hi
            text = bytearray(source.bytes_of(c.data[c.cut_lo : c.cut_hi], lo, hi))
            still = []
            for start, masked in pending:
                # Overlay the part of the mask that falls in [lo, hi); a mask running past hi waits for the next chunk.
                a, b = max(start, lo), min(start + len(masked), hi)
                if a < b:
                    text[a - lo : b - lo] = masked[a - start : b - start]
                if start + len(masked) > hi:
                    still.append((start, masked))
            pending[:] = still
            out.write(text)

        scan_stream(source.reader, lambda data: self.scan(data, name), source.head, on_chunk=on_chunk)
        if isinstance(out, _Encoded):
            out.finish()


@dataclass
class _Source:
    """What a leaf's scanner reads (the bytes, their UTF-8 transcoding or a binary's printable runs), and
    the bytes to write for a range of it (the original bytes, for a binary)."""

    reader: Readable
    head: bytes
    bytes_of: Callable[[bytes, int, int], bytes]


def _originals(runs: PrintableRuns) -> Callable[[bytes, int, int], bytes]:
    """The binary's own bytes for [lo, hi) of its printable view (read in order; what is written is let go)."""
    base = [0]

    def bytes_of(_: bytes, lo: int, hi: int) -> bytes:
        data = bytes(runs.original[lo - base[0] : hi - base[0]])
        del runs.original[: hi - base[0]]
        base[0] = hi
        return data

    return bytes_of


class _Encoded:
    """Writes UTF-8 text back in a UTF-16 or UTF-32 encoding (its byte-order mark first, if it had one)."""

    def __init__(self, fout, wide: WideEncoding):
        self.fout, self.codec = fout, wide.codec
        self.dec = codecs.getincrementaldecoder("utf-8")("surrogatepass")
        fout.write(wide.bom)

    def write(self, data: bytes | bytearray) -> None:
        self.fout.write(self.dec.decode(bytes(data)).encode(self.codec, "surrogatepass"))

    def finish(self) -> None:
        self.fout.write(self.dec.decode(b"", final=True).encode(self.codec, "surrogatepass"))


# An escape inside a string literal (JSON, a shell or C string): `\"`, `\\`, `\n`, `\u00e9`. A mask keeps
# each whole, and keeps quotes, so a mask over an escaped nested document never eats a closing quote or
# half an escape (every JSON line of a redacted log still parses: tests/test_redact_closed.py).
_ESCAPE = re.compile(rb'\\(?:u[0-9A-Fa-f]{4}|.)|"', re.DOTALL)


def mask(secret: bytes) -> bytes:
    """Same length as the secret: previews.mask, with string escapes and quotes left where they are."""
    masked = bytearray(previews.mask(secret))
    for m in _ESCAPE.finditer(secret):
        masked[m.start() : m.end()] = m.group()
    return bytes(masked)


class _Writer(Protocol):
    """What _compressor wraps: GzipFile, BZ2File, LZMAFile or a zstandard stream writer."""

    def write(self, data: bytes, /) -> int: ...

    def close(self) -> None: ...


class _compressor:
    """A compressing writer over fout that leaves fout open when it is closed."""

    w: _Writer

    def __init__(self, kind: str, fout):
        if kind == "gzip":
            self.w = gzip.GzipFile(fileobj=fout, mode="wb", mtime=0)
        elif kind == "bzip2":
            self.w = bz2.BZ2File(fout, "wb")
        elif kind == "xz":
            self.w = lzma.LZMAFile(fout, "wb")
        else:
            import zstandard

            self.w = zstandard.ZstdCompressor().stream_writer(fout, closefd=False)

    def __enter__(self):
        return self.w

    def __exit__(self, *exc):
        self.w.close()


def _on_sigterm():
    """SIGTERM raises _Terminated (so the partial copy is removed); the handler before, to restore."""
    def handler(signum, frame):
        raise _Terminated()

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        return None


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)

"""Redact a bundle: a copy with the same layout (folders, archive members, compression) and every secret masked.

Masks keep the length of what they hide (the redacted preview's prefix, then `*`), so text members
keep their sizes and line/column positions, and the copy can be shared with a vendor. Members stream
through the same chunked scanner as a scan; a re-packed nested archive is spooled (in memory up to
SPOOL_MEMORY) because its new size must be known before its header is written. Redaction fails
closed: a member that cannot be read stops the copy with an error and nothing half-redacted is left.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from scanner.engine import previews
from scanner.errors import SprawlError
from scanner.model import CONFIDENCE_RANK, Match
from scanner.sources.archive import COMPRESSORS, SNIFF, SPOOL_MEMORY, Prefixed, _decompressor, _errors, sniff
from scanner.sources.filesystem import is_binary
from scanner.sources.stream import Chunk, read_full, scan_stream

Scan = Callable[[bytes, str], list[Match]]


@dataclass
class RedactStats:
    files: int = 0
    masked: int = 0
    copied_binary: int = 0
    masked_where: list[str] = field(default_factory=list)


class Redactor:
    def __init__(self, scan: Scan, min_confidence: str = "low"):
        self.scan, self.floor = scan, CONFIDENCE_RANK[min_confidence]
        self.stats = RedactStats()

    def path(self, src: str, dst: str) -> RedactStats:
        if os.path.lexists(dst):
            raise SprawlError(f"{dst} exists; give a new path for the redacted copy")
        if not os.path.exists(src):
            raise SprawlError(f"no such file or folder: {src}")
        try:
            if os.path.isdir(src):
                self._tree(src, dst)
            else:
                self._file(src, dst)
        except _errors() as exc:
            _remove(dst)
            raise SprawlError(f"cannot redact {src}: {exc}; no copy written") from exc
        except BaseException:
            _remove(dst)
            raise
        return self.stats

    def _tree(self, src: str, dst: str) -> None:
        for folder, dirs, files in os.walk(src):
            dirs.sort()
            rel = os.path.relpath(folder, src)
            os.makedirs(os.path.join(dst, rel), exist_ok=True)
            for name in sorted(files):
                full = os.path.join(folder, name)
                if os.path.islink(full) or not os.path.isfile(full):
                    continue
                self._file(full, os.path.join(dst, rel, name))

    def _file(self, src: str, dst: str) -> None:
        with open(src, "rb") as fin, open(dst, "xb") as fout:
            self.stream(fin, fout, src, read_full(fin, SNIFF), 0)
        shutil.copymode(src, dst)

    def stream(self, fin, fout, where: str, head: bytes, depth: int) -> None:
        kind = sniff(head)
        if kind is None:
            self._leaf(fin, fout, where, head)
        elif kind in COMPRESSORS:
            dec = _decompressor(kind, Prefixed(head, fin))
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
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY) as spool:
            if depth == 0:
                fin.seek(0)
                source = fin
            else:
                spool.write(head)
                shutil.copyfileobj(fin, spool, 1024 * 1024)
                spool.seek(0)
                source = spool
            with zipfile.ZipFile(source) as zin, zipfile.ZipFile(fout, "w") as zout:
                for info in zin.infolist():
                    out_info = zipfile.ZipInfo(info.filename, info.date_time)
                    out_info.compress_type, out_info.external_attr = info.compress_type, info.external_attr
                    if info.is_dir():
                        zout.writestr(out_info, b"")
                        continue
                    with zin.open(info) as src, zout.open(out_info, "w", force_zip64=True) as dst:
                        self.stream(src, dst, f"{where}!{info.filename}", read_full(src, SNIFF), depth + 1)

    def _leaf(self, fin, fout, where: str, head: bytes) -> None:
        self.stats.files += 1
        if is_binary(head):
            self.stats.copied_binary += 1
            fout.write(head)
            shutil.copyfileobj(fin, fout, 1024 * 1024)
            return
        name = where.rsplit("!", 1)[-1]
        pending: list[tuple[int, bytes]] = []  # (absolute start, mask) still to be written

        def on_chunk(c: Chunk, kept: list[Match]) -> None:
            for m in kept:
                if CONFIDENCE_RANK[m.confidence] >= self.floor:
                    pending.append((c.offset + m.start, previews.mask(c.data[m.start : m.end])))
                    self.stats.masked += 1
                    self.stats.masked_where.append(where)
            lo, hi = c.offset + c.cut_lo, c.offset + c.cut_hi
            out = bytearray(c.data[c.cut_lo : c.cut_hi])
            still = []
            for start, mask in pending:
                # Overlay the part of the mask that falls in [lo, hi); a mask running past hi waits for the next chunk.
                a, b = max(start, lo), min(start + len(mask), hi)
                if a < b:
                    out[a - lo : b - lo] = mask[a - start : b - start]
                if start + len(mask) > hi:
                    still.append((start, mask))
            pending[:] = still
            fout.write(out)

        scan_stream(fin, lambda data: self.scan(data, name), head, on_chunk=on_chunk)


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


def _remove(path: str) -> None:
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.exists(path):
        os.remove(path)

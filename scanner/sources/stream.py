"""Read a stream of any size in bounded memory: fixed-size chunks that overlap (scanned by scanner.pipeline.blobs).

Consecutive chunks share OVERLAP bytes. The middle of that shared region is the cut: a
match whose secret starts before the cut belongs to the earlier chunk, one that starts at
or after it to the later chunk. Both chunks hold OVERLAP/2 bytes either side of the cut,
more than any rule's keyword window and any secret's length, so a secret that straddles a
chunk edge is seen whole by exactly one owner and reported once. Memory is one chunk (plus
the engine's per-chunk work) whatever the stream size.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from scanner.model import ChunkPlace

CHUNK = 8 * 1024 * 1024
OVERLAP = 128 * 1024  # twice the largest rule window (16 KB) with room for a long private key


@dataclass(slots=True)
class Chunk(ChunkPlace):
    """Bytes of the stream and their place in it: matches starting in data[cut_lo:cut_hi] are its own."""

    data: bytes = b""


class Readable(Protocol):
    """What the stream is read from: a binary file, a decompressor, or a wrapper such as archive.Prefixed."""

    def read(self, n: int = -1, /) -> bytes: ...


def read_full(fh: Readable, n: int) -> bytes:
    """Up to n bytes; fewer only at the end of the stream (decompressors return short reads)."""
    data, error = _read_safe(fh, n)
    if error is not None:
        raise error
    return data


def _read_safe(fh: Readable, n: int) -> tuple[bytes, BaseException | None]:
    """Like read_full, but a failing stream (a truncated gzip) gives back what came before the failure."""
    parts, got = [], 0
    try:
        while got < n:
            part = fh.read(n - got)
            if not part:
                break
            parts.append(part)
            got += len(part)
    except Exception as exc:  # the caller scans what was read, then re-raises
        return b"".join(parts), exc
    return b"".join(parts), None


@dataclass(slots=True, frozen=True)  # shared as a default argument
class Position:
    """Where a stream starts in a larger file: a byte range of it, scanned by one of several workers."""

    offset: int = 0
    line: int = 1
    line_start: int = 0


def iter_chunks(fh: Readable, chunk: int = CHUNK, overlap: int = OVERLAP, head: bytes = b"",
                start: Position = Position(), stop: int | None = None) -> Iterator[Chunk]:
    """Overlapping chunks of the stream; `head` is data already read from it (a sniffed prefix).

    A stream that starts inside a file (`start` past 0) is read from half an overlap before the
    range it owns, as if a chunk came before it; `stop` ends the range it owns (matches starting
    there belong to the next range, so the stream should go on half an overlap beyond it).
    If the stream fails part way, the bytes read before the failure come as a last chunk and
    then the error is raised.
    """
    if overlap * 2 > chunk:
        raise ValueError("chunk must be at least twice the overlap")
    half = overlap // 2
    buf, error = head, None
    offset, line, line_start = start.offset, start.line, start.line_start
    first = start.offset == 0
    while True:
        if len(buf) < chunk and error is None:
            more, error = _read_safe(fh, chunk - len(buf))
            buf += more
        nxt = b""
        if error is None:
            nxt, error = _read_safe(fh, 1)  # is this the last chunk?
        last = not nxt
        if not buf:
            break
        cut_lo = 0 if first else half
        cut_hi = len(buf) if last else len(buf) - half
        if stop is not None and offset + cut_hi >= stop:
            cut_hi, last = max(cut_lo, stop - offset), True
        yield Chunk(offset, line, line_start, cut_lo, cut_hi, buf)
        if last:
            break
        # The next chunk starts `overlap` bytes before this one ends, so its cut_lo (half) lands on our cut_hi.
        step = len(buf) - overlap
        newlines = buf.count(b"\n", 0, step)
        if newlines:
            line += newlines
            line_start = offset + buf.rfind(b"\n", 0, step) + 1
        offset += step
        buf = buf[step:] + nxt
        first = False
    if error is not None:
        raise error

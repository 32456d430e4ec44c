"""The engine over the blobs a source yields: a file on disk (plain, archive, streamed or one shard of it)
or a stream read once, scanned blob by blob as scanner.sources.archive reads it.

A chunk of a stream (Blob.part) keeps only the matches that start in the part it owns, moved to the
stream's offsets and lines; each match is stamped with the media kind the source read off its blob and
the log-record time around it (Provenance.media, Provenance.seen).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import cast

from scanner.engine import Engine
from scanner.model import Blob, Match, Provenance, Skip
from scanner.sources.archive import FileBlobs, Limits, read_file
from scanner.sources.logs import time_seen
from scanner.sources.stream import CHUNK, OVERLAP, Chunk, Position, Readable, iter_chunks


@dataclass(slots=True)
class Hit:
    path: str  # bundle.tar.gz!logs/app.log
    match: Match
    provenance: Provenance


@dataclass
class FileOutcome:
    """What scanning one file on disk gave: hits, skips (member-level), and how much was read."""

    size: int = 0  # bytes scanned (decompressed)
    files: int = 0  # blobs scanned: 1, or the archive's members
    hits: list[Hit] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    archive: bool = False
    streamed: bool = False
    warnings: list[str] = field(default_factory=list)  # for the scan's summary (ScanStats.warnings)


def scan_blob(engine: Engine, blob: Blob) -> list[Hit]:
    """The matches in one blob, as hits at its path; a chunk's own matches only, at the stream's offsets."""
    matches = engine.scan(blob.data, blob.scan_as or blob.path)
    part = blob.part
    if part is not None:
        matches = [m for m in matches if part.owns(m)]
    hits = []
    for m in matches:
        seen = time_seen(blob.data, m.start)  # before the shift: an offset in this blob's data
        if part is not None:
            part.shift(m)
        hits.append(Hit(blob.path, m, Provenance(media=blob.provenance.media, seen=seen or "")))
    return hits


def scan_blobs(engine: Engine, path: str, blobs: FileBlobs) -> FileOutcome | Skip:
    """Scan every blob a source reads of one file or stream, then note what the engine could not finish."""
    hits = [hit for blob in blobs for hit in scan_blob(engine, blob)]
    read = blobs.result
    if isinstance(read, Skip):
        return read
    out = FileOutcome(read.size, read.files, hits, read.skips, read.archive, read.streamed)
    # What the engine could not finish on this file: the rules whose regex ran out of time (an incomplete
    # skip each), and how many regions spent the decoders' budget (a warning).
    timed_out, spent = engine.matcher.take_notes()
    for rule_id in sorted(set(timed_out)):
        out.skips.append(Skip(path, f"regex time limit: rule {rule_id} not fully checked", incomplete=True))
    if spent:
        out.warnings.append(f"{path}: encoded spans past the decoders' budget were not decoded ({spent} region(s))")
    return out


def scan_file(path: str, engine: Engine, limits: Limits = Limits(), max_size: int = CHUNK, chunk: int = CHUNK,
              shard: tuple[int, int] = (0, 1)) -> FileOutcome | Skip:
    """One file on disk, or its shard-th part (scanner.sources.archive.read_file); merge the parts with
    merge_shards (tests/test_archive.py::test_shards_of_an_archive_together_scan_it_exactly_once)."""
    return scan_blobs(engine, path, read_file(path, limits, max_size, chunk, shard))


def merge_shards(outcomes: Iterable[FileOutcome | Skip]) -> FileOutcome | Skip:
    """One file's outcome from its shards' (each hit once; an error every shard met, reported once)."""
    outcomes = list(outcomes)
    if any(isinstance(o, Skip) for o in outcomes):
        return next(o for o in outcomes if isinstance(o, Skip))
    done = cast("list[FileOutcome]", outcomes)  # no Skip among them: returned above
    merged = FileOutcome(archive=any(o.archive for o in done), streamed=any(o.streamed for o in done),
                         warnings=[w for o in done for w in o.warnings])
    seen: set[tuple[str, str]] = set()
    for o in done:
        merged.size += o.size
        merged.files += o.files
        merged.hits.extend(o.hits)
        for skip in o.skips:
            if (skip.path, skip.reason) not in seen:
                seen.add((skip.path, skip.reason))
                merged.skips.append(skip)
    return merged


@dataclass
class StreamStats:
    bytes: int = 0
    chunks: int = 0
    matches: list[Match] = field(default_factory=list)


def scan_stream(fh: Readable, scan: Callable[[bytes], list[Match]], head: bytes = b"",
                chunk: int = CHUNK, overlap: int = OVERLAP,
                on_chunk: Callable[[Chunk, list[Match]], None] | None = None,
                start: Position = Position(), stop: int | None = None) -> StreamStats:
    """Scan the stream chunk by chunk; matches come back with offsets, lines and columns of the whole stream.

    `on_chunk` sees each chunk with its kept matches in chunk-relative offsets (the redactor masks
    bytes there). An error from the stream (a truncated gzip, a corrupt member) propagates with the
    matches found before it attached as `exc.partial`, so a caller can keep them and report the error.
    """
    stats = StreamStats()
    owned_from = start.offset + (overlap // 2 if start.offset else 0)  # bytes counts the owned range only
    try:
        for c in iter_chunks(fh, chunk, overlap, head, start, stop):
            stats.chunks += 1
            kept = [m for m in scan(c.data) if c.owns(m)]
            if on_chunk is not None:
                on_chunk(c, kept)
            for m in kept:
                c.shift(m)
            stats.matches.extend(kept)
            stats.bytes = c.offset + c.cut_hi - owned_from
    except Exception as exc:
        exc.partial = stats  # type: ignore[attr-defined]
        raise
    return stats

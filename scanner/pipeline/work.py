"""Work items: what the parent hands a worker (names, never contents), and what comes back.

Workers read for themselves, so file and blob contents never travel through pipes."""
from __future__ import annotations

from dataclasses import dataclass, field

from scanner.model import Match
from scanner.sources.archive import Limits


@dataclass(frozen=True, slots=True)
class FileWork:
    """A file on disk, or the shard-th of `shards` parts of one (a large archive's members, a huge file's bytes)."""

    path: str
    shard: int = 0
    shards: int = 1

    def __reduce__(self) -> tuple[type, tuple]:
        return FileWork, (self.path, self.shard, self.shards)  # pickled as a call: see BlobWork


@dataclass(frozen=True, slots=True)
class BlobWork:
    """A git blob, scanned as `path`; `base` is a later version of the file this worker scanned before,
    so only the regions that differ from it are scanned (scanner.engine.revisions)."""

    oid: str
    path: str
    base: str = ""

    def __reduce__(self) -> tuple[type, tuple]:
        # Pickled as a constructor call: a slotted dataclass's default pickling cost the parent and the
        # workers 1 ms per batch of 128 each way, a quarter of a second on a long history.
        return BlobWork, (self.oid, self.path, self.base)


@dataclass(frozen=True, slots=True)
class FileReading:
    """How a worker reads files: files over max_size are streamed in chunks; archives within these limits."""

    max_size: int
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True, slots=True)
class GitReading:
    """How a worker reads blobs: from this repository's object store, skipping blobs over max_size."""

    repo: str
    max_size: int


@dataclass(slots=True)
class BlobOutcome:
    size: int
    matches: list[Match]

    def __reduce__(self) -> tuple[type, tuple]:
        return BlobOutcome, (self.size, self.matches)  # pickled as a call: see BlobWork


Work = FileWork | BlobWork
Reading = FileReading | GitReading

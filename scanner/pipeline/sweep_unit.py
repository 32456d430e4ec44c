"""One unit of a sweep as a worker runs it, whichever executor runs it (scanner.pipeline.executors).

A `UnitTask` names a repository (a local folder, or a mirror to bring up to date first: `FetchSpec`); the
worker reads the datastore only through a `BlobIndex` (which blobs it has scanned under these rules, the
refs hash recorded when the repository was last swept) and returns a `RepoOutcome` of typed rows. Workers
never write the datastore: the sweep's driver does, one transaction per unit (scanner.pipeline.sweep).
The local pool's workers open the datastore read-only; a Ray worker asks an actor on the driver's node.
"""
from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from scanner.errors import SprawlError
from scanner.model import confidence_rank
from scanner.pipeline.engines import get_engine
from scanner.pipeline.git import scan_git
from scanner.pipeline.options import EngineSpec, ScanOptions
from scanner.pipeline.sweep_validate import Gate, UnitAnswer, ValidationGate, validate_unit
from scanner.pipeline.workers import die_with_parent, reset_worker_state
from scanner.sources.filesystem import WalkOptions
from scanner.sources.git import enumerate_history, open_repo, repo_name
from scanner.sources.gitcmd import GitError
from scanner.sources.hosts import GitAuth
from scanner.sources.hosts.guarded import AddressCheck
from scanner.sources.mirrors import MirrorCache, MirrorOutcome
from scanner.sources.repos import blob_sizes, head_pairs, quick_state, refs_hash
from scanner.store.db import LocationRow, Observed, Store
from scanner.store.record import observe
from scanner.validate.api import ValidationOptions


@dataclass
class SweepOptions:
    jobs: int = 0
    rules_paths: list[Path] | None = None
    max_size: int = 64 * 1024 * 1024
    excludes: tuple[str, ...] = ()
    store_secrets: bool = False
    min_confidence: str = "medium"  # what counts as new for the exit code; everything is stored
    engine: str = "auto"
    # A repository with more new blobs than slice_blobs, or more new bytes than slice_bytes, is swept in slices
    # of at most that many (cut_slices); 0: no limit of that kind.
    slice_blobs: int = 0
    slice_bytes: int = 0
    # sweep --validate: the worker asks the provider of each new credential it found (scanner.pipeline.sweep_validate)
    validation: ValidationOptions | None = None

    def __post_init__(self) -> None:
        confidence_rank(self.min_confidence)

    @property
    def engine_spec(self) -> EngineSpec:
        return EngineSpec(tuple(self.rules_paths or ()), self.engine)


@dataclass(frozen=True)
class FetchSpec:
    """A mirror a worker brings up to date before sweeping it, in the cache of the node it runs on.
    The credential travels with the task in memory (never into the mirror's config: scanner.sources.mirrors)."""

    url: str  # without credentials
    root: str  # the mirror cache's folder, on the worker's node
    auth: GitAuth | None = field(default=None, repr=False, compare=False)
    timeout: float | None = None
    address_check: AddressCheck | None = field(default=None, repr=False, compare=False)

    def update(self) -> MirrorOutcome:
        return MirrorCache(Path(self.root), self.timeout, self.address_check).update(self.url, self.auth)


@dataclass(frozen=True)
class UnitTask:
    """One unit of work: a repository's path (for a FetchSpec: its mirror's path on the worker's node),
    its quick_state() if the driver read it, and the host's full name of a mirrored repository."""

    path: str
    state: tuple[str, str] | None = None
    name: str | None = None
    fetch: FetchSpec | None = None
    revs: tuple[str, ...] | None = None  # walk only what these reach (new tips, ^old tips); None: every ref
    slice: BlobRange | None = None  # only the new blobs in this range of ids


class BlobIndex(Protocol):
    """What a worker reads from the datastore (Store answers it; a Ray worker asks the driver's actor)."""

    def refs_hash(self, path: str) -> str | None: ...

    def known_blobs(self, oids: list[str], rules_version: str) -> set[str]: ...

    def blobs_with_locations(self, oids: list[str]) -> set[str]: ...

    def repository_blobs(self, path: str) -> set[str]: ...


@dataclass
class RepoOutcome:
    path: str  # as given
    git_dir: str = ""
    name: str = ""
    refs_hash: str = ""
    unchanged: bool = False
    error: str = ""
    observed: list[Observed] = field(default_factory=list)
    scanned_blobs: list[str] = field(default_factory=list)
    reappeared: dict[str, list[LocationRow]] = field(default_factory=dict)  # known blob -> new places
    heads: list[tuple[str, str]] = field(default_factory=list)  # (path, blob) at a branch head
    commits: int = 0
    bytes: int = 0
    seconds: float = 0.0
    mirror: MirrorOutcome | None = None  # what the worker's fetch did (FetchSpec units)
    slices: list[BlobRange] = field(default_factory=list)  # too much new: sweep it again as these (nothing scanned)
    revs: tuple[str, ...] | None = None  # what the walk covered, for the slices
    slice: BlobRange | None = None  # the slice this outcome is of
    attempts: int = 1  # > 1: the executor ran it again after losing its worker (Ray)
    answers: list[UnitAnswer] = field(default_factory=list)  # with SweepOptions.validation: what providers said


@dataclass
class SweepWorker:
    """What a sweep worker holds: a read-only view of the datastore, the fingerprint key and the options."""

    db_path: str
    key: bytes
    options: SweepOptions
    index: BlobIndex | None = None
    gate: Gate | None = None  # with SweepOptions.validation: the sweep's shared request slots and budget

    def blob_index(self) -> BlobIndex:
        if self.index is None:
            self.index = Store(self.db_path, create=False)
        return self.index


_WORKER: SweepWorker | None = None


def worker_init(db_path: str, key: bytes, options: SweepOptions, parent: int | None = None,
                gate: Gate | None = None) -> None:
    """Initializer of a local pool's worker (or of the driver itself with one job)."""
    reset_worker_state()
    if parent is not None:
        die_with_parent(parent)
    install_worker(SweepWorker(db_path, key, options, gate=gate))


def install_worker(worker: SweepWorker) -> None:
    global _WORKER
    _WORKER = worker


def run_unit(task: UnitTask) -> RepoOutcome:
    """Fetch (for a mirror) and sweep one unit; read-only on the datastore, never raises for one repository."""
    assert _WORKER is not None, "run_unit runs in a process worker_init or install_worker prepared"
    started = time.perf_counter()
    out = RepoOutcome(task.path)
    state, revs = task.state, task.revs
    try:
        if task.fetch is not None:
            rules_version = get_engine(_WORKER.options.engine_spec).ruleset.version
            before = quick_state(task.path, rules_version)
            out.mirror = task.fetch.update()
            if out.mirror.status == "failed":
                out.error = f"cannot fetch {task.fetch.url}: {out.mirror.reason}"
                return out
            state = quick_state(task.path, rules_version)
            if task.slice is None:  # a slice walks what its repository's unit walked
                revs = incremental_revs(_WORKER.blob_index(), before, out.mirror)
        out = _sweep_repo(out, _WORKER, state, task.name, revs, task.slice)
    finally:
        out.seconds = time.perf_counter() - started
    return out


def incremental_revs(index: BlobIndex, before: tuple[str, str] | None, update: MirrorOutcome) -> tuple[str, ...] | None:
    """What a fetch brought (`new_object_range`), when the mirror's refs before it are exactly those the datastore
    recorded for its last whole sweep under these rules (`before`: quick_state() read before the fetch); else
    None: the whole history is walked (a first sweep, a sweep killed after its fetch, new rules)."""
    if before is None or index.refs_hash(before[0]) != before[1]:
        return None
    return tuple(update.new_object_range())


@dataclass(frozen=True)
class BlobRange:
    """A slice of a repository's blobs by id: from `first` up to, not including, `end` ("": no bound). The
    slices of one repository cover every id once, so a slice's task finds its own blobs in the history it
    walks again, whatever other slices recorded meanwhile (tests/test_sweep.py::test_cut_slices_by_bytes)."""

    first: str = ""
    end: str = ""
    blobs: int = 0  # how many new blobs, and of how many bytes, the cut saw in it (for the log)
    bytes: int = 0

    def __contains__(self, oid: object) -> bool:
        return isinstance(oid, str) and oid >= self.first and (not self.end or oid < self.end)


def cut_slices(sizes: Mapping[str, int], max_bytes: int = 0, max_blobs: int = 0) -> list[BlobRange]:
    """The new blobs (id -> bytes) cut into ranges of ids, in id order, each of at most max_bytes (unless one blob
    is larger) and max_blobs (0: no limit); one range when they fit in one (tests/test_sweep.py)."""
    ranges: list[BlobRange] = []
    first, blobs, size = "", 0, 0
    for oid in sorted(sizes):
        if blobs and (max_bytes and size + sizes[oid] > max_bytes or max_blobs and blobs >= max_blobs):
            ranges.append(BlobRange(first, oid, blobs, size))
            first, blobs, size = oid, 0, 0
        blobs += 1
        size += sizes[oid]
    ranges.append(BlobRange(first, "", blobs, size))
    return ranges


def _sweep_repo(out: RepoOutcome, worker: SweepWorker, state: tuple[str, str] | None, name: str | None,
                revs: tuple[str, ...] | None = None, part: BlobRange | None = None) -> RepoOutcome:
    options = worker.options
    path = out.path
    try:
        rules_version = get_engine(options.engine_spec).ruleset.version
        index = worker.blob_index()
        if state:
            out.git_dir, out.refs_hash = state
        else:
            out.git_dir = os.path.realpath(open_repo(path))
            out.refs_hash = refs_hash(out.git_dir, rules_version)  # before the walk: a later push means a rescan
        out.name = name or repo_name(out.git_dir)
        if index.refs_hash(out.git_dir) == out.refs_hash:
            out.unchanged = True
            return out
        history = enumerate_history(out.git_dir, revs=list(revs) if revs is not None else None)
        out.commits = history.commits
        oids = list(history.blobs)
        known = index.known_blobs(oids, rules_version)
        out.revs, out.slice = revs, part
        if part is None and (options.slice_blobs or options.slice_bytes) and len(oids) - len(known) > 1:
            new = [o for o in oids if o not in known]
            sizes = blob_sizes(out.git_dir, new, options.max_size) if options.slice_bytes else dict.fromkeys(new, 0)
            ranges = cut_slices(sizes, options.slice_bytes, options.slice_blobs)
            if len(ranges) > 1:
                out.slices = ranges
                return out
        skip = known
        if part is not None:  # another slice scans the rest, and copies the places of the rest of the known
            skip = known | {o for o in oids if o not in part}
            known = {o for o in known if o in part}
        scan_options = ScanOptions(min_confidence="low", jobs=1, rules_paths=options.rules_paths,
                                   walk=WalkOptions(max_size=options.max_size, excludes=options.excludes),
                                   use_ignore_files=False, engine=options.engine)
        result = scan_git(out.git_dir, scan_options, skip_blobs=skip, history=history)
        out.scanned_blobs = result.stats.scanned_blobs
        out.bytes = result.stats.bytes
        blob_at = {(o.commit, o.path): oid for oid, occs in history.blobs.items() for o in occs}
        out.observed = observe(result, worker.key, options.store_secrets, repo=out.name,
                               blob_of=lambda loc: blob_at.get((loc.provenance.commit, loc.path), ""))
        if options.validation is not None:  # here, where the secrets are: only the answers leave this process
            gate = worker.gate or ValidationGate(options.validation.rps, options.validation.budget)
            out.answers = validate_unit(result, out.observed, options.validation, gate)
        for oid in sorted(index.blobs_with_locations(sorted(known))):
            out.reappeared[oid] = [LocationRow(o.path, 0, 0, "git", repo=out.name, blob=oid, commit=o.commit,
                                               author=o.author, email=o.email, date=o.date)
                                   for o in history.blobs[oid]]
        wanted = set(out.reappeared) | {r.blob for obs in out.observed for r in obs.locations if r.blob}
        if revs is not None:  # the walk saw only new commits: blobs found before may still be at a head
            wanted |= index.repository_blobs(out.git_dir)
        out.heads = head_pairs(out.git_dir, wanted)
    except GitError as exc:
        out.error = f"{path}: {exc}"
    except SprawlError as exc:
        out.error = str(exc)
    except Exception as exc:  # one repository's problem never aborts the sweep: it is named as failed
        out.error = f"{path}: {type(exc).__name__}: {exc}"
    return out

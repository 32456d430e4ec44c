"""Worker processes: each takes batches of work items, reads the files or blobs itself and scans them.

Batches are submitted as they are produced, so a lazy producer (the git history walk) overlaps the
scan. A (worker, batch) pair goes to that worker's own single-process pool, so that every version
of a file reaches the process that scanned its base (scanner.pipeline.planning.batches_by_path).

Workers die with the process that started them (`die_with_parent`), and their `git cat-file` and
`git log` children with them: those read from and write to pipes only the worker holds, so they see
end of file (or a broken pipe) once it is gone.
"""
from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext

from scanner.engine.revisions import RecentVersions, Version, scan_revision
from scanner.model import Skip
from scanner.pipeline.blobs import FileOutcome, scan_file
from scanner.pipeline.engines import get_engine
from scanner.pipeline.options import EngineSpec
from scanner.pipeline.work import BlobOutcome, BlobWork, FileReading, FileWork, GitReading, Reading, Work
from scanner.sources.git import BlobReader


def pool_context() -> BaseContext:
    """fork where the platform has it (workers inherit the compiled engine), else spawn."""
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")


class _WorkerState:
    """What one process keeps between batches: a cat-file reader per repository and, per engine, the
    file versions it scanned last (another rule set, backend or --no-context finds other matches)."""

    readers: dict[str, BlobReader] = {}
    recent: dict[EngineSpec, RecentVersions] = {}

    @classmethod
    def reset(cls) -> None:
        # A forked worker must not share the parent's cat-file pipes.
        cls.readers = {}
        cls.recent = {}

    @classmethod
    def reader(cls, repo: str) -> BlobReader:
        reader = cls.readers.get(repo)
        if reader is None:
            reader = cls.readers[repo] = BlobReader(repo)
        return reader


reset_worker_state = _WorkerState.reset

_PR_SET_PDEATHSIG = 1
_PARENT_POLL = 0.5  # seconds between the fallback's looks at the parent


def die_with_parent(parent: int) -> None:
    """End this worker when `parent` dies, even by kill -9 (a pool worker otherwise waits on its task
    queue for ever, holding the datastore and its WAL open). On Linux the kernel sends SIGKILL
    (prctl PR_SET_PDEATHSIG); everywhere, a daemon thread checks os.getppid() and exits when the
    worker has been re-parented (PDEATHSIG follows the thread that forked, not the process, hence both).
    Workers only read, so dying at any point loses nothing the parent committed
    (tests/test_store_reliability.py::test_workers_and_cat_file_die_with_a_killed_sweep)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the thread below still watches
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(_PARENT_POLL)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="sprawl-parent-watch", daemon=True).start()


def init_worker(parent: int) -> None:
    """Initializer of the scan pools' worker processes."""
    reset_worker_state()
    die_with_parent(parent)


def run(batches: Iterable, jobs: int, spec: EngineSpec,
        reading: Reading) -> Iterator[tuple[Work, FileOutcome | BlobOutcome | Skip]]:
    """(work, outcome) for every item of every batch, in worker processes if jobs > 1.
    A batch is a list of work items, or a (worker, items) pair that must reach that worker."""
    if jobs == 1:
        for batch in batches:
            yield from scan_batch(batch, spec, reading)
        return
    batches = iter(batches)
    first = next(batches, None)
    pairs = itertools.chain([first] if first is not None else [], batches)
    routed = isinstance(first, tuple)
    pools = [ProcessPoolExecutor(max_workers=1 if routed else jobs, mp_context=pool_context(),
                                 initializer=init_worker, initargs=(os.getpid(),))
             for _ in range(jobs if routed else 1)]
    try:
        # Outcomes come back without their work items (the parent keeps those): pickling 35,000 blob
        # names twice cost the parent's pool threads a tenth of a second on a long history.
        futures = [(items, pools[worker].submit(scan_batch_outcomes, items, spec, reading))
                   for worker, items in (pairs if routed else ((0, batch) for batch in pairs))]
        for items, fut in futures:
            yield from zip(items, fut.result(), strict=True)
    finally:
        for pool in pools:
            pool.shutdown(cancel_futures=True)


def scan_batch(items: list, spec: EngineSpec, reading: Reading) -> Iterator[tuple[Work, FileOutcome | BlobOutcome | Skip]]:
    engine = get_engine(spec)
    if isinstance(reading, FileReading):
        # Files are sniffed: plain text is read whole, archives opened, files over max_size streamed.
        for work in items:
            assert isinstance(work, FileWork)
            yield work, scan_file(work.path, engine, reading.limits, reading.max_size,
                                  shard=(work.shard, work.shards))
        return
    assert isinstance(reading, GitReading)
    # Git work names the path the blob is scanned as and the file's later version (its base); the
    # whole batch is requested from cat-file at once.
    recent = _WorkerState.recent.setdefault(spec, RecentVersions())
    blobs = _WorkerState.reader(reading.repo).many([w.oid for w in items], reading.max_size)
    for work in items:
        assert isinstance(work, BlobWork)
        data = next(blobs)
        if isinstance(data, Skip):
            yield work, data
            continue
        known = recent.get(work.base, work.path) if work.base else None
        version = (scan_revision(engine, data, work.path, known) if known
                   else Version(data, engine.scan(data, work.path or work.oid)))
        recent.put(work.oid, work.path, version)
        yield work, BlobOutcome(len(data), version.matches)


def scan_batch_outcomes(items: list, spec: EngineSpec, reading: Reading) -> list[FileOutcome | BlobOutcome | Skip]:
    """The outcome of each item, in order (what a worker process sends back)."""
    return [outcome for _, outcome in scan_batch(items, spec, reading)]

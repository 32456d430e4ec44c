"""Batch planning: which work goes to the workers together, and how many workers a scan is worth."""
from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator

from scanner.pipeline.work import BlobWork, FileWork
from scanner.sources.filesystem import FileTask

# Below this much data a worker pool costs more than it saves.
PARALLEL_THRESHOLD = 2 * 1024 * 1024
BATCH_BYTES = 4 * 1024 * 1024
BATCH_FILES = 128
# From this size an archive is shared by the workers: each decompresses it all (tar streams have no
# index) but scans only its share of the members, and scanning is most of the time. Plain files are
# shared when they are too large to read whole (and at least this large).
SHARE_FILES_FROM = 8 * 1024 * 1024
_COMPRESSED = (".gz", ".tgz", ".bz2", ".tbz2", ".xz", ".txz", ".zst", ".zip", ".jar")
_ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".zip", ".jar")
_INFLATION = 6  # a typical ratio for text logs



def worker_count(requested: int) -> int:
    return requested or os.cpu_count() or 1


def file_batches(tasks: list[FileTask], jobs: int, max_size: int) -> tuple[Iterable[list[FileWork]], int]:
    """Batches of files (or file shards) by bytes and count, and the worker count: one process below
    the size a pool pays for."""
    jobs = worker_count(jobs)
    # A large archive is shared by every worker, each scanning every jobs-th member, and so is a plain
    # file too large to read whole, each worker scanning a byte range of it; then largest first, so
    # that no worker is left with a big file while the others are done (a compressed file counts for
    # what it will inflate to, roughly).
    weighted: list[tuple[int, FileWork]] = []
    for t in tasks:
        name = t.path.lower()
        shareable = name.endswith(_ARCHIVES) or (t.size > max_size and not name.endswith(_COMPRESSED))
        if jobs > 1 and t.size >= SHARE_FILES_FROM and shareable:
            weighted += [(_weight(t) // jobs, FileWork(t.path, k, jobs)) for k in range(jobs)]
        else:
            weighted.append((_weight(t), FileWork(t.path)))
    if jobs == 1 or len(weighted) < 2 or sum(t.size for t in tasks) < PARALLEL_THRESHOLD:
        return [[FileWork(t.path) for t in tasks]], 1
    weighted.sort(key=lambda pair: pair[0], reverse=True)
    return _by_size(weighted), jobs


def _weight(task: FileTask) -> int:
    return task.size * _INFLATION if task.path.lower().endswith(_COMPRESSED) else task.size


def _by_size(weighted: list[tuple[int, FileWork]]) -> Iterator[list[FileWork]]:
    batch: list[FileWork] = []
    size = 0
    for weight, work in weighted:
        batch.append(work)
        size += weight
        if size >= BATCH_BYTES or len(batch) >= BATCH_FILES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def stream_batches(items: Iterator[BlobWork], jobs: int, by_path: bool = False) -> tuple[Iterable, int]:
    """Batches of BATCH_FILES blobs as the producer yields them, and the worker count: one process
    when the producer ends before a few batches' worth (a small repository), else a pool.

    by_path: each batch goes to the worker of its paths (a (worker, batch) pair), so that every
    version of a file is scanned by the process that scanned its base."""
    first = list(itertools.islice(items, 2 * BATCH_FILES))
    if len(first) < 2 * BATCH_FILES:
        return [first], 1
    rest, jobs = itertools.chain(first, items), worker_count(jobs)
    if by_path and jobs > 1:
        return batches_by_path(rest, jobs), jobs
    return iter(lambda: list(itertools.islice(rest, BATCH_FILES)), []), jobs


def batches_by_path(items: Iterator[BlobWork], jobs: int) -> Iterator[tuple[int, list[BlobWork]]]:
    # A path goes to the worker with the fewest blobs so far, and stays with it.
    owner: dict[str, int] = {}
    load = [0] * jobs
    pending: list[list[BlobWork]] = [[] for _ in range(jobs)]
    for work in items:
        worker = owner.get(work.path)
        if worker is None:
            worker = owner[work.path] = load.index(min(load))
        load[worker] += 1
        pending[worker].append(work)
        if len(pending[worker]) >= BATCH_FILES:
            yield worker, pending[worker]
            pending[worker] = []
    yield from ((worker, batch) for worker, batch in enumerate(pending) if batch)

"""`sprawl sweep`: scan many repositories into the datastore, incrementally and resumably.

Worker processes take one repository each (history walk, scan of blobs not seen under this
rules version, branch heads) and hand results back; the parent is the only writer and commits
each repository in one transaction. A repository whose refs have not moved since it was last
swept under the same rules costs one `git for-each-ref`. A sweep killed at any point leaves
whole repositories recorded or not at all, and the next run resumes the same sweep (same scan
id, so what the killed run found still counts as new) once the killed run's process is gone; a sweep
of the same repositories whose process still runs is refused, not joined. Workers die with the parent
(scanner.pipeline.workers.die_with_parent). A repository that fails (git cannot read it, or anything
unexpected while scanning it) is named in the summary with its reason and the sweep goes on; the
command then exits 3 (incomplete) unless new findings make it 1.
"""
from __future__ import annotations

import itertools
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from scanner.errors import SprawlError
from scanner.model import confidence_rank
from scanner.pipeline.engines import get_engine
from scanner.pipeline.git import scan_git
from scanner.pipeline.options import EngineSpec, ScanOptions
from scanner.pipeline.workers import die_with_parent, pool_context, reset_worker_state
from scanner.rules import load_rules
from scanner.sources.filesystem import WalkOptions
from scanner.sources.git import enumerate_history, open_repo, repo_name
from scanner.sources.gitcmd import GitError
from scanner.sources.repos import SweepError, discover, head_pairs, quick_state, refs_hash
from scanner.store.db import LocationRow, Observed, Store
from scanner.store.record import observe

__all__ = ["SweepError", "SweepOptions", "SweepSummary", "discover", "sweep"]

# Repositories handed to the pool at once: enough to keep every worker busy, few enough that
# a kill loses little in-flight work.
_IN_FLIGHT_PER_JOB = 2


@dataclass
class SweepOptions:
    jobs: int = 0
    rules_paths: list[Path] | None = None
    max_size: int = 64 * 1024 * 1024
    excludes: tuple[str, ...] = ()
    store_secrets: bool = False
    min_confidence: str = "medium"  # what counts as new for the exit code; everything is stored
    engine: str = "auto"

    def __post_init__(self) -> None:
        confidence_rank(self.min_confidence)

    @property
    def engine_spec(self) -> EngineSpec:
        return EngineSpec(tuple(self.rules_paths or ()), self.engine)


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


@dataclass
class SweepSummary:
    scan_id: int
    repositories: int = 0
    unchanged: int = 0
    failed: int = 0
    blobs: int = 0
    bytes: int = 0
    new_findings: int = 0
    resolved_findings: int = 0
    elapsed: float = 0.0
    resumed: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def incomplete(self) -> bool:
        """Some repository could not be read: the sweep's silence about it is not "clean" (exit 3)."""
        return self.failed > 0

    def lines(self) -> list[str]:
        return [f"{self.repositories} repositories ({self.unchanged} unchanged, {self.failed} failed), "
                f"{self.blobs} blobs scanned, {self.new_findings} new findings, "
                f"{self.resolved_findings} resolved at head, {self.elapsed:.1f}s"
                + (" (resumed an interrupted sweep)" if self.resumed else ""),
                *(f"failed {error}" for error in self.errors)]


# --- the worker ------------------------------------------------------------------------------

@dataclass
class _Worker:
    """What a sweep worker process holds: the datastore (read-only here), the key and the options."""

    db_path: str
    key: bytes
    options: SweepOptions
    _store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.db_path, create=False)
        return self._store


_WORKER: _Worker | None = None


def _worker_init(db_path: str, key: bytes, options: SweepOptions, parent: int | None = None) -> None:
    global _WORKER
    reset_worker_state()
    if parent is not None:
        die_with_parent(parent)
    _WORKER = _Worker(db_path, key, options)


def sweep_repo(path: str, state: tuple[str, str] | None = None) -> RepoOutcome:
    """Scan one repository's new blobs; read-only on the datastore. `state` is quick_state(), if known."""
    assert _WORKER is not None, "sweep_repo runs in a process _worker_init prepared"
    options = _WORKER.options
    out = RepoOutcome(path)
    try:
        rules_version = get_engine(options.engine_spec).ruleset.version
        store = _WORKER.store
        if state:
            out.git_dir, out.refs_hash = state
        else:
            out.git_dir = os.path.realpath(open_repo(path))
            out.refs_hash = refs_hash(out.git_dir, rules_version)  # before the walk: a later push means a rescan
        out.name = repo_name(out.git_dir)
        if store.refs_hash(out.git_dir) == out.refs_hash:
            out.unchanged = True
            return out
        history = enumerate_history(out.git_dir)
        out.commits = history.commits
        oids = list(history.blobs)
        known = store.known_blobs(oids, rules_version)
        scan_options = ScanOptions(min_confidence="low", jobs=1, rules_paths=options.rules_paths,
                                   walk=WalkOptions(max_size=options.max_size, excludes=options.excludes),
                                   use_ignore_files=False, engine=options.engine)
        result = scan_git(out.git_dir, scan_options, skip_blobs=known, history=history)
        out.scanned_blobs = result.stats.scanned_blobs
        out.bytes = result.stats.bytes
        blob_at = {(o.commit, o.path): oid for oid, occs in history.blobs.items() for o in occs}
        out.observed = observe(result, _WORKER.key, options.store_secrets, repo=out.name,
                               blob_of=lambda loc: blob_at.get((loc.provenance.commit, loc.path), ""))
        for oid in store.blobs_with_locations(sorted(known)):
            out.reappeared[oid] = [LocationRow(o.path, 0, 0, "git", repo=out.name, blob=oid, commit=o.commit,
                                               author=o.author, email=o.email, date=o.date)
                                   for o in history.blobs[oid]]
        wanted = set(out.reappeared) | {r.blob for obs in out.observed for r in obs.locations if r.blob}
        out.heads = head_pairs(out.git_dir, wanted)
    except GitError as exc:
        out.error = f"{path}: {exc}"
    except SprawlError as exc:
        out.error = str(exc)
    except Exception as exc:  # one repository's problem never aborts the sweep: it is named as failed
        out.error = f"{path}: {type(exc).__name__}: {exc}"
    return out


# --- the parent: the only writer ---------------------------------------------------------------

def _write(store: Store, scan_id: int, out: RepoOutcome, rules_version: str) -> None:
    with store.atomic():
        repo = store.repository(out.git_dir, out.name)
        rid = repo["id"]
        for obs in out.observed:
            for r in obs.locations:
                r.repository_id = rid
        touched = store.record(scan_id, out.observed)
        for oid, rows in out.reappeared.items():
            for r in rows:
                r.repository_id = rid
            touched |= store.copy_blob_locations(scan_id, oid, rows)
        store.mark_blobs(scan_id, out.scanned_blobs, rules_version)
        touched |= store.set_heads(rid, out.heads)
        store.refresh(scan_id, touched)
        store.finish_repository(rid, out.refs_hash, scan_id)


def sweep(paths: list[str], db_path: str | Path, key: bytes, options: SweepOptions, progress=None,
          log=None) -> SweepSummary:
    """Sweep every repository into the datastore; `progress(n)` advances a bar, `log(line)` reports a repository."""
    started = time.perf_counter()
    rules_version = load_rules(options.rules_paths).version
    store = Store(db_path, key)
    try:
        return _sweep(store, paths, key, options, rules_version, started, progress, log)
    finally:
        store.close()


def _sweep(store: Store, paths: list[str], key: bytes, options: SweepOptions, rules_version: str, started: float,
           progress, log) -> SweepSummary:
    db_path = store.path
    target = "\n".join(sorted(os.path.realpath(p) for p in paths))
    scan_id, resumed = store.start_sweep(target, rules_version,
                                         {"repositories": len(paths), "store_secrets": options.store_secrets})
    summary = SweepSummary(scan_id, resumed=resumed)
    jobs = options.jobs or os.cpu_count() or 1
    init = (str(db_path), key, options, os.getpid())
    todo: list[tuple[str, tuple[str, str] | None]] = []
    unchanged = []
    for p in paths:
        state = quick_state(p, rules_version)
        if state and store.refs_hash(state[0]) == state[1]:
            unchanged.append(RepoOutcome(p, state[0], repo_name(state[0]), state[1], unchanged=True))
        else:
            todo.append((p, state))
    if todo:
        get_engine(options.engine_spec)  # compiled before forking: the workers inherit it
    for out in itertools.chain(unchanged, _results(todo, jobs, init)):
        summary.repositories += 1
        if out.error:
            summary.failed += 1
            summary.errors.append(out.error)
            line = f"error {out.error}"
        elif out.unchanged:
            summary.unchanged += 1
            line = f"unchanged {out.name} ({out.path})"
        else:
            _write(store, scan_id, out, rules_version)
            summary.blobs += len(out.scanned_blobs)
            summary.bytes += out.bytes
            line = (f"swept {out.name} ({out.path}): {out.commits} commits, {len(out.scanned_blobs)} new blobs, "
                    f"{len(out.observed)} credentials in new blobs")
        if log:
            log(line)
        if progress:
            progress(1)
    summary.new_findings, summary.resolved_findings = store.sweep_counts(scan_id, options.min_confidence)
    summary.elapsed = time.perf_counter() - started
    store.finish_scan(scan_id, {
        "repositories": summary.repositories, "unchanged": summary.unchanged, "failed": summary.failed,
        "blobs": summary.blobs, "bytes": summary.bytes, "new_findings": summary.new_findings,
        "resolved_findings": summary.resolved_findings, "errors": summary.errors})
    return summary


def _results(todo: list[tuple[str, tuple[str, str] | None]], jobs: int, init: tuple):
    """Outcomes as workers finish them, with a bounded number in flight."""
    if not todo:
        return
    if jobs == 1 or len(todo) == 1:
        _worker_init(*init[:3])
        for p, state in todo:
            yield sweep_repo(p, state)
        return
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=pool_context(), initializer=_worker_init, initargs=init)
    try:
        pending = iter(todo)
        running: dict = {}
        for p, state in pending:
            running[pool.submit(sweep_repo, p, state)] = p
            if len(running) >= jobs * _IN_FLIGHT_PER_JOB:
                break
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                path = running.pop(fut)
                nxt = next(pending, None)
                if nxt is not None:
                    try:
                        running[pool.submit(sweep_repo, *nxt)] = nxt[0]
                    except BrokenProcessPool:
                        yield RepoOutcome(nxt[0], error=f"{nxt[0]}: not scanned: a worker process died")
                try:
                    yield fut.result()
                except BrokenProcessPool:
                    yield RepoOutcome(path, error=f"{path}: a worker process died while scanning it")
        for p, _state in pending:  # left when the pool broke
            yield RepoOutcome(p, error=f"{p}: not scanned: a worker process died")
    finally:
        # Stopped early (the datastore failed): repositories not started are dropped, not scanned.
        pool.shutdown(wait=True, cancel_futures=True)

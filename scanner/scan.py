"""Run a scan: sources -> engine (in worker processes) -> findings.

The library API behind `sprawl scan`; the CLI is a thin layer over it.
"""
from __future__ import annotations

import itertools
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Container, Iterable, Iterator

from scanner.engine import Engine
from scanner.engine.revisions import RecentVersions, Version, scan_revision
from scanner.findings import FindingCollector
from scanner.ignore import IgnoreList, find_ignore_files
from scanner.model import CONFIDENCE_RANK, Finding, Match
from scanner.rules import RuleSet, load_rules
from scanner.sources.filesystem import FileTask, Skip, WalkOptions, iter_files, too_large

if TYPE_CHECKING:
    from typing import Callable

    from scanner.baseline import Baseline
    from scanner.sources.archive import Limits

# Below this much data a worker pool costs more than it saves.
PARALLEL_THRESHOLD = 2 * 1024 * 1024
BATCH_BYTES = 4 * 1024 * 1024
BATCH_FILES = 128


@dataclass
class ScanOptions:
    min_confidence: str = "medium"
    jobs: int = 0  # 0: every core
    walk: WalkOptions = field(default_factory=WalkOptions)
    show_secrets: bool = False
    rules_paths: list[Path] | None = None
    use_ignore_files: bool = True
    baseline: "Baseline | None" = None
    archive_limits: "Limits | None" = None  # archive-bomb limits; None: the defaults
    progress: "Callable[[int, int], None] | None" = None  # (bytes done, bytes total), after each file
    engine: str | None = None  # matcher backend: auto, portable or hyperscan; None: $SPRAWL_ENGINE or auto
    whole_blobs: bool = False  # git: scan every blob whole, not each version where it differs from another


@dataclass
class ScanStats:
    unit: str = "file"  # what `files` counts: files, or git blobs
    files: int = 0
    bytes: int = 0
    skipped: list[Skip] = field(default_factory=list)
    allowed_inline: int = 0
    ignored: int = 0  # by .sprawlignore fingerprints
    baselined: int = 0
    below_confidence: int = 0
    elapsed: float = 0.0
    commits: int = 0
    warnings: list[str] = field(default_factory=list)
    archives: int = 0  # files opened as archives (their members count in `files`)
    streamed: int = 0  # files or members too large to read whole, scanned in chunks
    scanned_blobs: list[str] = field(default_factory=list)  # git: blob ids scanned (or found binary) this run


@dataclass
class ScanResult:
    findings: list[Finding]
    stats: ScanStats
    ruleset: RuleSet
    # Portable fingerprint -> secret, in memory only, for keying the datastore; reporters never read it.
    secrets: dict[str, str] = field(default_factory=dict, repr=False)


_ENGINES: dict[tuple, Engine] = {}


def get_engine(rules_paths: list[Path] | None = None, backend: str | None = None) -> Engine:
    """One engine per rule selection and matcher backend per process: rules load and compile once."""
    from scanner.engine.matcher import make_matcher

    if backend:
        # Worker processes (forked or spawned) ask for the engine without options: they follow the environment.
        os.environ["SPRAWL_ENGINE"] = backend
    backend = os.environ.get("SPRAWL_ENGINE") or "auto"
    context = os.environ.get("SPRAWL_CONTEXT") != "off"
    key = (tuple(str(p) for p in rules_paths or ()), backend, context)
    engine = _ENGINES.get(key)
    if engine is None:
        ruleset = load_rules(rules_paths)
        engine = _ENGINES[key] = Engine(ruleset, make_matcher(list(ruleset), backend, context), context=context)
    return engine


class _Gate:
    """Applies inline allow markers and the confidence floor, counting what each one hides."""

    def __init__(self, stats: ScanStats, min_confidence: str):
        self.stats = stats
        self.floor = CONFIDENCE_RANK[min_confidence]

    def __call__(self, matches: list[Match]) -> list[Match]:
        kept = []
        for m in matches:
            if m.allowed_by:
                self.stats.allowed_inline += 1
            elif CONFIDENCE_RANK[m.confidence] < self.floor:
                self.stats.below_confidence += 1
            else:
                kept.append(m)
        return kept


def scan_paths(paths: list[str], options: ScanOptions | None = None) -> ScanResult:
    options = options or ScanOptions()
    started = time.perf_counter()
    engine = get_engine(options.rules_paths, options.engine)
    stats = ScanStats()
    ignore = find_ignore_files([Path(p) for p in paths]) if options.use_ignore_files else IgnoreList()
    walk = options.walk
    if ignore.globs:
        walk = WalkOptions(walk.max_size, walk.excludes + tuple(ignore.globs), walk.respect_gitignore)
    tasks: list[FileTask] = []
    for item in iter_files(paths, walk):
        if isinstance(item, Skip):
            stats.skipped.append(item)
        else:
            tasks.append(item)

    collector = FindingCollector(engine.ruleset, options.show_secrets)
    gate = _Gate(stats, options.min_confidence)
    batches, jobs = _file_batches(tasks, options.jobs, walk.max_size)
    sizes = {t.path: t.size for t in tasks} if options.progress else {}
    done, total = 0, sum(sizes.values())
    reader = ("fs", walk.max_size, options.archive_limits)
    shards: dict[str, list] = {}
    for key, outcome in _run(batches, jobs, options.rules_paths, reader):
        path, _, shard = key.partition("\0")
        if shard:
            # One archive scanned by several workers: its outcome is whole when every shard is in.
            parts = shards.setdefault(path, [])
            parts.append(outcome)
            if len(parts) < int(shard.partition("/")[2]):
                continue
            from scanner.sources.archive import merge_shards

            outcome = merge_shards(shards.pop(path))
        if options.progress:
            done += sizes.get(path, 0)
            options.progress(done, total)
        if isinstance(outcome, Skip):
            stats.skipped.append(outcome)
            continue
        _add_file(outcome, stats, collector, gate)
    findings = _suppress(collector, ignore, options.baseline, stats)
    stats.elapsed = time.perf_counter() - started
    return ScanResult(findings, stats, engine.ruleset, _secrets(collector))


def scan_bytes(data: bytes, path: str, options: ScanOptions | None = None, source: str = "stdin") -> ScanResult:
    """Scan one in-memory blob (stdin, a prompt, a request body)."""
    options = options or ScanOptions()
    started = time.perf_counter()
    engine = get_engine(options.rules_paths, options.engine)
    stats = ScanStats(files=1, bytes=len(data))
    collector = FindingCollector(engine.ruleset, options.show_secrets)
    collector.add(_Gate(stats, options.min_confidence)(engine.scan(data, path)), path, source)
    findings = _suppress(collector, IgnoreList(), options.baseline, stats)
    stats.elapsed = time.perf_counter() - started
    return ScanResult(findings, stats, engine.ruleset, _secrets(collector))


def scan_git(repo: str, options: ScanOptions | None = None, branch: str | None = None,
             since_commit: str | None = None, skip_blobs: Container[str] = (), history=None,
             walk=None) -> ScanResult:
    """Scan every unique blob reachable from every ref (or one branch), attributing each finding
    to the commit that introduced it and to every other commit and path holding the same blob.

    Blobs are handed to the workers as the `git log` walk reaches them, newest first, so scanning
    overlaps the walk. A sweep passes the blob ids it has already scanned (`skip_blobs`) and the
    history it has already enumerated; `stats.scanned_blobs` tells it which blobs this run scanned.
    `walk`: what scanner.sources.git.walk_history returned for this repository, branch and commit,
    for a caller that starts git before it imports the engine (the CLI)."""
    from scanner.sources.git import walk_history

    options = options or ScanOptions()
    started = time.perf_counter()
    # A history already walked is read newest first too, as its walk did (see scanner.sources.git).
    new_blobs = reversed(history.blobs) if history is not None else None
    if history is None:
        # git starts walking the history now (if the caller has not), while the rules and matcher
        # databases load.
        history, new_blobs = walk or walk_history(repo, branch, since_commit)
    engine = get_engine(options.rules_paths, options.engine)
    ignore = find_ignore_files([Path(repo)]) if options.use_ignore_files else IgnoreList()

    def excluded(path: str) -> bool:
        return ignore.ignores_path(path) or _excluded(path, options)

    def key(oid: str, path: str) -> str:
        # The engine sees the path: path-specific rules, test-file confidence and language context
        # depend on it. A later version of the file, if any, lets the worker scan only what changed.
        successor = "" if options.whole_blobs else history.successors.get(oid, "")
        return f"{oid}\0{path}\0{successor}"

    # oid -> the path its outcome is taken from (None: waiting for the end of the walk)
    scanned_as: dict[str, str | None] = {}

    def keys() -> Iterator[str]:
        # Each blob is scanned as the newest path the walk has reached it at. When the walk ends, a blob
        # it introduced at another path (a renamed or copied file) is scanned again as that path, if
        # the engine would judge it otherwise there (another language, a test folder); and a blob first
        # reached at an excluded path waits until every path it appears at is known.
        for oid in new_blobs:
            if oid in skip_blobs:
                continue
            path = history.blobs[oid][0].path
            if excluded(path):
                scanned_as[oid] = None
            else:
                scanned_as[oid] = path
                yield key(oid, path)
        for oid, path in list(scanned_as.items()):
            occurrences = history.blobs[oid]
            introducing = occurrences[0].path
            if path is None:
                if all(excluded(o.path) for o in occurrences):
                    del scanned_as[oid]
                    continue
            elif path == introducing or engine.path_profile(path) == engine.path_profile(introducing):
                continue
            scanned_as[oid] = introducing
            yield key(oid, introducing)

    stats = ScanStats(unit="blob")
    collector = FindingCollector(engine.ruleset, options.show_secrets)
    gate = _Gate(stats, options.min_confidence)
    reader = ("git", history.repo, options.walk.max_size)
    batches, jobs = _stream_batches(keys(), options.jobs, by_path=not options.whole_blobs)
    outcomes = {}  # (oid, path scanned as) -> outcome
    for scanned, outcome in _run(batches, jobs, options.rules_paths, reader):
        oid, path, _ = scanned.split("\0", 2)
        outcomes[oid, path] = outcome
    # Collected in the order the commits were made.
    for oid, occurrences in history.blobs.items():
        if oid not in scanned_as:
            continue  # skipped: known to a sweep, or at excluded paths only
        outcome = outcomes[oid, scanned_as[oid]]
        if isinstance(outcome, Skip):
            stats.skipped.append(Skip(_where(occurrences), outcome.reason))
            if outcome.reason == "binary":
                stats.scanned_blobs.append(oid)
            continue
        stats.scanned_blobs.append(oid)
        size, matches = outcome
        if not size:
            continue  # an empty file: nothing to scan or count
        stats.files += 1
        stats.bytes += size
        kept = gate(matches)
        for occ in occurrences:
            collector.add(kept, occ.path, "git", occ.provenance())
    stats.commits, stats.warnings = history.commits, list(history.warnings)
    findings = _suppress(collector, ignore, options.baseline, stats)
    stats.elapsed = time.perf_counter() - started
    return ScanResult(findings, stats, engine.ruleset, _secrets(collector))


def scan_staged(files: list[str] | None = None, options: ScanOptions | None = None, cwd: str = ".") -> ScanResult:
    """The pre-commit scan: staged contents of added and modified files, findings on added lines only.

    With file names (as the pre-commit framework passes them), exactly those files are scanned:
    their added lines if they are staged, every line if they are not.
    """
    from scanner.sources.staged import StagedSourceError, collect

    options = options or ScanOptions()
    started = time.perf_counter()
    root, staged = collect(files, cwd)
    engine = get_engine(options.rules_paths, options.engine)
    stats = ScanStats()
    ignore = find_ignore_files([Path(root)]) if options.use_ignore_files else IgnoreList()
    collector = FindingCollector(engine.ruleset, options.show_secrets)
    gate = _Gate(stats, options.min_confidence)
    for sf in staged:
        if ignore.ignores_path(sf.path) or _excluded(sf.path, options):
            continue
        if isinstance(sf.data, Skip):
            stats.skipped.append(Skip(sf.path, sf.data.reason))
            continue
        if len(sf.data) > options.walk.max_size:
            stats.skipped.append(Skip(sf.path, too_large(len(sf.data), options.walk.max_size)))
            continue
        stats.files += 1
        stats.bytes += len(sf.data)
        matches = engine.scan(sf.data, sf.path)
        if sf.added_lines is not None:
            matches = [m for m in matches if _touches(m, sf.added_lines)]
        collector.add(gate(matches), sf.path, "staged")
    unreadable = [s for s in stats.skipped if s.reason != "binary"]
    if staged and stats.files == 0 and unreadable:
        raise StagedSourceError(
            f"{len(staged)} file(s) staged but none could be scanned ({unreadable[0].path}: {unreadable[0].reason})")
    findings = _suppress(collector, ignore, options.baseline, stats)
    stats.elapsed = time.perf_counter() - started
    return ScanResult(findings, stats, engine.ruleset, _secrets(collector))


def _add_file(outcome, stats: ScanStats, collector: FindingCollector, gate: _Gate) -> None:
    """One file's outcome (scanner.sources.archive.FileOutcome): a plain file, or an archive's members."""
    stats.files += outcome.files
    stats.bytes += outcome.size
    stats.archives += outcome.archive
    stats.streamed += outcome.streamed
    stats.skipped.extend(outcome.skips)
    source = "archive" if outcome.archive else "file"
    for hit in outcome.hits:
        collector.add(gate([hit.match]), hit.path, source, hit.provenance)


def _where(occurrences) -> str:
    """A blob named as a reader finds it: the path and commit that introduced it."""
    return f"{occurrences[0].path}@{occurrences[0].commit[:12]}"


def _touches(match: Match, lines: set[int]) -> bool:
    """A secret spanning several lines (a private key) counts if any of its lines is new."""
    return any(n in lines for n in range(match.line, match.line + match.secret.count("\n") + 1))


def _excluded(path: str, options: ScanOptions) -> bool:
    from scanner.ignore import path_matches

    return any(path_matches(path, g) for g in options.walk.excludes)


def _secrets(collector: FindingCollector) -> dict[str, str]:
    return {f.fingerprint: secret for secret, f in collector.items()}


def _suppress(collector: FindingCollector, ignore: IgnoreList, baseline: "Baseline | None",
              stats: ScanStats) -> list[Finding]:
    """Drop findings that .sprawlignore or the baseline hold; an expired baseline entry hides nothing."""
    matcher = baseline.matcher() if baseline else None
    kept = []
    for secret, finding in collector.items():
        if finding.fingerprint in ignore.fingerprints:
            stats.ignored += 1
        elif matcher and matcher.hides(finding, secret):
            stats.baselined += 1
        else:
            if matcher and (entry := matcher.expired_entry(finding)):
                stats.warnings.append(f"baseline entry for {finding.fingerprint} expired on {entry.expires}")
            kept.append(finding)
    return kept


_BLOB_READERS: dict[str, object] = {}


def _blob_reader(repo: str):
    """This process's git cat-file reader for a repository, started on first use."""
    reader = _BLOB_READERS.get(repo)
    if reader is None:
        from scanner.sources.git import BlobReader

        reader = _BLOB_READERS[repo] = BlobReader(repo)
    return reader


def _forget_readers() -> None:
    # A forked worker must not share the parent's cat-file pipes.
    _BLOB_READERS.clear()


# This process's last scanned git blobs, for scanning each file's other versions where they differ:
# one cache per engine (another rule set, backend or --no-context finds other matches in the same blob).
_RECENT: dict[int, RecentVersions] = {}


def _run(batches: Iterable, jobs: int, rules_paths, reader_spec: tuple):
    """Yield (key, Skip | (size, matches)) for every key of every batch, in worker processes if jobs > 1.
    A batch is a list of keys, or a (worker, keys) pair that must reach that worker (see _stream_batches).

    Workers get batches of keys (paths or blob ids), never contents, and read for themselves; batches
    are submitted as they are produced, so a lazy producer (the git history walk) overlaps the scan.
    """
    if jobs == 1:
        for batch in batches:
            yield from _scan_batch(batch, rules_paths, reader_spec)
        return
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    batches = iter(batches)
    first = next(batches, None)
    pairs = itertools.chain([first] if first is not None else [], batches)
    # (worker, keys) pairs need one single-process pool per worker, so that a batch reaches its worker;
    # plain batches share one pool.
    routed = isinstance(first, tuple)
    pools = [ProcessPoolExecutor(max_workers=1 if routed else jobs, mp_context=ctx, initializer=_forget_readers)
             for _ in range(jobs if routed else 1)]
    try:
        futures = [pools[worker].submit(_scan_batch_list, keys, rules_paths, reader_spec)
                   for worker, keys in (pairs if routed else ((0, batch) for batch in pairs))]
        for fut in futures:
            yield from fut.result()
    finally:
        for pool in pools:
            pool.shutdown(cancel_futures=True)


def _jobs(requested: int) -> int:
    return requested or os.cpu_count() or 1


def _file_batches(tasks: list[FileTask], jobs: int, max_size: int) -> tuple[Iterable[list[str]], int]:
    """Batches of keys (paths, or path and shard) by bytes and count, and the worker count: one process
    below the size a pool pays for."""
    jobs = _jobs(jobs)
    # A large archive is shared by every worker, each scanning every jobs-th member, and so is a plain
    # file too large to read whole, each worker scanning a byte range of it; then largest first, so
    # that no worker is left with a big file while the others are done (a compressed file counts for
    # what it will inflate to, roughly).
    work = []
    for t in tasks:
        name = t.path.lower()
        shareable = name.endswith(_ARCHIVES) or (t.size > max_size and not name.endswith(_COMPRESSED))
        if jobs > 1 and t.size >= SHARE_FILES_FROM and shareable:
            work += [FileTask(f"{t.path}\0{k}/{jobs}", _work(t) // jobs) for k in range(jobs)]
        else:
            work.append(FileTask(t.path, _work(t)))
    if jobs == 1 or len(work) < 2 or sum(t.size for t in tasks) < PARALLEL_THRESHOLD:
        return [[t.path for t in tasks]], 1
    return _batches(sorted(work, key=lambda t: t.size, reverse=True)), jobs


_COMPRESSED = (".gz", ".tgz", ".bz2", ".tbz2", ".xz", ".txz", ".zst", ".zip", ".jar")
_ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".zip", ".jar")
_INFLATION = 6  # a typical ratio for text logs
# From this size an archive is shared by the workers: each decompresses it all (tar streams have no
# index) but scans only its share of the members, and scanning is most of the time. Plain files are
# shared when they are too large to read whole (and at least this large).
SHARE_FILES_FROM = 8 * 1024 * 1024


def _work(task: FileTask) -> int:
    return task.size * _INFLATION if task.path.lower().endswith(_COMPRESSED) else task.size


def _batches(tasks: list[FileTask]) -> Iterator[list[str]]:
    batch: list[str] = []
    size = 0
    for t in tasks:
        batch.append(t.path)
        size += t.size
        if size >= BATCH_BYTES or len(batch) >= BATCH_FILES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _stream_batches(keys: Iterator[str], jobs: int, by_path: bool = False) -> tuple[Iterable, int]:
    """Batches of BATCH_FILES keys as the producer yields them, and the worker count: one process
    when the producer ends before a few batches' worth (a small repository), else a pool.

    by_path: keys are git keys, each batch goes to the worker of its paths (a (worker, batch) pair),
    so that every version of a file is scanned by the process that scanned its base."""
    first = list(itertools.islice(keys, 2 * BATCH_FILES))
    if len(first) < 2 * BATCH_FILES:
        return [first], 1
    rest, jobs = itertools.chain(first, keys), _jobs(jobs)
    if by_path and jobs > 1:
        return _batches_by_path(rest, jobs), jobs
    return iter(lambda: list(itertools.islice(rest, BATCH_FILES)), []), jobs


def _batches_by_path(keys: Iterator[str], jobs: int) -> Iterator[tuple[int, list[str]]]:
    # A path goes to the worker with the fewest blobs so far, and stays with it.
    owner: dict[str, int] = {}
    load = [0] * jobs
    pending: list[list[str]] = [[] for _ in range(jobs)]
    for key in keys:
        path = key.split("\0", 2)[1]
        worker = owner.get(path)
        if worker is None:
            worker = owner[path] = load.index(min(load))
        load[worker] += 1
        pending[worker].append(key)
        if len(pending[worker]) >= BATCH_FILES:
            yield worker, pending[worker]
            pending[worker] = []
    yield from ((worker, batch) for worker, batch in enumerate(pending) if batch)


def _scan_batch(keys: list[str], rules_paths, reader_spec: tuple):
    engine = get_engine(rules_paths)
    if reader_spec[0] == "fs":
        # Files are sniffed: plain text is read whole, archives opened, files over max_size streamed.
        from scanner.sources.archive import Limits, scan_file

        for key in keys:
            path, _, shard = key.partition("\0")
            k, _, n = shard.partition("/")
            yield key, scan_file(path, engine.scan, reader_spec[2] or Limits(), reader_spec[1],
                                 shard=(int(k), int(n)) if shard else (0, 1))
        return
    # git keys carry the path the blob is scanned as and the file's later version (its base); the whole
    # batch is requested from cat-file at once
    recent = _RECENT.setdefault(id(engine), RecentVersions())
    parts = [key.split("\0") for key in keys]
    blobs = _blob_reader(reader_spec[1]).many([blob_id for blob_id, _, _ in parts], reader_spec[2])
    for key, (blob_id, path, base) in zip(keys, parts):
        data = next(blobs)
        if isinstance(data, Skip):
            yield key, data
            continue
        known = recent.get(base, path) if base else None
        version = scan_revision(engine, data, path, known) if known else Version(data, engine.scan(data, path or blob_id))
        recent.put(blob_id, path, version)
        yield key, (len(data), version.matches)


def _scan_batch_list(keys: list[str], rules_paths, reader_spec: tuple):
    return list(_scan_batch(keys, rules_paths, reader_spec))

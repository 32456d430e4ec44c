"""Scanning a git history: every blob reachable from every ref (or one branch) scanned once, each finding
attributed to the commit that introduced it and to every other commit and path holding the same blob."""
from __future__ import annotations

from collections.abc import Container, Iterator
from dataclasses import replace
from pathlib import Path

from scanner.model import ScanResult, Skip
from scanner.pipeline import workers
from scanner.pipeline.options import ScanOptions
from scanner.pipeline.planning import stream_batches
from scanner.pipeline.run import ScanRun
from scanner.pipeline.work import BlobOutcome, BlobWork, GitReading
from scanner.sources.git import History, Occurrence, repo_name, walk_history


def scan_git(repo: str, options: ScanOptions | None = None, branch: str | None = None,
             since_commit: str | None = None, skip_blobs: Container[str] = (), history: History | None = None,
             walk: tuple[History, Iterator[str]] | None = None) -> ScanResult:
    """Scan a repository's history.

    Blobs are handed to the workers as the `git log` walk reaches them, newest first, so scanning
    overlaps the walk. A sweep passes the blob ids it has already scanned (`skip_blobs`) and the
    history it has already enumerated; `stats.scanned_blobs` tells it which blobs this run scanned.
    `walk`: what scanner.sources.git.walk_history returned for this repository, branch and commit,
    for a caller that starts git before it imports the engine (the CLI)."""
    options = options or ScanOptions()
    # A history already walked is read newest first too, as its walk did (see scanner.sources.git).
    if history is not None:
        new_blobs: Iterator[str] = reversed(history.blobs)
    else:
        # git starts walking the history now (if the caller has not), while the rules and matcher load.
        history, new_blobs = walk or walk_history(repo, branch, since_commit)
    run = ScanRun(options, unit="blob", roots=[Path(repo)])
    engine = run.engine

    def work(oid: str, path: str) -> BlobWork:
        # The engine sees the path: path-specific rules, test-file confidence and language context
        # depend on it. A later version of the file, if any, lets the worker scan only what changed.
        return BlobWork(oid, path, "" if options.whole_blobs else history.successors.get(oid, ""))

    # oid -> the path its outcome is taken from (None: waiting for the end of the walk)
    scanned_as: dict[str, str | None] = {}

    def items() -> Iterator[BlobWork]:
        # Each blob is scanned as the newest path the walk has reached it at. When the walk ends, a blob
        # it introduced at another path (a renamed or copied file) is scanned again as that path, if
        # the engine would judge it otherwise there (another language, a test folder); and a blob first
        # reached at an excluded path waits until every path it appears at is known.
        for oid in new_blobs:
            if oid in skip_blobs:
                continue
            path = history.blobs[oid][0].path
            if run.excluded(path):
                scanned_as[oid] = None
            else:
                scanned_as[oid] = path
                yield work(oid, path)
        for oid, scanned_path in list(scanned_as.items()):
            occurrences = history.blobs[oid]
            introducing = occurrences[0].path
            if scanned_path is None:
                if all(run.excluded(o.path) for o in occurrences):
                    del scanned_as[oid]
                    continue
            elif scanned_path == introducing or engine.path_profile(scanned_path) == engine.path_profile(introducing):
                continue
            scanned_as[oid] = introducing
            yield work(oid, introducing)

    name = repo_name(history.repo)  # every location names its repository, as a sweep records it
    reading = GitReading(history.repo, options.walk.max_size)
    batches, jobs = stream_batches(items(), options.jobs, by_path=not options.whole_blobs)
    outcomes: dict[tuple[str, str], BlobOutcome | Skip] = {}
    for done, outcome in workers.run(batches, jobs, options.engine_spec, reading):
        assert isinstance(done, BlobWork) and isinstance(outcome, (BlobOutcome, Skip))
        outcomes[done.oid, done.path] = outcome
    stats = run.stats
    # Collected in the order the commits were made.
    for oid, occurrences in history.blobs.items():
        if oid not in scanned_as:
            continue  # skipped: known to a sweep, or at excluded paths only
        result = outcomes[oid, scanned_as[oid] or ""]
        if isinstance(result, Skip):
            stats.skipped.append(Skip(_where(occurrences), result.reason, result.incomplete))
            if result.reason == "binary":
                stats.scanned_blobs.append(oid)
            continue
        stats.scanned_blobs.append(oid)
        if not result.size:
            continue  # an empty file: nothing to scan or count
        stats.files += 1
        stats.bytes += result.size
        kept = run.gate(result.matches)
        if not kept:
            continue  # most blobs: no provenance to build for each of their occurrences
        for occ in occurrences:
            run.collect(kept, occ.path, "git", replace(occ.provenance(), repo=name))
    stats.commits, stats.warnings = history.commits, list(history.warnings)
    return run.finish(repo=name)


def _where(occurrences: list[Occurrence]) -> str:
    """A blob named as a reader finds it: the path and commit that introduced it."""
    return f"{occurrences[0].path}@{occurrences[0].commit[:12]}"

"""Scanning files and folders: enumerate in the parent (stat only), read and scan in the workers."""
from __future__ import annotations

from pathlib import Path

from scanner.model import ScanResult, Skip
from scanner.pipeline import workers
from scanner.pipeline.blobs import FileOutcome, merge_shards
from scanner.pipeline.options import ScanOptions
from scanner.pipeline.planning import file_batches
from scanner.pipeline.run import ScanRun
from scanner.pipeline.work import BlobOutcome, FileReading, FileWork
from scanner.sources.archive import Limits
from scanner.sources.filesystem import FileTask, WalkOptions, iter_files
from scanner.sources.git import enclosing_repo


def scan_paths(paths: list[str], options: ScanOptions | None = None) -> ScanResult:
    """Scan files and folders: text read whole, archives opened member by member, large files streamed."""
    options = options or ScanOptions()
    run = ScanRun(options, roots=[Path(p) for p in paths])
    walk = options.walk
    scan_binaries = bool(options.archive_limits and options.archive_limits.scan_binaries)
    if run.ignore.globs or scan_binaries:
        walk = WalkOptions(walk.max_size, walk.excludes + tuple(run.ignore.globs), walk.respect_gitignore,
                           skip_compiled=walk.skip_compiled and not scan_binaries)
    tasks: list[FileTask] = []
    for item in iter_files(paths, walk):
        if isinstance(item, Skip):
            run.stats.skipped.append(item)
        else:
            tasks.append(item)

    batches, jobs = file_batches(tasks, options.jobs, walk.max_size)
    sizes = {t.path: t.size for t in tasks} if options.progress else {}
    done, total = 0, sum(sizes.values())
    reading = FileReading(walk.max_size, options.archive_limits or Limits())
    shards: dict[str, list[FileOutcome | Skip]] = {}
    for work, outcome in workers.run(batches, jobs, options.engine_spec, reading):
        assert isinstance(work, FileWork) and not isinstance(outcome, BlobOutcome)
        if work.shards > 1:
            # One file scanned by several workers: its outcome is whole when every shard is in.
            parts = shards.setdefault(work.path, [])
            parts.append(outcome)
            if len(parts) < work.shards:
                continue
            outcome = merge_shards(shards.pop(work.path))
        if options.progress:
            done += sizes.get(work.path, 0)
            options.progress(done, total)
        if isinstance(outcome, Skip):
            run.stats.skipped.append(outcome)
        else:
            _add_file(run, outcome)
    return run.finish(repo=enclosing_repo([p for p in paths if p != "-"]))


def _add_file(run: ScanRun, outcome: FileOutcome) -> None:
    """One file's outcome: a plain file, or an archive's members."""
    stats = run.stats
    stats.files += outcome.files
    stats.bytes += outcome.size
    stats.archives += outcome.archive
    stats.streamed += outcome.streamed
    stats.skipped.extend(outcome.skips)
    stats.warnings.extend(outcome.warnings)
    source = "archive" if outcome.archive else "file"
    for hit in outcome.hits:
        run.add([hit.match], hit.path, source, hit.provenance)

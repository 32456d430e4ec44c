"""The pre-commit scan: staged contents of added and modified files, findings on added lines only."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from scanner.findings.baseline import BASELINE_FILE, Baseline
from scanner.model import Match, ScanResult, Skip
from scanner.pipeline.options import ScanOptions
from scanner.pipeline.run import ScanRun
from scanner.sources.filesystem import too_large
from scanner.sources.staged import StagedSourceError, collect


def scan_staged(files: list[str] | None = None, options: ScanOptions | None = None, cwd: str = ".") -> ScanResult:
    """With file names (as the pre-commit framework passes them), exactly those files are scanned:
    their added lines if they are staged, every line if they are not."""
    options = options or ScanOptions()
    root, staged = collect(files, cwd)
    default_baseline = Path(root) / BASELINE_FILE
    if options.baseline is None and options.use_ignore_files and default_baseline.is_file():
        # The hook honours the repository's reviewed baseline as it honours its .sprawlignore, with no flag
        # (tests/test_staged.py::test_the_hook_reads_the_repository_baseline).
        options = replace(options, baseline=Baseline.load(default_baseline))
    run = ScanRun(options, roots=[Path(root)])
    stats = run.stats
    for sf in staged:
        if run.excluded(sf.path):
            continue
        if isinstance(sf.data, Skip):
            stats.skipped.append(Skip(sf.path, sf.data.reason, sf.data.incomplete))
            continue
        if len(sf.data) > options.walk.max_size:
            stats.skipped.append(Skip(sf.path, too_large(len(sf.data), options.walk.max_size)))
            continue
        stats.files += 1
        stats.bytes += len(sf.data)
        matches = run.engine.scan(sf.data, sf.path)
        if sf.added_lines is not None:
            added = sf.added_lines
            matches = [m for m in matches if _touches(m, added)]
        run.add(matches, sf.path, "staged")
    unreadable = [s for s in stats.skipped if s.reason != "binary"]
    if staged and stats.files == 0 and unreadable:
        raise StagedSourceError(
            f"{len(staged)} file(s) staged but none could be scanned ({unreadable[0].path}: {unreadable[0].reason})")
    return run.finish(repo=Path(root).name)


def _touches(match: Match, lines: set[int]) -> bool:
    """A secret spanning several lines (a private key) counts if any of its lines is new."""
    return any(n in lines for n in range(match.line, match.line + match.secret.count("\n") + 1))

"""Scanning a unified diff: the added lines of each file, each finding at the new file's path and line
(scanner.sources.diff parses; tests/test_diff.py)."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from scanner.model import ScanResult, Skip
from scanner.pipeline.options import ScanOptions
from scanner.pipeline.run import ScanRun
from scanner.sources.diff import parse_diff
from scanner.sources.filesystem import too_large
from scanner.sources.git import enclosing_repo


def scan_diff(lines: Iterable[bytes], options: ScanOptions | None = None, root: str = ".") -> ScanResult:
    """Every file's added lines, scanned as one blob per file; .sprawlignore and --exclude apply to the new
    paths, and a secret counts only if it starts on an added line."""
    options = options or ScanOptions()
    run = ScanRun(options, roots=[Path(root)])
    for diff in parse_diff(lines):
        if not diff.path or not diff.hunks or run.excluded(diff.path):
            if diff.binary and diff.path:
                run.stats.skipped.append(Skip(diff.path, "binary"))
            continue
        blob = diff.blob()
        if len(blob.data) > options.walk.max_size:
            run.stats.skipped.append(Skip(diff.path, too_large(len(blob.data), options.walk.max_size)))
            continue
        added = diff.added_lines
        run.stats.files += 1
        run.stats.bytes += sum(len(text) + 1 for h in diff.hunks for _n, text in h.added)
        matches = [m for m in run.engine.scan(blob.data, blob.path) if m.line in added]
        run.add(matches, blob.path, blob.source)
    return run.finish(repo=enclosing_repo([root]))

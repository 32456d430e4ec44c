"""ScanRun: one scan in the parent process, shared by every source's driver.

It holds the engine, the statistics, the findings collected so far and what suppresses them
(inline markers, the confidence floor, .sprawlignore, a baseline), and turns them into a ScanResult.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from scanner.findings.collect import FindingCollector
from scanner.findings.ignore import IgnoreList, find_ignore_files
from scanner.model import Finding, Match, Provenance, ScanResult, ScanStats, confidence_rank
from scanner.pipeline.engines import get_engine
from scanner.pipeline.options import ScanOptions
from scanner.sources.globs import path_matches


class ScanRun:
    def __init__(self, options: ScanOptions, *, unit: str = "file", roots: Iterable[Path] = ()):
        self.options = options
        self.started = time.perf_counter()
        self.engine = get_engine(options.engine_spec)
        self.stats = ScanStats(unit=unit)
        roots = list(roots)
        self.ignore = find_ignore_files(roots) if options.use_ignore_files and roots else IgnoreList()
        self.collector = FindingCollector(self.engine.ruleset, options.show_secrets)
        self._floor = confidence_rank(options.min_confidence)

    def excluded(self, path: str) -> bool:
        """A path .sprawlignore or --exclude leaves out."""
        return self.ignore.ignores_path(path) or any(path_matches(path, g) for g in self.options.walk.excludes)

    def gate(self, matches: list[Match]) -> list[Match]:
        """Drop what an inline marker allows or what is below the confidence floor, counting each."""
        kept = []
        for m in matches:
            if m.allowed_by:
                self.stats.allowed_inline += 1
            elif confidence_rank(m.confidence) < self._floor:
                self.stats.below_confidence += 1
            else:
                kept.append(m)
        return kept

    def collect(self, kept: list[Match], path: str, source: str, provenance: Provenance | None = None) -> None:
        """Matches already through the gate, at one more place."""
        self.collector.add(kept, path, source, provenance)

    def add(self, matches: list[Match], path: str, source: str, provenance: Provenance | None = None) -> None:
        self.collect(self.gate(matches), path, source, provenance)

    def finish(self, repo: str | None = None) -> ScanResult:
        findings = self._suppress()
        self.stats.elapsed = time.perf_counter() - self.started
        secrets = {f.fingerprint: secret for secret, f in self.collector.items()}
        return ScanResult(findings, self.stats, self.engine.ruleset, secrets, repo)

    def _suppress(self) -> list[Finding]:
        """Drop findings that .sprawlignore or the baseline hold; an expired baseline entry hides nothing."""
        baseline = self.options.baseline
        matcher = baseline.matcher() if baseline else None
        kept = []
        for secret, finding in self.collector.items():
            if finding.fingerprint in self.ignore.fingerprints:
                self.stats.ignored += 1
            elif matcher and matcher.hides(finding, secret):
                self.stats.baselined += 1
            else:
                if matcher and (entry := matcher.expired_entry(finding)):
                    self.stats.warnings.append(f"baseline entry for {finding.fingerprint} expired on {entry.expires}")
                kept.append(finding)
        return kept

"""Scanning bytes and text in memory: standard input, a prompt, a request body."""
from __future__ import annotations

from scanner.model import Finding, ScanResult
from scanner.pipeline.options import ScanOptions
from scanner.pipeline.run import ScanRun


def scan_bytes(data: bytes, path: str = "<bytes>", options: ScanOptions | None = None,
               source: str = "stdin") -> ScanResult:
    """Scan one in-memory blob; `path` names it (its extension chooses the language context)."""
    run = ScanRun(options or ScanOptions())
    run.stats.files, run.stats.bytes = 1, len(data)
    run.add(run.engine.scan(data, path), path, source)
    return run.finish()


def scan_text(text: str, path: str | None = None, min_confidence: str = "medium") -> list[Finding]:
    """Scan a string in-process (a guardrail that checks a prompt before it leaves for an LLM).

    Rules load and compile once per process; ValueError on a confidence that is none."""
    options = ScanOptions(min_confidence=min_confidence)
    return scan_bytes(text.encode("utf-8", "surrogatepass"), path or "<text>", options, source="text").findings

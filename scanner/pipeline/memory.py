"""Scanning bytes and text in memory: standard input, a prompt, a request body."""
from __future__ import annotations

from typing import BinaryIO

from scanner.engine import previews
from scanner.model import Finding, ScanResult, Skip
from scanner.pipeline.blobs import scan_blobs
from scanner.pipeline.options import ScanOptions
from scanner.pipeline.run import ScanRun
from scanner.sources.archive import Limits, read_stream


def scan_bytes(data: bytes, path: str = "<bytes>", options: ScanOptions | None = None,
               source: str = "stdin") -> ScanResult:
    """Scan one in-memory blob; `path` names it (its extension chooses the language context)."""
    run = ScanRun(options or ScanOptions())
    run.stats.files, run.stats.bytes = 1, len(data)
    run.add(run.engine.scan(data, path), path, source)
    return run.finish()


def redact_text(text: str, path: str | None = None, min_confidence: str = "low") -> str:
    """The text with every secret found in it masked in place (same length: the preview's prefix, then
    stars), for a prompt, a log line or a transcript about to leave; ValueError on a bad confidence."""
    data = text.encode("utf-8", "surrogatepass")
    options = ScanOptions(min_confidence=min_confidence)
    spans = sorted({(loc.start, loc.end) for f in scan_bytes(data, path or "<text>", options, "text").findings
                    for loc in f.locations if loc.start >= 0})
    out, at = [], 0
    for start, end in spans:
        start = max(start, at)
        if end <= start:
            continue
        out += [data[at:start], previews.mask(data[start:end])]
        at = end
    out.append(data[at:])
    return b"".join(out).decode("utf-8", "surrogatepass")


def scan_input(fh: BinaryIO, path: str = "<stdin>", options: ScanOptions | None = None) -> ScanResult:
    """Scan a stream read once (standard input) in chunks, as a large file is: memory stays one chunk
    whatever its size; an archive or compressed stream is opened as a file's would be."""
    options = options or ScanOptions()
    run = ScanRun(options)
    out = scan_blobs(run.engine, path, read_stream(fh, path, options.archive_limits or Limits()))
    assert not isinstance(out, Skip)  # a stream is never skipped whole: what breaks it is a skip inside
    run.stats.files, run.stats.bytes, run.stats.streamed = max(out.files, 1), out.size, int(out.streamed)
    run.stats.archives += out.archive
    run.stats.skipped.extend(out.skips)
    run.stats.warnings.extend(out.warnings)
    for hit in out.hits:
        run.add([hit.match], hit.path, "stdin", hit.provenance)
    return run.finish()


def scan_text(text: str, path: str | None = None, min_confidence: str = "medium") -> list[Finding]:
    """Scan a string in-process (a guardrail that checks a prompt before it leaves for an LLM).

    Rules load and compile once per process; ValueError on a confidence that is none."""
    options = ScanOptions(min_confidence=min_confidence)
    return scan_bytes(text.encode("utf-8", "surrogatepass"), path or "<text>", options, source="text").findings

"""secret-sprawl: find static secrets wherever they sprawl, and say whose they are and how bad each is.

The library API (the `sprawl` command is a thin layer over it)::

    import scanner

    result = scanner.scan_paths(["src/"], scanner.ScanOptions(min_confidence="high"))
    findings = scanner.scan_text(prompt)

Names load on first use, so `import scanner` stays cheap (a pre-commit hook imports only what it runs).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> the module that defines it
_EXPORTS = {
    "ScanOptions": "scanner.pipeline.options",
    "EngineSpec": "scanner.pipeline.options",
    "scan_paths": "scanner.pipeline.files",
    "scan_git": "scanner.pipeline.git",
    "scan_staged": "scanner.pipeline.staged",
    "scan_bytes": "scanner.pipeline.memory",
    "scan_text": "scanner.pipeline.memory",
    "redact_text": "scanner.pipeline.memory",
    "sweep": "scanner.pipeline.sweep",
    "SweepOptions": "scanner.pipeline.sweep",
    "Store": "scanner.store.db",
    "record_scan": "scanner.api",
    "analyze": "scanner.api",
    "analyze_result": "scanner.api",
    "list_findings": "scanner.api",
    "FindingFilter": "scanner.api",
    "explain": "scanner.api",
    "Finding": "scanner.model",
    "Location": "scanner.model",
    "Provenance": "scanner.model",
    "ScanResult": "scanner.model",
    "SprawlError": "scanner.errors",
}

if TYPE_CHECKING:
    from scanner.api import FindingFilter, analyze, analyze_result, explain, list_findings, record_scan
    from scanner.errors import SprawlError
    from scanner.model import Finding, Location, Provenance, ScanResult
    from scanner.pipeline.files import scan_paths
    from scanner.pipeline.git import scan_git
    from scanner.pipeline.memory import redact_text, scan_bytes, scan_text
    from scanner.pipeline.options import EngineSpec, ScanOptions
    from scanner.pipeline.staged import scan_staged
    from scanner.pipeline.sweep import SweepOptions, sweep
    from scanner.store.db import Store


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'scanner' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [  # noqa: RUF022  (grouped as _EXPORTS is)
    "__version__", "ScanOptions", "EngineSpec", "scan_paths", "scan_git", "scan_staged", "scan_bytes", "scan_text",
    "redact_text", "sweep", "SweepOptions", "Store", "record_scan", "analyze", "analyze_result", "list_findings", "FindingFilter",
    "explain", "Finding", "Location", "Provenance", "ScanResult", "SprawlError",
]

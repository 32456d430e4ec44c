"""JSON and JSON Lines: the stable, documented schema of docs/json-report.md (version 1)."""
from __future__ import annotations

import json

from scanner import __version__
from scanner.model import ScanResult


def document(result: ScanResult) -> dict:
    s = result.stats
    return {
        "schema": "secret-sprawl/findings",
        "version": 1,
        "tool": {
            "name": "secret-sprawl",
            "version": __version__,
            "rules": len(result.ruleset),
            "rules_version": result.ruleset.version,
        },
        "summary": {
            "findings": len(result.findings),
            "unit": s.unit,
            "files": s.files,
            "commits": s.commits,
            "bytes": s.bytes,
            "elapsed_seconds": round(s.elapsed, 3),
            "allowed_inline": s.allowed_inline,
            "ignored": s.ignored,
            "baselined": s.baselined,
            "below_confidence": s.below_confidence,
            "skipped": [{"path": k.path, "reason": k.reason} for k in s.skipped],
            "warnings": s.warnings,
        },
        "findings": [f.to_dict() for f in result.findings],
    }


def render_json(result: ScanResult) -> str:
    return json.dumps(document(result), indent=2) + "\n"


def render_jsonl(result: ScanResult) -> str:
    return "".join(json.dumps(f.to_dict()) + "\n" for f in result.findings)

"""CSV: one row per location, so a spreadsheet shows every place a credential appears."""
from __future__ import annotations

import csv
import io

from scanner.scan import ScanResult

COLUMNS = [
    "fingerprint", "rule_id", "provider", "kind", "confidence", "preview", "secret",
    "path", "line", "column", "privilege", "lifetime", "remediation",
]


def render(result: ScanResult) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for f in result.findings:
        for loc in f.locations:
            writer.writerow([
                f.fingerprint, f.rule_id, f.provider, f.kind, f.confidence, f.preview, f.secret or "",
                loc.path, loc.line, loc.column, f.privilege, f.lifetime, f.remediation,
            ])
    return buf.getvalue()

"""CSV: one row per location, so a spreadsheet shows every place a credential appears."""
from __future__ import annotations

import csv
import io

from scanner.model import ScanResult
from scanner.report.escape import spreadsheet_cell

COLUMNS = [
    "fingerprint", "rule_id", "provider", "kind", "confidence", "preview", "secret",
    "path", "line", "column", "privilege", "lifetime", "remediation",
    "repository", "commit", "author", "date", "at_head", "status",
]
# Where on a workstation (`sprawl workstation`): the Provenance fields of these names, empty for other findings
# (tests/test_workstation_reports.py::test_csv_has_the_workstation_columns_empty_elsewhere).
WORKSTATION_COLUMNS = ["client", "scope", "project", "server", "field", "setting", "session", "role"]
# Only when an inventory analysis ran.
ANALYSIS_COLUMNS = ["owner", "identity", "link_confidence", "score", "band"]


def render(result: ScanResult) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    analysed = any(f.analysis for f in result.findings)
    writer.writerow(COLUMNS + WORKSTATION_COLUMNS + (ANALYSIS_COLUMNS if analysed else []))
    # Every cell neutralised: a path or snippet starting with = + - @ is not run as a formula.
    for f in result.findings:
        extra = [getattr(f.analysis, c) if f.analysis else "" for c in ANALYSIS_COLUMNS] if analysed else []
        for loc in f.locations:
            writer.writerow([spreadsheet_cell(v) for v in (
                f.fingerprint, f.rule_id, f.provider, f.kind, f.confidence, f.preview, f.secret or "",
                loc.path, loc.line, loc.column, f.privilege, f.lifetime, f.remediation,
                loc.provenance.repo, loc.provenance.commit, loc.provenance.author, loc.provenance.date,
                "" if loc.provenance.at_head is None else str(loc.provenance.at_head).lower(), f.status,
                *(getattr(loc.provenance, c) for c in WORKSTATION_COLUMNS), *extra,
            )])
    return buf.getvalue()

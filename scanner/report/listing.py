"""The closing lines of `sprawl findings`: what the datastore listing holds (by band, status and rule), not
the counters of a scan, and how to record a false positive there (tests/test_findings_footer.py)."""
from __future__ import annotations

from collections import Counter

from scanner.model import BAND_NAMES, ScanResult
from scanner.report.escape import display

MARK_HINT = ("To allow a false positive: `sprawl mark FINGERPRINT --as allowed --reason WHY` "
             "(the datastore keeps the decision; later sweeps do not report it again).")
TOP_RULES = 8


def listing_lines(result: ScanResult) -> list[str]:
    found = result.findings
    bands = Counter(f.analysis.band if f.analysis else "unscored" for f in found)
    statuses = Counter(f.status for f in found)
    rules = Counter(f.rule_id for f in found)
    lines = [f"{len(found)} credential(s) listed, at {sum(len(f.locations) for f in found)} location(s)"]
    if found:
        order = [*reversed(BAND_NAMES), "unscored"]
        lines.append("by band: " + ", ".join(f"{bands[b]} {b}" for b in order if bands[b]))
        lines.append("by status: " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items(), key=lambda x: (-x[1], x[0]))))
        top = sorted(rules.items(), key=lambda x: (-x[1], x[0]))
        shown = ", ".join(f"{n} {r}" for r, n in top[:TOP_RULES])
        lines.append(f"by rule: {shown}" + (f", and {len(top) - TOP_RULES} more rule(s)" if len(top) > TOP_RULES else ""))
    lines.extend(f"warning: {display(w)}" for w in result.stats.warnings)
    return lines

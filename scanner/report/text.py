"""Text for terminals: grouped by file, each finding with its rule, redacted preview and fix."""
from __future__ import annotations

from collections import defaultdict

import click

from scanner.report.summary import ALLOW_HINT, summary_lines
from scanner.scan import ScanResult

_CONF_COLOR = {"high": "red", "medium": "yellow", "low": "cyan"}


def render(result: ScanResult, color: bool = False) -> str:
    def style(text: str, **kw) -> str:
        return click.style(text, **kw) if color else text

    by_path = defaultdict(list)
    for f in result.findings:
        for loc in f.locations:
            by_path[loc.path].append((loc, f))
    from scanner.analysis.annotate import ranked_lines

    out: list[str] = ranked_lines(result.findings)  # with an inventory: highest blast radius first
    for path in sorted(by_path):
        out.append(style(path, bold=True))
        for loc, f in sorted(by_path[path], key=lambda lf: (lf[0].line, lf[0].column)):
            value = f.secret if f.secret is not None else f.preview
            out.append(
                f"  {loc.line}:{loc.column}  {style(f.confidence, fg=_CONF_COLOR[f.confidence])}  "
                f"{f.rule_id}  {f.rule_name}  {style(value, bold=True)}  [{f.fingerprint}]"
            )
            if loc.snippet:
                out.append(f"      > {loc.snippet}")
            if f.remediation:
                out.append(f"      fix: {f.remediation}")
        out.append("")
    out.extend(summary_lines(result))
    if result.findings:
        out.append(ALLOW_HINT)
    return "\n".join(out) + "\n"

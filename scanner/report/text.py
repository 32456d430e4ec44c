"""Text for terminals: grouped by file, each finding with its rule, redacted preview and fix."""
from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import click

from scanner.model import ScanResult
from scanner.report.escape import display
from scanner.report.summary import ALLOW_HINT, summary_lines

if TYPE_CHECKING:
    from scanner.model import ValidationResult

_CONF_COLOR = {"high": "red", "medium": "yellow", "low": "cyan"}


def render(result: ScanResult, color: bool = False, max_skips: int | None = 20, listing: bool = False) -> str:
    """The findings grouped by file, then the closing lines: a scan's counters, or for a datastore
    listing (`listing`) its own counts and the `sprawl mark` hint (scanner.report.listing)."""
    def style(text: str, **kw) -> str:
        return click.style(text, **kw) if color else text

    by_path = defaultdict(list)
    for f in result.findings:
        for loc in f.locations:
            by_path[loc.path].append((loc, f))
    out: list[str] = ranked_lines(result.findings)  # with an inventory: highest blast radius first
    for path in sorted(by_path):
        out.append(style(display(path), bold=True))  # no escape sequence, newline or undecodable byte
        for loc, f in sorted(by_path[path], key=lambda lf: (lf[0].line, lf[0].column)):
            value = f.secret if f.secret is not None else f.preview
            out.append(
                f"  {loc.line}:{loc.column}  {style(f.confidence, fg=_CONF_COLOR[f.confidence])}  "
                f"{f.rule_id}  {display(f.rule_name)}  {style(display(value), bold=True)}  [{f.fingerprint}]"
                + (f"  ({f.status})" if f.status != "open" else "")
            )
            if history := loc.history():
                out.append(f"      in {display(history)}")
            if loc.snippet:
                out.append(f"      > {display(loc.snippet)}")
            if f.validation is not None:
                out.append(f"      validation: {display(validation_line(f.validation))}")
            if f.remediation:
                out.append(f"      fix: {f.remediation}")
        out.append("")
    if listing:
        from scanner.report.listing import MARK_HINT, listing_lines

        out.extend(listing_lines(result))
        hint = MARK_HINT
    else:
        out.extend(summary_lines(result, max_skips=10**9 if max_skips is None else max_skips))
        hint = ALLOW_HINT
    if result.findings:
        out.append(hint)
    return "\n".join(out) + "\n"


def ranked_lines(findings) -> list[str]:
    """The text report's lead: every analysed finding, highest blast radius first, with its owner.

    Reads only `finding.analysis`, so a scan without an inventory, such as the pre-commit check,
    never imports the analysis package."""
    scored = sorted((f for f in findings if f.analysis), key=lambda f: -f.analysis.score)
    if not scored:
        return []
    out = ["Blast radius, highest first:"]
    for f in scored:
        a = f.analysis
        loc = f.first_location
        out.append(f"  {a.score:>3} {a.band:<8} {f.rule_id}  {f.preview}  owner: {a.link.label}  "
                   f"link {a.link_confidence:.2f}  {display(loc.path)}:{loc.line}  [{f.fingerprint}]")
    out.append("")
    return out


def validation_line(v: ValidationResult) -> str:
    """What the provider said, in words: active (with whom and what it can reach), revoked, or why not known."""
    status = str(v.status)
    if status == "active":
        who = ", ".join(f"{k} {val}" for k, val in vars(v.identity).items() if val)
        reach = f"; scopes {', '.join(v.scopes)}" if v.scopes else ""
        privilege = f"; privilege {v.privilege}" if v.privilege else ""
        return f"active{' (' + who + ')' if who else ''}{privilege}{reach}"
    if status == "revoked":
        return f"revoked ({v.reason})"
    return f"could not tell, because {v.reason}"

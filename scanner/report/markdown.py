"""Markdown triage report: one section per incident, to paste into an incident ticket."""
from __future__ import annotations

from scanner.report.escape import code_span, markdown_prose
from scanner.report.summary import human_bytes


def _cell(text) -> str:
    """Text for a table cell or a line: no HTML tag, no table break, one line."""
    return markdown_prose(str(text if text is not None else "-"))


def _preview_cell(preview: str) -> str:
    return code_span(preview).replace("|", "\\|")


def _link(entry) -> str:
    return "-" if entry.link_confidence is None else f"{entry.link_confidence:.2f}"


def render_incidents(incidents) -> str:
    out = []
    for inc in incidents:
        s = inc.stats
        # Names and previews in code spans that no backtick in them can close (one let `<img>` through).
        out.append(f"## Leaked credentials in {code_span(inc.bundle)}\n")
        out.append(f"{len(inc.entries)} credential(s) in {s.files} file(s), {human_bytes(s.bytes)} scanned; "
                   f"ranked by {_cell(inc.scoring)}. Revoke from the top.\n")
        if inc.entries:
            out.append("| # | Score | Credential | Preview | Owner | Link | Count | First seen | Last seen |")
            out.append("|---|---|---|---|---|---|---|---|---|")
            for i, e in enumerate(inc.entries, 1):
                f = e.finding
                out.append(f"| {i} | {e.score} {e.band} | {_cell(f.rule_name)} ({_cell(f.kind)}) | {_preview_cell(f.preview)} "
                           f"| {_cell(e.owner)} | {_link(e)} | {e.count} | {_cell(e.first_seen)} | {_cell(e.last_seen)} |")
            out.append("")
            for i, e in enumerate(inc.entries, 1):
                f = e.finding
                out.append(f"### {i}. {_cell(f.rule_name)} {code_span(f.preview)}\n")
                out.append(f"- **Revoke / rotate:** {_cell(f.remediation or 'rotate it at the provider')}")
                out.append(f"- **Owner:** {_cell(e.owner)} ({_cell(e.owner_how)})")
                out.append(f"- **Why this rank:** {_cell('; '.join(e.reasons))}")
                out.append(f"- **Fingerprint:** `{f.fingerprint}`")
                out.append(f"- **Seen in {e.count} place(s):**")
                out.extend(f"  - {code_span(w)}" for w in e.where)
                if e.count > len(e.where):
                    out.append(f"  - ... and {e.count - len(e.where)} more")
                out.append("")
        if s.skipped:
            out.append(f"<details><summary>{len(s.skipped)} item(s) not scanned</summary>\n")
            out.extend(f"- {code_span(k.path)}: {_cell(k.reason)}" for k in s.skipped)
            out.append("\n</details>\n")
    return "\n".join(out).rstrip() + "\n"

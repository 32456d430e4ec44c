"""Triage reports in text, JSON and self-contained HTML (Markdown is scanner.report.markdown)."""
from __future__ import annotations

import html
import json

from scanner.report.escape import display, utf8_safe
from scanner.report.summary import human_bytes

TRIAGE_FORMATS = ("text", "json", "markdown", "html")


def render_triage(incidents, fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"schema": "secret-sprawl/triage", "version": 1,
                           "incidents": [i.to_dict() for i in incidents]}, indent=2) + "\n"
    if fmt == "markdown":
        from scanner.report.markdown import render_incidents

        return render_incidents(incidents)
    if fmt == "html":
        return utf8_safe(_html(incidents))
    return _text(incidents)


def _text(incidents) -> str:
    out = []
    for inc in incidents:
        s = inc.stats
        out.append(f"Incident: {display(inc.bundle)}")
        out.append(f"  {len(inc.entries)} credential(s) in {s.files} file(s), {human_bytes(s.bytes)}; "
                   f"ranked by {inc.scoring}")
        for i, e in enumerate(inc.entries, 1):
            f = e.finding
            out.append(f"\n  {i}. [{e.score} {e.band}] {display(f.rule_name)} ({f.kind})  {display(f.preview)}")
            out.append(f"     owner: {display(e.owner)} ({display(e.owner_how)})")
            out.append(f"     seen {e.count} time(s); first {e.first_seen or 'unknown'}, last {e.last_seen or 'unknown'}")
            for w in e.where[:5]:
                out.append(f"     at {display(w)}")
            if e.count > 5:
                out.append(f"     ... and {e.count - 5} more")
            out.append(f"     revoke: {f.remediation or 'rotate it at the provider'}")
        for k in s.skipped:
            out.append(f"  not scanned: {display(k.path)}: {display(k.reason)}")
        out.append("")
    return "\n".join(out)


_STYLE = ("body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
          "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#eee}"
          ".critical{background:#f8d7da}.high{background:#fde2c8}.medium{background:#fff3cd}code{font-size:90%}")


def _html(incidents) -> str:
    e_ = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>sprawl triage</title><style>{_STYLE}</style>"
             "</head><body>"]
    for inc in incidents:
        parts.append(f"<h2>Leaked credentials in <code>{e_(inc.bundle)}</code></h2>"
                     f"<p>{len(inc.entries)} credential(s) in {inc.stats.files} file(s), "
                     f"{e_(human_bytes(inc.stats.bytes))}; ranked by {e_(inc.scoring)}.</p>")
        parts.append("<table><tr><th>#</th><th>Score</th><th>Credential</th><th>Preview</th><th>Owner</th>"
                     "<th>Count</th><th>First seen</th><th>Last seen</th><th>Where</th><th>Revoke / rotate</th></tr>")
        for i, e in enumerate(inc.entries, 1):
            f = e.finding
            where = "<br>".join(f"<code>{e_(w)}</code>" for w in e.where)
            if e.count > len(e.where):
                where += f"<br>... and {e.count - len(e.where)} more"
            parts.append(
                f"<tr class='{e_(e.band)}'><td>{i}</td><td>{e.score} {e_(e.band)}</td><td>{e_(f.rule_name)} ({e_(f.kind)})"
                f"</td><td><code>{e_(f.preview)}</code></td><td>{e_(e.owner)}<br><small>{e_(e.owner_how)}</small></td>"
                f"<td>{e.count}</td><td>{e_(e.first_seen or '-')}</td><td>{e_(e.last_seen or '-')}</td><td>{where}</td>"
                f"<td>{e_(f.remediation or '')}</td></tr>")
        parts.append("</table>")
        if inc.stats.skipped:
            parts.append("<h3>Not scanned</h3><ul>" + "".join(
                f"<li><code>{e_(k.path)}</code>: {e_(k.reason)}</li>" for k in inc.stats.skipped) + "</ul>")
    parts.append("</body></html>\n")
    return "".join(parts)

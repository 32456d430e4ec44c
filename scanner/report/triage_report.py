"""Triage reports in text, JSON and self-contained HTML (Markdown is scanner.report.markdown)."""
from __future__ import annotations

import csv
import html
import io
import json

from scanner.report.escape import display, html_link, html_linkify, spreadsheet_cell, utf8_safe
from scanner.report.summary import human_bytes

TRIAGE_FORMATS = ("text", "json", "markdown", "html", "sarif", "csv")
CSV_COLUMNS = ["bundle", "rank", "score", "band", "fingerprint", "rule_id", "provider", "kind", "confidence",
               "preview", "owner", "contacts", "owner_detail", "count", "first_seen", "last_seen", "where",
               "remediation", "validation"]


def render_triage(incidents, fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"schema": "secret-sprawl/triage", "version": 1,
                           "incidents": [i.to_dict() for i in incidents]}, indent=2) + "\n"
    if fmt == "markdown":
        from scanner.report.markdown import render_incidents

        return render_incidents(incidents)
    if fmt == "html":
        return utf8_safe(_html(incidents))
    if fmt == "csv":
        return _csv(incidents)
    if fmt == "sarif":
        from scanner.report.sarif import render_incidents

        return render_incidents([(inc.bundle, inc.result) for inc in incidents if inc.result is not None])
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


# Fits a 1,280 px window: a fixed-layout table whose cells wrap anywhere (a long path, a preview, a
# bundle name), never a horizontal scroll (tests/test_triage_html.py measures it in Chromium).
_STYLE = ("body{font-family:system-ui,sans-serif;margin:1.5em;max-width:100%;overflow-wrap:anywhere}"
          "table{border-collapse:collapse;width:100%;table-layout:fixed}"
          "th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top;"
          "overflow-wrap:anywhere;word-break:break-word}th{background:#eee}"
          "col.n{width:2.5em}col.score{width:6.5em}col.count{width:4em}col.when{width:8em}"
          ".critical{background:#f8d7da}.high{background:#fde2c8}.medium{background:#fff3cd}"
          "code{font-size:90%;word-break:break-all}")
_COLS = ("<colgroup><col class='n'><col class='score'><col><col><col><col class='count'><col class='when'>"
         "<col class='when'><col><col></colgroup>")


def _owner(e) -> str:
    """The owner and each contact: an e-mail or web address is a link, anything else text."""
    contacts = ", ".join(html_link(c) for c in e.contacts)
    name = html.escape(e.owner_id or e.owner)
    return f"{name}{' (' + contacts + ')' if contacts else ''}<br><small>{html.escape(e.owner_how)}</small>"


def _html(incidents) -> str:
    e_ = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>sprawl triage</title>"
             f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{_STYLE}</style>"
             "</head><body>"]
    for inc in incidents:
        parts.append(f"<h2>Leaked credentials in <code>{e_(inc.bundle)}</code></h2>"
                     f"<p>{len(inc.entries)} credential(s) in {inc.stats.files} file(s), "
                     f"{e_(human_bytes(inc.stats.bytes))}; ranked by {e_(inc.scoring)}.</p>")
        parts.append(f"<table>{_COLS}<tr><th>#</th><th>Score</th><th>Credential</th><th>Preview</th><th>Owner</th>"
                     "<th>Count</th><th>First seen</th><th>Last seen</th><th>Where</th><th>Revoke / rotate</th></tr>")
        for i, e in enumerate(inc.entries, 1):
            f = e.finding
            where = "<br>".join(f"<code>{e_(w)}</code>" for w in e.where)
            if e.count > len(e.where):
                where += f"<br>... and {e.count - len(e.where)} more"
            parts.append(
                f"<tr class='{e_(e.band)}'><td>{i}</td><td>{e.score} {e_(e.band)}</td><td>{e_(f.rule_name)} ({e_(f.kind)})"
                f"</td><td><code>{e_(f.preview)}</code></td><td>{_owner(e)}</td>"
                f"<td>{e.count}</td><td>{e_(e.first_seen or '-')}</td><td>{e_(e.last_seen or '-')}</td><td>{where}</td>"
                f"<td>{html_linkify(f.remediation or '')}</td></tr>")
        parts.append("</table>")
        if inc.stats.skipped:
            parts.append("<h3>Not scanned</h3><ul>" + "".join(
                f"<li><code>{e_(k.path)}</code>: {e_(k.reason)}</li>" for k in inc.stats.skipped) + "</ul>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _csv(incidents) -> str:
    """One row per credential and bundle, ranked as the text report ranks them; every cell neutralised
    against spreadsheet formulas."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for inc in incidents:
        for i, e in enumerate(inc.entries, 1):
            f = e.finding
            writer.writerow([spreadsheet_cell(v) for v in (
                inc.bundle, i, e.score, e.band, f.fingerprint, f.rule_id, f.provider, f.kind, f.confidence, f.preview,
                e.owner_id or e.owner, "; ".join(e.contacts), e.owner_how, e.count, e.first_seen or "",
                e.last_seen or "", "; ".join(e.where), f.remediation or "",
                f.validation.status if f.validation is not None else "")])
    return buf.getvalue()

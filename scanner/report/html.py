"""A self-contained HTML report: one file, no network, opens from disk.

Findings sorted by blast radius with owner (and the owner's contacts), band and factors (click a column
header to re-sort, again to reverse; tests/test_html_owners.py), and a filter box; the
blast-radius distribution drawn as an inline SVG chart; owners and the credentials each must
rotate; sprawl per credential. Without an inventory the findings are still scored (all unowned).
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from html import escape
from typing import Any

from scanner import __version__
from scanner.model import BlastRadius, Finding, FindingAnalysis, ScanResult, band
from scanner.report.escape import html_link

BUCKETS = [(0, 9), (10, 19), (20, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 79), (80, 89), (90, 100)]
BAND_COLOURS = {"info": "#8a9bb0", "low": "#4c9f70", "medium": "#e0b000", "high": "#e06c00", "critical": "#c0132b"}

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#1d2330;background:#fbfbfd}
h1{font-size:1.6em;margin:0 0 .2em}h2{margin-top:2em;border-bottom:1px solid #dde;padding-bottom:.2em}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #dde;padding:4px 8px;text-align:left;
vertical-align:top}th{background:#eef0f6;cursor:pointer;user-select:none}th.sorted-desc:after{content:" \\25BC"}
th.sorted-asc:after{content:" \\25B2"}code{font-size:12px}.band{color:#fff;border-radius:3px;padding:1px 6px;
font-weight:600}.muted{color:#667}.factors{font-size:12px;color:#445}.summary span{margin-right:1.5em}
#distribution{background:#fff;border:1px solid #dde}.contacts{font-size:12px;font-weight:normal}
"""

_JS = r"""
(function(){
  var data = JSON.parse(document.getElementById('sprawl-data').textContent);
  var svg = document.getElementById('distribution'), ns = 'http://www.w3.org/2000/svg';
  var W = 640, H = 240, pad = 32, n = data.buckets.length, bw = (W - 2*pad) / n;
  var max = Math.max(1, Math.max.apply(null, data.buckets.map(function(b){return b.count;})));
  function el(name, attrs, text){var e = document.createElementNS(ns, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = text;
    svg.appendChild(e); return e;}
  el('line', {x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, stroke: '#889'});
  var drawn = 0;
  data.buckets.forEach(function(b, i){
    var h = (H - 2*pad) * b.count / max, x = pad + i*bw + 2;
    var r = el('rect', {x: x, y: H - pad - h, width: bw - 4, height: h, fill: b.colour, 'class': 'bar',
                        'data-count': b.count, 'data-range': b.label});
    r.appendChild(document.createElementNS(ns, 'title')).textContent = b.label + ': ' + b.count;
    el('text', {x: x + (bw - 4)/2, y: H - pad + 14, 'font-size': 10, 'text-anchor': 'middle'}, b.label);
    if (b.count) el('text', {x: x + (bw - 4)/2, y: H - pad - h - 4, 'font-size': 11, 'text-anchor': 'middle'}, b.count);
    drawn++;
  });
  el('text', {x: W/2, y: 16, 'text-anchor': 'middle', 'font-size': 13}, 'Findings by blast radius');
  svg.setAttribute('data-drawn', drawn);

  var table = document.getElementById('findings');
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function(th, col){
    th.addEventListener('click', function(){
      var asc = !th.classList.contains('sorted-asc'), body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function(a, b){
        var x = a.cells[col].getAttribute('data-sort') || a.cells[col].textContent,
            y = b.cells[col].getAttribute('data-sort') || b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function(r){ body.appendChild(r); });
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function(h){ h.className = ''; });
      th.className = asc ? 'sorted-asc' : 'sorted-desc';
    });
  });
  table.setAttribute('data-sortable', 'yes');

  // The filter: rows holding every word typed (rule, provider, path, repository, owner...), case-insensitive;
  // a link can carry one as #filter=WORDS.
  var filter = document.getElementById('filter'), shown = document.getElementById('shown');
  function apply(){
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean), visible = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function(r){
      var text = r.textContent.toLowerCase();
      var keep = words.every(function(w){ return text.indexOf(w) >= 0; });
      r.hidden = !keep; if (keep) visible++;
    });
    shown.textContent = visible + ' of ' + table.tBodies[0].rows.length + ' shown';
  }
  filter.addEventListener('input', apply);
  var m = /(?:^#|&)filter=([^&]*)/.exec(location.hash);
  if (m) filter.value = decodeURIComponent(m[1]);
  apply();
})();
"""


def _band(band: str) -> str:
    return f'<span class="band" style="background:{BAND_COLOURS.get(band, "#888")}">{escape(band)}</span>'


def _top_factors(br: BlastRadius, n: int = 4) -> str:
    ranked = sorted(br.factors, key=lambda f: -(f.points / f.maximum if f.maximum else 0))[:n]
    return "<br>".join(f"{escape(f.name)} {f.points:g}/{f.maximum}: {escape(f.reason)}" for f in ranked)


def _holders(f: Finding) -> str:
    """Every AI client (and MCP server) holding a credential, when more than one does (a workstation finding);
    the first location's is shown above it (tests/test_workstation_reports.py)."""
    held = dict.fromkeys(f"{p.client} server {p.server}" if p.server else p.client
                         for p in (loc.provenance for loc in f.locations) if p.client)
    if len(held) < 2:
        return ""
    return f'<div class="muted">held by {escape("; ".join(held))}</div>'


def render(result: ScanResult) -> str:
    # The caller scores what an inventory analysis did not (scanner.analysis.annotate.score_unscored):
    # a report never recomputes.
    findings = sorted((f for f in result.findings if f.analysis), key=lambda f: -_analysis(f).score)
    buckets: list[dict[str, Any]] = [{"label": f"{lo}-{hi}", "count": 0, "colour": BAND_COLOURS[_bucket_band(lo)]} for lo, hi in BUCKETS]
    for f in findings:
        buckets[min(9, _analysis(f).score // 10)]["count"] += 1
    bands: defaultdict[str, int] = defaultdict(int)
    for f in findings:
        bands[_analysis(f).band] += 1

    rows = []
    for f in findings:
        a = _analysis(f)
        link = a.link
        owner = escape(a.link.label) + _contacts(a.contacts)
        repos = {loc.provenance.repo for loc in f.locations if loc.provenance.repo}
        first = f.first_location
        where = (f"{escape(first.provenance.repo) + ': ' if first.provenance.repo else ''}{escape(first.path)}:{first.line}"
                 f'<div class="muted">{escape(first.history())}</div>{_holders(f)}')
        rows.append(
            f'<tr><td data-sort="{a.score}"><b>{a.score}</b></td><td data-sort="{a.score}">{_band(a.band)}</td>'
            f'<td>{escape(f.rule_id)}<div class="muted">{escape(f.provider)}</div></td><td><code>{escape(f.preview)}</code>'
            f'{"" if f.status == "open" else "<div class=muted>" + escape(f.status) + "</div>"}</td><td>{where}</td>'
            f'<td>{owner}</td><td data-sort="{link.confidence}">{link.confidence:.2f}'
            f'<div class="muted">{escape(", ".join(link.methods) or "-")}</div></td>'
            f'<td data-sort="{len(f.locations)}">{len(f.locations)}'
            f'{f" in {len(repos)} repos" if len(repos) > 1 else ""}</td>'
            f'<td class="factors">{_top_factors(a.blast_radius)}</td><td><code>{escape(f.fingerprint[:12])}</code></td></tr>')

    by_owner: dict[str, list] = defaultdict(list)
    for f in findings:
        if f.status != "revoked":  # already rotated: nothing left for its owner to do
            by_owner[_analysis(f).owner or "unowned"].append(f)
    owner_blocks = []
    for owner in sorted(by_owner, key=lambda o: (o == "unowned", -max(_analysis(x).score for x in by_owner[o]), o)):
        items = "".join(
            f'<li>{_band(_analysis(x).band)} {_analysis(x).score} <code>{escape(x.preview)}</code> '
            f'{escape(x.rule_name)} <span class="muted">via {escape(_analysis(x).identity or "-")}; '
            f'{escape(x.remediation)}</span></li>' for x in by_owner[owner])
        contacts = _analysis(by_owner[owner][0]).contacts if owner != "unowned" else []
        owner_blocks.append(f'<h3>{escape(owner)} <span class="muted">({len(by_owner[owner])} to rotate)</span>'
                            f'{_contacts(contacts)}</h3>'
                            f"<ul>{items}</ul>")

    sprawl_rows = []
    for f in sorted(findings, key=lambda f: -len(f.locations)):
        paths = sorted({loc.path for loc in f.locations})
        shown = ", ".join(escape(p) for p in paths[:8]) + (f" and {len(paths) - 8} more" if len(paths) > 8 else "")
        sprawl_rows.append(f"<tr><td><code>{escape(f.fingerprint[:12])}</code></td><td>{escape(f.rule_id)}</td>"
                           f"<td>{len(f.locations)}</td><td>{len(paths)}</td><td>{shown}</td></tr>")

    data = json.dumps({"buckets": buckets, "findings": len(findings)}).replace("</", "<\\/")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = "".join(f"<span>{_band(b)} {bands.get(b, 0)}</span>" for b in ("critical", "high", "medium", "low", "info"))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>secret-sprawl report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{_CSS}</style></head><body>
<h1>secret-sprawl report</h1>
<p class="muted">secret-sprawl {escape(__version__)}, {when}: {len(findings)} credential(s), {result.stats.files}
{escape(result.stats.unit)}(s) scanned. Secrets are redacted.</p>
<p class="summary">{summary}</p>
<h2>Blast-radius distribution</h2>
<svg id="distribution" width="640" height="240" viewBox="0 0 640 240" role="img" aria-label="Findings by blast radius"></svg>
<h2>Findings, highest blast radius first</h2>
<p><input id="filter" type="search" placeholder="Filter: rule, provider, path, repository, owner..." size="48"
 aria-label="Filter the findings"> <span id="shown" class="muted"></span></p>
<table id="findings"><thead><tr><th>Score</th><th>Band</th><th>Rule</th><th>Preview</th><th>Where</th><th>Owner</th>
<th>Link confidence</th><th>Locations</th><th>Top factors</th><th>Fingerprint</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<h2>Owners and the credentials they must rotate</h2>
{"".join(owner_blocks) or "<p>No findings.</p>"}
<h2>Sprawl per credential</h2>
<table id="sprawl"><thead><tr><th>Fingerprint</th><th>Rule</th><th>Locations</th><th>Files</th><th>Where</th></tr></thead>
<tbody>{"".join(sprawl_rows)}</tbody></table>
<script type="application/json" id="sprawl-data">{data}</script>
<script>{_JS}</script>
</body></html>
"""


def _contacts(contacts: list[str]) -> str:
    """The owner's contacts under its name: e-mail and web addresses as links, anything else as text."""
    if not contacts:
        return ""
    return '<div class="contacts">' + ", ".join(html_link(c) for c in contacts) + "</div>"


def _analysis(f: Finding) -> FindingAnalysis:
    assert f.analysis is not None  # render() keeps only analysed findings
    return f.analysis


def _bucket_band(lo: int) -> str:
    return band(lo)

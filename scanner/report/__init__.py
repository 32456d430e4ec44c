"""Reporters render a ScanResult; they never recompute findings. One module per format."""
from __future__ import annotations

from collections.abc import Callable

from scanner.model import ScanResult

FORMATS = ("text", "json", "jsonl", "sarif", "csv", "html")


def render(result: ScanResult, fmt: str, *, color: bool = False, max_skips: int | None = 20,
           listing: bool = False) -> str:
    """The report in a format; text lists at most max_skips skipped inputs (None: every one), and closes a
    datastore listing (`listing`) with its own counts rather than a scan's."""
    renderer: Callable[..., str]
    if fmt == "text":
        from scanner.report.text import render as renderer

        return renderer(result, color=color, max_skips=max_skips, listing=listing)
    if fmt == "json":
        from scanner.report.json_report import render_json as renderer
    elif fmt == "jsonl":
        from scanner.report.json_report import render_jsonl as renderer
    elif fmt == "sarif":
        from scanner.report.sarif import render as renderer
    elif fmt == "csv":
        from scanner.report.csv_report import render as renderer
    elif fmt == "html":
        from scanner.report.html import render as renderer
    else:
        raise ValueError(f"unknown format {fmt!r}")
    if fmt == "html":  # an undecodable byte of a file name (surrogateescape) shown as \xNN: the page encodes
        from scanner.report.escape import utf8_safe

        return utf8_safe(renderer(result))
    return renderer(result)

"""Text made safe for where a report puts it: a terminal or a text file, a spreadsheet cell, Markdown.

Paths come as they are on disk (a name that is not UTF-8 holds surrogate escapes) and snippets as the
file had them: either may carry ANSI or OSC escapes, a newline, or a formula (tests/test_report_injection.py).
"""
from __future__ import annotations

import re

# C0 controls (tab included: it would shift columns), DEL, C1 controls, lone surrogates (the undecodable
# bytes of a non-UTF-8 name, kept by surrogateescape), and the bidirectional overrides that reorder text.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match) -> str:
    c = m.group()
    code = ord(c)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if c == "\n":
        return "\\n"
    if c == "\r":
        return "\\r"
    if c == "\t":
        return "\\t"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def display(text: str) -> str:
    """One printable line: control characters, escape sequences and undecodable bytes shown as `\\xNN`."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run as a formula: text starting with = + - @ tab or CR gets a
    leading quote (as OWASP advises); undecodable bytes are escaped. Numbers stay numbers."""
    if not isinstance(value, str):
        return value
    value = _SURROGATE.sub(_escape, value)
    return "'" + value if value.startswith(_FORMULA_START) else value


_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8_safe(text: str) -> str:
    """Text that encodes as UTF-8: an undecodable byte of a non-UTF-8 name shown as `\\xNN`."""
    return _SURROGATE.sub(_escape, text) if _SURROGATE.search(text) else text


def code_span(text: str) -> str:
    """A Markdown code span that holds the text as it is (CommonMark: no HTML inside is read as a tag):
    fenced by one backtick more than its longest run of backticks, so a backtick in a member name can
    never close it; control characters escaped (a newline would end the line)."""
    text = display(text)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown_prose(text: str) -> str:
    """Text for a Markdown line or table cell: no HTML tag (< > &), no table break (|), one line."""
    return (display(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "\\|"))


_URL = re.compile(r"\b(?:https?://|mailto:)[^\s<>\"'`]+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", re.IGNORECASE)
_SAFE_SCHEMES = ("http://", "https://", "mailto:")


def html_link(target: str) -> str:
    """HTML for one contact or address: an `<a href>` for an http, https or mailto URL (a bare e-mail
    address becomes mailto:), anything else (javascript:, data:, a name) escaped text
    (tests/test_triage_html.py)."""
    from html import escape

    href = target if "://" in target or target.lower().startswith("mailto:") else None
    if href is None and re.fullmatch(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", target):
        href = "mailto:" + target
    if href is None or not href.lower().startswith(_SAFE_SCHEMES):
        return escape(display(target))
    return f'<a href="{escape(href, quote=True)}" rel="noreferrer noopener">{escape(display(target))}</a>'


def html_linkify(text: str) -> str:
    """Escaped HTML of prose with its http, https and mailto URLs and e-mail addresses made links; nothing
    else becomes a link."""
    from html import escape

    out, last = [], 0
    for m in _URL.finditer(text):
        url = m.group().rstrip(".,;:)")
        out.append(escape(display(text[last:m.start()])))
        out.append(html_link(url))
        last = m.start() + len(url)
    out.append(escape(display(text[last:])))
    return "".join(out)

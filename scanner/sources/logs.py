"""Log and conversation awareness: when a line was logged, and what kind of text a blob is.

A leaked bundle is mostly logs, transcripts and prompts. For each finding the responder
wants the time it was logged (the record's timestamp, not the file's mtime) and the kind
of place it leaked into (a prompt or transcript is read by a model vendor; an access log by
whoever ships logs). Decoding escaped strings is the engine decoders' job, not this module's.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime

# How far into a line a timestamp is looked for; JSON loggers put the time near the start or the end.
_JSON_LINE_WINDOW = 64 * 1024
_JSON_TIME = re.compile(
    rb'"(?:@timestamp|timestamp|time|ts|datetime|date|created_at|createdAt|logged_at|eventTime)"\s*:\s*'
    rb'(?:"([^"\\]{8,40})"|(\d{10}(?:\d{3})?(?:\.\d+)?)\b)'
)
_ISO_START = re.compile(
    rb"\s*\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?\s?(?:Z|[+-]\d{2}:?\d{2}|UTC)?)"
)
_CLF = re.compile(rb"\[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\]")  # Apache/nginx access logs
_FRACTION = re.compile(r"[.,](\d+)")


def time_seen(data: bytes, pos: int) -> str | None:
    """The timestamp of the log record holding data[pos], as ISO 8601 (UTC when the zone is known)."""
    line_start = data.rfind(b"\n", 0, pos) + 1
    head = data[line_start : line_start + 256]
    m = _ISO_START.match(head)
    if m:
        return _iso(m.group(1).decode())
    if head.lstrip()[:1] == b"{":
        line_end = data.find(b"\n", pos)
        end = min(line_end if line_end >= 0 else len(data), line_start + _JSON_LINE_WINDOW)
        m = _JSON_TIME.search(data, line_start, end)
        if m:
            return _iso(m.group(1).decode("utf-8", "replace")) if m.group(1) else _epoch(m.group(2).decode())
    m = _CLF.search(head)
    if m:
        try:
            return _utc(datetime.strptime(m.group(1).decode(), "%d/%b/%Y:%H:%M:%S %z"))
        except ValueError:
            return None
    return None


def _iso(text: str) -> str | None:
    text = text.strip().replace(" UTC", "Z").replace("UTC", "Z")
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6], text, count=1)
    try:
        stamp = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    return _utc(stamp)


def _epoch(text: str) -> str | None:
    value = float(text)
    if value > 1e12:  # milliseconds
        value /= 1000
    try:
        return _utc(datetime.fromtimestamp(value, UTC))
    except (OverflowError, OSError, ValueError):
        return None


def _utc(stamp: datetime) -> str:
    if stamp.tzinfo is None:
        return stamp.strftime("%Y-%m-%dT%H:%M:%S")
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_TRANSCRIPT = re.compile(rb'"role"\s*:\s*"(?:system|user|assistant|tool|developer)"')
_ACCESS = re.compile(rb'"(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) [^"]* HTTP/\d')
_HTTP_DEBUG = re.compile(rb"^(?:> |< )?(?:GET|POST|PUT|DELETE|PATCH) \S+ HTTP/\d|^(?:> |< )?[A-Za-z-]+: ", re.M)


def media_kind(path: str, head: bytes) -> str:
    """What kind of text this is, from its name and first bytes: the place a secret leaked into.

    One of notebook, prompt, transcript, mcp-log, access-log, http-log, json-log, log, or "" (anything else).
    """
    name = path.rsplit("!", 1)[-1].rsplit("/", 1)[-1].lower()
    if name.endswith(".ipynb"):
        return "notebook"
    if name.endswith(".prompt") or (name.endswith(".md") and ("prompt" in name or "system" in name)):
        return "prompt"
    if _TRANSCRIPT.search(head):
        return "transcript"
    if "mcp" in name and (b'"jsonrpc"' in head or name.endswith((".log", ".jsonl", ".txt"))):
        return "mcp-log"
    if _ACCESS.search(head):
        return "access-log"
    if name.endswith((".har",)) or _HTTP_DEBUG.search(head[:2048]) and b"HTTP/" in head:
        return "http-log"
    json_lines = name.endswith((".jsonl", ".ndjson", ".log")) or b"}\n{" in head  # one record a line
    if head.lstrip()[:1] == b"{" and json_lines:
        return "json-log"
    if name.endswith((".log", ".out", ".err")) or ".log." in name or _ISO_START.match(head):
        return "log"
    return ""

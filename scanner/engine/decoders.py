"""Decoders: secrets hidden inside base64/base64url blobs, percent-encoding, JSON string escapes,
`Authorization: Basic` credentials and URL query strings.

Each decoder finds encoded spans in a blob and yields (start, end, decoded bytes, how); the engine
scans the decoded bytes and reports what it finds at the outer span. Work is bounded: spans are
searched only in blobs under MAX_BLOB_BYTES, at most MAX_SPANS per blob, MAX_DECODED_BYTES in all,
and the engine stops recursing at MAX_DEPTH.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Iterator
from urllib.parse import unquote_to_bytes

MAX_DEPTH = 2
MAX_SPANS = 64
MAX_DECODED_BYTES = 256 << 10
MAX_BLOB_BYTES = 8 << 20
MIN_DECODED = 12

# At least 32 characters with a digit and both cases is a base64 blob worth a look; hex and words are not.
# Runs of base64 characters are found with bytes.translate and bytes.find (C loops over the whole
# blob) rather than a regex, which costs a Python-level retry at every character of every identifier.
_B64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
_B64_MASK = bytes(0x61 if i in _B64_CHARS else 0x20 for i in range(256))
_B64_MIN = 32  # 24 bytes of text: room for a name and a secret
_B64_MAX = 8192
_HAS_MIX = re.compile(rb"(?=[^\d]*\d)(?=[^a-z]*[a-z])(?=[^A-Z]*[A-Z])")
# Images, fonts and other binary payloads inline in CSS, HTML and notebooks: never text, never decoded.
DATA_URI = re.compile(rb"data:[a-z]+/[a-z0-9.+\-]+;base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE)
# Starts at a literal escape (a leading run of plain characters would be retried at every offset).
_PERCENT = re.compile(rb"%[0-9A-Fa-f]{2}(?:[^\s\"'<>%]{0,200}%[0-9A-Fa-f]{2})+[^\s\"'<>%]{0,200}")
# A JSON string literal holding escaped quotes: a JSON document serialized inside another (a log line).
_ESCAPED_JSON = re.compile(rb'"((?:[^"\\\n]|\\.){0,4096}?\\"(?:[^"\\\n]|\\.){0,8192}?)"')
_ESCAPED_KEY = b'\\":'
_BASIC = re.compile(rb"(?i:basic)[ \t]{1,4}([A-Za-z0-9+/]{6,500}={0,2})")
QUERY_PARAM = re.compile(rb"[?&]([A-Za-z][A-Za-z0-9_.\-]{1,40})=([^&\s#\"'<>`;]{6,400})")


def decoded_spans(data: bytes) -> Iterator[tuple[int, int, bytes, str]]:
    """(start, end, decoded, how) for every encoded span in data that decodes to text."""
    if len(data) > MAX_BLOB_BYTES:
        return
    budget, spans = MAX_DECODED_BYTES, 0
    images = [m.span() for m in DATA_URI.finditer(data)] if b";base64," in data else []
    for start, end, text, how in _spans(data):
        if any(lo <= start < hi for lo, hi in images):
            continue
        yield start, end, text, how
        budget -= len(text)
        spans += 1
        if budget <= 0 or spans >= MAX_SPANS:
            return


def _spans(data: bytes) -> Iterator[tuple[int, int, bytes, str]]:
    mask = data.translate(_B64_MASK) if _has_base64_run(data) else b""
    needle = b"a" * _B64_MIN
    pos = mask.find(needle)
    while pos >= 0:
        end = mask.find(b" ", pos)
        end = len(data) if end < 0 else end
        while end < len(data) and end - pos < _B64_MAX and data[end] == 0x3D:  # padding
            end += 1
        if end - pos <= _B64_MAX and (text := _base64_text(data[pos:end])) is not None:
            yield pos, end, text, "base64"
        pos = mask.find(needle, end)
    if b"%" in data:
        for m in _PERCENT.finditer(data):
            # The encoded token begins at the last delimiter before its first escape.
            start = max(data.rfind(c, max(0, m.start() - 200), m.start()) for c in (b" ", b"\n", b'"', b"'", b"=")) + 1
            start = max(start, m.start() - 200)
            if (text := _percent_text(data[start : m.end()])) is not None:
                yield start, m.end(), text, "percent-encoding"
    pos = data.find(_ESCAPED_KEY)
    while pos >= 0:
        # Only lines that hold an escaped key (a document serialized inside a string, not a quotation
        # such as "he said \"hi\"") are searched for escaped JSON strings.
        lo, hi = data.rfind(b"\n", 0, pos) + 1, data.find(b"\n", pos)
        hi = len(data) if hi < 0 else hi
        for m in _ESCAPED_JSON.finditer(data, lo, hi):
            if (text := _json_text(m.group())) is not None:
                yield m.start(), m.end(), text, "JSON string escapes"
        pos = data.find(_ESCAPED_KEY, hi)


class _RunFinder:
    """Whether a blob holds a run of _B64_MIN base64 characters: a Hyperscan pass where the package is
    installed (most source files hold none, and then the whole-blob translate is skipped), else yes."""

    def __init__(self):
        self._db = None
        try:
            import hyperscan
        except ImportError:
            self._hyperscan = None
            return
        self._hyperscan = hyperscan

    def __call__(self, data: bytes) -> bool:
        hs = self._hyperscan
        if hs is None:
            return True
        if self._db is None:
            self._db = hs.Database(mode=hs.HS_MODE_BLOCK)
            run = rb"[A-Za-z0-9+/_\-]{%d}" % _B64_MIN  # _B64_CHARS as a class
            self._db.compile(expressions=[run], ids=[0], flags=hs.HS_FLAG_SINGLEMATCH)
            self._scratch = hs.Scratch(self._db)
        found = []
        self._db.scan(data, match_event_handler=lambda *_: found.append(True), scratch=self._scratch)
        return bool(found)


_has_base64_run = _RunFinder()


def _base64_text(raw: bytes) -> bytes | None:
    if not _HAS_MIX.match(raw):
        return None
    out = b64_text(raw)
    return out if out is not None and len(out) >= MIN_DECODED else None


def b64_text(raw: bytes) -> bytes | None:
    """The base64 or base64url value decoded, if it is printable text; else None."""
    body = raw.rstrip(b"=")
    if len(body) % 4 == 1:
        return None
    try:
        if b"-" in body or b"_" in body:
            out = base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
        else:
            out = base64.b64decode(body + b"=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return out if _printable(out) else None


def _printable(out: bytes) -> bool:
    if not out:
        return False
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return sum(c.isprintable() or c in "\r\n\t" for c in text) >= 0.97 * len(text)


def _percent_text(raw: bytes) -> bytes | None:
    out = unquote_to_bytes(raw)
    return out if out != raw and _printable(out) else None


def _json_text(raw: bytes) -> bytes | None:
    try:
        out = json.loads(raw).encode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    return out if out != raw else None


def basic_credentials(value: str) -> tuple[str, str] | None:
    """(user, password) from the base64 of an `Authorization: Basic` header, or None if it is not one."""
    out = b64_text(value.encode())
    if out is None or b":" not in out:
        return None
    user, _, password = out.decode("utf-8").partition(":")
    return user, password


def query_params(data: bytes, lo: int = 0, hi: int | None = None) -> Iterator[tuple[str, int, int, str]]:
    """(name, value start, value end, percent-decoded value) for each URL query parameter in data[lo:hi]."""
    hi = len(data) if hi is None else hi
    for m in QUERY_PARAM.finditer(data, lo, hi):
        value = unquote_to_bytes(m.group(2)).decode("utf-8", "replace")
        yield m.group(1).decode(), m.start(2), m.end(2), value

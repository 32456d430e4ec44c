"""Decoders: secrets hidden inside base64/base64url blobs, percent-encoding, JSON string escapes,
`Authorization: Basic` credentials and URL query strings.

Each decoder finds encoded spans in a blob and yields (start, end, decoded bytes, how); the engine
scans the decoded bytes and reports what it finds at the outer span. Work is bounded: at most
MAX_SPANS and MAX_DECODED_BYTES per region of MAX_BLOB_BYTES, and the engine stops recursing at
MAX_DEPTH. The budget is generous (120 encoded secrets, or 70 decoy blobs before one encoded token,
are all decoded: tests/test_decoders.py); a region that spends it is counted (budget_spent) so the scan
can say so instead of passing silently.
"""
from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from scanner.engine.optional_hyperscan import compile_scanner

MAX_DEPTH = 2
MAX_SPANS = 4096  # per region: 64 missed 56 of 120 encoded secrets in one file
MAX_DECODED_BYTES = 4 << 20
MAX_BLOB_BYTES = 8 << 20  # larger blobs are searched a region of this size at a time
_REGION_TAIL = 16 << 10  # longer than any span (a base64 run, a percent-encoded token, an escaped JSON string)
MIN_DECODED = 12

# At least 32 characters with a digit and both cases is a base64 blob worth a look; hex and words are not.
_B64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
_B64_MASK = bytes(0x61 if i in _B64_CHARS else 0x20 for i in range(256))
_B64_MIN = 32  # 24 bytes of text: room for a name and a secret
_B64_MAX = 8192
# A digit first: the long runs that are not base64 (names, paths, words) mostly lack one, and a search
# for one class stops sooner than a match with three lookaheads (0.33 against 0.71 us per 40 bytes).
_DIGIT, _UPPER, _LOWER = re.compile(rb"\d").search, re.compile(rb"[A-Z]").search, re.compile(rb"[a-z]").search
# Images, fonts and other binary payloads inline in CSS, HTML and notebooks: never text, never decoded.
DATA_URI = re.compile(rb"data:[a-z]{1,64}/[a-z0-9.+\-]{1,128};base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE)
_DATA_URI_LEAD = 5 + 64 + 1 + 128  # the most bytes before ";base64," in a match
# Starts at a literal escape (a leading run of plain characters would be retried at every offset).
_PERCENT = re.compile(rb"%[0-9A-Fa-f]{2}(?:[^\s\"'<>%]{0,200}%[0-9A-Fa-f]{2})+[^\s\"'<>%]{0,200}")
# A JSON string literal (one holding escaped quotes may be a JSON document serialized inside another,
# in a log line), read possessively: from any quote to the next unescaped one (or the end of the
# line), never backtracking, so a line is read once. (A lazy pattern that looked for an escaped quote
# inside took a minute on one 250 KB line of AWS API documentation.) Loops are unrolled (a run of plain
# characters is one step, not an alternation per character), and the strings that hold no backslash
# (so no escaped quote) are read past inside the pattern with the text between them: the match (group
# 1, closed if group 2 is a quote) is the next string that holds one, or is left open at the line's
# end, so a line of an agent transcript is a few matches, not a Python step per string (3.3 and then
# 1.4 times the speed there). tests/test_decoders.py holds it to the plain per-string loop.
_PLAIN_STRING = rb'"[^"\\\n]*+"'  # closed, with no backslash
_JSON_STRING = re.compile(rb'(?:[^"\n]*+' + _PLAIN_STRING + rb')*+[^"\n]*+("[^"\\\n]*+(?:\\.[^"\\\n]*+)*+("?))?')
_JSON_STRING_MAX = 12288
_ESCAPED_KEY = b'\\":'
_ESCAPED_QUOTE = b'\\"'
DATA_URI_MARK = b";base64,"  # in every inline base64 image or font
_PERCENT_ESCAPE = re.compile(rb"%[0-9A-Fa-f]{2}")
QUERY_PARAM = re.compile(rb"[?&]([A-Za-z][A-Za-z0-9_.\-]{1,40})=([^&\s#\"'<>`;]{6,400})")


def decoded_spans(data: bytes, facts: Facts | None = None) -> Iterator[tuple[int, int, bytes, str]]:
    """(start, end, decoded, how) for every encoded span in data that decodes to text.

    facts, if given, are what a matcher's own pass over data found with FACT_PATTERNS (see Facts);
    else the decoders look for themselves. A blob over MAX_BLOB_BYTES (a log read whole) is searched
    a region at a time, each with its own span and decoded-bytes budget, so an encoded secret deep in
    a large file is decoded like one near its start; a region is read with a margin either side longer
    than any span, and owns the spans that start in it."""
    if len(data) <= MAX_BLOB_BYTES:
        yield from _region_spans(data, 0, len(data), facts or _find(data))
        return
    # Regions are bounds on the blob, never copies of it: slicing cost three quarters of the decoders'
    # time on a 32 MB log.
    for lo in range(0, len(data), MAX_BLOB_BYTES):
        hi = lo + MAX_BLOB_BYTES
        begin, end = max(0, lo - _REGION_TAIL), min(len(data), hi + _REGION_TAIL)
        for start, stop, text, how in _region_spans(data, begin, end, _find(data, begin, end)):
            if lo <= start < hi:  # a span that began before lo is the previous region's, seen whole there
                yield start, stop, text, how


def _region_spans(data: bytes, begin: int, end: int, facts: Facts) -> Iterator[tuple[int, int, bytes, str]]:
    """The spans in data[begin:end], read as if the blob were only that."""
    budget, spans = MAX_DECODED_BYTES, 0
    images = data_uris(data, begin, end) if facts.data_uri else []
    for start, stop, text, how in _spans(data, begin, end, facts):
        if any(lo <= start < hi for lo, hi in images):
            continue
        if budget <= 0 or spans >= MAX_SPANS:
            _SPENT[0] += 1  # a span past the budget: not decoded
            return
        yield start, stop, text, how
        budget -= len(text)
        spans += 1


_SPENT = [0]  # regions whose decoding budget ran out, in this process, since budget_spent() last read it


def budget_spent() -> int:
    """How many regions stopped decoding at the budget since the last call (and reset the count): a scan
    that reports it warns that encoded spans past the budget were not looked into."""
    spent, _SPENT[0] = _SPENT[0], 0
    return spent


def data_uris(data: bytes, begin: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the data: URIs in data[begin:end], as DATA_URI.finditer finds them: looked for only
    around each ";base64," (a case-insensitive regex search tries every byte)."""
    end = len(data) if end is None else end
    spans: list[tuple[int, int]] = []
    taken = begin
    for mark in _marks(data, begin, end):
        if mark < taken:
            continue  # inside the payload of the URI before
        m = DATA_URI.search(data, max(taken, mark - _DATA_URI_LEAD), mark + len(DATA_URI_MARK))
        if m is not None and m.end() >= mark + len(DATA_URI_MARK):
            # The match stopped at the mark's end only because the search did: take it whole.
            m = DATA_URI.match(data, m.start(), end)
            assert m is not None  # it matched there within a shorter bound, and DATA_URI has no anchor or lookaround
            spans.append(m.span())
            taken = m.end()
    return spans


def _marks(data: bytes, begin: int = 0, end: int | None = None) -> Iterator[int]:
    """Where each ";base64," in data[begin:end] starts: from a Hyperscan literal pass where installed
    (five times the speed of bytes.find over a log that holds none), else bytes.find."""
    end = len(data) if end is None else end
    if (scan := _mark_finder()) is not None:
        for _, stop in scan(memoryview(data)[begin:end]):
            yield begin + stop - len(DATA_URI_MARK)
        return
    mark = data.find(DATA_URI_MARK, begin, end)
    while mark >= 0:
        yield mark
        mark = data.find(DATA_URI_MARK, mark + 1, end)


@functools.cache
def _mark_finder():
    return compile_scanner([DATA_URI_MARK], literal=True)


@dataclass(slots=True, frozen=True)
class Facts:
    """Whether a blob holds an escaped JSON key, a percent escape or a data: URI: where it holds none,
    the decoder that looks for it does not search the blob. (Base64 runs are looked for by a pass of
    their own, see _base64_runs.)"""
    escaped_key: bool
    percent: bool
    data_uri: bool

    @classmethod
    def from_first_ends(cls, ends: list[int]) -> Facts:
        """From the end of each FACT_PATTERNS pattern's first match (-1: no match)."""
        return cls(ends[0] >= 0, ends[1] >= 0, ends[2] >= 0)


# Facts as Hyperscan patterns, each wanted only at its first (earliest-ending) match: a matcher that
# scans every blob anyway compiles them into its own database, and one pass serves both. (A base64 run
# is not among them: in that database its pattern cost a quarter of the pass over source files, twice
# what a pass of its own costs.)
FACT_PATTERNS = (re.escape(_ESCAPED_KEY), _PERCENT_ESCAPE.pattern, re.escape(DATA_URI_MARK))
_B64_CLASS = rb"[A-Za-z0-9+/_\-]"  # _B64_CHARS
_BASE64_RUN = _B64_CLASS + rb"{%d}" % _B64_MIN


def _find_portable(data: bytes, begin: int = 0, end: int | None = None) -> Facts:
    end = len(data) if end is None else end
    percent = data.find(b"%", begin, end) >= 0 and _PERCENT_ESCAPE.search(data, begin, end) is not None
    return Facts(data.find(_ESCAPED_KEY, begin, end) >= 0, percent, data.find(DATA_URI_MARK, begin, end) >= 0)


def _base64_runs(data: bytes, pos: int = 0, stop: int | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) of each run of at least _B64_MIN base64 characters in data[pos:stop] that holds a
    digit and both cases."""
    stop = len(data) if stop is None else stop
    first_run_end = _run_finder()
    if first_run_end is None:
        yield from _base64_runs_portable(data, pos, stop)
        return
    # Each run is found by a Hyperscan pass that stops at it: runs are rare (a few hundred in 256 MB of
    # logs), so the text between them is read once, in C, and nothing else is copied. Where they turn
    # out dense (long names in source code), a pass per run costs more than the portable search.
    view, start, runs = memoryview(data), pos, 0
    while (found := first_run_end(view[pos:stop])):
        at = pos + found[0][1] - _B64_MIN  # the earliest-ending run of _B64_MIN starts a maximal run
        tail = _B64_TAIL.match(data, at, stop)
        assert tail is not None  # _B64_TAIL matches the empty string too: it always matches
        end = tail.end()
        if _mixed(data, at, end):
            yield at, end
        pos, runs = end, runs + 1
        if runs >= _DENSE_RUNS and pos - start < runs * _DENSE_GAP:
            yield from _base64_runs_portable(data, pos, stop)
            return


def _mixed(data: bytes, start: int, end: int) -> bool:
    """Whether data[start:end] holds a digit and both cases. A run with letters of one case only, the lower
    (hex ids, the bulk of the runs in logs), is told by one C call first: a third of the decoders' time there."""
    if data[start:end].islower():
        return False
    return (_DIGIT(data, start, end) is not None and _UPPER(data, start, end) is not None
            and _LOWER(data, start, end) is not None)


_DENSE_RUNS, _DENSE_GAP = 8, 4096  # runs, and the bytes per run under which they count as dense


def _base64_runs_portable(data: bytes, pos: int, stop: int | None = None) -> Iterator[tuple[int, int]]:
    # Runs are found with bytes.translate and bytes.find (C loops over the whole blob) rather than a
    # regex, which costs a retry at every character of every identifier.
    mask, needle = data[pos:stop].translate(_B64_MASK), b"a" * _B64_MIN
    at = mask.find(needle)
    while at >= 0:
        end = mask.find(b" ", at)
        end = len(mask) if end < 0 else end
        if _mixed(data, pos + at, pos + end):
            yield pos + at, pos + end
        at = mask.find(needle, end)


_B64_TAIL = re.compile(_B64_CLASS + rb"*+")


@functools.cache
def _run_finder():
    """The end of the first run of _B64_MIN base64 characters in a text, from a Hyperscan pass that
    stops there (as a one-item list; empty: none); None without Hyperscan."""
    return compile_scanner([_BASE64_RUN], first_only=True)


@functools.cache  # the Hyperscan database is compiled on first use (a few milliseconds), not at import
def _finder():
    """Facts from one Hyperscan pass of FACT_PATTERNS, for a blob that no matcher has scanned with them;
    without Hyperscan, the portable search."""
    scan = compile_scanner(list(FACT_PATTERNS), first_only=True)
    if scan is None:
        return _find_portable

    def find(data: bytes, begin: int = 0, end: int | None = None) -> Facts:
        ends = [-1] * len(FACT_PATTERNS)
        for i, stop in scan(memoryview(data)[begin:end]):
            ends[i] = stop
        return Facts.from_first_ends(ends)

    return find


def _find(data: bytes, begin: int = 0, end: int | None = None) -> Facts:
    """The facts of data[begin:end]."""
    return _finder()(data, begin, end)


def _spans(data: bytes, begin: int, end: int, found: Facts) -> Iterator[tuple[int, int, bytes, str]]:
    """The encoded spans in data[begin:end], read as if the blob were only that."""
    for pos, stop in _base64_runs(data, begin, end):
        while stop < end and stop - pos < _B64_MAX and data[stop] == 0x3D:  # padding
            stop += 1
        if stop - pos <= _B64_MAX and (text := _base64_text(data[pos:stop])) is not None:
            yield pos, stop, text, "base64"
    if found.percent:
        for m in _PERCENT.finditer(data, begin, end):
            # The encoded token begins at the last delimiter before its first escape.
            floor = max(begin, m.start() - 200)
            start = max(max(data.rfind(c, floor, m.start()) for c in (b" ", b"\n", b'"', b"'", b"=")) + 1, floor)
            if (text := _percent_text(data[start : m.end()])) is not None:
                yield start, m.end(), text, "percent-encoding"
    pos = data.find(_ESCAPED_KEY, begin, end) if found.escaped_key else -1
    while pos >= 0:
        # Only lines that hold an escaped key (a document serialized inside a string, not a quotation
        # such as "he said \"hi\"") are searched for escaped JSON strings.
        lo, hi = data.rfind(b"\n", begin, pos) + 1 or begin, data.find(b"\n", pos, end)
        hi = end if hi < 0 else hi
        for m in _JSON_STRING.finditer(data, lo, hi):
            if not m.group(2):
                continue  # no string left on the line, or one left open at its end
            start, stop = m.span(1)
            raw = data[start:stop]
            if len(raw) <= _JSON_STRING_MAX and _ESCAPED_QUOTE in raw and (text := _json_text(raw)) is not None:
                yield start, stop, text, "JSON string escapes"
        pos = data.find(_ESCAPED_KEY, hi, end)


def _base64_text(raw: bytes) -> bytes | None:
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
    if out.isascii():  # the usual case, counted in C: what str.isprintable says of ASCII, plus \r \n \t
        return len(out.translate(None, _PRINTABLE_ASCII)) <= 0.03 * len(out)
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return sum(c.isprintable() or c in "\r\n\t" for c in text) >= 0.97 * len(text)


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\r\n\t"


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
    yield from _params_at(data, _query_separators(data, lo, hi), hi, [lo])


def named_query_params(data: bytes, lo: int = 0, hi: int | None = None) -> Iterator[tuple[str, int, int, str]]:
    """query_params, as far as parameters whose name holds one of SECRET_NAME_PARTS (as every secret-ish
    name does) are concerned; other parameters may or may not be yielded.

    Logs hold a query parameter on every other line: where Hyperscan is installed, one pass finds the
    names worth a look, and separators are walked only from the last byte before each that no
    parameter can hold (so the walk sees there what the whole walk would)."""
    hi = len(data) if hi is None else hi
    ends = _named_param_ends(data[lo:hi]) if hi - lo > _NAMED_FROM else None
    if ends is None:
        yield from query_params(data, lo, hi)
        return
    taken, walked = [lo], lo  # the end of the last parameter; separators before walked have been walked
    for end in ends:
        end += lo
        sep = max(data.rfind(b"?", max(walked, end - 44), end), data.rfind(b"&", max(walked, end - 44), end))
        if sep < walked:
            continue
        # No parameter before start reaches past it: its bytes stop every value.
        start = _walk_start(data, sep, walked)
        taken[0] = max(taken[0], start)
        yield from _params_at(data, _query_separators(data, start, sep + 1), hi, taken)
        walked = sep + 1


# Every name that scanner.engine.context.names calls secret-ish holds one of these.
SECRET_NAME_PARTS = (b"pass", b"pwd", b"secret", b"token", b"auth", b"cred", b"key")
_NAMED_FROM = 64 << 10  # smaller texts are walked whole
# Bytes no query parameter holds (its name is [A-Za-z0-9_.-], its value stops at these): a walk over
# separators can start after one (or at it, for '&', which starts a parameter) as if from the start.
_VALUE_STOPS = (b"&", b" ", b"\n", b"\t", b"\r", b"#", b'"', b"'", b"<", b">", b"`", b";")
_PARAM_MAX = 1 + 41 + 1 + 400


def _walk_start(data: bytes, sep: int, floor: int) -> int:
    lookback = max(floor, sep - 8 * _PARAM_MAX)
    stop = max(data.rfind(c, lookback, sep) for c in _VALUE_STOPS)
    if stop < 0:
        return floor  # a long run with no stop: walk from the floor, exact if slower
    return stop if data[stop] == 0x26 else stop + 1  # '&' starts a parameter of its own


def _params_at(data: bytes, separators: Iterator[int], hi: int, taken: list[int]) -> Iterator[tuple[str, int, int, str]]:
    """The parameters at these separators, skipping those inside the one before (as finditer would);
    taken[0] is where the last one found ends, kept across calls."""
    for sep in separators:
        if sep < taken[0] or (m := QUERY_PARAM.match(data, sep, hi)) is None:
            continue
        taken[0] = m.end()
        value = unquote_to_bytes(m.group(2)).decode("utf-8", "replace")
        yield m.group(1).decode(), m.start(2), m.end(2), value


def _named_param_ends(text: bytes) -> list[int] | None:
    """Ascending ends (just after the '=') of query parameters whose name holds a SECRET_NAME_PARTS word;
    None without Hyperscan."""
    scan = _name_finder()
    return None if scan is None else [end for _, end in scan(text)]


@functools.cache
def _name_finder():
    name = rb"[A-Za-z0-9_.\-]{0,41}"
    return compile_scanner([rb"[?&]" + name + b"(?:" + b"|".join(SECRET_NAME_PARTS) + b")" + name + b"="], caseless=True)


def _query_separators(data: bytes, lo: int, hi: int) -> Iterator[int]:
    """Ascending offsets of '?' and '&': found with bytes.find (memchr), where a regex search would test
    the separator class at every byte of a log file."""
    q, a = data.find(b"?", lo, hi), data.find(b"&", lo, hi)
    while q >= 0 or a >= 0:
        if a < 0 or 0 <= q < a:
            yield q
            q = data.find(b"?", q + 1, hi)
        else:
            yield a
            a = data.find(b"&", a + 1, hi)

"""A file's version in git history, scanned where it differs from another version already scanned.

Most blobs in a history are a file edited a few lines away from its neighbouring versions. Scanning
each whole costs as much as the first; betterleaks and gitleaks avoid it by scanning patches and
lose every secret that is not on an added line of a diff. Here a version is compared with a base:
another version of the same file that this process has scanned (the history walk runs newest first,
so the base is the later version that replaced it). The lines around the difference are scanned, in
the context of the whole version, and the matches elsewhere are carried over from the base, moved
by the difference's length. Nothing below depends on which of the two versions is the older.

Why the result is the whole-blob scan's. A match is found where a rule's keyword hit opens a search
window (REACH bytes either side at most), spans at most LINES line breaks, and is judged on the
parse of the text within WINDOW bytes of it (a window that depends on that text alone, see
ContextAnalyzer). So a match further than WINDOW + REACH bytes from the change is found and judged
alike in both versions, and is carried over; nearer ones are looked for in a region REACH bytes and
LINES lines wider still, and judged against the whole new version. Where a rule reaches further
(private key blocks, Kubernetes Secret manifests: more line breaks, or wider search windows), or
text sits inside an inline base64 image (whose extent the change may move), the version is scanned
whole, and so it is where a match of either version straddles an edge anyway.
One difference remains by design: the decoders' work budget (MAX_SPANS encoded spans per blob)
counts from the region's start, so in a blob holding more encoded spans than that, the region scan
can decode spans the whole-blob scan left undecoded.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace

from scanner.engine.context import WINDOW
from scanner.engine.decoders import DATA_URI_MARK
from scanner.engine.optional_hyperscan import compile_scanner
from scanner.model import Match

REACH = 512  # bytes: the farthest a keyword hit's search window extends (rules reaching further scan whole)
LINES = 32  # the most line breaks a match holds
# A version shorter than this is scanned whole: the margins around any change cover most of it, and the
# comparison with the base costs more than the bytes it could skip (most files in a history are this small).
SMALL = 2 * (WINDOW + 2 * REACH)


@dataclass(slots=True)
class Version:
    """A scanned version of a file: its bytes, its matches, and whether it holds text that makes a
    version of the file scan whole (see _holds_far_reaching; None: not looked for yet)."""

    data: bytes
    matches: list[Match]
    far_reaching: bool | None = None


def scan_revision(engine, data: bytes, path: str, base: Version) -> Version:
    """This version of the file, with the matches of engine.scan(data, path), given base: another
    version of the same file, scanned as the same path."""
    size = len(data)
    if size < SMALL:
        return Version(data, engine.scan(data, path))
    same_start = _common_prefix(base.data, data)
    same_end = _common_suffix(base.data, data, min(len(base.data), size) - same_start)
    far_reaching = _far_reaching_now(engine, base, data, same_start, size - same_end)
    # Matches starting in [keep_from, keep_to) are taken from a scan of the new version's region [lo, hi).
    keep_from = max(0, _line_start(data, same_start) - WINDOW - REACH)
    keep_to = min(size, _line_end(data, size - same_end) + WINDOW + REACH)
    lo = _lines_back(data, _line_start(data, keep_from - REACH), LINES)
    hi = _lines_on(data, _line_end(data, keep_to + REACH), LINES)
    if 4 * (hi - lo) >= 3 * size or far_reaching:
        return Version(data, engine.scan(data, path), far_reaching)
    shift = size - len(base.data)
    before = [m for m in base.matches if m.start < keep_from]
    after = [m for m in base.matches if m.start >= keep_to - shift]
    fresh = [m for m in engine.scan(data, path, region=(lo, hi)) if keep_from <= m.start < keep_to]
    if (any(m.end > keep_from for m in before) or any(m.end > keep_to for m in fresh)
            or any(m.start < keep_to - shift < m.end for m in base.matches)):
        return Version(data, engine.scan(data, path), far_reaching)  # a match straddles an edge
    line_shift = (data.count(b"\n", same_start, size - same_end)
                  - base.data.count(b"\n", same_start, len(base.data) - same_end))
    moved = [replace(m, start=m.start + shift, end=m.end + shift, line=m.line + line_shift) for m in after]
    return Version(data, before + fresh + moved, far_reaching)


def _far_reaching_now(engine, base: Version, data: bytes, start: int, end: int) -> bool:
    """Whether data, which differs from base in data[start:end] only, holds far-reaching text. When the
    base holds none, only text overlapping the difference can: a large file's versions are not
    searched whole, each in turn."""
    if base.far_reaching is None:
        base.far_reaching = _holds_far_reaching(engine, base.data)
    if base.far_reaching:
        return _holds_far_reaching(engine, data)
    margin = _far_reaching_finder(engine)[1] - 1
    return _holds_far_reaching(engine, data[max(0, start - margin) : end + margin])


def _holds_far_reaching(engine, text: bytes) -> bool:
    """Whether text holds what a match may reach further than REACH and LINES from: a keyword of such
    a rule, or an inline base64 image (whose extent a change elsewhere may move)."""
    return DATA_URI_MARK in text or _far_reaching_finder(engine)[0](text)


@functools.cache
def _far_reaching_finder(engine) -> tuple[Callable[[bytes], bool], int]:
    """A test for the keywords of the rules whose matches hold more than LINES line breaks, or whose
    keyword hits open search windows wider than REACH (a rule without keywords: every blob), and the
    length of the longest thing looked for: one Hyperscan pass where the package is installed, else
    one Aho-Corasick pass over the lower-cased text."""
    long_rules = [r for r in engine.rules if r.window > REACH or r.line_breaks > LINES]
    if any(not r.keywords for r in long_rules):
        return (lambda data: True), 0
    words = sorted({kw.lower().encode("utf-8") for r in long_rules for kw in r.keywords})
    longest = max([len(DATA_URI_MARK), *map(len, words)])
    if not words:
        return (lambda data: False), longest
    scan = compile_scanner(words, first_only=True, caseless=True, literal=True)
    if scan is not None:
        return (lambda data: bool(scan(data))), longest
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for word in words:
        automaton.add_word(word.decode("latin-1"), 0)  # the text is searched as latin-1: byte for byte
    automaton.make_automaton()
    return (lambda data: next(automaton.iter(data.lower().decode("latin-1")), None) is not None), longest


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the longest common start (tests/test_revisions.py::test_common_prefix_and_suffix_are_the_naive_ones)."""
    return _common_length(min(len(a), len(b)), lambda lo, hi: a[lo:hi] == b[lo:hi])


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """Length of the longest common end, at most limit (so that it does not overlap the common start)."""
    la, lb = len(a), len(b)
    return _common_length(limit, lambda lo, hi: a[la - hi : la - lo] == b[lb - hi : lb - lo])


def _common_length(limit: int, same: Callable[[int, int], bool]) -> int:
    """The longest length up to limit whose bytes agree, where same(lo, hi) tells whether those lo..hi from
    the edge do. Blocks doubling from the edge are compared (C comparisons of slices) until one differs, then
    that block is halved: the bytes copied stay near twice the common length, where halving the whole file
    first copied it again and again (most versions differ near their start)."""
    lo, step = 0, _FIRST_BLOCK
    while lo < limit:
        hi = min(limit, lo + step)
        if not same(lo, hi):
            break
        lo, step = hi, step * 2
    else:
        return max(0, limit)
    while hi - lo > 1:  # the lo bytes from the edge agree; the hi do not
        mid = (lo + hi) // 2
        if same(lo, mid):
            lo = mid
        else:
            hi = mid
    return lo


_FIRST_BLOCK = 256


def _line_start(data: bytes, pos: int) -> int:
    return 0 if pos <= 0 else data.rfind(b"\n", 0, pos) + 1


def _lines_back(data: bytes, line_start: int, count: int) -> int:
    """The start of the line count lines before the one starting at line_start."""
    for _ in range(count):
        if line_start <= 0:
            return 0
        line_start = data.rfind(b"\n", 0, line_start - 1) + 1
    return line_start


def _lines_on(data: bytes, line_start: int, count: int) -> int:
    """The start of the line count lines after the one starting at line_start (or the end)."""
    for _ in range(count):
        end = data.find(b"\n", line_start)
        if end < 0:
            return len(data)
        line_start = end + 1
    return line_start


def _line_end(data: bytes, pos: int) -> int:
    """Just after the newline ending the line at pos (the start of the next line), or the end."""
    if pos >= len(data):
        return len(data)
    end = data.find(b"\n", max(pos, 0))
    return len(data) if end < 0 else end + 1


class RecentVersions:
    """The last version of each file this process scanned, with its matches, up to a byte budget (the
    least recently scanned dropped first): the bases that the file's other versions are scanned
    against. A version is dropped once another version of its file is in (a version whose base was
    dropped so, on another branch, is scanned whole)."""

    def __init__(self, budget: int = 24 << 20):
        self.budget = budget
        self._entries: dict[str, tuple[str, Version]] = {}  # insertion order: oldest first
        self._latest: dict[str, str] = {}  # path -> the oid of its version kept
        self._bytes = 0

    def get(self, oid: str, path: str) -> Version | None:
        """The version, if it was scanned as this path (rules, test-file confidence and language
        context depend on the path: a blob copied from elsewhere is not a base)."""
        entry = self._entries.get(oid)
        return entry[1] if entry is not None and entry[0] == path else None

    def put(self, oid: str, path: str, version: Version) -> None:
        if oid in self._entries or len(version.data) > self.budget:
            return
        if (before := self._latest.get(path)) is not None:
            self._drop(before)
        self._latest[path] = oid
        self._entries[oid] = (path, version)
        self._bytes += len(version.data)
        while self._bytes > self.budget:
            self._drop(next(iter(self._entries)))

    def _drop(self, oid: str) -> None:
        entry = self._entries.pop(oid, None)
        if entry is not None:
            self._bytes -= len(entry[1].data)
            if self._latest.get(entry[0]) == oid:
                del self._latest[entry[0]]

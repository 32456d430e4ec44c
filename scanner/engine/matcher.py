"""Matchers find candidate matches: (rule, regex match) pairs for one blob.

The engine asks a matcher for candidates and then confirms, filters and scores them; it does
not care how they were found. The portable matcher runs an Aho-Corasick keyword prefilter
over the lower-cased blob and then each triggered rule's regex near its keyword hits.
A faster backend (Hyperscan) can implement the same interface.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from scanner.engine.context.hints import HINT_WORDS
from scanner.engine.prefilter import Prefilter
from scanner.rules.model import NEAR_START, Rule
from scanner.rules.patterns import KEYWORD_LEAD

if TYPE_CHECKING:
    from scanner.engine.decoders import Facts

RuleMatch = tuple[Rule, "object"]  # (rule, regex match object with a 'secret' group): what a matcher yields

# The most time one rule's regex may take over one blob (the `regex` module's timeout): a pattern that
# backtracks without end on some input is stopped there, and the blob reported as not fully checked.
# Only rules that may backtrack (scanner.rules.loader.may_backtrack) run under it: the timeout argument
# itself cost 10-15% of the portable engine's throughput when every rule had it.
REGEX_SECONDS = 5.0


class Matcher(Protocol):
    name: str

    def scan(self, data: bytes, path: str, hints: bool) -> tuple[list[RuleMatch], Prescan]:
        """The candidates, and what the matcher learnt of the blob on the way: (if hints) the ascending
        offsets just after each context hint word, and perhaps the decoders' facts."""

    def take_notes(self) -> tuple[list[str], int]:
        """What the scans since the last call could not finish (rules out of regex time, regions past the
        decoders' budget), and reset."""


class PortableMatcher:
    """pyahocorasick keyword hits, then the rule's regex (compiled on first use) near them."""

    name = "portable"

    def __init__(self, rules: list[Rule]):
        self.rules = rules
        self.prefilter = Prefilter(rules, extra_words=HINT_WORDS)
        self.regex_seconds = REGEX_SECONDS
        self.timed_out: list[str] = []  # rules stopped by the regex time budget since take_notes()
        self._budgets: dict[str, float | None] = {}  # rule id -> its regex time budget (None: none needed)

    def budget(self, rule: Rule) -> float | None:
        """The regex time budget of a rule: REGEX_SECONDS where its pattern may backtrack, else none."""
        if (seconds := self._budgets.get(rule.id, -1.0)) != -1.0:
            return seconds
        from scanner.rules.loader import may_backtrack

        seconds = self._budgets[rule.id] = self.regex_seconds if may_backtrack(rule.pattern) else None
        return seconds

    def take_notes(self) -> tuple[list[str], int]:
        """What the scans since the last call could not finish, and reset: the ids of rules whose regex
        ran out of time on a blob, and how many regions spent the decoders' budget."""
        from scanner.engine.decoders import budget_spent

        timed_out, self.timed_out = self.timed_out, []
        return timed_out, budget_spent()

    def keyword_hits(self, data: bytes) -> dict[int, list[int]]:
        """Keyword id -> ascending start offsets of its (ASCII case-insensitive) hits in the blob."""
        return self.prefilter.hits(data)

    def prescan(self, data: bytes, hints: bool = False, path: str = "") -> Prescan:
        """Keyword hits and (if hints) the ends of the hint words: the hint words are keywords too, so
        one pass finds both. The portable matcher cannot tell which rules can match or where."""
        hits = self.keyword_hits(data)
        return Prescan(hits, hint_ends=self.prefilter.extra_ends(hits) if hints else [])

    def scan(self, data: bytes, path: str, hints: bool) -> tuple[list[RuleMatch], Prescan]:
        pre = self.prescan(data, hints, path)
        return list(self._matches(data, path, pre)), pre

    def _matches(self, data: bytes, path: str, pre: Prescan) -> Iterator[RuleMatch]:
        size, hits = len(data), pre.hits
        # Rules sharing keywords and window size share their search windows: computed once per blob.
        windows_for: dict[tuple, list[tuple[int, int]]] = {}
        # Rules run in the order their first keyword appears: where two rules tie for the same text,
        # the engine keeps the first, and the keyword met first (the provider name before the
        # value, say) is the better witness.
        first = pre.first if pre.first is not None else {k: positions[0] for k, positions in hits.items()}
        triggered, always = self.prefilter.triggered(first), self.prefilter.always
        if pre.possible is not None:
            triggered, always = triggered & pre.possible, [i for i in always if i in pre.possible]
        first_hit = {idx: min(first[k] for k in self.prefilter.rule_keywords[idx] if k in first)
                     for idx in triggered}
        for idx in sorted(first_hit, key=lambda i: (first_hit[i], i)) + always:
            rule = self.rules[idx]
            if rule.paths and not rule.applies_to(path):
                continue
            ranges = pre.ranges.get(idx) if pre.ranges is not None else None
            leads = rule.keyword_leads if rule.max_width is not None else None
            if leads is not None:
                starts = [(hits[k], leads[word]) for word in rule.keywords
                          if (k := self.prefilter.keyword_ids[word]) in hits]
                try:
                    for m in starting_near(rule, data, starts, self.budget(rule)):
                        if ranges is None or _inside(m.start(), ranges):
                            yield rule, m
                except TimeoutError:
                    self.timed_out.append(rule.id)
                continue
            before = keyword_lead(rule)
            key = (self.prefilter.rule_keywords[idx], before, rule.window)
            windows = windows_for.get(key)
            if windows is None:
                positions = _merged([hits[k] for k in key[0] if k in hits])
                windows = windows_for[key] = search_windows(positions, rule.window, size, before)
            if ranges is not None:
                windows = _intersect(windows, ranges)
            try:
                for m in starting_in(rule, data, windows, self.budget(rule)):
                    yield rule, m
            except TimeoutError:
                self.timed_out.append(rule.id)


@dataclass(slots=True)
class Prescan:
    """What a matcher learns of a blob before running rule regexes."""

    hits: dict[int, list[int]]  # keyword id -> ascending start offsets
    possible: set[int] | None = None  # rules that can match anywhere in the blob; None: not known
    hint_ends: list[int] = field(default_factory=list)  # just after each context hint word
    # Rule -> the only ranges its matches can start in (a large blob, located block by block); a rule
    # not in it, or None: anywhere its windows allow.
    ranges: dict[int, list[tuple[int, int]]] | None = None
    # Keyword id -> its first hit in the whole blob, where `hits` holds only the hits near `ranges`.
    first: dict[int, int] | None = None
    # What the decoders look for (scanner.engine.decoders.Facts), where the matcher's pass found it too.
    decoder_facts: Facts | None = None


def starting_in(rule: Rule, data: bytes, spans: list[tuple[int, int]], timeout: float | None = None) -> Iterator:
    """The rule's non-overlapping matches, leftmost first, that start inside the ascending spans.

    A match may run past its span's end by up to the rule's width, so where a search window ends
    never cuts a secret short or makes a truncated text match; a rule of unbounded width is searched
    within each span only (its matches are confined to it).
    """
    width, size, cursor = rule.max_width, len(data), 0
    for lo, hi in spans:
        lo = max(lo, cursor)
        if lo >= hi:
            continue
        end = hi if width is None else min(size, hi + width + 1)
        for m in rule.regex.finditer(data, lo, end, timeout=timeout):
            if m.start() >= hi:
                break
            cursor = m.end()
            yield m


NEAR_REGEX_AFTER = 256  # keyword hits of a rule in one process before its near_regex is compiled


def starting_near(rule: Rule, data: bytes, hits: list[tuple[list[int], int]], timeout: float | None = None) -> Iterator:
    """The matches of a rule of bounded width whose matches start at most a known lead before one of its
    keyword hits (rule.keyword_leads), leftmost first and
    non-overlapping, as starting_in yields them through the windows around the same hits.

    hits: for each of its keywords, the ascending offsets of its hits and its lead (the most bytes
    before a hit a match may start, rule.keyword_leads). Only those starts are tried, with one anchored
    C call per hit (rule.near_regex skips up to the lead), where a search through a window after each
    hit would try every start in it.
    """
    width = rule.max_width
    assert width is not None  # only rules of bounded width come here (the caller checks max_width)
    # Each hit as the range of starts it allows, lowest first: (first start) * 32 + (its lead), one int
    # so that the sort is of ints.
    ranges = sorted((p - lead) * 32 + lead if p >= lead else p for positions, lead in hits for p in positions)
    # The near pattern costs a compile (milliseconds with `regex`, in every worker): until a rule has had
    # NEAR_REGEX_AFTER hits in this process, each start a hit allows is tried with an anchored match of the
    # rule's own pattern instead, which finds the same leftmost start (not a search: that would try every
    # start up to the rule's width, 1,000 bytes for some). tests/test_backends.py sends every example both ways.
    rule.near_tries += len(ranges)
    near = rule.near_regex if rule.near_tries > NEAR_REGEX_AFTER else None
    match = rule.regex.match
    tried = 0  # no match starts below this (or it lies inside one already yielded)
    for code in ranges:
        first = code >> 5
        last = first + (code & 31)
        lo = first if first > tried else tried
        while lo <= last:
            m = None
            if near is not None:
                # endpos far enough that no match is cut short: as in starting_in, it never decides a match
                found = near.match(data, lo, last + width + 1, timeout=timeout)
                start = last + 1 if found is None else found.start(NEAR_START)
                if start <= last:  # near_regex skips up to KEYWORD_LEAD bytes: past last is not this hit's
                    m = match(data, start, start + width + 1, timeout=timeout)
            else:
                for start in range(lo, last + 1):
                    if (m := match(data, start, start + width + 1, timeout=timeout)) is not None:
                        break
            if m is None:
                tried = last + 1
                break
            yield m
            tried = m.end() if m.end() > start else start + 1
            lo = first if first > tried else tried


def _inside(offset: int, ranges: list[tuple[int, int]]) -> bool:
    i = bisect.bisect_right(ranges, (offset, float("inf"))) - 1
    return i >= 0 and ranges[i][0] <= offset < ranges[i][1]


def _intersect(windows: list[tuple[int, int]], ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of the ascending windows inside the ascending ranges."""
    out, j = [], 0
    for lo, hi in windows:
        while j < len(ranges) and ranges[j][1] <= lo:
            j += 1
        k = j
        while k < len(ranges) and ranges[k][0] < hi:
            out.append((max(lo, ranges[k][0]), min(hi, ranges[k][1])))
            k += 1
    return out


def _merged(lists: list[list[int]]) -> list[int]:
    if len(lists) == 1:
        return lists[0]
    return sorted(p for positions in lists for p in positions)


def keyword_lead(rule: Rule) -> int:
    """How far before a keyword hit the rule's match can start (its search window's lead)."""
    return KEYWORD_LEAD if rule.name_delimiters is not None else rule.window


def search_windows(positions: list[int], window: int, size: int, before: int | None = None) -> list[tuple[int, int]]:
    """Where to run a rule's regex: around its keyword hits, or the whole blob if it has no keywords.

    A keyword lies inside or near its rule's match, so a window of `before` bytes before a hit and
    `window` after (both rule.window unless the pattern starts at its keyword) holds every match;
    patterns that start with a loose prefix then cost little per blob.
    """
    if not positions:
        return [(0, size)]
    before = window if before is None else before
    windows: list[tuple[int, int]] = []
    lo, hi = positions[0] - before, positions[0] + window
    for p in positions:
        if p - before <= hi:
            hi = max(hi, p + window)
        else:
            windows.append((max(0, lo), min(size, hi)))
            lo, hi = p - before, p + window
    windows.append((max(0, lo), min(size, hi)))
    return windows

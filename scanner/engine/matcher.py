"""Matchers find candidate matches: (rule, regex match) pairs for one blob.

The engine asks a matcher for candidates and then confirms, filters and scores them; it does
not care how they were found. The portable matcher runs an Aho-Corasick keyword prefilter
over the lower-cased blob and then each triggered rule's regex near its keyword hits.
A faster backend (Hyperscan) can implement the same interface.
"""
from __future__ import annotations

from typing import Iterator, Protocol

from scanner.engine.prefilter import Prefilter
from scanner.rules.model import Rule

Candidate = tuple[Rule, "object"]  # (rule, regex match object with a 'secret' group)


class Matcher(Protocol):
    name: str

    def candidates(self, data: bytes, path: str) -> Iterator[Candidate]:
        """Every (rule, match) for the blob, for rules that apply to this path."""


class PortableMatcher:
    """pyahocorasick keyword hits, then the rule's regex (compiled on first use) near them."""

    name = "portable"

    def __init__(self, rules: list[Rule]):
        self.rules = rules
        self.prefilter = Prefilter(rules)

    def candidates(self, data: bytes, path: str) -> Iterator[Candidate]:
        # bytes.lower() touches only ASCII and latin-1 maps byte to char, so offsets stay byte offsets.
        hits = self.prefilter.hits(data.lower().decode("latin-1"))
        size = len(data)
        # Rules sharing keywords and window size share their search windows: computed once per blob.
        windows_for: dict[tuple, list[tuple[int, int]]] = {}
        # Rules run in the order their first keyword appears: where two rules tie for the same text,
        # the engine keeps the first, and the keyword met first (the provider name before the
        # value, say) is the better witness.
        first_hit = {idx: min(hits[k][0] for k in self.prefilter.rule_keywords[idx] if k in hits)
                     for idx in self.prefilter.triggered(hits)}
        for idx in sorted(first_hit, key=lambda i: (first_hit[i], i)) + self.prefilter.always:
            rule = self.rules[idx]
            if rule.paths and not rule.applies_to(path):
                continue
            key = (self.prefilter.rule_keywords[idx], rule.window)
            windows = windows_for.get(key)
            if windows is None:
                positions = _merged([hits[k] for k in key[0] if k in hits])
                windows = windows_for[key] = search_windows(positions, rule.window, size)
            for lo, hi in windows:
                for m in rule.regex.finditer(data, lo, hi):
                    yield rule, m


def _merged(lists: list[list[int]]) -> list[int]:
    if len(lists) == 1:
        return lists[0]
    return sorted(p for positions in lists for p in positions)


def search_windows(positions: list[int], window: int, size: int) -> list[tuple[int, int]]:
    """Where to run a rule's regex: around its keyword hits, or the whole blob if it has no keywords.

    A keyword lies inside or near its rule's match, so a window of rule.window bytes either side
    holds every match; patterns that start with a loose prefix then cost little per blob.
    """
    if not positions:
        return [(0, size)]
    windows: list[tuple[int, int]] = []
    lo, hi = positions[0] - window, positions[0] + window
    for p in positions:
        if p - window <= hi:
            hi = max(hi, p + window)
        else:
            windows.append((max(0, lo), min(size, hi)))
            lo, hi = p - window, p + window
    windows.append((max(0, lo), min(size, hi)))
    return windows

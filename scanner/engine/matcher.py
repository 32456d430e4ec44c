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
        for idx in [*hits, *self.prefilter.always]:
            rule = self.rules[idx]
            if rule.paths and not rule.applies_to(path):
                continue
            for lo, hi in search_windows(rule, hits.get(idx), len(data)):
                for m in rule.regex.finditer(data, lo, hi):
                    yield rule, m


def search_windows(rule: Rule, positions: list[int] | None, size: int) -> list[tuple[int, int]]:
    """Where to run the rule's regex: around its keyword hits, or the whole blob if it has no keywords.

    A keyword lies inside or near its rule's match, so a window of rule.window bytes either side
    holds every match; patterns that start with a loose prefix then cost little per blob.
    """
    if not positions:
        return [(0, size)]
    windows: list[tuple[int, int]] = []
    for p in positions:
        lo, hi = max(0, p - rule.window), min(size, p + rule.window)
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
        else:
            windows.append((lo, hi))
    return windows

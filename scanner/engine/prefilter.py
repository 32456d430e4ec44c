"""Aho-Corasick keyword prefilter: which rules can match this blob, and where to look."""
from __future__ import annotations

import ahocorasick

from scanner.rules.model import Rule


class Prefilter:
    """One automaton over every rule keyword, run once over the lower-cased blob."""

    def __init__(self, rules: list[Rule]):
        self.always: list[int] = [i for i, r in enumerate(rules) if not r.keywords]
        by_keyword: dict[str, list[int]] = {}
        for i, rule in enumerate(rules):
            for kw in rule.keywords:
                by_keyword.setdefault(kw, []).append(i)
        self.automaton = ahocorasick.Automaton()
        for kw, idxs in by_keyword.items():
            self.automaton.add_word(kw, (len(kw), tuple(idxs)))
        if by_keyword:
            self.automaton.make_automaton()
        self._empty = not by_keyword

    def hits(self, lowered: str) -> dict[int, list[int]]:
        """Rule index -> start offsets of its keyword hits in the lower-cased blob."""
        found: dict[int, list[int]] = {}
        if self._empty:
            return found
        for end, (length, idxs) in self.automaton.iter(lowered):
            start = end - length + 1
            for i in idxs:
                found.setdefault(i, []).append(start)
        return found

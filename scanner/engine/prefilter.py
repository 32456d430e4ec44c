"""Aho-Corasick keyword prefilter: which rules can match this blob, and where to look."""
from __future__ import annotations

from collections.abc import Mapping

import ahocorasick

from scanner.rules.model import Rule

_CHUNK = 1 << 20


class Prefilter:
    """One automaton over every rule keyword, run once over the lower-cased blob.

    Hits are recorded per keyword, not per rule: a keyword such as "key" is shared by dozens
    of rules, and one append per hit keeps the per-hit Python cost flat.
    """

    def __init__(self, rules: list[Rule], extra_words: tuple[str, ...] = ()):
        self.always: list[int] = [i for i, r in enumerate(rules) if not r.keywords]
        keywords = sorted({kw for r in rules for kw in r.keywords})
        self.keyword_ids = {kw: i for i, kw in enumerate(keywords)}
        self.rules_by_keyword: list[list[int]] = [[] for _ in keywords]
        self.rule_keywords: list[tuple[int, ...]] = []
        for i, rule in enumerate(rules):
            ids = tuple(sorted(self.keyword_ids[kw] for kw in rule.keywords))
            self.rule_keywords.append(ids)
            for k in ids:
                self.rules_by_keyword[k].append(i)
        # Words searched for another stage (context's hints) in the same pass: a word that is also a
        # rule keyword shares its id, the others get ids that trigger no rule.
        self.extra_ids: dict[str, int] = {}
        for word in extra_words:
            if word not in self.keyword_ids:
                self.keyword_ids[word] = len(self.rules_by_keyword)
                self.rules_by_keyword.append([])
            self.extra_ids[word] = self.keyword_ids[word]
        self.automaton = ahocorasick.Automaton()
        for kw, k in self.keyword_ids.items():
            self.automaton.add_word(kw, (k, len(kw)))
        if self.keyword_ids:
            self.automaton.make_automaton()
        self._empty = not self.keyword_ids
        self.longest = max(map(len, self.keyword_ids), default=1)

    def hits(self, data: bytes) -> dict[int, list[int]]:
        """Keyword id -> ascending start offsets of its (ASCII case-insensitive) hits in the blob."""
        found: dict[int, list[int]] = {}
        if self._empty:
            return found
        # A chunk at a time: pyahocorasick copies its text to 4 bytes a character (128 MB for a 32 MB
        # log). Each chunk reads on by the longest keyword less one and keeps the hits starting in it.
        for lo in range(0, len(data), _CHUNK):
            hi = lo + _CHUNK
            # bytes.lower() touches only ASCII and latin-1 maps byte to char, so offsets stay byte offsets.
            text = data[lo : hi + self.longest - 1].lower().decode("latin-1")
            for end, (k, length) in self.automaton.iter(text):
                start = lo + end - length + 1
                if start >= hi:
                    continue  # the next chunk's
                positions = found.get(k)
                if positions is None:
                    found[k] = [start]
                else:
                    positions.append(start)
        return found

    def extra_ends(self, hits: dict[int, list[int]]) -> list[int]:
        """Ascending offsets just after each hit of an extra word."""
        ends = [p + len(word) for word, k in self.extra_ids.items() for p in hits.get(k, ())]
        ends.sort()
        return ends

    def triggered(self, hits: Mapping[int, object]) -> set[int]:
        """Indices of the rules one of whose keywords was hit."""
        rules: set[int] = set()
        for k in hits:
            rules.update(self.rules_by_keyword[k])
        return rules

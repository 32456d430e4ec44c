"""From findings to validation candidates, with the identifier each secret needs beside it.

An AWS secret key is asked about with its access key id, which its rule does not capture: the key id is an
identifier finding of its own (rule kind `identifier`). A secret whose rule captured no key id gets the
identifier of its own provider found beside it: same repository, same file, within PAIR_LINES lines (the
neighbour rule linking uses). The identifier goes only to that same provider, with its secret.
tests/test_validate_sweep.py::test_e1_verified_active_through_a_sweep_scores_90.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from scanner.model import Finding
from scanner.validate.result import Candidate

PAIR_LINES = 5
_KEY_ID_GROUPS = ("key_id", "access_key_id")


@dataclass(frozen=True)
class Held:
    """A finding with its secret, in memory only, and where it was seen: (repository, path, line) each."""

    finding: Finding
    secret: str
    places: tuple[tuple[str, str, int], ...]


def candidates_of(held: Sequence[Held]) -> list[Candidate]:
    """One candidate per held finding, in order; a secret with no captured key id gets the identifier of its
    provider beside it as `key_id`."""
    beside: dict[tuple[str, str], list[tuple[int, str, str]]] = defaultdict(list)
    for h in held:
        if h.finding.kind == "identifier":
            for repo, path, line in h.places:
                beside[(repo, path)].append((line, h.finding.provider, h.secret))
    out = []
    for h in held:
        groups = dict(h.finding.groups)
        if h.finding.kind != "identifier" and not any(groups.get(g) for g in _KEY_ID_GROUPS):
            near = sorted((abs(line - at), value) for repo, path, at in h.places
                          for line, provider, value in beside.get((repo, path), ())
                          if provider == h.finding.provider and abs(line - at) <= PAIR_LINES)
            if near:
                groups["key_id"] = near[0][1]
        out.append(Candidate(h.finding.rule_id, h.finding.provider, h.secret, groups))
    return out

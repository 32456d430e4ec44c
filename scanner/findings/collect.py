"""Group matches by credential: one Finding per (rule, secret), with every location it was seen."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

from scanner.engine.previews import preview
from scanner.model import CONFIDENCE_RANK, Finding, Location, Match, Provenance
from scanner.rules.model import RuleSet


def portable_fingerprint(rule_id: str, secret: str) -> str:
    """Stable on every machine with no key: the rule id and a SHA-256 of the secret.

    It is a hash of the secret (as in detect-secrets baselines): fine to commit, but a weak
    password can be guessed from it, so the datastore uses a keyed fingerprint instead.
    """
    digest = hashlib.sha256(f"{rule_id}\x00{secret}".encode()).hexdigest()
    return digest[:32]


def _location(match: Match, path: str, source: str, provenance: Provenance) -> Location:
    # The engine masked every secret in the snippet (scanner.engine.core._masked_snippet).
    return Location(path, match.line, match.column, source, provenance, match.snippet.strip()[:300], match.start,
                    match.end)


class FindingCollector:
    """Accumulates matches from many blobs into findings keyed by credential."""

    def __init__(self, ruleset: RuleSet, show_secrets: bool = False):
        self.ruleset = ruleset
        self.show_secrets = show_secrets
        self._by_key: dict[tuple[str, str], Finding] = {}
        self._seen_locations: dict[tuple[str, str], set] = {}
        self._sorted: list[tuple[str, Finding]] | None = None  # items(), until the next add()

    def add(self, matches: Iterable[Match], path: str, source: str = "file",
            provenance: Provenance | None = None) -> None:
        self._sorted = None
        for m in matches:
            key = (m.rule_id, m.secret)
            finding = self._by_key.get(key)
            if finding is None:
                finding = self._new_finding(m)
                self._by_key[key] = finding
                self._seen_locations[key] = set()
            elif CONFIDENCE_RANK[m.confidence] > CONFIDENCE_RANK[finding.confidence]:
                finding.confidence = m.confidence
                finding.reasons = list(m.reasons)
            loc = _location(m, path, source, provenance or Provenance())
            if loc.key() not in self._seen_locations[key]:
                self._seen_locations[key].add(loc.key())
                finding.locations.append(loc)

    def _new_finding(self, m: Match) -> Finding:
        rule = self.ruleset.by_id[m.rule_id]
        return Finding(
            rule_id=rule.id,
            rule_name=rule.name,
            provider=rule.provider,
            kind=rule.kind,
            fingerprint=portable_fingerprint(rule.id, m.secret),
            preview=preview(m.secret),
            confidence=m.confidence,
            entropy=m.entropy,
            privilege=rule.privilege,
            lifetime=rule.lifetime,
            remediation=rule.remediation,
            reasons=list(m.reasons),
            locations=[],
            secret=m.secret if self.show_secrets else None,
            groups=dict(m.groups),
            publishable=rule.publishable,
        )

    def items(self) -> list[tuple[str, Finding]]:
        """(secret, finding) pairs, for suppression checks that need the value; the secret stays in memory."""
        if self._sorted is not None:
            return self._sorted
        out = [(key[1], f) for key, f in self._by_key.items()]
        for _secret, f in out:
            # Git locations sort oldest first, so the first location is the introducing commit.
            f.locations.sort(key=lambda loc: (loc.provenance.date, loc.path, loc.line, loc.column))
        out.sort(key=lambda sf: (-CONFIDENCE_RANK[sf[1].confidence], sf[1].first_location.path,
                                 sf[1].first_location.line))
        self._sorted = out
        return out

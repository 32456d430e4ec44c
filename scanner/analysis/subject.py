"""What analysis needs to know about one finding, whether it comes from a scan or from the datastore.

A Subject wraps a Finding with the facts the scan itself does not carry: the keyed credential
fingerprint (the datastore's), the repository of each location, whether a location is public,
ignored or at HEAD, and what validation said about liveness.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from scanner.findings.facts import KEY_ID_FACTS, facts_of
from scanner.model import Finding, Location

LIVENESS = ("active", "unknown", "indeterminate", "revoked", "expired")
# Rules whose match names a thing rather than granting access: evidence for the secret beside them, never a
# credential of their own (DESIGN section 7). Rule kind `identifier`, or one of these id shapes.
# `NAME = value`, `NAME: value`, `"NAME": "value"`, `export NAME=value`, `--name value`
_ASSIGN = re.compile(r"""(?:^|[\s{,;(])(?:export\s+)?["']?([A-Za-z_][A-Za-z0-9_.\-]*)["']?\s*(?::=|=>|[=:])\s*["']?$""")


@dataclass
class Subject:
    finding: Finding
    credential_key: str | None = None  # keyed HMAC fingerprint from the datastore, when there is one
    liveness: str = "unknown"
    default_repo: str | None = None  # the repository a filesystem scan ran in
    public_repos: frozenset[str] = frozenset()
    first_seen: datetime | None = None
    privilege: str | None = None  # from validation, when it ran
    facts: dict = field(default_factory=dict)  # non-secret facts read from the secret (JWT sub, exp): secret_facts()

    @property
    def fingerprint(self) -> str:
        return self.finding.fingerprint

    def repo_of(self, loc: Location) -> str | None:
        return loc.provenance.repo or self.default_repo

    @property
    def repos(self) -> list[str]:
        return sorted({r for r in (self.repo_of(loc) for loc in self.finding.locations) if r})

    def assignment_names(self) -> list[str]:
        """Variable or key names the secret was assigned to, read from the redacted snippets."""
        names = []
        for loc in self.finding.locations:
            name = assignment_name(loc.snippet, self.finding.preview)
            if name and name not in names:
                names.append(name)
        return names

    def first_seen_at(self) -> datetime | None:
        if self.first_seen:
            return self.first_seen
        parsed = [parse_when(loc.provenance.date) for loc in self.finding.locations]
        dates = [d for d in parsed if d]
        return min(dates) if dates else None

    def key_ids(self) -> set[str]:
        """Non-secret identifiers captured beside the secret: AWS key id, private_key_id, client_email, JWT sub."""
        keep = ("id", "key_id", "access_key_id", "private_key_id", "client_email", "client_id", "sub", "app_id", "user")
        return {str(v) for k, v in self.finding.groups.items() if k in keep and v} | set(self.facts.get("key_ids", ()))


def is_identifier(finding: Finding) -> bool:
    """An AWS key id, Azure tenant/client/subscription id, storage account name, GCP client id...: never scored
    or ranked (tests/test_blast_radius.py::test_identifiers_are_evidence_never_scored)."""
    return finding.kind == "identifier"  # rule data (docs/rules.md), never a rule id


def assignment_name(snippet: str, preview: str) -> str | None:
    if not snippet:
        return None
    head = snippet.split(preview, 1)[0] if preview and preview in snippet else ""
    if not head:
        return None
    m = _ASSIGN.search(head.rstrip())
    return m.group(1) if m else None


def parse_when(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        d = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def subject_facts(pairs: list[tuple[str, str, str]] | list[tuple[str, str]]) -> dict:
    """What linking and scoring read from facts, the same from a scan in process and from the datastore:
    `key_ids` (JWT sub, SA key ids...), `expires` (the exp claim) and `ttl_seconds` (exp - iat)."""
    values: dict[str, list[str]] = {}
    for pair in pairs:
        values.setdefault(pair[0], []).append(pair[1])
    facts: dict = {"key_ids": sorted({v for n in KEY_ID_FACTS for v in values.get(n, ()) if v})}
    exp, iat = _number(values.get("exp")), _number(values.get("iat"))
    if exp is not None:
        facts["expires"] = datetime.fromtimestamp(exp, UTC)
        if iat is not None and exp > iat:
            facts["ttl_seconds"] = int(exp - iat)
    if values.get("token_type"):
        facts["token_type"] = values["token_type"][0]
    return facts


def _number(values: list[str] | None) -> float | None:
    try:
        return float(values[0]) if values else None
    except ValueError:
        return None


def secret_facts(secret: str | None) -> dict:
    """What a secret says about itself without being a secret (a JWT's sub, lifetime and expiry)."""
    pairs = [(n, v) for n, v, _src in facts_of(_NO_GROUPS, secret)] if secret else []
    return subject_facts(pairs) if pairs else {}


_NO_GROUPS = Finding(rule_id="", rule_name="", provider="", kind="", fingerprint="", preview="", confidence="",
                     entropy=0.0, privilege="", lifetime="", remediation="", reasons=[], locations=[])

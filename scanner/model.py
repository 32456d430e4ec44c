"""The data that flows through the pipeline: Blob -> Match -> Finding.

Plain dataclasses; sources build Blobs, the engine builds Matches, and
scanner.findings groups Matches into Findings by credential.
"""
from __future__ import annotations

from dataclasses import dataclass, field

CONFIDENCE_RANK = {"low": 0, "medium": 1, "high": 2}


@dataclass(slots=True)
class Blob:
    """Bytes to scan plus where they came from. Sources never know about rules."""

    data: bytes
    path: str
    source: str = "file"  # file | stdin | git | staged | archive | text
    provenance: dict = field(default_factory=dict)  # commit, author, date, member path...


@dataclass(slots=True)
class Match:
    """One occurrence of a candidate secret in one blob, confirmed by a rule."""

    rule_id: str
    provider: str
    kind: str
    secret: str
    start: int  # byte offset of the secret in the blob
    end: int
    line: int  # 1-based
    column: int  # 1-based, in bytes
    confidence: str
    entropy: float
    reasons: list[str] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # other named groups (id, user, host...)
    line_text: str = ""  # the source line, for allow markers and redacted snippets
    allowed_by: str | None = None  # inline marker that allows it, if any


@dataclass(slots=True)
class Location:
    path: str
    line: int
    column: int
    source: str = "file"
    provenance: dict = field(default_factory=dict)
    snippet: str = ""  # the line with the secret redacted

    def key(self) -> tuple:
        return (self.path, self.line, self.column, tuple(sorted(self.provenance.items())))


@dataclass(slots=True)
class Finding:
    """One credential found by one rule, with every place it appears."""

    rule_id: str
    rule_name: str
    provider: str
    kind: str
    fingerprint: str  # portable: rule id + hash of the secret; no key needed
    preview: str  # redacted
    confidence: str
    entropy: float
    privilege: str
    lifetime: str
    remediation: str
    reasons: list[str]
    locations: list[Location]
    secret: str | None = None  # only with --show-secrets
    groups: dict[str, str] = field(default_factory=dict)
    analysis: dict | None = None  # owner, link and blast radius, once an inventory analysis ran

    @property
    def first_location(self) -> Location:
        return self.locations[0]

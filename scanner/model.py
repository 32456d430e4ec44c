"""The data that flows through the pipeline: Blob -> Match -> Finding -> ScanResult.

Plain dataclasses, and the only module every stage may import: sources build Blobs with a
typed Provenance, the engine builds Matches, scanner.findings groups them into Findings,
scanner.analysis attaches a FindingAnalysis, and reporters read a ScanResult without
recomputing anything (docs/architecture.md).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scanner.rules.model import RuleSet

CONFIDENCE_RANK = {"low": 0, "medium": 1, "high": 2}
CONFIDENCES = tuple(CONFIDENCE_RANK)

# Blast-radius bands (docs/blast-radius.md): a score below the limit falls in the band.
BANDS = ((20, "info"), (40, "low"), (60, "medium"), (80, "high"), (101, "critical"))
BAND_NAMES = tuple(name for _limit, name in BANDS)  # lowest first

# Media kinds of text a secret leaked into (scanner.sources.logs.media_kind): a model vendor or a log
# shipper reads these, so they count as a log bundle, prompt or transcript in the blast radius.
LOG_MEDIA = frozenset({"prompt", "transcript", "mcp-log", "access-log", "http-log", "json-log", "log"})


MIN_FINGERPRINT_PREFIX = 8


def fingerprint_prefix(text: str) -> str:
    """A fingerprint as a user types it: a credential key or a portable fingerprint, whole or a prefix of at
    least MIN_FINGERPRINT_PREFIX characters (the one rule every lookup follows), normalized; else ValueError."""
    prefix = text.strip().lower()
    if len(prefix) < MIN_FINGERPRINT_PREFIX:
        raise ValueError(f"give at least {MIN_FINGERPRINT_PREFIX} characters of the fingerprint")
    return prefix


def band(score: int) -> str:
    """The band of a 0-100 blast-radius score."""
    return next(name for limit, name in BANDS if score < limit)


def confidence_rank(name: str) -> int:
    """The rank of a confidence name; ValueError (not KeyError) for a name that is none."""
    try:
        return CONFIDENCE_RANK[name]
    except KeyError:
        raise ValueError(f"unknown confidence {name!r}: one of {', '.join(CONFIDENCES)}") from None


@dataclass(slots=True)
class Provenance:
    """Where a blob (and so each match in it) came from, beyond its path.

    Every field a source does not know stays empty; `to_dict` leaves empty fields out, which is
    what the JSON report prints (tests/test_pipeline.py::test_provenance_round_trip).
    """

    commit: str = ""  # git: the commit that introduced the blob at this path
    author: str = ""
    email: str = ""
    date: str = ""  # ISO-8601 author date
    repo: str = ""  # the repository's name, as a sweep records it
    blob: str = ""  # git blob id
    at_head: bool | None = None  # git: still at a branch head (None: not known)
    media: str = ""  # what kind of text: prompt, transcript, json-log... (scanner.sources.logs.media_kind)
    seen: str = ""  # logs: the record's own timestamp
    visibility: str = ""  # public, internal or private, where the source knows its repository's
    ignored: bool = False  # a file git ignores (a local file that is never committed)
    # workstations (scanner.sources.workstation): the AI client whose file this is, and where in it
    client: str = ""  # claude-code, cursor, codex... (scanner.sources.workstation.layout.CLIENTS)
    scope: str = ""  # user, project or managed
    project: str = ""  # the project folder a project-scope declaration belongs to
    server: str = ""  # the MCP server whose block holds the value
    field: str = ""  # env, args, headers, url, mode, other (configs); content (transcripts)
    setting: str = ""  # the variable, header or setting name in that field
    session: str = ""  # transcripts: the session id
    role: str = ""  # transcripts: who wrote the text: user, assistant, tool_result, system, unknown

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            # at_head False is a fact (history only); an empty string, None or ignored=False is none.
            if value is not None and value != "" and (value is not False or f.name == "at_head"):
                out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provenance:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def key(self) -> tuple:
        return tuple(getattr(self, f.name) for f in fields(self))


@dataclass(slots=True)
class ChunkPlace:
    """Where a chunk of a stream sits in it, and which matches it owns: those starting in [cut_lo, cut_hi)
    of its data (consecutive chunks overlap, so a secret on an edge belongs to exactly one of them;
    scanner.sources.stream)."""

    offset: int  # absolute offset of the chunk's first byte in the stream
    line: int  # 1-based line number of that byte
    line_start: int  # absolute offset where the line holding it starts
    cut_lo: int
    cut_hi: int

    def owns(self, m: Match) -> bool:
        return self.cut_lo <= m.start < self.cut_hi

    def shift(self, m: Match) -> None:
        """Move a match found in the chunk to the stream's offsets, lines and columns."""
        if m.line == 1:
            # The match sits on the line that began before this chunk: its column counts from that line's start.
            m.column = self.offset + m.start - self.line_start + 1
        m.line += self.line - 1
        m.start += self.offset
        m.end += self.offset


@dataclass(slots=True)
class Blob:
    """Bytes to scan and where they came from. Sources build them and never know about rules; the pipeline
    runs the engine on them (tests/test_architecture.py::test_sources_yield_blobs_and_never_call_the_engine)."""

    data: bytes
    path: str  # as reported: a file, `bundle.tar.gz!logs/app.log`, or a git path
    source: str = "file"  # file | stdin | git | staged | archive | text
    provenance: Provenance = field(default_factory=Provenance)
    scan_as: str = ""  # the path the engine sees where it is not `path`: an archive member's own path
    part: ChunkPlace | None = None  # a chunk of a stream too large to read whole; None: the whole blob


@dataclass(slots=True)
class Skip:
    """Something a scan did not read, and why. `incomplete`: it could not be read (unreadable, corrupt,
    truncated, an archive bomb, a failed repository), so the run must not look clean (exit code 3);
    otherwise it was left out by policy (binary, over the size limit, excluded)."""

    path: str
    reason: str
    incomplete: bool = False


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
    snippet: str = ""  # the text around the secret, every secret in it masked by its preview
    allowed_by: str | None = None  # inline marker that allows it, if any


@dataclass(slots=True)
class Location:
    path: str
    line: int
    column: int
    source: str = "file"
    provenance: Provenance = field(default_factory=Provenance)
    snippet: str = ""  # the line with the secret redacted
    start: int = -1  # byte offsets of the secret's span in its blob (the file, member or git blob); -1: unknown
    end: int = -1

    def key(self) -> tuple:
        return (self.path, self.line, self.column, self.provenance.key())

    def history(self) -> str:
        """Where in a history this is, for reports: `repo@commit (author, date)`, and `history only` when the
        blob is at no branch head (tests/test_report_history.py); on a workstation, the client and what in
        its file holds the value (`cursor user server github env GITHUB_TOKEN`, `codex session X (tool_result)`;
        tests/test_workstation_reports.py); else empty."""
        p = self.provenance
        if p.client and not p.commit:
            held = (f"session {p.session} ({p.role or 'unknown'})" if p.session else
                    " ".join(x for x in (p.scope, f"server {p.server}" if p.server else "", p.field, p.setting) if x))
            return f"{p.client} {held}".strip()
        if not p.commit:
            return ""
        where = f"{p.repo}@{p.commit[:12]}" if p.repo else p.commit[:12]
        who = ", ".join(x for x in (p.author, p.date[:10]) if x)
        tail = "; history only" if p.at_head is False else ""
        return f"{where}{f' ({who})' if who else ''}{tail}"

    def to_dict(self) -> dict[str, Any]:
        out = {"path": self.path, "line": self.line, "column": self.column, "source": self.source,
               "provenance": self.provenance.to_dict(), "snippet": self.snippet}
        if self.start >= 0:
            out.update(start=self.start, end=self.end)
        return out


@dataclass(slots=True)
class LinkEvidence:
    """One piece of evidence that a credential belongs to an identity or owner: the method, its confidence
    and what it saw (docs/linking.md)."""

    method: str
    confidence: float
    detail: str
    credential: str | None = None  # the inventory credential it matched, if any

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "confidence": self.confidence, "detail": self.detail,
                "credential": self.credential}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkEvidence:
        return cls(data["method"], data["confidence"], data["detail"], data.get("credential"))


@dataclass(slots=True)
class RunnerUp:
    """The strongest rival of a link's winner: an identity, or an owner when only a team is known."""

    kind: str  # identity | owner
    id: str
    owner: str | None
    confidence: float
    evidence: list[LinkEvidence] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "owner": self.owner, "confidence": self.confidence,
                "evidence": [e.to_dict() for e in self.evidence]}


@dataclass(slots=True)
class Link:
    """Whose a credential is, as the analysis decided it (scanner.analysis.linking) and the datastore
    keeps it (scanner.analysis.store_io): a fresh and a stored analysis serialize alike
    (tests/test_analysis_types.py)."""

    status: str  # linked | inferred | team-only | unowned
    identity: str | None = None
    owner: str | None = None
    credential: str | None = None
    confidence: float = 0.0
    ambiguous: bool = False
    orphaned: bool = False
    methods: list[str] = field(default_factory=list)  # strongest first
    evidence: list[LinkEvidence] = field(default_factory=list)
    runner_up: RunnerUp | None = None
    margin: float | None = None  # the winner's lead over the runner-up (None: no runner-up)
    identifiers: list[str] = field(default_factory=list)  # identifier findings paired with it (evidence)
    owner_groups: list[str] = field(default_factory=list)  # groups the owner belongs to (`--owner team:x`)

    @property
    def label(self) -> str:
        """Who owns it, in one phrase for reports, with what the status qualifies."""
        if self.status == "unowned":
            return "unowned"
        who = self.identity or self.owner or "?"
        if self.identity and self.owner:
            who = f"{self.identity} ({self.owner})"
        flags = [n for n, on in (("inferred", self.status == "inferred"), ("team only", self.status == "team-only"),
                                 ("ambiguous", self.ambiguous), ("orphaned", self.orphaned)) if on]
        return who + (f" [{', '.join(flags)}]" if flags else "")

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "identity": self.identity, "owner": self.owner, "credential": self.credential,
                "confidence": self.confidence, "ambiguous": self.ambiguous, "orphaned": self.orphaned,
                "methods": list(self.methods), "evidence": [e.to_dict() for e in self.evidence],
                "runner_up": self.runner_up.to_dict() if self.runner_up else None,
                "margin": self.margin, "identifiers": list(self.identifiers), "owner_groups": list(self.owner_groups)}


@dataclass
class Factor:
    """One factor of a blast radius: its points of a maximum, why, and what it rested on
    (docs/blast-radius.md)."""

    id: str  # F1..F11
    group: str  # impact | exposure | governance
    name: str
    points: float
    maximum: int
    reason: str
    evidence: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # OWASP NHI and Agentic Top 10 ids
    facts: list[str] = field(default_factory=list)  # the inventory facts it used, each with the source that gave it

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "group": self.group, "name": self.name, "points": self.points,
                "maximum": self.maximum, "reason": self.reason, "evidence": list(self.evidence),
                "tags": list(self.tags), "facts": list(self.facts)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Factor:
        return cls(data["id"], data["group"], data["name"], data["points"], data["maximum"], data["reason"],
                   list(data.get("evidence") or []), list(data.get("tags") or []), list(data.get("facts") or []))


@dataclass(slots=True)
class Holder:
    """An identity holding a credential: `declared` by the inventory, or `inferred` from the link."""

    identity: str
    how: str  # declared | inferred
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"identity": self.identity, "how": self.how, "detail": self.detail}


GROUPS = ("impact", "exposure", "governance")


@dataclass
class BlastRadius:
    """A credential's blast radius, 0-100, with every factor (scanner.analysis.blast_radius.Scorer builds it).

    The group totals are the sums of their factors' points, so they are never stored apart from them;
    `identifiers` is set only on one read back from the datastore, which keeps the link's paired identifiers
    beside the score (an unowned secret has no link row to hold them)."""

    score: int
    band: str
    raw: float  # Impact + Exposure + Governance, before the multiplier
    multiplier: float
    liveness: str
    factors: list[Factor]
    gates: list[str] = field(default_factory=list)
    link_confidence: float = 0.0
    holders: list[Holder] = field(default_factory=list)
    identifiers: list[str] | None = None

    def points(self) -> dict[str, float]:
        return {f.name: f.points for f in self.factors}

    def group(self, name: str) -> float:
        return round(sum(f.points for f in self.factors if f.group == name), 2)

    def factor(self, name: str) -> Factor:
        return next(f for f in self.factors if f.name == name)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "score": self.score, "band": self.band, "raw": self.raw, "multiplier": self.multiplier,
            "liveness": self.liveness, "link_confidence": self.link_confidence, "gates": list(self.gates),
            **{g: self.group(g) for g in GROUPS}, "factors": [f.to_dict() for f in self.factors],
            "holders": [h.to_dict() for h in self.holders]}
        if self.identifiers is not None:
            out["identifiers"] = list(self.identifiers)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BlastRadius:
        identifiers = data.get("identifiers")
        return cls(data["score"], data["band"], data["raw"], data["multiplier"], data["liveness"],
                   [Factor.from_dict(x) for x in data["factors"]], list(data.get("gates") or []),
                   data.get("link_confidence", 0.0), [Holder(**h) for h in data.get("holders") or []],
                   list(identifiers) if identifiers is not None else None)


@dataclass(slots=True)
class FindingAnalysis:
    """Owner, link and blast radius of one finding: scanner.analysis computes it, reporters only read it."""

    owner: str | None
    identity: str | None
    link_status: str  # linked | inferred | team-only | unowned
    link_confidence: float
    link_methods: list[str]
    ambiguous: bool
    orphaned: bool
    score: int
    band: str
    link: Link
    blast_radius: BlastRadius
    computed_at: str | None = None  # from the datastore: when the analysis was recorded
    contacts: list[str] = field(default_factory=list)  # the owner's contacts, from the inventory

    def to_dict(self) -> dict[str, Any]:
        """As the JSON report prints it (docs/json-report.md)."""
        out: dict[str, Any] = {
            "owner": self.owner, "identity": self.identity, "link_status": self.link_status,
            "link_confidence": self.link_confidence, "link_methods": list(self.link_methods),
            "ambiguous": self.ambiguous, "orphaned": self.orphaned, "score": self.score, "band": self.band,
            "link": self.link.to_dict(), "blast_radius": self.blast_radius.to_dict()}
        if self.computed_at is not None:
            out["computed_at"] = self.computed_at
        out["contacts"] = list(self.contacts)
        return out


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
    analysis: FindingAnalysis | None = None  # once an inventory analysis ran
    publishable: bool = False  # the rule's key is meant to be public (its blast radius is capped)
    validation: ValidationResult | None = None  # what the provider said, once --validate asked it
    status: str = "open"  # the triage decision: open, allowed or revoked (`sprawl mark`; from the datastore)

    @property
    def first_location(self) -> Location:
        return self.locations[0]

    def to_dict(self) -> dict[str, Any]:
        """The finding as the JSON report prints it (docs/json-report.md)."""
        out: dict[str, Any] = {
            "rule_id": self.rule_id, "rule_name": self.rule_name, "provider": self.provider, "kind": self.kind,
            "fingerprint": self.fingerprint, "preview": self.preview, "confidence": self.confidence,
            "entropy": self.entropy, "privilege": self.privilege, "lifetime": self.lifetime,
            "remediation": self.remediation, "reasons": list(self.reasons),
            "locations": [loc.to_dict() for loc in self.locations],
        }
        if self.secret is not None:
            out["secret"] = self.secret
        out["groups"] = dict(self.groups)
        if self.analysis is not None:
            out["analysis"] = self.analysis.to_dict()
        if self.publishable:
            out["publishable"] = True
        if self.validation is not None:
            out["validation"] = self.validation.to_dict()
        out["status"] = self.status
        return out


@dataclass
class ScanStats:
    unit: str = "file"  # what `files` counts: files, or git blobs
    files: int = 0
    bytes: int = 0
    skipped: list[Skip] = field(default_factory=list)
    allowed_inline: int = 0
    ignored: int = 0  # by .sprawlignore fingerprints
    baselined: int = 0
    below_confidence: int = 0
    elapsed: float = 0.0
    commits: int = 0
    warnings: list[str] = field(default_factory=list)
    archives: int = 0  # files opened as archives (their members count in `files`)
    streamed: int = 0  # files or members too large to read whole, scanned in chunks
    scanned_blobs: list[str] = field(default_factory=list)  # git: blob ids scanned (or found binary) this run


@dataclass(frozen=True)
class VersionControl:
    """Where a scanned repository lives (SARIF `versionControlProvenance`): a URL never carrying
    credentials, the commit scanned and the branch, each empty where unknown
    (tests/test_sarif_provenance.py)."""

    repository_uri: str
    revision_id: str = ""
    branch: str = ""


@dataclass
class ScanResult:
    findings: list[Finding]
    stats: ScanStats
    ruleset: RuleSet
    # Portable fingerprint -> secret, in memory only, for keying the datastore; reporters never read it.
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    repo: str | None = None  # the repository the scan ran in, as a sweep names it (None outside git)
    # Repository name (as locations and `repo` name it) -> where it lives; filled for SARIF.
    vcs: dict[str, VersionControl] = field(default_factory=dict)


# --- validation: what a credential's own provider said (scanner.validate asks; reports only read it) ---

class Status(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    INDETERMINATE = "indeterminate"
    UNSUPPORTED = "unsupported"


class Privilege(StrEnum):
    """As DESIGN section 8 scores it (admin 22, write 16, read 10, metered 5, test 2)."""

    ADMIN = "admin"
    WRITE = "write"
    READ = "read"
    METERED = "metered"
    TEST = "test"


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says the credential belongs to; None where it did not say."""

    account: str | None = None
    user: str | None = None
    org: str | None = None
    project: str | None = None

    def is_empty(self) -> bool:
        return not any((self.account, self.user, self.org, self.project))


@dataclass(frozen=True)
class RequestMade:
    """A request sent while validating: method and URL only, the secret replaced by `***` if it was in the URL."""

    method: str
    url: str


@dataclass(frozen=True)
class ValidationResult:
    """What the provider said of one credential: never the secret (scanner.validate scrubs every field)."""

    provider: str
    status: Status
    reason: str
    identity: ProviderIdentity = ProviderIdentity()
    scopes: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    privilege: Privilege | None = None
    reach: tuple[str, ...] = ()
    expires_at: datetime | None = None
    checked_at: datetime | None = None
    requests: tuple[RequestMade, ...] = ()
    rule_id: str = ""

    @property
    def request(self) -> RequestMade | None:
        """The first request made (the one that decided liveness), if any."""
        return self.requests[0] if self.requests else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, the `validation` object of reports and the `validations` row's payload."""
        return {
            "provider": self.provider,
            "rule_id": self.rule_id,
            "status": self.status.value,
            "reason": self.reason,
            "identity": {k: v for k, v in vars(self.identity).items() if v is not None},
            "scopes": list(self.scopes),
            "resources": list(self.resources),
            "privilege": self.privilege.value if self.privilege else None,
            "reach": list(self.reach),
            "expires_at": _iso(self.expires_at),
            "checked_at": _iso(self.checked_at),
            "requests": [{"method": r.method, "url": r.url} for r in self.requests],
        }


    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> ValidationResult:
        """The inverse of `to_dict` (a stored row's payload back to a result)."""
        privilege = document.get("privilege")
        return cls(
            provider=str(document["provider"]),
            status=Status(document["status"]),
            reason=str(document.get("reason", "")),
            identity=ProviderIdentity(**{k: v for k, v in (document.get("identity") or {}).items()
                                 if k in {"account", "user", "org", "project"}}),
            scopes=tuple(document.get("scopes") or ()),
            resources=tuple(document.get("resources") or ()),
            privilege=Privilege(privilege) if privilege else None,
            reach=tuple(document.get("reach") or ()),
            expires_at=_parse_iso(document.get("expires_at")),
            checked_at=_parse_iso(document.get("checked_at")),
            requests=tuple(RequestMade(r["method"], r["url"]) for r in document.get("requests") or ()),
            rule_id=str(document.get("rule_id", "")),
        )


def _parse_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None

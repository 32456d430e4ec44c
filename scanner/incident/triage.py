"""Incident-response triage: for each leaked bundle, which credentials are in it, whose, how bad, what to revoke first.

One Incident per bundle given. Each credential (one Finding) becomes an Entry with its kind, redacted
preview, owner to contact, occurrence count, first and last time seen (the log records' own times
where the logs carry them), where it appears, and the provider's revoke or rotate step (the rule's
`remediation`). Entries are ranked by blast radius (scanner.analysis, linked against the inventory if
one is given).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from scanner.analysis.analyze import Analysis, analyze
from scanner.analysis.subject import Subject, parse_when
from scanner.inventory.loader import load_inventory
from scanner.inventory.model import Inventory
from scanner.model import Finding, ScanResult, ScanStats
from scanner.pipeline.files import scan_paths
from scanner.pipeline.options import ScanOptions

MAX_WHERE = 20  # locations listed per credential; the count says how many there are


@dataclass
class Entry:
    finding: Finding
    score: int
    band: str
    owner: str  # who to contact; "unknown" when nothing links it
    owner_detail: str  # how the owner was found (link method and confidence) or why none was
    count: int
    first_seen: str | None
    last_seen: str | None
    where: list[str]
    reasons: list[str] = field(default_factory=list)  # the score's main factors, for the reader
    link_confidence: float | None = None  # of the owner link
    owner_id: str = ""  # the owner (or identity) alone; `owner` adds its contacts for the reader
    contacts: list[str] = field(default_factory=list)  # the owner's contacts, as the inventory gives them

    @property
    def owner_how(self) -> str:
        """How the owner was found, with the link's confidence, as every triage format shows it."""
        conf = f", link confidence {self.link_confidence:.2f}" if self.link_confidence is not None else ""
        return self.owner_detail + conf

    def to_dict(self) -> dict:
        f = self.finding
        return {"fingerprint": f.fingerprint, "rule_id": f.rule_id, "name": f.rule_name, "provider": f.provider,
                "kind": f.kind, "preview": f.preview, "confidence": f.confidence, "score": self.score,
                "band": self.band, "owner": self.owner, "owner_detail": self.owner_detail,
                "link_confidence": self.link_confidence, "count": self.count,
                "first_seen": self.first_seen, "last_seen": self.last_seen, "where": self.where,
                "more_locations": max(0, self.count - len(self.where)), "remediation": f.remediation,
                "reasons": self.reasons}


@dataclass
class Incident:
    bundle: str
    entries: list[Entry]
    stats: ScanStats
    scoring: str  # "blast-radius"
    # The scan behind it, every finding with its analysis: what the SARIF and CSV formats render.
    result: ScanResult | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        s = self.stats
        return {"bundle": self.bundle, "scoring": self.scoring, "credentials": len(self.entries),
                "files": s.files, "bytes": s.bytes, "archives": s.archives, "elapsed_seconds": round(s.elapsed, 3),
                "skipped": [{"path": k.path, "reason": k.reason} for k in s.skipped],
                "entries": [e.to_dict() for e in self.entries]}


def triage(bundles: list[str], inventory_path: str | None = None, options: ScanOptions | None = None,
           on_scanned: Callable[[ScanResult], None] | None = None) -> list[Incident]:
    """One Incident per bundle; `on_scanned` sees each scan before it is ranked (validation: a live key
    ranks first)."""
    inventory = _load_inventory(inventory_path)
    incidents = []
    for bundle in bundles:
        result = scan_paths([bundle], options or ScanOptions())
        if on_scanned is not None:
            on_scanned(result)
        incidents.append(triage_result(bundle, result, inventory))
    return incidents


def triage_result(bundle: str, result: ScanResult, inventory=None) -> Incident:
    analysis = _analyze(result, inventory)
    entries = []
    for f in result.findings:
        f.analysis = analysis.finding_analysis(f.fingerprint)
        if f.fingerprint not in analysis.scores:
            continue  # an identifier: evidence on the secret beside it (Link.identifiers), never an entry
        seen = sorted(t for loc in f.locations if (t := loc.provenance.seen or loc.provenance.date))
        where = [f"{loc.path}:{loc.line}" for loc in f.locations[:MAX_WHERE]]
        link, score = analysis.links[f.fingerprint], analysis.scores[f.fingerprint]
        owner_id = owner = link.owner or link.identity or "unknown"
        contacts = list(known.contacts) if (known := analysis.inventory.owner(owner)) else []
        if contacts:
            owner = f"{owner} ({', '.join(contacts)})"
        detail = link.label if link.owner or link.identity else "no inventory link"
        top = sorted(score.factors, key=lambda x: -x.points)[:3]
        entry = Entry(f, score.score, score.band, owner, detail, len(f.locations), seen[0] if seen else None,
                      seen[-1] if seen else None, where, [f"{x.name} {x.points:g}/{x.maximum}: {x.reason}" for x in top],
                      link.confidence, owner_id, contacts)
        entries.append(entry)
    entries.sort(key=lambda e: (-e.score, -e.count, e.finding.rule_id, e.finding.fingerprint))
    return Incident(bundle, entries, result.stats, "blast-radius", result)


def _load_inventory(path: str | None) -> Inventory | None:
    return load_inventory(path) if path is not None else None


def _analyze(result: ScanResult, inventory: Inventory | None) -> Analysis:
    # The log time of the earliest record is when the credential was first exposed (the age factor).
    subjects = [Subject(f, first_seen=parse_when(min((loc.provenance.seen for loc in f.locations
                                                     if loc.provenance.seen), default=None)))
                for f in result.findings]
    return analyze(subjects, inventory or Inventory())

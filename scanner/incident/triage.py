"""Incident-response triage: for each leaked bundle, which credentials are in it, whose, how bad, what to revoke first.

One Incident per bundle given. Each credential (one Finding) becomes an Entry with its kind, redacted
preview, owner to contact, occurrence count, first and last time seen (the log records' own times
where the logs carry them), where it appears, and the provider's revoke or rotate step (the rule's
`remediation`). Entries are ranked by blast radius: scanner.analysis when it is installed (linked
against the inventory, if one is given), else the rule's privilege prior and lifetime.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from scanner.errors import SprawlError
from scanner.model import Finding
from scanner.pipeline.options import ScanOptions
from scanner.model import ScanResult, ScanStats
from scanner.pipeline.files import scan_paths

MAX_WHERE = 20  # locations listed per credential; the count says how many there are
# Fallback blast-radius prior (DESIGN.md section 8, impact privilege and governance lifetime only).
_PRIVILEGE = {"admin": 22, "write": 16, "read": 10, "metered": 5, "test": 2}
_BANDS = ((20, "info"), (40, "low"), (60, "medium"), (80, "high"), (101, "critical"))


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
    link_confidence: float | None = None  # of the owner link; None without the analysis package

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
    scoring: str  # "blast-radius" (scanner.analysis) or "rule prior"

    def to_dict(self) -> dict:
        s = self.stats
        return {"bundle": self.bundle, "scoring": self.scoring, "credentials": len(self.entries),
                "files": s.files, "bytes": s.bytes, "archives": s.archives, "elapsed_seconds": round(s.elapsed, 3),
                "skipped": [{"path": k.path, "reason": k.reason} for k in s.skipped],
                "entries": [e.to_dict() for e in self.entries]}


def triage(bundles: list[str], inventory_path: str | None = None, options: ScanOptions | None = None) -> list[Incident]:
    inventory = _load_inventory(inventory_path)
    return [triage_result(bundle, scan_paths([bundle], options or ScanOptions()), inventory) for bundle in bundles]


def triage_result(bundle: str, result: ScanResult, inventory=None) -> Incident:
    analysis = _analyze(result, inventory)
    entries = []
    for f in result.findings:
        seen = sorted(t for loc in f.locations if (t := loc.provenance.seen or loc.provenance.date))
        where = [f"{loc.path}:{loc.line}" for loc in f.locations[:MAX_WHERE]]
        if analysis is not None:
            link, score = analysis.links[f.fingerprint], analysis.scores[f.fingerprint]
            owner = link.owner or link.identity or "unknown"
            contacts = analysis.inventory.owner(owner).contacts if analysis.inventory.owner(owner) else []
            if contacts:
                owner = f"{owner} ({', '.join(contacts)})"
            detail = link.label if link.owner or link.identity else "no inventory link"
            top = sorted(score.factors, key=lambda x: -x.points)[:3]
            entry = Entry(f, score.score, score.band, owner, detail, len(f.locations), seen[0] if seen else None,
                          seen[-1] if seen else None, where, [f"{x.name} {x.points:g}/{x.maximum}: {x.reason}" for x in top],
                          link.confidence)
        else:
            points, reasons = _prior(f)
            entry = Entry(f, points, _band(points), "unknown", "no inventory analysis available", len(f.locations),
                          seen[0] if seen else None, seen[-1] if seen else None, where, reasons)
        entries.append(entry)
    entries.sort(key=lambda e: (-e.score, -e.count, e.finding.rule_id, e.finding.fingerprint))
    return Incident(bundle, entries, result.stats, "blast-radius" if analysis is not None else "rule prior")


def _load_inventory(path: str | None):
    if path is None:
        return None
    try:
        from scanner.inventory.loader import load_inventory
    except ImportError as exc:  # pragma: no cover - the inventory package ships with the scanner
        raise SprawlError(f"cannot read an inventory: {exc}") from exc
    return load_inventory(path)


def _analyze(result: ScanResult, inventory):
    try:
        from scanner.analysis.analyze import analyze
        from scanner.analysis.subject import Subject
        from scanner.inventory.model import Inventory
    except ImportError:
        return None
    from scanner.analysis.subject import parse_when

    # The log time of the earliest record is when the credential was first exposed (the age factor).
    subjects = [Subject(f, first_seen=parse_when(min((loc.provenance.seen for loc in f.locations
                                                     if loc.provenance.seen), default=None)))
                for f in result.findings]
    return analyze(subjects, inventory or Inventory())


def _prior(f: Finding) -> tuple[int, list[str]]:
    """Privilege prior + where found (a log bundle: 9) + sprawl + lifetime, times 0.85 (not validated)."""
    import math

    privilege = _PRIVILEGE.get(f.privilege, 10)
    sprawl = round(min(10.0, 3 * math.log2(max(1, len(f.locations)))), 1)
    lifetime = 7 if f.lifetime == "static" else 2
    score = min(100, round(0.85 * (privilege + 9 + sprawl + lifetime + 6)))
    return score, [f"privilege {privilege}/22: rule prior {f.privilege}", f"sprawl {sprawl}/10",
                   f"lifetime {lifetime}/7: {f.lifetime}"]


def _band(score: int) -> str:
    return next(name for limit, name in _BANDS if score < limit)

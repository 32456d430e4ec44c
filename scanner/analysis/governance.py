"""Governance views over an analysis: questions a security team asks of its non-human identities.

Each view is a list of plain rows, rendered as text or JSON by the CLI.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

from scanner.analysis.analyze import Analysis
from scanner.analysis.linking import INFERRED_BELOW
from scanner.inventory.model import path_matches

REVIEW_DAYS = 90
VIEWS = ("outside-approved", "shared", "orphaned", "static-with-workload-identity", "unreviewed")


def _linked(a: Analysis):
    for s in a.subjects:
        link = a.links[s.fingerprint]
        if link.identity and link.confidence >= INFERRED_BELOW:
            yield s, link, a.inventory.identity(link.identity)


def outside_approved(a: Analysis) -> list[dict]:
    """Identities whose credentials were found outside their approved locations (paths, configs, secret_ref)."""
    rows = []
    for s, link, ident in _linked(a):
        if ident is None or not (ident.paths or ident.configs):
            continue
        cred = a.inventory.credential(link.credential) if link.credential else None
        approved = ident.paths + ident.configs + ([cred.secret_ref] if cred and cred.secret_ref else [])
        for loc in s.finding.locations:
            if not any(path_matches(loc.path, g) for g in approved):
                rows.append({"identity": ident.id, "owner": ident.owner, "fingerprint": s.fingerprint,
                             "rule_id": s.finding.rule_id, "path": loc.path, "line": loc.line, "approved": approved})
    return rows


def shared(a: Analysis) -> list[dict]:
    """Credentials held by several identities or environments."""
    rows = []
    for s in a.subjects:
        reuse = next(f for f in a.scores[s.fingerprint].factors if f.name == "reuse")
        if reuse.points > 0:
            rows.append({"fingerprint": s.fingerprint, "rule_id": s.finding.rule_id, "preview": s.finding.preview,
                         "holders": reuse.evidence, "reason": reuse.reason})
    return rows


def orphaned(a: Analysis) -> list[dict]:
    """Orphaned, deprecated or decommissioned identities that still have credentials in the open."""
    by_ident: dict[str, list[str]] = {}
    for s, _link, ident in _linked(a):
        if ident and ident.orphaned:
            by_ident.setdefault(ident.id, []).append(s.fingerprint)
    rows = []
    for iid, fps in sorted(by_ident.items()):
        ident = a.inventory.identity(iid)
        assert ident is not None  # iid is the id of an identity _linked found in this inventory
        rows.append({"identity": iid, "owner": ident.owner, "lifecycle": ident.lifecycle, "credentials_open": fps})
    return rows


def static_with_workload_identity(a: Analysis) -> list[dict]:
    """Static credentials of identities that declare a workload identity: they should not need one."""
    rows = []
    for s, _link, ident in _linked(a):
        if ident is None or not ident.workload_identity:
            continue
        lifetime = next(f for f in a.scores[s.fingerprint].factors if f.name == "lifetime")
        if "static" in lifetime.reason:
            rows.append({"identity": ident.id, "workload_identity": ident.workload_identity,
                         "fingerprint": s.fingerprint, "rule_id": s.finding.rule_id, "lifetime": lifetime.reason})
    return rows


def unreviewed(a: Analysis, days: int = REVIEW_DAYS) -> list[dict]:
    """Identities not reviewed for more than `days` days (or never)."""
    today = a.today or datetime.now(UTC).date()
    rows = []
    for ident in a.inventory.identities:
        last = ident.last_reviewed
        if last is None or (today - last).days > days:
            rows.append({"identity": ident.id, "owner": ident.owner,
                         "last_reviewed": last.isoformat() if isinstance(last, date) else None,
                         "days": (today - last).days if last else None})
    return rows


def all_views(a: Analysis) -> dict[str, list[dict]]:
    return {"outside-approved": outside_approved(a), "shared": shared(a), "orphaned": orphaned(a),
            "static-with-workload-identity": static_with_workload_identity(a), "unreviewed": unreviewed(a)}


def render_text(views: dict[str, list[dict]]) -> str:
    titles = {"outside-approved": "Credentials found outside their identity's approved locations",
              "shared": "Credentials shared by several identities or environments",
              "orphaned": "Orphaned or decommissioned identities with credentials in the open",
              "static-with-workload-identity": "Static credentials of identities that declare a workload identity",
              "unreviewed": f"Identities not reviewed for over {REVIEW_DAYS} days"}
    out = []
    for name, rows in views.items():
        out.append(f"{titles[name]} ({len(rows)})")
        for r in rows:
            out.append("  " + "  ".join(f"{k}={_short(v)}" for k, v in r.items()))
        out.append("")
    return "\n".join(out)


def _short(v) -> str:
    if isinstance(v, list):
        return ",".join(str(x) for x in v) or "-"
    return "-" if v is None else str(v)

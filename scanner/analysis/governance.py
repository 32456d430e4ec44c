"""Governance views over an analysis, as policies a CI can gate on (`sprawl governance --fail-on ...`).

Each view is a list of rows; every row says `why` it is there and carries its `evidence` (findings with
repository, path and line; inventory facts with their source), so a reviewer can check it. A policy names
views; it fails when any named view has rows (tests/test_governance.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from scanner.analysis.analyze import Analysis
from scanner.analysis.linking import INFERRED_BELOW
from scanner.analysis.subject import Subject
from scanner.inventory.model import INACTIVE_LIFECYCLES, Identity, path_matches

REVIEW_DAYS = 90
VIEWS = ("outside-approved", "shared", "orphaned", "static-with-workload-identity", "unreviewed")


@dataclass(frozen=True)
class Policy:
    """The views whose rows fail a run, and the review age `unreviewed` uses."""

    fail_on: tuple[str, ...] = ()
    review_days: int = REVIEW_DAYS

    @classmethod
    def parse(cls, text: str | None) -> Policy:
        """`orphaned,shared,unreviewed:30` -> those views, reviews older than 30 days. ValueError on a bad name."""
        names, days = [], REVIEW_DAYS
        for part in filter(None, (p.strip() for p in (text or "").split(","))):
            name, _, arg = part.partition(":")
            if name not in VIEWS:
                raise ValueError(f"unknown governance view {name!r}: one of {', '.join(VIEWS)}")
            if arg:
                if name != "unreviewed" or not arg.isdigit():
                    raise ValueError(f"{part!r}: only unreviewed takes a number of days (unreviewed:90)")
                days = int(arg)
            names.append(name)
        return cls(tuple(dict.fromkeys(names)), days)

    def failed(self, views: dict[str, list[dict]]) -> list[str]:
        return [name for name in self.fail_on if views.get(name)]


def _where(s: Subject) -> list[str]:
    return [f"{repo + ':' if (repo := s.repo_of(loc)) else ''}{loc.path}:{loc.line}" for loc in s.finding.locations]


def _finding(s: Subject) -> dict:
    return {"fingerprint": s.fingerprint, "rule_id": s.finding.rule_id, "preview": s.finding.preview,
            "locations": _where(s)}


def _linked(a: Analysis):
    for s in a.subjects:
        link = a.links[s.fingerprint]
        if link.identity and link.confidence >= INFERRED_BELOW:
            yield s, link, a.inventory.identity(link.identity)


def outside_approved(a: Analysis) -> list[dict]:
    """Credentials found outside their identity's approved locations (paths, configs, secret_ref)."""
    rows = []
    for s, link, ident in _linked(a):
        if ident is None or not (ident.paths or ident.configs):
            continue
        cred = a.inventory.credential(link.credential) if link.credential else None
        approved = ident.paths + ident.configs + ([cred.secret_ref] if cred and cred.secret_ref else [])
        homes = ident.home_repos
        for loc in s.finding.locations:
            repo = s.repo_of(loc)
            in_repo = not homes or not repo or repo in homes
            if in_repo and any(path_matches(loc.path, g) for g in approved):
                continue
            where = f"{repo + ':' if repo else ''}{loc.path}:{loc.line}"
            why = (f"found at {where}, in repository {repo}, not one of {', '.join(homes)}" if not in_repo else
                   f"found at {where}, outside the approved locations of {ident.id}")
            rows.append({"identity": ident.id, "owner": ident.owner, "fingerprint": s.fingerprint,
                         "rule_id": s.finding.rule_id, "repo": repo, "path": loc.path, "line": loc.line,
                         "approved": approved, "why": why,
                         "evidence": [f"link {link.confidence:.2f} by {', '.join(link.methods)}",
                                      f"approved: {', '.join(approved)} ({ident.sources.get('paths') or ident.source})"]})
    return rows


def shared(a: Analysis) -> list[dict]:
    """Credentials held by several distinct identities or environments (identity resolution ran first)."""
    rows = []
    for s in a.subjects:
        reuse = a.scores[s.fingerprint].factor("reuse")
        if reuse.points > 0:
            rows.append({**_finding(s), "holders": reuse.evidence, "reason": reuse.reason,
                         "why": f"{reuse.reason}: one credential, several holders",
                         "evidence": _holder_evidence(a, s)})
    return rows


def _holder_evidence(a: Analysis, s: Subject) -> list[str]:
    link = a.links[s.fingerprint]
    out = []
    for c in link.candidates:
        if c.kind == "identity" and c.confidence > INFERRED_BELOW:
            out.append(f"{c.id} at {c.confidence:.2f} by {', '.join(c.methods)}")
    if link.credential:
        for ident in a.inventory.holders(link.credential):
            out.append(f"{ident.id} declares {link.credential} ({ident.sources.get('credentials') or ident.source})")
    return sorted(set(out))


def orphan_reason(a: Analysis, ident: Identity) -> str:
    if ident.lifecycle in INACTIVE_LIFECYCLES:
        return f"lifecycle {ident.lifecycle} ({ident.sources.get('lifecycle') or ident.source})"
    if ident.owner is None:
        return f"no owner ({ident.sources.get('owner') or ident.source})"
    owner = a.inventory.owner(ident.owner)
    why = (owner.sources.get("active") if owner else None) or "marked inactive"
    return f"owner {ident.owner} is inactive: {why} ({owner.source if owner else ident.source})"


def orphaned(a: Analysis) -> list[dict]:
    """Identities with credentials in the open whose owner is null or inactive, or that are deprecated or
    decommissioned."""
    by_ident: dict[str, list[Subject]] = {}
    for s, _link, ident in _linked(a):
        if ident and a.inventory.orphaned(ident):
            by_ident.setdefault(ident.id, []).append(s)
    rows = []
    for iid, subjects in sorted(by_ident.items()):
        ident = a.inventory.identity(iid)
        assert ident is not None  # iid is the id of an identity _linked found in this inventory
        rows.append({"identity": iid, "owner": ident.owner, "lifecycle": ident.lifecycle,
                     "credentials_open": [s.fingerprint for s in subjects], "why": orphan_reason(a, ident),
                     "evidence": [f"{s.finding.rule_id} {s.finding.preview} at {', '.join(_where(s))}" for s in subjects]})
    return rows


_WI_PROVIDERS = (("eks.amazonaws.com", "aws"), ("arn:aws:", "aws"), ("iam.gke.io", "gcp"),
                 (".iam.gserviceaccount.com", "gcp"), ("azure.workload.identity", "azure"))
_PROVIDER_ALIASES = {"amazon": "aws", "google": "gcp", "gcp": "gcp", "aws": "aws", "azure": "azure",
                     "microsoft": "azure", "entra": "azure"}


def workload_provider(subject: str | None) -> str | None:
    """The cloud a workload identity federates to (IRSA: aws, GKE WI: gcp, Azure WI: azure), else None."""
    text = (subject or "").lower()
    return next((p for marker, p in _WI_PROVIDERS if marker in text), None)


def _provider(s: Subject) -> str | None:
    head = (s.finding.provider or s.finding.rule_id).lower().split("-", 1)[0]
    return _PROVIDER_ALIASES.get(head)


def static_with_workload_identity(a: Analysis) -> list[dict]:
    """Static credentials for the same cloud as a workload identity the holder already has: it should not need
    one (a Stripe key on a GKE service account is not this; a GCP key beside GKE workload identity is)."""
    rows = []
    for s, _link, ident in _linked(a):
        if ident is None:
            continue
        cloud = workload_provider(ident.workload_identity)
        if cloud is None or _provider(s) != cloud:
            continue
        lifetime = a.scores[s.fingerprint].factor("lifetime")
        if lifetime.reason.startswith("static"):
            rows.append({"identity": ident.id, "workload_identity": ident.workload_identity,
                         "fingerprint": s.fingerprint, "rule_id": s.finding.rule_id, "lifetime": lifetime.reason,
                         "why": f"a static {cloud} credential, though {ident.id} federates to {cloud} by workload identity",
                         "evidence": [f"workload_identity {ident.workload_identity} "
                                      f"({ident.sources.get('workload_identity') or ident.source})",
                                      *(f"found at {w}" for w in _where(s))]})
    return rows


def unreviewed(a: Analysis, days: int = REVIEW_DAYS) -> list[dict]:
    """Identities not reviewed for more than `days` days (or never)."""
    today = a.today or datetime.now(UTC).date()
    rows = []
    for ident in a.inventory.identities:
        last = ident.last_reviewed
        if last is None or (today - last).days > days:
            age = (today - last).days if last else None
            rows.append({"identity": ident.id, "owner": ident.owner,
                         "last_reviewed": last.isoformat() if isinstance(last, date) else None, "days": age,
                         "why": "never reviewed" if last is None else f"last reviewed {age} days ago (over {days})",
                         "evidence": [f"last_reviewed {last.isoformat() if last else 'unset'} "
                                      f"({ident.sources.get('last_reviewed') or ident.source})"]})
    return rows


def all_views(a: Analysis, policy: Policy = Policy()) -> dict[str, list[dict]]:
    return {"outside-approved": outside_approved(a), "shared": shared(a), "orphaned": orphaned(a),
            "static-with-workload-identity": static_with_workload_identity(a),
            "unreviewed": unreviewed(a, policy.review_days)}


def render_text(views: dict[str, list[dict]], policy: Policy = Policy()) -> str:
    titles = {"outside-approved": "Credentials found outside their identity's approved locations",
              "shared": "Credentials shared by several identities or environments",
              "orphaned": "Orphaned or decommissioned identities with credentials in the open",
              "static-with-workload-identity": "Static credentials of identities that declare a workload identity",
              "unreviewed": f"Identities not reviewed for over {policy.review_days} days"}
    out = []
    for name, rows in views.items():
        flag = "  FAIL" if name in policy.fail_on and rows else ""
        out.append(f"{titles[name]} ({len(rows)}){flag}")
        for r in rows:
            out.append("  " + "  ".join(f"{k}={_short(v)}" for k, v in r.items() if k not in ("why", "evidence")))
            out.append(f"    why: {r['why']}")
            for e in r["evidence"]:
                out.append(f"    evidence: {e}")
        out.append("")
    failed = policy.failed(views)
    if policy.fail_on:
        out.append(f"policy --fail-on {','.join(policy.fail_on)}: "
                   + (f"FAILED ({', '.join(failed)})" if failed else "passed"))
    return "\n".join(out) + ("\n" if policy.fail_on else "")


def _short(v) -> str:
    if isinstance(v, list):
        return ",".join(str(x) for x in v) or "-"
    return "-" if v is None else str(v)

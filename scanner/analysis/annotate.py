"""Carry an analysis into the findings a report renders: owner, link, score, band and factors.

Reporters never recompute: they read `finding.analysis`, a plain dict (it is what JSON prints).
"""
from __future__ import annotations

from pathlib import Path

from scanner.analysis.analyze import Analysis, analyze
from scanner.analysis.subject import Subject, secret_facts
from scanner.inventory.model import Inventory


def annotate(result, analysis: Analysis) -> None:
    """Attach each finding's link and score, and order the findings by blast radius, highest first."""
    for f in result.findings:
        link, score = analysis.links[f.fingerprint], analysis.scores[f.fingerprint]
        f.analysis = {**analysis.finding_extra(f.fingerprint), "link": link.to_dict(), "blast_radius": score.to_dict()}
    result.findings.sort(key=lambda f: -f.analysis["score"])


def analyze_result(result, inventory: Inventory | None, *, repo: str | None = None,
                   public_repos: frozenset[str] = frozenset(), today=None) -> Analysis:
    """Link and score a ScanResult (an empty inventory still scores: every finding is then unowned)."""
    inventory = inventory or Inventory()
    secrets = getattr(result, "secrets", None) or {}
    key = _fingerprint_key(inventory) if secrets or any(f.secret for f in result.findings) else None
    subjects = []
    for f in result.findings:
        secret = secrets.get(f.fingerprint) or f.secret
        subjects.append(Subject(f, credential_key=_credential_key(secret, key), default_repo=repo,
                                public_repos=public_repos, facts=secret_facts(secret)))
    analysis = analyze(subjects, inventory, today=today)
    annotate(result, analysis)
    return analysis


def _fingerprint_key(inventory: Inventory) -> bytes | None:
    """The organisation key, needed only when the inventory names credentials by keyed fingerprint."""
    if not any(c.fingerprint for c in inventory.credentials):
        return None
    try:
        from scanner.store.keys import load_key
    except ImportError:
        return None
    return load_key()


def _credential_key(secret: str | None, key: bytes | None) -> str | None:
    if not secret or key is None:
        return None
    from scanner.store.keys import credential_key

    return credential_key(secret, key)


def repo_name(paths) -> str | None:
    """The repository a scan of these paths ran in: the git top-level folder's name, if any."""
    for p in paths:
        cur = Path(p).resolve()
        for folder in (cur, *cur.parents):
            if (folder / ".git").exists():
                return folder.name
    return None


def ranked_lines(findings) -> list[str]:
    """The text report's lead: every analysed finding, highest blast radius first, with its owner."""
    scored = sorted((f for f in findings if f.analysis), key=lambda f: -f.analysis["score"])
    if not scored:
        return []
    from scanner.report.html import link_label

    out = ["Blast radius, highest first:"]
    for f in scored:
        a = f.analysis
        loc = f.first_location
        out.append(f"  {a['score']:>3} {a['band']:<8} {f.rule_id}  {f.preview}  owner: {link_label(a)}  "
                   f"link {a['link_confidence']:.2f}  {loc.path}:{loc.line}  [{f.fingerprint}]")
    out.append("")
    return out

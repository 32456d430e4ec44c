"""Carry an analysis into the findings a report renders: owner, link, score, band and factors.

Reporters never recompute: they read `finding.analysis` (scanner.model.FindingAnalysis).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scanner.analysis.analyze import Analysis, analyze
from scanner.analysis.subject import Subject, subject_facts
from scanner.findings.facts import facts_of
from scanner.inventory.model import Inventory

if TYPE_CHECKING:
    from scanner.model import ValidationResult


def annotate(result, analysis: Analysis) -> None:
    """Attach each finding's link and score, and order the findings by blast radius, highest first."""
    for f in result.findings:
        f.analysis = analysis.finding_analysis(f.fingerprint)
    result.findings.sort(key=lambda f: -f.analysis.score if f.analysis else 0)


def analyze_result(result, inventory: Inventory | None, *, repo: str | None = None,
                   public_repos: frozenset[str] = frozenset(), today=None, known: dict | None = None) -> Analysis:
    """Link and score a ScanResult (an empty inventory still scores: every finding is then unowned).

    `known` maps a finding's fingerprint to Subject fields the datastore supplies (its keyed
    fingerprint, liveness and first-seen date: scanner.analysis.store_io.stored_facts)."""
    inventory = inventory or Inventory()
    known = known or {}
    secrets = getattr(result, "secrets", None) or {}
    key = _fingerprint_key(inventory) if secrets or any(f.secret for f in result.findings) else None
    subjects = []
    for f in result.findings:
        secret = secrets.get(f.fingerprint) or f.secret
        fields = known.get(f.fingerprint) or {"credential_key": _credential_key(secret, key)}
        if f.validation is not None:  # what the provider said outranks what the datastore knew
            fields = {**fields, **validated(f.validation)}
        facts = subject_facts(facts_of(f, secret))  # the same facts the datastore keeps (store.record.observe)
        subjects.append(Subject(f, default_repo=repo, public_repos=public_repos, facts=facts, **fields))
    analysis = analyze(subjects, inventory, today=today)
    annotate(result, analysis)
    return analysis


def validated(result: ValidationResult) -> dict[str, Any]:
    """Subject fields from a validation: liveness (active or revoked; an expiry the provider named that
    has passed is expired; anything else stays unknown) and the privilege the provider granted."""
    from datetime import UTC, datetime

    status = str(result.status)
    if status not in ("active", "revoked"):
        status = "unknown"
    if status != "active" and result.expires_at is not None and result.expires_at <= datetime.now(UTC):
        status = "expired"
    fields: dict[str, Any] = {"liveness": status}
    if result.privilege is not None:
        fields["privilege"] = str(result.privilege)
    return fields


def _fingerprint_key(inventory: Inventory) -> bytes | None:
    """The organisation key, needed only when the inventory names credentials by keyed fingerprint."""
    if not any(c.fingerprint for c in inventory.credentials):
        return None
    from scanner.store.keys import load_key

    return load_key()


def _credential_key(secret: str | None, key: bytes | None) -> str | None:
    if not secret or key is None:
        return None
    from scanner.store.keys import credential_key

    return credential_key(secret, key)

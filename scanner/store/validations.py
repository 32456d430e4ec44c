"""Validation results kept with their time (table `validations`), so a later run reuses an answer until it
is older than `--max-age` instead of asking the provider again (tests/test_validate_cli.py)."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from scanner.model import ValidationResult
from scanner.store.db import Store


def record(store: Store, answers: dict[int, ValidationResult]) -> None:
    """Keep each finding's answer (finding id -> result), in one transaction."""
    with store.atomic():
        for fid, result in answers.items():
            checked = (result.checked_at or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
            store.conn.execute(
                "INSERT OR REPLACE INTO validations (finding_id, checked_at, provider, status, privilege, reason, "
                "payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [fid, checked, result.provider, str(result.status), str(result.privilege or "") or None, result.reason,
                 json.dumps(result.to_dict(), sort_keys=True)])


def latest(store: Store, finding_ids: list[int], max_age_seconds: float | None = None) -> dict[int, ValidationResult]:
    """The newest recorded answer of each finding, if it is younger than max_age_seconds (None: any age)."""
    rows = []
    for i in range(0, len(finding_ids), 500):  # within SQLite's limit on bound parameters
        chunk = finding_ids[i:i + 500]
        rows += store.conn.execute(
            f"SELECT finding_id, checked_at, payload FROM validations WHERE finding_id IN ({','.join('?' * len(chunk))}) "
            "ORDER BY finding_id, checked_at", chunk).fetchall()
    now = datetime.now(UTC)
    out: dict[int, ValidationResult] = {}
    for fid, checked_at, payload in rows:  # oldest first: the newest one stays
        when = datetime.fromisoformat(checked_at.replace("Z", "+00:00"))
        if max_age_seconds is None or (now - when).total_seconds() <= max_age_seconds:
            out[fid] = ValidationResult.from_dict(json.loads(payload))
    return out

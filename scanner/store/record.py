"""Between ScanResults and the datastore: record a scan's findings, and rebuild findings from stored rows."""
from __future__ import annotations

import json
from pathlib import Path

from scanner.findings.facts import facts_of
from scanner.model import Finding, Location, Provenance
from scanner.store import keys
from scanner.store.db import PLACE_FIELDS, LocationRow, Observed, Store, now


def observe(result, key: bytes, store_secrets: bool = False, repo: str = "", repository_id: int | None = None,
            blob_of=None, default_date: str = "") -> list[Observed]:
    """Key each finding by credential, with its keyed fingerprint and its non-secret facts, read here while the
    secret is in memory (every recording path: `scan --db` and each sweep worker). `result.secrets` holds the
    values in memory only; they reach the datastore only with store_secrets (`sweep --validate` asks the providers
    from `result.secrets` in the worker: scanner.pipeline.sweep_validate). `blob_of(location)` names the git blob
    of a location, if known."""
    out = []
    for f in result.findings:
        secret = result.secrets.get(f.fingerprint) or f.secret
        if secret is None:
            continue  # cannot happen for results of scanner.scan; never key a finding on its preview
        rows = [LocationRow.from_location(loc, repo, repository_id, blob_of(loc) if blob_of else "", default_date)
                for loc in f.locations]
        out.append(Observed(keys.credential_key(secret, key), f, rows, secret if store_secrets else None,
                            keyed_fingerprint=keys.keyed_fingerprint(f.fingerprint, key), facts=facts_of(f, secret)))
    return out


def record_result(db_path: str | Path, result, kind: str, target: str, *, repo: str = "",
                  store_secrets: bool = False, key_file: str | None = None, then=None) -> int:
    """Record a one-off scan (`sprawl scan/git/staged --db`); returns the scan id. `repo` names the
    repository of every location (the target itself for a git scan when not given).

    `then(store, ids, scan_id)`, if given, runs inside the same transaction as the findings, with `ids`
    mapping each recorded finding's portable fingerprint to its row id: the analysis stage writes its
    links and scores there, so a reader sees the findings with their scores or neither."""
    key = keys.load_key(key_file)
    observed = observe(result, key, store_secrets, repo=repo or (target if kind == "git" else ""),
                       default_date=now())
    store = Store(db_path, key)
    try:
        # One transaction from the scan row to its completion: a failure (a full disk, a kill) leaves
        # no scan marked running and no finding half-recorded.
        with store.atomic():
            scan_id = store.begin_scan(kind, target, result.ruleset.version)
            store.refresh(scan_id, store.record(scan_id, observed))
            if then is not None:
                then(store, _row_ids(store, observed), scan_id)
            store.finish_scan(scan_id, {"findings": len(observed), "unit": result.stats.unit,
                                        "files": result.stats.files, "bytes": result.stats.bytes})
        return scan_id
    finally:
        store.close()


def _row_ids(store: Store, observed: list[Observed]) -> dict[str, int]:
    """Portable fingerprint (as the scan's findings carry it) -> findings row. Two rules matching one credential share its row; the
    finding of the rule the row kept is the one mapped to it."""
    ids: dict[str, int] = {}
    kept: dict[int, str] = {}
    for obs in observed:
        fid, keyed = store.conn.execute("SELECT id, keyed_fingerprint FROM findings WHERE credential_key = ?",
                                        [obs.credential_key]).fetchone()
        if fid not in kept or obs.keyed_fingerprint == keyed:
            ids.pop(kept.get(fid, ""), None)
            kept[fid] = obs.finding.fingerprint
            ids[obs.finding.fingerprint] = fid
    return ids


def to_finding(row: dict, locations: list[dict]) -> Finding:
    """A stored credential as the reporters' Finding; the secret only if the datastore holds it. Its fingerprint
    is the keyed one (keys.keyed_fingerprint): the datastore keeps no unkeyed hash of a secret."""
    locs = []
    for loc in locations:
        provenance = Provenance(commit=loc["commit"] or "", author=loc["author"] or "", email=loc["email"] or "",
                                date=loc["date"] or "", repo=loc["repo"] or "", blob=loc["blob"] or "",
                                at_head=None if loc["at_head"] is None else bool(loc["at_head"]),
                                visibility=loc.get("visibility") or "")
        for name in PLACE_FIELDS:  # where on a workstation (schema version 8)
            setattr(provenance, name, loc.get(name) or "")
        locs.append(Location(loc["path"], loc["line"], loc["column"], loc["source"], provenance, loc["snippet"]))
    reasons = json.loads(row["reasons"])
    if row["status"] != "open":
        reasons.append(f"status {row['status']}: {row['status_reason'] or ''}".rstrip(": "))
    status = row["status"]
    if row["resolved_at_head"]:
        reasons.append("resolved at head: no branch head holds it any more")
    return Finding(
        rule_id=row["rule_id"], rule_name=row["rule_name"], provider=row["provider"], kind=row["kind"],
        fingerprint=row["keyed_fingerprint"], preview=row["preview"], confidence=row["confidence"],
        entropy=row["entropy"], privilege=row["privilege"], lifetime=row["lifetime"],
        remediation=row["remediation"], reasons=reasons, locations=locs, secret=row["secret"],
        groups=json.loads(row["groups_json"]), status=status)

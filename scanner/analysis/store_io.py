"""Analysis over the datastore: read the findings it holds, write back the inventory snapshot, the links
and the scores (tables owners, identities, credentials, links, scores: docs/datastore.md).

All writes of one analysis go in one transaction: a reader sees the previous analysis or this one.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from scanner.analysis.analyze import Analysis, analyze
from scanner.analysis.subject import Subject, parse_when, subject_facts
from scanner.findings.facts import facts_of
from scanner.inventory.model import Inventory
from scanner.model import BlastRadius, FindingAnalysis, Link, LinkEvidence, RunnerUp
from scanner.store.db import PORTABLE_LENGTH
from scanner.store.keys import keyed_fingerprint


@dataclass
class StoredFindings:
    subjects: list[Subject]
    ids: dict[str, int]  # the stored (keyed) fingerprint -> findings.id


def stored_facts(row: dict) -> dict:
    """What the datastore knows of a credential beyond the scan: its keyed fingerprint, its liveness
    (a revoked one scores with the revoked multiplier) and when it was first seen (the age factor)."""
    return {"credential_key": row["credential_key"], "liveness": "revoked" if row["status"] == "revoked" else "unknown",
            "first_seen": parse_when(row["first_seen"])}


def load_subjects(store, min_confidence: str = "low", public_repos: frozenset[str] = frozenset()) -> StoredFindings:
    """Every open or revoked credential in the datastore, with what stored_facts() reads of it and what its
    provider said last (table `validations`: liveness and privilege, ahead of what the datastore knew, as a scan
    with --validate scores; tests/test_validate_sweep.py).

    Allowed findings (triaged as not a problem) are left out."""
    from scanner.analysis.annotate import validated
    from scanner.rules import load_rules
    from scanner.store import validations
    from scanner.store.record import to_finding

    rules = load_rules().by_id  # what the datastore does not keep of a rule: whether its key is publishable
    kept = read_facts(store)
    rows = [row for row in store.query_findings(min_confidence=min_confidence) if row["status"] != "allowed"]
    answers = validations.latest(store, [row["id"] for row in rows])
    subjects, ids = [], {}
    for row in rows:
        f = to_finding(row, store.locations_of(row["id"]))
        f.publishable = rules[f.rule_id].publishable if f.rule_id in rules else False
        f.validation = answers.get(row["id"])
        pairs = kept.get(row["id"]) or facts_of(f, f.secret)  # kept at scan time, else what the row itself says
        fields = {**stored_facts(row), **(validated(f.validation) if f.validation is not None else {})}
        subjects.append(Subject(f, public_repos=public_repos, facts=subject_facts(pairs), **fields))
        ids[f.fingerprint] = row["id"]
    return StoredFindings(subjects, ids)


def read_facts(store) -> dict[int, list[tuple[str, str, str]]]:
    """finding id -> its kept facts (name, value, source)."""
    out: dict[int, list[tuple[str, str, str]]] = {}
    if "facts" not in store.db.table_names():
        return out
    for fid, name, value, source in store.db.execute("SELECT finding_id, name, value, source FROM facts "
                                                     "ORDER BY finding_id, name, value"):
        out.setdefault(fid, []).append((name, value, source))
    return out


def analyze_recorded(store, result, ids: dict[str, int], scan_id: int, inventory: Inventory, *,
                     repo: str | None = None, public_repos: frozenset[str] = frozenset()) -> Analysis:
    """The analysis stage of `sprawl scan/git/staged --db --inventory`: link and score the scan's findings
    (annotating them for the report) with what the datastore knows of each, and write the links and
    scores as `sprawl analyze --db` does. Call inside the transaction that recorded the findings."""
    from scanner.analysis.annotate import analyze_result

    rows = {fp: store.db["findings"].get(fid) for fp, fid in ids.items()}
    analysis = analyze_result(result, inventory, repo=repo, public_repos=public_repos,
                              known={fp: stored_facts(row) for fp, row in rows.items()})
    write_analysis(store, analysis, {fp: fid for fp, fid in ids.items() if rows[fp]["status"] != "allowed"}, scan_id)
    return analysis


def _json(value) -> str:
    return json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, date) else v.__dict__)


def write_inventory(store, inv: Inventory) -> None:
    """The inventory the analysis used, so the datastore says which facts a link rested on. A credential declared
    by portable fingerprint is kept keyed, as the findings are (tests/test_store_fingerprints.py)."""
    db = store.db
    key = store.lookup_key()

    def kept(fp: str | None) -> str | None:
        if fp and key is not None and len(fp) == PORTABLE_LENGTH and not fp.startswith("hmac-sha256:"):
            return keyed_fingerprint(fp, key)
        return fp

    for table in ("owners", "identities", "credentials"):
        db.execute(f"DELETE FROM {table}")
    for o in inv.owners:
        db["owners"].insert({"id": o.id, "type": o.type, "contacts": _json(o.contacts), "source": o.source})
    holder: dict[str, str] = {}  # credential id -> the first identity holding it
    for i in inv.identities:
        for cid in i.credentials:
            holder.setdefault(cid, i.id)
        db["identities"].insert({
            "id": i.id, "kind": i.kind, "owner": i.owner, "purpose": i.purpose, "environment": i.environment,
            "lifecycle": i.lifecycle, "repos": _json(i.repos), "paths": _json(i.paths + i.configs),
            "approved_scopes": _json(i.approved_scopes), "workload_identity": i.workload_identity,
            "tools": _json(i.tools), "credentials": _json(i.credentials),
            "last_reviewed": i.last_reviewed.isoformat() if i.last_reviewed else None, "source": i.source})
    for c in inv.credentials:
        db["credentials"].insert({
            "id": c.id, "identity_id": holder.get(c.id), "provider": c.provider, "type": c.type, "key_id": c.key_id,
            "fingerprint": kept(c.fingerprint), "secret_ref": c.secret_ref, "env_vars": _json(c.env_vars), "ttl": c.ttl,
            "created_at": c.created_at and c.created_at.isoformat(),
            "last_rotated": c.last_rotated and c.last_rotated.isoformat(),
            "expires_at": c.expires_at and c.expires_at.isoformat(), "scopes": _json(c.scopes), "source": c.source})


def write_analysis(store, analysis: Analysis, ids: dict[str, int], scan_id: int | None = None) -> None:
    """Replace the links and scores of these findings. The chosen link is written first with
    `chosen: true` in its evidence; its rivals follow, so a reviewer sees what else was considered."""
    from scanner.store.db import now

    db = store.db
    stamp = now()
    with store.atomic():
        write_inventory(store, analysis.inventory)
        for fp, fid in ids.items():
            db.execute("DELETE FROM links WHERE finding_id = ?", [fid])
            db.execute("DELETE FROM scores WHERE finding_id = ?", [fid])
            if fp not in analysis.scores:
                continue  # an identifier: evidence on the secret it pairs with, no link or score of its own
            link, score = analysis.links[fp], analysis.scores[fp]
            if link.status != "unowned":
                db["links"].insert({
                    "finding_id": fid, "identity_id": link.identity, "owner_id": link.owner,
                    "method": link.methods[0] if link.methods else "", "confidence": link.confidence,
                    "ambiguous": int(link.ambiguous), "scan_id": scan_id,
                    "evidence": _json({"chosen": True, "status": link.status, "credential": link.credential,
                                       "orphaned": link.orphaned, "evidence": [e.to_dict() for e in link.evidence],
                                       "owner_groups": link.owner_groups, "identifiers": link.identifiers,
                                       "margin": link.margin})})
            for cand in link.candidates:
                if cand.kind == "credential" or (cand.kind == "identity" and cand.id == link.identity) or (
                        cand.kind == "owner" and cand.id == link.owner):
                    continue  # the chosen link already carries this evidence
                db["links"].insert({
                    "finding_id": fid, "identity_id": cand.id if cand.kind == "identity" else None,
                    "owner_id": cand.owner, "method": cand.methods[0] if cand.methods else "",
                    "confidence": cand.confidence, "ambiguous": int(link.ambiguous), "scan_id": scan_id,
                    "evidence": _json({"chosen": False, "evidence": [e.to_dict() for e in cand.evidence]})})
            # Paired identifiers ride with the score too: an unowned secret has no link row to carry them.
            db["scores"].insert({"finding_id": fid, "score": score.score, "band": score.band,
                                 "link_confidence": link.confidence,
                                 "factors": _json({**score.to_dict(), "identifiers": link.identifiers}),
                                 "computed_at": stamp}, replace=True)


def analyze_store(db_path, inventory: Inventory, *, write: bool = True, min_confidence: str = "low",
                  public_repos: frozenset[str] = frozenset(), today=None) -> tuple[Analysis, StoredFindings]:
    """Link and score everything the datastore holds against the inventory, and (by default) record it."""
    from scanner.store import Store

    store = Store(db_path, create=False)
    try:
        stored = load_subjects(store, min_confidence, public_repos)
        key = store.lookup_key()
        analysis = analyze(stored.subjects, inventory, today=today,
                           keyed=(lambda fp: keyed_fingerprint(fp, key)) if key is not None else None)
        if write:
            write_analysis(store, analysis, stored.ids, store.last_scan_id() or None)
        return analysis, stored
    finally:
        store.close()


def find_stored(store, fingerprint: str) -> int:
    """The finding id of the credential a fingerprint names (Store.resolve_fingerprint: one rule for every lookup)."""
    return int(store.resolve_fingerprint(fingerprint)[0])


def read_scores(store, finding_ids=None) -> dict[int, dict]:
    """Score rows (factors parsed) with their link rows (evidence parsed, the chosen link first), by
    finding id; only these findings when ids are given."""
    where, params = "", []
    if finding_ids is not None:
        finding_ids = list(finding_ids)
        if not finding_ids:
            return {}
        where, params = f" WHERE finding_id IN ({','.join('?' * len(finding_ids))})", finding_ids
    out = {}
    for row in store.db.query(f"SELECT * FROM scores{where}", params):
        out[row["finding_id"]] = dict(row, factors=json.loads(row["factors"]), links=[])
    for row in store.db.query(f"SELECT * FROM links{where} ORDER BY id", params):
        if row["finding_id"] in out:
            out[row["finding_id"]]["links"].append(dict(row, evidence=json.loads(row["evidence"])))
    contacts = {row["id"]: json.loads(row["contacts"] or "[]") for row in store.db.query("SELECT id, contacts FROM owners")}
    for stored in out.values():  # the chosen link's owner's contacts
        chosen = next((lk for lk in stored["links"] if lk["evidence"].get("chosen")), None)
        stored["contacts"] = contacts.get(chosen["owner_id"], []) if chosen else []
    return out


def stored_link(stored: dict) -> Link:
    """The recorded link of one finding, as a fresh analysis gives it (LinkDecision.link)."""
    from scanner.analysis.linking import CONFIDENCE

    chosen = next((lk for lk in stored["links"] if lk["evidence"].get("chosen")), None)
    if chosen is None:
        return Link("unowned", confidence=stored["link_confidence"] or 0.0,
                    identifiers=stored["factors"].get("identifiers", []))
    ev = chosen["evidence"]
    rivals = [lk for lk in stored["links"] if not lk["evidence"].get("chosen")]
    runner = rivals[0] if rivals else None
    return Link(ev["status"], chosen["identity_id"], chosen["owner_id"], ev.get("credential"), chosen["confidence"],
                bool(chosen["ambiguous"]), bool(ev.get("orphaned")),
                sorted({e["method"] for e in ev["evidence"]}, key=lambda m: -CONFIDENCE.get(m, 0)),
                [LinkEvidence.from_dict(e) for e in ev["evidence"]],
                RunnerUp("identity" if runner["identity_id"] else "owner", runner["identity_id"] or runner["owner_id"],
                         runner["owner_id"], runner["confidence"],
                         [LinkEvidence.from_dict(e) for e in runner["evidence"]["evidence"]]) if runner else None,
                ev.get("margin"), ev.get("identifiers", []), ev.get("owner_groups", []))


def stored_analysis(stored: dict) -> FindingAnalysis:
    """A finding's analysis (see scanner.analysis.annotate) from what the datastore recorded."""
    link = stored_link(stored)
    return FindingAnalysis(owner=link.owner, identity=link.identity, link_status=link.status,
                           link_confidence=link.confidence, link_methods=link.methods,
                           ambiguous=link.ambiguous, orphaned=link.orphaned, score=stored["score"],
                           band=stored["band"], link=link, blast_radius=BlastRadius.from_dict(stored["factors"]),
                           computed_at=stored["computed_at"], contacts=stored.get("contacts", []))

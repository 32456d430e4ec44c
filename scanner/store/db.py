"""The findings datastore: one SQLite file (sqlite-utils), findings keyed by credential, every location kept.

Every write method runs inside `Store.atomic()` so a crash (even kill -9) leaves either all of a
repository's results or none of them.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.model import CONFIDENCE_RANK, Finding, Location
from scanner.store import keys
from scanner.store.errors import StoreError
from scanner.store.paths import DEFAULT_DB  # noqa: F401  (re-exported)
from scanner.store.schema import migrate

if TYPE_CHECKING:
    import sqlite_utils  # imported on first use (Store.db); here for its types only

STATUSES = ("open", "allowed", "revoked")


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _create_private(path: Path) -> None:
    """The folder 0700 and the file 0600 before SQLite touches them (its -wal/-shm copy the file's mode)."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


@dataclass
class LocationRow:
    """One place a credential appears, as the datastore keeps it."""

    path: str
    line: int
    column: int
    source: str
    snippet: str = ""
    repo: str = ""
    repository_id: int | None = None
    blob: str = ""
    commit: str = ""
    author: str = ""
    email: str = ""
    date: str = ""

    @classmethod
    def from_location(cls, loc: Location, repo: str = "", repository_id: int | None = None, blob: str = "",
                      default_date: str = "") -> LocationRow:
        p = loc.provenance
        return cls(loc.path, loc.line, loc.column, loc.source, loc.snippet, repo, repository_id, blob,
                   p.commit, p.author, p.email, p.date or default_date)


@dataclass
class Observed:
    """A finding as a scan saw it, keyed by credential, with no plaintext unless it is to be stored."""

    credential_key: str
    finding: Finding
    locations: list[LocationRow] = field(default_factory=list)
    secret: str | None = None  # only with --store-secrets


def _rank(rule_kind: str, confidence: str, rule_id: str) -> tuple:
    # One row per credential: keep the most telling rule, decided the same whatever the scan order.
    return (CONFIDENCE_RANK[confidence], rule_kind != "generic", tuple(-ord(c) for c in rule_id))


class Store:
    def __init__(self, path: str | Path, key: bytes | None = None, create: bool = True):
        self.path = Path(path)
        if not self.path.exists() and not create:
            raise StoreError(f"no datastore at {self.path} (run `sprawl sweep` or a scan with --db first)")
        try:
            if create:
                _create_private(self.path)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            migrate(conn)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable sprawl datastore ({exc})") from None
        self.conn = conn
        self._db: sqlite_utils.Database | None = None
        self.key = key
        if key is not None:
            self._check_key(key)

    @property
    def db(self):
        """The sqlite-utils view of the connection, imported on first use: a sweep with nothing new
        never needs it, and importing it (it probes for numpy and pandas) costs more than that sweep."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    def close(self) -> None:
        self.conn.close()

    def _check_key(self, key: bytes) -> None:
        kid = keys.key_id(key)
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'key_id'").fetchone()
        if row is None:
            with self.conn:
                self.conn.execute("BEGIN")
                self.conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('key_id', ?)", [kid])
        elif row[0] != kid:
            raise StoreError(f"{self.path} was written under a different fingerprint key "
                             f"(set {keys.ENV_KEY} or --key-file to the organisation key)")

    @contextmanager
    def atomic(self):
        with self.db.atomic():
            yield self

    # --- scans ---------------------------------------------------------------------------------

    # The scan bookkeeping below uses the plain connection, so that a sweep with nothing new
    # never imports sqlite-utils (see `db`).

    def _write(self, sql: str, params: list):
        self.conn.execute("BEGIN")
        try:
            cur = self.conn.execute(sql, params)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return cur

    def begin_scan(self, kind: str, target: str, rules_version: str, options: dict | None = None) -> int:
        return self._write("INSERT INTO scans (kind, target, started, status, rules_version, options, pid) "
                           "VALUES (?, ?, ?, 'running', ?, ?, ?)",
                           [kind, target, now(), rules_version, json.dumps(options or {}, sort_keys=True),
                            os.getpid()]).lastrowid

    def unfinished_sweep(self, target: str, rules_version: str) -> int | None:
        """The last sweep of the same target that never finished (killed), to be resumed."""
        row = self.conn.execute("SELECT id, status, target, rules_version FROM scans WHERE kind = 'sweep' "
                                "ORDER BY id DESC LIMIT 1").fetchone()
        if row and row[1:] == ("running", target, rules_version):
            return row[0]
        return None

    def claim_scan(self, scan_id: int) -> None:
        self._write("UPDATE scans SET pid = ? WHERE id = ?", [os.getpid(), scan_id])

    def finish_scan(self, scan_id: int, stats: dict) -> None:
        self._write("UPDATE scans SET finished = ?, status = 'complete', stats = ? WHERE id = ?",
                    [now(), json.dumps(stats, sort_keys=True), scan_id])

    def last_scan_id(self) -> int:
        return self.count("SELECT max(id) FROM scans", []) or 0

    def count(self, sql: str, params: list) -> int:
        return self.conn.execute(sql, params).fetchone()[0]

    def sweep_counts(self, scan_id: int, min_confidence: str) -> tuple[int, int]:
        """(new open findings at or above the confidence, findings resolved at head) of one sweep."""
        confs = [c for c, r in CONFIDENCE_RANK.items() if r >= CONFIDENCE_RANK[min_confidence]]
        marks = ",".join("?" * len(confs))
        new = self.count(f"SELECT count(*) FROM findings WHERE first_scan_id = ? AND status = 'open' "
                         f"AND confidence IN ({marks})", [scan_id, *confs])
        resolved = self.count("SELECT count(*) FROM findings WHERE resolved_scan_id = ?", [scan_id])
        return new, resolved

    # --- findings and locations ------------------------------------------------------------------

    def record(self, scan_id: int, observed: Iterable[Observed]) -> set[int]:
        """Merge findings and their locations; call inside atomic(). Returns the finding ids touched."""
        touched = set()
        for obs in observed:
            fid = self._upsert_finding(scan_id, obs)
            touched.add(fid)
            self._insert_locations(scan_id, fid, obs.finding.rule_id, obs.locations)
        return touched

    def _upsert_finding(self, scan_id: int, obs: Observed) -> int:
        f = obs.finding
        rule_fields = {
            "rule_id": f.rule_id, "rule_name": f.rule_name, "provider": f.provider, "kind": f.kind,
            "portable_fingerprint": f.fingerprint, "preview": f.preview, "confidence": f.confidence,
            "entropy": f.entropy, "privilege": f.privilege, "lifetime": f.lifetime, "remediation": f.remediation,
            "reasons": json.dumps(f.reasons), "groups_json": json.dumps(f.groups, sort_keys=True)}
        row = self.db.execute("SELECT id, kind, confidence, rule_id, secret FROM findings WHERE credential_key = ?",
                              [obs.credential_key]).fetchone()
        if row is None:
            return self.db["findings"].insert({
                "credential_key": obs.credential_key, **rule_fields, "secret": obs.secret,
                "first_scan_id": scan_id}).last_pk
        fid, kind, confidence, rule_id, secret = row
        if _rank(f.kind, f.confidence, f.rule_id) > _rank(kind, confidence, rule_id):
            self.db["findings"].update(fid, rule_fields)
        if obs.secret is not None and secret is None:
            self.db["findings"].update(fid, {"secret": obs.secret})
        return fid

    def _insert_locations(self, scan_id: int, fid: int, rule_id: str, rows: Iterable[LocationRow]) -> None:
        self.db.conn.executemany(
            'INSERT OR IGNORE INTO locations (finding_id, rule_id, repository_id, repo, blob, "commit", path, line, '
            '"column", author, email, date, source, snippet, scan_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
            [(fid, rule_id, r.repository_id, r.repo, r.blob, r.commit, r.path, r.line, r.column, r.author, r.email,
              r.date, r.source, r.snippet, scan_id) for r in rows])

    def copy_blob_locations(self, scan_id: int, blob: str, rows: Iterable[LocationRow]) -> set[int]:
        """A blob seen before holds the same matches wherever it reappears: add the new places
        without rescanning it. Call inside atomic()."""
        known = self.db.execute(
            'SELECT DISTINCT finding_id, rule_id, line, "column", snippet FROM locations WHERE blob = ? '
            "AND source = 'git'", [blob]).fetchall()
        touched = set()
        for fid, rule_id, line, column, snippet in known:
            touched.add(fid)
            self._insert_locations(scan_id, fid, rule_id, [
                LocationRow(r.path, line, column, "git", snippet, r.repo, r.repository_id, blob, r.commit, r.author,
                            r.email, r.date) for r in rows])
        return touched

    def blobs_with_locations(self, oids: list[str]) -> set[str]:
        return set(self._in_chunks("SELECT DISTINCT blob FROM locations WHERE blob IN ({})", oids))

    def known_blobs(self, oids: list[str], rules_version: str) -> set[str]:
        return set(self._in_chunks("SELECT oid FROM blobs WHERE rules_version = ? AND oid IN ({})", oids,
                                   [rules_version]))

    def _in_chunks(self, sql: str, values: list[str], params: list | None = None):
        for i in range(0, len(values), 500):
            chunk = values[i:i + 500]
            for (v,) in self.db.execute(sql.format(",".join("?" * len(chunk))), [*(params or []), *chunk]):
                yield v

    def mark_blobs(self, scan_id: int, oids: Iterable[str], rules_version: str) -> None:
        self.db.conn.executemany("INSERT OR IGNORE INTO blobs (oid, rules_version, scan_id) VALUES (?, ?, ?)",
                                 [(o, rules_version, scan_id) for o in oids])

    # --- repositories and heads ---------------------------------------------------------------

    def repository(self, path: str, name: str) -> dict:
        row = list(self.db.query("SELECT * FROM repositories WHERE path = ?", [path]))
        if row:
            return row[0]
        self.db.execute("INSERT OR IGNORE INTO repositories (path, name) VALUES (?, ?)", [path, name])
        return next(self.db.query("SELECT * FROM repositories WHERE path = ?", [path]))

    def refs_hash(self, path: str) -> str | None:
        row = self.conn.execute("SELECT refs_hash FROM repositories WHERE path = ?", [path]).fetchone()
        return row[0] if row else None

    def set_heads(self, repository_id: int, head_pairs: Iterable[tuple[str, str]]) -> set[int]:
        """Which of this repository's locations sit at a branch head; call inside atomic()."""
        self.db.execute("UPDATE locations SET at_head = 0 WHERE repository_id = ?", [repository_id])
        self.db.conn.executemany("UPDATE locations SET at_head = 1 WHERE repository_id = ? AND path = ? AND blob = ?",
                                 [(repository_id, p, b) for p, b in head_pairs])
        return {r[0] for r in self.db.execute("SELECT DISTINCT finding_id FROM locations WHERE repository_id = ?",
                                                [repository_id])}

    def finish_repository(self, repository_id: int, refs_hash: str, scan_id: int) -> None:
        self.db.execute("UPDATE repositories SET refs_hash = ?, last_scan_id = ? WHERE id = ?",
                        [refs_hash, scan_id, repository_id])

    def refresh(self, scan_id: int, finding_ids: Iterable[int]) -> None:
        """Recompute what derives from locations: first/last seen and resolved-at-head."""
        for fid in finding_ids:
            first, last, heads, swept = self.db.execute(
                "SELECT min(NULLIF(date, '')), max(NULLIF(date, '')), sum(at_head = 1), count(at_head) "
                "FROM locations WHERE finding_id = ?", [fid]).fetchone()
            resolved = 1 if swept and not heads else 0
            self.db.execute(
                "UPDATE findings SET first_seen = ?, last_seen = ?, resolved_scan_id = CASE "
                "WHEN ? = 1 AND resolved_at_head = 0 THEN ? WHEN ? = 0 THEN NULL ELSE resolved_scan_id END, "
                "resolved_at_head = ? WHERE id = ?", [first, last, resolved, scan_id, resolved, resolved, fid])

    # --- triage and queries --------------------------------------------------------------------

    def resolve_fingerprint(self, fingerprint: str) -> list[int]:
        """Finding ids for a credential key (or a unique prefix of one) or a portable fingerprint."""
        fp = fingerprint.strip().lower()
        if len(fp) < 8:
            raise StoreError("give at least 8 characters of the fingerprint")
        ids = [r[0] for r in self.db.execute(
            "SELECT id FROM findings WHERE credential_key LIKE ? || '%' OR portable_fingerprint = ?", [fp, fp])]
        if not ids:
            raise StoreError(f"no finding with fingerprint {fingerprint}")
        keys_ = {r[0] for r in self.db.execute(
            f"SELECT credential_key FROM findings WHERE id IN ({','.join('?' * len(ids))})", ids)}
        if len(keys_) > 1:
            raise StoreError(f"fingerprint {fingerprint} is ambiguous ({len(keys_)} credentials): give more of it")
        return ids

    def set_status(self, fingerprint: str, status: str, reason: str) -> list[dict]:
        if status not in STATUSES:
            raise StoreError(f"status must be one of {', '.join(STATUSES)}")
        ids = self.resolve_fingerprint(fingerprint)
        with self.atomic():
            for fid in ids:
                self.db["findings"].update(fid, {"status": status, "status_reason": reason, "status_changed": now()})
        return [self.db["findings"].get(fid) for fid in ids]

    def query_findings(self, rule: str | None = None, provider: str | None = None, repo: str | None = None,
                       status: str | None = None, since_scan: int | None = None,
                       min_confidence: str = "low") -> list[dict]:
        where: list[str] = []
        params: list[str | int] = []
        if rule:
            where.append("f.rule_id = ?")
            params.append(rule)
        if provider:
            where.append("f.provider = ?")
            params.append(provider)
        if status == "resolved":
            where.append("f.resolved_at_head = 1")
        elif status:
            where.append("f.status = ?")
            params.append(status)
        if since_scan is not None:
            where.append("f.first_scan_id > ?")
            params.append(since_scan)
        if repo:
            # Swept locations point at a repositories row; a one-off scan's carry only the repository's name.
            where.append("EXISTS (SELECT 1 FROM locations l LEFT JOIN repositories r ON r.id = l.repository_id "
                         "WHERE l.finding_id = f.id AND (r.name = ? OR r.path = ? OR l.repo = ?))")
            params += [repo, repo, repo]
        floor = CONFIDENCE_RANK[min_confidence]
        allowed = [c for c, r in CONFIDENCE_RANK.items() if r >= floor]
        where.append(f"f.confidence IN ({','.join('?' * len(allowed))})")
        params += allowed
        sql = f"SELECT f.* FROM findings f WHERE {' AND '.join(where)} ORDER BY f.id"
        return list(self.db.query(sql, params))

    def locations_of(self, finding_id: int) -> list[dict]:
        return list(self.db.query(
            'SELECT * FROM locations WHERE finding_id = ? ORDER BY date, repo, path, line, "column", "commit"',
            [finding_id]))

    def sprawl(self, finding_id: int) -> dict:
        """How far one credential has spread."""
        row = self.db.execute(
            'SELECT count(*), count(DISTINCT repo || char(0) || path), count(DISTINCT repo), '
            'count(DISTINCT NULLIF("commit", \'\')), min(NULLIF(date, \'\')), max(NULLIF(date, \'\')) '
            "FROM locations WHERE finding_id = ?", [finding_id]).fetchone()
        return dict(zip(("locations", "files", "repositories", "commits", "first_seen", "last_seen"), row))

"""The findings datastore: one SQLite file (sqlite-utils), findings keyed by credential, every location kept.

Every write runs inside `Store.atomic()` (or `_write`), a `BEGIN IMMEDIATE` transaction: the write lock
is taken before the first read, so two processes writing one file wait for each other (busy timeout
30 s) instead of failing with "database is locked", and a crash (even kill -9) or a full disk leaves
either all of a repository's results or none of them. A file that is not sprawl's (application_id)
is refused before anything is written to it, and an existing file is integrity-checked
(`PRAGMA quick_check`) before the first write. Any SQLite failure reaches the caller as a one-line
StoreError (tests/test_store_reliability.py).

Paths and other names are stored as they are on disk: a value that is valid UTF-8 as TEXT, one that
is not (a file name with other bytes, carried as str with surrogate escapes) as a BLOB of its exact
bytes; `text()` turns either back into the same str (see `sql_text`).
"""
from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.model import CONFIDENCE_RANK, Finding, Location, fingerprint_prefix
from scanner.store import keys, process
from scanner.store.errors import StoreError
from scanner.store.paths import DEFAULT_DB  # noqa: F401  (re-exported)
from scanner.store.schema import KEYED_FINGERPRINT_SQL, identify, migrate

if TYPE_CHECKING:
    import sqlite_utils  # imported on first use (Store.db); here for its types only

STATUSES = ("open", "allowed", "revoked")
PORTABLE_LENGTH = 32  # characters of a portable fingerprint (scanner.findings.collect.portable_fingerprint)
BUSY_TIMEOUT = 30.0  # seconds a writer waits for another process's transaction


def sql_text(value: str | bytes) -> str | bytes:
    """A name as SQLite stores it: the str when it is valid UTF-8, else its exact bytes (a BLOB).

    Why not one TEXT column holding surrogate-escaped text: SQLite's TEXT must be UTF-8 and Python's
    sqlite3 refuses lone surrogates, and an escaped spelling (`\\xff`) would collide with a file
    literally named that way. Why not a second BLOB column: every query, index and UNIQUE key would
    need both. A BLOB cell in the TEXT column keeps the exact bytes, compares by them, and leaves every
    ordinary name as plain TEXT (tests/test_store_reliability.py::test_a_file_name_that_is_not_utf8_is_recorded_exactly)."""
    if isinstance(value, bytes):
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape")
    return value


def text(value):
    """Back from `sql_text`: a BLOB cell becomes the str the scanner had (surrogate escapes kept)."""
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


_DAMAGED = "the datastore is damaged: SQLite's integrity check failed"


def _busy(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def _retry_busy(path: Path, step):
    """`step()`, again while SQLite answers "busy" without waiting, up to BUSY_TIMEOUT. SQLite's busy
    handler covers most waits, but not all (SQLite returns SQLITE_BUSY at once where waiting could
    deadlock, and around a new file's switch to WAL): six concurrent `scan --db` on a new file once
    failed so on a loaded machine (not reproduced in 80 rounds since). Any other SQLite failure, or
    busy past the timeout, is a StoreError."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            return step()
        except sqlite3.Error as exc:
            if not _busy(exc) or time.monotonic() > deadline:
                raise StoreError(f"{path}: {_describe(exc)}") from None
        time.sleep(0.02 + random.random() * 0.08)


def _describe(exc: sqlite3.Error) -> str:
    message = str(exc)
    if "full" in message or "I/O" in message:
        return f"cannot write the datastore: {message}"
    if "locked" in message or "busy" in message:
        return f"the datastore stayed locked by another process for {BUSY_TIMEOUT:.0f}s: {message}"
    if "readonly" in message or "read-only" in message:
        return f"cannot write the datastore: {message}"
    if "malformed" in message:
        return f"{_DAMAGED} ({message}); restore it from a backup or give --db a new file"
    return f"not a usable sprawl datastore ({message})"


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _create_private(path: Path) -> None:
    """The folder 0700 and the file 0600 before SQLite touches them (its -wal/-shm copy the file's mode)."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


# The Provenance fields a location keeps in a column of the same name (schema version 8): where on a workstation
# it is, and the media kind (tests/test_store_workstation.py::test_every_workstation_field_round_trips).
PLACE_FIELDS = ("media", "client", "scope", "project", "server", "field", "setting", "session", "role")


@dataclass
class LocationRow:
    """One place a credential appears, as the datastore keeps it; `places` holds the PLACE_FIELDS that are set."""

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
    places: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_location(cls, loc: Location, repo: str = "", repository_id: int | None = None, blob: str = "",
                      default_date: str = "") -> LocationRow:
        p = loc.provenance
        places = {name: getattr(p, name) for name in PLACE_FIELDS if getattr(p, name)}
        return cls(loc.path, loc.line, loc.column, loc.source, loc.snippet, repo, repository_id, blob,
                   p.commit, p.author, p.email, p.date or default_date, places)


@dataclass(frozen=True)
class RepositoryFacts:
    """What a code host lists of a repository; kept in the `repositories` row (never a credential)."""

    host: str
    full_name: str
    url: str
    visibility: str
    default_branch: str | None = None
    archived: bool = False
    fork: bool = False


COVERAGE_STATUSES = ("listed", "fetched", "scanned", "unchanged", "failed")


@dataclass
class CoverageRow:
    """One repository in one sweep: listed (left out by a filter), fetched, scanned, unchanged or failed."""

    repo: str
    status: str
    reason: str = ""
    new_blobs: int = 0
    bytes: int = 0
    seconds: float = 0.0
    mirror: str = ""  # created, fetched, unchanged, failed: what updating its mirror did; "" for a local one
    url: str = ""
    repository_id: int | None = None

    def __post_init__(self) -> None:
        assert self.status in COVERAGE_STATUSES, self.status


@dataclass
class Observed:
    """A finding as a scan saw it, keyed by credential, with no plaintext unless it is to be stored."""

    credential_key: str
    finding: Finding
    locations: list[LocationRow] = field(default_factory=list)
    secret: str | None = None  # only with --store-secrets
    keyed_fingerprint: str = ""  # keys.keyed_fingerprint of the finding's portable fingerprint
    facts: list[tuple[str, str, str]] = field(default_factory=list)  # scanner.findings.facts.facts_of


def _rank(rule_kind: str, confidence: str, rule_id: str) -> tuple:
    # One row per credential: keep the most telling rule, decided the same whatever the scan order.
    return (CONFIDENCE_RANK[confidence], rule_kind != "generic", tuple(-ord(c) for c in rule_id))


class Store:
    def __init__(self, path: str | Path, key: bytes | None = None, create: bool = True):
        self.path = Path(path)
        if not self.path.exists() and not create:
            raise StoreError(f"no datastore at {self.path} (run `sprawl sweep` or a scan with --db first)")
        if create:
            _create_private(self.path)
        self.key = key
        self.conn = _retry_busy(self.path, self._open)
        self._db: sqlite_utils.Database | None = None
        if key is not None:
            self._check_key(key)

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
            # Nothing is written (not even the journal mode) before the file is known to be sprawl's.
            needs_migration, existing = identify(conn, self.path)
            self.conn = conn
            self._intact = not existing
            if needs_migration:
                self._check_integrity()
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            if needs_migration:
                self._prepare_keying(conn)
                migrate(conn, self.path)
        except BaseException:
            conn.close()
            raise
        return conn

    @property
    def db(self):
        """The sqlite-utils view of the connection, imported on first use: a sweep with nothing new
        never needs it, and importing it (it probes for numpy and pandas) costs more than that sweep."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    def close(self) -> None:
        try:
            self.conn.close()
        except sqlite3.Error as exc:  # the last close checkpoints the WAL: a full disk can fail it
            raise StoreError(f"{self.path}: {_describe(exc)}") from None

    def _check_integrity(self) -> None:
        """`PRAGMA quick_check` once, before the first write to a file that already held data: a file with
        corrupt pages is refused, not written into
        (tests/test_store_reliability.py::test_a_corrupt_datastore_is_refused_and_not_written)."""
        if self._intact:
            return
        try:
            rows = [r[0] for r in self.conn.execute("PRAGMA quick_check(5)")]
        except sqlite3.DatabaseError as exc:
            rows = [str(exc)]
        if rows != ["ok"]:
            raise StoreError(f"{self.path}: {_DAMAGED} ({rows[0]}); restore it from a backup or give --db a new file")
        self._intact = True

    def _prepare_keying(self, conn: sqlite3.Connection) -> None:
        """Schema version 6 rewrites every stored portable fingerprint to its keyed form in the migration's
        transaction: register the SQL function that keys them, with the key this file was written under (this
        Store's, else the organisation key `keys.load_key()` finds), checked before anything is rewritten
        (tests/test_store_fingerprints.py::test_migration_keys_the_stored_portable_fingerprints_in_place)."""
        key = None
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        holds = version and version < 6 and conn.execute("SELECT 1 FROM findings LIMIT 1").fetchone()
        if holds:
            key = self.key if self.key is not None else keys.load_key()
            row = conn.execute("SELECT value FROM meta WHERE key = 'key_id'").fetchone()
            if row is not None and row[0] != keys.key_id(key):
                raise StoreError(f"{self.path} was written under a different fingerprint key, and upgrading it keys "
                                 f"its stored fingerprints: set {keys.ENV_KEY} or --key-file to the organisation key")

        def keyed(portable: str) -> str:
            if key is None:
                raise ValueError("no fingerprint key to migrate with")
            return keys.keyed_fingerprint(portable, key)

        conn.create_function(KEYED_FINGERPRINT_SQL, 1, keyed, deterministic=True)

    def _begin(self) -> None:
        self._check_integrity()
        self.conn.execute("BEGIN IMMEDIATE")

    def _check_key(self, key: bytes) -> None:
        kid = keys.key_id(key)
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'key_id'").fetchone()
        if row is None:
            self._write("INSERT OR IGNORE INTO meta(key, value) VALUES ('key_id', ?)", [kid])
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'key_id'").fetchone()
        if row[0] != kid:
            raise StoreError(f"{self.path} was written under a different fingerprint key "
                             f"(set {keys.ENV_KEY} or --key-file to the organisation key)")

    @contextmanager
    def atomic(self):
        """One write transaction, `BEGIN IMMEDIATE`: the write lock before the first read. Nested calls are
        savepoints (sqlite-utils' own atomic() inside an open transaction). A SQLite failure (full disk,
        I/O error, lock held past the busy timeout) rolls everything back and raises StoreError."""
        if self.conn.in_transaction:
            with self.db.atomic():
                yield self
            return
        _retry_busy(self.path, self._begin)
        try:
            yield self
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:
                try:
                    self.conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # SQLite may have rolled back already (a full disk): nothing was committed
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"{self.path}: {_describe(exc)}") from None
            raise

    # --- scans ---------------------------------------------------------------------------------

    # The scan bookkeeping below uses the plain connection, so that a sweep with nothing new
    # never imports sqlite-utils (see `db`).

    def _write(self, sql: str, params: list):
        with self.atomic():
            return self.conn.execute(sql, params)

    def begin_scan(self, kind: str, target: str, rules_version: str, options: dict | None = None) -> int:
        """A scan row marked running, with this process's pid and identity. Inside atomic() or on its own."""
        return self._write("INSERT INTO scans (kind, target, started, status, rules_version, options, pid, process) "
                           "VALUES (?, ?, ?, 'running', ?, ?, ?, ?)",
                           [kind, sql_text(target), now(), rules_version, json.dumps(options or {}, sort_keys=True),
                            os.getpid(), process.identity(os.getpid())]).lastrowid

    def start_sweep(self, target: str, rules_version: str, options: dict | None = None) -> tuple[int, bool]:
        """(scan id, resumed): the newest sweep of the same target and rules that never finished is taken
        over when the process that ran it is gone (a pid that no longer exists, or exists as another
        process: reused, or after a reboot); while that process still runs, this sweep is refused with
        StoreError rather than run beside it. Otherwise a new sweep begins. Decided under the write lock,
        so two sweeps starting at once cannot both take over or both begin."""
        with self.atomic():
            row = self.conn.execute("SELECT id, status, pid, process FROM scans WHERE kind = 'sweep' AND target = ? "
                                    "AND rules_version = ? ORDER BY id DESC LIMIT 1",
                                    [sql_text(target), rules_version]).fetchone()
            if row and row[1] == "running":
                scan_id, _status, pid, ident = row
                if process.alive(pid, ident):
                    raise StoreError(f"sweep {scan_id} of the same repositories is still running (pid {pid}) in "
                                     f"{self.path}: wait for it to finish, or stop it and run again to resume it")
                self.conn.execute("UPDATE scans SET pid = ?, process = ? WHERE id = ?",
                                  [os.getpid(), process.identity(os.getpid()), scan_id])
                return scan_id, True
            return self.begin_scan("sweep", target, rules_version, options), False

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
            self.conn.executemany("INSERT OR IGNORE INTO facts (finding_id, name, value, source) VALUES (?, ?, ?, ?)",
                                  [(fid, *fact) for fact in obs.facts])
        return touched

    def _upsert_finding(self, scan_id: int, obs: Observed) -> int:
        f = obs.finding
        rule_fields = {
            "rule_id": f.rule_id, "rule_name": f.rule_name, "provider": f.provider, "kind": f.kind,
            "keyed_fingerprint": obs.keyed_fingerprint, "preview": f.preview, "confidence": f.confidence,
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
        t = sql_text
        self.db.conn.executemany(
            'INSERT OR IGNORE INTO locations (finding_id, rule_id, repository_id, repo, blob, "commit", path, line, '
            f'"column", author, email, date, source, snippet, scan_id, {", ".join(PLACE_FIELDS)}) '
            f"VALUES ({','.join('?' * (15 + len(PLACE_FIELDS)))})",
            [(fid, rule_id, r.repository_id, t(r.repo), r.blob, r.commit, t(r.path), r.line, r.column, t(r.author),
              t(r.email), r.date, r.source, t(r.snippet), scan_id, *(t(r.places.get(n, "")) for n in PLACE_FIELDS))
             for r in rows])

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

    def repository_blobs(self, path: str) -> set[str]:
        """Blobs with a recorded location in the repository at this git dir (an incremental sweep's heads)."""
        return {r[0] for r in self.conn.execute(
            "SELECT DISTINCT l.blob FROM locations l JOIN repositories r ON r.id = l.repository_id "
            "WHERE r.path = ? AND l.blob != ''", [sql_text(path)])}

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
        self.db.execute("INSERT OR IGNORE INTO repositories (path, name) VALUES (?, ?)",
                        [sql_text(path), sql_text(name)])
        row = next(self.db.query("SELECT * FROM repositories WHERE path = ?", [sql_text(path)]))
        return {k: text(v) for k, v in row.items()}

    def describe_repository(self, repository_id: int, facts: RepositoryFacts) -> None:
        """What the code host says of a repository (visibility, default branch...); call inside atomic()."""
        self.db.execute("UPDATE repositories SET host = ?, full_name = ?, url = ?, visibility = ?, default_branch = ?, "
                        "archived = ?, fork = ? WHERE id = ?",
                        [facts.host, facts.full_name, facts.url, facts.visibility, facts.default_branch,
                         int(facts.archived), int(facts.fork), repository_id])

    def add_coverage(self, scan_id: int, row: CoverageRow) -> None:
        """One repository's coverage in this sweep, replacing what a killed run of the same sweep wrote."""
        prev = self.conn.execute("SELECT status FROM coverage WHERE scan_id = ? AND repo = ? AND url = ?",
                                 [scan_id, sql_text(row.repo), sql_text(row.url)]).fetchone()
        if prev is not None and prev[0] == "scanned" and row.status in ("fetched", "unchanged"):
            return  # a resumed sweep: the killed run scanned it, and that is what this sweep did to it
        self.db.execute("DELETE FROM coverage WHERE scan_id = ? AND repo = ? AND url = ?",
                        [scan_id, sql_text(row.repo), sql_text(row.url)])
        self.db.execute("INSERT INTO coverage (scan_id, repo, repository_id, url, status, mirror, reason, new_blobs, "
                        "bytes, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [scan_id, sql_text(row.repo), row.repository_id, sql_text(row.url), row.status, row.mirror,
                         sql_text(row.reason), row.new_blobs, row.bytes, row.seconds])

    def coverage(self, scan_id: int) -> list[CoverageRow]:
        return [CoverageRow(text(r["repo"]), r["status"], text(r["reason"]), r["new_blobs"], r["bytes"], r["seconds"],
                            r["mirror"], text(r["url"]), r["repository_id"])
                for r in self.db.query("SELECT * FROM coverage WHERE scan_id = ? ORDER BY id", [scan_id])]

    def listed_stamp(self, url: str) -> tuple[int, str] | None:
        """(repository id, stamp) recorded when the repository at this URL was last swept whole; None if never."""
        row = self.conn.execute("SELECT id, listed_stamp FROM repositories WHERE url = ? AND listed_stamp IS NOT NULL "
                                "ORDER BY last_scan_id DESC LIMIT 1", [sql_text(url)]).fetchone()
        return (row[0], row[1]) if row else None

    def set_listed_stamp(self, repository_id: int, url: str, stamp: str | None) -> None:
        """Record (or clear, with None) the listing stamp of a swept repository; call inside atomic()."""
        self.db.execute("UPDATE repositories SET url = coalesce(url, ?), listed_stamp = ? WHERE id = ?",
                        [sql_text(url), stamp, repository_id])

    def refs_hash(self, path: str) -> str | None:
        row = self.conn.execute("SELECT refs_hash FROM repositories WHERE path = ?", [sql_text(path)]).fetchone()
        return row[0] if row else None

    def set_heads(self, repository_id: int, head_pairs: Iterable[tuple[str, str]]) -> set[int]:
        """Which of this repository's locations sit at a branch head; call inside atomic()."""
        self.db.execute("UPDATE locations SET at_head = 0 WHERE repository_id = ?", [repository_id])
        self.db.conn.executemany("UPDATE locations SET at_head = 1 WHERE repository_id = ? AND path = ? AND blob = ?",
                                 [(repository_id, sql_text(p), b) for p, b in head_pairs])
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
        """Finding ids of the one credential a fingerprint names: a credential key or a stored (keyed)
        fingerprint, whole or a prefix (scanner.model.fingerprint_prefix), or a portable fingerprint as a scan
        report or a baseline shows it, whole: it is keyed and looked up, since the datastore keeps no unkeyed
        value (tests/test_store_fingerprints.py::test_every_lookup_takes_the_fingerprints_users_see)."""
        try:
            fp = fingerprint_prefix(fingerprint)
        except ValueError as exc:
            raise StoreError(str(exc)) from None
        key = self.lookup_key()
        keyed = keys.keyed_fingerprint(fp, key) if key is not None and len(fp) == PORTABLE_LENGTH else ""
        ids = [r[0] for r in self.db.execute(
            "SELECT id FROM findings WHERE credential_key LIKE ? || '%' OR keyed_fingerprint LIKE ? || '%' "
            "OR keyed_fingerprint = ?", [fp, fp, keyed])]
        if not ids:
            hint = "" if len(fp) >= PORTABLE_LENGTH else (
                f" (a fingerprint from a scan report is looked up whole: give all {PORTABLE_LENGTH} characters)")
            raise StoreError(f"no finding with fingerprint {fingerprint}{hint}")
        keys_ = {r[0] for r in self.db.execute(
            f"SELECT credential_key FROM findings WHERE id IN ({','.join('?' * len(ids))})", ids)}
        if len(keys_) > 1:
            raise StoreError(f"fingerprint {fingerprint} is ambiguous ({len(keys_)} credentials): give more of it")
        return ids

    def lookup_key(self) -> bytes | None:
        """The key to look a portable fingerprint up with: this Store's, else the organisation key when it is
        the one this file was written under (never a key generated by the lookup itself)."""
        if self.key is not None:
            return self.key
        try:
            key = keys.existing_key()
        except keys.FingerprintKeyError:
            return None
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'key_id'").fetchone()
        return key if key is not None and row is not None and row[0] == keys.key_id(key) else None

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
        params: list[str | int | bytes] = []
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
            params += [sql_text(repo)] * 3
        floor = CONFIDENCE_RANK[min_confidence]
        allowed = [c for c, r in CONFIDENCE_RANK.items() if r >= floor]
        where.append(f"f.confidence IN ({','.join('?' * len(allowed))})")
        params += allowed
        sql = f"SELECT f.* FROM findings f WHERE {' AND '.join(where)} ORDER BY f.id"
        return list(self.db.query(sql, params))

    def locations_of(self, finding_id: int) -> list[dict]:
        """A finding's locations; names stored as BLOBs (not UTF-8 on disk) come back as the scanner's str."""
        return [{k: text(v) for k, v in row.items()} for row in self.db.query(
            # The repository's visibility, as its host listed it, travels with each location (blast radius).
            "SELECT l.*, r.visibility AS visibility FROM locations l LEFT JOIN repositories r ON r.id = l.repository_id "
            'WHERE l.finding_id = ? ORDER BY l.date, l.repo, l.path, l.line, l."column", l."commit"',
            [finding_id])]

    def sprawl(self, finding_id: int) -> dict:
        """How far one credential has spread."""
        row = self.db.execute(
            'SELECT count(*), count(DISTINCT repo || char(0) || path), count(DISTINCT repo), '
            'count(DISTINCT NULLIF("commit", \'\')), min(NULLIF(date, \'\')), max(NULLIF(date, \'\')) '
            "FROM locations WHERE finding_id = ?", [finding_id]).fetchone()
        return dict(zip(("locations", "files", "repositories", "commits", "first_seen", "last_seen"), row))

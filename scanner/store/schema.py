"""The datastore schema, versioned by `PRAGMA user_version`, marked as sprawl's by `PRAGMA application_id`,
and migrated forward inside one `BEGIN IMMEDIATE` transaction.

Tables (docs/datastore.md):

- ``meta``: key/value facts about the file (``key_id``: which fingerprint key wrote it).
- ``scans``: one row per scan or sweep: ``kind`` (sweep, scan, git, staged), ``target``, ``started``,
  ``finished``, ``status`` (running, complete), ``rules_version``, ``options`` and ``stats`` (JSON), ``pid``
  and ``process`` (boot id and start time of that pid, so a reused pid is not taken for a live sweep).
- ``repositories``: swept repositories: ``path`` (absolute git dir), ``name``, ``refs_hash`` (hash of
  every ref and the rules version: unchanged means nothing new to scan), ``last_scan_id``; for a repository
  listed by a code host (a mirror), ``host``, ``full_name``, ``url`` (clone URL, never with credentials),
  ``visibility`` (public, internal, private), ``default_branch``, ``archived`` and ``fork`` (0/1).
- ``coverage``: one row per repository per sweep (``scan_id``): ``repo``, ``repository_id``, ``url``,
  ``status`` (listed: left out by a filter; failed; unchanged; scanned), ``mirror`` (the mirror's update:
  created, fetched, unchanged, failed; empty for a local repository), ``reason``, ``new_blobs``,
  ``bytes``, ``seconds``.
- ``blobs``: ``(oid, rules_version)`` pairs already scanned, so a sweep skips what it has seen.
- ``findings``: one row per credential: ``credential_key`` (HMAC-SHA256 of the normalized secret under the
  organisation key), the best rule that matched it (``rule_id``, ``rule_name``, ``provider``, ``kind``,
  ``confidence``...), ``keyed_fingerprint`` (the portable fingerprint of that rule and secret, keyed with
  HMAC under the organisation key: scanner.store.keys.keyed_fingerprint; never the unkeyed value),
  ``preview`` (redacted), ``secret`` (NULL unless --store-secrets), ``status`` (open, allowed, revoked)
  with ``status_reason`` and ``status_changed``, ``first_seen`` / ``last_seen`` (oldest and newest
  location date), ``first_scan_id`` (the scan that first found it), ``resolved_at_head`` (1 when no
  branch head of any repository still holds it) and ``resolved_scan_id``.
- ``locations``: every place a credential appears: ``finding_id``, ``rule_id``, ``repository_id`` and
  ``repo`` (name), ``blob``, ``commit``, ``path``, ``line``, ``column``, ``author``, ``email``, ``date``,
  ``source`` (git, file, staged, stdin...), ``snippet`` (redacted line), ``scan_id``, ``at_head``
  (1: this path holds this blob at the head of a branch; 0: history only; NULL: not a git location); for a
  workstation location (version 8) ``media``, ``client``, ``scope``, ``project``, ``server``, ``field``,
  ``setting``, ``session``, ``role`` (empty elsewhere).

The inventory and analysis tables are created here and filled by the inventory importers and the
analysis stage (issue 6); the sweep never writes them:

- ``owners``: ``id`` (``team:payments``), ``type``, ``contacts`` (JSON list), ``source``.
- ``identities``: ``id`` (``agent:release-bot``), ``kind``, ``owner`` (NULL: orphaned), ``purpose``,
  ``environment``, ``lifecycle``, ``repos``, ``paths``, ``approved_scopes``, ``tools``, ``credentials``
  (JSON lists), ``workload_identity``, ``last_reviewed``, ``source``.
- ``credentials``: ``id``, ``identity_id``, ``provider``, ``type``, ``key_id``, ``fingerprint`` (the
  credential key, as ``sprawl fingerprint`` computes it), ``secret_ref``, ``env_vars`` and ``scopes``
  (JSON lists), ``ttl``, ``created_at``, ``last_rotated``, ``expires_at``, ``source``.
- ``links``: ``id``, ``finding_id``, ``identity_id``, ``owner_id``, ``method``, ``confidence``,
  ``ambiguous`` (0/1), ``evidence`` (JSON), ``scan_id``.
- ``scores``: ``finding_id`` (primary key), ``score`` (0-100), ``band``, ``link_confidence``,
  ``factors`` (JSON: points, maximum, reason, evidence per factor), ``computed_at``.
"""
from __future__ import annotations

import re
import sqlite3

_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE scans (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, target TEXT NOT NULL DEFAULT '', started TEXT NOT NULL,
    finished TEXT, status TEXT NOT NULL DEFAULT 'running', rules_version TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL DEFAULT '{}', stats TEXT NOT NULL DEFAULT '{}', pid INTEGER);
CREATE TABLE repositories (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, name TEXT NOT NULL, refs_hash TEXT,
    last_scan_id INTEGER REFERENCES scans(id));
CREATE TABLE blobs (
    oid TEXT NOT NULL, rules_version TEXT NOT NULL, scan_id INTEGER REFERENCES scans(id),
    PRIMARY KEY (oid, rules_version)) WITHOUT ROWID;
CREATE TABLE findings (
    id INTEGER PRIMARY KEY, credential_key TEXT NOT NULL UNIQUE, rule_id TEXT NOT NULL, rule_name TEXT NOT NULL,
    provider TEXT NOT NULL, kind TEXT NOT NULL, portable_fingerprint TEXT NOT NULL, preview TEXT NOT NULL,
    secret TEXT, confidence TEXT NOT NULL, entropy REAL NOT NULL, privilege TEXT NOT NULL, lifetime TEXT NOT NULL,
    remediation TEXT NOT NULL, reasons TEXT NOT NULL DEFAULT '[]', groups_json TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'allowed', 'revoked')),
    status_reason TEXT, status_changed TEXT, first_seen TEXT, last_seen TEXT,
    first_scan_id INTEGER REFERENCES scans(id), resolved_at_head INTEGER NOT NULL DEFAULT 0,
    resolved_scan_id INTEGER REFERENCES scans(id));
CREATE INDEX findings_portable ON findings(portable_fingerprint);
CREATE TABLE locations (
    id INTEGER PRIMARY KEY, finding_id INTEGER NOT NULL REFERENCES findings(id), rule_id TEXT NOT NULL,
    repository_id INTEGER REFERENCES repositories(id), repo TEXT NOT NULL DEFAULT '', blob TEXT NOT NULL DEFAULT '',
    "commit" TEXT NOT NULL DEFAULT '', path TEXT NOT NULL, line INTEGER NOT NULL, "column" INTEGER NOT NULL,
    author TEXT NOT NULL DEFAULT '', email TEXT NOT NULL DEFAULT '', date TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL, snippet TEXT NOT NULL DEFAULT '', scan_id INTEGER REFERENCES scans(id), at_head INTEGER,
    UNIQUE (finding_id, rule_id, repo, "commit", path, line, "column", source));
CREATE INDEX locations_blob ON locations(blob);
CREATE INDEX locations_repository ON locations(repository_id, path, blob);
CREATE TABLE owners (id TEXT PRIMARY KEY, type TEXT, contacts TEXT NOT NULL DEFAULT '[]', source TEXT);
CREATE TABLE identities (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, owner TEXT, purpose TEXT, environment TEXT, lifecycle TEXT,
    repos TEXT NOT NULL DEFAULT '[]', paths TEXT NOT NULL DEFAULT '[]', approved_scopes TEXT NOT NULL DEFAULT '[]',
    workload_identity TEXT, tools TEXT NOT NULL DEFAULT '[]', credentials TEXT NOT NULL DEFAULT '[]',
    last_reviewed TEXT, source TEXT);
CREATE TABLE credentials (
    id TEXT PRIMARY KEY, identity_id TEXT, provider TEXT, type TEXT, key_id TEXT, fingerprint TEXT,
    secret_ref TEXT, env_vars TEXT NOT NULL DEFAULT '[]', ttl TEXT, created_at TEXT, last_rotated TEXT,
    expires_at TEXT, scopes TEXT NOT NULL DEFAULT '[]', source TEXT);
CREATE INDEX credentials_fingerprint ON credentials(fingerprint);
CREATE TABLE links (
    id INTEGER PRIMARY KEY, finding_id INTEGER NOT NULL REFERENCES findings(id), identity_id TEXT, owner_id TEXT,
    method TEXT NOT NULL, confidence REAL NOT NULL, ambiguous INTEGER NOT NULL DEFAULT 0,
    evidence TEXT NOT NULL DEFAULT '{}', scan_id INTEGER);
CREATE INDEX links_finding ON links(finding_id);
CREATE TABLE scores (
    finding_id INTEGER PRIMARY KEY REFERENCES findings(id), score INTEGER NOT NULL, band TEXT NOT NULL,
    link_confidence REAL, factors TEXT NOT NULL DEFAULT '[]', computed_at TEXT);
"""

# Version 2: the process (pid, boot id, start time) that runs a scan, so a stale "running" sweep is taken
# over only when that process is gone.
_V2 = """
ALTER TABLE scans ADD COLUMN process TEXT
"""

# Version 3 (issue 18): non-secret facts of a finding kept at scan time (JWT sub/iss/aud/iat/exp, the SA key's
# private_key_id/client_email/project, key ids captured with the secret), so `sprawl analyze --db` links and
# scores as the scan did in-process (scanner.store.record.observe / scanner.analysis.store_io.load_subjects).
_V3_FACTS = """
CREATE TABLE facts (
    finding_id INTEGER NOT NULL REFERENCES findings(id), name TEXT NOT NULL, value TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '', PRIMARY KEY (finding_id, name, value)) WITHOUT ROWID;
"""

# Version 4 (issue 22): what a code host says of a swept repository, and one coverage row per repository and
# sweep (scanner.pipeline.sweep writes both; tests/test_sweep_hosts.py).
_V4_HOSTS = """
ALTER TABLE repositories ADD COLUMN host TEXT;
ALTER TABLE repositories ADD COLUMN full_name TEXT;
ALTER TABLE repositories ADD COLUMN url TEXT;
ALTER TABLE repositories ADD COLUMN visibility TEXT;
ALTER TABLE repositories ADD COLUMN default_branch TEXT;
ALTER TABLE repositories ADD COLUMN archived INTEGER;
ALTER TABLE repositories ADD COLUMN fork INTEGER;
CREATE TABLE coverage (
    id INTEGER PRIMARY KEY, scan_id INTEGER NOT NULL REFERENCES scans(id), repo TEXT NOT NULL,
    repository_id INTEGER REFERENCES repositories(id), url TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('listed', 'fetched', 'scanned', 'unchanged', 'failed')),
    mirror TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '', new_blobs INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0, seconds REAL NOT NULL DEFAULT 0);
CREATE INDEX coverage_scan ON coverage(scan_id);
"""

# Version 5 (issue 19): what each credential's provider said, with its time, reused until older than --max-age
# (scanner.store.validations). `payload` is ValidationResult.to_dict(): never the secret.
_V5_VALIDATIONS = """
CREATE TABLE validations (
    finding_id INTEGER NOT NULL REFERENCES findings(id), checked_at TEXT NOT NULL, provider TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'indeterminate', 'unsupported')),
    privilege TEXT, reason TEXT NOT NULL DEFAULT '', payload TEXT NOT NULL,
    PRIMARY KEY (finding_id, checked_at)) WITHOUT ROWID;
"""

# Version 6 (issue 17): the datastore keeps no unkeyed hash of a secret. Each finding's portable fingerprint (a
# plain SHA-256 of rule and secret: a weak password is guessed from it) is rewritten in place, in this same
# transaction, to its HMAC under the datastore's key (scanner.store.keys.keyed_fingerprint, registered on the
# connection as KEYED_FINGERPRINT_SQL by Store, which checks the key before migrating), and the column renamed.
KEYED_FINGERPRINT_SQL = "sprawl_keyed_fingerprint"
_V6_KEYED = f"""
UPDATE findings SET portable_fingerprint = {KEYED_FINGERPRINT_SQL}(portable_fingerprint);
DROP INDEX findings_portable;
ALTER TABLE findings RENAME COLUMN portable_fingerprint TO keyed_fingerprint;
CREATE INDEX findings_keyed ON findings(keyed_fingerprint);
"""

# Version 7 (issue 22): what the code host listed (or `git ls-remote` answered) when a repository was last swept
# whole, under which rules: the same stamp on the next sweep means nothing to fetch (scanner.pipeline.sweep).
_V7_LISTED = """
ALTER TABLE repositories ADD COLUMN listed_stamp TEXT
"""

# Version 8 (issue 23): where on a workstation a location is (scanner.store.db.PLACE_FIELDS, the Provenance fields
# of that name): the AI client, scope, project, MCP server, field and setting of a config, the session and role of
# a transcript, and the media kind; empty for every other location. A v7 file upgrades in place.
_V8_PLACES = """
ALTER TABLE locations ADD COLUMN media TEXT NOT NULL DEFAULT '';
ALTER TABLE locations ADD COLUMN client TEXT NOT NULL DEFAULT '';
ALTER TABLE locations ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE locations ADD COLUMN project TEXT NOT NULL DEFAULT '';
ALTER TABLE locations ADD COLUMN server TEXT NOT NULL DEFAULT '';
ALTER TABLE locations ADD COLUMN field TEXT NOT NULL DEFAULT '';
ALTER TABLE locations ADD COLUMN setting TEXT NOT NULL DEFAULT '';
ALTER TABLE locations ADD COLUMN session TEXT NOT NULL DEFAULT '';
ALTER TABLE locations ADD COLUMN role TEXT NOT NULL DEFAULT ''
"""

# Append a new script for every schema change; never edit a shipped one.
MIGRATIONS: list[str] = [_V1, _V2, _V3_FACTS, _V4_HOSTS, _V5_VALIDATIONS, _V6_KEYED, _V7_LISTED, _V8_PLACES]
SCHEMA_VERSION = len(MIGRATIONS)

# `PRAGMA application_id` of every sprawl datastore ("SPRL"): a SQLite file without it is not ours.
APPLICATION_ID = 0x5350524C


def _state(conn: sqlite3.Connection) -> tuple[int, int, set[str]]:
    """(application_id, user_version, tables), read from one snapshot: three autocommit reads could
    straddle another process's migration (no id yet, then its tables)."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        if own and conn.in_transaction:
            conn.execute("COMMIT")
    return app, version, tables


def _v1_tables() -> set[str]:
    return {m.group(1) for m in re.finditer(r"CREATE TABLE (\w+)", _V1)}


def identify(conn: sqlite3.Connection, path: object) -> tuple[bool, bool]:
    """Refuse a file that is not a sprawl datastore; else (needs a migration or is new, holds tables).

    Ours: `application_id` is APPLICATION_ID. New: an empty database. A datastore written before the
    id existed (user_version 1, exactly the v1 tables) is adopted by the migration. Anything else is
    another application's file and is refused before anything is written to it
    (tests/test_store_reliability.py::test_another_applications_database_is_refused_and_left_unchanged)."""
    from scanner.store.errors import StoreError

    app, version, tables = _state(conn)
    if app == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            raise StoreError(f"datastore schema version {version} is newer than this sprawl ({SCHEMA_VERSION}): "
                             "upgrade sprawl")
        return version < SCHEMA_VERSION, bool(tables)
    if app == 0 and version == 0 and not tables:
        return True, False
    if app == 0 and version == 1 and tables == _v1_tables():
        return True, True
    what = f"application_id {app:#x}" if app else f"{len(tables)} table(s) of another application"
    raise StoreError(f"{path} is not a sprawl datastore ({what}); give --db a new file or a sprawl datastore")


def migrate(conn: sqlite3.Connection, path: object = "the datastore") -> int:
    """Bring the file up to SCHEMA_VERSION in one `BEGIN IMMEDIATE` transaction, deciding what to do only
    once the write lock is held: six processes opening a new file at once create the schema once
    (tests/test_store_reliability.py::test_six_concurrent_scans_on_a_new_database_all_succeed)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if identify(conn, path)[0]:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            for version in range(current, SCHEMA_VERSION):
                for statement in MIGRATIONS[version].split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION

"""The datastore keeps only keyed fingerprints (issue 17): no table holds the unkeyed portable fingerprint (a plain
hash of rule and secret, from which a weak password is guessed), an existing datastore is rewritten in its
migration, and every lookup still takes the fingerprints users see: a scan report's or a baseline's portable
fingerprint (whole), the stored keyed one and the credential key (whole or a prefix). Real files, the real CLI,
real SQLite files."""
from __future__ import annotations

import json
import secrets
import sqlite3
import string
import zlib

import pytest
from conftest import datastore_at_schema, run_sprawl

from scanner.findings.collect import portable_fingerprint
from scanner.store import Store
from scanner.store.errors import StoreError
from scanner.store.keys import credential_key, keyed_fingerprint
from scanner.store.schema import SCHEMA_VERSION

ORG_KEY = "org-key-" + secrets.token_hex(8)
KEY = {"SPRAWL_FINGERPRINT_KEY": ORG_KEY}
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def ghp() -> str:
    """A random GitHub classic token with a valid checksum."""
    body = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(30))
    n, tail = zlib.crc32(body.encode()), ""
    while n:
        n, m = divmod(n, 62)
        tail = B62[m] + tail
    return "ghp_" + body + tail.rjust(6, "0")


def _dump(db) -> str:
    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture()
def scanned(tmp_path):
    token = ghp()
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "deploy.env").write_text(f"GITHUB_TOKEN={token}\n")
    db = tmp_path / "sprawl.db"
    r = run_sprawl("scan", str(proj), "--db", str(db), "-f", "json", env=KEY)
    assert r.returncode == 1, r.stderr.decode()
    [finding] = [f for f in json.loads(r.stdout)["findings"] if f["rule_id"] == "github-pat-classic"]
    return db, token, finding["fingerprint"]


def test_the_datastore_holds_no_unkeyed_fingerprint(scanned):
    db, token, portable = scanned
    assert portable == portable_fingerprint("github-pat-classic", token)
    dump = _dump(db)
    assert portable not in dump and portable[:12] not in dump
    assert token not in dump
    assert keyed_fingerprint(portable, ORG_KEY.encode()) in dump


def test_every_lookup_takes_the_fingerprints_users_see(scanned, tmp_path):
    db, token, portable = scanned
    (tmp_path / "empty.yaml").write_text("kind: Inventory\n")
    assert run_sprawl("analyze", "--db", str(db), "--inventory", str(tmp_path / "empty.yaml"), env=KEY).returncode == 1
    keyed = keyed_fingerprint(portable, ORG_KEY.encode())
    ckey = credential_key(token, ORG_KEY.encode())
    listed = run_sprawl("findings", "--db", str(db), "-f", "json", env=KEY)
    assert keyed in [f["fingerprint"] for f in json.loads(listed.stdout)["findings"]]
    # a scan report's portable fingerprint (whole), the stored keyed one and the credential key (prefixes too)
    for fp in (portable, keyed, keyed[:10], ckey[:12]):
        r = run_sprawl("explain", fp, "--db", str(db), env=KEY)
        assert r.returncode == 0 and keyed in r.stdout.decode(), (fp, r.stderr.decode())
    r = run_sprawl("mark", portable, "--as", "allowed", "--reason", "test account", "--db", str(db), env=KEY)
    assert r.returncode == 0 and "allowed" in r.stdout.decode(), r.stderr.decode()
    r = run_sprawl("validate", portable, "--db", str(db), "--endpoint", "github=http://127.0.0.1:9", "-f", "json",
                   env=KEY)
    assert r.returncode in (0, 1) and b"no finding" not in r.stderr, r.stderr.decode()
    assert json.loads(r.stdout)["validations"] == []  # found; its secret is not stored, so nothing is asked
    r = run_sprawl("validate", "0" * 32, "--db", str(db), env=KEY)
    assert r.returncode == 2 and b"no finding" in r.stderr
    # a prefix of the unkeyed value cannot be matched without keeping it: the message says to give it whole
    r = run_sprawl("explain", portable[:12], "--db", str(db), env=KEY)
    assert r.returncode == 2 and b"give all 32 characters" in r.stderr
    # under another organisation key the portable fingerprint names nothing, and the file is refused
    r = run_sprawl("explain", portable, "--db", str(db), env={"SPRAWL_FINGERPRINT_KEY": "another-key"})
    assert r.returncode == 2 and b"Traceback" not in r.stderr


def _v5_datastore(path, key: bytes, portable: str, ckey: str) -> None:
    """A datastore as sprawl wrote it before schema version 6: the unkeyed portable fingerprint in its row."""
    conn = datastore_at_schema(path, 5, key)
    conn.execute("INSERT INTO findings (credential_key, rule_id, rule_name, provider, kind, portable_fingerprint, "
                 "preview, confidence, entropy, privilege, lifetime, remediation) VALUES "
                 "(?, 'github-pat-classic', 'GitHub', 'github', 'token', ?, 'ghp_…', 'high', 4.5, 'admin', 'static', '')",
                 [ckey, portable])
    conn.close()


def test_migration_keys_the_stored_portable_fingerprints_in_place(tmp_path):
    key = ORG_KEY.encode()
    token = ghp()
    portable, ckey = portable_fingerprint("github-pat-classic", token), credential_key(token, key)
    db = tmp_path / "old.db"
    _v5_datastore(db, key, portable, ckey)
    with pytest.raises(StoreError, match="different fingerprint key"):
        Store(db, b"not-the-organisation-key", create=False)
    conn = sqlite3.connect(db)  # refused before anything was rewritten
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 5
    assert conn.execute("SELECT portable_fingerprint FROM findings").fetchall() == [(portable,)]
    conn.close()
    store = Store(db, key, create=False)
    try:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        rows = store.conn.execute("SELECT keyed_fingerprint FROM findings").fetchall()
        assert rows == [(keyed_fingerprint(portable, key),)]
        assert store.resolve_fingerprint(portable) == store.resolve_fingerprint(ckey[:8]) == [1]
    finally:
        store.close()
    assert portable not in _dump(db)


def test_analyze_db_links_by_portable_fingerprint(scanned, tmp_path):
    """An inventory that names a credential by its portable fingerprint still links it from the datastore."""
    db, _token, portable = scanned
    inv = tmp_path / "inventory.yaml"
    inv.write_text("kind: Inventory\nowners: [{id: team:ops}]\nidentities:\n"
                   "  - {id: agent:deploy, kind: agent, owner: team:ops, credentials: [cred:gh]}\n"
                   f"credentials:\n  - {{id: cred:gh, provider: github, fingerprint: {portable}}}\n")
    r = run_sprawl("analyze", "--db", str(db), "--inventory", str(inv), "-f", "json", env=KEY)
    assert r.returncode in (0, 1), r.stderr.decode()
    r = run_sprawl("explain", portable, "--db", str(db), env=KEY)
    assert "agent:deploy" in r.stdout.decode() and "fingerprint" in r.stdout.decode(), r.stdout.decode()
    assert portable not in _dump(db)  # the inventory's copy is kept keyed too

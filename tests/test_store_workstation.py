"""Workstation locations in the datastore (schema version 8, issue 23): a v7 file upgrades in place, and every
workstation field of a location (client, scope, project, server, field, setting, session, role, media) comes
back from `sprawl findings --db D` as `sprawl workstation --db D` found it. Real SQLite files throughout."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from scanner.cli import main
from scanner.model import Provenance
from scanner.pipeline.workstation import RISK_KIND
from scanner.store import Store
from scanner.store.db import PLACE_FIELDS
from scanner.store.keys import credential_key
from scanner.store.schema import MIGRATIONS, SCHEMA_VERSION
from tests.conftest import datastore_at_schema
from tests.workstation_home import build_home, new_github, run_cli

KEY = b"workstation-store-test-key"


def _v7_datastore(path: Path, token: str) -> None:
    """A datastore as sprawl wrote it at schema version 7: one finding at one git location."""
    conn = datastore_at_schema(path, 7, KEY)
    conn.execute("INSERT INTO findings (credential_key, rule_id, rule_name, provider, kind, keyed_fingerprint, "
                 "preview, confidence, entropy, privilege, lifetime, remediation) VALUES "
                 "(?, 'github-pat-classic', 'GitHub', 'github', 'token', 'f' || hex(randomblob(16)), 'ghp_…', "
                 "'high', 4.5, 'admin', 'static', '')", [credential_key(token, KEY)])
    conn.execute("INSERT INTO locations (finding_id, rule_id, repo, \"commit\", path, line, \"column\", author, "
                 "source) VALUES (1, 'github-pat-classic', 'shop', ?, 'app/config.py', 3, 7, 'ann', 'git')", ["a" * 40])
    conn.close()


def test_a_v7_datastore_upgrades_in_place_and_keeps_its_locations(tmp_path):
    db = tmp_path / "v7.db"
    _v7_datastore(db, new_github())
    store = Store(db, KEY, create=False)
    try:
        conn = store.conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 8
        columns = {r[1] for r in conn.execute("PRAGMA table_info(locations)")}
        assert set(PLACE_FIELDS) <= columns
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        [row] = store.locations_of(1)
    finally:
        store.close()
    assert (row["path"], row["line"], row["commit"], row["author"]) == ("app/config.py", 3, "a" * 40, "ann")
    assert all(row[name] == "" for name in PLACE_FIELDS)  # an old location is no workstation's


def test_the_v8_script_adds_exactly_the_place_fields():
    """One definition: the migration's columns are the fields LocationRow keeps, each a Provenance field."""
    added = [line.split()[5] for line in MIGRATIONS[7].strip().splitlines()]
    assert tuple(added) == PLACE_FIELDS
    assert set(PLACE_FIELDS) <= set(Provenance.__dataclass_fields__)


def test_every_workstation_field_round_trips(tmp_path, monkeypatch):
    monkeypatch.setenv("SPRAWL_FINGERPRINT_KEY", "workstation-store-test")
    fake = build_home(tmp_path)
    db = tmp_path / "sprawl.db"
    scanned = run_cli(fake, "--db", str(db), "-f", "json")
    assert scanned.exit_code == 1, scanned.output
    found = {}
    for f in json.loads(scanned.stdout)["findings"]:
        if f["kind"] == RISK_KIND:
            continue
        for loc in f["locations"]:
            found[(loc["path"], loc["line"], loc["column"])] = loc["provenance"]
    listed = CliRunner().invoke(main, ["findings", "--db", str(db), "-f", "json", "--min-confidence", "low"],
                                catch_exceptions=False)
    assert listed.exit_code == 1, listed.output
    stored = {(loc["path"], loc["line"], loc["column"]): loc["provenance"]
              for f in json.loads(listed.stdout)["findings"] for loc in f["locations"]}
    assert stored.keys() == found.keys()
    for place, provenance in found.items():
        kept = {k: v for k, v in stored[place].items() if k in PLACE_FIELDS}
        assert kept == {k: v for k, v in provenance.items() if k in PLACE_FIELDS}, place
    # each field is exercised: a config's server, field and setting, a transcript's session and role
    values = {name: {p.get(name) for p in stored.values()} - {None} for name in PLACE_FIELDS}
    assert all(values[name] for name in PLACE_FIELDS), values
    assert {"user", "project", "managed"} <= values["scope"]
    assert {"env", "headers", "content"} <= values["field"] and "tool_result" in values["role"]
    assert {p.client for p in fake.planted} <= values["client"]

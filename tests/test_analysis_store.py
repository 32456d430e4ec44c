"""`sprawl analyze --db`: links and scores land in the datastore (issue 5's tables); `sprawl explain --db`
prints the recorded derivation. Real SQLite files, the real CLI."""
from __future__ import annotations

import json
import sqlite3

import yaml
from conftest import GITHUB_TOKEN, run_sprawl

KEY = {"SPRAWL_FINGERPRINT_KEY": "acme-test-organisation-key"}


def _setup(tmp_path):
    proj = tmp_path / "svc"
    proj.mkdir()
    (proj / "app.py").write_text(f'TOKEN = "{GITHUB_TOKEN}"\n')
    db = tmp_path / "sprawl.db"
    assert run_sprawl("scan", str(proj), "--db", str(db), env=KEY).returncode == 1
    keyed = run_sprawl("fingerprint", stdin=GITHUB_TOKEN.encode(), env=KEY).stdout.decode().strip()
    inv = tmp_path / "inventory.yaml"
    inv.write_text(yaml.safe_dump({
        "kind": "Inventory",
        "owners": [{"id": "team:web"}, {"id": "team:ops"}],
        "identities": [{"id": "agent:deployer", "kind": "agent", "owner": "team:web", "environment": "prod",
                        "credentials": ["cred:gh"]},
                       {"id": "agent:other", "kind": "agent", "owner": "team:ops"}],
        "credentials": [{"id": "cred:gh", "provider": "github", "fingerprint": keyed, "ttl": "static"}],
    }))
    return proj, db, inv, keyed


def test_analyze_db_writes_links_scores_and_inventory_then_explain_reads_them(tmp_path):
    _proj, db, inv, keyed = _setup(tmp_path)
    r = run_sprawl("analyze", "--db", str(db), "--inventory", str(inv), "-f", "json", env=KEY)
    assert r.returncode == 1, r.stderr
    a = json.loads(r.stdout)["findings"][0]["analysis"]
    assert (a["identity"], a["owner"], a["link_confidence"], a["link_methods"]) == (
        "agent:deployer", "team:web", 0.99, ["fingerprint"])
    con = sqlite3.connect(db)
    links = con.execute("SELECT identity_id, owner_id, method, confidence, ambiguous, evidence FROM links").fetchall()
    assert [(lk[0], lk[1], lk[2], lk[3], lk[4]) for lk in links] == [("agent:deployer", "team:web", "fingerprint", 0.99, 0)]
    assert json.loads(links[0][5])["chosen"] is True
    score, band, conf, factors = con.execute("SELECT score, band, link_confidence, factors FROM scores").fetchone()
    factors = json.loads(factors)
    assert (score, band, conf) == (a["score"], a["band"], 0.99) and len(factors["factors"]) == 11
    assert {r[0] for r in con.execute("SELECT id FROM identities")} == {"agent:deployer", "agent:other"}
    assert con.execute("SELECT fingerprint FROM credentials").fetchone()[0] == keyed
    con.close()

    out = run_sprawl("explain", keyed[:12], "--db", str(db), env=KEY).stdout.decode()
    assert "Owner: agent:deployer (team:web)  status=linked  confidence=0.99" in out
    assert f"Blast radius: {score} ({band})" in out and "F9  ownership" in out

    # A second analysis replaces, never duplicates; a revoked credential scores with M = 0.35.
    assert run_sprawl("status", keyed[:12], "--set", "revoked", "--reason", "rotated", "--db", str(db),
                      env=KEY).returncode == 0
    run_sprawl("analyze", "--db", str(db), "--inventory", str(inv), env=KEY)
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM links").fetchone()[0] == 1
    rows = con.execute("SELECT score, factors FROM scores").fetchall()
    assert len(rows) == 1 and json.loads(rows[0][1])["multiplier"] == 0.35 and rows[0][0] < score
    con.close()


def test_explain_db_before_any_analysis_and_bad_arguments(tmp_path):
    proj, db, inv, keyed = _setup(tmp_path)
    r = run_sprawl("explain", keyed[:12], "--db", str(db), env=KEY)
    assert r.returncode == 2 and b"has no score yet" in r.stderr
    both = run_sprawl("analyze", str(proj), "--db", str(db), "--inventory", str(inv), env=KEY)
    assert both.returncode == 2 and b"either PATHS or --db" in both.stderr
    missing = run_sprawl("analyze", "--db", str(tmp_path / "none.db"), "--inventory", str(inv), env=KEY)
    assert missing.returncode == 2 and b"no datastore" in missing.stderr


def test_scan_with_an_inventory_links_by_keyed_fingerprint_without_a_datastore(tmp_path):
    proj, _db, inv, _keyed = _setup(tmp_path)
    doc = json.loads(run_sprawl("scan", str(proj), "--inventory", str(inv), "-f", "json", env=KEY).stdout)
    a = doc["findings"][0]["analysis"]
    assert a["identity"] == "agent:deployer" and a["link_methods"] == ["fingerprint"] and a["link_confidence"] == 0.99
    # Under another organisation key the same inventory fingerprint means nothing.
    other = json.loads(run_sprawl("scan", str(proj), "--inventory", str(inv), "-f", "json",
                                  env={"SPRAWL_FINGERPRINT_KEY": "another-org"}).stdout)
    assert other["findings"][0]["analysis"]["link_status"] == "unowned"

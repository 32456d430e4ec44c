"""Facts kept at scan time: a JWT's sub/iat/exp are stored with its finding (table `facts`), so `sprawl analyze
--db` after the scan gives the same links and scores as the scan did in process: the key_id link by `sub`, the
one-year lifetime and the expiry. Real files, the real CLI, a real SQLite file."""
from __future__ import annotations

import base64
import json
import secrets
import sqlite3
import string
from datetime import UTC, datetime

from conftest import run_sprawl

KEY = {"SPRAWL_FINGERPRINT_KEY": "acme-test-organisation-key"}


def jwt(claims: dict) -> str:
    def part(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{secrets.token_urlsafe(32)}"


INVENTORY = """kind: Inventory
owners: [{id: team:analytics}]
identities:
  - {id: agent:report, kind: agent, owner: team:analytics, environment: staging, credentials: [cred:report]}
credentials:
  - {id: cred:report, key_id: svc-report}
"""


def test_analyze_db_after_a_scan_links_and_scores_as_the_scan_did(tmp_path):
    now = int(datetime.now(UTC).timestamp())
    year = jwt({"sub": "svc-report", "iat": now - 86400, "exp": now - 86400 + 365 * 86400})
    proj = tmp_path / "reports"
    (proj / ".git").mkdir(parents=True)
    (proj / "config.env").write_text(f"REPORT_TOKEN={year}\n")
    inv = tmp_path / "inventory.yaml"
    inv.write_text(INVENTORY)
    db = tmp_path / "sprawl.db"
    scan = run_sprawl("scan", str(proj), "--db", str(db), "--inventory", str(inv), "-f", "json", env=KEY)
    assert scan.returncode == 1, scan.stderr.decode()
    [f] = [x for x in json.loads(scan.stdout)["findings"] if x["rule_id"].startswith("jwt")]
    a = f["analysis"]
    assert (a["identity"], a["link_methods"][0]) == ("agent:report", "key_id")
    lifetime = next(x for x in a["blast_radius"]["factors"] if x["name"] == "lifetime")
    assert lifetime["points"] == 5 and "exp - iat" in lifetime["reason"]  # one year: longer than 90 days

    con = sqlite3.connect(db)
    facts = {(n, v) for n, v in con.execute("SELECT name, value FROM facts")}
    assert ("sub", "svc-report") in facts and ("exp", str(now - 86400 + 365 * 86400)) in facts
    assert not any(year in v for _n, v in facts)  # facts, never the secret
    before = con.execute("SELECT finding_id, score, band, link_confidence, factors FROM scores ORDER BY 1").fetchall()
    con.close()

    again = run_sprawl("analyze", "--db", str(db), "--inventory", str(inv), env=KEY)
    assert again.returncode == 1, again.stderr.decode()
    con = sqlite3.connect(db)
    after = con.execute("SELECT finding_id, score, band, link_confidence, factors FROM scores ORDER BY 1").fetchall()
    links = con.execute("SELECT identity_id, method FROM links WHERE evidence LIKE '%\"chosen\": true%'").fetchall()
    con.close()
    assert [r[:4] for r in after] == [r[:4] for r in before]
    assert [[x["points"] for x in json.loads(r[4])["factors"]] for r in after] == \
        [[x["points"] for x in json.loads(r[4])["factors"]] for r in before]
    assert ("agent:report", "key_id") in links


def test_an_expired_jwt_is_expired_from_the_datastore_too(tmp_path):
    now = int(datetime.now(UTC).timestamp())
    old = jwt({"sub": "svc-report", "iat": now - 3 * 86400, "exp": now - 2 * 86400})
    proj = tmp_path / "reports"
    (proj / ".git").mkdir(parents=True)
    (proj / "config.env").write_text(f"REPORT_TOKEN={old}\n")
    inv = tmp_path / "inventory.yaml"
    inv.write_text(INVENTORY)
    db = tmp_path / "sprawl.db"
    assert run_sprawl("scan", str(proj), "--db", str(db), env=KEY).returncode == 1  # no inventory: facts still kept
    out = run_sprawl("analyze", "--db", str(db), "--inventory", str(inv), "-f", "json", env=KEY)
    [f] = [x for x in json.loads(out.stdout)["findings"] if x["rule_id"].startswith("jwt")]
    assert f["analysis"]["blast_radius"]["liveness"] == "expired" and f["analysis"]["identity"] == "agent:report"


def test_an_identifier_beside_an_unowned_secret_is_kept_as_its_evidence(tmp_path):
    proj = tmp_path / "infra"
    (proj / ".git").mkdir(parents=True)
    key_id = "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    secret = "".join(secrets.choice(string.ascii_letters + string.digits + "+/") for _ in range(40))
    (proj / "deploy.env").write_text(f"AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n")
    inv = tmp_path / "inventory.yaml"
    inv.write_text("kind: Inventory\n")
    db = tmp_path / "sprawl.db"
    scan = run_sprawl("scan", str(proj), "--db", str(db), "--inventory", str(inv), "-f", "json", env=KEY)
    assert scan.returncode == 1, scan.stderr.decode()
    found = json.loads(scan.stdout)["findings"]
    [pair] = [f for f in found if f["rule_id"] == "aws-secret-access-key"]
    assert "analysis" not in next(f for f in found if f["rule_id"] == "aws-access-key-id")
    assert pair["analysis"]["link"]["identifiers"][0].startswith("aws-access-key-id ")
    stored = run_sprawl("explain", pair["fingerprint"], "--db", str(db), env=KEY)
    assert "identifier beside it (evidence, not scored): aws-access-key-id" in stored.stdout.decode()


def _facts_and_link(db) -> tuple[set, list]:
    con = sqlite3.connect(db)
    try:
        facts = {(n, v, s) for n, v, s in con.execute("SELECT name, value, source FROM facts")}
        links = con.execute("SELECT identity_id, method, confidence FROM links "
                            "WHERE evidence LIKE '%\"chosen\": true%'").fetchall()
        lifetime = [next(x["points"] for x in json.loads(f)["factors"] if x["name"] == "lifetime")
                    for (f,) in con.execute("SELECT factors FROM scores")]
    finally:
        con.close()
    return facts, [*links, *lifetime]


def test_a_sweep_keeps_facts_at_scan_time_as_scan_db_does(tmp_path):
    """The sweep records each finding's facts while its worker holds the secret (scanner.store.record.observe),
    so `analyze --db` after a sweep links by the JWT's sub and reads its one-year lifetime, as after `git --db`."""
    from gitutil import commit, init_repo

    now = int(datetime.now(UTC).timestamp())
    year = jwt({"sub": "svc-report", "iat": now - 86400, "exp": now - 86400 + 365 * 86400})
    repo = init_repo(tmp_path / "org" / "reports")
    commit(repo, {"config.env": f"REPORT_TOKEN={year}\n"}, "add the report token")
    inv = tmp_path / "inventory.yaml"
    inv.write_text(INVENTORY)
    swept, scanned = tmp_path / "swept.db", tmp_path / "scanned.db"
    r = run_sprawl("sweep", str(tmp_path / "org"), "--db", str(swept), env=KEY)
    assert r.returncode == 1, r.stderr.decode()
    assert run_sprawl("git", str(repo), "--db", str(scanned), env=KEY).returncode == 1
    for db in (swept, scanned):
        assert run_sprawl("analyze", "--db", str(db), "--inventory", str(inv), env=KEY).returncode == 1
    facts, link = _facts_and_link(swept)
    assert ("sub", "svc-report", "jwt claim") in facts and ("exp", str(now - 86400 + 365 * 86400), "jwt claim") in facts
    assert not any(year in v for _n, v, _s in facts)  # facts, never the secret
    assert (facts, link) == _facts_and_link(scanned)
    assert link == [("agent:report", "key_id", 0.95), 5]

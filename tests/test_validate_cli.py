"""`--validate` on a real scan against a loopback server answering as GitHub does (fixtures/validate/github.json,
shaped after GitHub's REST documentation): live, revoked and could-not-tell reach every report, and the blast
radius scores with what the provider said (issue 19's must-hold cases)."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import run_sprawl
from tests.providerserver import by_token, case, serving
from tests.repogen import github_token

LIVE, DEAD = github_token("validate-live"), github_token("validate-dead")


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "agent"
    root.mkdir()
    (root / "deploy.env").write_text(f"GITHUB_TOKEN={LIVE}\n")
    (root / "ci.env").write_text(f"GH_TOKEN={DEAD}\n")
    (tmp_path / "inventory.yaml").write_text("kind: Inventory\nversion: 1\n")
    return root


def _by_token(doc: dict) -> dict[str, dict]:
    return {("live" if f["locations"][0]["path"].endswith("deploy.env") else "dead"): f for f in doc["findings"]}


def test_validation_scores_live_and_revoked_tokens(tmp_path):
    root = _tree(tmp_path)
    answers = by_token({LIVE: case("github", "active"), DEAD: case("github", "revoked")})
    with serving(answers) as server:
        res = run_sprawl("scan", str(root), "--inventory", str(tmp_path / "inventory.yaml"), "--validate",
                         "--endpoint", f"github={server.url}", "--allow-internal-endpoints", "-f", "json")
        assert res.returncode == 1, res.stderr
        found = _by_token(json.loads(res.stdout))
        assert {r.path for r in server.requests} == {"/user"}
    live, dead = found["live"], found["dead"]
    assert live["validation"]["status"] == "active" and live["validation"]["privilege"] == "admin"
    assert "admin:org" in live["validation"]["scopes"]
    assert live["analysis"]["blast_radius"]["multiplier"] == 1.0
    [privilege] = [x for x in live["analysis"]["blast_radius"]["factors"] if x["name"] == "privilege"]
    assert privilege["points"] == 22 and "validation" in privilege["reason"]
    assert dead["validation"]["status"] == "revoked" and dead["analysis"]["blast_radius"]["multiplier"] == 0.35
    assert LIVE not in res.stdout.decode() and DEAD not in res.stdout.decode()  # requests are recorded masked


def test_without_allow_internal_no_request_is_sent(tmp_path):
    root = _tree(tmp_path)
    answers = by_token({LIVE: case("github", "active"), DEAD: case("github", "revoked")})
    with serving(answers) as server:
        res = run_sprawl("scan", str(root), "--validate", "--endpoint", f"github={server.url}", "-f", "json")
        assert server.requests == []
    assert res.returncode == 1, res.stderr
    for finding in json.loads(res.stdout)["findings"]:
        assert finding["validation"]["status"] == "indeterminate" and finding["validation"]["reason"]


def test_the_text_report_says_what_the_provider_said(tmp_path):
    root = _tree(tmp_path)
    answers = by_token({LIVE: case("github", "active"), DEAD: case("github", "revoked")})
    with serving(answers) as server:
        res = run_sprawl("scan", str(root), "--validate", "--endpoint", f"github={server.url}",
                         "--allow-internal-endpoints")
    text = res.stdout.decode()
    assert "validation: active (account 583231, user octo-agent" in text and "validation: revoked (" in text
    blocked = run_sprawl("scan", str(root), "--validate", "--endpoint", "github=http://127.0.0.1:9")
    assert "validation: could not tell, because" in blocked.stdout.decode()


class _GitHub:
    """Answers as GitHub does (fixtures/validate/github.json and revoke.json): the token is live until the
    credentials revocation API is called with it."""

    def __init__(self, token: str):
        from tests.validatekit import load_fixture, reply_of

        self.token, self.alive = token, True
        self.active, self.dead = case("github", "active"), case("github", "revoked")
        self.accepted = reply_of(load_fixture("revoke")["cases"]["github_revoke"])

    def __call__(self, received):
        if received.method == "POST" and received.path == "/credentials/revoke":
            self.alive = not json.loads(received.body)["credentials"] == [self.token]
            return self.accepted
        return self.active if self.alive else self.dead


def test_revoke_is_a_dry_run_until_confirmed_then_marks_the_finding(tmp_path):
    root = _tree(tmp_path)
    db = tmp_path / "sprawl.db"
    env = {"SPRAWL_FINGERPRINT_KEY": "revoke-test"}
    assert run_sprawl("scan", str(root), "--db", str(db), "--store-secrets", env=env).returncode == 1
    found = json.loads(run_sprawl("findings", "--db", str(db), "-f", "json", env=env).stdout)
    fp = next(f["fingerprint"] for f in found["findings"] if f["locations"][0]["path"].endswith("deploy.env"))
    github = _GitHub(LIVE)
    with serving(github) as server:
        args = ("revoke", fp, "--db", str(db), "--endpoint", f"github={server.url}", "--allow-internal-endpoints")
        dry = run_sprawl(*args, env=env)
        assert dry.returncode == 0 and server.requests == [] and b"would send: POST" in dry.stdout
        done = run_sprawl(*args, "--confirm", env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert [r.path for r in server.requests][:1] == ["/credentials/revoke"]
        assert b"validated again: revoked" in done.stdout and LIVE.encode() not in done.stdout
    revoked = json.loads(run_sprawl("findings", "--db", str(db), "--status", "revoked", "-f", "json", env=env).stdout)
    assert [f["fingerprint"] for f in revoked["findings"]] == [fp]


def test_revoke_refuses_a_secret_that_is_not_the_credential(tmp_path):
    root = _tree(tmp_path)
    db = tmp_path / "sprawl.db"
    env = {"SPRAWL_FINGERPRINT_KEY": "revoke-test"}
    assert run_sprawl("scan", str(root), "--db", str(db), env=env).returncode == 1
    found = json.loads(run_sprawl("findings", "--db", str(db), "-f", "json", env=env).stdout)
    fp = found["findings"][0]["fingerprint"]
    res = run_sprawl("revoke", fp, "--db", str(db), env=env)
    assert res.returncode == 2 and b"--secret-stdin" in res.stderr
    res = run_sprawl("revoke", fp, "--db", str(db), "--secret-stdin", stdin=b"ghp_not_this_one", env=env)
    assert res.returncode == 2 and b"is not credential" in res.stderr


def test_stored_findings_are_validated_recorded_and_reused_until_max_age(tmp_path):
    root = _tree(tmp_path)
    db = tmp_path / "sprawl.db"
    env = {"SPRAWL_FINGERPRINT_KEY": "validate-test"}
    assert run_sprawl("scan", str(root), "--db", str(db), "--store-secrets", env=env).returncode == 1
    answers = by_token({LIVE: case("github", "active"), DEAD: case("github", "revoked")})
    with serving(answers) as server:
        args = ("validate", "--db", str(db), "--endpoint", f"github={server.url}", "--allow-internal-endpoints",
                "-f", "json")
        first = run_sprawl(*args, "--max-age", "1h", env=env)
        assert first.returncode == 1, first.stderr  # a live credential
        asked = len(server.requests)
        again = run_sprawl(*args, "--max-age", "1h", env=env)
        assert len(server.requests) == asked  # answers younger than an hour are reused: nothing sent
        fresh = run_sprawl(*args, env=env)  # no --max-age: ask again
        assert len(server.requests) == 2 * asked
    doc = json.loads(again.stdout)
    statuses = sorted(v["validation"]["status"] for v in doc["validations"])
    assert statuses == ["active", "revoked"] and all(v["reused"] for v in doc["validations"])
    assert LIVE not in first.stdout.decode() + fresh.stdout.decode()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM validations").fetchone()[0] >= 4
        assert not any(LIVE in row[0] for row in conn.execute("SELECT payload FROM validations"))


def test_a_validated_scan_records_its_answers(tmp_path):
    root = _tree(tmp_path)
    db = tmp_path / "sprawl.db"
    answers = by_token({LIVE: case("github", "active"), DEAD: case("github", "revoked")})
    with serving(answers) as server:
        res = run_sprawl("scan", str(root), "--db", str(db), "--validate", "--endpoint", f"github={server.url}",
                         "--allow-internal-endpoints", env={"SPRAWL_FINGERPRINT_KEY": "validate-test"})
    assert res.returncode == 1, res.stderr
    with sqlite3.connect(db) as conn:
        assert sorted(r[0] for r in conn.execute("SELECT status FROM validations")) == ["active", "revoked"]

"""`sprawl sweep --validate` (issue 19): once the sweep's repositories are done, each credential found in new blobs
is asked of its own provider (a loopback STS/IAM that checks every SigV4 signature), the answers are recorded in
table `validations`, and the blast radius from the datastore scores with them. DESIGN section 8's worked example
E1, built as real git repositories: 80 critical unvalidated, 90 critical once verified active."""
from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import run_sprawl
from tests.gitutil import commit, init_repo
from tests.providerserver import serving
from tests.test_validate_aws import aws_server, new_key

KEY = {"SPRAWL_FINGERPRINT_KEY": "sweep-validate-test"}


def _e1(tmp_path: Path, key_id: str, secret: str) -> tuple[Path, Path]:
    """E1: the prod admin key of agent:deploy in platform's k8s/secret.yaml (work tree, first seen 800 days ago),
    three times in the public repository sdk's logs/run.log and twice in docs' notes.md; its key id beside it."""
    now = datetime.now(UTC)
    long_ago, lately = (now - timedelta(days=800)).isoformat(), (now - timedelta(days=3)).isoformat()
    org = tmp_path / "org"
    commit(init_repo(org / "platform"), {"k8s/secret.yaml": (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: deploy}\nstringData:\n"
        f"  AWS_ACCESS_KEY_ID: {key_id}\n  AWS_SECRET_ACCESS_KEY: {secret}\n")}, "deploy secret", date=long_ago)
    log = "".join(f"step {n}: env AWS_SECRET_ACCESS_KEY={secret}\n" if n in (3, 9, 15) else f"step {n}: ok\n"
                  for n in range(1, 18))
    commit(init_repo(org / "sdk"), {"logs/run.log": log}, "debug log", date=lately)
    commit(init_repo(org / "docs"), {"notes.md": f"# notes\naws_secret_access_key = {secret}\n\n\n\n\n\n\n"
                                                 f"again: aws_secret_access_key = {secret}\n"}, "notes", date=lately)
    created = (now - timedelta(days=800)).date().isoformat()
    inv = tmp_path / "inventory.yaml"
    inv.write_text(f"""kind: Inventory
owners: [{{id: team:platform, type: team}}]
repos:
  - {{name: sdk, visibility: public}}
identities:
  - id: agent:deploy
    kind: agent
    owner: team:platform
    environment: prod
    tools: [{{name: terraform, system: terraform}}, {{name: kubectl-exec, system: kubernetes}}]
    credentials: [cred:aws-deploy]
credentials:
  - {{id: cred:aws-deploy, provider: aws, key_id: {key_id}, scopes: ["*"], ttl: static, created_at: {created}}}
""")
    return org, inv


def _e1_score(db: Path) -> dict:
    r = run_sprawl("findings", "--db", str(db), "--rule", "aws-secret-access-key", "-f", "json", env=KEY)
    [f] = json.loads(r.stdout)["findings"]
    return f["analysis"]


def test_e1_verified_active_through_a_sweep_scores_90(tmp_path):
    key_id, secret = new_key()
    org, inv = _e1(tmp_path, key_id, secret)

    plain = tmp_path / "plain.db"
    r = run_sprawl("sweep", str(org), "--db", str(plain), "--inventory", str(inv), env=KEY)
    assert r.returncode == 1, r.stderr.decode()
    unvalidated = _e1_score(plain)
    assert (unvalidated["score"], unvalidated["band"]) == (80, "critical")
    assert (unvalidated["identity"], unvalidated["link_methods"][0]) == ("agent:deploy", "key_id")

    db = tmp_path / "validated.db"
    with serving(aws_server(key_id, secret)) as server:
        r = run_sprawl("sweep", str(org), "--db", str(db), "--inventory", str(inv), "--validate",
                       "--endpoint", f"aws={server.url}", "--allow-internal-endpoints", env=KEY)
        assert r.returncode == 1, r.stderr.decode()
        assert server.requests and all(f"Credential={key_id}/" in (q.header("Authorization") or "")
                                       for q in server.requests)
    assert "1 active" in r.stderr.decode()
    a = _e1_score(db)
    points = {f["name"]: f["points"] for f in a["blast_radius"]["factors"]}
    assert points == {"privilege": 22, "reach": 8, "environment": 8, "toolset": 7, "where_found": 12, "sprawl": 10,
                      "persistence": 5, "age": 8, "ownership": 0, "lifetime": 7, "reuse": 0}
    assert a["blast_radius"]["multiplier"] == 1.0 and a["blast_radius"]["raw"] == 87
    assert (a["score"], a["band"]) == (90, "critical")
    with sqlite3.connect(db) as conn:
        statuses = [row[0] for row in conn.execute("SELECT v.status FROM validations v JOIN findings f ON "
                                                   "f.id = v.finding_id WHERE f.rule_id = 'aws-secret-access-key'")]
        dump = "\n".join(conn.iterdump())
    assert statuses == ["active"]
    assert secret not in dump  # the sweep held it in memory to ask; it never reached the datastore


def test_sweep_validate_without_allow_internal_sends_nothing_and_says_why(tmp_path):
    key_id, secret = new_key()
    org, _inv = _e1(tmp_path, key_id, secret)
    db = tmp_path / "sprawl.db"
    with serving(aws_server(key_id, secret)) as server:
        r = run_sprawl("sweep", str(org), "--db", str(db), "--validate", "--endpoint", f"aws={server.url}", env=KEY)
        assert server.requests == []
    assert r.returncode == 1 and "0 active" in r.stderr.decode() and "could not tell" in r.stderr.decode()
    with sqlite3.connect(db) as conn:
        assert {row[0] for row in conn.execute("SELECT status FROM validations")} == {"indeterminate"}

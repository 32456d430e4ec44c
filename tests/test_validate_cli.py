"""`--validate` on a real scan against a loopback server answering as GitHub does (fixtures/validate/github.json,
shaped after GitHub's REST documentation): live, revoked and could-not-tell reach every report, and the blast
radius scores with what the provider said (issue 19's must-hold cases)."""
from __future__ import annotations

import json
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

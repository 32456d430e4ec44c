"""Workstation findings are ordinary Findings: every report format and the datastore serve them, with the
client, scope, server and field (or session and role) carried in each location's Provenance (issue 23)."""
from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.api import list_findings
from scanner.cli import main
from scanner.model import Location, Provenance
from scanner.pipeline.workstation import RISK_KIND, WorkstationOptions, placed, scan_workstation
from scanner.store.keys import keyed_fingerprint, load_key
from tests.workstation_home import FakeHome, build_home, new_github, run_cli


@pytest.fixture
def fake(tmp_path: Path) -> FakeHome:
    return build_home(tmp_path)



def _kiro(fake: FakeHome):
    [p] = [p for p in fake.planted if p.client == "kiro" and p.scope == "user"]
    return p


def test_one_credential_in_two_clients_is_one_finding_with_both_places(fake):
    secret = new_github()
    fake.write(".cursor/mcp.json", json.dumps({"mcpServers": {"gh": {"command": "gh-mcp",
                                                                     "env": {"GH_TOKEN": secret}}}}))
    fake.write(".kiro/settings/mcp.json", json.dumps({"mcpServers": {"kiro-gh": {"command": "gh-mcp",
                                                                                 "env": {"GITHUB_TOKEN": secret}}}}))
    report = scan_workstation(WorkstationOptions(home=fake.home, platform="linux", system_root=fake.system_root,
                                                 env={}, clients=("cursor", "kiro"), host="h"))
    [f] = [f for f in report.findings if f.kind != RISK_KIND and f.preview[:6] == secret[:6]]
    holders = {(loc.provenance.client, loc.provenance.server, loc.provenance.setting) for loc in f.locations}
    assert {("cursor", "gh", "GH_TOKEN"), ("kiro", "kiro-gh", "GITHUB_TOKEN")} <= holders
    assert all(loc.source == "workstation" and loc.provenance.field == "env" for loc in f.locations)
    assert report.result.secrets[f.fingerprint] == secret  # in memory, for keying the datastore


def test_history_line_names_the_client_and_holder_and_git_is_unchanged():
    config = Location("x", 1, 1, provenance=Provenance(client="cursor", scope="user", server="gh", field="env",
                                                       setting="GH_TOKEN"))
    chat = Location("y", 3, 9, provenance=Provenance(client="codex", session="rollout-1", role="tool_result"))
    git = Location("z", 1, 1, provenance=Provenance(commit="a" * 40, repo="r", author="ann", date="2026-01-02"))
    assert config.history() == "cursor user server gh env GH_TOKEN"
    assert chat.history() == "codex session rollout-1 (tool_result)"
    assert git.history() == "r@aaaaaaaaaaaa (ann, 2026-01-02)"
    assert Location("w", 1, 1).history() == ""
    assert Provenance.from_dict(config.provenance.to_dict()) == config.provenance


def test_sarif_names_each_rule_and_the_client_and_server(fake):
    result = run_cli(fake, "-f", "sarif")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.output)
    [run] = doc["runs"]
    rules = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in run["results"]} <= rules
    assert "workstation-unpinned-package" in rules
    p = _kiro(fake)
    texts = [r["message"]["text"] for r in run["results"]]
    assert any(f"in kiro user server {p.server} env" in t for t in texts), texts[:5]
    assert not any(p.secret in result.output for p in fake.planted)


def test_csv_and_jsonl_carry_every_planted_place(fake):
    rows = list(csv.DictReader(io.StringIO(run_cli(fake, "-f", "csv").output)))
    paths = {r["path"] for r in rows}
    assert {str(p.path) for p in fake.planted} <= paths
    lines = [json.loads(line) for line in run_cli(fake, "-f", "jsonl").output.splitlines()]
    clients = {loc["provenance"]["client"] for f in lines for loc in f["locations"]}
    assert clients >= {p.client for p in fake.planted}
    out = run_cli(fake, "-f", "csv").output + run_cli(fake, "-f", "jsonl").output
    assert not any(p.secret in out for p in fake.planted)


def test_html_report_shows_the_client_and_server(fake, tmp_path):
    out = tmp_path / "r.html"
    result = run_cli(fake, "-f", "html", "-o", str(out))
    assert result.exit_code == 1, result.output
    page = out.read_text()
    p = _kiro(fake)
    assert f"kiro user server {p.server} env" in page
    assert not any(p.secret in page for p in fake.planted)


def test_db_records_workstation_findings_like_any_scan(fake, tmp_path):
    db = tmp_path / "sprawl.db"
    result = run_cli(fake, "--db", str(db), "-f", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert "recorded as scan 1" in result.stderr
    secrets = [f for f in report["findings"] if f["kind"] != RISK_KIND]
    stored = list_findings(db)
    # The datastore keeps each fingerprint keyed under the organisation key, never the portable one.
    key = load_key()
    assert {f.fingerprint for f in stored.findings} == {keyed_fingerprint(f["fingerprint"], key) for f in secrets}
    places = {(loc.path, loc.line) for f in stored.findings for loc in f.locations}
    assert {(str(p.path)) for p in fake.planted} <= {path for path, _line in places}
    with sqlite3.connect(db) as conn:
        [(kind,)] = conn.execute("SELECT kind FROM scans").fetchall()
        dump = "\n".join(conn.iterdump())
    assert kind == "workstation"
    assert not any(p.secret in dump for p in fake.planted)  # keyed, never stored without --store-secrets


def test_config_risks_are_findings_of_their_own_rules(fake):
    report = scan_workstation(WorkstationOptions(home=fake.home, platform="linux", system_root=fake.system_root,
                                                 env={}, host="h"))
    risks = [(f, loc) for f, loc in placed(report) if f.kind == RISK_KIND]
    assert risks
    for f, loc in risks:
        assert f.rule_id in report.result.ruleset.by_id and f.confidence == "low"
        assert f.rule_id not in report.result.secrets  # never keyed as a credential
        assert loc.provenance.client and f.reasons


def test_csv_has_the_workstation_columns_empty_elsewhere(fake, tmp_path):
    rows = list(csv.DictReader(io.StringIO(run_cli(fake, "-f", "csv").output)))
    p = _kiro(fake)
    [row] = [r for r in rows if r["path"] == str(p.path) and r["server"] == p.server]
    assert (row["client"], row["scope"], row["field"], row["session"], row["role"]) == ("kiro", "user", "env", "", "")
    assert row["setting"] and row["setting"] not in p.secret
    [chat] = [q for q in fake.planted if q.role == "tool_result" and q.client == "claude-code"][:1]
    [trow] = [r for r in rows if r["path"] == str(chat.path) and r["role"]][:1]
    assert (trow["client"], trow["field"], trow["role"]) == ("claude-code", "content", "tool_result")
    assert trow["session"] == chat.path.stem and trow["server"] == ""
    # a file scan has the same columns, every workstation cell empty
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text(f'token = "{new_github()}"\n')
    scanned = CliRunner().invoke(main, ["scan", str(tmp_path / "src"), "-f", "csv"], catch_exceptions=False)
    [other] = list(csv.DictReader(io.StringIO(scanned.stdout)))
    assert set(rows[0]) == set(other)
    assert all(other[c] == "" for c in ("client", "scope", "project", "server", "field", "setting", "session", "role"))


def test_html_names_every_client_holding_one_credential(fake, tmp_path):
    secret = new_github()
    fake.write(".cursor/mcp.json", json.dumps({"mcpServers": {"gh": {"command": "gh-mcp",
                                                                     "env": {"GH_TOKEN": secret}}}}))
    fake.write(".kiro/settings/mcp.json", json.dumps({"mcpServers": {"kiro-gh": {"command": "gh-mcp",
                                                                                 "env": {"GITHUB_TOKEN": secret}}}}))
    out = tmp_path / "r.html"
    result = run_cli(fake, "--client", "cursor", "--client", "kiro", "-f", "html", "-o", str(out))
    assert result.exit_code == 1, result.output
    page = out.read_text()
    assert "held by cursor server gh; kiro server kiro-gh" in page
    assert secret not in page

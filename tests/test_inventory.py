"""The inventory file: loading, validation errors that name file, line, entry and field, and the CLI."""
from __future__ import annotations

import json

import pytest
from conftest import GITHUB_TOKEN, REPO, run_sprawl

from scanner.inventory.loader import InventoryError, dump_inventory, from_document, load_inventory, parse_yaml

FIX = REPO / "fixtures" / "inventory"


def test_the_fixture_inventory_loads():
    inv = load_inventory(FIX / "inventory.yaml")
    assert [o.id for o in inv.owners] == ["team:payments", "team:ml-platform", "user:dana"]
    bot = inv.identity("agent:release-bot")
    assert bot.kind == "agent" and bot.environment == "prod" and bot.tools[1].executes_code
    assert str(bot.last_reviewed) == "2026-10-01"
    assert inv.identity("agent:support-agent").tools[0].name == "zendesk"  # a tool may be a bare name
    ledger = inv.identity("service_account:payments/ledger-sync")
    assert ledger.owner is None and ledger.orphaned
    assert inv.credential("cred:support-openai").ttl == "P90D"
    assert inv.path_owner("deploy/x.yaml").owners == ["team:payments"]
    assert all(i.source == str(FIX / "inventory.yaml") for i in inv.identities)


def test_every_problem_names_file_line_entry_and_field():
    with pytest.raises(InventoryError) as exc:
        load_inventory(FIX / "invalid-inventory.yaml")
    name = str(FIX / "invalid-inventory.yaml")
    problems = exc.value.problems
    expected = [
        f"{name}:6: identities[0] (release-bot): field 'kind': 'robot' is not one of agent,",
        f"{name}:8: identities[0] (release-bot): field 'environment': 'prd' is not one of",
        f"{name}:10: identities[0] (release-bot): field 'last_reviewed': 'last tuesday' is not a date",
        f"{name}:5: identities[0] (release-bot): field 'id': 'release-bot' needs a kind prefix",
        f"{name}:7: identities[0] (release-bot): field 'owner': 'team:paymnets' is not in owners",
        f"{name}:9: identities[0] (release-bot): field 'credentials': 'cred:missing' is not in credentials",
        f"{name}:13: credentials[0] (cred:x): field 'ttl': '90 days' is neither 'static' nor an ISO-8601 duration",
        f"{name}:14: credentials[0] (cred:x): unknown field 'colour'",
    ]
    for want in expected:
        assert any(p.startswith(want) for p in problems), (want, problems)
    assert len(problems) == len(expected)


def test_duplicates_kind_and_yaml_syntax():
    with pytest.raises(InventoryError, match=r"x.yaml:4: not valid YAML: expected ',' or '\]'"):
        parse_yaml("kind: Inventory\nowners:\n  - id: [unclosed\n", "x.yaml")
    doc = parse_yaml("kind: Inventry\nowners:\n  - id: team:a\n  - id: team:a\n", "y.yaml")
    with pytest.raises(InventoryError) as exc:
        from_document(doc, "y.yaml")
    assert any("field 'kind' must be 'Inventory'" in p for p in exc.value.problems)
    assert any(p.startswith("y.yaml:4: owners[1] (team:a): field 'id': duplicate id") for p in exc.value.problems)


def test_dump_and_load_round_trip():
    inv = load_inventory(FIX / "inventory.yaml")
    again = from_document(parse_yaml(dump_inventory(inv), "again.yaml"), "again.yaml")
    assert again.identities == inv.identities and again.credentials == inv.credentials
    assert again.owners == inv.owners and again.path_owners == inv.path_owners


def test_cli_validate_and_show(tmp_path):
    ok = run_sprawl("inventory", "validate", str(FIX / "inventory.yaml"))
    assert ok.returncode == 0 and b"valid: 3 owner(s), 3 identit(ies), 4 credential(s)" in ok.stdout
    bad = run_sprawl("inventory", "validate", str(FIX / "invalid-inventory.yaml"))
    assert bad.returncode == 2 and b"8 problems" in bad.stderr and b"Traceback" not in bad.stderr
    shown = run_sprawl("inventory", "show", str(FIX / "inventory.yaml"))
    assert shown.returncode == 0
    assert b"service_account:payments/ledger-sync  [service_account, prod, deprecated]  owner: -  ORPHANED" in shown.stdout
    doc = json.loads(run_sprawl("inventory", "show", str(FIX / "inventory.yaml"), "-f", "json").stdout)
    assert doc["kind"] == "Inventory" and len(doc["identities"]) == 3
    missing = run_sprawl("inventory", "show", str(tmp_path / "none.yaml"))
    assert missing.returncode == 2 and missing.stderr.count(b"\n") == 1


def _project(tmp_path):
    (tmp_path / ".git").mkdir(parents=True)  # the repository name is the folder's
    (tmp_path / "app.py").write_text(f'GITHUB_TOKEN = "{GITHUB_TOKEN}"\n')
    (tmp_path / "deploy").mkdir()
    return tmp_path


def test_scan_with_an_inventory_carries_owner_and_score_in_every_format(tmp_path):
    proj = _project(tmp_path / "payments-api")
    inv = str(FIX / "inventory.yaml")
    text = run_sprawl("scan", str(proj), "--inventory", inv)
    assert text.returncode == 1
    first = text.stdout.decode().splitlines()
    assert first[0] == "Blast radius, highest first:"
    assert "owner: agent:release-bot (team:payments)" in first[1] and "link 0.82" in first[1]
    doc = json.loads(run_sprawl("scan", str(proj), "--inventory", inv, "-f", "json").stdout)
    a = doc["findings"][0]["analysis"]
    assert (a["owner"], a["identity"], a["link_confidence"], a["band"]) == ("team:payments", "agent:release-bot",
                                                                            0.82, "medium")
    assert [f["name"] for f in a["blast_radius"]["factors"]][:2] == ["privilege", "reach"]
    plain = json.loads(run_sprawl("scan", str(proj), "-f", "json").stdout)
    assert "analysis" not in plain["findings"][0]
    csv_out = run_sprawl("scan", str(proj), "--inventory", inv, "-f", "csv").stdout.decode().splitlines()
    assert csv_out[0].endswith("owner,identity,link_confidence,score,band") and "team:payments" in csv_out[1]
    sarif = json.loads(run_sprawl("scan", str(proj), "--inventory", inv, "-f", "sarif").stdout)
    assert sarif["runs"][0]["results"][0]["properties"]["owner"] == "team:payments"


def test_explain_and_governance(tmp_path):
    proj = _project(tmp_path / "payments-api")
    inv = str(FIX / "inventory.yaml")
    fp = json.loads(run_sprawl("scan", str(proj), "-f", "json").stdout)["findings"][0]["fingerprint"]
    r = run_sprawl("explain", fp[:10], str(proj), "--inventory", inv)
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr
    assert "env_var        0.70  assigned to GITHUB_TOKEN, an env var of cred:release-bot-github" in out
    assert "F1  privilege       16 / 22  write: from the inventory scopes of cred:release-bot-github" in out
    assert "F10 lifetime" in out and "[NHI7]" in out
    assert run_sprawl("explain", "ffffffff", str(proj), "--inventory", inv).returncode == 2
    g = json.loads(run_sprawl("governance", str(proj), "--inventory", inv, "-f", "json").stdout)
    views = g["views"]
    assert views["outside-approved"][0]["identity"] == "agent:release-bot"
    assert views["outside-approved"][0]["path"].endswith("app.py")
    assert {r["identity"] for r in views["unreviewed"]} == {"agent:support-agent",
                                                          "service_account:payments/ledger-sync"}
    text = run_sprawl("governance", str(proj), "--inventory", inv, "--view", "orphaned").stdout.decode()
    assert text.startswith("Orphaned or decommissioned identities with credentials in the open (0)")

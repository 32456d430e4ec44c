"""`sprawl workstation` through click: formats, exit codes, inventory file, redaction with backups."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli.workstation import workstation
from scanner.inventory.importers import import_sources
from scanner.inventory.loader import load_inventory
from tests.workstation_home import FakeHome, build_home, run_cli


@pytest.fixture
def fake(tmp_path: Path) -> FakeHome:
    return build_home(tmp_path)



def test_json_report_for_fleet_collection(fake):
    result = run_cli(fake, "-f", "json", "--owner", "user:alice")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.output)
    machine = doc["workstation"]
    assert machine["user"] == "alice" and machine["owner"] == "user:alice" and machine["host"]
    assert machine["clients"]["claude-code"]["version"] == "2.0.14"
    assert machine["clients"]["codex"]["version"] == "0.63.0"
    places = [loc for f in doc["findings"] if f["kind"] != "config-risk" for loc in f["locations"]]
    assert len(places) == len(fake.planted)
    assert all(loc["provenance"]["client"] and loc["source"] == "workstation" for loc in places)
    text = result.output
    assert not any(p.secret in text for p in fake.planted)  # previews only
    assert machine["exit_code"] == 1 and doc["schema"] == "secret-sprawl/findings"


def test_text_report_names_client_scope_server_and_session(fake, tmp_path):
    out = tmp_path / "report.txt"
    result = run_cli(fake, "--client", "cursor", "--client", "claude-code", "-o", str(out))
    assert result.exit_code == 1 and result.output == ""
    text = out.read_text()
    assert "in cursor user server beta env BETA_TOKEN" in text
    assert "in claude-code session 4f1e2b8a-0c3d-4e5f-8a9b-0123456789ab (tool_result)" in text
    assert "windsurf" not in text
    assert not any(p.secret in text for p in fake.planted)


def test_exit_code_clean_and_usage(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    runner = CliRunner()
    clean = runner.invoke(workstation, ["--home", str(home), "--platform", "linux", "--system-root", str(tmp_path)])
    assert clean.exit_code == 0, clean.output
    assert runner.invoke(workstation, ["--home", str(home), "--owner", "alice"]).exit_code == 2
    assert runner.invoke(workstation, ["--home", str(home), "--client", "notepad"]).exit_code == 2
    assert runner.invoke(workstation, ["--home", str(home), "--backup-dir", str(tmp_path / "b")]).exit_code == 2


def test_exit_code_unreadable(fake):
    (fake.home / ".cursor/mcp.json").write_text("{not json")
    assert run_cli(fake, "--client", "cursor").exit_code == 1  # the project's .cursor/mcp.json holds a secret
    (fake.project / ".cursor/mcp.json").unlink()
    result = run_cli(fake, "--client", "cursor")
    assert result.exit_code == 3
    assert "unreadable" in result.output


def test_inventory_out_loads_and_merges_with_inventory_import(fake, tmp_path):
    out = tmp_path / "ws.yaml"
    result = run_cli(fake, "--owner", "user:alice", "--inventory-out", str(out))
    assert result.exit_code == 1
    inv = load_inventory(out)
    ids = {i.id for i in inv.identities}
    assert "mcp_server:kiro/user/kiro-gh" in ids and any(i.startswith("agent:kiro@") for i in ids)
    merged, conflicts = import_sources([str(fake.project / ".mcp.json")], base=inv)
    assert not conflicts
    assert {"user:alice"} <= {o.id for o in merged.owners}
    assert len(merged.identities) > len(inv.identities)


def test_redact_with_backup_dir(fake, tmp_path):
    backups = tmp_path / "backups"
    result = run_cli(fake, "--redact", "--backup-dir", str(backups), "-f", "json")
    doc = json.loads(result.output)
    assert result.exit_code == 1
    redactions = doc["workstation"]["redactions"]
    assert redactions and {r["status"] for r in redactions} == {"redacted"}
    for r in redactions:
        assert stat.S_IMODE(Path(r["backup"]).stat().st_mode) == 0o600
    again = run_cli(fake, "-f", "json")
    assert not [f for f in json.loads(again.output)["findings"] if f["kind"] != "config-risk"]

"""The must-hold properties of `sprawl workstation` (issue 23) on a fake home with every client's files."""
from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from scanner.inventory.loader import load_inventory
from scanner.pipeline.workstation import (
    CODE_REACH,
    EXIT_FINDINGS,
    RISK_KIND,
    WorkstationOptions,
    placed,
    redact_in_place,
    scan_workstation,
    to_inventory,
)
from scanner.sources.workstation.jsonpos import parse_json
from tests.workstation_home import REFERENCES, FakeHome, build_home


@pytest.fixture
def fake(tmp_path: Path) -> FakeHome:
    return build_home(tmp_path)


def _scan(fake: FakeHome, **kw):
    return scan_workstation(WorkstationOptions(home=fake.home, platform="linux", system_root=fake.system_root,
                                               env={}, owner="user:alice", host="dev-laptop", **kw))


def _placed(report, kind=None):
    """Each (finding, location) as one flat record: the finding's facts and its location's workstation provenance."""
    out = []
    for f, loc in placed(report):
        if kind is not None and (f.kind == RISK_KIND) != (kind == RISK_KIND):
            continue
        p = loc.provenance
        out.append(SimpleNamespace(
            kind=f.kind, rule_id=f.rule_id, preview=f.preview, fingerprint=f.fingerprint, reasons=f.reasons,
            confidence=f.confidence, path=loc.path, line=loc.line, column=loc.column, client=p.client,
            scope=p.scope, server=p.server or None, field=p.field, key=p.setting, session=p.session or None,
            role=p.role or None, client_executes_code=CODE_REACH in f.reasons))
    return out


def _secrets(report):
    return _placed(report, "secret")


def test_every_planted_secret_is_found_with_its_client_server_and_field(fake):
    report = _scan(fake)
    found = _secrets(report)
    for p in fake.planted:
        matches = [f for f in found if f.path == str(p.path) and f.preview[:4] == p.secret[:4]
                   and f.client == p.client and f.server == p.server]
        assert matches, f"not found: {p.client} {p.server} in {p.path}"
        assert any(f.field == p.field for f in matches), (p.client, p.server, [f.field for f in matches])
        assert any(f.scope == p.scope for f in matches), (p.client, p.server, [f.scope for f in matches])
        if p.role:
            assert {f.role for f in matches} == {p.role}, (p.client, [f.role for f in matches])
    assert {p.client for p in fake.planted} >= {"claude-code", "claude-desktop", "cursor", "vscode", "cline", "roo",
                                                 "windsurf", "codex", "gemini-cli", "continue", "kiro", "amazon-q",
                                                 "zed"}


def test_nothing_but_the_planted_secrets_is_reported(fake):
    """References (${input:x}, ${env:X}, ${X}, ${X:-}, $X, bearer_token_env_var, env_vars) are not findings."""
    report = _scan(fake)
    planted = {(str(p.path), p.client) for p in fake.planted}
    extra = [f for f in _secrets(report) if (f.path, f.client) not in planted]
    assert not extra
    per_file: dict[str, int] = {}
    for p in fake.planted:
        per_file[str(p.path)] = per_file.get(str(p.path), 0) + 1
    for path, count in per_file.items():
        assert len({f.fingerprint for f in _secrets(report) if f.path == path}) == count, path
    for f in _secrets(report):
        line = Path(f.path).read_text().splitlines()[f.line - 1]
        assert not any(ref in line for ref in REFERENCES.values()) or f.session, (f.path, line)


def test_a_secret_is_attributed_to_the_server_whose_block_holds_it_never_its_neighbour(fake):
    report = _scan(fake)
    cursor = [f for f in _secrets(report) if f.client == "cursor" and f.scope == "user"]
    assert [(f.server, f.key) for f in cursor] == [("beta", "BETA_TOKEN")]
    codex = {(f.server, f.field, f.key) for f in _secrets(report) if f.client == "codex" and f.server}
    assert codex == {("github", "env", "GITHUB_PERSONAL_ACCESS_TOKEN"), ("remote", "headers", "X-Api-Key")}


def test_transcript_findings_name_session_line_and_role(fake):
    report = _scan(fake)
    claude = [f for f in _secrets(report) if f.client == "claude-code" and f.session]
    assert {f.session for f in claude} == {"4f1e2b8a-0c3d-4e5f-8a9b-0123456789ab"}
    [side] = [f for f in claude if "tool-results" in f.path]
    assert (side.role, side.line) == ("tool_result", 2)
    [f] = [f for f in claude if f.path.endswith(".jsonl")]
    assert f.session == "4f1e2b8a-0c3d-4e5f-8a9b-0123456789ab" and f.line == 3 and f.role == "tool_result"
    line = Path(f.path).read_bytes().splitlines()[f.line - 1]
    assert line[f.column - 1:].startswith(f.preview[:4].encode())  # the exact column in the raw line


def test_config_risks_are_low_severity_findings(fake):
    report = _scan(fake)
    risks = {(f.client, f.server, f.rule_id) for f in _placed(report, RISK_KIND)}
    assert ("claude-code", "github", "workstation-unpinned-package") in risks
    assert ("cursor", "alpha", "workstation-unpinned-package") in risks  # uvx alpha-mcp
    assert ("claude-code", "filesystem", "workstation-unpinned-package") not in risks  # pinned @1.2.3
    assert ("continue", "cont-gh", "workstation-unpinned-package") not in risks  # ==2.1.0
    assert ("windsurf", "ws-remote", "workstation-plain-http") in risks
    assert ("claude-code", "linear", "workstation-plain-http") not in risks
    assert ("gemini-cli", None, "workstation-credentials-file-mode") in risks  # .env mode 0644
    assert ("codex", None, "workstation-credentials-file-mode") not in risks  # auth.json mode 0600
    assert all(f.confidence == "low" for f in _placed(report, RISK_KIND))


def test_a_code_running_server_marks_its_clients_secrets(fake):
    report = _scan(fake)
    zed = [f for f in _secrets(report) if f.client == "zed"]
    assert zed and all(f.client_executes_code for f in zed)
    assert not any(f.client_executes_code for f in _secrets(report) if f.client == "kiro")


def test_inventory_entries_load_and_name_the_owner(fake, tmp_path):
    from scanner.inventory.loader import dump_inventory

    report = _scan(fake)
    out = tmp_path / "inv.yaml"
    out.write_text(dump_inventory(to_inventory(report)))
    inv = load_inventory(out)
    assert [o.id for o in inv.owners] == ["user:alice"]
    servers = {i.id: i for i in inv.identities if i.kind == "mcp_server"}
    assert "mcp_server:cursor/user/beta" in servers and "mcp_server:cursor/user/alpha" in servers
    assert "mcp_server:claude-code/project/linear" in servers
    assert all(i.owner == "user:alice" for i in inv.identities)
    assert any(t.executes_code for t in inv.identity("agent:zed@dev-laptop").tools)
    assert not any(t.executes_code for t in inv.identity("agent:kiro@dev-laptop").tools)
    zed = servers["mcp_server:zed/user/zed-shell"]
    assert any(t.executes_code for t in zed.tools)
    assert not any(t.executes_code for t in servers["mcp_server:kiro/user/kiro-gh"].tools)
    beta = servers["mcp_server:cursor/user/beta"]
    cred = inv.credential(beta.credentials[0])
    assert cred is not None and cred.fingerprint and cred.env_vars == ["BETA_TOKEN"]
    assert "agent:cursor@dev-laptop" in {i.id for i in inv.identities}
    refs = {(i.id, c.secret_ref) for i in inv.identities for c in map(inv.credential, i.credentials)
            if c is not None and c.secret_ref}
    assert {("mcp_server:cursor/user/alpha", "env:ALPHA_TOKEN"), ("mcp_server:vscode/user/gh-input", "input:github_token"),
            ("mcp_server:codex/user/remote", "env:REMOTE_TOKEN"), ("mcp_server:codex/user/remote", "env:REMOTE_ORG"),
            ("mcp_server:claude-code/project/notion", "env:API_TOKEN")} <= refs
    assert not any(c.secret_ref for c in map(inv.credential, beta.credentials) if c is not None)


def test_redact_masks_every_planted_secret_and_keeps_every_file_readable(fake, tmp_path):
    report = _scan(fake)
    originals = {str(p.path): p.path.read_bytes() for p in fake.planted}
    backups = tmp_path / "backups"
    outcomes = redact_in_place(report, backups)
    assert {o.status for o in outcomes} == {"redacted"}, [(o.path, o.reason) for o in outcomes]
    assert {o.path for o in outcomes} == set(originals)
    everything = [p for p in fake.home.rglob("*") if p.is_file()] + [
        p for p in fake.system_root.rglob("*") if p.is_file()]
    for path in everything:
        if backups in path.parents:
            continue
        text = path.read_text()
        for p in fake.planted:
            assert p.secret not in text, (p.client, path)
            assert json.dumps(p.secret)[1:-1] not in text
    for path in everything:
        if backups in path.parents:
            continue
        if path.suffix == ".jsonl":
            for line in path.read_text().splitlines():
                json.loads(line)
        elif path.suffix == ".json":
            parse_json(path.read_bytes(), jsonc=True)
        elif path.suffix == ".toml":
            tomllib.loads(path.read_text())
        elif path.suffix == ".yaml":
            yaml.safe_load(path.read_text())
    for o in outcomes:
        backup = Path(o.backup)
        assert backups in backup.parents
        assert backup.read_bytes() == originals[o.path]
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert not _secrets(_scan(fake))


def test_redact_without_backup_dir_writes_the_backup_next_to_the_file(fake):
    report = _scan(fake, clients=("kiro",))
    [outcome] = redact_in_place(report)
    path = Path(outcome.path)
    assert Path(outcome.backup) == path.with_name(path.name + ".sprawl-backup")
    assert stat.S_IMODE(Path(outcome.backup).stat().st_mode) == 0o600
    assert not _secrets(_scan(fake, clients=("kiro",)))


def test_redact_refuses_a_file_changed_since_it_was_read(fake):
    report = _scan(fake, clients=("kiro", "amazon-q"))
    kiro = fake.home / ".kiro/settings/mcp.json"
    kiro.write_text(kiro.read_text() + "\n")
    outcomes = redact_in_place(report)
    [changed] = [o for o in outcomes if o.path == str(kiro)]
    assert changed.status == "changed" and not changed.backup
    assert any(p.secret in kiro.read_text() for p in fake.planted if p.client == "kiro")
    assert not (kiro.parent / "mcp.json.sprawl-backup").exists()
    assert [o.status for o in outcomes if o.path != str(kiro)] == ["redacted"]


def test_exit_codes_clean_findings_unreadable(fake, tmp_path):
    empty = tmp_path / "empty-home"
    empty.mkdir()
    clean = scan_workstation(WorkstationOptions(home=empty, platform="linux", system_root=tmp_path / "nosys", env={}))
    assert clean.exit_code == 0 and not clean.findings
    assert _scan(fake).exit_code == EXIT_FINDINGS
    (fake.home / ".kiro/settings/mcp.json").write_text('{"mcpServers": {"x": ')
    broken = _scan(fake)
    assert broken.exit_code == EXIT_FINDINGS  # findings elsewhere come first, as in every scan (DESIGN 9)
    assert [p.path for p in broken.problems] == [str(fake.home / ".kiro/settings/mcp.json")]
    assert [(s.path, s.incomplete) for s in broken.result.stats.skipped] == [(broken.problems[0].path, True)]
    assert _scan(fake, clients=("kiro",)).exit_code == 3  # nothing found in what could be read


def test_transcripts_in_worker_processes_give_the_same_findings(fake, monkeypatch):
    import scanner.pipeline.workstation as pipeline

    alone = _scan(fake, jobs=1)
    monkeypatch.setattr(pipeline, "PARALLEL_BYTES", 0)
    pooled = _scan(fake, jobs=2)
    key = lambda f: (f.path, f.line, f.column, f.fingerprint, f.rule_id, f.role)
    assert sorted(map(key, _placed(pooled))) == sorted(map(key, _placed(alone)))
    assert pooled.scanned.keys() == alone.scanned.keys()
    assert {p: s.secrets for p, s in pooled.scanned.items()} == {p: s.secrets for p, s in alone.scanned.items()}


def test_unreadable_file_is_a_problem_not_a_crash(fake):
    import os
    import subprocess
    import sys

    from tests.conftest import DROP_DAC, REPO

    target = fake.home / ".cursor/mcp.json"
    target.chmod(0)
    (fake.project / ".cursor/mcp.json").unlink()  # findings in what was read would make it 1 (DESIGN 9)
    code = ("import sys; from scanner.cli.workstation import workstation; "
            "workstation(sys.argv[1:], prog_name='sprawl workstation')")
    prefix = DROP_DAC if os.geteuid() == 0 else []
    run = subprocess.run([*prefix, sys.executable, "-c", code, "--home", str(fake.home), "--platform", "linux",
                          "--system-root", str(fake.system_root), "--client", "cursor", "-f", "json"],
                         check=False, capture_output=True, cwd=REPO, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == 3, run.stderr.decode()[-2000:]
    doc = json.loads(run.stdout)["workstation"]
    assert [p["path"] for p in doc["problems"]] == [str(target)]
    assert doc["problems"][0]["reason"].startswith("unreadable")


def test_a_secret_written_with_escapes_inside_is_masked_by_re_encoding_its_string(tmp_path):
    from scanner.pipeline.workstation import mask_secrets
    from tests.workstation_home import new_github

    secret = new_github()
    escaped = secret[:10] + f"\\u{ord(secret[10]):04x}" + secret[11:]
    line = b'{"type":"user","message":{"content":"key: ' + escaped.encode() + b'\\nbye"},"n":"caf\\u00e9"}'
    masked, count = mask_secrets(line + b"\n" + line + b"\n", {secret})
    assert count == 2
    for out in masked.splitlines():
        doc = json.loads(out)
        assert secret not in doc["message"]["content"] and doc["message"]["content"].endswith("\nbye")
        assert doc["n"] == "café"


def test_redaction_fails_closed_when_masking_would_break_a_file(fake, monkeypatch):
    import scanner.pipeline.workstation as pipeline

    report = _scan(fake, clients=("kiro",))
    kiro = fake.home / ".kiro/settings/mcp.json"
    before = kiro.read_bytes()
    monkeypatch.setattr(pipeline, "mask_secrets", lambda data, secrets, json_like=True: (b"{broken", 1))
    [outcome] = redact_in_place(report)
    assert outcome.status == "failed" and not outcome.backup
    assert kiro.read_bytes() == before
    assert not (kiro.parent / "mcp.json.sprawl-backup").exists()

"""Where each client's files are on Linux, macOS and Windows layouts (a fake home and system root)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.sources.workstation.layout import CLIENTS, Machine, discover
from scanner.sources.workstation.versions import client_versions

CLINE = "AppData/Roaming/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"
ROO = "Library/Application Support/Cursor/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json"
# (platform, client, scope, path under the home, or under the system root when it starts with "/")
LAYOUT = [
    ("linux", "claude-desktop", "user", ".config/Claude/claude_desktop_config.json"),
    ("macos", "claude-desktop", "user", "Library/Application Support/Claude/claude_desktop_config.json"),
    ("windows", "claude-desktop", "user", "AppData/Roaming/Claude/claude_desktop_config.json"),
    ("linux", "claude-code", "managed", "/etc/claude-code/managed-mcp.json"),
    ("macos", "claude-code", "managed", "/Library/Application Support/ClaudeCode/managed-mcp.json"),
    ("windows", "claude-code", "managed", "/ProgramData/ClaudeCode/managed-mcp.json"),
    ("linux", "claude-code", "user", ".claude.json"),
    ("windows", "claude-code", "user", ".claude/settings.json"),
    ("macos", "claude-code", "user", ".claude/plugins/marketplaces/m/plugins/p/.claude-plugin/plugin.json"),
    ("linux", "vscode", "user", ".config/Code/User/mcp.json"),
    ("macos", "vscode", "user", "Library/Application Support/Code/User/settings.json"),
    ("windows", "vscode", "user", "AppData/Roaming/Code - Insiders/User/mcp.json"),
    ("linux", "vscode", "user", ".config/Code/User/profiles/abc/mcp.json"),
    ("windows", "cline", "user", CLINE),
    ("macos", "roo", "user", ROO),
    ("windows", "windsurf", "user", ".codeium/windsurf/mcp_config.json"),
    ("macos", "cursor", "user", ".cursor/mcp.json"),
    ("windows", "codex", "user", ".codex/config.toml"),
    ("linux", "codex", "user", ".codex/auth.json"),
    ("linux", "gemini-cli", "user", ".gemini/.env"),
    ("windows", "gemini-cli", "managed", "/ProgramData/gemini-cli/settings.json"),
    ("macos", "gemini-cli", "managed", "/Library/Application Support/GeminiCli/settings.json"),
    ("linux", "continue", "user", ".continue/config.yaml"),
    ("windows", "continue", "user", ".continue/mcpServers/db.yaml"),
    ("linux", "kiro", "user", ".kiro/settings/mcp.json"),
    ("macos", "amazon-q", "user", ".aws/amazonq/mcp.json"),
    ("linux", "amazon-q", "user", ".aws/amazonq/agents/default.json"),
    ("linux", "zed", "user", ".config/zed/settings.json"),
    ("macos", "zed", "user", ".config/zed/settings.json"),
    ("windows", "zed", "user", "AppData/Roaming/Zed/settings.json"),
]


def _machine(tmp_path: Path, platform: str, env: dict[str, str] | None = None) -> Machine:
    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "sys").mkdir(exist_ok=True)
    return Machine(tmp_path / "home", platform, tmp_path / "sys", env or {})


def _touch(path: Path, text: str = "{}") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize("platform, client, scope, where", LAYOUT)
def test_each_client_file_is_found_in_its_os_layout(tmp_path, platform, client, scope, where):
    m = _machine(tmp_path, platform)
    path = _touch(m.system_root / where[1:] if where.startswith("/") else m.home / where)
    found = discover(m).files
    assert [(f.client, f.scope) for f in found if f.path == path] == [(client, scope)]
    for other in ("linux", "macos", "windows"):
        same_there = any(p == other and c == client and w == where for p, c, _, w in LAYOUT)
        os_specific = where.startswith(("Library", "AppData", "/", ".config"))
        if other != platform and os_specific and not same_there:
            elsewhere = discover(Machine(m.home, other, m.system_root, {})).files
            assert path not in [f.path for f in elsewhere], other


def test_environment_moves_codex_and_claude_homes(tmp_path):
    m = _machine(tmp_path, "linux", {"CODEX_HOME": str(tmp_path / "cx"), "CLAUDE_CONFIG_DIR": str(tmp_path / "cc")})
    codex = _touch(tmp_path / "cx" / "config.toml", "")
    claude = _touch(tmp_path / "cc" / ".claude.json")
    ignored = _touch(m.home / ".codex" / "config.toml", "")
    paths = [f.path for f in discover(m).files]
    assert codex in paths and claude in paths and ignored not in paths


def test_projects_named_by_the_clients_and_given_are_read(tmp_path):
    m = _machine(tmp_path, "linux")
    named, given, unknown = tmp_path / "named", tmp_path / "given", tmp_path / "unknown"
    _touch(m.home / ".claude.json", json.dumps({"projects": {str(named): {}}}))
    for project in (named, given, unknown):
        _touch(project / ".mcp.json")
        _touch(project / ".vscode" / "mcp.json")
    found = discover(m, projects=[given]).files
    scoped = {(f.path.parent.parent if f.path.parent.name == ".vscode" else f.path.parent, f.client, f.scope)
              for f in found if f.scope == "project"}
    assert scoped == {(named, "claude-code", "project"), (named, "vscode", "project"),
                      (given, "claude-code", "project"), (given, "vscode", "project")}


def test_transcripts_and_side_files(tmp_path):
    m = _machine(tmp_path, "macos")
    session = _touch(m.home / ".claude/projects/-p/abc.jsonl", "")
    sub = _touch(m.home / ".claude/projects/-p/abc/subagents/agent-1.jsonl", "")
    side = _touch(m.home / ".claude/projects/-p/abc/tool-results/toolu_1.txt", "x")
    rollout = _touch(m.home / ".codex/sessions/2026/12/01/rollout-1.jsonl", "")
    chat = _touch(m.home / ".gemini/tmp/h/chats/session-1.json")
    cline = _touch(m.home / "Library/Application Support/Code/User/globalStorage/saoudrizwan.claude-dev/tasks/1/"
                   "api_conversation_history.json", "[]")
    continue_session = _touch(m.home / ".continue/sessions/abc.json")
    _touch(m.home / ".continue/sessions/sessions.json", "[]")  # the index, not a session
    kinds = {f.path: (f.client, f.kind, f.fmt) for f in discover(m).files}
    assert kinds[continue_session] == ("continue", "transcript", "json")
    assert m.home / ".continue/sessions/sessions.json" not in kinds
    assert kinds[session] == ("claude-code", "transcript", "jsonl") and kinds[sub][1] == "transcript"
    assert kinds[side] == ("claude-code", "tool-output", "text")
    assert kinds[rollout] == ("codex", "transcript", "jsonl")
    assert kinds[chat] == ("gemini-cli", "transcript", "json")
    assert kinds[cline] == ("cline", "transcript", "json")


def test_client_filter_and_unknown_client(tmp_path):
    m = _machine(tmp_path, "linux")
    _touch(m.home / ".cursor/mcp.json")
    _touch(m.home / ".kiro/settings/mcp.json")
    assert {f.client for f in discover(m, ["kiro"]).files} == {"kiro"}
    assert {f.client for f in discover(m).files} == {"kiro", "cursor"}
    with pytest.raises(ValueError):
        discover(m, ["notepad"])
    assert len(CLIENTS) == 13


def test_versions_from_transcripts_and_extension_folders(tmp_path):
    m = _machine(tmp_path, "linux")
    _touch(m.home / ".claude/projects/-p/s.jsonl", json.dumps({"type": "user", "version": "2.0.14"}) + "\n")
    _touch(m.home / ".codex/sessions/2026/12/01/rollout-1.jsonl",
           json.dumps({"type": "session_meta", "payload": {"cli_version": "0.63.0"}}) + "\n")
    (m.home / ".vscode/extensions/saoudrizwan.claude-dev-3.9.2").mkdir(parents=True)
    (m.home / ".vscode/extensions/saoudrizwan.claude-dev-3.10.0").mkdir(parents=True)
    assert client_versions(discover(m)) == {"claude-code": "2.0.14", "codex": "0.63.0", "cline": "3.10.0"}


def test_environment_moves_windows_and_xdg_folders(tmp_path):
    roaming = tmp_path / "roaming"
    win = _machine(tmp_path, "windows", {"APPDATA": str(roaming), "ProgramData": str(tmp_path / "pd")})
    desktop = _touch(roaming / "Claude" / "claude_desktop_config.json")
    managed = _touch(tmp_path / "pd" / "ClaudeCode" / "managed-mcp.json")
    assert {desktop, managed} <= {f.path for f in discover(win).files}
    xdg = _machine(tmp_path, "linux", {"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    zed = _touch(tmp_path / "xdg" / "zed" / "settings.json")
    code = _touch(tmp_path / "xdg" / "Code" / "User" / "mcp.json")
    assert {zed, code} <= {f.path for f in discover(xdg).files}

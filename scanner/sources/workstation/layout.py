"""Where each AI client keeps its MCP configuration, credential files and transcripts, per OS layout.

Locations follow each client's documentation (the module docstrings of the discovery functions name
them); `discover` only lists files that exist, never reads their secrets, and never calls the engine.
A fake home (and a fake system root for managed files) stands in for the machine in tests:
tests/test_workstation_layout.py.

Transcripts read: Claude Code (JSONL, tool-results and subagents side files), Codex (rollouts, history.jsonl),
Gemini CLI (chats JSON/JSONL, logs.json, checkpoints), Cline and Roo (task JSON), Continue (sessions JSON),
and SQLite stores (scanner.sources.workstation.stores): Cursor's state.vscdb, Zed's threads.db, Amazon Q
Developer CLI's and Kiro CLI's data.sqlite3. Not read: Windsurf's Cascade history and Kiro IDE's chats
(no public description of their formats).
"""
from __future__ import annotations

import json
import os
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

CLIENTS = ("claude-code", "claude-desktop", "cursor", "vscode", "cline", "roo", "windsurf", "codex", "gemini-cli",
           "continue", "kiro", "amazon-q", "zed")
PLATFORMS = ("linux", "macos", "windows")
SCOPES = ("user", "project", "managed")
# What a file is, which decides how it is read.
KINDS = ("mcp", "settings", "env", "credentials", "transcript", "tool-output", "store")
FORMATS = ("json", "jsonc", "toml", "yaml", "dotenv", "jsonl", "text", "amazon-q-sqlite", "zed-threads",
           "cursor-vscdb")  # the last three: SQLite transcript stores (kind "store")

ServersAt = tuple[tuple[str, ...], ...]
MCP_SERVERS: ServersAt = (("mcpServers",),)
VSCODE_SERVERS: ServersAt = (("servers",),)
VSCODE_SETTINGS: ServersAt = (("mcp", "servers"),)
CLAUDE_JSON: ServersAt = (("mcpServers",), ("projects", "*", "mcpServers"))
CODEX_SERVERS: ServersAt = (("mcp_servers",),)
ZED_SERVERS: ServersAt = (("context_servers",),)
CONTINUE_JSON: ServersAt = (("experimental", "modelContextProtocolServers"),)

_VSCODE_FLAVOURS = ("Code", "Code - Insiders", "VSCodium")
# Cline and Roo run inside any VS Code fork; their storage lives in that fork's user folder.
_EXTENSION_HOSTS = _VSCODE_FLAVOURS + ("Cursor", "Windsurf")
_CLINE_ID = "saoudrizwan.claude-dev"
_ROO_ID = "rooveterinaryinc.roo-cline"
MAX_TRANSCRIPTS_DEPTH = 6


@dataclass(frozen=True)
class ClientFile:
    """One file a client reads or writes: what it is and how to find the MCP servers in it."""

    path: Path
    client: str
    scope: str  # user | project | managed
    kind: str  # one of KINDS
    fmt: str  # one of FORMATS
    servers_at: ServersAt = ()  # key paths to server maps (or lists); "*" matches one key (a project path)
    project: str | None = None


@dataclass
class Machine:
    """The layout's inputs: a home folder, the OS flavour, a root for system-wide (managed) files, the environment."""

    home: Path
    platform: str
    system_root: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def current(cls, home: Path | None = None, platform: str | None = None, system_root: Path | None = None,
                env: dict[str, str] | None = None) -> Machine:
        platform = platform or current_platform()
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}: one of {', '.join(PLATFORMS)}")
        if system_root is None:
            system_root = Path(os.environ.get("SystemDrive", "C:") + "\\") if platform == "windows" else Path("/")
        return cls(Path(home) if home else Path.home(), platform, Path(system_root),
                   dict(os.environ if env is None else env))

    def appdata(self) -> Path:
        """%APPDATA% (a roaming profile may move it), else under the home."""
        return self.env_path("APPDATA", self.home / "AppData" / "Roaming")

    def app_support(self) -> Path:
        return self.home / "Library" / "Application Support"

    def config_home(self) -> Path:
        """Per-user application config folder: ~/.config, ~/Library/Application Support, %APPDATA%."""
        linux = self.env_path("XDG_CONFIG_HOME", self.home / ".config")
        return {"linux": linux, "macos": self.app_support(), "windows": self.appdata()}[self.platform]

    def data_local(self) -> Path:
        """Per-user local data folder (Rust's dirs::data_local_dir): ~/.local/share, ~/Library/Application
        Support, %LOCALAPPDATA%."""
        linux = self.env_path("XDG_DATA_HOME", self.home / ".local" / "share")
        windows = self.env_path("LOCALAPPDATA", self.home / "AppData" / "Local")
        return {"linux": linux, "macos": self.app_support(), "windows": windows}[self.platform]

    def program_data(self) -> Path:
        return self.env_path("ProgramData", self.system_root / "ProgramData")

    def env_path(self, name: str, default: Path) -> Path:
        value = self.env.get(name)
        return Path(value).expanduser() if value else default


def current_platform() -> str:
    if sys.platform.startswith("win"):
        return "windows"
    return "macos" if sys.platform == "darwin" else "linux"


def _existing(files: Iterable[ClientFile]) -> Iterator[ClientFile]:
    for f in files:
        if f.path.is_file():
            yield f


def _glob(root: Path, pattern: str) -> list[Path]:
    try:
        return sorted(p for p in root.glob(pattern) if p.is_file()) if root.is_dir() else []
    except OSError:
        return []


# ---- user and managed scope, one function a client --------------------------------------------

def claude_code(m: Machine) -> Iterator[ClientFile]:
    """Claude Code: ~/.claude.json (top-level and projects.<path>.mcpServers), ~/.claude/settings.json,
    ~/.claude/.credentials.json, plugins' .mcp.json and plugin.json, managed-mcp.json and managed-settings.json
    in /etc/claude-code, /Library/Application Support/ClaudeCode, C:\\ProgramData\\ClaudeCode; transcripts in
    ~/.claude/projects/<slug>/<session>.jsonl with side files under <session>/ ($CLAUDE_CONFIG_DIR moves ~/.claude)."""
    c = "claude-code"
    config_dir = m.env_path("CLAUDE_CONFIG_DIR", m.home / ".claude")
    claude_json = config_dir / ".claude.json" if m.env.get("CLAUDE_CONFIG_DIR") else m.home / ".claude.json"
    yield from _existing([
        ClientFile(claude_json, c, "user", "mcp", "json", CLAUDE_JSON),
        ClientFile(config_dir / "settings.json", c, "user", "settings", "json", MCP_SERVERS),
        ClientFile(config_dir / "settings.local.json", c, "user", "settings", "json", MCP_SERVERS),
        ClientFile(config_dir / ".credentials.json", c, "user", "credentials", "json"),
    ])
    plugins = config_dir / "plugins"
    for path in _glob(plugins, "**/.mcp.json") + _glob(plugins, "**/.claude-plugin/plugin.json"):
        yield ClientFile(path, c, "user", "mcp", "json", MCP_SERVERS)
    managed = {"linux": m.system_root / "etc" / "claude-code",
               "macos": m.system_root / "Library" / "Application Support" / "ClaudeCode",
               "windows": m.program_data() / "ClaudeCode"}[m.platform]
    legacy = [m.system_root / "Program Files" / "ClaudeCode"] if m.platform == "windows" else []
    for folder in [managed, *legacy]:
        yield from _existing([
            ClientFile(folder / "managed-mcp.json", c, "managed", "mcp", "json", MCP_SERVERS),
            ClientFile(folder / "managed-settings.json", c, "managed", "settings", "json", MCP_SERVERS),
        ])
    projects = config_dir / "projects"
    for path in _glob(projects, "**/*.jsonl"):
        if "tool-results" not in path.relative_to(projects).parts:
            yield ClientFile(path, c, "user", "transcript", "jsonl")
    for path in _glob(projects, "*/*/tool-results/*"):
        yield ClientFile(path, c, "user", "tool-output", "text")


def claude_desktop(m: Machine) -> Iterator[ClientFile]:
    """Claude Desktop: claude_desktop_config.json in ~/Library/Application Support/Claude (macOS),
    %APPDATA%\\Claude (Windows), ~/.config/Claude (Linux builds)."""
    yield from _existing([ClientFile(m.config_home() / "Claude" / "claude_desktop_config.json", "claude-desktop",
                                     "user", "mcp", "json", MCP_SERVERS)])


def cursor(m: Machine) -> Iterator[ClientFile]:
    """Cursor: ~/.cursor/mcp.json (user); .cursor/mcp.json in a project; chats in the user folder's
    globalStorage/state.vscdb and workspaceStorage/<hash>/state.vscdb."""
    yield from _existing([ClientFile(m.home / ".cursor" / "mcp.json", "cursor", "user", "mcp", "json", MCP_SERVERS)])
    user = m.config_home() / "Cursor" / "User"
    for path in _glob(user / "globalStorage", "state.vscdb") + _glob(user / "workspaceStorage", "*/state.vscdb"):
        yield ClientFile(path, "cursor", "user", "store", "cursor-vscdb")


def _vscode_users(m: Machine, flavours: tuple[str, ...]) -> list[Path]:
    return [m.config_home() / flavour / "User" for flavour in flavours]


def vscode(m: Machine) -> Iterator[ClientFile]:
    """VS Code (and Insiders, VSCodium): User/mcp.json (`servers`), User/settings.json (`mcp.servers`), and
    the same in each profile; the user folder is ~/.config/Code, ~/Library/Application Support/Code, %APPDATA%\\Code."""
    for user in _vscode_users(m, _VSCODE_FLAVOURS):
        for folder in [user, *[p.parent for p in _glob(user / "profiles", "*/mcp.json")]]:
            yield from _existing([ClientFile(folder / "mcp.json", "vscode", "user", "mcp", "jsonc", VSCODE_SERVERS)])
        for folder in [user, *[p.parent for p in _glob(user / "profiles", "*/settings.json")]]:
            yield from _existing([ClientFile(folder / "settings.json", "vscode", "user", "settings", "jsonc",
                                             VSCODE_SETTINGS)])


def _extension(m: Machine, client: str, ext_id: str, settings_name: str) -> Iterator[ClientFile]:
    for user in _vscode_users(m, _EXTENSION_HOSTS):
        storage = user / "globalStorage" / ext_id
        yield from _existing([ClientFile(storage / "settings" / settings_name, client, "user", "mcp", "json",
                                         MCP_SERVERS)])
        for path in _glob(storage, "tasks/*/api_conversation_history.json") + _glob(storage, "tasks/*/ui_messages.json"):
            yield ClientFile(path, client, "user", "transcript", "json")


def cline(m: Machine) -> Iterator[ClientFile]:
    """Cline: globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json; tasks/<id>/*.json transcripts."""
    yield from _extension(m, "cline", _CLINE_ID, "cline_mcp_settings.json")


def roo(m: Machine) -> Iterator[ClientFile]:
    """Roo Code: globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json; tasks/<id>/*.json; .roo/mcp.json."""
    yield from _extension(m, "roo", _ROO_ID, "mcp_settings.json")


def windsurf(m: Machine) -> Iterator[ClientFile]:
    """Windsurf: ~/.codeium/windsurf/mcp_config.json (all platforms)."""
    yield from _existing([ClientFile(m.home / ".codeium" / "windsurf" / "mcp_config.json", "windsurf", "user", "mcp",
                                     "json", MCP_SERVERS)])


def codex_home(m: Machine) -> Path:
    return m.env_path("CODEX_HOME", m.home / ".codex")


def codex(m: Machine) -> Iterator[ClientFile]:
    """Codex CLI: $CODEX_HOME (default ~/.codex): config.toml [mcp_servers.*], auth.json, history.jsonl and the
    rollouts sessions/YYYY/MM/DD/rollout-*.jsonl (and archived_sessions/)."""
    root = codex_home(m)
    yield from _existing([
        ClientFile(root / "config.toml", "codex", "user", "mcp", "toml", CODEX_SERVERS),
        ClientFile(root / "auth.json", "codex", "user", "credentials", "json"),
        ClientFile(root / "history.jsonl", "codex", "user", "transcript", "jsonl"),
    ])
    for path in _glob(root / "sessions", "**/*.jsonl") + _glob(root / "archived_sessions", "**/*.jsonl"):
        yield ClientFile(path, "codex", "user", "transcript", "jsonl")


def gemini_cli(m: Machine) -> Iterator[ClientFile]:
    """Gemini CLI: ~/.gemini/settings.json (mcpServers), ~/.gemini/.env, ~/.gemini/oauth_creds.json; system settings
    in /etc/gemini-cli, /Library/Application Support/GeminiCli, C:\\ProgramData\\gemini-cli; chats in
    ~/.gemini/tmp/<project>/chats/session-*.json(l), plus logs.json and checkpoint-*.json there."""
    g = m.home / ".gemini"
    yield from _existing([
        ClientFile(g / "settings.json", "gemini-cli", "user", "mcp", "jsonc", MCP_SERVERS),
        ClientFile(g / ".env", "gemini-cli", "user", "env", "dotenv"),
        ClientFile(g / "oauth_creds.json", "gemini-cli", "user", "credentials", "json"),
    ])
    system = {"linux": m.system_root / "etc" / "gemini-cli",
              "macos": m.system_root / "Library" / "Application Support" / "GeminiCli",
              "windows": m.program_data() / "gemini-cli"}[m.platform]
    for name in ("settings.json", "system-defaults.json"):
        yield from _existing([ClientFile(system / name, "gemini-cli", "managed", "mcp", "jsonc", MCP_SERVERS)])
    tmp = g / "tmp"
    for path in _glob(tmp, "*/chats/*.jsonl"):
        yield ClientFile(path, "gemini-cli", "user", "transcript", "jsonl")
    for path in _glob(tmp, "*/chats/*.json") + _glob(tmp, "*/logs.json") + _glob(tmp, "*/checkpoint-*.json"):
        yield ClientFile(path, "gemini-cli", "user", "transcript", "json")


def continue_dev(m: Machine) -> Iterator[ClientFile]:
    """Continue: ~/.continue/config.yaml (mcpServers list), config.json (experimental.modelContextProtocolServers),
    ~/.continue/mcpServers/*.yaml|json blocks, ~/.continue/.env; sessions in ~/.continue/sessions/*.json."""
    root = m.home / ".continue"
    yield from _existing([
        ClientFile(root / "config.yaml", "continue", "user", "mcp", "yaml", MCP_SERVERS),
        ClientFile(root / "config.json", "continue", "user", "mcp", "jsonc", CONTINUE_JSON),
        ClientFile(root / ".env", "continue", "user", "env", "dotenv"),
    ])
    yield from _continue_blocks(root / "mcpServers", "user")
    for path in _glob(root / "sessions", "*.json"):
        if path.name != "sessions.json":
            yield ClientFile(path, "continue", "user", "transcript", "json")


def _continue_blocks(folder: Path, scope: str, project: str | None = None) -> Iterator[ClientFile]:
    for path in _glob(folder, "*.yaml") + _glob(folder, "*.yml"):
        yield ClientFile(path, "continue", scope, "mcp", "yaml", MCP_SERVERS, project)
    for path in _glob(folder, "*.json"):
        yield ClientFile(path, "continue", scope, "mcp", "jsonc", MCP_SERVERS, project)


def kiro(m: Machine) -> Iterator[ClientFile]:
    """Kiro: ~/.kiro/settings/mcp.json; .kiro/settings/mcp.json in a project; Kiro CLI's conversations in
    <local data>/kiro-cli/data.sqlite3."""
    yield from _existing([
        ClientFile(m.home / ".kiro" / "settings" / "mcp.json", "kiro", "user", "mcp", "json", MCP_SERVERS),
        ClientFile(m.data_local() / "kiro-cli" / "data.sqlite3", "kiro", "user", "store", "amazon-q-sqlite"),
    ])


def amazon_q(m: Machine) -> Iterator[ClientFile]:
    """Amazon Q Developer: ~/.aws/amazonq/mcp.json and agent files ~/.aws/amazonq/agents/*.json (mcpServers);
    .amazonq/mcp.json in a project; the CLI's conversations in <local data>/amazon-q/data.sqlite3."""
    root = m.home / ".aws" / "amazonq"
    yield from _existing([
        ClientFile(root / "mcp.json", "amazon-q", "user", "mcp", "json", MCP_SERVERS),
        ClientFile(m.data_local() / "amazon-q" / "data.sqlite3", "amazon-q", "user", "store", "amazon-q-sqlite"),
    ])
    for path in _glob(root / "agents", "*.json"):
        yield ClientFile(path, "amazon-q", "user", "mcp", "json", MCP_SERVERS)


def zed(m: Machine) -> Iterator[ClientFile]:
    """Zed: settings.json `context_servers` in ~/.config/zed ($XDG_CONFIG_HOME/zed; also on macOS) or
    %APPDATA%\\Zed; .zed/settings.json in a project; agent threads in <data>/threads/threads.db (data:
    ~/.local/share/zed, ~/Library/Application Support/Zed, %LOCALAPPDATA%\\Zed)."""
    if m.platform == "windows":
        folder = m.appdata() / "Zed"
    else:
        folder = m.env_path("XDG_CONFIG_HOME", m.home / ".config") / "zed"
    data = m.data_local() / ("Zed" if m.platform != "linux" else "zed")
    yield from _existing([
        ClientFile(folder / "settings.json", "zed", "user", "mcp", "jsonc", ZED_SERVERS),
        ClientFile(data / "threads" / "threads.db", "zed", "user", "store", "zed-threads"),
    ])


USER_FILES: dict[str, Callable[[Machine], Iterator[ClientFile]]] = {
    "claude-code": claude_code, "claude-desktop": claude_desktop, "cursor": cursor, "vscode": vscode, "cline": cline,
    "roo": roo, "windsurf": windsurf, "codex": codex, "gemini-cli": gemini_cli, "continue": continue_dev,
    "kiro": kiro, "amazon-q": amazon_q, "zed": zed,
}


# ---- project scope ----------------------------------------------------------------------------

def project_files(project: Path) -> Iterator[ClientFile]:
    """The project-scope configs the clients read from a project folder."""
    p = str(project)
    candidates = [
        ClientFile(project / ".mcp.json", "claude-code", "project", "mcp", "json", MCP_SERVERS, p),
        ClientFile(project / ".claude" / "settings.json", "claude-code", "project", "settings", "json", MCP_SERVERS, p),
        ClientFile(project / ".claude" / "settings.local.json", "claude-code", "project", "settings", "json",
                   MCP_SERVERS, p),
        ClientFile(project / ".cursor" / "mcp.json", "cursor", "project", "mcp", "json", MCP_SERVERS, p),
        ClientFile(project / ".vscode" / "mcp.json", "vscode", "project", "mcp", "jsonc", VSCODE_SERVERS, p),
        ClientFile(project / ".vscode" / "settings.json", "vscode", "project", "settings", "jsonc", VSCODE_SETTINGS, p),
        ClientFile(project / ".roo" / "mcp.json", "roo", "project", "mcp", "json", MCP_SERVERS, p),
        ClientFile(project / ".codex" / "config.toml", "codex", "project", "mcp", "toml", CODEX_SERVERS, p),
        ClientFile(project / ".gemini" / "settings.json", "gemini-cli", "project", "mcp", "jsonc", MCP_SERVERS, p),
        ClientFile(project / ".gemini" / ".env", "gemini-cli", "project", "env", "dotenv", (), p),
        ClientFile(project / ".kiro" / "settings" / "mcp.json", "kiro", "project", "mcp", "json", MCP_SERVERS, p),
        ClientFile(project / ".amazonq" / "mcp.json", "amazon-q", "project", "mcp", "json", MCP_SERVERS, p),
        ClientFile(project / ".zed" / "settings.json", "zed", "project", "mcp", "jsonc", ZED_SERVERS, p),
    ]
    yield from _existing(candidates)
    yield from _continue_blocks(project / ".continue" / "mcpServers", "project", p)


def named_projects(m: Machine) -> list[Path]:
    """Project folders the clients remember: Claude Code's `projects` keys, Codex's [projects."<path>"] tables."""
    found: list[str] = []
    claude_json = (m.env_path("CLAUDE_CONFIG_DIR", m.home) / ".claude.json" if m.env.get("CLAUDE_CONFIG_DIR")
                   else m.home / ".claude.json")
    try:
        doc = json.loads(claude_json.read_bytes())
        if isinstance(doc, dict) and isinstance(doc.get("projects"), dict):
            found += [str(k) for k in doc["projects"]]
    except (OSError, ValueError):
        pass  # reported when the file itself is read
    try:
        doc = tomllib.loads((codex_home(m) / "config.toml").read_text(encoding="utf-8"))
        if isinstance(doc.get("projects"), dict):
            found += [str(k) for k in doc["projects"]]
    except (OSError, ValueError):
        pass
    return [Path(p) for p in dict.fromkeys(found)]


# ---- everything -------------------------------------------------------------------------------

@dataclass
class Discovery:
    machine: Machine
    files: list[ClientFile]
    projects: list[Path]


def discover(machine: Machine, clients: Iterable[str] | None = None, projects: Iterable[Path] = ()) -> Discovery:
    """Every existing client file for the chosen clients (all by default): user, managed, then project scope."""
    wanted = tuple(clients) if clients else CLIENTS
    unknown = [c for c in wanted if c not in CLIENTS]
    if unknown:
        raise ValueError(f"unknown client {unknown[0]!r}: one of {', '.join(CLIENTS)}")
    files: list[ClientFile] = []
    for client in wanted:
        files.extend(USER_FILES[client](machine))
    folders = [Path(p) for p in dict.fromkeys([*named_projects(machine), *projects])]
    folders = [p for p in folders if p.is_dir()]
    for folder in folders:
        files.extend(f for f in project_files(folder) if f.client in wanted)
    seen: set[tuple[Path, str]] = set()
    unique = []
    for f in files:
        if (f.path, f.client) not in seen:
            seen.add((f.path, f.client))
            unique.append(f)
    return Discovery(machine, unique, folders)

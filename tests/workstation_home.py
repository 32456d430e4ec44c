"""A fake home with every AI client's files, one planted secret in each config, transcripts, and references.

Secrets are generated at test time in each provider's documented format (GitHub classic tokens with a
valid checksum, Anthropic and OpenAI API keys, a Google API key); nothing is copied from elsewhere.
`build_home` returns what was planted, so tests can demand each is found with its client and server.
"""
from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path

from tests.repogen import github_token

_ALNUM = string.ascii_letters + string.digits


def _random(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def new_github() -> str:
    return github_token(secrets.token_hex(8))


def new_anthropic() -> str:
    return "sk-ant-api03-" + _random(93, _ALNUM + "_-") + "AA"


def new_openai() -> str:
    return "sk-proj-" + _random(24) + "T3BlbkFJ" + _random(24)


def new_google() -> str:
    return "AIza" + _random(35, _ALNUM + "_-")


@dataclass
class Planted:
    secret: str
    client: str
    server: str | None
    field: str
    path: Path
    scope: str = "user"
    role: str | None = None  # transcripts


@dataclass
class FakeHome:
    home: Path
    system_root: Path
    project: Path
    planted: list[Planted] = field(default_factory=list)
    references: list[str] = field(default_factory=list)

    def write(self, relative: str, text: str, root: Path | None = None, mode: int = 0o600) -> Path:
        path = (root or self.home) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(mode)
        return path

    def plant(self, client: str, server: str | None, fld: str, make=new_github, scope: str = "user",
              role: str | None = None) -> str:
        secret = make()
        self.planted.append(Planted(secret, client, server, fld, Path(), scope, role))
        return secret

    def at(self, path: Path, count: int = 1) -> None:
        """Tie the last `count` planted secrets to the file just written."""
        for p in self.planted[-count:]:
            p.path = path


REFERENCES = {
    "input": "${input:github_token}",
    "env_colon": "${env:GITHUB_TOKEN}",
    "braces": "${GITHUB_TOKEN}",
    "default": "${LINEAR_TOKEN:-}",
    "dollar": "$SLACK_BOT_TOKEN",
    "bearer": "Bearer ${API_TOKEN}",
}


def build_home(root: Path) -> FakeHome:
    """A Linux-layout home under root/home, a system root under root/sys, a project under the home."""
    h = FakeHome(root / "home", root / "sys", root / "home" / "src" / "shop")
    h.project.mkdir(parents=True)
    _claude_code(h)
    _other_clients(h)
    _codex(h)
    _gemini(h)
    _continue_kiro_q_zed(h)
    _transcripts(h)
    return h


def _claude_code(h: FakeHome) -> None:
    top = h.plant("claude-code", "github", "env")
    local = h.plant("claude-code", "linear", "headers", scope="project")
    doc = {"numStartups": 3, "mcpServers": {
        "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem@1.2.3", "/tmp"],
                       "env": {"GITHUB_TOKEN": REFERENCES["env_colon"]}},
        "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
                   "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": top}}},
        "projects": {str(h.project): {"allowedTools": [], "mcpServers": {
            "linear": {"type": "http", "url": "https://mcp.linear.app/mcp",
                       "headers": {"Authorization": f"Bearer {local}"}},
            "notion": {"type": "http", "url": "https://mcp.notion.com/mcp",
                       "headers": {"Authorization": REFERENCES["bearer"]}}}}}}
    h.at(h.write(".claude.json", json.dumps(doc, indent=2)), 2)
    project_secret = h.plant("claude-code", "sentry", "env", scope="project")
    h.at(h.write(".mcp.json", json.dumps({"mcpServers": {
        "sentry": {"command": "npx", "args": ["-y", "@sentry/mcp-server@0.9.1"],
                   "env": {"SENTRY_TOKEN": project_secret}},
        "slack": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-slack"],
                  "env": {"SLACK_BOT_TOKEN": REFERENCES["dollar"]}}}}, indent=2), root=h.project))
    settings = h.plant("claude-code", None, "env", make=new_anthropic)
    h.at(h.write(".claude/settings.json", json.dumps({"env": {"ANTHROPIC_API_KEY": settings}}, indent=2)))
    plugin = h.plant("claude-code", "acme-db", "args")
    h.at(h.write(".claude/plugins/cache/acme/db/.mcp.json", json.dumps({"mcpServers": {"acme-db": {
        "command": "acme-db-mcp", "args": ["--read-only", f"--token={plugin}"]}}}, indent=2)))
    managed = h.plant("claude-code", "corp-search", "headers", scope="managed")
    h.at(h.write("etc/claude-code/managed-mcp.json", json.dumps({"mcpServers": {"corp-search": {
        "type": "http", "url": "https://search.corp.example/mcp", "headers": {"X-Api-Key": managed}}}}, indent=2),
        root=h.system_root))


def _other_clients(h: FakeHome) -> None:
    desktop = h.plant("claude-desktop", "slack", "env")
    h.at(h.write(".config/Claude/claude_desktop_config.json", json.dumps({"mcpServers": {"slack": {
        "command": "npx", "args": ["-y", "@modelcontextprotocol/server-slack"], "env": {"SLACK_TOKEN": desktop}}}},
        indent=2)))
    # Two neighbours: the reference in alpha must not be reported, the literal in beta is beta's.
    beta = h.plant("cursor", "beta", "env")
    h.at(h.write(".cursor/mcp.json", '{\n  "mcpServers": {\n'
                 '    "alpha": {"command": "uvx", "args": ["alpha-mcp"], "env": {"ALPHA_TOKEN": "${ALPHA_TOKEN}"}},\n'
                 f'    "beta": {{"command": "node", "args": ["beta.js"], "env": {{"BETA_TOKEN": "{beta}"}}}}\n'
                 "  }\n}\n"))
    cursor_project = h.plant("cursor", "gamma", "url", scope="project")
    h.at(h.write(".cursor/mcp.json", json.dumps({"mcpServers": {"gamma": {
        "url": f"https://gamma.example.com/sse?token={cursor_project}"}}}, indent=2), root=h.project))
    vs_user = h.plant("vscode", "gh-remote", "headers")
    h.at(h.write(".config/Code/User/mcp.json", "{\n  // servers for every workspace\n"
                 '  "inputs": [{"type": "promptString", "id": "github_token", "password": true}],\n'
                 '  "servers": {\n'
                 '    "gh-input": {"type": "http", "url": "https://api.githubcopilot.com/mcp/",\n'
                 f'                 "headers": {{"Authorization": "Bearer {REFERENCES["input"]}"}}}},\n'
                 '    "gh-remote": {"type": "http", "url": "https://api.githubcopilot.com/mcp/",\n'
                 f'                  "headers": {{"Authorization": "Bearer {vs_user}"}}}},\n'
                 "  },\n}\n"))
    vs_settings = h.plant("vscode", "memory", "env")
    h.at(h.write(".config/Code/User/settings.json", json.dumps({"editor.fontSize": 13, "mcp": {"servers": {
        "memory": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"],
                   "env": {"MEMORY_KEY": vs_settings}}}}}, indent=2)))
    vs_project = h.plant("vscode", "db", "env", scope="project")
    h.at(h.write(".vscode/mcp.json", json.dumps({"servers": {"db": {
        "command": "docker", "args": ["run", "-i", "--rm", "mcp/postgres"], "env": {"PG_TOKEN": vs_project}}}},
        indent=2), root=h.project))
    storage = ".config/Code/User/globalStorage"
    cline = h.plant("cline", "cline-gh", "env")
    h.at(h.write(f"{storage}/saoudrizwan.claude-dev/settings/cline_mcp_settings.json", json.dumps({"mcpServers": {
        "cline-gh": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
                     "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": cline}, "disabled": False}}}, indent=2)))
    roo = h.plant("roo", "roo-gh", "env")
    h.at(h.write(f"{storage}/rooveterinaryinc.roo-cline/settings/mcp_settings.json", json.dumps({"mcpServers": {
        "roo-gh": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
                   "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": roo}}}}, indent=2)))
    windsurf = h.plant("windsurf", "ws-remote", "headers")
    h.at(h.write(".codeium/windsurf/mcp_config.json", json.dumps({"mcpServers": {"ws-remote": {
        "serverUrl": "http://mcp.internal.example:8080/mcp", "headers": {"Authorization": f"token {windsurf}"}}}},
        indent=2)))


def _codex(h: FakeHome) -> None:
    env = h.plant("codex", "github", "env")
    header = h.plant("codex", "remote", "headers")
    h.at(h.write(".codex/config.toml", f'''model = "o3"

[mcp_servers.github]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-github"]
env = {{ GITHUB_PERSONAL_ACCESS_TOKEN = "{env}" }}

[mcp_servers.remote]
url = "https://mcp.remote.example/mcp"
bearer_token_env_var = "REMOTE_TOKEN"
env_vars = ["REMOTE_ORG"]

[mcp_servers.remote.http_headers]
"X-Api-Key" = "{header}"

[projects."{h.project}"]
trust_level = "trusted"
'''), 2)
    auth = h.plant("codex", None, "OPENAI_API_KEY", make=new_openai)
    h.at(h.write(".codex/auth.json", json.dumps({"OPENAI_API_KEY": auth, "tokens": None}, indent=2)))


def _gemini(h: FakeHome) -> None:
    gm = h.plant("gemini-cli", "gm-remote", "headers")
    h.at(h.write(".gemini/settings.json", json.dumps({"theme": "Default", "mcpServers": {
        "gm-remote": {"httpUrl": "https://gm.example.com/mcp", "headers": {"Authorization": f"Bearer {gm}"}},
        "gm-ref": {"command": "gm-mcp", "env": {"GM_TOKEN": REFERENCES["default"]}}}}, indent=2)))
    env = h.plant("gemini-cli", None, "env", make=new_google)
    # Readable by others: a config risk as well as a secret.
    h.at(h.write(".gemini/.env", f"# gemini\nGEMINI_API_KEY={env}\nOTHER=${{HOME_TOKEN}}\n", mode=0o644))


def _continue_kiro_q_zed(h: FakeHome) -> None:
    cont = h.plant("continue", "cont-gh", "env")
    h.at(h.write(".continue/config.yaml", f"""name: my assistant
version: 1.0.0
mcpServers:
  - name: cont-ref
    command: npx
    args: ["-y", "cont-ref-mcp"]
    env:
      GH: "${{{{ secrets.GITHUB_TOKEN }}}}"
  - name: cont-gh
    command: uvx
    args: ["mcp-server-git==2.1.0"]
    env:
      GITHUB_TOKEN: {cont}
"""))
    kiro = h.plant("kiro", "kiro-gh", "env")
    h.at(h.write(".kiro/settings/mcp.json", json.dumps({"mcpServers": {"kiro-gh": {
        "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github@2025.4.8"],
        "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": kiro}}}}, indent=2)))
    q = h.plant("amazon-q", "q-gh", "env")
    h.at(h.write(".aws/amazonq/mcp.json", json.dumps({"mcpServers": {"q-gh": {
        "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github@2025.4.8"],
        "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": q}}}}, indent=2)))
    zed = h.plant("zed", "zed-shell", "env")
    h.at(h.write(".config/zed/settings.json", "// Zed settings\n{\n  \"theme\": \"One Dark\",\n"
                 "  \"context_servers\": {\n    \"zed-shell\": {\n      \"source\": \"custom\",\n"
                 "      \"command\": {\"path\": \"desktop-commander\", \"args\": [],\n"
                 f"                  \"env\": {{\"GITHUB_TOKEN\": \"{zed}\"}}}},\n    }},\n  }},\n}}\n"))


def _transcripts(h: FakeHome) -> None:
    tool = h.plant("claude-code", None, "content", role="tool_result")
    session = "4f1e2b8a-0c3d-4e5f-8a9b-0123456789ab"
    lines = [
        {"type": "user", "version": "2.0.14", "sessionId": session,
         "message": {"role": "user", "content": "print the env file"}},
        {"type": "assistant", "message": {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "cat .env"}}]}},
        {"type": "user", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1",
             "content": f"$ cat ~/.config/gh/token\n{tool}\n"}]},
         "toolUseResult": {"stdout": "DEBUG=1\n(truncated)", "stderr": ""}},
        {"type": "assistant", "message": {"role": "assistant", "content": [{"type": "text", "text": "Done.\tOK"}]}},
    ]
    h.at(h.write(f".claude/projects/-home-src-shop/{session}.jsonl",
                 "".join(json.dumps(line) + "\n" for line in lines)))
    side = h.plant("claude-code", None, "content", role="tool_result")
    h.at(h.write(f".claude/projects/-home-src-shop/{session}/tool-results/toolu_2.txt",
                 f"large output saved aside\nAPI_TOKEN={side}\n"))
    codex = h.plant("codex", None, "content", role="tool_result")
    rollout = [
        {"timestamp": "2026-12-01T10:00:00Z", "type": "session_meta", "payload": {"id": "s1", "cli_version": "0.63.0"}},
        {"timestamp": "2026-12-01T10:00:01Z", "type": "response_item",
         "payload": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "show config"}]}},
        {"timestamp": "2026-12-01T10:00:02Z", "type": "response_item",
         "payload": {"type": "function_call_output", "call_id": "c1",
                     "output": json.dumps({"output": f"token:\n  \"{codex}\"\n", "metadata": {"exit_code": 0}})}},
    ]
    h.at(h.write(".codex/sessions/2026/12/01/rollout-2026-12-01T10-00-00-s1.jsonl",
                 "".join(json.dumps(line) + "\n" for line in rollout)))
    user = h.plant("gemini-cli", None, "content", role="user")
    chat = {"sessionId": "g1", "messages": [
        {"id": "1", "type": "user", "content": f"use this key:\n{user}"},
        {"id": "2", "type": "gemini", "content": "ok", "toolCalls": [
            {"id": "t1", "name": "run_shell_command", "args": {"command": "ls"}, "result": [{"text": "a\nb"}]}]}]}
    h.at(h.write(".gemini/tmp/shop/chats/session-2026-12-01T10-00-g1.json", json.dumps(chat, indent=2)))


def run_cli(fake: FakeHome, *args: str):
    """`sprawl workstation` on the fake home, read with the Linux layout, in this process."""
    from click.testing import CliRunner

    from scanner.cli.workstation import workstation

    return CliRunner().invoke(workstation, ["--home", str(fake.home), "--platform", "linux", "--system-root",
                                            str(fake.system_root), *args], catch_exceptions=False)

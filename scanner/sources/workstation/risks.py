"""Risks in an MCP server's declaration beyond secrets, and what a server can do.

- an `npx -y` / `uvx` launch of a package without an exact version (whatever is published next runs);
- a remote server reached over plain http (tokens and tool traffic in clear);
- a credentials file readable by group or others;
- a server that runs a shell or executes code (it can read every other server's credentials in the
  same client).
Guarded by tests/test_workstation_parse.py.
"""
from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from urllib.parse import urlsplit

from scanner.inventory.model import CODE_EXEC_MARKERS
from scanner.sources.workstation.config import ServerBlock

UNPINNED = "workstation-unpinned-package"
PLAIN_HTTP = "workstation-plain-http"
FILE_MODE = "workstation-credentials-file-mode"
_EXACT_NPM = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.\-]+)?")
_EXACT_PY = re.compile(r"(?:==|@)\d[\w.\-+!]*$")
_LOOPBACK = ("localhost", "127.0.0.1", "::1", "0.0.0.0", "[::1]")
_EXEC_WORDS = CODE_EXEC_MARKERS + ("commander", "repl", "code-runner", "run-code", "execute", "server-commands",
                                   "computer-use", "sandbox", "jupyter", "ssh")


@dataclass(frozen=True)
class Risk:
    rule_id: str
    message: str
    field: str
    key: str = ""


def _base(command: str | None) -> str:
    name = (command or "").replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name[:-4] if name.endswith((".cmd", ".exe", ".bat")) else name


def launcher(server: ServerBlock) -> tuple[str, list[str]]:
    """The command that really runs and its args, seeing through `cmd /c npx ...` and `uv tool run`."""
    command, args = _base(server.command), list(server.args)
    if command == "cmd" and args and args[0].lower() in ("/c", "/k"):
        command, args = _base(args[1]) if len(args) > 1 else "", args[2:]
    if command == "uv" and args[:2] == ["tool", "run"]:
        command, args = "uvx", args[2:]
    return command, args


def package_of(server: ServerBlock) -> str | None:
    """The package an npx / uvx launch installs (the `--package` / `--from` value wins), else None."""
    command, args = launcher(server)
    if command not in ("npx", "uvx", "pnpx", "bunx"):
        return None
    it = iter(range(len(args)))
    for i in it:
        arg = args[i]
        for flag in ("--package", "-p", "--from"):
            if arg == flag and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
        if arg in ("--python", "--with", "-w", "--index-url", "--cache-dir"):
            next(it, None)
            continue
        if not arg.startswith("-"):
            return arg
    return None


def pinned(package: str, npm: bool) -> bool:
    if npm:
        name, at, version = package.rpartition("@")
        return bool(at and name and name != "@" and _EXACT_NPM.fullmatch(version))
    return bool(_EXACT_PY.search(package))


def server_risks(server: ServerBlock) -> list[Risk]:
    risks = []
    command, args = launcher(server)
    package = package_of(server)
    auto_yes = command != "npx" or any(a in ("-y", "--yes") for a in args)
    if package and auto_yes and not pinned(package, npm=command != "uvx"):
        risks.append(Risk(UNPINNED, f"{command} runs {package} without an exact version: whatever is published next "
                                    "runs with this server's credentials; pin it (name@1.2.3, name==1.2.3)",
                          "args", package))
    for url in [server.url or "", *[a for a in server.args if a.startswith("http://")]]:
        parts = urlsplit(url)
        if parts.scheme == "http" and (parts.hostname or "") not in _LOOPBACK:
            risks.append(Risk(PLAIN_HTTP, f"remote MCP server over plain http ({parts.hostname}): its token and "
                                          "tool traffic travel in clear; use https",
                              "url" if url == server.url else "args", parts.hostname or ""))
    return risks


def executes_code(server: ServerBlock) -> bool:
    """A server named or launched as a shell, terminal or code runner."""
    text = " ".join([server.name, _base(server.command), *server.args]).lower()
    if _base(server.command) in ("bash", "sh", "zsh", "pwsh", "powershell") and "-c" in server.args:
        return True
    return any(word in text for word in _EXEC_WORDS)


def system_of(server: ServerBlock) -> str:
    """What the server talks to: from its package (@modelcontextprotocol/server-github -> github), url host, name."""
    package = package_of(server) or ""
    tail = package.rsplit("/", 1)[-1].split("@")[0].split("==")[0]
    for rx in (r"server-([a-z0-9-]+)", r"([a-z0-9]+(?:-[a-z0-9]+)*)-mcp(?:-server)?$", r"mcp-(?:server-)?([a-z0-9-]+)"):
        m = re.search(rx, tail.lower())
        if m:
            return m.group(1)
    if server.url:
        host = urlsplit(server.url).hostname or ""
        parts = [p for p in host.split(".") if p not in ("mcp", "api", "www", "com", "io", "dev", "ai", "app")]
        if parts:
            return parts[-1]
    return re.sub(r"[^a-z0-9._-]+", "-", server.name.lower()).strip("-") or "unknown"


def file_mode_risk(mode: int) -> Risk | None:
    """A file holding credentials that group or others may read (POSIX modes)."""
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return Risk(FILE_MODE, f"credentials file readable by {'others' if mode & stat.S_IROTH else 'group'} "
                               f"(mode {stat.S_IMODE(mode):04o}); chmod 600 it", "mode", f"{stat.S_IMODE(mode):04o}")
    return None

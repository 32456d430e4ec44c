"""MCP client configs in both dialects.

`mcpServers` (claude_desktop_config.json, .cursor/mcp.json, .mcp.json) and `servers` with `inputs`
(.vscode/mcp.json). Every server becomes an `mcp_server:` identity whose config is this file; each
env var or header it passes becomes a credential. References (`${input:x}`, `${env:X}`, `${X}`) are
recorded as secret_ref; a literal value is a finding, so it is noted, never copied.
"""
from __future__ import annotations

import json
import re

from scanner.errors import SprawlError
from scanner.inventory.importers._common import fact, provider_from_var, slug
from scanner.inventory.model import Credential, Identity, Inventory, Tool

# `${input:x}`, `${env:X}`, `${X}` and `${X:-default}` (an empty default too) are references, not literals.
_REF = re.compile(r"\$\{(?:(input|env):)?([A-Za-z0-9_.\-]+)(?::-[^}]*)?\}")
_SECRETISH = re.compile(r"(?i)(key|token|secret|password|passwd|auth|credential|pat\b|private)")


def _system(server: str, spec: dict) -> str:
    """What the server talks to: its name, or the package it runs (@modelcontextprotocol/server-github)."""
    for arg in [spec.get("command", "")] + [str(a) for a in spec.get("args") or []]:
        for rx in (r"server-([a-z0-9-]+)", r"([a-z0-9]+(?:-[a-z0-9]+)*)-mcp(?:-server)?\b", r"mcp-([a-z0-9-]+)"):
            m = re.search(rx, str(arg).rsplit("/", 1)[-1])
            if m:
                return m.group(1)
    return slug(server)


def server_blocks(text: str, dialect: str) -> dict[str, tuple[int, int]]:
    """The first and last line of each server's object inside the top-level `dialect` object."""
    spans: dict[str, tuple[int, int]] = {}
    depth, line, i, n = 0, 1, 0, len(text)
    last: str | None = None
    key: str | None = None
    inside = False
    current: tuple[str, int] | None = None
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            try:
                last = json.loads(text[i:j + 1])
            except ValueError:
                last = None
            i = j + 1
            continue
        if c == "\n":
            line += 1
        elif c == ":":
            key = last
        elif c == ",":
            key = None
        elif c in "{[":
            depth += 1
            if c == "{" and depth == 2 and key == dialect:
                inside = True
            elif c == "{" and inside and depth == 3 and key is not None:
                current = (key, line)
            key = None
        elif c in "}]":
            if inside and depth == 3 and c == "}" and current is not None:
                spans[current[0]] = (current[1], line)
                current = None
            elif inside and depth == 2:
                inside = False
            depth -= 1
        i += 1
    return spans


def read(text: str, name: str, repo: str | None = None) -> Inventory:
    """One identity per server per config file and repository: `mcp_server:REPO:PATH#SERVER`, so the same
    server name in two repositories (or two configs) is two identities, each with its own owner."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SprawlError(f"{name}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(doc, dict):
        raise SprawlError(f"{name}: an MCP config is a JSON object")
    dialect = "servers" if "servers" in doc and "mcpServers" not in doc else "mcpServers"
    servers = doc.get(dialect) or {}
    if not isinstance(servers, dict):
        raise SprawlError(f"{name}: '{dialect}' must map server names to settings")
    inputs = {i.get("id"): i for i in doc.get("inputs") or [] if isinstance(i, dict)}
    inv = Inventory()
    blocks = server_blocks(text, dialect)
    where = f"{repo}:{name}" if repo else name
    for server, spec in servers.items():
        if not isinstance(spec, dict):
            inv.notes.append(f"{name}: server {server!r} is not an object; skipped")
            continue
        src = f"mcp:{where}#{server}"
        system = _system(server, spec)
        key = f"{where}#{slug(server)}"
        ident = Identity(id=f"mcp_server:{key}", kind="mcp_server", source=src)
        fact(ident, "configs", [name], src)
        fact(ident, "declared_in", [f"{repo}:{name}"] if repo else [], src)
        if server in blocks:
            fact(ident, "config_blocks", [f"{name}#L{blocks[server][0]}-L{blocks[server][1]}"], src)
        fact(ident, "environment", "local", src)  # a client config runs the server on a developer's machine
        transport = spec.get("type") or ("http" if spec.get("url") else "stdio")
        fact(ident, "purpose", f"MCP server ({transport}) {spec.get('url') or spec.get('command', '')}".strip(), src)
        fact(ident, "tools", [Tool(name=slug(server), system=system, via="mcp")], src)
        values = [(k, v) for k, v in (spec.get("env") or {}).items()]
        values += [(k, v) for k, v in (spec.get("headers") or {}).items() if _SECRETISH.search(k) or _REF.search(str(v))]
        for var, value in values:
            value = str(value)
            cred = Credential(id=f"cred:{key}:{slug(var)}", source=src)
            fact(cred, "env_vars", [var], src)
            fact(cred, "provider", provider_from_var(var) or system, src)
            ref = _REF.search(value)
            if ref:
                scheme, ref_name = ref.group(1) or "env", ref.group(2)
                fact(cred, "secret_ref", f"{scheme}:{ref_name}", src)  # `${X:-}` too: a reference with a default
                if scheme == "env" and ref_name != var:
                    cred.env_vars.append(ref_name)
                if scheme == "input" and ref_name not in inputs:
                    inv.notes.append(f"{src}: {var} refers to input {ref_name!r}, which 'inputs' does not declare")
            elif _SECRETISH.search(var) and value.strip():
                # Never copied: the scan reports it, and linking ties it to this server by its config path.
                inv.notes.append(f"{src}: {var} holds a literal value (a finding: scan {name}; move it to an input "
                                 "or the environment)")
            else:
                continue  # a plain setting (a region, a URL), not a credential
            inv.credentials.append(cred)
            ident.credentials.append(cred.id)
        if ident.credentials:
            ident.sources["credentials"] = src
        inv.identities.append(ident)
    return inv

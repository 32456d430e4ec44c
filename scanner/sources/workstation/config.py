"""Client config files: their MCP server blocks, and what a byte offset in the file belongs to.

A config parses into positioned Nodes (JSON, JSONC, TOML, YAML) or dotenv lines. `attribute(offset)`
names the server whose block holds that byte (never a neighbour), the field (env, args, headers,
url, command, other) and the key (variable or header name). References (`${input:x}`, `${env:X}`,
`${X}`, `${X:-default}`, `$X`) and fields that only name a variable (`bearer_token_env_var`,
`env_vars`, `env_http_headers`) are not literal secrets: `is_reference` says so.
Guarded by tests/test_workstation_parse.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from scanner.sources.workstation.jsonpos import JsonSyntaxError, parse_json
from scanner.sources.workstation.layout import ClientFile, ServersAt
from scanner.sources.workstation.nodes import Node, path_at
from scanner.sources.workstation.tomlpos import parse_toml
from scanner.sources.workstation.yamlpos import parse_yaml

# `${input:x}`, `${env:X}`, `${X}`, `${X:-default}` (group "default" is the literal default), `$X`, `{env:X}`,
# Continue's `${{ secrets.X }}`.
REFERENCE = re.compile(
    rb"\$\{(?:input:|env:)?[A-Za-z_][A-Za-z0-9_.\-]*(?::?-(?P<default>[^}]*))?\}|\$[A-Za-z_][A-Za-z0-9_]*"
    rb"|\{env:[A-Za-z_][A-Za-z0-9_]*\}|\$\{\{\s*[A-Za-z0-9_.\-]+\s*\}\}")
# Keys whose values are variable names, never secrets.
NAME_KEYS = frozenset({"bearer_token_env_var", "env_vars", "env_http_headers", "envFile", "env_file"})
FIELDS = {"env": "env", "args": "args", "headers": "headers", "http_headers": "headers", "env_http_headers": "headers",
          "bearer_token": "headers", "url": "url", "serverUrl": "url", "httpUrl": "url", "command": "command",
          "path": "command"}
CONFIG_ERRORS = (JsonSyntaxError, ValueError, yaml.YAMLError, UnicodeDecodeError)


@dataclass
class ServerBlock:
    """One MCP server as its block declares it (values as written: references not resolved)."""

    name: str
    start: int
    end: int
    project: str | None = None
    command: str | None = None
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    transport: str = "stdio"
    env_refs: list[str] = field(default_factory=list)  # variables it reads by name (bearer_token_env_var, env_vars)

    def contains(self, offset: int) -> bool:
        return self.start <= offset < self.end

    def references(self) -> dict[str, str]:
        """Setting (env var or header) -> where its secret really lives (`env:X`, `input:x`), for each value
        that is a reference; Codex's name-only settings too. Literal values never appear here."""
        out = {}
        for name, value in [*self.env.items(), *self.headers.items()]:
            ref = reference_of(value)
            if ref:
                out[name] = ref
        for name in self.env_refs:
            out.setdefault(name, f"env:{name}")
        return out


_WHOLE_REFERENCE = re.compile(
    r"(?:(?:Bearer|Basic|token)\s+)?(?:\$\{(?:(input|env):)?([A-Za-z_][A-Za-z0-9_.\-]*)(?::?-[^}]*)?\}"
    r"|\$([A-Za-z_][A-Za-z0-9_]*)|\$\{\{\s*secrets\.([A-Za-z0-9_.\-]+)\s*\}\})", re.IGNORECASE)


def reference_of(value: str) -> str | None:
    """`env:X` / `input:x` / `secret:x` when the whole value is one reference (an auth scheme may precede it)."""
    m = _WHOLE_REFERENCE.fullmatch(value.strip())
    if not m:
        return None
    if m.group(2):
        return f"{(m.group(1) or 'env').lower()}:{m.group(2)}"
    if m.group(3):
        return f"env:{m.group(3)}"
    return f"secret:{m.group(4)}"


@dataclass(frozen=True)
class Attribution:
    server: str | None
    field: str
    key: str
    project: str | None = None


@dataclass
class ParsedConfig:
    data: bytes
    root: Node | None
    servers: list[ServerBlock]
    servers_at: ServersAt = ()
    project: str | None = None
    dotenv: dict[int, tuple[str, int, int]] = field(default_factory=dict)  # line start -> (name, start, end)

    def attribute(self, offset: int) -> Attribution:
        """Who holds the byte at offset: the innermost server block, its field and key."""
        if self.root is None:
            return self._dotenv_attribution(offset)
        chain = path_at(self.root, offset)
        keys = [k for k, _ in chain[1:]]
        server, project, rest = self._server_of(chain)
        if server is None:
            return Attribution(None, keys[0] if keys else "other", ".".join(keys), self.project)
        fields = [FIELDS[k] for k in rest if k in FIELDS]
        return Attribution(server, fields[-1] if fields else "other", rest[-1] if rest else "",
                           project or self.project)

    def is_reference(self, start: int, end: int) -> bool:
        """True when [start, end) is a reference or sits in a field that only names a variable."""
        if self.root is None:
            return any(_inside_reference(self.data, a, b, start, end) for _, a, b in self.dotenv.values())
        chain = path_at(self.root, start)
        if any(k in NAME_KEYS for k, _ in chain[1:]):
            return True
        leaf = chain[-1][1]
        return leaf.is_string and _inside_reference(self.data, leaf.start, leaf.end, start, end)

    def _server_of(self, chain: list[tuple[str, Node]]) -> tuple[str | None, str | None, list[str]]:
        keys = [k for k, _ in chain[1:]]
        for pattern in self.servers_at:
            if len(keys) <= len(pattern) or not all(p in ("*", k) for p, k in zip(pattern, keys)):
                continue
            project = next((k for p, k in zip(pattern, keys) if p == "*"), None)
            holder, block = chain[len(pattern)][1], chain[len(pattern) + 1][1]
            return _server_name(holder, keys[len(pattern)], block), project, keys[len(pattern) + 1:]
        return None, None, []

    def _dotenv_attribution(self, offset: int) -> Attribution:
        for name, a, b in self.dotenv.values():
            if a <= offset < b:
                return Attribution(None, "env", name, self.project)
        return Attribution(None, "env", "", self.project)


def _inside_reference(data: bytes, lo: int, hi: int, start: int, end: int) -> bool:
    for m in REFERENCE.finditer(data, lo, hi):
        if m.start() <= start and end <= m.end():
            default = m.span("default")
            return not (default[0] >= 0 and start >= default[0] and end <= default[1])
    return False


def _server_name(holder: Node, key: str, block: Node) -> str:
    if holder.is_list and block.is_map:
        for name_key in ("name", "id"):
            name = block.get(name_key)
            if name is not None and name.is_string:
                return str(name.value)
        return f"#{key}"
    return key


def _string(node: Node | None) -> str | None:
    return str(node.value) if node is not None and node.is_string else None


def _strings(node: Node | None) -> list[str]:
    if node is None or not node.is_list:
        return []
    return [str(n.value) for n in node.value if not (n.is_map or n.is_list)]  # type: ignore[union-attr]


def _mapping(node: Node | None) -> dict[str, str]:
    if node is None or not node.is_map:
        return {}
    return {k: str(v.value) for k, v in node.items() if not (v.is_map or v.is_list)}


def read_server(name: str, block: Node, project: str | None) -> ServerBlock:
    """The fields of one server block, in any client's dialect (Zed's command object, Continue's transport)."""
    spec = block.get("transport") if block.get("transport") is not None and block.get("transport").is_map else block  # type: ignore[union-attr]
    assert spec is not None
    command_node = spec.get("command")
    args = _strings(spec.get("args"))
    env = _mapping(spec.get("env"))
    if command_node is not None and command_node.is_map:  # Zed: {"command": {"path", "args", "env"}}
        args = args or _strings(command_node.get("args"))
        env = env or _mapping(command_node.get("env"))
        command = _string(command_node.get("path"))
    else:
        command = _string(command_node)
    headers = {**_mapping(spec.get("headers")), **_mapping(spec.get("http_headers"))}
    request_init = spec.get("requestInit")
    if request_init is not None and request_init.is_map:
        headers.update(_mapping(request_init.get("headers")))
    url = _string(spec.get("url")) or _string(spec.get("serverUrl")) or _string(spec.get("httpUrl"))
    env_refs = _strings(spec.get("env_vars")) + list(_mapping(spec.get("env_http_headers")).values())
    bearer = _string(spec.get("bearer_token_env_var"))
    if bearer:
        env_refs.append(bearer)
    transport = _string(spec.get("type")) or ("http" if url else "stdio")
    return ServerBlock(name, block.key_start if block.key_start >= 0 else block.start, block.end, project, command,
                       args, env, headers, url, transport, env_refs)


def _server_blocks(root: Node, servers_at: ServersAt, project: str | None) -> list[ServerBlock]:
    found: list[ServerBlock] = []

    def walk(node: Node, pattern: tuple[str, ...], proj: str | None) -> None:
        if not pattern:
            for key, block in node.items():
                if block.is_map:
                    found.append(read_server(_server_name(node, key, block), block, proj))
            return
        head, rest = pattern[0], pattern[1:]
        for key, child in node.items() if node.is_map else []:
            if head in ("*", key):
                walk(child, rest, key if head == "*" else proj)

    for pattern in servers_at:
        walk(root, pattern, project)
    return found


_DOTENV = re.compile(rb"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*=", re.MULTILINE)


def _dotenv_lines(data: bytes) -> dict[int, tuple[str, int, int]]:
    out = {}
    for m in _DOTENV.finditer(data):
        end = data.find(b"\n", m.end())
        out[m.start()] = (m.group(1).decode(), m.end(), len(data) if end < 0 else end)
    return out


def parse_config(data: bytes, file: ClientFile) -> ParsedConfig:
    """Parse one config; raises one of CONFIG_ERRORS when the file is not what its client reads."""
    if file.fmt == "dotenv":
        return ParsedConfig(data, None, [], (), file.project, _dotenv_lines(data))
    root = parse_document(data, file.fmt)
    if root is None:
        return ParsedConfig(data, None, [], file.servers_at, file.project)
    return ParsedConfig(data, root, _server_blocks(root, file.servers_at, file.project), file.servers_at,
                        file.project)


def parse_document(data: bytes, fmt: str) -> Node | None:
    if fmt == "toml":
        return parse_toml(data)
    if fmt == "yaml":
        return parse_yaml(data)
    if not data.strip():
        return None
    return parse_json(data, jsonc=True)  # clients tolerate comments more often than they say

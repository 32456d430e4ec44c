"""Positioned parsing of client configs, server blocks, attribution, references and config risks."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.sources.workstation.config import ServerBlock, parse_config
from scanner.sources.workstation.jsonpos import JsonSyntaxError, parse_json
from scanner.sources.workstation.layout import (
    CLAUDE_JSON,
    CODEX_SERVERS,
    MCP_SERVERS,
    ZED_SERVERS,
    ClientFile,
)
from scanner.sources.workstation.nodes import LineIndex
from scanner.sources.workstation.risks import (
    PLAIN_HTTP,
    UNPINNED,
    executes_code,
    file_mode_risk,
    package_of,
    server_risks,
    system_of,
)
from scanner.sources.workstation.tomlpos import parse_toml
from scanner.sources.workstation.yamlpos import parse_yaml


def _file(fmt: str, servers_at=MCP_SERVERS, project: str | None = None) -> ClientFile:
    return ClientFile(Path("x"), "cursor", "user", "mcp", fmt, servers_at, project)


def _at(data: bytes, needle: bytes) -> int:
    offset = data.index(needle)
    assert data.count(needle) == 1
    return offset


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(json_values, st.sampled_from([None, 2]))
def test_parse_json_agrees_with_json_loads(value, indent):
    import json

    data = json.dumps(value, indent=indent, ensure_ascii=False).encode()
    assert parse_json(data).plain() == json.loads(data)


def test_parse_json_spans_are_the_value_tokens():
    data = b'{\n  "a": {"b": [1, "x\\"y"]},\n  "c": null\n}'
    root = parse_json(data)
    b = root.get("a").get("b")
    assert data[b.start:b.end] == b'[1, "x\\"y"]'
    assert data[b.key_start:b.start].startswith(b'"b"')
    assert b.value[1].value == 'x"y'


def test_jsonc_comments_and_trailing_commas_only_when_allowed():
    data = b'// head\n{"a": 1, /* mid */ "b": [2,],}\n'
    assert parse_json(data, jsonc=True).plain() == {"a": 1, "b": [2]}
    with pytest.raises(JsonSyntaxError):
        parse_json(data)


def test_toml_positions_and_server_tables():
    data = (b'model = "o3"\n[mcp_servers.a]\ncommand = "npx"\nenv = { K = "v1" }\n'
            b'[mcp_servers.b.http_headers]\n"X-Key" = \'v2\'\n')
    root = parse_toml(data)
    a = root.get("mcp_servers").get("a")
    assert data[a.start:a.end].startswith(b"[mcp_servers.a]") and data[a.start:a.end].endswith(b'{ K = "v1" }')
    v2 = root.get("mcp_servers").get("b").get("http_headers").get("X-Key")
    assert data[v2.start:v2.end] == b"'v2'" and v2.value == "v2"


def test_yaml_positions_are_bytes_even_after_non_ascii_text():
    data = "name: café ☕\nmcpServers:\n  - name: s\n    env:\n      K: vvv\n".encode()
    k = parse_yaml(data).get("mcpServers").value[0].get("env").get("K")
    assert data[k.start:k.end] == b"vvv"


def test_attribution_names_the_block_holding_the_byte_never_a_neighbour():
    data = (b'{"mcpServers": {\n "a": {"command": "x", "env": {"T": "AAAA"}},\n'
            b' "b": {"args": ["--k", "BBBB"], "headers": {"H": "CCCC"}, "url": "https://h/?t=DDDD"}\n}}')
    parsed = parse_config(data, _file("json"))
    cases = {b"AAAA": ("a", "env", "T"), b"BBBB": ("b", "args", "1"), b"CCCC": ("b", "headers", "H"),
             b"DDDD": ("b", "url", "url")}
    for needle, (server, fld, key) in cases.items():
        where = parsed.attribute(_at(data, needle))
        assert (where.server, where.field, where.key) == (server, fld, key)
    assert [s.name for s in parsed.servers] == ["a", "b"]


def test_claude_json_project_servers_carry_their_project():
    data = b'{"mcpServers": {"g": {}}, "projects": {"/p/one": {"mcpServers": {"s": {"env": {"K": "ZZZZ"}}}}}}'
    parsed = parse_config(data, _file("json", CLAUDE_JSON))
    where = parsed.attribute(_at(data, b"ZZZZ"))
    assert (where.server, where.project) == ("s", "/p/one")
    assert {(s.name, s.project) for s in parsed.servers} == {("g", None), ("s", "/p/one")}


def test_codex_toml_fields_and_name_only_keys():
    data = (b'[mcp_servers.r]\nurl = "https://h/mcp"\nbearer_token_env_var = "RRRR_TOKEN"\nenv_vars = ["QQQQ"]\n'
            b'env_http_headers = { "X-Org" = "OOOO" }\n[mcp_servers.r.env]\nKEY = "EEEE"\n')
    parsed = parse_config(data, _file("toml", CODEX_SERVERS))
    [server] = parsed.servers
    assert server.url == "https://h/mcp" and server.env == {"KEY": "EEEE"}
    assert set(server.env_refs) == {"RRRR_TOKEN", "QQQQ", "OOOO"}
    for name_only in (b"RRRR_TOKEN", b"QQQQ", b"OOOO"):
        start = _at(data, name_only)
        assert parsed.is_reference(start, start + len(name_only))
    start = _at(data, b"EEEE")
    assert not parsed.is_reference(start, start + 4)
    assert parsed.attribute(start).field == "env"


@pytest.mark.parametrize("value, target, reference", [
    ("${input:tok}", "${input:tok}", True), ("${env:TOKEN}", "${env:TOKEN}", True), ("${TOKEN}", "${TOKEN}", True),
    ("${TOKEN:-}", "${TOKEN:-}", True), ("$TOKEN", "$TOKEN", True), ("Bearer ${TOKEN}", "${TOKEN}", True),
    ("{env:TOKEN}", "{env:TOKEN}", True), ("${{ secrets.TOKEN }}", "${{ secrets.TOKEN }}", True),
    ("SECRETVALUE", "SECRETVALUE", False), ("${TOKEN:-SECRETVALUE}", "SECRETVALUE", False),
    ("Bearer SECRETVALUE", "Bearer SECRETVALUE", False)])
def test_references_are_not_literal_secrets(value, target, reference):
    data = b'{"mcpServers": {"s": {"env": {"K": "' + value.encode() + b'"}}}}'
    parsed = parse_config(data, _file("json"))
    start = data.index(target.encode())
    assert parsed.is_reference(start, start + len(target)) is reference


def test_dotenv_attribution_and_references():
    data = b"# c\nexport API_KEY=abcd\nOTHER=${HOME_TOKEN}\n"
    parsed = parse_config(data, ClientFile(Path(".env"), "gemini-cli", "user", "env", "dotenv"))
    where = parsed.attribute(_at(data, b"abcd"))
    assert (where.server, where.field, where.key) == (None, "env", "API_KEY")
    start = _at(data, b"${HOME_TOKEN}")
    assert parsed.is_reference(start, start + len(b"${HOME_TOKEN}"))


def test_zed_command_object_and_continue_list():
    zed = b'{"context_servers": {"z": {"command": {"path": "/bin/zs", "args": ["-v"], "env": {"K": "V"}}}}}'
    [server] = parse_config(zed, _file("jsonc", ZED_SERVERS)).servers
    assert (server.command, server.args, server.env) == ("/bin/zs", ["-v"], {"K": "V"})
    cont = b"mcpServers:\n  - name: one\n    command: uvx\n    args: [pkg]\n  - name: two\n    url: https://x\n"
    parsed = parse_config(cont, _file("yaml"))
    assert [(s.name, s.transport) for s in parsed.servers] == [("one", "stdio"), ("two", "http")]
    assert parsed.attribute(_at(cont, b"pkg")).server == "one"


def test_line_index_round_trips():
    data = b"ab\ncd\n\nef"
    index = LineIndex(data)
    for offset in range(len(data)):
        assert index.offset(*index.position(offset)) == offset


def _server(command, args, url=None, name="s") -> ServerBlock:
    return ServerBlock(name, 0, 1, command=command, args=args, url=url)


@pytest.mark.parametrize("command, args, unpinned", [
    ("npx", ["-y", "@modelcontextprotocol/server-github"], True),
    ("npx", ["-y", "@modelcontextprotocol/server-github@latest"], True),
    ("npx", ["-y", "@modelcontextprotocol/server-github@2025.4.8"], False),
    ("npx", ["@modelcontextprotocol/server-github"], False),  # no -y: npx asks first
    ("npx", ["--yes", "-p", "mcp-remote", "mcp-remote", "https://h"], True),
    ("uvx", ["mcp-server-git"], True), ("uvx", ["mcp-server-git==2.1.0"], False),
    ("uvx", ["--from", "mcp-server-git==2.1.0", "mcp-server-git"], False),
    ("cmd", ["/c", "npx", "-y", "pkg"], True), ("uv", ["tool", "run", "pkg"], True),
    ("node", ["server.js"], False)])
def test_unpinned_launches(command, args, unpinned):
    risks = server_risks(_server(command, args))
    assert any(r.rule_id == UNPINNED for r in risks) is unpinned


def test_plain_http_only_for_remote_hosts():
    assert [r.rule_id for r in server_risks(_server(None, [], "http://mcp.example.com/sse"))] == [PLAIN_HTTP]
    assert not server_risks(_server(None, [], "http://localhost:3000/mcp"))
    assert not server_risks(_server(None, [], "https://mcp.example.com/sse"))
    assert [r.rule_id for r in server_risks(_server("npx", ["mcp-remote", "http://10.0.0.5/mcp"]))] == [PLAIN_HTTP]


def test_code_execution_and_system():
    assert executes_code(_server("npx", ["-y", "@wonderwhy-er/desktop-commander"]))
    assert executes_code(_server("bash", ["-c", "serve"]))
    assert not executes_code(_server("npx", ["-y", "@modelcontextprotocol/server-github"], name="github"))
    assert system_of(_server("npx", ["-y", "@modelcontextprotocol/server-github@1.0.0"])) == "github"
    assert package_of(_server("npx", ["-y", "@scope/pkg@1.0.0", "--flag"])) == "@scope/pkg@1.0.0"


def test_file_mode_risk():
    assert file_mode_risk(0o100600) is None
    assert file_mode_risk(0o100640) is not None and file_mode_risk(0o100644).key == "0644"


@pytest.mark.parametrize("value, ref", [
    ("${input:gh}", "input:gh"), ("${env:GH_TOKEN}", "env:GH_TOKEN"), ("${GH_TOKEN}", "env:GH_TOKEN"),
    ("${GH_TOKEN:-}", "env:GH_TOKEN"), ("$GH_TOKEN", "env:GH_TOKEN"), ("Bearer ${input:gh}", "input:gh"),
    ("${{ secrets.GH }}", "secret:GH"), ("ghp_literal", None), ("Bearer abc", None), ("${A}${B}", None)])
def test_reference_of_a_whole_value(value, ref):
    from scanner.sources.workstation.config import reference_of

    assert reference_of(value) == ref

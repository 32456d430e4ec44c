"""TOML parsed into positioned Nodes (tomllib checks validity and decodes each value; this finds where).

Covers what client configs use: tables, arrays of tables, dotted and quoted keys, every string
form, arrays and inline tables. Each table Node spans from its header to its last member, so a
value or a comment inside `[mcp_servers.github]` and its sub-tables falls in that server's span.
Guarded by tests/test_workstation_parse.py.
"""
from __future__ import annotations

import re
import tomllib

from scanner.sources.workstation.nodes import Node

_BARE_KEY = re.compile(rb"[A-Za-z0-9_-]+")
_BASIC = re.compile(rb'"(?:[^"\\\n]|\\.)*"')
_LITERAL = re.compile(rb"'[^'\n]*'")
_ML_BASIC = re.compile(rb'"""(?:[^\\]|\\.)*?"""(?!")|"""(?:[^\\]|\\.)*?""""{1,2}', re.DOTALL)
_ML_LITERAL = re.compile(rb"'''.*?'''(?!')|'''.*?''''{1,2}", re.DOTALL)
_DATETIME = re.compile(rb"\d{4}-\d\d-\d\d[ T]\d\d:\d\d[^\s,\]\}#]*")
_SCALAR = re.compile(rb"[^\s,\]\}#]+")
_WS_LINE = re.compile(rb"[ \t]*")
_WS_ANY = re.compile(rb"(?:[ \t\r\n]+|#[^\n]*)*")


class TomlSyntaxError(ValueError):
    pass


def _decode(token: bytes) -> object:
    return tomllib.loads("x = " + token.decode("utf-8"))["x"]


class _Parser:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def skip_line_ws(self) -> None:
        self.pos = _WS_LINE.match(self.data, self.pos).end()  # type: ignore[union-attr]

    def skip_any(self) -> None:
        self.pos = _WS_ANY.match(self.data, self.pos).end()  # type: ignore[union-attr]

    def key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self.skip_line_ws()
            for rx in (_BASIC, _LITERAL, _BARE_KEY):
                m = rx.match(self.data, self.pos)
                if m:
                    token = m.group()
                    parts.append(token.decode() if rx is _BARE_KEY else str(_decode(token)))
                    self.pos = m.end()
                    break
            else:
                raise TomlSyntaxError(f"expected a key at byte {self.pos}")
            self.skip_line_ws()
            if self.data[self.pos:self.pos + 1] != b".":
                return parts
            self.pos += 1

    def value(self) -> Node:
        self.skip_line_ws()
        start = self.pos
        c = self.data[self.pos:self.pos + 1]
        if c == b"[":
            return self.array()
        if c == b"{":
            return self.inline_table()
        for rx in (_ML_BASIC, _ML_LITERAL, _BASIC, _LITERAL, _DATETIME, _SCALAR):
            m = rx.match(self.data, self.pos)
            if m:
                self.pos = m.end()
                return Node(_decode(m.group()), start, m.end())  # type: ignore[arg-type]
        raise TomlSyntaxError(f"expected a value at byte {self.pos}")

    def array(self) -> Node:
        start = self.pos
        self.pos += 1
        items: list[Node] = []
        while True:
            self.skip_any()
            if self.data[self.pos:self.pos + 1] == b"]":
                self.pos += 1
                return Node(items, start, self.pos)
            items.append(self.value())
            self.skip_any()
            if self.data[self.pos:self.pos + 1] == b",":
                self.pos += 1

    def inline_table(self) -> Node:
        start = self.pos
        self.pos += 1
        table = Node({}, start, start)
        while True:
            self.skip_any()
            if self.data[self.pos:self.pos + 1] == b"}":
                self.pos += 1
                table.end = self.pos
                return table
            key_start = self.pos
            path = self.key()
            self.expect(b"=")
            _put(table, path, self.value(), key_start)
            self.skip_any()
            if self.data[self.pos:self.pos + 1] == b",":
                self.pos += 1

    def expect(self, token: bytes) -> None:
        self.skip_line_ws()
        if self.data[self.pos:self.pos + len(token)] != token:
            raise TomlSyntaxError(f"expected {token.decode()!r} at byte {self.pos}")
        self.pos += len(token)

    def document(self) -> Node:
        root = Node({}, 0, len(self.data))
        table = root
        trail: list[Node] = [root]
        while True:
            self.skip_any()
            if self.pos >= len(self.data):
                return root
            start = self.pos
            if self.data.startswith(b"[[", self.pos):
                self.pos += 2
                path = self.key()
                self.expect(b"]]")
                table, trail = _table(root, path, start, self.pos, array=True)
            elif self.data.startswith(b"[", self.pos):
                self.pos += 1
                path = self.key()
                self.expect(b"]")
                table, trail = _table(root, path, start, self.pos, array=False)
            else:
                path = self.key()
                self.expect(b"=")
                value = self.value()
                _put(table, path, value, start)
                for node in trail:
                    node.end = max(node.end, value.end)


def _child(parent: Node, key: str, start: int) -> Node:
    assert isinstance(parent.value, dict)
    node = parent.value.get(key)
    if node is None:
        node = parent.value[key] = Node({}, start, start, key_start=start)
    if isinstance(node.value, list) and node.value and isinstance(node.value[-1].value, dict):
        return node.value[-1]  # a dotted path through an array of tables means its last table
    return node


def _put(table: Node, path: list[str], value: Node, key_start: int) -> None:
    node = table
    for key in path[:-1]:
        node = _child(node, key, key_start)
        node.end = max(node.end, value.end)
    assert isinstance(node.value, dict)
    value.key_start = key_start
    node.value[path[-1]] = value


def _table(root: Node, path: list[str], start: int, end: int, *, array: bool) -> tuple[Node, list[Node]]:
    trail = [root]
    node = root
    for key in path[:-1]:
        node = _child(node, key, start)
        trail.append(node)
    assert isinstance(node.value, dict)
    last = path[-1]
    if array:
        holder = node.value.get(last)
        if holder is None or not isinstance(holder.value, list):
            holder = node.value[last] = Node([], start, end, key_start=start)
        table = Node({}, start, end, key_start=start)
        holder.value.append(table)  # type: ignore[union-attr]
        trail.append(holder)
    else:
        table = _child(node, last, start)
        table.end = max(table.end, end)
    trail.append(table)
    for n in trail[1:]:
        n.end = max(n.end, end)
    return table, trail


def parse_toml(data: bytes) -> Node:
    """Positions of a valid TOML document; tomllib.TOMLDecodeError (a ValueError) if it is not one."""
    tomllib.loads(data.decode("utf-8"))
    return _Parser(data).document()

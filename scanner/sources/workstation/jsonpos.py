"""JSON and JSONC (comments, trailing commas) parsed into positioned Nodes.

json.loads gives no positions; this small recursive-descent parser does, over bytes, so offsets are
the engine's byte offsets. Strings are decoded by json.loads on their token, so escapes are exact.
Guarded by tests/test_workstation_parse.py.
"""
from __future__ import annotations

import json
import re

from scanner.sources.workstation.nodes import Node

_WS = re.compile(rb"(?:[ \t\r\n\f]+|//[^\n]*|/\*.*?\*/)*", re.DOTALL)
_WS_STRICT = re.compile(rb"[ \t\r\n]*")
_STRING = re.compile(rb'"[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"')
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERALS = {b"true": True, b"false": False, b"null": None}
MAX_DEPTH = 200


class JsonSyntaxError(ValueError):
    def __init__(self, message: str, offset: int):
        super().__init__(f"{message} at byte {offset}")
        self.offset = offset


def decode_string_token(token: bytes) -> str:
    """The text of one JSON string token (quotes included); lone surrogates are kept as escapes."""
    return json.loads(token.decode("utf-8", "surrogateescape"))


class _Parser:
    def __init__(self, data: bytes, jsonc: bool):
        self.data = data
        self.ws = _WS if jsonc else _WS_STRICT
        self.jsonc = jsonc
        self.pos = 0

    def skip(self) -> None:
        m = self.ws.match(self.data, self.pos)
        if m:
            self.pos = m.end()
        if self.data.startswith(b"\xef\xbb\xbf", self.pos):
            self.pos += 3
            self.skip()

    def peek(self) -> int:
        return self.data[self.pos] if self.pos < len(self.data) else -1

    def value(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise JsonSyntaxError("nested too deeply", self.pos)
        self.skip()
        c = self.peek()
        if c == ord("{"):
            return self.obj(depth)
        if c == ord("["):
            return self.arr(depth)
        if c == ord('"'):
            return self.string()
        for word, val in _LITERALS.items():
            if self.data.startswith(word, self.pos):
                start = self.pos
                self.pos += len(word)
                return Node(val, start, self.pos)
        m = _NUMBER.match(self.data, self.pos)
        if m and m.end() > self.pos:
            self.pos = m.end()
            text = m.group().decode()
            return Node(float(text) if any(ch in text for ch in ".eE") else int(text), m.start(), m.end())
        raise JsonSyntaxError("expected a value", self.pos)

    def string(self) -> Node:
        m = _STRING.match(self.data, self.pos)
        if not m:
            raise JsonSyntaxError("unterminated string", self.pos)
        self.pos = m.end()
        try:
            return Node(decode_string_token(m.group()), m.start(), m.end())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise JsonSyntaxError("bad string escape", m.start()) from None

    def obj(self, depth: int) -> Node:
        start = self.pos
        self.pos += 1
        members: dict[str, Node] = {}
        while True:
            self.skip()
            if self.peek() == ord("}"):
                self.pos += 1
                return Node(members, start, self.pos)
            if self.peek() != ord('"'):
                raise JsonSyntaxError("expected a key", self.pos)
            key = self.string()
            self.skip()
            if self.peek() != ord(":"):
                raise JsonSyntaxError("expected ':'", self.pos)
            self.pos += 1
            child = self.value(depth + 1)
            child.key_start = key.start
            members[str(key.value)] = child
            self.skip()
            if self.peek() == ord(","):
                self.pos += 1
                self.skip()
                if self.peek() == ord("}") and not self.jsonc:
                    raise JsonSyntaxError("trailing comma", self.pos)
                continue
            if self.peek() != ord("}"):
                raise JsonSyntaxError("expected ',' or '}'", self.pos)

    def arr(self, depth: int) -> Node:
        start = self.pos
        self.pos += 1
        items: list[Node] = []
        while True:
            self.skip()
            if self.peek() == ord("]"):
                self.pos += 1
                return Node(items, start, self.pos)
            items.append(self.value(depth + 1))
            self.skip()
            if self.peek() == ord(","):
                self.pos += 1
                self.skip()
                if self.peek() == ord("]") and not self.jsonc:
                    raise JsonSyntaxError("trailing comma", self.pos)
                continue
            if self.peek() != ord("]"):
                raise JsonSyntaxError("expected ',' or ']'", self.pos)


def parse_json(data: bytes, *, jsonc: bool = False, start: int = 0, end: int | None = None) -> Node:
    """One JSON document (data[start:end]) as Nodes with absolute offsets; JsonSyntaxError if it is not one."""
    view = data if end is None else data[:end]
    parser = _Parser(view, jsonc)
    parser.pos = start
    root = parser.value(0)
    parser.skip()
    if parser.pos != len(view):
        raise JsonSyntaxError("extra data after the document", parser.pos)
    return root

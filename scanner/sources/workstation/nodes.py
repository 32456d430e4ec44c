"""A parsed document whose every value knows its byte span in the file (JSON, JSONC, TOML, YAML).

Parsers here keep positions so a finding at (line, column) can be tied to the exact value, and so to
the MCP server block and field that hold it (tests/test_workstation_parse.py).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

Scalar = str | int | float | bool | None


@dataclass(slots=True)
class Node:
    """One value: a scalar, a mapping (dict of key -> Node) or a list of Nodes, spanning data[start:end]."""

    value: Scalar | dict[str, Node] | list[Node]
    start: int
    end: int
    key_start: int = -1  # where the member's key begins (mappings' members), else -1

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_string(self) -> bool:
        return isinstance(self.value, str)

    def get(self, key: str) -> Node | None:
        return self.value.get(key) if isinstance(self.value, dict) else None

    def items(self) -> list[tuple[str, Node]]:
        if isinstance(self.value, dict):
            return list(self.value.items())
        if isinstance(self.value, list):
            return [(str(i), n) for i, n in enumerate(self.value)]
        return []

    def plain(self) -> object:
        """The value without positions (dicts, lists, scalars)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def path_at(root: Node, offset: int) -> list[tuple[str, Node]]:
    """The chain of (key, node) from the root down to the innermost value whose span holds offset."""
    chain: list[tuple[str, Node]] = [("", root)]
    node = root
    while True:
        best: tuple[str, Node] | None = None
        for key, child in node.items():
            lo = child.key_start if child.key_start >= 0 else child.start
            if lo <= offset < max(child.end, lo + 1) and (best is None or child.end - lo < _width(best[1])):
                best = (key, child)
        if best is None:
            return chain
        chain.append(best)
        node = best[1]


def _width(node: Node) -> int:
    return node.end - (node.key_start if node.key_start >= 0 else node.start)


class LineIndex:
    """Byte offset <-> (1-based line, 1-based byte column)."""

    def __init__(self, data: bytes):
        self.starts = [0]
        pos = data.find(b"\n")
        while pos >= 0:
            self.starts.append(pos + 1)
            pos = data.find(b"\n", pos + 1)

    def offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column - 1

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

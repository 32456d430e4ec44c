"""YAML parsed into positioned Nodes: PyYAML's composed node tree, with its character marks turned into byte offsets.

Only the first document; anchors and aliases resolve to the anchored value's position.
Guarded by tests/test_workstation_parse.py.
"""
from __future__ import annotations

import yaml

from scanner.sources.workstation.nodes import Node


class _Offsets:
    """Character index -> byte offset (identity for ASCII text)."""

    def __init__(self, text: str):
        self.text = text
        self.ascii = text.isascii()

    def __call__(self, index: int) -> int:
        return index if self.ascii else len(self.text[:index].encode("utf-8"))


class _Constructor(yaml.constructor.SafeConstructor):
    pass


_CONSTRUCTOR = _Constructor()


def _convert(node: yaml.Node, at: _Offsets, key_start: int = -1) -> Node:
    start, end = at(node.start_mark.index), at(node.end_mark.index)
    if isinstance(node, yaml.MappingNode):
        members: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = _CONSTRUCTOR.construct_object(key_node, deep=True) if isinstance(key_node, yaml.ScalarNode) else None
            if key is None and not isinstance(key_node, yaml.ScalarNode):
                continue
            members[str(key)] = _convert(value_node, at, at(key_node.start_mark.index))
        return Node(members, start, end, key_start)
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(item, at) for item in node.value], start, end, key_start)
    value = _CONSTRUCTOR.construct_object(node, deep=True)
    if not isinstance(value, (str, int, float, bool)) and value is not None:
        value = str(value)  # dates, binary: their text is what matters here
    return Node(value, start, end, key_start)


def parse_yaml(data: bytes) -> Node | None:
    """The first document's Nodes, None for an empty file; yaml.YAMLError if it is not YAML."""
    text = data.decode("utf-8")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    return None if root is None else _convert(root, _Offsets(text))

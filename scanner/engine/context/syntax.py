"""Tree-sitter context: what a byte offset sits in, and what the literal there is assigned to.

One parser per language per process, built on first use and reused for every file. Grammars are
looked up by file extension; a grammar that is not installed means the caller falls back to the
line heuristics (scanner.engine.context.lines).
"""
from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass

# extension (or file name) -> (grammar module, function returning the language)
_GRAMMARS = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "java": ("tree_sitter_java", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "bash": ("tree_sitter_bash", "language"),
    "yaml": ("tree_sitter_yaml", "language"),
    "json": ("tree_sitter_json", "language"),
    "toml": ("tree_sitter_toml", "language"),
    "hcl": ("tree_sitter_hcl", "language"),
}
EXTENSIONS = {
    ".py": "python", ".pyw": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".jsx": "javascript", ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go", ".java": "java", ".rb": "ruby", ".rake": "ruby", ".gemspec": "ruby", ".sh": "bash",
    ".bash": "bash", ".zsh": "bash", ".ksh": "bash", ".yaml": "yaml", ".yml": "yaml", ".json": "json",
    ".jsonc": "json", ".toml": "toml", ".tf": "hcl", ".tfvars": "hcl", ".hcl": "hcl",
}
FILE_NAMES = {"gemfile": "ruby", "rakefile": "ruby", "vagrantfile": "ruby", ".bashrc": "bash", ".zshrc": "bash",
              ".profile": "bash", ".bash_profile": "bash", "pipfile": "toml", "cargo.lock": "toml"}
# Larger files are judged by the line heuristics: a parse tree of them costs more than it tells.
MAX_PARSE_BYTES = 2 << 20

# Node types of a whole string literal (or scalar), and of the pieces inside one.
_STRINGS = frozenset(
    {"string", "string_literal", "interpreted_string_literal", "raw_string_literal", "template_string",
     "double_quote_scalar", "single_quote_scalar", "plain_scalar", "block_scalar", "string_lit", "raw_string",
     "word", "heredoc_body", "quoted_template", "encapsed_string", "character_literal", "text_block"}
)
_STRING_PARTS = frozenset(
    {"string_content", "string_fragment", "interpreted_string_literal_content", "raw_string_literal_content",
     "escape_sequence", "string_scalar", "template_literal", "quoted_template_start", "quoted_template_end",
     "string_start", "string_end", "multiline_string_fragment", "literal_value"}
)
# Nodes that only wrap a value on its way to the assignment: expression lists, YAML flow nodes...
_WRAPPERS = frozenset(
    {"expression_list", "flow_node", "block_node", "literal_element", "expression", "literal_value",
     "parenthesized_expression", "concatenation", "type_cast", "as_expression", "non_null_expression",
     "satisfies_expression", "array", "list", "array_initializer", "tuple", "arguments_list"}
)
# Nodes that pair a name with a value; the name is the 'left', 'name' or 'key' field, else the first child.
_PAIRS = frozenset(
    {"assignment", "augmented_assignment", "keyword_argument", "pair", "variable_declarator",
     "assignment_expression", "field_definition", "public_field_definition", "short_var_declaration",
     "var_spec", "const_spec", "keyed_element", "assignment_statement", "variable_assignment",
     "block_mapping_pair", "flow_pair", "attribute", "default_parameter", "typed_default_parameter",
     "assignment_pattern", "comparison_operator", "binary_expression", "element_value_pair", "operator_assignment",
     "property_declaration", "enum_assignment"}
)
_ARGUMENTS = frozenset({"argument_list", "arguments"})
_SUBSCRIPTS = frozenset({"subscript", "subscript_expression", "element_reference", "index_expression"})
_QUOTES = "\"'`"


@functools.lru_cache(maxsize=16)  # asked several times per blob (hints, view, each decoded span)
def language_for(path: str) -> str | None:
    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if name in FILE_NAMES:
        return FILE_NAMES[name]
    dot = name.rfind(".")
    return EXTENSIONS.get(name[dot:]) if dot >= 0 else None


class Parsers:
    """One tree-sitter parser per language, built on first use; None where a grammar is missing."""

    def __init__(self):
        self._parsers: dict[str, object] = {}

    def get(self, lang: str):
        if lang not in self._parsers:
            self._parsers[lang] = _build(lang)
        return self._parsers[lang]

    def parse(self, data: bytes, lang: str) -> Tree | None:
        parser = self.get(lang)
        if parser is None or len(data) > MAX_PARSE_BYTES:
            return None
        return Tree(parser.parse(data).root_node, data)


def _build(lang: str):
    try:
        import tree_sitter

        module, func = _GRAMMARS[lang]
        return tree_sitter.Parser(tree_sitter.Language(getattr(importlib.import_module(module), func)()))
    except (ImportError, AttributeError, KeyError, ValueError):
        return None


@dataclass(slots=True)
class Site:
    """What an offset sits in. name is the key or variable a literal is assigned to (None if none);
    lookup the call or subscript around it (os.getenv("X")), for environment and secret-manager lookups."""

    value_start: int
    value_end: int
    literal: bool
    comment: bool = False
    name: str | None = None
    is_key: bool = False
    lookup: str | None = None


class Tree:
    def __init__(self, root, data: bytes):
        self.root = root
        self.data = data

    def _text(self, node, limit: int = 200) -> str:
        return self.data[node.start_byte : min(node.end_byte, node.start_byte + limit)].decode("utf-8", "replace")

    def site(self, offset: int) -> Site:
        node = self.root.named_descendant_for_byte_range(offset, offset)
        probe = node
        for _ in range(3):
            if probe is None:
                break
            if "comment" in probe.type:
                return Site(probe.start_byte, probe.end_byte, literal=False, comment=True)
            probe = probe.parent
        while node is not None and node.type in _STRING_PARTS and node.parent is not None:
            if node.parent.type in _STRINGS or node.parent.type in _STRING_PARTS:
                node = node.parent
            else:
                break
        if node is None or node.type not in _STRINGS:
            return Site(offset, offset, literal=False)
        start, end = _content_span(self.data, node.start_byte, node.end_byte)
        site = Site(start, end, literal=True)
        child, parent = node, node.parent
        while parent is not None and parent.type in _WRAPPERS:
            child, parent = parent, parent.parent
        if parent is None:
            return site
        if parent.type in _PAIRS:
            key = (parent.child_by_field_name("left") or parent.child_by_field_name("name")
                   or parent.child_by_field_name("key") or parent.child_by_field_name("property")
                   or (parent.named_children[0] if parent.named_children else None))
            if key is None or key.start_byte >= child.start_byte:
                site.is_key = key is not None and key.start_byte == child.start_byte
                return site
            site.name = self._text(key)
            rhs = parent.child_by_field_name("right") or parent.child_by_field_name("value")
            if rhs is not None and rhs.start_byte < child.start_byte:
                site.lookup = self._text(rhs)  # a || "default" after process.env.X
        elif parent.type in _ARGUMENTS and parent.parent is not None and child == parent.named_children[0]:
            # Only the first argument names what is looked up; a later one, as in os.getenv("X", "..."),
            # is a default value (tests/test_detection_shapes.py).
            call = parent.parent
            func = call.child_by_field_name("function") or call.child_by_field_name("name") or call
            site.lookup = self._text(func)
        elif parent.type in _SUBSCRIPTS:
            site.lookup = self._text(parent)
        return site


def _content_span(data: bytes, start: int, end: int) -> tuple[int, int]:
    """The literal without its prefix (r, b, f, u) and quotes: "x", '''x''', `x`, r"x"."""
    while start < end and chr(data[start]) in "rRbBuUfF" and end - start > 1 and chr(data[start + 1]) in _QUOTES + "rRbBuUfF":
        start += 1
    if start < end and chr(data[start]) in _QUOTES:
        q = data[start : start + 1]
        n = 3 if data[start : start + 3] == q * 3 and end - start >= 6 else 1
        start += n
        if data[end - n : end] == q * n:
            end -= n
    return start, max(start, end)

"""Agent transcripts (JSON lines, JSON documents, tool-output side files) made scannable.

A secret in a tool result is usually inside a JSON-escaped string ("...\\nTOKEN=ghp_..."), where a
scanner reading raw bytes sees `nghp_` and misses it. `decoded_view` gives the engine the file with
every escaped string token replaced by its decoded text, and maps each byte of that view back to
the raw file: exactly for untouched bytes, to the string token's start for decoded ones (a JSON
string never spans lines, so the line is exact). `role_at` names who wrote the string holding a
byte: user, assistant, tool_result (or system, unknown). Guarded by tests/test_workstation_transcript.py.
"""
from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from scanner.sources.workstation.jsonpos import JsonSyntaxError, parse_json
from scanner.sources.workstation.nodes import Node, path_at

# A JSON string token holding at least one escape. Tried at every quote, it can only match a real token:
# between a closing and the next opening quote there is only structure, never a backslash.
ESCAPED_STRING = re.compile(rb'"[^"\\\n]*+\\.(?:[^"\\\n]*+\\.)*+[^"\\\n]*+"')  # unrolled: runs, not chars
CHUNK_BYTES = 16 << 20
NESTED_DEPTH = 2  # JSON inside a JSON string inside a JSON string: deeper is not a transcript

ROLES = ("user", "assistant", "tool_result", "system", "unknown")
_ROLE_WORDS = {"user": "user", "human": "user", "user_message": "user", "assistant": "assistant",
               "model": "assistant", "gemini": "assistant", "agent_message": "assistant",
               "agent_reasoning": "assistant", "system": "system", "developer": "system", "tool": "tool_result"}
# Items and keys that carry what a tool returned, in Claude Code, Codex, Gemini CLI, Cline and Roo transcripts.
_TOOL_TYPES = frozenset({"tool_result", "function_call_output", "custom_tool_call_output", "local_shell_call_output",
                         "exec_command_end", "exec_command_output_delta", "mcp_tool_call_end", "patch_apply_end",
                         "tool_response", "functionResponse", "tool_use_result"})
_TOOL_KEYS = frozenset({"toolUseResult", "functionResponse", "tool_result", "resultDisplay",
                        # Cursor bubbles, Zed threads, Amazon Q / Kiro CLI conversations (stores.py)
                        "toolFormerData", "tool_results", "ToolUseResults", "CancelledToolUses", "tool_use_results"})
# Keys whose value is one side's message: Zed's {"User": ...} / {"Agent": ...}, Amazon Q's history entry
# {"user": ..., "assistant": ...}.
_ROLE_KEYS = {"User": "user", "Agent": "assistant", "user": "user", "assistant": "assistant"}
_CURSOR_BUBBLE = {1: "user", 2: "assistant"}  # a Cursor bubble's numeric `type`
_TOOL_SAYS = frozenset({"command_output", "tool", "mcp_server_response", "browser_action_result", "api_req_finished"})
_CLINE_RESULT = re.compile(r"^\[[^\]\n]{1,200}\] Result:")


@dataclass(slots=True)
class Piece:
    blob_start: int
    raw_start: int
    raw_end: int
    decoded: bool


@dataclass
class DecodedView:
    """The bytes to scan and the way back to the raw file."""

    blob: bytes
    pieces: list[Piece]
    base: int = 0  # raw offset of the chunk this view covers
    _starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._starts = [p.blob_start for p in self.pieces]

    def raw_offset(self, blob_offset: int) -> tuple[int, bool]:
        """(offset in the raw file, whether the byte came from a decoded string token)."""
        piece = self.pieces[max(0, bisect.bisect_right(self._starts, blob_offset) - 1)]
        if piece.decoded:
            return self.base + piece.raw_start, True
        return self.base + piece.raw_start + (blob_offset - piece.blob_start), False


def _decode_token(token: bytes, depth: int = 0) -> bytes | None:
    """A JSON string token's text; a JSON document serialized inside it (Codex's function_call_output, a
    tool that printed JSON) has its own escaped strings decoded too, up to NESTED_DEPTH levels, so the engine
    reads `$ cat .env<newline>TOKEN=...` where the file holds `\\\\nTOKEN=...`."""
    try:
        text = json.loads(token.decode("utf-8")).encode("utf-8", "replace")
    except (ValueError, UnicodeDecodeError):
        return None
    if depth < NESTED_DEPTH and b'\\":' in text:  # an escaped key: a JSON document serialized in the string
        text = ESCAPED_STRING.sub(lambda m: _nested(m.group(), depth + 1), text)
    return text


def _nested(token: bytes, depth: int) -> bytes:
    text = _decode_token(token, depth)
    return token if text is None else b'"' + text + b'"'


def decoded_view(data: bytes, base: int = 0) -> DecodedView:
    """data with each escaped JSON string token replaced by its decoded text (quotes kept, for context)."""
    parts: list[bytes] = []
    pieces: list[Piece] = []
    size = 0
    pos = 0
    for m in ESCAPED_STRING.finditer(data):
        text = _decode_token(m.group())
        if text is None:
            continue
        if m.start() > pos:
            pieces.append(Piece(size, pos, m.start(), False))
            parts.append(data[pos:m.start()])
            size += m.start() - pos
        pieces.append(Piece(size, m.start(), m.end(), True))
        chunk = b'"' + text + b'"'
        parts.append(chunk)
        size += len(chunk)
        pos = m.end()
    if pos < len(data) or not pieces:
        pieces.append(Piece(size, pos, len(data), False))
        parts.append(data[pos:])
    return DecodedView(b"".join(parts), pieces, base)


# Escape sequences blanked in place: each becomes a space and the character it stands for, so every
# offset in the view is the raw file's, and a secret after an escaped newline starts a line of its own.
# A twice-escaped one (JSON serialized inside a JSON string: `\\\\n`) keeps one backslash before its blank,
# which is as good a separator.
_ESCAPED, _STANDS_FOR = list(b'nt"r'), list(b'\n\t"\r')
_BLANKED = np.zeros(256, dtype=np.bool_)  # which characters after a backslash are blanked
_BLANKED[_ESCAPED] = True
_BLANK_AS = np.arange(256, dtype=np.uint8)  # the escaped character -> the one it stands for
_BLANK_AS[_ESCAPED] = _STANDS_FOR
# Escapes a same-length view cannot show (a character written as \\uXXXX or \\/ may sit inside a secret):
# a line holding one is decoded token by token instead (decoded_view).
_ODD = np.zeros(256, dtype=np.bool_)
_ODD[ord("u")] = _ODD[ord("/")] = True
# A control character (an ANSI colour's ESC, a NUL): never inside a secret, and no better shown decoded.
_CONTROL_ESCAPE = re.compile(rb"\\u00[01][0-9a-fA-F]")


@dataclass(slots=True)
class BlankedView:
    """A transcript chunk with its common JSON escapes (newline, quote, tab, return) blanked in place: same
    length, same offsets, so a match's span is its span in the raw file; and the lines it cannot show as
    they read decoded (odd_lines: (start, end), ascending)."""

    blob: bytes
    odd_lines: list[tuple[int, int]]


def blanked_view(data: bytes) -> BlankedView:
    """data blanked. One bytes.replace an escape gives the same bytes (tests/test_workstation_transcript.py
    holds it to that) but cost 0.6 CPU-s per 100 MB of transcripts: four passes, each stopping at every
    `n`, `t`, `r` or quote. Here the backslashes are found once, in vectorized passes, and serve the odd
    lines too."""
    raw = np.frombuffer(data, dtype=np.uint8)
    backslashes = np.flatnonzero(raw[:-1] == 0x5C)  # each with a byte after it
    escaped = raw[backslashes + 1]
    blanks = backslashes[_BLANKED[escaped]]
    blob = data
    if len(blanks):
        view = raw.copy()
        view[blanks] = 0x20
        view[blanks + 1] = _BLANK_AS[view[blanks + 1]]
        blob = view.tobytes()
    return BlankedView(blob, _odd_lines(data, backslashes[_ODD[escaped]].tolist()))


def _odd_lines(data: bytes, candidates: list[int]) -> list[tuple[int, int]]:
    """The lines holding a real \\uXXXX or \\/ escape among candidates (ascending offsets of a backslash
    before a `u` or `/`): not one whose backslash is itself escaped (`C:\\\\users`: an even run of
    backslashes before it), nor a control character's (`\\u001b[32m`: terminal colours in a tool's output)."""
    spans: list[tuple[int, int]] = []
    taken = -1  # the end of the last line taken
    for at in candidates:
        if at < taken:
            continue
        run = at
        while run and data[run - 1] == 0x5C:  # backslashes just before (a newline is none: lines stay apart)
            run -= 1
        if (at - run) % 2 == 0 and not _CONTROL_ESCAPE.match(data, at):
            lo, taken = line_span(data, at)  # only for a real escape: lines of a transcript run to megabytes
            spans.append((lo, taken))
    return spans


def chunks(data: bytes, size: int = CHUNK_BYTES) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) pieces of at most about size bytes, cut after a newline (never inside a JSON string)."""
    pos = 0
    while pos < len(data):
        end = len(data) if len(data) - pos <= size else data.find(b"\n", pos + size)
        end = len(data) if end < 0 else end + 1
        yield pos, data[pos:end]
        pos = end


def line_span(data: bytes, offset: int) -> tuple[int, int]:
    lo = data.rfind(b"\n", 0, offset) + 1
    hi = data.find(b"\n", offset)
    return lo, len(data) if hi < 0 else hi


def role_of(chain: list[tuple[str, Node]]) -> str:
    """Who wrote the innermost string of chain: a tool result anywhere up the chain wins over a message role."""
    role = "unknown"
    tool = False
    keys = [k for k, _ in chain]
    for key, node in chain:
        if key in _TOOL_KEYS or (key in ("result", "response", "output") and "toolCalls" in keys):
            tool = True
        if not node.is_map:
            continue
        if key in _ROLE_KEYS:
            role = _ROLE_KEYS[key]
        kind = _text(node.get("type"))
        if kind in _TOOL_TYPES or _text(node.get("say")) in _TOOL_SAYS:
            tool = True
        said = _text(node.get("role")) or kind
        if said in _ROLE_WORDS:
            role = _ROLE_WORDS[said]
        elif node.get("bubbleId") is not None:
            number = node.get("type")
            if number is not None and isinstance(number.value, int):
                role = _CURSOR_BUBBLE.get(number.value, role)
    leaf = chain[-1][1]
    if leaf.is_string and _CLINE_RESULT.match(str(leaf.value)):
        tool = True
    return "tool_result" if tool or role == "tool_result" else role


def _text(node: Node | None) -> str | None:
    return str(node.value) if node is not None and node.is_string else None


class RoleFinder:
    """role_at(offset) for one transcript; a JSON document is parsed once, a JSON line when asked about."""

    def __init__(self, data: bytes, fmt: str):
        self.data, self.fmt = data, fmt
        self._doc: Node | None = None
        self._lines: dict[int, Node | None] = {}

    def role_at(self, offset: int) -> str:
        if self.fmt == "text":
            return "tool_result"
        root = self._root(offset)
        return role_of(path_at(root, offset)) if root is not None else "unknown"

    def _root(self, offset: int) -> Node | None:
        if self.fmt == "json":
            if self._doc is None:
                try:
                    self._doc = parse_json(self.data, jsonc=True)
                except JsonSyntaxError:
                    return None
            return self._doc
        lo, hi = line_span(self.data, offset)
        if lo not in self._lines:
            try:
                self._lines[lo] = parse_json(self.data, jsonc=True, start=lo, end=hi)
            except JsonSyntaxError:
                self._lines[lo] = None
        return self._lines[lo]

"""Transcripts: escaped strings decoded for the engine, each byte mapped back, roles per client format."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.sources.workstation.transcript import RoleFinder, chunks, decoded_view


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["a", "text", "content"]), st.text(max_size=30), max_size=3),
                min_size=1, max_size=5))
def test_decoded_view_holds_every_decoded_string_and_maps_back_to_its_line(docs):
    data = "".join(json.dumps(d) + "\n" for d in docs).encode()
    view = decoded_view(data)
    for _n, d in enumerate(docs):
        for value in d.values():
            if not value:
                continue
            encoded = value.encode("utf-8", "replace")
            at = view.blob.find(encoded)
            assert at >= 0
    starts = [0] + [i + 1 for i, b in enumerate(data) if b == ord("\n")]
    for blob_offset in range(len(view.blob)):
        raw, _ = view.raw_offset(blob_offset)
        assert 0 <= raw <= len(data)
    # An untouched byte maps to itself; a decoded one to its token's start on the same line.
    for piece in view.pieces:
        raw, decoded = view.raw_offset(piece.blob_start)
        assert raw == piece.raw_start
        if decoded:
            assert data[raw:raw + 1] == b'"'
            line = max(i for i, s in enumerate(starts) if s <= raw)
            assert b"\n" not in data[starts[line]:raw]


def test_escape_before_a_token_is_decoded():
    data = b'{"content":"$ cat token\\nghp_abc"}\n'
    view = decoded_view(data)
    assert b"\nghp_abc" in view.blob
    raw, decoded = view.raw_offset(view.blob.index(b"ghp_abc"))
    assert decoded and data[raw:raw + 12] == b'"$ cat token'


def test_chunks_cut_after_newlines_and_cover_everything():
    data = b"".join(b'{"n":%d,"t":"x\\ny"}\n' % i for i in range(1000))
    pieces = list(chunks(data, size=1000))
    assert b"".join(p for _, p in pieces) == data
    assert all(p.endswith(b"\n") for _, p in pieces)
    assert all(data[offset:offset + len(p)] == p for offset, p in pieces)


def _role(lines: list[dict], needle: str, fmt: str = "jsonl") -> str:
    data = ("".join(json.dumps(x) + "\n" for x in lines) if fmt == "jsonl" else json.dumps(lines)).encode()
    return RoleFinder(data, fmt).role_at(data.index(needle.encode()))


def test_claude_code_roles():
    lines = [{"type": "user", "message": {"role": "user", "content": "PROMPT"}},
             {"type": "assistant", "message": {"role": "assistant", "content": [
                 {"type": "text", "text": "ANSWER"}, {"type": "tool_use", "input": {"command": "CALL"}}]}},
             {"type": "user", "message": {"role": "user", "content": [{"type": "tool_result", "content": "RESULT"}]},
              "toolUseResult": {"stdout": "STDOUT"}}]
    assert [_role(lines, n) for n in ("PROMPT", "ANSWER", "CALL", "RESULT", "STDOUT")] == [
        "user", "assistant", "assistant", "tool_result", "tool_result"]


def test_codex_roles():
    lines = [{"type": "response_item", "payload": {"type": "message", "role": "user", "content": [
                 {"type": "input_text", "text": "PROMPT"}]}},
             {"type": "response_item", "payload": {"type": "function_call", "arguments": "ARGS"}},
             {"type": "response_item", "payload": {"type": "function_call_output", "output": "OUTPUT"}},
             {"type": "event_msg", "payload": {"type": "exec_command_end", "stdout": "STDOUT"}},
             {"type": "event_msg", "payload": {"type": "agent_message", "message": "SAID"}}]
    assert [_role(lines, n) for n in ("PROMPT", "OUTPUT", "STDOUT", "SAID")] == [
        "user", "tool_result", "tool_result", "assistant"]


def test_gemini_and_cline_roles():
    chat = {"messages": [{"type": "user", "content": "PROMPT"},
                         {"type": "gemini", "content": "ANSWER", "toolCalls": [{"args": {}, "result": [
                             {"functionResponse": {"response": {"output": "RESULT"}}}]}]}]}
    data = json.dumps(chat).encode()
    finder = RoleFinder(data, "json")
    assert [finder.role_at(data.index(n)) for n in (b"PROMPT", b"ANSWER", b"RESULT")] == [
        "user", "assistant", "tool_result"]
    cline = [{"role": "user", "content": [{"type": "text", "text": "PROMPT"}]},
             {"role": "user", "content": [{"type": "text", "text": "[execute_command for 'env'] Result:\nOUT"}]},
             {"role": "assistant", "content": [{"type": "text", "text": "ANSWER"}]}]
    assert [_role(cline, n, "json") for n in ("PROMPT", "OUT", "ANSWER")] == ["user", "tool_result", "assistant"]
    ui = [{"type": "say", "say": "command_output", "text": "OUT"}]
    assert _role(ui, "OUT", "json") == "tool_result"


def test_unparseable_line_has_unknown_role_and_text_is_a_tool_result():
    data = b'{"type":"user","message":{"content":"cut\n'
    assert RoleFinder(data, "jsonl").role_at(5) == "unknown"
    assert RoleFinder(b"plain output", "text").role_at(0) == "tool_result"

"""Transcripts: escaped strings decoded for the engine, each byte mapped back, roles per client format."""
from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.sources.workstation.transcript import RoleFinder, blanked_view, chunks, decoded_view


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


_PAIRS = {b"\\n": b" \n", b'\\"': b' "', b"\\t": b" \t", b"\\r": b" \r"}


def _blanked_by_replace(data: bytes) -> bytes:
    """The oracle: one bytes.replace an escape, in the order they are listed."""
    for escaped, plain in _PAIRS.items():
        data = data.replace(escaped, plain)
    return data


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=40), min_size=1, max_size=6),
       st.sampled_from(["TOKEN=abc123", "ghp_x9", "k"]))
def test_blanked_view_keeps_every_offset_and_shows_once_and_twice_escaped_text(values, word):
    """Same length as the file, every changed byte inside an escape turned into its blank, and a word after an
    escaped newline starts a line of the view, whether its string was serialized once or twice."""
    texts = [f"{v}\n{word}" for v in values]
    data = (json.dumps({"content": texts, "output": json.dumps({"output": texts})}) + "\n").encode()
    view = blanked_view(data).blob
    assert len(view) == len(data)
    for i in (i for i in range(len(data)) if view[i] != data[i]):
        assert any(_PAIRS.get(data[j:j + 2]) == view[j:j + 2] for j in (i - 1, i)), (data[i - 2:i + 3], view[i - 2:i + 3])
    assert view.count(b"\n" + word.encode()) >= 2 * len(values)
    assert view == _blanked_by_replace(data)


def _odd_lines_by_loop(data: bytes) -> list[tuple[int, int]]:
    """The oracle: every line with a backslash before `u` or `/` that an even run of backslashes precedes
    and that is not a control character's `\\u00XX`, read byte by byte."""
    lines = set()
    for i in range(len(data) - 1):
        run = len(data[:i]) - len(data[:i].rstrip(b"\\"))
        if data[i] == 0x5C and data[i + 1] in b"u/" and run % 2 == 0 and not re.match(rb"\\u00[01][0-9a-fA-F]", data[i:]):
            lo = data.rfind(b"\n", 0, i) + 1
            hi = data.find(b"\n", i)
            lines.add((lo, len(data) if hi < 0 else hi))
    return sorted(lines)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([b"\\", b"\\", b"n", b"t", b"r", b'"', b"u", b"/", b"\n", b"x", b"001b"]),
                max_size=40).map(b"".join))
def test_blanked_view_is_the_replace_loops_on_any_run_of_backslashes(data):
    """Backslash runs of any length before n, t, r, quote, u and / (an escaped backslash before a letter, an
    escape at the very end): the vectorized view is the replace loop's, byte for byte, and its odd lines
    are those a byte-by-byte reading finds."""
    view = blanked_view(data)
    assert view.blob == _blanked_by_replace(data)
    assert view.odd_lines == _odd_lines_by_loop(data)


def test_odd_escapes_name_their_lines_and_a_secret_inside_one_is_found_decoded(tmp_path):
    from scanner.pipeline.workstation import WorkstationOptions, placed, scan_workstation
    from tests.workstation_home import new_github

    secret = new_github()
    glued = secret[:3] + "\\u005f" + secret[4:]  # `ghp_` written `ghp\u005f`: only decoding shows the token
    lines = [json.dumps({"type": "user", "message": {"role": "user", "content": "C:\\users\\me"}}),
             '{"type":"user","message":{"role":"user","content":[{"type":"tool_result","content":"token: '
             + glued + '\\n"}]}}',
             json.dumps({"type": "assistant", "message": {"role": "assistant", "content": "caf\u00e9"}})]
    lines.append(json.dumps({"type": "user", "message": {"content": "\x1b[32mok\x1b[0m"}}))  # \u001b: not odd
    data = ("\n".join(lines) + "\n").encode()
    assert [data[lo:hi].count(b"\\u") for lo, hi in blanked_view(data).odd_lines] == [1, 1]
    path = tmp_path / "home/.claude/projects/-w/0a1b2c3d-0000-4000-8000-000000000001.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    report = scan_workstation(WorkstationOptions(home=tmp_path / "home", platform="linux",
                                                 system_root=tmp_path / "sys", env={}, host="h", jobs=1))
    [(f, loc)] = [(f, loc) for f, loc in placed(report) if report.result.secrets.get(f.fingerprint) == secret]
    assert (loc.line, loc.provenance.role) == (2, "tool_result")
    raw_line = data.splitlines()[1]
    assert raw_line[loc.column - 1:].startswith(b'"token: ')  # inside the escaped string: its token's start


def test_a_secret_after_an_escaped_newline_is_at_its_exact_raw_column(tmp_path):
    from scanner.pipeline.workstation import WorkstationOptions, placed, scan_workstation
    from tests.workstation_home import new_github

    secret = new_github()
    output = json.dumps({"output": f"$ gh auth token\n{secret}\n", "metadata": {"exit_code": 0}})
    line = json.dumps({"type": "response_item", "payload": {"type": "function_call_output", "call_id": "c1",
                                                            "output": output}})
    path = tmp_path / "home/.codex/sessions/2026/12/01/rollout-2026-12-01T10-00-00-abc.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"type": "session_meta", "payload": {"id": "abc"}}) + "\n" + line + "\n")
    report = scan_workstation(WorkstationOptions(home=tmp_path / "home", platform="linux",
                                                 system_root=tmp_path / "sys", env={}, host="h", jobs=1))
    [(_, loc)] = [(f, loc) for f, loc in placed(report) if report.result.secrets.get(f.fingerprint) == secret]
    raw = path.read_bytes().splitlines()[loc.line - 1]
    assert raw[loc.column - 1:].startswith(secret.encode())  # twice escaped, and still the exact column
    assert loc.provenance.role == "tool_result" and loc.line == 2

"""Transcripts in SQLite stores (Cursor's state.vscdb, Zed's threads.db, Amazon Q and Kiro CLI's data.sqlite3):
real SQLite files written here in each client's on-disk shape (scanner.sources.workstation.stores names the
sources), scanned with session and role attribution (--redact inside them: tests/test_workstation_store_redact.py)."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner

from scanner.cli.workstation import workstation
from scanner.pipeline.workstation import RISK_KIND, WorkstationOptions, placed, redact_in_place, scan_workstation
from scanner.sources.workstation.layout import Machine, discover
from scanner.sources.workstation.stores import StoreError, read_records
from tests.workstation_home import new_anthropic, new_github, new_openai


def _db(path: Path, *statements: tuple[str, tuple]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        for sql, args in statements:
            conn.execute(sql, args)
    conn.close()
    return path


def _amazon_q_value(conversation: str, prompt: str, tool_output: str) -> str:
    return json.dumps({
        "conversation_id": conversation,
        "history": [
            {"user": {"content": {"Prompt": {"prompt": prompt}}, "timestamp": "2026-12-01T10:00:00Z"},
             "assistant": {"ToolUse": {"message_id": "m1", "content": "Let me look.",
                                       "tool_uses": [{"id": "t1", "name": "execute_bash",
                                                      "args": {"command": "cat .env"}}]}}},
            {"user": {"content": {"ToolUseResults": {"tool_use_results": [
                {"tool_use_id": "t1", "content": [{"Text": tool_output}], "status": "Success"}]}}},
             "assistant": {"Response": {"message_id": "m2", "content": "Found the settings."}}},
        ],
        "valid_history_range": [0, 2], "transcript": [], "tools": {},
    })


V2 = ("CREATE TABLE conversations_v2 (key TEXT NOT NULL, conversation_id TEXT NOT NULL, value TEXT NOT NULL, "
      "created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (key, conversation_id))", ())
ZED = ("CREATE TABLE threads (id TEXT PRIMARY KEY, summary TEXT NOT NULL, updated_at TEXT NOT NULL, "
       "data_type TEXT NOT NULL, data BLOB NOT NULL, parent_id TEXT, folder_paths TEXT, folder_paths_order TEXT, "
       "created_at TEXT)", ())
KV = ("CREATE TABLE cursorDiskKV (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)", ())
ITEMS = ("CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)", ())


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def _scan(home: Path, tmp_path: Path, *clients: str):
    return scan_workstation(WorkstationOptions(home=home, platform="linux", system_root=tmp_path / "sys", env={},
                                               clients=clients, host="h", owner="user:alice", jobs=1))


def _found(report, secret: str):
    return [(f, loc) for f, loc in placed(report) if f.kind != RISK_KIND
            and report.result.secrets.get(f.fingerprint) == secret]


def test_amazon_q_and_kiro_cli_conversations(home, tmp_path):
    in_tool, in_prompt, old_table = new_github(), new_openai(), new_github()
    q = _db(home / ".local/share/amazon-q/data.sqlite3", V2,
            ("INSERT INTO conversations_v2 VALUES (?, ?, ?, 1, 2)",
             ("/work/shop", "c0ffee-1", _amazon_q_value("c0ffee-1", f"use {in_prompt} please",
                                                        f"GITHUB_TOKEN={in_tool}\nDEBUG=1\n"))))
    kiro = _db(home / ".local/share/kiro-cli/data.sqlite3",
               ("CREATE TABLE conversations (key TEXT PRIMARY KEY, value TEXT)", ()),
               ("INSERT INTO conversations VALUES (?, ?)",
                ("/work/api", _amazon_q_value("beef-2", "hello", f"token: {old_table}"))))
    report = _scan(home, tmp_path, "amazon-q", "kiro")
    [(f, loc)] = _found(report, in_tool)
    p = loc.provenance
    assert (p.client, p.session, p.role, p.field) == ("amazon-q", "c0ffee-1", "tool_result", "content")
    assert loc.path == f"{q}!conversations_v2//work/shop/c0ffee-1"
    [(_, loc)] = _found(report, in_prompt)
    assert (loc.provenance.role, loc.provenance.session) == ("user", "c0ffee-1")
    [(_, loc)] = _found(report, old_table)
    assert (loc.provenance.client, loc.provenance.session, loc.provenance.role) == ("kiro", "beef-2", "tool_result")
    assert loc.path.startswith(f"{kiro}!conversations/")
    assert loc.history() == "kiro session beef-2 (tool_result)"


def test_zed_threads_zstd_and_json(home, tmp_path):
    in_tool, in_answer = new_anthropic(), new_github()
    thread = {"version": "0.3.0", "title": "deploy", "updated_at": "2026-12-01T10:00:00Z", "messages": [
        {"User": {"id": "u1", "content": [{"Text": "deploy the api"}]}},
        {"Agent": {"content": [{"Text": "Reading the env."},
                               {"ToolUse": {"id": "t1", "name": "terminal", "raw_input": "{}", "input": {},
                                            "is_input_complete": True}}],
                   "tool_results": {"t1": {"tool_use_id": "t1", "tool_name": "terminal", "is_error": False,
                                           "content": {"Text": f"ANTHROPIC_API_KEY={in_tool}\n"}, "output": None}}}},
    ]}
    answer = {"version": "0.3.0", "title": "q", "updated_at": "2026-12-01T11:00:00Z", "messages": [
        {"Agent": {"content": [{"Text": f"Set GH_TOKEN={in_answer} in the shell."}], "tool_results": {}}}]}
    db = _db(home / ".local/share/zed/threads/threads.db", ZED,
             ("INSERT INTO threads (id, summary, updated_at, data_type, data) VALUES (?, ?, ?, 'zstd', ?)",
              ("thread-a", "deploy", "2026-12-01T10:00:00Z",
               zstandard.ZstdCompressor(level=3).compress(json.dumps(thread).encode()))),
             ("INSERT INTO threads (id, summary, updated_at, data_type, data) VALUES (?, ?, ?, 'json', ?)",
              ("thread-b", "q", "2026-12-01T11:00:00Z", json.dumps(answer).encode())))
    report = _scan(home, tmp_path, "zed")
    [(_, loc)] = _found(report, in_tool)
    assert (loc.provenance.session, loc.provenance.role) == ("thread-a", "tool_result")
    assert loc.path == f"{db}!threads/thread-a"
    [(_, loc)] = _found(report, in_answer)
    assert (loc.provenance.session, loc.provenance.role) == ("thread-b", "assistant")


def test_cursor_bubbles_composer_and_workspace_prompts(home, tmp_path):
    typed, ran, prompted = new_openai(), new_github(), new_anthropic()
    user = home / ".config/Cursor/User"
    output = json.dumps({"output": f"export GITHUB_TOKEN={ran}\n", "exitCode": 0})
    _db(user / "globalStorage/state.vscdb", KV, ITEMS,
        ("INSERT INTO cursorDiskKV VALUES (?, ?)", ("composerData:comp-1", json.dumps(
            {"_v": 3, "composerId": "comp-1", "fullConversationHeadersOnly": [{"bubbleId": "b1", "type": 1},
                                                                             {"bubbleId": "b2", "type": 2}]}))),
        ("INSERT INTO cursorDiskKV VALUES (?, ?)", ("bubbleId:comp-1:b1", json.dumps(
            {"_v": 3, "bubbleId": "b1", "type": 1, "text": f"my key is {typed}"}))),
        ("INSERT INTO cursorDiskKV VALUES (?, ?)", ("bubbleId:comp-1:b2", json.dumps(
            {"_v": 3, "bubbleId": "b2", "type": 2, "text": "Checking the shell.",
             "toolFormerData": {"tool": 15, "name": "run_terminal_cmd", "status": "completed",
                                "rawArgs": json.dumps({"command": "env"}), "result": output}}).encode())),
        ("INSERT INTO ItemTable VALUES (?, ?)", ("workbench.colorTheme", "Dark")))
    _db(user / "workspaceStorage/5f3a9c/state.vscdb", ITEMS,
        ("INSERT INTO ItemTable VALUES (?, ?)", ("aiService.prompts", json.dumps(
            [{"text": f"call it with {prompted}", "commandType": 4}]))))
    report = _scan(home, tmp_path, "cursor")
    [(_, loc)] = _found(report, typed)
    assert (loc.provenance.session, loc.provenance.role) == ("comp-1", "user")
    [(_, loc)] = _found(report, ran)  # inside an escaped JSON string inside the bubble's JSON
    assert (loc.provenance.session, loc.provenance.role) == ("comp-1", "tool_result")
    assert loc.path.endswith("globalStorage/state.vscdb!cursorDiskKV/bubbleId:comp-1:b2")
    [(_, loc)] = _found(report, prompted)
    assert loc.provenance.session == "aiService.prompts" and "workspaceStorage/5f3a9c" in loc.path
    assert not report.problems


def test_windows_and_macos_store_folders(tmp_path):
    home = tmp_path / "home"
    for platform, path in [("windows", "AppData/Local/amazon-q/data.sqlite3"),
                           ("windows", "AppData/Local/Zed/threads/threads.db"),
                           ("macos", "Library/Application Support/Zed/threads/threads.db"),
                           ("macos", "Library/Application Support/Cursor/User/globalStorage/state.vscdb"),
                           ("windows", "AppData/Roaming/Cursor/User/globalStorage/state.vscdb")]:
        target = home / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
        found = discover(Machine.current(home, platform, tmp_path / "sys", {})).files
        assert [f.kind for f in found if f.path == target] == ["store"], (platform, path)
        target.unlink()


def test_a_broken_store_is_a_problem_and_the_good_one_is_still_redacted(home, tmp_path):
    secret = new_github()
    good = _db(home / ".local/share/amazon-q/data.sqlite3", V2,
               ("INSERT INTO conversations_v2 VALUES (?, ?, ?, 1, 2)",
                ("/w", "c1", _amazon_q_value("c1", "hi", f"GITHUB_TOKEN={secret}"))))
    bad = home / ".local/share/zed/threads/threads.db"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not a database at all" * 100)
    report = _scan(home, tmp_path, "amazon-q", "zed")
    assert [p.path for p in report.problems] == [str(bad)] and "store" in report.problems[0].reason
    [outcome] = redact_in_place(report)
    assert (outcome.path, outcome.status) == (str(good), "redacted")
    assert not any(secret.encode() in r.data for r in read_records(good, "amazon-q-sqlite"))
    assert _scan(home, tmp_path, "zed").exit_code == 3


def test_a_zstd_record_that_is_not_zstd_is_a_store_error(tmp_path):
    db = _db(tmp_path / "threads.db", ZED,
             ("INSERT INTO threads (id, summary, updated_at, data_type, data) VALUES ('x', '', '', 'zstd', ?)",
              (b"\x00garbage",)))
    with pytest.raises(StoreError, match="thread x"):
        list(read_records(db, "zed-threads"))


def test_cli_reports_store_findings_with_session_and_role(home, tmp_path):
    secret = new_github()
    _db(home / ".local/share/amazon-q/data.sqlite3", V2,
        ("INSERT INTO conversations_v2 VALUES (?, ?, ?, 1, 2)",
         ("/w", "conv-9", _amazon_q_value("conv-9", "hi", f"GITHUB_TOKEN={secret}"))))
    result = CliRunner().invoke(workstation, ["--home", str(home), "--platform", "linux", "--system-root",
                                              str(tmp_path), "--client", "amazon-q"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "in amazon-q session conv-9 (tool_result)" in result.output
    assert secret not in result.output

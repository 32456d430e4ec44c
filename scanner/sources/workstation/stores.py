"""Transcripts kept in SQLite stores, read as JSON records (one a conversation, thread or message).

Each format is taken from the client's public source or, for closed clients, from public readers of it:
- Amazon Q Developer CLI and Kiro CLI (aws/amazon-q-developer-cli, crates/chat-cli/src/database): a
  `data.sqlite3` in the local data folder (`amazon-q/`, `kiro-cli/`), tables `conversations` (key = the
  working folder, value = the conversation JSON) and, since migration 008, `conversations_v2` (key,
  conversation_id, value); a history entry holds `user` (`Prompt`, `ToolUseResults`) and `assistant`.
- Zed (zed-industries/zed, crates/agent/src/db.rs): `threads/threads.db` in the data folder, table `threads`
  (id, summary, updated_at, data_type, data), data JSON or zstd-compressed JSON of `{"messages": [{"User":
  ...}, {"Agent": {..., "tool_results": ...}}]}`.
- Cursor (closed; the layout several public readers agree on): `User/globalStorage/state.vscdb`, table
  `cursorDiskKV`, keys `bubbleId:<composer>:<bubble>` (one message: `type` 1 user, 2 assistant,
  `toolFormerData` a tool call and its result) and `composerData:<composer>` (older: the whole
  `conversation`); `User/workspaceStorage/<hash>/state.vscdb`, table `ItemTable`, keys
  `aiService.prompts`, `aiService.generations`, `workbench.panel.aichat.view.aichat.chatdata`.
Not read: Windsurf's Cascade history (protobuf files, no public description) and Kiro IDE's chats.

A record's session is the conversation, thread or composer id. Reading never writes: the database is
opened read-only. Guarded by tests/test_workstation_stores.py.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

STORE_FORMATS = ("amazon-q-sqlite", "zed-threads", "cursor-vscdb")
CURSOR_ITEM_KEYS = ("aiService.prompts", "aiService.generations", "workbench.panel.aichat.view.aichat.chatdata",
                    "composer.composerData")
MAX_RECORD_BYTES = 256 << 20  # a zstd thread inflating past this is a bomb, not a chat


class StoreError(Exception):
    """A store that cannot be read: not SQLite, locked, a record that does not decompress."""


@dataclass(frozen=True, slots=True)
class Record:
    """One JSON document of a store: where it is (table and key, for reports) and whose session it is."""

    member: str  # table/key, shown after the store's path: state.vscdb!cursorDiskKV/bubbleId:c1:b1
    session: str
    data: bytes


def read_records(path: Path, fmt: str) -> Iterator[Record]:
    """Every JSON record of one store, in key order; StoreError when the file cannot be read as one."""
    if fmt not in STORE_FORMATS:
        raise ValueError(f"unknown store format {fmt!r}")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(str(exc)) from None
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        reader = {"amazon-q-sqlite": _amazon_q, "zed-threads": _zed, "cursor-vscdb": _cursor}[fmt]
        yield from reader(conn, tables)
    except sqlite3.Error as exc:
        raise StoreError(str(exc)) from None
    finally:
        conn.close()


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass") if value is not None else b""


def _amazon_q(conn: sqlite3.Connection, tables: set[str]) -> Iterator[Record]:
    if "conversations_v2" in tables:
        for key, conversation, value in conn.execute(
                "SELECT key, conversation_id, value FROM conversations_v2 ORDER BY key, conversation_id"):
            yield Record(f"conversations_v2/{key}/{conversation}", str(conversation), _bytes(value))
    if "conversations" in tables:  # before migration 008 (kept by the migration, so both may hold a copy)
        for key, value in conn.execute("SELECT key, value FROM conversations ORDER BY key"):
            yield Record(f"conversations/{key}", _conversation_id(_bytes(value)) or str(key), _bytes(value))


def _conversation_id(data: bytes) -> str:
    import json

    try:
        doc = json.loads(data)
    except ValueError:
        return ""
    return str(doc.get("conversation_id") or "") if isinstance(doc, dict) else ""


def _zed(conn: sqlite3.Connection, tables: set[str]) -> Iterator[Record]:
    if "threads" not in tables:
        return
    for thread, data_type, data in conn.execute("SELECT id, data_type, data FROM threads ORDER BY id"):
        raw = _bytes(data)
        if data_type == "zstd":
            raw = _inflate(raw, f"thread {thread}")
        elif data_type != "json":
            raise StoreError(f"thread {thread}: unknown data type {data_type!r}")
        yield Record(f"threads/{thread}", str(thread), raw)


def _inflate(data: bytes, what: str) -> bytes:
    import zstandard

    try:
        parts, size = [], 0
        with zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True) as reader:
            while size <= MAX_RECORD_BYTES and (part := reader.read(1 << 20)):  # bounded, never the whole bomb
                parts.append(part)
                size += len(part)
        out = b"".join(parts)
    except zstandard.ZstdError as exc:
        raise StoreError(f"{what}: not zstd ({exc})") from None
    if len(out) > MAX_RECORD_BYTES:
        raise StoreError(f"{what}: inflates past {MAX_RECORD_BYTES >> 20} MB")
    return out


def _cursor(conn: sqlite3.Connection, tables: set[str]) -> Iterator[Record]:
    if "cursorDiskKV" in tables:
        for key, value in conn.execute("SELECT key, value FROM cursorDiskKV WHERE key LIKE 'bubbleId:%' "
                                       "OR key LIKE 'composerData:%' ORDER BY key"):
            parts = str(key).split(":")
            yield Record(f"cursorDiskKV/{key}", parts[1] if len(parts) > 1 else str(key), _bytes(value))
    if "ItemTable" in tables:
        marks = ", ".join("?" * len(CURSOR_ITEM_KEYS))
        for key, value in conn.execute(f"SELECT key, value FROM ItemTable WHERE key IN ({marks}) ORDER BY key",
                                       CURSOR_ITEM_KEYS):
            yield Record(f"ItemTable/{key}", str(key), _bytes(value))

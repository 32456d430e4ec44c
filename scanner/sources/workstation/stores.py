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
opened read-only. `rewrite_records` is the one writer (--redact): under the write lock it reads the records
again, refuses a store whose records are not those scanned (`digest`) or that a running client holds locked,
takes a backup, and writes each changed record back in its own encoding (TEXT or BLOB, JSON or zstd) in the
same transaction, which commits only if `PRAGMA integrity_check` passes. Guarded by
tests/test_workstation_stores.py and tests/test_workstation_store_redact.py.
"""
from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

STORE_FORMATS = ("amazon-q-sqlite", "zed-threads", "cursor-vscdb")
CURSOR_ITEM_KEYS = ("aiService.prompts", "aiService.generations", "workbench.panel.aichat.view.aichat.chatdata",
                    "composer.composerData")
MAX_RECORD_BYTES = 256 << 20  # a zstd thread inflating past this is a bomb, not a chat


LOCK_WAIT = 2.0  # seconds --redact waits for a client's write lock before saying the store is in use


class StoreError(Exception):
    """A store that cannot be read: not SQLite, locked, a record that does not decompress."""


class StoreLocked(StoreError):
    """Another process (the client, running) holds the store's lock: it is not rewritten under it."""


class StoreChanged(StoreError):
    """The store's records are not those that were scanned: it is not rewritten."""


@dataclass(frozen=True, slots=True)
class Record:
    """One JSON document of a store: where it is (table and key, for reports), whose session it is, and how to
    write it back (the row's key columns, the value column, zstd or not, TEXT or BLOB)."""

    member: str  # table/key, shown after the store's path: state.vscdb!cursorDiskKV/bubbleId:c1:b1
    session: str
    data: bytes
    table: str = ""
    keys: tuple[tuple[str, object], ...] = ()
    column: str = "value"
    zstd: bool = False
    text: bool = True  # the value was stored as TEXT (else a BLOB)


def fold(h: hashlib._Hash, record: Record) -> None:
    """Add one record to a digest of a store's records (`digest`), in reading order."""
    h.update(f"{len(record.member)}:{record.member}:{len(record.data)}:".encode("utf-8", "surrogatepass"))
    h.update(record.data)


def digest(records: Iterable[Record]) -> str:
    """What a scan read of a store (every record's place and decoded bytes): --redact refuses a store whose
    records no longer give the same digest. Unlike the file's bytes, it does not change when the client's
    write-ahead log is checkpointed."""
    h = hashlib.sha256()
    for record in records:
        fold(h, record)
    return h.hexdigest()


def read_records(path: Path, fmt: str) -> Iterator[Record]:
    """Every JSON record of one store, in key order; StoreError when the file cannot be read as one."""
    if fmt not in STORE_FORMATS:
        raise ValueError(f"unknown store format {fmt!r}")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(str(exc)) from None
    try:
        yield from _records(conn, fmt)
    except sqlite3.Error as exc:
        raise StoreError(str(exc)) from None
    finally:
        conn.close()


def rewrite_records(path: Path, fmt: str, expected: str, change: Callable[[Record], bytes | None],
                    backup: Callable[[sqlite3.Connection], Path]) -> tuple[int, Path | None]:
    """Write back each record `change` returns new bytes for, in one transaction, after `backup(conn)` copied
    the store as it is; returns (records rewritten, backup). StoreLocked when a running client holds the lock
    past LOCK_WAIT, StoreChanged when the records are not those whose digest is `expected`; the store is then
    untouched, as it is when `change` or `backup` raises."""
    try:
        conn = sqlite3.connect(path, timeout=LOCK_WAIT, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(str(exc)) from None
    try:
        conn.execute("PRAGMA secure_delete = ON")  # the old values' bytes are zeroed, not left in free pages
        done = _rewrite(conn, fmt, expected, change, backup)
        if done[0]:
            _checkpoint(conn)
        return done
    except sqlite3.Error as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreLocked("locked by a running client: close it, then run --redact again") from None
        raise StoreError(str(exc)) from None
    finally:
        conn.close()


def _rewrite(conn: sqlite3.Connection, fmt: str, expected: str, change: Callable[[Record], bytes | None],
             backup: Callable[[sqlite3.Connection], Path]) -> tuple[int, Path | None]:
    """A read transaction first (SQLite's backup cannot copy from a connection that is writing), upgraded to a
    write by the first UPDATE: no other writer commits in between (rollback journal: our read lock holds them
    off; WAL: a stale snapshot makes the upgrade fail busy), so the backup, the records checked and the records
    rewritten are one version of the store. Committed only if `PRAGMA integrity_check` passes."""
    conn.execute("BEGIN")
    try:
        records = list(_records(conn, fmt))
        if digest(records) != expected:
            raise StoreChanged("changed since it was read; scan it again")
        changed = [(r, new) for r in records if (new := change(r)) is not None]
        if not changed:
            return 0, None
        saved = backup(conn)
        for record, data in changed:
            where = " AND ".join(f'"{name}" = ?' for name, _ in record.keys)
            conn.execute(f'UPDATE "{record.table}" SET "{record.column}" = ? WHERE {where}',
                         [_encoded(record, data), *(value for _, value in record.keys)])
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise StoreError(f"integrity check failed after rewriting: {check}")
        conn.execute("COMMIT")
        return len(changed), saved
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def _checkpoint(conn: sqlite3.Connection) -> None:
    """In WAL mode, the old pages out of the main file now; a client reading them keeps them a while (no error:
    the records are rewritten either way)."""
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error:
        pass


def _records(conn: sqlite3.Connection, fmt: str) -> Iterator[Record]:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    reader = {"amazon-q-sqlite": _amazon_q, "zed-threads": _zed, "cursor-vscdb": _cursor}[fmt]
    return reader(conn, tables)


def _encoded(record: Record, data: bytes) -> str | bytes:
    """A record's new bytes as the store kept the old: zstd-compressed, and TEXT or BLOB."""
    if record.zstd:
        import zstandard

        data = zstandard.ZstdCompressor(level=3).compress(data)
    return data.decode("utf-8", "surrogatepass") if record.text else data


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass") if value is not None else b""


def _amazon_q(conn: sqlite3.Connection, tables: set[str]) -> Iterator[Record]:
    if "conversations_v2" in tables:
        for key, conversation, value in conn.execute(
                "SELECT key, conversation_id, value FROM conversations_v2 ORDER BY key, conversation_id"):
            yield Record(f"conversations_v2/{key}/{conversation}", str(conversation), _bytes(value),
                         "conversations_v2", (("key", key), ("conversation_id", conversation)), "value",
                         text=not isinstance(value, bytes))
    if "conversations" in tables:  # before migration 008 (kept by the migration, so both may hold a copy)
        for key, value in conn.execute("SELECT key, value FROM conversations ORDER BY key"):
            yield Record(f"conversations/{key}", _conversation_id(_bytes(value)) or str(key), _bytes(value),
                         "conversations", (("key", key),), "value", text=not isinstance(value, bytes))


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
        yield Record(f"threads/{thread}", str(thread), raw, "threads", (("id", thread),), "data",
                     zstd=data_type == "zstd", text=not isinstance(data, bytes))


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
            yield Record(f"cursorDiskKV/{key}", parts[1] if len(parts) > 1 else str(key), _bytes(value),
                         "cursorDiskKV", (("key", key),), "value", text=not isinstance(value, bytes))
    if "ItemTable" in tables:
        marks = ", ".join("?" * len(CURSOR_ITEM_KEYS))
        for key, value in conn.execute(f"SELECT key, value FROM ItemTable WHERE key IN ({marks}) ORDER BY key",
                                       CURSOR_ITEM_KEYS):
            yield Record(f"ItemTable/{key}", str(key), _bytes(value), "ItemTable", (("key", key),), "value",
                         text=not isinstance(value, bytes))

"""--redact inside chat databases (issue 23): each secret masked inside the stored JSON (zstd inflated and
compressed again) in one SQLite transaction, after a 0600 backup; a database whose records changed since the
scan, or that a running client holds locked, is left as it was. Real SQLite files in each client's shape,
and a real second process holding the lock."""
from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner

from scanner.cli.workstation import workstation
from scanner.pipeline.workstation import redact_in_place
from scanner.sources.workstation.stores import read_records
from tests.test_workstation_stores import ITEMS, KV, V2, ZED, _amazon_q_value, _db, _scan
from tests.workstation_home import new_anthropic, new_github, new_openai


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def _stores(home: Path) -> dict[str, tuple[Path, str, list[str]]]:
    """One store per client format, each holding secrets in TEXT and BLOB values, JSON and zstd, escaped strings."""
    q_new, q_old, zed_zstd, zed_json, kv_text, kv_blob, item = (
        new_github(), new_openai(), new_anthropic(), new_github(), new_openai(), new_github(), new_anthropic())
    q = _db(home / ".local/share/amazon-q/data.sqlite3", V2,
            ("CREATE TABLE conversations (key TEXT PRIMARY KEY, value TEXT)", ()),
            ("INSERT INTO conversations_v2 VALUES (?, ?, ?, 1, 2)",
             ("/work/shop", "c1", _amazon_q_value("c1", "hi", f"GITHUB_TOKEN={q_new}\n\tDEBUG=\"1\"\n"))),
            ("INSERT INTO conversations VALUES (?, ?)", ("/work/old", _amazon_q_value("c0", f"key {q_old}", "ok"))))
    thread = {"messages": [{"Agent": {"content": [{"Text": "env"}], "tool_results": {"t1": {
        "content": {"Text": f"ANTHROPIC_API_KEY={zed_zstd}\n"}}}}}]}
    answer = {"messages": [{"Agent": {"content": [{"Text": f"Set GH_TOKEN={zed_json}."}], "tool_results": {}}}]}
    zed = _db(home / ".local/share/zed/threads/threads.db", ZED,
              ("INSERT INTO threads (id, summary, updated_at, data_type, data) VALUES ('a', '', '', 'zstd', ?)",
               (zstandard.ZstdCompressor(level=3).compress(json.dumps(thread).encode()),)),
              ("INSERT INTO threads (id, summary, updated_at, data_type, data) VALUES ('b', '', '', 'json', ?)",
               (json.dumps(answer).encode(),)))
    output = json.dumps({"output": f"export GITHUB_TOKEN={kv_blob}\n", "exitCode": 0})
    cursor = _db(home / ".config/Cursor/User/globalStorage/state.vscdb", KV, ITEMS,
                 ("INSERT INTO cursorDiskKV VALUES (?, ?)", ("bubbleId:comp-1:b1", json.dumps(
                     {"type": 1, "text": f"my key is {kv_text}"}))),
                 ("INSERT INTO cursorDiskKV VALUES (?, ?)", ("bubbleId:comp-1:b2", json.dumps(
                     {"type": 2, "toolFormerData": {"name": "run_terminal_cmd", "result": output}}).encode())),
                 ("INSERT INTO ItemTable VALUES (?, ?)", ("aiService.prompts", json.dumps([{"text": item}]))),
                 ("INSERT INTO ItemTable VALUES (?, ?)", ("workbench.colorTheme", "Dark")))
    return {"amazon-q": (q, "amazon-q-sqlite", [q_new, q_old]), "zed": (zed, "zed-threads", [zed_zstd, zed_json]),
            "cursor": (cursor, "cursor-vscdb", [kv_text, kv_blob, item])}


def _types(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        value = {"threads": "data"}
        rows = [(t, *r) for t in tables
                for r in conn.execute(f'SELECT rowid, typeof("{value.get(t, "value")}") FROM "{t}" ORDER BY rowid')]
    conn.close()
    return rows


def test_every_store_is_masked_in_place_after_a_private_backup(home, tmp_path):
    stores = _stores(home)
    before = {client: _types(db) for client, (db, _fmt, _s) in stores.items()}
    report = _scan(home, tmp_path, "amazon-q", "zed", "cursor")
    outcomes = {o.path: o for o in redact_in_place(report)}
    for client, (db, fmt, planted) in stores.items():
        o = outcomes[str(db)]
        assert o.status == "redacted", (client, o.reason)
        assert o.masked >= len(planted)
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
        assert _types(db) == before[client]  # TEXT stays TEXT, BLOB stays BLOB
        records = list(read_records(db, fmt))  # zstd still inflates
        text = b"\n".join(r.data for r in records)
        for r in records:
            if r.data != b"Dark":
                json.loads(r.data)
        raw = db.read_bytes() + (db.with_name(db.name + "-wal").read_bytes()
                                 if db.with_name(db.name + "-wal").exists() else b"")
        for secret in planted:
            assert secret.encode() not in text and secret.encode() not in raw, client
        backup = Path(o.backup)
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
        kept = b"\n".join(r.data for r in read_records(backup, fmt))
        assert all(secret.encode() in kept for secret in planted)  # the backup holds the originals
    again = _scan(home, tmp_path, "amazon-q", "zed", "cursor")
    assert not [f for f in again.findings if f.kind != "config-risk"]


def test_a_store_changed_since_the_scan_is_left_alone(home, tmp_path):
    db, fmt, [secret, _] = _stores(home)["amazon-q"]
    report = _scan(home, tmp_path, "amazon-q")
    with sqlite3.connect(db) as conn:  # the client wrote a new message after the scan
        conn.execute("UPDATE conversations_v2 SET value = ? WHERE conversation_id = 'c1'",
                     [_amazon_q_value("c1", "and one more", f"GITHUB_TOKEN={secret}")])
    conn.close()
    kept = [r.data for r in read_records(db, fmt)]
    [o] = redact_in_place(report)
    assert o.status == "changed" and "scan it again" in o.reason and not o.backup
    assert [r.data for r in read_records(db, fmt)] == kept
    assert not list(db.parent.glob("*.sprawl-backup*"))


HOLD = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode = " + sys.argv[2])
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE ItemTable SET value = 'Light' WHERE key = 'workbench.colorTheme'")
print("held", flush=True)
sys.stdin.readline()
"""


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_a_store_a_running_client_holds_locked_is_refused_in_one_line(home, tmp_path, journal):
    """The client is writing (its transaction open): the store can be read and scanned, not rewritten."""
    db, fmt, _planted = _stores(home)["cursor"]
    kept = [r.data for r in read_records(db, fmt)]
    client = subprocess.Popen([sys.executable, "-c", HOLD, str(db), journal], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert client.stdout is not None and client.stdout.readline() == "held\n"
        result = CliRunner().invoke(workstation, ["--home", str(home), "--platform", "linux", "--system-root",
                                                  str(tmp_path), "--client", "cursor", "--redact"],
                                    catch_exceptions=False)
    finally:
        client.communicate("\n", timeout=30)
    lines = [line for line in result.output.splitlines() if line.startswith("failed ")]
    assert result.exit_code == 3, result.output
    assert lines == [f"failed {db}: locked by a running client: close it, then run --redact again"], result.output
    assert "Traceback" not in result.output
    assert [r.data for r in read_records(db, fmt)] == kept
    assert not list(db.parent.glob("*.sprawl-backup*"))


def test_cli_redacts_a_store_and_says_where_the_backup_is(home, tmp_path):
    db, fmt, planted = _stores(home)["zed"]
    backups = tmp_path / "backups"
    result = CliRunner().invoke(workstation, ["--home", str(home), "--platform", "linux", "--system-root",
                                              str(tmp_path), "--client", "zed", "--redact", "--backup-dir",
                                              str(backups)], catch_exceptions=False)
    assert result.exit_code == 1, result.output  # findings were found (and are now masked)
    [line] = [line for line in result.output.splitlines() if line.startswith("redacted ")]
    backup = backups / ".local/share/zed/threads/threads.db"
    assert line.startswith(f"redacted {db}: ") and str(backup) in line
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert not any(s in result.output for s in planted)
    assert not any(s.encode() in r.data for r in read_records(db, fmt) for s in planted)

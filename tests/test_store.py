"""The datastore on real SQLite files: schema and migrations, file modes, keyed fingerprints, no plaintext,
--db on scan commands, findings filters and formats, triage."""
from __future__ import annotations

import csv
import io
import json
import sqlite3
import stat
from pathlib import Path

import pytest

from scanner.store import Store, StoreError
from scanner.store.keys import credential_key, normalize
from scanner.store.schema import SCHEMA_VERSION
from tests.conftest import GITHUB_TOKEN, run_sprawl
from tests.gitutil import commit, init_repo
from tests.repogen import github_token

KEY = "test-organisation-key"
KEY_ENV = {"SPRAWL_FINGERPRINT_KEY": KEY}
TABLES = {"meta", "scans", "repositories", "blobs", "findings", "locations", "identities", "credentials", "owners",
          "links", "scores"}


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_new_datastore_is_private_versioned_and_has_every_table(tmp_path):
    db = tmp_path / "state" / "sprawl.db"
    Store(db, KEY.encode()).close()
    assert mode(db) == 0o600 and mode(db.parent) == 0o700
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert TABLES <= names
    conn.close()
    Store(db, KEY.encode()).close()  # reopening migrates nothing and keeps the data


def test_newer_schema_and_other_key_and_corrupt_file_are_refused(tmp_path):
    db = tmp_path / "s.db"
    Store(db, b"one key").close()
    with pytest.raises(StoreError, match="different fingerprint key"):
        Store(db, b"another key")
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this sprawl"):
        Store(db)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    res = run_sprawl("findings", "--db", str(junk))
    assert res.returncode == 2 and b"not a usable sprawl datastore" in res.stderr and b"Traceback" not in res.stderr
    res = run_sprawl("findings", "--db", str(tmp_path / "absent.db"))
    assert res.returncode == 2 and b"no datastore" in res.stderr


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    store = Store(tmp_path / "s.db", KEY.encode())
    with pytest.raises(RuntimeError):
        with store.atomic():
            scan = store.db["scans"].insert({"kind": "sweep", "started": "now"}).last_pk
            store.mark_blobs(scan, ["a" * 40], "v1")
            raise RuntimeError("crash mid-write")
    assert store.db.execute("SELECT count(*) FROM scans").fetchone()[0] == 0
    assert store.db.execute("SELECT count(*) FROM blobs").fetchone()[0] == 0
    store.close()


def test_fingerprint_command_matches_the_datastore_key(tmp_path):
    res = run_sprawl("fingerprint", stdin=(GITHUB_TOKEN + "\n").encode(), env=KEY_ENV)
    assert res.returncode == 0
    value = res.stdout.decode().strip()
    assert value == credential_key(GITHUB_TOKEN, KEY.encode()) and GITHUB_TOKEN not in res.stdout.decode()
    other = run_sprawl("fingerprint", stdin=GITHUB_TOKEN.encode(), env={"SPRAWL_FINGERPRINT_KEY": "other"})
    assert other.stdout.decode().strip() != value
    assert run_sprawl("fingerprint", stdin=b"  \n", env=KEY_ENV).returncode == 2


def test_local_key_is_generated_once_with_mode_0600(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "SPRAWL_FINGERPRINT_KEY": ""}
    first = run_sprawl("fingerprint", stdin=b"s3cr3t-value", env=env).stdout
    key = tmp_path / "cfg" / "sprawl" / "fingerprint.key"
    assert mode(key) == 0o600 and len(key.read_text().strip()) == 64
    assert run_sprawl("fingerprint", stdin=b"s3cr3t-value", env=env).stdout == first
    res = run_sprawl("fingerprint", "--key-file", str(tmp_path / "missing.key"), stdin=b"x", env=env)
    assert res.returncode == 2 and b"key file not found" in res.stderr


def test_normalization_keys_rewrapped_values_alike():
    key = b"k"
    assert credential_key(" tok\r\n", key) == credential_key("tok", key)
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN\nBgkqhkiG9w0B\n-----END PRIVATE KEY-----"
    rewrapped = "-----BEGIN PRIVATE KEY-----\r\nMIIEvQIBADANBgkq\r\nhkiG9w0B\r\n-----END PRIVATE KEY-----\r\n"
    assert normalize(pem) == normalize(rewrapped)


@pytest.fixture
def two_copies(tmp_path) -> Path:
    other = github_token("second")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text(f'TOKEN = "{GITHUB_TOKEN}"\n')
    (tmp_path / "src" / "b.py").write_text(f'X = 1\nTOKEN = "{GITHUB_TOKEN}"\nOTHER = "{other}"\n')
    return tmp_path


def test_scan_with_db_records_one_finding_per_credential_and_no_plaintext(two_copies):
    db = two_copies / "out" / "s.db"
    res = run_sprawl("scan", str(two_copies / "src"), "--db", str(db), env=KEY_ENV)
    assert res.returncode == 1 and b"recorded as scan 1" in res.stderr
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT id, credential_key, secret FROM findings").fetchall()
    assert len(rows) == 2 and all(secret is None for _id, _key, secret in rows)
    fid = [r[0] for r in rows if r[1] == credential_key(GITHUB_TOKEN, KEY.encode())][0]
    paths = sorted(r[0].rsplit("/", 1)[-1] for r in conn.execute("SELECT path FROM locations WHERE finding_id = ?", [fid]))
    assert paths == ["a.py", "b.py"]
    conn.close()
    raw = b"".join(p.read_bytes() for p in db.parent.iterdir())
    assert GITHUB_TOKEN.encode() not in raw
    run_sprawl("scan", str(two_copies / "src"), "--db", str(db), env=KEY_ENV)  # again: nothing duplicated
    assert sqlite3.connect(db).execute("SELECT count(*) FROM locations").fetchone()[0] == 3


def test_store_secrets_is_the_only_way_to_keep_plaintext(two_copies):
    db = two_copies / "s.db"
    run_sprawl("scan", str(two_copies / "src"), "--db", str(db), "--store-secrets", env=KEY_ENV)
    assert (GITHUB_TOKEN,) in sqlite3.connect(db).execute("SELECT secret FROM findings").fetchall()
    hidden = json.loads(run_sprawl("findings", "--db", str(db), "-f", "json").stdout)["findings"]
    assert all("secret" not in f for f in hidden)
    shown = json.loads(run_sprawl("findings", "--db", str(db), "-f", "json", "--show-secrets").stdout)["findings"]
    assert GITHUB_TOKEN in {f["secret"] for f in shown}


def test_db_alone_records_to_the_default_path(two_copies, tmp_path):
    """Outside git: the user data directory, never the scanned folder (tests/test_db_paths.py has the rest)."""
    data = tmp_path / "data"
    res = run_sprawl("scan", "src", "--db", cwd=two_copies, env={**KEY_ENV, "XDG_DATA_HOME": str(data)})
    assert res.returncode == 1 and (data / "secret-sprawl" / "sprawl.db").exists()
    assert mode(data / "secret-sprawl") == 0o700 and not (two_copies / ".sprawl").exists()


def test_git_and_staged_record_too(tmp_path):
    repo = init_repo(tmp_path / "repo")
    commit(repo, {"config.py": f'TOKEN = "{GITHUB_TOKEN}"\n'}, "leak")
    db = tmp_path / "s.db"
    assert run_sprawl("git", str(repo), "--db", str(db), env=KEY_ENV).returncode == 1
    (repo / "new.py").write_text(f'T = "{github_token("staged")}"\n')
    subprocess_git = run_sprawl("staged", "--db", str(db), cwd=repo, env=KEY_ENV)
    assert subprocess_git.returncode in (0, 1)  # new.py is not staged: nothing to add
    conn = sqlite3.connect(db)
    kinds = [r[0] for r in conn.execute("SELECT kind FROM scans ORDER BY id")]
    assert kinds == ["git", "staged"]
    [(source, commit_id, repo_name)] = conn.execute('SELECT source, "commit", repo FROM locations').fetchall()
    assert source == "git" and len(commit_id) == 40 and repo_name == repo.name  # the name, as a sweep records it


@pytest.fixture
def recorded(two_copies) -> Path:
    db = two_copies / "s.db"
    (two_copies / "src" / "c.py").write_text('db_password = "password123"\n')
    run_sprawl("scan", str(two_copies / "src"), "--db", str(db), "--min-confidence", "low", env=KEY_ENV)
    return db


def test_findings_filters(recorded):
    def listed(*args):
        res = run_sprawl("findings", "--db", str(recorded), "-f", "json", *args)
        assert res.returncode in (0, 1), res.stderr.decode()
        return json.loads(res.stdout)["findings"]

    everything = listed("--min-confidence", "low")
    assert len(everything) == 3 and len(listed()) == 2  # the weak password is below medium
    assert {f["rule_id"] for f in listed("--rule", "github-pat-classic")} == {"github-pat-classic"}
    assert len(listed("--provider", "github")) == 2 and listed("--provider", "nobody") == []
    assert listed("--new-since", "1") == [] and len(listed("--new-since", "0")) == 2
    assert len(listed("--status", "open")) == 2 and listed("--status", "allowed") == []


def test_findings_in_every_format(recorded):
    for fmt in ("text", "json", "jsonl", "sarif", "csv"):
        res = run_sprawl("findings", "--db", str(recorded), "-f", fmt)
        assert res.returncode == 1, (fmt, res.stderr.decode())
        out = res.stdout.decode()
        assert GITHUB_TOKEN not in out
        if fmt == "sarif":
            assert len(json.loads(out)["runs"][0]["results"]) == 3  # three locations of two credentials
        elif fmt == "csv":
            assert len(list(csv.DictReader(io.StringIO(out)))) >= 2
        elif fmt == "jsonl":
            assert len(out.splitlines()) == 2


def test_status_sets_triage_and_rejects_unknown_fingerprints(recorded):
    key = credential_key(GITHUB_TOKEN, KEY.encode())
    res = run_sprawl("status", key[:12], "--set", "allowed", "--reason", "test fixture", "--db", str(recorded))
    assert res.returncode == 0, res.stderr.decode()
    [f] = json.loads(run_sprawl("findings", "--db", str(recorded), "-f", "json", "--status", "allowed").stdout)[
        "findings"]
    assert f["preview"].startswith("ghp_") and "status allowed: test fixture" in f["reasons"]
    res = run_sprawl("status", "deadbeefdeadbeef", "--set", "revoked", "--reason", "x", "--db", str(recorded))
    assert res.returncode == 2 and b"no finding with fingerprint" in res.stderr
    res = run_sprawl("status", "abc", "--set", "revoked", "--reason", "x", "--db", str(recorded))
    assert res.returncode == 2 and b"at least 8 characters" in res.stderr

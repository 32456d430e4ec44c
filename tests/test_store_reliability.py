"""The datastore under concurrency, faults and odd inputs (issue 17), with real processes, real git
repositories and real SQLite files: concurrent sweeps and scans on one file, another application's file,
a file with corrupt pages, a stale "running" sweep, a kill -9 of a sweep's parent, racing first runs
creating the fingerprint key, a full disk (a file-size limit, or a small tmpfs), a file name that is not
UTF-8, and a sweep with a failed repository."""
from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import string
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, run_sprawl
from tests.repogen import github_token, make_repo

KEY_ENV = {"SPRAWL_FINGERPRINT_KEY": "test-organisation-key"}
SPRAWL = [sys.executable, "-m", "scanner.cli"]
ENV = {**os.environ, **KEY_ENV, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line_error(res: subprocess.CompletedProcess | int, err: bytes = b"", code: int = 2) -> str:
    rc, err = (res.returncode, res.stderr) if isinstance(res, subprocess.CompletedProcess) else (res, err)
    text = err.decode(errors="replace")
    assert rc == code, text
    assert "Traceback" not in text and text.count("\n") == 1, text
    return text


def start(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([*SPRAWL, *args], cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            **kw)


def finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, bytes]:
    _out, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def stored_findings(db: Path) -> list[dict]:
    res = run_sprawl("findings", "--db", str(db), "-f", "json", "--min-confidence", "low", env=KEY_ENV)
    assert res.returncode in (0, 1), res.stderr.decode()
    return json.loads(res.stdout)["findings"]


def build_org(root: Path, prefix: str, repos: int) -> tuple[Path, set[str]]:
    """`repos` repositories, each with two commits and two secrets of its own."""
    secrets = set()
    for i in range(repos):
        a, b = github_token(f"{prefix}-a-{i}"), github_token(f"{prefix}-b-{i}")
        secrets |= {a, b}
        make_repo(root / f"{prefix}{i}", [{"app.py": f'TOKEN = "{a}"\n', "README": f"{prefix} {i}\n"},
                                          {"deploy.sh": f"export GH={b}\n"}])
    return root, secrets


def portable(secret: str) -> str:
    """The token's fingerprint as the datastore shows it: the portable one, keyed (issue 17)."""
    from scanner.findings.collect import portable_fingerprint
    from scanner.store.keys import keyed_fingerprint

    return keyed_fingerprint(portable_fingerprint("github-pat-classic", secret), KEY_ENV["SPRAWL_FINGERPRINT_KEY"].encode())


# --- 1. concurrent writers --------------------------------------------------------------------------

def test_two_concurrent_sweeps_of_different_repositories_both_record_everything(tmp_path):
    """Each sweep commits a transaction per repository; with a deferred BEGIN (read, then write) the
    second writer failed with "database is locked"."""
    one, secrets_one = build_org(tmp_path / "one", "alpha", 24)
    two, secrets_two = build_org(tmp_path / "two", "beta", 24)
    db = tmp_path / "org.db"
    assert run_sprawl("sweep", str(tmp_path / "one" / "alpha0"), "--db", str(db), env=KEY_ENV).returncode == 1
    procs = [start("sweep", str(one), "--db", str(db), "-j", "2"), start("sweep", str(two), "--db", str(db), "-j", "2")]
    results = [finish(p) for p in procs]
    for rc, err in results:
        assert rc == 1, err.decode()
        assert b"Traceback" not in err and b"locked" not in err
    found = {f["fingerprint"] for f in stored_findings(db)}
    assert {portable(s) for s in secrets_one | secrets_two} <= found
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT status, count(*) FROM scans GROUP BY status").fetchall() == [("complete", 3)]
    assert conn.execute("SELECT count(*) FROM repositories WHERE last_scan_id IS NOT NULL").fetchone()[0] == 48
    conn.close()


def test_six_concurrent_scans_on_a_new_database_all_succeed(tmp_path):
    """The migration decides what to create only once it holds the write lock: six processes opening a
    new file at once create the schema once, and every scan completes."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(6):
        (src / f"s{i}.py").write_text(f'TOKEN = "{github_token(f"six-{i}")}"\n')
    for attempt in range(3):
        db = tmp_path / f"new{attempt}.db"
        procs = [start("scan", str(src / f"s{i}.py"), "--db", str(db)) for i in range(6)]
        for rc, err in (finish(p) for p in procs):
            assert rc == 1, err.decode()
        conn = sqlite3.connect(db)
        assert conn.execute("SELECT status, count(*) FROM scans GROUP BY status").fetchall() == [("complete", 6)]
        assert conn.execute("SELECT count(*) FROM findings").fetchone()[0] == 6
        assert conn.execute("PRAGMA user_version").fetchone()[0] >= 2
        conn.close()


# --- 2. a file that is not sprawl's, a damaged file --------------------------------------------------

SPRAWL_APPLICATION_ID = 0x5350524C  # "SPRL", scanner.store.schema.APPLICATION_ID


def test_another_applications_database_is_refused_and_left_unchanged(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.py").write_text(f'TOKEN = "{github_token("foreign")}"\n')
    notes = tmp_path / "notes.db"
    conn = sqlite3.connect(notes)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
    conn.commit()
    conn.close()
    other = tmp_path / "other-app.db"
    conn = sqlite3.connect(other)
    conn.execute("PRAGMA application_id = 1598903374")  # another application's id, no tables yet
    conn.commit()
    conn.close()
    repo = make_repo(tmp_path / "repo", [{"a.py": f'T = "{github_token("foreign-repo")}"\n'}])
    for db in (notes, other):
        before = sha(db)
        for res in (run_sprawl("findings", "--db", str(db), env=KEY_ENV),
                    run_sprawl("scan", str(src), "--db", str(db), env=KEY_ENV),
                    run_sprawl("sweep", str(repo), "--db", str(db), env=KEY_ENV),
                    run_sprawl("status", "deadbeefdeadbeef", "--set", "revoked", "--reason", "x", "--db", str(db))):
            assert "is not a sprawl datastore" in one_line_error(res)
        assert sha(db) == before
        assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0
    conn = sqlite3.connect(notes)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    mine = tmp_path / "mine.db"
    assert run_sprawl("scan", str(src), "--db", str(mine), env=KEY_ENV).returncode == 1
    assert sqlite3.connect(mine).execute("PRAGMA application_id").fetchone()[0] == SPRAWL_APPLICATION_ID


def test_a_datastore_from_before_the_application_id_is_adopted(tmp_path):
    """A v1 file (exactly sprawl's tables, user_version 1, no id) is sprawl's own: migrated, not refused."""
    from scanner.store.schema import _V1, APPLICATION_ID

    db = tmp_path / "v1.db"
    conn = sqlite3.connect(db)
    conn.executescript(_V1)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.py").write_text(f'TOKEN = "{github_token("v1")}"\n')
    assert run_sprawl("scan", str(src), "--db", str(db), env=KEY_ENV).returncode == 1
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert "process" in {r[1] for r in conn.execute("PRAGMA table_info(scans)")}
    conn.close()


def _page_of(db: Path, table: str) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
    conn.close()
    return page_size, root


def test_a_corrupt_datastore_is_refused_and_not_written(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(40):
        (src / f"s{i}.py").write_text(f'TOKEN = "{github_token(f"corrupt-{i}")}"\n')
    db = tmp_path / "s.db"
    assert run_sprawl("scan", str(src), "--db", str(db), env=KEY_ENV).returncode == 1
    page_size, root = _page_of(db, "locations")
    data = bytearray(db.read_bytes())
    # Overwrite the b-tree header and cell pointers of the locations table's root page.
    offset = (root - 1) * page_size
    data[offset:offset + 64] = bytes([0x0D, 0xFF, 0xFF, 0x7F] * 16)
    db.write_bytes(bytes(data))
    try:
        check = sqlite3.connect(db).execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        check = str(exc)
    assert check != "ok"
    before = sha(db)
    (src / "new.py").write_text(f'TOKEN = "{github_token("after-corruption")}"\n')
    assert "datastore is damaged" in one_line_error(run_sprawl("scan", str(src), "--db", str(db), env=KEY_ENV))
    repo = make_repo(tmp_path / "repo", [{"a.py": f'T = "{github_token("corrupt-repo")}"\n'}])
    assert "datastore is damaged" in one_line_error(run_sprawl("sweep", str(repo), "--db", str(db), env=KEY_ENV))
    assert sha(db) == before
    listed = run_sprawl("findings", "--db", str(db), env=KEY_ENV)  # reading may fail: one line, never a traceback
    if listed.returncode == 2:
        one_line_error(listed)
    else:
        assert listed.returncode in (0, 1) and b"Traceback" not in listed.stderr


# --- 3. a stale "running" sweep -----------------------------------------------------------------------

def _big_repo(path: Path, files: int = 180, lines: int = 40) -> Path:
    """A repository whose sweep takes seconds: files of settings that look like secrets (each one
    checked, most kept as low-confidence findings) and one real-looking token."""
    rnd = random.Random(path.name)
    alphabet = string.ascii_letters + string.digits
    tree = {f"conf/f{i:04d}.py": "".join(f'setting_{j}_secret = "{"".join(rnd.choices(alphabet, k=20))}"\n'
                                         for j in range(lines)) for i in range(files)}
    tree["config.py"] = f'TOKEN = "{github_token(path.name)}"\n'
    return make_repo(path, [tree])


@pytest.fixture(scope="module")
def big_org(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("big")
    for i in range(3):
        _big_repo(root / f"big{i}")
    return root


def _insert_running_sweep(db: Path, target: str, pid: int, ident: str) -> int:
    conn = sqlite3.connect(db)
    version = conn.execute("SELECT rules_version FROM scans WHERE kind = 'sweep' ORDER BY id DESC").fetchone()[0]
    cur = conn.execute("INSERT INTO scans (kind, target, started, status, rules_version, pid, process) "
                       "VALUES ('sweep', ?, '2026-01-01T00:00:00Z', 'running', ?, ?, ?)", [target, version, pid, ident])
    conn.commit()
    conn.close()
    assert cur.lastrowid is not None
    return cur.lastrowid


def identity(pid: int) -> str:
    """A process as scanner.store.process records it: boot id and start time."""
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    stat = Path(f"/proc/{pid}/stat").read_text()
    return f"{boot}:{stat[stat.rindex(')') + 2:].split()[19]}"


def _ensure_process_column(db: Path) -> None:
    conn = sqlite3.connect(db)
    if "process" not in {r[1] for r in conn.execute("PRAGMA table_info(scans)")}:
        conn.execute("ALTER TABLE scans ADD COLUMN process TEXT")  # what the sprawl before issue 17 lacked
    conn.close()


@pytest.mark.skipif(not Path("/proc/sys/kernel/random/boot_id").exists(), reason="reads process identities in /proc")
def test_a_stale_running_sweep_is_taken_over_only_when_its_process_is_gone(big_org, tmp_path):
    db = tmp_path / "s.db"
    first = start("sweep", str(big_org), "--db", str(db), "-j", "2")
    deadline = time.time() + 60
    while time.time() < deadline:  # until the first sweep's scan row is committed
        try:
            conn = sqlite3.connect(db)
            if conn.execute("SELECT count(*) FROM scans WHERE status = 'running'").fetchone()[0]:
                conn.close()
                break
            conn.close()
        except sqlite3.OperationalError:
            pass
        time.sleep(0.05)
    second = run_sprawl("sweep", str(big_org), "--db", str(db), "-j", "1", env=KEY_ENV)
    assert first.poll() is None, "the first sweep ended before the second asked: make the repositories bigger"
    err = one_line_error(second)
    assert "still running" in err and f"pid {first.pid}" in err
    rc, first_err = finish(first)
    assert rc == 1, first_err.decode()
    assert b"resumed" not in first_err

    # A sweep left running by a process that is gone (its pid exited and was reaped) is taken over.
    _ensure_process_column(db)
    small = make_repo(tmp_path / "small", [{"a.py": f'T = "{github_token("stale")}"\n'}])
    target = os.path.realpath(small)
    gone = subprocess.Popen(["true"])
    gone.wait()
    scan_id = _insert_running_sweep(db, target, gone.pid, identity(os.getpid()))
    res = run_sprawl("sweep", str(small), "--db", str(db), env=KEY_ENV)
    assert res.returncode == 1 and b"resumed an interrupted sweep" in res.stderr, res.stderr.decode()
    assert f"scan {scan_id} recorded".encode() in res.stderr

    # A live pid that is another process than the one recorded (pid reused, or another boot) is not it.
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        other = make_repo(tmp_path / "other", [{"a.py": f'T = "{github_token("reused")}"\n'}])
        scan_id = _insert_running_sweep(db, os.path.realpath(other), sleeper.pid, "another-boot:12345")
        res = run_sprawl("sweep", str(other), "--db", str(db), env=KEY_ENV)
        assert res.returncode == 1 and f"scan {scan_id} recorded".encode() in res.stderr, res.stderr.decode()
        # ... while the same live process, recorded as it is, still holds its sweep.
        third = make_repo(tmp_path / "third", [{"a.py": f'T = "{github_token("live")}"\n'}])
        _insert_running_sweep(db, os.path.realpath(third), sleeper.pid, identity(sleeper.pid))
        res = run_sprawl("sweep", str(third), "--db", str(db), env=KEY_ENV)
        assert "still running" in one_line_error(res)
    finally:
        sleeper.kill()
        sleeper.wait()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM scans WHERE status = 'running'").fetchone()[0] == 1  # the sleeper's
    conn.close()


# --- 4. workers die with their parent ------------------------------------------------------------------

def _processes() -> dict[int, tuple[int, str, str, bytes]]:
    """pid -> (parent pid, state, start time, command line) of every process /proc shows."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        out[int(entry)] = (int(fields[1]), fields[0], fields[19], cmdline)
    return out


def _descendants(root: int) -> dict[int, tuple[int, str, str, bytes]]:
    procs = _processes()
    found: dict[int, tuple[int, str, str, bytes]] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, info in procs.items():
            if info[0] == parent and pid not in found:
                found[pid] = info
                frontier.append(pid)
    return found


def _running(pid: int, start_time: str) -> bool:
    info = _processes().get(pid)
    return info is not None and info[2] == start_time and info[1] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("command", ["sweep", "git"])
def test_workers_and_cat_file_die_with_a_killed_sweep(big_org, tmp_path, command):
    """The sweep's pool, and the scan pools a history scan uses (scanner.pipeline.workers.run)."""
    if command == "sweep":
        args = ["sweep", str(big_org), "--db", str(tmp_path / "s.db")]
    else:  # over 256 blobs: the history scan runs in a pool (scanner.pipeline.planning.stream_batches)
        args = ["git", str(_big_repo(tmp_path / "history", files=400)), "--min-confidence", "low"]
    proc = subprocess.Popen([*SPRAWL, *args, "-j", "2"], cwd=REPO, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        children: dict[int, tuple[int, str, str, bytes]] = {}
        while time.time() < deadline:
            children = _descendants(proc.pid)
            # A worker (a child of the parent) reading blobs through its own cat-file.
            if any(b"cat-file" in info[3] and info[0] != proc.pid for info in children.values()):
                break
            assert proc.poll() is None, "the scan ended before its workers started reading blobs"
            time.sleep(0.02)
        workers = [pid for pid, info in children.items() if info[0] == proc.pid and b"scanner" in info[3]]
        cat_files = [pid for pid, info in children.items() if b"cat-file" in info[3]]
        assert workers and cat_files, children
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.time() + 5
        while time.time() < deadline and any(_running(pid, info[2]) for pid, info in children.items()):
            time.sleep(0.1)
        left = {pid: info[3] for pid, info in children.items() if _running(pid, info[2])}
        assert not left, f"still running 5 s after the parent was killed: {left}"
    finally:
        _kill_group(proc)


def _kill_group(proc: subprocess.Popen) -> None:
    """Whatever is left of a sweep started in its own session: killed and reaped."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
def test_a_killed_worker_fails_its_repositories_not_the_sweep(big_org, tmp_path):
    db = tmp_path / "s.db"
    proc = subprocess.Popen([*SPRAWL, "sweep", str(big_org), "--db", str(db), "-j", "2"], cwd=REPO, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.time() + 120
        worker = None
        while worker is None and time.time() < deadline and proc.poll() is None:
            children = _descendants(proc.pid)
            busy = {info[0] for info in children.values() if b"cat-file" in info[3]}
            worker = next((pid for pid in busy if children.get(pid, (0,))[0] == proc.pid), None)
            time.sleep(0.02)
        assert worker is not None, "no worker was reading blobs"
        os.kill(worker, signal.SIGKILL)
        rc, err = finish(proc)
    finally:
        _kill_group(proc)
    text = err.decode()
    assert rc in (1, 3) and "Traceback" not in text, text
    assert "failed" in text and "a worker process died" in text
    again = run_sprawl("sweep", str(big_org), "--db", str(db), "-j", "2", env=KEY_ENV)
    assert again.returncode in (0, 1) and b"0 failed" in again.stderr, again.stderr.decode()
    found = {f["fingerprint"] for f in stored_findings(db)}
    assert {portable(github_token(f"big{i}")) for i in range(3)} <= found


# --- 5. the fingerprint key, created once --------------------------------------------------------------

_KEY_PROBE = """
import sys, time
from scanner.store.keys import load_key
start = float(sys.argv[1])
while time.time() < start:
    pass
print(load_key().decode())
"""


def test_racing_first_runs_agree_on_the_key(tmp_path):
    """Ten processes started at once on a machine with no key yet all read the same, whole key: the file
    appears only complete (temporary file, then link), never empty."""
    env = {k: v for k, v in ENV.items() if not k.startswith("SPRAWL_FINGERPRINT")}
    for rnd in range(20):
        cfg = tmp_path / f"cfg{rnd}"
        env["XDG_CONFIG_HOME"] = str(cfg)
        at = time.time() + 0.4
        procs = [subprocess.Popen([sys.executable, "-c", _KEY_PROBE, str(at)], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for _ in range(10)]
        outs = [p.communicate(timeout=60) for p in procs]
        assert all(p.returncode == 0 for p in procs), [e.decode() for _o, e in outs]
        keys = {o.strip() for o, _e in outs}
        key_file = cfg / "sprawl" / "fingerprint.key"
        assert len(keys) == 1 and keys == {key_file.read_bytes().strip()}, f"round {rnd}: {len(keys)} keys"
        assert len(keys.pop()) == 64 and key_file.stat().st_mode & 0o777 == 0o600
        assert [p.name for p in key_file.parent.iterdir()] == ["fingerprint.key"]  # no temporary file left


# --- 6. a full disk ---------------------------------------------------------------------------------------

def _many_secrets(folder: Path, count: int, seed: str) -> Path:
    folder.mkdir(parents=True)
    for i in range(count):
        (folder / f"svc{i:04d}.py").write_text(f'# service {i}\nGITHUB_TOKEN = "{github_token(f"{seed}-{i}")}"\n')
    return folder


def _content(db: Path) -> tuple:
    conn = sqlite3.connect(db)
    out = (conn.execute("SELECT id, kind, status FROM scans ORDER BY id").fetchall(),
           conn.execute("SELECT count(*) FROM findings").fetchone()[0],
           conn.execute("SELECT count(*) FROM locations").fetchone()[0],
           conn.execute("PRAGMA quick_check").fetchone()[0])
    conn.close()
    return out


def _limit_file_size(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_write_past_a_file_size_limit_is_one_line_and_rolls_back(tmp_path):
    db = tmp_path / "s.db"
    assert run_sprawl("scan", str(_many_secrets(tmp_path / "first", 3, "fsz-first")), "--db", str(db),
                      env=KEY_ENV).returncode == 1
    before = _content(db)
    big = _many_secrets(tmp_path / "big", 400, "fsz-big")
    res = subprocess.run([*SPRAWL, "scan", str(big), "--db", str(db)], cwd=REPO, env=ENV, capture_output=True,
                         timeout=300, preexec_fn=_limit_file_size(96 * 1024))
    err = one_line_error(res)
    assert "cannot write the datastore" in err, err
    assert _content(db) == before  # rolled back: no finding, no scan left running


def test_a_sweep_past_a_file_size_limit_is_one_line_and_resumes(big_org, tmp_path):
    """A repository's transaction that cannot be written rolls back whole; the sweep stops with one line
    and exit 2, and the next run (with room) resumes it and records everything."""
    db = tmp_path / "s.db"
    res = subprocess.run([*SPRAWL, "sweep", str(big_org), "--db", str(db), "-j", "2"], cwd=REPO, env=ENV,
                         capture_output=True, timeout=300, preexec_fn=_limit_file_size(256 * 1024))
    assert "cannot write the datastore" in one_line_error(res.returncode, res.stderr.splitlines()[-1] + b"\n")
    assert b"Traceback" not in res.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM repositories WHERE last_scan_id IS NOT NULL").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM locations").fetchone()[0] == 0
    assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    conn.close()
    again = run_sprawl("sweep", str(big_org), "--db", str(db), "-j", "2", env=KEY_ENV)
    assert again.returncode == 1 and b"resumed an interrupted sweep" in again.stderr, again.stderr.decode()
    found = {f["fingerprint"] for f in stored_findings(db)}
    assert {portable(github_token(f"big{i}")) for i in range(3)} <= found


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="mounting a tmpfs needs root")
def test_a_full_disk_is_one_line_and_rolls_back(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        db = disk / "s.db"
        assert run_sprawl("scan", str(_many_secrets(tmp_path / "first", 3, "full-first")), "--db", str(db),
                          env=KEY_ENV).returncode == 1
        before = _content(db)
        res = run_sprawl("scan", str(_many_secrets(tmp_path / "big", 1500, "full-big")), "--db", str(db), env=KEY_ENV)
        err = one_line_error(res)
        assert "cannot write the datastore" in err and "full" in err, err
        assert _content(db) == before
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


# --- 7. a file name that is not UTF-8 ----------------------------------------------------------------------

def _commit_named(repo: str, name: bytes, content: str) -> None:
    env = {**ENV, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True, env=env)
    with open(os.fsencode(repo) + b"/" + name, "w") as fh:
        fh.write(content)
    subprocess.run(["git", "-C", repo, "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", repo, "-c", "user.name=T", "-c", "user.email=t@example.test", "commit", "-qm", "x"],
                   check=True, env=env)


def test_a_file_name_that_is_not_utf8_is_recorded_exactly(tmp_path):
    """Stored as a BLOB of its exact bytes in the TEXT column (db.sql_text), listed with its bytes escaped."""
    name = b"conf\xff\xfe-\xe9t\xe9.py"
    repo = str(tmp_path / "org" / "repo")
    _commit_named(repo, name, f'TOKEN = "{github_token("latin-1 name")}"\n')
    db = tmp_path / "s.db"
    first = run_sprawl("sweep", str(tmp_path / "org"), "--db", str(db), env=KEY_ENV)
    assert first.returncode == 1 and b"Traceback" not in first.stderr, first.stderr.decode()
    again = run_sprawl("sweep", str(tmp_path / "org"), "--db", str(db), env=KEY_ENV)
    assert again.returncode == 0 and b"1 unchanged" in again.stderr, again.stderr.decode()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT path, typeof(path) FROM locations").fetchall() == [(name, "blob")]
    conn.close()
    [f] = stored_findings(db)
    [loc] = f["locations"]
    assert os.fsencode(loc["path"]) == name and loc["provenance"]["repo"] == "repo"
    text = run_sprawl("findings", "--db", str(db), env=KEY_ENV)
    assert text.returncode == 1 and b"Traceback" not in text.stderr, text.stderr.decode()
    files = tmp_path / "files.db"
    res = run_sprawl("scan", repo, "--db", str(files), env=KEY_ENV)
    assert res.returncode == 1 and b"Traceback" not in res.stderr, res.stderr.decode()
    [(path,)] = sqlite3.connect(files).execute("SELECT path FROM locations").fetchall()
    assert path.endswith(name)
    # A repository folder whose own name is not UTF-8: recorded, or named as failed; never a crash.
    odd = os.fsdecode(os.fsencode(str(tmp_path / "odd")) + b"/repo-\xe9")
    _commit_named(odd, b"a.py", f'TOKEN = "{github_token("odd folder")}"\n')
    res = run_sprawl("sweep", str(tmp_path / "odd"), "--db", str(db), env=KEY_ENV)
    assert res.returncode in (1, 3) and b"Traceback" not in res.stderr, res.stderr.decode()


# --- 8. a failed repository makes the sweep incomplete ----------------------------------------------------

def test_a_sweep_with_a_failed_repository_exits_3_and_names_it(tmp_path):
    clean = make_repo(tmp_path / "clean", [{"README": "nothing secret\n"}])
    broken = tmp_path / "broken"
    broken.mkdir()
    listing = tmp_path / "repos.txt"
    listing.write_text(f"{clean}\n{broken}\n")
    db = tmp_path / "s.db"
    res = run_sprawl("sweep", "--repos", str(listing), "--db", str(db), env=KEY_ENV)
    err = res.stderr.decode()
    assert res.returncode == 3, err
    assert "2 repositories (0 unchanged, 1 failed)" in err
    assert f"sprawl: failed {broken}: " in err and "not a git repository" in err
    again = run_sprawl("sweep", "--repos", str(listing), "--db", str(db), env=KEY_ENV)
    assert again.returncode == 3 and "1 unchanged, 1 failed" in again.stderr.decode()
    make_repo(tmp_path / "leaky", [{"a.py": f'T = "{github_token("leaky")}"\n'}])
    listing.write_text(f"{clean}\n{broken}\n{tmp_path / 'leaky'}\n")
    assert run_sprawl("sweep", "--repos", str(listing), "--db", str(db), env=KEY_ENV).returncode == 1

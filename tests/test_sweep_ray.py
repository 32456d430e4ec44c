"""`sprawl sweep --executor ray` on a local Ray with 2 CPUs (issue 22, second must-hold case): the same
findings and locations as the local executor on the same sweep (local folders and mirrored repositories
fetched by the Ray workers from the fake GitHub of tests/hostserver.py), and a Ray sweep killed with
SIGKILL midway then rerun leaves the datastore an uninterrupted Ray sweep leaves.

Ray starts once for the session, in a helper process (`ray.init(num_cpus=2, include_dashboard=False)`), so
that this pytest process never holds Ray's threads while other tests fork; the CLI under test joins it
with --ray-address. Skipped, saying why, only where `ray` is not importable."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, run_sprawl
from tests.hostserver import FakeHost, github_repo_item, random_token
from tests.repogen import github_token, make_repo
from tests.sweepkit import kill_sweep_after_first_repository
from tests.test_sweep import build_org, state

KEY_ENV = {"SPRAWL_FINGERPRINT_KEY": "test-organisation-key", "GIT_CONFIG_GLOBAL": "/dev/null",
           "GIT_CONFIG_NOSYSTEM": "1"}
# Ray >= 2.59 authenticates clients of a local cluster by token: one made up for the session, given to Ray and
# to every CLI run below through the environment.
RAY_ENV = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": random_token("", 32)}
_HOLD_RAY = """
import sys, ray
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()
ray.shutdown()
"""


@pytest.fixture(scope="session")
def ray_address() -> Iterator[str]:
    """A local Ray with 2 CPUs for the whole session; its address for --ray-address."""
    pytest.importorskip("ray", reason="the `ray` extra is not installed (pip install 'secret-sprawl[ray]')")
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_RAY], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, env={**os.environ, **RAY_ENV})
    assert holder.stdout is not None and holder.stdin is not None
    address = holder.stdout.readline().strip()
    assert address, "the local Ray did not start"
    try:
        yield address
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def findings_and_locations(db: Path) -> list[tuple]:
    """Every location of every finding, named by repository name (mirror folders differ between runs)."""
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT f.credential_key, f.rule_id, f.preview, r.name, l.path, l.line, l.\"column\", l.\"commit\", l.blob, l.at_head, l.repo "
        "FROM locations l JOIN findings f ON f.id = l.finding_id JOIN repositories r ON r.id = l.repository_id"
    ).fetchall()
    conn.close()
    return sorted(rows)


def test_ray_executor_in_slices_finds_what_the_local_executor_finds(tmp_path: Path, ray_address: str) -> None:
    local_root = build_org(tmp_path / "local", 6)
    served = tmp_path / "served"
    for name in ("app", "site", "tools"):
        secret = github_token(f"{name}-{random_token('', 12)}")
        make_repo(served / "acme" / f"{name}.git",
                  [{"README.md": f"# {name}\n"}, {"config/deploy.py": f'GITHUB_TOKEN = "{secret}"\n'}], bare=True)
    with FakeHost(served) as fake:
        fake.github_repos = [github_repo_item(fake, n, "public" if n == "site" else "private")
                             for n in ("app", "site", "tools")]
        common = [str(local_root), "--github-org", "acme", "--endpoint", f"github={fake.url}",
                  "--allow-internal-endpoints", "-f", "json"]
        local = run_sprawl("sweep", *common, "--db", str(tmp_path / "local.db"), "--mirrors", str(tmp_path / "m1"),
                           "-j", "2", env=KEY_ENV)
        on_ray = run_sprawl("sweep", *common, "--db", str(tmp_path / "ray.db"), "--mirrors", str(tmp_path / "m2"),
                            "--executor", "ray", "--ray-address", ray_address, "--slice-blobs", "3",
                            env={**KEY_ENV, **RAY_ENV})
    assert local.returncode == 1, local.stderr.decode()
    assert on_ray.returncode == 1, on_ray.stderr.decode()
    expected = findings_and_locations(tmp_path / "local.db")
    assert len(expected) > 20
    assert findings_and_locations(tmp_path / "ray.db") == expected
    # Which repository's row counts a blob two repositories share depends on which unit reached it first.
    cover = {r["repo"]: (r["status"], r["mirror"]) for r in json.loads(on_ray.stdout)["coverage"]}
    assert cover == {r["repo"]: (r["status"], r["mirror"]) for r in json.loads(local.stdout)["coverage"]}
    assert cover["acme/site"] == ("scanned", "created") and len(cover) == 9
    assert "slices" in on_ray.stderr.decode()  # the larger local repositories went out as slices
    # The Ray workers fetched the mirrors into the cache named by --mirrors (here the driver's node).
    assert [p.name for p in (tmp_path / "m2").rglob("app.git")] == ["app.git"]


def test_ray_executor_without_ray_and_bad_addresses_are_usage_errors(tmp_path: Path) -> None:
    make_repo(tmp_path / "org" / "one", [{"README.md": "one\n"}])
    org = str(tmp_path / "org")
    res = run_sprawl("sweep", org, "--ray-address", "127.0.0.1:1", env=KEY_ENV)
    assert res.returncode == 2 and b"--ray-address goes with --executor ray" in res.stderr
    res = run_sprawl("sweep", org, "--executor", "ray", "--ray-address", "ray://head:10001", env=KEY_ENV)
    assert res.returncode == 2 and b"ray:// (Ray Client) is not supported" in res.stderr
    # Where `ray` cannot be imported (here hidden by a sitecustomize), one line and exit 2, nothing swept.
    hide = tmp_path / "hide-ray"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text("import sys\nsys.modules['ray'] = None\n")
    res = run_sprawl("sweep", org, "--executor", "ray", "--db", str(tmp_path / "x.db"),
                     env={**KEY_ENV, "PYTHONPATH": os.pathsep.join([str(REPO), str(hide)])})
    assert res.returncode == 2, res.stderr.decode()
    assert b"--executor ray needs Ray: pip install 'secret-sprawl[ray]'" in res.stderr
    assert b"Traceback" not in res.stderr and not (tmp_path / "x.db").exists()


def test_ray_sweep_killed_midway_then_rerun_equals_an_uninterrupted_one(tmp_path: Path, ray_address: str) -> None:
    count = 16
    org = build_org(tmp_path / "org", count)
    whole, killed = tmp_path / "whole.db", tmp_path / "killed.db"
    ray_args = ["--executor", "ray", "--ray-address", ray_address]
    first = run_sprawl("sweep", str(org), "--db", str(whole), *ray_args, env={**KEY_ENV, **RAY_ENV})
    assert first.returncode == 1, first.stderr.decode()

    kill_sweep_after_first_repository(["sweep", str(org), "--db", str(killed), *ray_args], {**KEY_ENV, **RAY_ENV})
    conn = sqlite3.connect(killed)
    assert conn.execute("SELECT status FROM scans").fetchall() == [("running",)]
    done = conn.execute("SELECT count(*) FROM repositories WHERE last_scan_id IS NOT NULL").fetchone()[0]
    conn.close()
    assert 1 <= done < count, "the kill should land mid-way"

    rerun = run_sprawl("sweep", str(org), "--db", str(killed), *ray_args, env={**KEY_ENV, **RAY_ENV})
    assert rerun.returncode == 1, rerun.stderr.decode()
    assert "resumed an interrupted sweep" in rerun.stderr.decode()
    assert state(killed) == state(whole)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _cmdline(pid: int) -> list[str]:
    try:
        return [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        return []


def _worker_cloning(url: str) -> int:
    """The Ray worker process whose task runs `git clone --mirror ... URL` (the git process's parent)."""
    for entry in Path("/proc").iterdir():
        args = _cmdline(int(entry.name)) if entry.name.isdigit() else []
        if "clone" in args and url in args:
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            assert _cmdline(parent)[0].startswith("ray::"), _cmdline(parent)
            return parent
    raise AssertionError(f"no git clone of {url} running")


def test_a_ray_worker_killed_mid_unit_is_retried_and_the_sweep_ends_as_an_unkilled_one(tmp_path: Path,
                                                                                        ray_address: str) -> None:
    """The fake git server holds the first fetch of acme/app; the test SIGKILLs the Ray worker running that unit
    (and the git it started), then lets the held request go. Ray runs the unit again on another worker: the
    sweep records what an unkilled sweep records, and says the unit was retried."""
    local_root = build_org(tmp_path / "local", 3)
    served = tmp_path / "served"
    for name in ("app", "site"):
        secret = github_token(f"{name}-{random_token('', 12)}")
        make_repo(served / "acme" / f"{name}.git", [{"README.md": f"# {name}\n"}, {"deploy.py": f'T = "{secret}"\n'}],
                  bare=True)
    with FakeHost(served) as fake:
        repos = tmp_path / "repos.txt"
        repos.write_text(f"{fake.git_base}/acme/app.git\n{fake.git_base}/acme/site.git\n")
        common = [str(local_root), "--repos", str(repos), "--allow-internal-endpoints", "-f", "json"]
        local = run_sprawl("sweep", *common, "--db", str(tmp_path / "local.db"), "--mirrors", str(tmp_path / "m1"),
                           "-j", "2", env=KEY_ENV)
        fake.hold_git_once.add("acme/app")
        proc = subprocess.Popen([sys.executable, "-m", "scanner.cli", "sweep", *common, "--db", str(tmp_path / "ray.db"),
                                 "--mirrors", str(tmp_path / "m2"), "--executor", "ray", "--ray-address", ray_address],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**os.environ, **KEY_ENV, **RAY_ENV})
        try:
            assert fake.held.wait(60), "the Ray task never asked for acme/app"
            worker = _worker_cloning(f"{fake.git_base}/acme/app.git")
            tree, doomed = _children(), [worker]
            for pid in doomed:
                doomed.extend(tree.get(pid, []))
            for pid in doomed:
                os.kill(pid, signal.SIGKILL)
            fake.release.set()
            out, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
    assert local.returncode == 1, local.stderr.decode()
    assert proc.returncode == 1, err.decode()
    assert findings_and_locations(tmp_path / "ray.db") == findings_and_locations(tmp_path / "local.db")
    cover = {r["repo"]: (r["status"], r["mirror"]) for r in json.loads(out)["coverage"]}
    assert cover == {r["repo"]: (r["status"], r["mirror"]) for r in json.loads(local.stdout)["coverage"]}
    assert cover["acme/app"] == ("scanned", "created")
    assert json.loads(out)["retried"] == [{"unit": "acme/app", "attempts": 2}]
    assert "retried acme/app: a worker running it was lost; attempt 2 is the one recorded" in err.decode()


# The library's sweep on Ray with --validate, in its own process (this one never holds Ray's threads), with an
# executor that looks at every outcome a Ray task returned before the driver records it.
_VALIDATE_ON_RAY = """
import json, os, pickle, sys
from scanner.pipeline.executors import RayExecutor
from scanner.pipeline.sweep import SweepOptions, discover, sweep
from scanner.store.keys import load_key
from scanner.validate.api import ValidationOptions

org, db, endpoint, address = sys.argv[1:5]
secret = os.environ.pop("HELD_SECRET").encode()
seen = {"outcomes": 0, "with_answers": 0, "holding_the_secret": 0}

class Looking:
    fetches_on_workers = True

    def __init__(self):
        self.ray = RayExecutor(address)

    def results(self, tasks, context):
        for out in self.ray.results(tasks, context):
            seen["outcomes"] += 1
            seen["with_answers"] += bool(out.answers)
            seen["holding_the_secret"] += secret in pickle.dumps(out)
            yield out

    def close(self):
        self.ray.close()

runner = Looking()
options = SweepOptions(jobs=2, validation=ValidationOptions(endpoints=(f"aws={endpoint}",), allow_internal=True))
try:
    summary = sweep(discover(None, [org]), db, load_key(None), options, executor=runner)
finally:
    runner.close()
seen["validated"] = sorted(str(v.status) for v in summary.validated)
print(json.dumps(seen))
"""


def _validations(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute("SELECT f.credential_key, f.rule_id, v.provider, v.status, v.privilege FROM "
                                   "validations v JOIN findings f ON f.id = v.finding_id").fetchall())


def test_ray_sweep_validates_on_the_workers_and_returns_no_secret(tmp_path: Path, ray_address: str) -> None:
    from tests.providerserver import serving
    from tests.test_validate_aws import aws_server, new_key
    from tests.test_validate_sweep import _e1

    key_id, secret = new_key()
    org, _inventory = _e1(tmp_path, key_id, secret)
    with serving(aws_server(key_id, secret)) as server:
        local = run_sprawl("sweep", str(org), "--db", str(tmp_path / "local.db"), "--validate", "--endpoint",
                           f"aws={server.url}", "--allow-internal-endpoints", "-j", "2", env=KEY_ENV)
        assert local.returncode == 1, local.stderr.decode()
        on_ray = subprocess.run([sys.executable, "-c", _VALIDATE_ON_RAY, str(org), str(tmp_path / "ray.db"), server.url,
                                 ray_address], cwd=REPO, capture_output=True, timeout=300,
                                env={**os.environ, **KEY_ENV, **RAY_ENV, "HELD_SECRET": secret})
        assert on_ray.returncode == 0, on_ray.stderr.decode()[-3000:]
        assert all(f"Credential={key_id}/" in (q.header("Authorization") or "") for q in server.requests)
    seen = json.loads(on_ray.stdout.decode().strip().splitlines()[-1])
    assert seen["outcomes"] == 3 and seen["with_answers"] == 3 and seen["holding_the_secret"] == 0
    assert "active" in seen["validated"]
    expected = _validations(tmp_path / "local.db")
    assert ("aws", "active") in {(row[2], row[3]) for row in expected}
    assert _validations(tmp_path / "ray.db") == expected
    with sqlite3.connect(tmp_path / "ray.db") as conn:
        assert secret not in "\n".join(conn.iterdump())

"""A large repository swept in slices cut by bytes (--slice-bytes): a few huge blobs are spread over slices of
at most the limit, so workers share the repository evenly; every slice is recorded as it lands, so a sweep
killed after one slice keeps it and the rerun ends where an uninterrupted sweep ends."""
from __future__ import annotations

import random
import re
import sqlite3
from pathlib import Path

from scanner.pipeline.sweep_unit import BlobRange, cut_slices
from tests.hostserver import random_token
from tests.repogen import github_token, make_repo
from tests.sweepkit import kill_sweep_after_first_repository
from tests.test_sweep import KEY_ENV, state, sweep

HUGE = 150_000
LIMIT = 256 * 1024
SLICE_LINE = re.compile(r"slice (\d+) of (\d+) of big: (\d+) new blobs, (\d+) bytes")


def _text(rng: random.Random, size: int) -> str:
    words = ["alpha", "beta", "gamma", "delta", "deploy", "config", "value", "the", "a", "of"]
    out, n = [], 0
    while n < size:
        line = " ".join(rng.choices(words, k=12)) + "\n"
        out.append(line)
        n += len(line)
    return "".join(out)


def _big_repo(root: Path) -> Path:
    """Four huge text blobs and forty small files, a secret in each huge one and in every fifth small one."""
    rng = random.Random(random_token("", 8))
    first = {f"data/huge_{k}.txt": _text(rng, HUGE) + f'TOKEN = "{github_token(random_token("h", 12))}"\n'
             for k in range(4)}
    second = {f"src/mod_{k}.py": f"VALUE = {k}\n" + (f'TOKEN = "{github_token(random_token("s", 12))}"\n'
                                                       if k % 5 == 0 else "") for k in range(40)}
    return make_repo(root / "big", [first, second])


def test_cut_slices_by_bytes_and_by_count() -> None:
    rng = random.Random(7)
    sizes = {f"{rng.getrandbits(160):040x}": 1000 for _ in range(4)} | \
            {f"{rng.getrandbits(160):040x}": 10 for _ in range(40)}
    ranges = cut_slices(sizes, max_bytes=1200)
    assert ranges[0].first == "" and ranges[-1].end == ""
    assert all(a.end == b.first for a, b in zip(ranges, ranges[1:], strict=False))
    for oid in sizes:  # every blob in exactly one slice
        assert sum(oid in r for r in ranges) == 1
    assert sum(r.bytes for r in ranges) == sum(sizes.values()) and sum(r.blobs for r in ranges) == 44
    assert all(r.bytes <= 1200 for r in ranges) and len(ranges) >= 4
    assert cut_slices(sizes, max_bytes=10**6) == [BlobRange("", "", 44, sum(sizes.values()))]
    by_count = cut_slices(sizes, max_blobs=10)
    assert [r.blobs for r in by_count] == [10, 10, 10, 10, 4]
    assert cut_slices({"ab" * 20: 5000}, max_bytes=10) == [BlobRange("", "", 1, 5000)]  # one blob is one slice


def test_a_repository_with_huge_blobs_is_cut_by_bytes_and_finds_what_a_whole_sweep_finds(tmp_path: Path) -> None:
    root = _big_repo(tmp_path / "org")
    whole, sliced = tmp_path / "whole.db", tmp_path / "sliced.db"
    res = sweep(str(root), "--db", str(whole), "--slice-bytes", "0", "--slice-blobs", "0")
    assert res.returncode == 1, res.stderr.decode()
    assert "slice" not in res.stderr.decode()
    res = sweep(str(root), "--db", str(sliced), "-j", "2", "--slice-bytes", "256K")
    assert res.returncode == 1, res.stderr.decode()
    err = res.stderr.decode()
    slices = [tuple(map(int, m)) for m in SLICE_LINE.findall(err)]
    n = slices[0][1]
    assert sorted(s[0] for s in slices) == list(range(1, n + 1)) and 3 <= n <= 5, err
    # each slice at most the limit (four huge blobs of ~150 KB: never two in one slice), every blob once
    assert all(size <= LIMIT for _k, _n, _blobs, size in slices), slices
    assert sum(blobs for _k, _n, blobs, _size in slices) == 44
    assert f"new blobs in {n} slices" in err
    assert state(sliced) == state(whole)
    res = sweep(str(root), "--db", str(sliced), "--slice-bytes", "256K")
    assert res.returncode == 0 and "1 repositories (1 unchanged" in res.stderr.decode()


def test_a_sweep_killed_after_one_slice_keeps_it_and_the_rerun_ends_as_a_whole_sweep(tmp_path: Path) -> None:
    root = _big_repo(tmp_path / "org")
    whole, killed = tmp_path / "whole.db", tmp_path / "killed.db"
    assert sweep(str(root), "--db", str(whole), "-j", "1", "--slice-bytes", "256K").returncode == 1
    kill_sweep_after_first_repository(["sweep", str(root), "--db", str(killed), "-j", "1", "--slice-bytes", "256K"],
                                      KEY_ENV, line=b"sprawl: slice 1 of")
    conn = sqlite3.connect(killed)
    assert conn.execute("SELECT status FROM scans").fetchall() == [("running",)]
    kept = conn.execute("SELECT count(*) FROM blobs").fetchone()[0]
    finished = conn.execute("SELECT count(*) FROM repositories WHERE last_scan_id IS NOT NULL").fetchone()[0]
    conn.close()
    assert 0 < kept < 44 and finished == 0  # the first slice is checkpointed, the repository not yet done
    rerun = sweep(str(root), "--db", str(killed), "-j", "1", "--slice-bytes", "256K")
    assert rerun.returncode == 1 and "resumed an interrupted sweep" in rerun.stderr.decode()
    assert state(killed) == state(whole)

"""The scan pipeline's fast paths: batched git blob reads, and parallel scans equal to one-process scans."""
from __future__ import annotations

import subprocess
from pathlib import Path

from scanner.model import Skip
from scanner.pipeline.git import scan_git
from scanner.pipeline.options import ScanOptions
from scanner.sources.git import BlobReader
from tests.conftest import GITHUB_TOKEN
from tests.gitutil import commit, git, init_repo


def _blob(repo: Path, rev_path: str) -> str:
    return git(repo, "rev-parse", rev_path).strip()


def test_batched_reader_matches_one_by_one_reads(tmp_path):
    repo = init_repo(tmp_path / "r")
    commit(repo, {"a.py": f'TOKEN = "{GITHUB_TOKEN}"\n', "b.txt": "plain\n" * 1000, "empty": ""}, "first")
    (repo / "bin.dat").write_bytes(b"\x00\x01binary" * 100)
    git(repo, "add", "bin.dat")
    git(repo, "commit", "-q", "-m", "binary")
    oids = [_blob(repo, f"HEAD:{p}") for p in ("a.py", "b.txt", "empty", "bin.dat")]
    reader = BlobReader(str(repo))
    missing = "1" * 40
    got = list(reader.many([*oids, missing, oids[0]]))
    assert got[:3] == [subprocess.run(["git", "-C", str(repo), "cat-file", "blob", o], capture_output=True,
                                      check=True).stdout for o in oids[:3]]
    assert got[0] == f'TOKEN = "{GITHUB_TOKEN}"\n'.encode() and got[2] == b""
    assert isinstance(got[3], Skip) and got[3].reason == "binary"
    assert isinstance(got[4], Skip) and "missing" in got[4].reason
    assert got[5] == got[0]  # the reader goes on after a missing object
    # The same long-running cat-file process serves the next batch.
    assert list(reader.many(oids[:1])) == got[:1]


def test_batched_reader_survives_cat_file_exiting(tmp_path):
    repo = init_repo(tmp_path / "r")
    commit(repo, {"a.txt": "hello\n"}, "first")
    oid = _blob(repo, "HEAD:a.txt")
    reader = BlobReader(str(repo))
    assert list(reader.many([oid])) == [b"hello\n"]
    reader._batch.kill()
    reader._batch.wait()
    assert list(reader.many([oid, oid])) == [b"hello\n", b"hello\n"]  # a new process is started


def test_parallel_history_scan_equals_single_process(tmp_path):
    repo = init_repo(tmp_path / "r")
    # Enough history to pass the parallel threshold, with secrets added in several commits.
    filler = "".join(f"line {i} of ordinary text with a config value\n" for i in range(4000))
    for n in range(16):
        files = {f"mod{n}.py": filler + f"# rev {n}\n"}
        if n % 3 == 0:
            files[f"cfg{n}.env"] = (f'GITHUB_TOKEN="{GITHUB_TOKEN}"\n'
                                    f'AWS_SECRET_ACCESS_KEY="{n:02d}Zx9kQ2vLpW8rT4yB6nM1cF3hJ5sD7gA0eK2uI4oP"\n')
        commit(repo, files, f"commit {n}")
    one = scan_git(str(repo), ScanOptions(jobs=1, min_confidence="low"))
    two = scan_git(str(repo), ScanOptions(jobs=2, min_confidence="low"))
    assert one.stats.files == two.stats.files > 16 and one.stats.bytes > 2 * 1024 * 1024
    key = lambda f: (f.rule_id, f.fingerprint, sorted(str(loc) for loc in f.locations))  # noqa: E731
    assert sorted(map(key, one.findings)) == sorted(map(key, two.findings)) and one.findings


def test_parallel_tree_scan_equals_single_process(tmp_path):
    from scanner.pipeline.files import scan_paths

    filler = "".join(f"line {i} of ordinary text with a config value\n" for i in range(4000))
    for n in range(24):
        body = filler + (f'GITHUB_TOKEN="{GITHUB_TOKEN}"\n' if n % 5 == 0 else "")
        (tmp_path / f"mod{n}.py").write_text(body)
    one = scan_paths([str(tmp_path)], ScanOptions(jobs=1, min_confidence="low"))
    two = scan_paths([str(tmp_path)], ScanOptions(jobs=2, min_confidence="low"))
    assert one.stats.files == two.stats.files == 24 and one.stats.bytes > 2 * 1024 * 1024
    key = lambda f: (f.rule_id, f.fingerprint, sorted(str(loc) for loc in f.locations))  # noqa: E731
    assert sorted(map(key, one.findings)) == sorted(map(key, two.findings)) and one.findings

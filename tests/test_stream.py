"""Large files stream in overlapping chunks: edges lose nothing and count nothing twice, memory stays bounded."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from conftest import GITHUB_TOKEN, REPO, run_sprawl

from scanner.pipeline.blobs import scan_stream
from scanner.pipeline.engines import get_engine
from scanner.sources.stream import CHUNK, iter_chunks

STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dcXq2Lm9Pz"


def _scan(data: bytes, chunk: int, overlap: int):
    engine = get_engine()
    return scan_stream(io.BytesIO(data), lambda d: engine.scan(d, "app.log"), chunk=chunk, overlap=overlap)


@pytest.mark.parametrize("shift", range(-45, 5, 7))
def test_secret_across_a_chunk_edge_is_found_once_with_its_true_position(shift):
    chunk, overlap = 8192, 2048
    edge = chunk - overlap // 2  # the first cut
    prefix = b"x = 1\n" * ((edge + shift) // 6)
    prefix += b"#" * (edge + shift - len(prefix) - len("token=")) + b"token="
    data = prefix + GITHUB_TOKEN.encode() + b"\n" + b"y = 2\n" * 5000
    stats = _scan(data, chunk, overlap)
    assert stats.chunks > 3
    [m] = [m for m in stats.matches if m.rule_id == "github-pat-classic"]
    assert m.start == len(prefix)
    assert data[m.start : m.end].decode() == GITHUB_TOKEN
    assert m.line == prefix.count(b"\n") + 1
    assert m.column == len(prefix) - prefix.rfind(b"\n")


def test_every_secret_of_a_long_single_line_is_found_once_with_columns():
    parts, expected = [], []
    pos = 0
    for i in range(40):
        filler = b'{"k":"' + b"a b " * (200 + 37 * i) + b'","auth":"token '
        parts.append(filler)
        pos += len(filler)
        expected.append(pos)
        parts.append(GITHUB_TOKEN.encode() + b'"},')
        pos += len(GITHUB_TOKEN) + 3
    data = b"".join(parts)
    stats = _scan(data, 4096, 1024)
    starts = sorted(m.start for m in stats.matches if m.rule_id == "github-pat-classic")
    assert starts == expected
    assert all(m.line == 1 and m.column == m.start + 1 for m in stats.matches)


def test_chunks_cover_the_stream_exactly_once_between_cuts():
    data = os.urandom(50_000)
    covered = bytearray()
    for c in iter_chunks(io.BytesIO(data), chunk=4096, overlap=1024):
        covered += c.data[c.cut_lo : c.cut_hi]
    assert bytes(covered) == data


def test_file_over_max_size_is_streamed_not_skipped(tmp_path):
    big = tmp_path / "big.log"
    with open(big, "wb") as fh:
        fh.write(b"2026-05-06T07:08:09Z INFO nothing\n" * ((CHUNK + CHUNK // 2) // 35))
        fh.write(f"2026-05-06T07:08:10Z WARN token={GITHUB_TOKEN}\n".encode())
        fh.write(b"2026-05-06T07:08:11Z INFO nothing\n" * 1000)
    res = run_sprawl("scan", str(big), "-f", "json", "--max-size", "1000000", "--no-ignore-file")
    assert res.returncode == 1, res.stderr.decode()
    doc = json.loads(res.stdout)
    [f] = doc["findings"]
    [loc] = f["locations"]
    assert loc["line"] == (CHUNK + CHUNK // 2) // 35 + 1
    assert loc["provenance"]["seen"] == "2026-05-06T07:08:10Z"
    assert doc["summary"]["bytes"] == big.stat().st_size
    assert not doc["summary"]["skipped"]
    assert "streamed 1" in res.stderr.decode()


def test_memory_stays_bounded_on_a_single_line_much_larger_than_memory_used(tmp_path):
    """A 256 MB one-line JSON log scans with a small fraction of its size resident."""
    size = 256 * 1024 * 1024
    path = tmp_path / "one-line.json"
    record = b'{"level":"info","msg":"request served","path":"/api/v1/items","status":200},'
    with open(path, "wb") as fh:
        fh.write(b"[")
        block = record * (1024 * 1024 // len(record))
        written = 1
        while written < size:
            fh.write(block)
            written += len(block)
            if written > size // 2 and written - len(block) <= size // 2:
                fh.write(f'{{"auth":"token {GITHUB_TOKEN}"}},'.encode())
        fh.write(b"{}]")
    code = (
        "import resource, sys\n"
        "from scanner import ScanOptions, scan_paths\n"
        "r = scan_paths([sys.argv[1]], ScanOptions(jobs=1, use_ignore_files=False))\n"
        "print(len(r.findings), r.stats.bytes, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    base = subprocess.run([sys.executable, "-c", "import resource, scanner.pipeline.engines as s; s.get_engine();"
                           "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
                          capture_output=True, cwd=REPO, check=True)
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, cwd=REPO, check=True)
    findings, scanned, peak_kb = map(int, out.stdout.split())
    idle_kb = int(base.stdout)
    assert findings == 1
    assert scanned == path.stat().st_size
    # Rules loaded and compiled, then a chunk (8 MB) and the engine's working copies of it: well under 1/2 the file.
    assert (peak_kb - idle_kb) * 1024 < size // 2, (peak_kb, idle_kb)


def _hit_keys(outcome):
    return sorted((h.match.rule_id, h.match.start, h.match.line, h.match.column, h.provenance.seen)
                  for h in outcome.hits), outcome.files, outcome.size


@pytest.mark.parametrize("n", [2, 3, 4])
def test_byte_ranges_of_a_large_file_together_scan_it_exactly_once(tmp_path, n):
    from scanner.pipeline.blobs import merge_shards, scan_file

    line = f"2026-01-01T00:00:07Z DEBUG token={GITHUB_TOKEN} user=x\n".encode()
    body = bytearray(b"2026-01-01T00:00:00Z INFO nothing here, password policy ok\n" * 60000)
    # Secrets across every range boundary and every chunk edge, and at both ends.
    size = len(body)
    for at in [0, size - len(line)] + [size * k // n - 20 for k in range(1, n)] + list(range(1 << 20, size, 1 << 20)):
        body[at:at + len(line)] = line
    path = tmp_path / "big.log"
    path.write_bytes(bytes(body))
    engine = get_engine()
    whole = scan_file(str(path), engine, max_size=1 << 20, chunk=1 << 20)
    parts = [scan_file(str(path), engine, max_size=1 << 20, chunk=1 << 20, shard=(k, n)) for k in range(n)]
    assert _hit_keys(merge_shards(parts)) == _hit_keys(whole)
    assert len(whole.hits) >= n + 2 and whole.files == 1 and whole.size == size


@pytest.mark.parametrize("folder", ["logs", "tests"])
def test_one_large_file_is_shared_by_the_workers(tmp_path, monkeypatch, folder):
    """Each worker scans its byte range as the file's own path, as one worker scans the whole file: under
    tests/ both demote what they find (a range was scanned as the bare file name, and was not demoted)."""
    import scanner.pipeline.planning as scan_module
    from scanner.pipeline.files import scan_paths
    from scanner.pipeline.options import ScanOptions
    from scanner.sources.filesystem import FileTask, WalkOptions

    (tmp_path / folder).mkdir()
    path = tmp_path / folder / "app.log"
    path.write_bytes((b"2026-01-01T00:00:00Z INFO ok\n" * 40000 + f"token={GITHUB_TOKEN}\n".encode()) * 6)
    monkeypatch.setattr(scan_module, "SHARE_FILES_FROM", 1)
    monkeypatch.setattr(scan_module, "PARALLEL_THRESHOLD", 1)
    walk = WalkOptions(max_size=1 << 20)
    batches, jobs = scan_module.file_batches([FileTask(str(path), path.stat().st_size)], 2, walk.max_size)
    assert jobs == 2 and sorted(w.shard for b in batches for w in b) == [0, 1]
    one = scan_paths([str(path)], ScanOptions(jobs=1, walk=walk, use_ignore_files=False, min_confidence="low"))
    two = scan_paths([str(path)], ScanOptions(jobs=2, walk=walk, use_ignore_files=False, min_confidence="low"))
    key = lambda r: (sorted((f.fingerprint, f.confidence, f.reasons, sorted(str(loc) for loc in f.locations))  # noqa: E731
                            for f in r.findings), r.stats.files, r.stats.bytes, r.stats.streamed)
    assert key(one) == key(two) and one.stats.files == 1 and one.findings
    assert all(("in a test file" in f.reasons) == (folder == "tests") for f in two.findings)


def test_standard_input_is_streamed_in_bounded_memory(tmp_path):
    """`sprawl scan -` reads standard input in chunks: a 160 MB log never sits in memory whole (it was
    read whole, 1.1 GB for a 1 GB log), and a secret at its end is found with its line number."""
    import subprocess
    import sys

    from conftest import GITHUB_TOKEN, REPO

    tail = tmp_path / "tail.log"
    tail.write_text(f"token={GITHUB_TOKEN}\n")
    line = "INFO request served in 12ms path=/api/v1/items status=200\n"
    size = 160 * 1024 * 1024
    lines = size // len(line)
    probe = (
        "import resource, subprocess, sys\n"
        f"gen = subprocess.Popen(\"yes '{line.strip()}' | head -n {lines}; cat {tail}\", shell=True, stdout=subprocess.PIPE)\n"
        "res = subprocess.run([sys.executable, '-m', 'scanner.cli', 'scan', '-', '-f', 'json', '--no-ignore-file'],"
        " stdin=gen.stdout, capture_output=True)\n"
        "print(res.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.stdout.write(res.stdout.decode())\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, cwd=REPO, timeout=300,
                         env={**__import__("os").environ, "PYTHONPATH": str(REPO)}).stdout.decode()
    first, _, doc = out.partition("\n")
    code, rss_kb = map(int, first.split())
    assert code == 1
    [finding] = __import__("json").loads(doc)["findings"]
    assert finding["locations"][0]["line"] == lines + 1
    assert rss_kb < 140 * 1024, rss_kb  # one chunk and the engine, not the 160 MB

"""Archives: every format, nesting, locations, and hostile archives (corrupt, truncated, bombs)."""
from __future__ import annotations

import bz2
import gzip
import json
import lzma
from pathlib import Path

import pytest
import zstandard
from archiveutil import make_tar as _tar
from archiveutil import make_zip as _zip
from conftest import GITHUB_TOKEN, run_sprawl

from scanner.pipeline.files import scan_paths
from scanner.pipeline.options import ScanOptions
from scanner.sources.archive import Limits

STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dcXq2Lm9Pz"
LOG = f"2026-03-04T05:06:07Z INFO start\n2026-03-04T05:06:08Z DEBUG token={GITHUB_TOKEN}\n".encode()


def _locations(result) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in result.findings:
        for loc in f.locations:
            out.setdefault(f.rule_id, []).append(loc)
    return out


def _scan(*paths: Path, **limits) -> object:
    options = ScanOptions(jobs=1, use_ignore_files=False, archive_limits=Limits(**limits) if limits else None)
    return scan_paths([str(p) for p in paths], options)


FORMATS = {
    "bundle.tar": lambda: _tar({"logs/app.log": LOG}),
    "bundle.tar.gz": lambda: _tar({"logs/app.log": LOG}, "w:gz"),
    "bundle.tgz": lambda: _tar({"logs/app.log": LOG}, "w:gz"),
    "bundle.tar.bz2": lambda: _tar({"logs/app.log": LOG}, "w:bz2"),
    "bundle.tar.xz": lambda: _tar({"logs/app.log": LOG}, "w:xz"),
    "bundle.tar.zst": lambda: zstandard.ZstdCompressor().compress(_tar({"logs/app.log": LOG})),
    "bundle.zip": lambda: _zip({"logs/app.log": LOG}),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_container_format_is_opened_and_located_by_member(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(FORMATS[name]())
    result = _scan(path)
    [loc] = _locations(result)["github-pat-classic"]
    assert loc.path == f"{path}!logs/app.log"
    assert (loc.line, loc.column) == (2, 34)
    assert loc.source == "archive"
    assert loc.provenance.seen == "2026-03-04T05:06:08Z"
    assert result.stats.archives == 1 and result.stats.files == 1


@pytest.mark.parametrize("name,compress", [
    ("app.log.gz", gzip.compress), ("app.log.bz2", bz2.compress), ("app.log.xz", lzma.compress),
    ("app.log.zst", lambda d: zstandard.ZstdCompressor().compress(d)),
])
def test_single_compressed_streams_are_scanned(tmp_path, name, compress):
    path = tmp_path / name
    path.write_bytes(compress(LOG))
    [loc] = _locations(_scan(path))["github-pat-classic"]
    assert (loc.path, loc.line) == (str(path), 2)


def test_content_is_sniffed_not_the_name(tmp_path):
    path = tmp_path / "support-bundle.dat"
    path.write_bytes(_tar({"x.log": LOG}, "w:gz"))
    [loc] = _locations(_scan(path))["github-pat-classic"]
    assert loc.path == f"{path}!x.log"


def test_nested_archives_are_located_through_every_layer(tmp_path):
    inner = _zip({"logs/app.log": b"hello\n" + f"stripe={STRIPE}\n".encode()})
    deep = gzip.compress(_tar({"etc/token.txt": f"t={GITHUB_TOKEN}\n".encode()}))
    outer = tmp_path / "bundle.tar.gz"
    outer.write_bytes(_tar({"inner.zip": inner, "more/deep.tgz": deep, "readme.txt": b"nothing\n"}, "w:gz"))
    locs = _locations(_scan(outer))
    assert [(loc.path, loc.line) for loc in locs["stripe-live-secret-key"]] == [(f"{outer}!inner.zip!logs/app.log", 2)]
    assert [loc.path for loc in locs["github-pat-classic"]] == [f"{outer}!more/deep.tgz!etc/token.txt"]


def test_nesting_deeper_than_the_limit_is_reported(tmp_path):
    data = _zip({"leaf.log": LOG})
    for i in range(3):
        data = _zip({f"level{i}.zip": data})
    path = tmp_path / "matryoshka.zip"
    path.write_bytes(data)
    result = _scan(path, max_depth=2)
    assert not result.findings
    assert any("nested deeper than 2" in s.reason for s in result.stats.skipped)
    assert _locations(_scan(path))["github-pat-classic"][0].path == (
        f"{path}!level2.zip!level1.zip!level0.zip!leaf.log")


def test_corrupt_member_is_reported_and_the_other_members_are_scanned(tmp_path):
    raw = bytearray(_zip({"a-broken.log": b"x" * 5000 + b"\n" + LOG, "b-good.log": f"k={STRIPE}\n".encode()}))
    # Damage the first member's deflate data (its local header is 30 bytes + the name).
    start = 30 + len("a-broken.log")
    raw[start + 5 : start + 25] = bytes(20)
    path = tmp_path / "bundle.zip"
    path.write_bytes(bytes(raw))
    res = run_sprawl("scan", str(path), "-f", "json", "--no-ignore-file")
    assert res.returncode == 1, res.stderr.decode()
    assert b"Traceback" not in res.stderr
    doc = json.loads(res.stdout)
    assert {loc["path"] for f in doc["findings"] for loc in f["locations"]} == {f"{path}!b-good.log"}
    [skip] = doc["summary"]["skipped"]
    assert skip["path"] == f"{path}!a-broken.log"
    assert skip["reason"].startswith("corrupt archive member")


def test_truncated_gzip_keeps_what_was_read_and_says_so(tmp_path):
    body = LOG + b"2026-03-04T05:06:09Z INFO filler line of a long log\n" * 20000
    data = gzip.compress(body)
    path = tmp_path / "app.log.gz"
    path.write_bytes(data[: len(data) // 2])
    other = tmp_path / "other.env"
    other.write_text(f"STRIPE={STRIPE}\n")
    res = run_sprawl("scan", str(tmp_path), "-f", "json", "--no-ignore-file")
    assert b"Traceback" not in res.stderr
    doc = json.loads(res.stdout)
    found = {f["rule_id"]: f["locations"][0]["path"] for f in doc["findings"]}
    assert found == {"github-pat-classic": str(path), "stripe-live-secret-key": str(other)}
    [skip] = doc["summary"]["skipped"]
    assert skip["path"] == str(path) and skip["reason"].startswith("truncated archive; the rest of it was not scanned")
    assert "end-of-stream" in skip["reason"]


def test_truncated_tar_gz_reports_the_rest_of_the_archive_as_unscanned(tmp_path):
    filler = b"2026-03-04T05:06:09Z INFO nothing to see\n" * 40000
    data = _tar({"a.log": LOG, "b.log": filler, "c.log": filler}, "w:gz")
    path = tmp_path / "bundle.tgz"
    path.write_bytes(data[: int(len(data) * 0.7)])
    result = _scan(path)
    assert [loc.path for loc in _locations(result)["github-pat-classic"]] == [f"{path}!a.log"]
    reasons = {s.path: s.reason for s in result.stats.skipped}
    assert reasons[str(path)].startswith("truncated archive; the rest of it was not scanned")


def test_compression_ratio_bomb_is_stopped_and_the_scan_goes_on(tmp_path):
    bomb = tmp_path / "bomb.log.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as fh:
        for _ in range(64):
            fh.write(b"A" * 1024 * 1024)  # 64 MB of text, ~64 KB compressed
    good = tmp_path / "good.env"
    good.write_text(f"token={GITHUB_TOKEN}\n")
    res = run_sprawl("scan", str(tmp_path), "-f", "json", "--no-ignore-file")
    assert res.returncode == 1 and b"Traceback" not in res.stderr
    doc = json.loads(res.stdout)
    assert {loc["path"] for f in doc["findings"] for loc in f["locations"]} == {str(good)}
    [skip] = doc["summary"]["skipped"]
    assert skip["path"] == str(bomb)
    assert skip["reason"].startswith(f"archive bomb: compression ratio over {Limits().max_ratio}:1")
    assert doc["summary"]["bytes"] < 32 * 1024 * 1024  # it stopped early, not after 64 MB


def test_total_size_limit_is_reported(tmp_path):
    path = tmp_path / "big.tar"
    path.write_bytes(_tar({"a.log": LOG, "b.log": b"x = 1\n" * 400_000, "c.log": f"k={STRIPE}\n".encode()}))
    result = _scan(path, max_total=1024 * 1024)
    assert "stripe-live-secret-key" not in _locations(result)
    assert "github-pat-classic" in _locations(result)
    [skip] = result.stats.skipped
    assert skip.reason.startswith("archive bomb: more than 1048576 bytes decompressed")


def test_member_count_limit_is_reported(tmp_path):
    path = tmp_path / "many.zip"
    path.write_bytes(_zip({f"f{i:03}.txt": b"nothing\n" for i in range(50)} | {"z.log": LOG}))
    result = _scan(path, max_members=10)
    assert not result.findings
    [skip] = result.stats.skipped
    assert skip.reason.startswith("archive bomb: more than 10 members")
    assert result.stats.files == 10


def test_binary_members_are_not_scanned_and_not_reported(tmp_path):
    path = tmp_path / "app.jar"
    path.write_bytes(_zip({"A.class": b"\xca\xfe\xba\xbe\x00\x00" + bytes(100), "app.properties": LOG}))
    result = _scan(path)
    assert [loc.path for loc in _locations(result)["github-pat-classic"]] == [f"{path}!app.properties"]
    assert not result.stats.skipped


def test_cli_prints_archive_locations(tmp_path):
    path = tmp_path / "bundle.tar.gz"
    path.write_bytes(_tar({"logs/app.log": LOG}, "w:gz"))
    res = run_sprawl("scan", str(path), "--no-ignore-file")
    assert res.returncode == 1
    assert f"{path}!logs/app.log" in res.stdout.decode()


def test_prefixed_stream_reads_a_large_head_then_the_rest():
    import io

    from scanner.sources.archive import Prefixed

    head, rest = bytes(range(256)) * 4096, b"tail" * 1000
    stream = Prefixed(head, io.BytesIO(rest))
    got = []
    while piece := stream.read(8192):
        got.append(piece)
    assert b"".join(got) == head + rest
    stream = Prefixed(b"abc", io.BytesIO(b"def"))
    assert stream.read(2) == b"ab" and stream.read() == b"cdef" and stream.read(5) == b""


def _outcome_key(outcome):
    hits = sorted((h.path, h.match.rule_id, h.match.line, h.match.start) for h in outcome.hits)
    return hits, outcome.files, outcome.size, outcome.archive, sorted((s.path, s.reason) for s in outcome.skips)


@pytest.mark.parametrize("name", ["bundle.tgz", "bundle.zip", "app.log.gz"])
def test_shards_of_an_archive_together_scan_it_exactly_once(tmp_path, name):
    from scanner.engine import Engine
    from scanner.pipeline.blobs import merge_shards, scan_file
    from scanner.rules import load_rules

    members = {f"logs/{i}.log": LOG.replace(b"INFO start", f"INFO start {i}".encode()) for i in range(7)}
    members["inner.zip"] = _zip({"deep.log": LOG})
    if name.endswith(".zip"):
        data = _zip(members)
    elif name.endswith(".tgz"):
        data = _tar(members, "w:gz")
    else:
        data = gzip.compress(LOG * 3)  # no container: the one leaf belongs to shard 0
    path = tmp_path / name
    path.write_bytes(data)
    engine = Engine(load_rules())
    whole = scan_file(str(path), engine)
    for n in (2, 3):
        merged = merge_shards([scan_file(str(path), engine, shard=(k, n)) for k in range(n)])
        assert _outcome_key(merged) == _outcome_key(whole)
    assert whole.hits


def test_shards_of_a_truncated_archive_report_it_once(tmp_path):
    from scanner.engine import Engine
    from scanner.pipeline.blobs import merge_shards, scan_file
    from scanner.rules import load_rules

    filler = b"2026-03-04T05:06:09Z INFO nothing to see\n" * 40000
    data = _tar({"a.log": LOG, "b.log": filler, "c.log": LOG + filler}, "w:gz")
    path = tmp_path / "bundle.tgz"
    path.write_bytes(data[: int(len(data) * 0.7)])
    engine = Engine(load_rules())
    merged = merge_shards([scan_file(str(path), engine, shard=(k, 2)) for k in range(2)])
    assert _outcome_key(merged) == _outcome_key(scan_file(str(path), engine))
    assert len([s for s in merged.skips if s.path == str(path)]) == 1


def test_one_large_archive_is_shared_by_the_workers(tmp_path, monkeypatch):
    import scanner.pipeline.planning as scan_module
    from scanner.sources.filesystem import FileTask

    members = {f"logs/{i}.log": LOG * (i + 1) for i in range(9)}
    path = tmp_path / "bundle.tar.gz"
    path.write_bytes(_tar(members, "w:gz"))
    monkeypatch.setattr(scan_module, "SHARE_FILES_FROM", 1)
    monkeypatch.setattr(scan_module, "PARALLEL_THRESHOLD", 1)
    batches, jobs = scan_module.file_batches([FileTask(str(path), path.stat().st_size)], 2, 1 << 30)
    assert jobs == 2 and sorted((w.path, w.shard, w.shards) for b in batches for w in b) == [(str(path), k, 2) for k in range(2)]
    one = scan_paths([str(path)], ScanOptions(jobs=1, use_ignore_files=False))
    two = scan_paths([str(path)], ScanOptions(jobs=2, use_ignore_files=False))
    key = lambda r: (sorted((f.fingerprint, sorted(str(loc) for loc in f.locations)) for f in r.findings),  # noqa: E731
                     r.stats.files, r.stats.bytes, r.stats.archives)
    assert key(one) == key(two) and one.stats.files == 9


def test_a_binary_file_is_skipped_after_reading_its_head_only(tmp_path, monkeypatch):
    import builtins

    from scanner.sources import archive

    (tmp_path / "libbig.bin").write_bytes(b"!<arch>\n\0" + b"\x01" * 5_000_000)
    (tmp_path / "notes.txt").write_bytes(b"x = 1\n" * 5_000 + f"T = '{GITHUB_TOKEN}'\n".encode())
    (tmp_path / "big.log").write_bytes(b"GET /health 200\n" * 200_000 + f"token={GITHUB_TOKEN}\n".encode())
    read = {}

    class Counting:
        def __init__(self, fh, name):
            self.fh, self.name = fh, name

        def read(self, n=-1):
            data = self.fh.read(n)
            read[self.name] = read.get(self.name, 0) + len(data)
            return data

        def __getattr__(self, attr):
            return getattr(self.fh, attr)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    monkeypatch.setattr(archive, "open", lambda path, mode: Counting(builtins.open(path, mode), Path(path).name),
                        raising=False)
    result = scan_paths([str(tmp_path)], ScanOptions(jobs=1))
    assert [s.reason for s in result.stats.skipped] == ["binary"]
    assert read["libbig.bin"] <= 8000  # the rest of the 5 MB is never read
    assert read["notes.txt"] == (tmp_path / "notes.txt").stat().st_size  # a text file is read whole, once
    # A large one is read again from its start rather than copied onto its head: the head twice, no more.
    assert read["big.log"] == (tmp_path / "big.log").stat().st_size + 8000
    [finding] = result.findings  # one credential, in both files
    assert finding.rule_id == "github-pat-classic"
    assert sorted((loc.path.rsplit("/", 1)[-1], loc.line) for loc in finding.locations) == [
        ("big.log", 200_001), ("notes.txt", 5_001)]

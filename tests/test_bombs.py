"""The scan's bomb limits (scanner.sources.archive.Limits): a gzip of text at 344:1, a nested zip of text
leaves and a slow file are stopped and reported as incomplete, not scanned whole."""
from __future__ import annotations

import io
import json
import zipfile
import zlib

from conftest import GITHUB_TOKEN, run_sprawl

from scanner.pipeline.files import scan_paths
from scanner.pipeline.options import ScanOptions
from scanner.sources.archive import Limits


def _gzip_of_text(path, mb: int) -> None:
    """A gzip of `mb` MB of one log line repeated: 344:1, as the issue's 6 MB of 2 GiB."""
    block = b"2026-07-01 INFO GET /healthz 200\n" * 4096
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as fh:
        for _ in range(mb * 1024 * 1024 // len(block)):
            fh.write(comp.compress(block))
        fh.write(comp.flush())


def test_gzip_of_text_at_344_to_1_is_stopped_by_the_ratio(tmp_path):
    bomb = tmp_path / "app.log.gz"
    _gzip_of_text(bomb, 512)
    ratio = 512 * 1024 * 1024 / bomb.stat().st_size
    assert 300 < ratio < 400, ratio
    (tmp_path / "good.env").write_text(f"token={GITHUB_TOKEN}\n")
    res = run_sprawl("scan", str(tmp_path), "-f", "json", "--no-ignore-file")
    assert res.returncode == 1
    [skip] = json.loads(res.stdout)["summary"]["skipped"]
    assert skip["path"] == str(bomb) and skip["reason"].startswith("archive bomb")


def test_gzip_bomb_alone_exits_3(tmp_path):
    bomb = tmp_path / "app.log.gz"
    _gzip_of_text(bomb, 64)
    res = run_sprawl("scan", str(bomb), "--no-ignore-file")
    assert res.returncode == 3 and b"archive bomb" in res.stdout + res.stderr


def _nested_zip(levels: int, fanout: int, leaf: bytes) -> bytes:
    data, name = leaf, "leaf.log"
    for _ in range(levels):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for i in range(fanout):
                zf.writestr(f"{i}-{name}", data)
        data, name = buf.getvalue(), "inner.zip"
    return data


def test_nested_zip_of_text_leaves_is_bounded(tmp_path):
    leaf = b"2026-07-01T00:00:00Z INFO GET /api/v1/items 200 12ms\n" * 40000  # 2 MB of text
    bomb = tmp_path / "bundle.zip"
    bomb.write_bytes(_nested_zip(3, 10, leaf))  # 1,000 leaves: 2 GB of text
    assert bomb.stat().st_size < 2 * 1024 * 1024
    res = run_sprawl("scan", str(bomb), "-f", "json", "--no-ignore-file")
    assert res.returncode == 3
    [skip] = json.loads(res.stdout)["summary"]["skipped"]
    assert skip["reason"].startswith("archive bomb")


def test_per_file_time_budget_is_an_incomplete_skip(tmp_path):
    """Checked between the chunks of a stream and between members (a plain file read whole is one engine call)."""
    import gzip

    log = tmp_path / "big.log.gz"
    line = b"2026-07-01T00:00:00Z DEBUG password=hunter2 token=abc key=value secret=x\n"
    log.write_bytes(gzip.compress(line * (48 * 1024 * 1024 // len(line)), 1))
    options = ScanOptions(jobs=1, archive_limits=Limits(file_seconds=0.5, max_ratio=100_000), use_ignore_files=False)
    result = scan_paths([str(log)], options)
    [skip] = result.stats.skipped
    assert skip.incomplete and skip.reason.startswith("time limit: scanning took longer than 0.5 s")

"""Archives and compressed streams cut short keep what they decoded before the damage and say where it
broke: the secrets zcat (xzcat, bzcat) recovers are found, the file is reported incomplete, and the run
exits 1 (or 3 when nothing was found); a truncated zstd stream is detected."""
from __future__ import annotations

import io
import json
import random
import shutil
import string
import subprocess
import tarfile

import pytest
from conftest import run_sprawl

RNG = random.Random(4242)


def _secret() -> str:
    return "sk_live_" + "".join(RNG.choice(string.ascii_letters + string.digits) for _ in range(32))


def _log(secret: str | None, lines: int = 600) -> bytes:
    out = [f"2026-07-01T00:00:{i % 60:02d}Z INFO request {RNG.random():.12f} served path=/api/{i}" for i in range(lines)]
    if secret:
        out.insert(lines // 2, f"2026-07-01T00:00:00Z DEBUG stripe key {secret}")
    return ("\n".join(out) + "\n").encode()


def _scan(path) -> tuple[int, set[str], list[dict]]:
    res = run_sprawl("scan", str(path), "-f", "json", "--no-ignore-file", "--min-confidence", "low",
                     "--show-secrets")
    assert b"Traceback" not in res.stderr, res.stderr.decode()
    doc = json.loads(res.stdout)
    return res.returncode, {f["secret"] for f in doc["findings"]}, doc["summary"]["skipped"]


def _cut(src, dst, size: int) -> None:
    with open(dst, "wb") as fh:
        subprocess.run(["head", "-c", str(size), str(src)], stdout=fh, check=True)


def _recovered(tool: list[str], path) -> bytes:
    """What the system's decompressor recovers from a damaged file (it exits non-zero)."""
    with open(path, "rb") as fh:
        return subprocess.run(tool, stdin=fh, capture_output=True).stdout


def test_truncated_tar_gz_yields_what_zcat_recovers(tmp_path):
    secrets = [_secret() for _ in range(8)]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for i in range(40):
            data = _log(secrets[i // 5] if i % 5 == 0 else None)
            info = tarfile.TarInfo(f"logs/app{i:02d}.log")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    full = tmp_path / "full.tar.gz"
    full.write_bytes(buf.getvalue())
    cut = tmp_path / "cut.tar.gz"
    _cut(full, cut, full.stat().st_size // 4)
    text = _recovered(["zcat"], cut)
    expected = {s for s in secrets if s.encode() in text}
    assert 1 <= len(expected) < len(secrets)
    code, found, skipped = _scan(cut)
    assert code == 1 and found == expected
    [skip] = skipped
    assert skip["reason"].startswith("truncated archive") and "gzip stream breaks after" in skip["reason"]

    early = tmp_path / "early.tar.gz"
    _cut(full, early, 2000)
    code, found, skipped = _scan(early)
    assert code == 3 and found == set() and len(skipped) == 1


@pytest.mark.parametrize("kind,tool", [("gz", ["zcat"]), ("xz", ["xzcat"]), ("bz2", ["bzcat"]),
                                       ("zst", ["zstd", "-dc"])])
def test_truncated_compressed_log_keeps_the_readable_data(tmp_path, kind, tool):
    import bz2
    import gzip
    import lzma

    import zstandard

    if shutil.which(tool[0]) is None:
        pytest.skip(f"{tool[0]} is not installed")
    secrets = [_secret() for _ in range(10)]
    data = b"".join(_log(s, 4000) for s in secrets)  # bzip2 blocks are 900 KB: several of them
    packed = {"gz": gzip.compress, "xz": lzma.compress, "bz2": bz2.compress,
              "zst": zstandard.ZstdCompressor().compress}[kind](data)
    full = tmp_path / f"app.log.{kind}"
    full.write_bytes(packed)
    cut = tmp_path / f"cut.log.{kind}"
    _cut(full, cut, len(packed) * 2 // 3)
    text = _recovered(tool, cut)
    expected = {s for s in secrets if s.encode() in text}
    assert 1 <= len(expected) < len(secrets), kind
    code, found, skipped = _scan(cut)
    # Python's decompressors give out a few KB more than the tools flush before they stop
    assert code == 1 and expected <= found < set(secrets), (kind, len(found), len(expected))
    [skip] = skipped
    assert "truncated" in skip["reason"]


def test_truncated_zstd_with_nothing_found_exits_3(tmp_path):
    import zstandard

    packed = zstandard.ZstdCompressor().compress(_log(None, 20000))
    cut = tmp_path / "cut.log.zst"
    cut.write_bytes(packed[: len(packed) // 2])
    code, found, skipped = _scan(cut)
    assert code == 3 and found == set()
    assert "zstd stream ends inside a frame" in skipped[0]["reason"]

"""sprawl redact: same layout, every secret masked, nothing left at medium confidence or above."""
from __future__ import annotations

import bz2
import gzip
import io
import json
import tarfile
import zipfile

import zstandard
from archiveutil import make_tar as _tar
from archiveutil import make_zip as _zip
from conftest import GITHUB_TOKEN, run_sprawl

STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dcXq2Lm9Pz"
SLACK = "xoxb-2094834729-2098374653821-aB3dE5fG7hJ9kL1mN3pQ5rS7"
SECRETS = (GITHUB_TOKEN, STRIPE, SLACK, "S3cr3tPassw0rd9x", "YWxpY2U6c3VwZXJzZWNyZXRwYXNzd29yZDEyMw==")

LOG = (
    "2026-07-01T00:00:00Z INFO boot\n"
    f"2026-07-01T00:00:01Z DEBUG token={GITHUB_TOKEN} next\n"
    f'{{"time":"2026-07-01T00:00:02Z","stripe":"{STRIPE}","msg":"charge"}}\n'
    "2026-07-01T00:00:03Z DEBUG GET https://deploy:S3cr3tPassw0rd9x@git.internal.example.com/x\n"
    "2026-07-01T00:00:04Z DEBUG Authorization: Basic YWxpY2U6c3VwZXJzZWNyZXRwYXNzd29yZDEyMw==\n"
    f"2026-07-01T00:00:05Z WARN slack {SLACK}\n"
).encode()


def _members_tgz(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
        return {m.name: tf.extractfile(m).read() for m in tf if m.isfile()}


def _rescan(path) -> dict:
    res = run_sprawl("scan", str(path), "-f", "json", "--no-ignore-file", "--min-confidence", "medium")
    assert b"Traceback" not in res.stderr
    return json.loads(res.stdout)


def test_redacted_bundle_keeps_its_layout_and_rescans_clean(tmp_path):
    inner = _zip({"logs/api.log": LOG, "readme.txt": b"no secrets here\n"})
    bundle = tmp_path / "bundle.tar.gz"
    bundle.write_bytes(_tar({"app/app.log": LOG, "inner.zip": inner, "rotated.log.bz2": bz2.compress(LOG),
                             "events.zst": zstandard.ZstdCompressor().compress(LOG)}, "w:gz"))
    assert len(_rescan(bundle)["findings"]) >= 5
    clean = tmp_path / "clean.tar.gz"
    res = run_sprawl("redact", str(bundle), "-o", str(clean))
    assert res.returncode == 0, res.stderr.decode()
    assert "secret(s) masked" in res.stderr.decode()

    members = _members_tgz(clean.read_bytes())
    assert sorted(members) == ["app/app.log", "events.zst", "inner.zip", "rotated.log.bz2"]
    with zipfile.ZipFile(io.BytesIO(members["inner.zip"])) as zf:
        assert zf.namelist() == ["logs/api.log", "readme.txt"]
        api_log = zf.read("logs/api.log")
        assert zf.read("readme.txt") == b"no secrets here\n"
    for text in (members["app/app.log"], api_log, bz2.decompress(members["rotated.log.bz2"]),
                 zstandard.ZstdDecompressor().decompressobj().decompress(members["events.zst"])):
        assert len(text) == len(LOG) and text.count(b"\n") == LOG.count(b"\n")
        assert not any(s.encode() in text for s in SECRETS)
        assert b"ghp_u8****" in text and b"next\n" in text
    doc = _rescan(clean)
    assert doc["findings"] == [], [f["rule_id"] for f in doc["findings"]]


def test_redact_plain_file_and_folder(tmp_path):
    src = tmp_path / "logs"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "app.log").write_bytes(LOG)
    (src / "old.log.gz").write_bytes(gzip.compress(LOG))
    (src / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    out = tmp_path / "clean"
    res = run_sprawl("redact", str(src), "-o", str(out))
    assert res.returncode == 0, res.stderr.decode()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "image.png", "old.log.gz", "sub/app.log"]
    assert (out / "image.png").read_bytes() == (src / "image.png").read_bytes()
    assert GITHUB_TOKEN.encode() not in gzip.decompress((out / "old.log.gz").read_bytes())
    assert _rescan(out)["findings"] == []


def test_redact_refuses_to_overwrite_and_fails_closed(tmp_path):
    src = tmp_path / "app.log"
    src.write_bytes(LOG)
    existing = tmp_path / "exists.log"
    existing.write_text("keep me\n")
    res = run_sprawl("redact", str(src), "-o", str(existing))
    assert res.returncode == 2 and b"exists" in res.stderr and existing.read_text() == "keep me\n"

    data = gzip.compress(LOG * 200)
    broken = tmp_path / "broken.log.gz"
    broken.write_bytes(data[: len(data) // 2])
    out = tmp_path / "broken.clean.gz"
    res = run_sprawl("redact", str(broken), "-o", str(out))
    assert res.returncode == 2 and b"Traceback" not in res.stderr
    assert b"no copy written" in res.stderr and not out.exists()

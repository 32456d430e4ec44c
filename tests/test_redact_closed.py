"""sprawl redact fails closed: it masks everything the scan saw (UTF-16/32 text in its own encoding, binary
files' printable strings in place) or refuses, under the scan's limits, and never leaves a partial copy."""
from __future__ import annotations

import gzip
import io
import json
import os
import py_compile
import signal
import sqlite3
import string
import subprocess
import sys
import time
import zipfile

import pytest
import zstandard
from archiveutil import make_zip
from conftest import GITHUB_TOKEN, REPO, run_sprawl

STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dcXq2Lm9Pz"
TEXT = f'# settings\nname = "svc"\nTOKEN = "{GITHUB_TOKEN}"\nstripe: {STRIPE}\n'
CODECS = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]
ENCODINGS = ["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]


def _holds_a_secret(data: bytes) -> bool:
    return any(s.encode(enc) in data for s in (GITHUB_TOKEN, STRIPE) for enc in ENCODINGS)


def _findings(path, *args) -> list:
    res = run_sprawl("scan", str(path), "-f", "json", "--no-ignore-file", "--min-confidence", "low", *args)
    assert b"Traceback" not in res.stderr
    return json.loads(res.stdout)["findings"]


def test_utf16_and_utf32_text_is_masked_in_its_own_encoding(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for codec in CODECS:
        (src / f"{codec}.conf").write_bytes(TEXT.encode(codec))
    out = tmp_path / "clean"
    res = run_sprawl("redact", str(src), "-o", str(out))
    assert res.returncode == 0, res.stderr.decode()
    for codec in CODECS:
        data = (out / f"{codec}.conf").read_bytes()
        assert not _holds_a_secret(data)
        assert len(data) == len(TEXT.encode(codec)) and data[:4] == TEXT.encode(codec)[:4]  # the mark kept
        text = data.decode(codec)
        assert text.count("\n") == 4 and "ghp_u8****" in text and 'name = "svc"' in text
    assert _findings(out) == []


def _binaries(folder) -> dict[str, bytes]:
    """Real binary files that hold the secrets: an ELF-like executable, a PNG with a text chunk, a SQLite
    database, a compiled Python module, a log with a NUL byte."""
    db = folder / "cache.sqlite"
    con = sqlite3.connect(db)
    con.execute("create table kv (k text, v text)")
    con.execute("insert into kv values ('github', ?)", (f"token={GITHUB_TOKEN}",))
    con.commit()
    con.close()
    mod = folder / "settings.py"
    mod.write_text(f'STRIPE_KEY = "{STRIPE}"\n')
    py_compile.compile(str(mod), cfile=str(folder / "settings.pyc"))
    mod.unlink()
    (folder / "agent").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4
                                   + f"\0export GITHUB_TOKEN={GITHUB_TOKEN}\0".encode() + bytes(64))
    (folder / "shot.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\x19tEXt" + f"comment\0stripe {STRIPE}".encode()
                                      + bytes(16))
    (folder / "app.log").write_bytes(b"boot\0ok\n" + f"token={GITHUB_TOKEN}\n".encode())
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_binary_files_are_masked_in_place(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    originals = _binaries(src)
    assert all(_holds_a_secret(data) for data in originals.values())
    assert _findings(src) == []  # skipped as binary by default
    assert len(_findings(src, "--scan-binaries")) >= 2
    out = tmp_path / "clean"
    res = run_sprawl("redact", str(src), "-o", str(out))
    assert res.returncode == 0, res.stderr.decode()
    for name, data in originals.items():
        masked = (out / name).read_bytes()
        assert len(masked) == len(data) and not _holds_a_secret(masked), name
        assert masked[:8] == data[:8]
    # The database still opens, with the value masked in its row.
    [(value,)] = sqlite3.connect(out / "cache.sqlite").execute("select v from kv").fetchall()
    assert value.startswith("token=ghp_u8") and value.endswith("****")
    assert _findings(out, "--scan-binaries") == []


def test_every_json_line_still_parses(tmp_path):
    nested = json.dumps({"auth": {"token": GITHUB_TOKEN, "stripe": STRIPE}})
    lines = [json.dumps({"msg": nested, "n": i}) for i in range(3)]
    lines.append(json.dumps({"body": json.dumps({"api_key": "Zq8" + "x7Kp2Lm9Rt4Vw6Yb3Nc5Hd"})}))
    src = tmp_path / "events.jsonl"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "clean.jsonl"
    res = run_sprawl("redact", str(src), "-o", str(out))
    assert res.returncode == 0, res.stderr.decode()
    data = out.read_bytes()
    assert not _holds_a_secret(data) and data != src.read_bytes()
    for line in data.decode().splitlines():
        json.loads(line)


@pytest.mark.parametrize("kind", ["gz", "zst"])
def test_zip_inside_a_compressed_stream(tmp_path, kind):
    inner = make_zip({"conf/app.env": TEXT.encode(), "readme.txt": b"nothing\n"})
    data = gzip.compress(inner) if kind == "gz" else zstandard.ZstdCompressor().compress(inner)
    src = tmp_path / f"bundle.zip.{kind}"
    src.write_bytes(data)
    out = tmp_path / f"clean.zip.{kind}"
    res = run_sprawl("redact", str(src), "-o", str(out))
    assert res.returncode == 0, res.stderr.decode()
    raw = out.read_bytes()
    unpacked = gzip.decompress(raw) if kind == "gz" else zstandard.ZstdDecompressor().decompressobj().decompress(raw)
    with zipfile.ZipFile(io.BytesIO(unpacked)) as zf:
        assert zf.namelist() == ["conf/app.env", "readme.txt"]
        env = zf.read("conf/app.env")
    assert len(env) == len(TEXT) and not _holds_a_secret(env) and b"ghp_u8****" in env


def test_redact_shares_the_scans_bomb_limits(tmp_path):
    bomb = tmp_path / "bomb.log.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as fh:
        for _ in range(64):
            fh.write(b"A" * 1024 * 1024)
    out = tmp_path / "clean.log.gz"
    res = run_sprawl("redact", str(bomb), "-o", str(out))
    assert res.returncode == 2 and b"archive bomb" in res.stderr and b"no copy written" in res.stderr
    assert not out.exists() and os.listdir(tmp_path) == ["bomb.log.gz"]


def test_fifo_is_refused_and_left_out_of_a_folder(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    res = run_sprawl("redact", str(fifo), "-o", str(tmp_path / "out"))
    assert res.returncode == 2 and b"FIFO" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "queue")
    (src / "app.env").write_text(TEXT)
    res = run_sprawl("redact", str(src), "-o", str(tmp_path / "clean"))
    assert res.returncode == 3 and b"queue" in res.stderr, res.stderr.decode()
    assert sorted(os.listdir(tmp_path / "clean")) == ["app.env"]


def test_output_inside_the_input_is_not_redacted_again(tmp_path):
    src = tmp_path / "b"
    (src / "sub").mkdir(parents=True)
    (src / "app.env").write_text(TEXT)
    res = run_sprawl("redact", str(src), "-o", str(src / "sub" / "clean"))
    assert res.returncode == 0, res.stderr.decode()
    copied = sorted(str(p.relative_to(src / "sub" / "clean")) for p in (src / "sub" / "clean").rglob("*"))
    assert copied == ["app.env", "sub"]


@pytest.mark.skipif(os.geteuid() == 0 and subprocess.run(["which", "setpriv"], capture_output=True).returncode,
                    reason="running as root without setpriv: file modes are not obeyed")
def test_unreadable_subfolder_is_named_and_exits_3(tmp_path):
    src = tmp_path / "src"
    (src / "locked").mkdir(parents=True)
    (src / "locked" / "secret.env").write_text(TEXT)
    (src / "app.env").write_text(TEXT)
    os.chmod(src / "locked", 0)
    try:
        res = run_sprawl("redact", str(src), "-o", str(tmp_path / "clean"), obey_file_modes=True)
    finally:
        os.chmod(src / "locked", 0o755)
    assert res.returncode == 3, res.stderr.decode()
    assert b"locked" in res.stderr and b"cannot read folder" in res.stderr
    assert not _holds_a_secret((tmp_path / "clean" / "app.env").read_bytes())


def _big_log(path, mb: int) -> None:
    block = b"2026-07-01T00:00:01Z INFO request served in 12ms path=/api/v1/items status=200\n" * 2000
    block += f"2026-07-01T00:00:01Z DEBUG token={GITHUB_TOKEN} next\n".encode()
    with open(path, "wb") as fh:
        fh.write(block * (mb * 1024 * 1024 // len(block)))


def test_sigterm_leaves_no_partial_copy(tmp_path):
    src = tmp_path / "big.log"
    _big_log(src, 200)
    out = tmp_path / "clean.log"
    proc = subprocess.Popen([sys.executable, "-m", "scanner.cli", "redact", str(src), "-o", str(out)],
                            cwd=REPO, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and b"no copy written" in err, err.decode()
    assert os.listdir(tmp_path) == ["big.log"]


def test_write_error_leaves_no_partial_copy(tmp_path):
    import resource

    src = tmp_path / "big.log"
    _big_log(src, 8)
    out = tmp_path / "clean.log"

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    res = subprocess.run([sys.executable, "-m", "scanner.cli", "redact", str(src), "-o", str(out)], cwd=REPO,
                         capture_output=True, preexec_fn=small_files, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert res.returncode == 2 and b"Traceback" not in res.stderr, res.stderr.decode()
    assert os.listdir(tmp_path) == ["big.log"]


def test_no_planted_value_remains_in_any_encoding_the_scan_decodes(tmp_path):
    """A tree with binary files, UTF-16 text and 120 base64-encoded secrets (the decoders' old budget of 64
    spans left 56 of them intact in the copy)."""
    import base64
    import random

    rng = random.Random(120)
    src = tmp_path / "src"
    src.mkdir()
    _binaries(src)
    (src / "wide.conf").write_bytes(TEXT.encode("utf-16"))
    # A digit in each: a generic secret of letters only is no secret to the scan, encoded or not.
    values = ["".join(rng.choice(string.ascii_letters + string.digits) for _ in range(23)) + str(i % 10)
              for i in range(120)]
    blobs = [base64.b64encode(f'api_key = "{v}"\n'.encode()).decode() for v in values]
    (src / "values.yaml").write_text("".join(f"blob{i}: {b}\n" for i, b in enumerate(blobs)))
    out = tmp_path / "clean"
    res = run_sprawl("redact", str(src), "-o", str(out))
    assert res.returncode == 0, res.stderr.decode()
    for path in out.rglob("*"):
        data = path.read_bytes()
        assert not _holds_a_secret(data), path.name
        assert not any(v.encode() in data for v in values)
    copied = (out / "values.yaml").read_text().splitlines()
    for line, value in zip(copied, values):
        encoded = line.split(": ", 1)[1].rstrip("*")
        decoded = base64.b64decode(encoded[: len(encoded) // 4 * 4] or "")
        assert value.encode() not in decoded

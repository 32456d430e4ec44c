"""UTF-16 and UTF-32 text (with and without a byte-order mark) is decoded and scanned, not skipped as
binary; binary files' printable strings are scanned on request (--scan-binaries)."""
from __future__ import annotations

import json
import secrets
import string

import pytest
from conftest import GITHUB_TOKEN, run_sprawl

from scanner.sources.filesystem import is_binary, wide_encoding

TEXT = f'# settings\nname = "svc"\nTOKEN = "{GITHUB_TOKEN}"\n'
CODECS = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]


def _locations(out: bytes) -> list[tuple[str, int, int]]:
    doc = json.loads(out)
    return sorted((_name(loc["path"]), loc["line"], loc["column"]) for f in doc["findings"] for loc in f["locations"])


def _name(path: str) -> str:
    """The file's name (with its member path inside an archive)."""
    outer = path.find("!")
    return path[path.rfind("/", 0, outer if outer >= 0 else len(path)) + 1 :]


@pytest.mark.parametrize("codec", CODECS)
def test_wide_text_is_text(codec):
    data = TEXT.encode(codec)
    assert b"\0" in data[:100]
    assert not is_binary(data)
    assert wide_encoding(data) is not None


def test_binaries_stay_binary():
    for head in (b"\x7fELF\x02\x01\x01" + bytes(200), b"\x89PNG\r\n\x1a\n" + bytes(64) + b"IHDR",
                 b"SQLite format 3\x00" + bytes(100), bytes(range(256)) * 4, b"\xff\xfe" + bytes(range(256))):
        assert is_binary(head), head[:8]


def test_utf16_and_utf32_files_are_scanned_with_decoded_lines(tmp_path):
    for codec in CODECS:
        (tmp_path / f"{codec}.txt").write_bytes(TEXT.encode(codec))
    res = run_sprawl("scan", str(tmp_path), "-f", "json", "--no-ignore-file")
    assert res.returncode == 1, res.stderr.decode()
    assert _locations(res.stdout) == sorted((f"{c}.txt", 3, 10) for c in CODECS)


def test_utf16_member_of_an_archive_and_on_standard_input(tmp_path):
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        data = TEXT.encode("utf-16")
        info = tarfile.TarInfo("conf/app.ini")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    (tmp_path / "b.tar.gz").write_bytes(buf.getvalue())
    res = run_sprawl("scan", str(tmp_path / "b.tar.gz"), "-f", "json", "--no-ignore-file")
    assert res.returncode == 1 and _locations(res.stdout) == [("b.tar.gz!conf/app.ini", 3, 10)]
    res = run_sprawl("scan", "-", "-f", "json", "--no-ignore-file", stdin=TEXT.encode("utf-32-be"))
    assert res.returncode == 1 and _locations(res.stdout) == [("<stdin>", 3, 10)]


def _elf_with(secret_line: bytes) -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8 + b"\x00" + secret_line + b"\x00" + bytes(300)


def test_scan_binaries_finds_printable_strings_only_on_request(tmp_path):
    (tmp_path / "tool").write_bytes(_elf_with(f"TOKEN={GITHUB_TOKEN}".encode()))
    rng = secrets.SystemRandom()
    junk = "".join(rng.choice(string.ascii_letters) for _ in range(40))
    (tmp_path / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32) + junk.encode()[:7] + bytes(8))
    res = run_sprawl("scan", str(tmp_path), "-f", "json", "--no-ignore-file")
    assert res.returncode == 0 and json.loads(res.stdout)["findings"] == []
    res = run_sprawl("scan", str(tmp_path), "-f", "json", "--no-ignore-file", "--scan-binaries")
    assert res.returncode == 1, res.stderr.decode()
    assert [loc[0] for loc in _locations(res.stdout)] == ["tool"]

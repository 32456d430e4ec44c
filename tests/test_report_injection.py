"""Output injection: CSV cells are not formulas, text output carries no escape sequence or raw newline from
a file name or snippet, the triage Markdown lets no HTML through, and a file name that is not UTF-8 never
crashes a report (escaped for display)."""
from __future__ import annotations

import csv
import io
import json
import os
import tarfile

from conftest import GITHUB_TOKEN, run_sprawl

from scanner.report.escape import code_span, display, markdown_prose, spreadsheet_cell

LINE = f"token={GITHUB_TOKEN}\n"


def test_escape_helpers():
    assert display("a\x1b]8;;http://x\x07b\nc\udcff") == "a\\x1b]8;;http://x\\x07b\\nc\\xff"
    assert display("plain/path.env") == "plain/path.env"
    for cell in ("=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert spreadsheet_cell(cell) == "'" + cell
    assert spreadsheet_cell("safe") == "safe" and spreadsheet_cell(12) == 12
    assert "<" not in markdown_prose("x`<img src=x onerror=alert(1)>`")
    assert code_span("a`b") == "``a`b``" and code_span("`<img>`") == "`` `<img>` ``"


def test_csv_cells_are_not_formulas(tmp_path):
    name = '=HYPERLINK("https:evil.example","click").env'
    (tmp_path / name).write_text(LINE)
    res = run_sprawl("scan", name, "-f", "csv", "--no-ignore-file", cwd=tmp_path)
    assert res.returncode == 1, res.stderr.decode()
    rows = list(csv.DictReader(io.StringIO(res.stdout.decode())))
    assert rows and all(not v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    assert rows[0]["path"] == "'" + name


def test_text_report_escapes_control_characters(tmp_path):
    evil = "a\x1b]8;;https:evil.example\x07link\x1b]8;;\x07\x1b[2J.env"
    newline = "first\nFAKE  high  forged-rule.env"
    (tmp_path / evil).write_text(LINE)
    (tmp_path / newline).write_text(f"x=1 \x1b[31mred\x1b[0m token={GITHUB_TOKEN}\n")
    out = tmp_path / "report.txt"
    res = run_sprawl("scan", str(tmp_path), "--no-ignore-file", "-o", str(out))
    assert res.returncode == 1, res.stderr.decode()
    for text in (res.stdout + res.stderr, out.read_bytes()):
        assert b"\x1b" not in text and b"\x07" not in text
    report = out.read_text()
    assert "first\\nFAKE  high  forged-rule.env" in report
    assert not any(line.startswith("FAKE") for line in report.splitlines())


def test_triage_markdown_lets_no_html_through(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        name = "logs/`<img src=x onerror=alert(1)>`.log"
        data = LINE.encode()
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    bundle = tmp_path / "bundle.tar.gz"
    bundle.write_bytes(buf.getvalue())
    res = run_sprawl("triage", str(bundle), "-f", "markdown")
    assert res.returncode == 1, res.stderr.decode()
    md = res.stdout.decode()
    # CommonMark reads no HTML inside a code span; the span's fence is longer than any backtick run in it.
    import re

    assert f"``{bundle}!logs/`<img src=x onerror=alert(1)>`.log:1``" in md
    assert "<img" not in re.sub(r"``.*?``", "", md)


def test_a_file_name_that_is_not_utf8_never_crashes_a_report(tmp_path):
    folder = os.fsencode(tmp_path)
    with open(os.path.join(folder, b"bad\xff\xfename.env"), "wb") as fh:
        fh.write(LINE.encode())
    for fmt in ("text", "csv", "html", "json", "sarif"):
        out = tmp_path / f"report.{fmt}"
        res = run_sprawl("scan", str(tmp_path), "-f", fmt, "-o", str(out), "--no-ignore-file")
        assert res.returncode == 1 and b"Traceback" not in res.stderr, (fmt, res.stderr.decode())
        text = out.read_text(encoding="utf-8")
        assert "bad" in text and "name.env" in text, fmt
        if fmt in ("text", "csv", "html"):
            assert "bad\\xff\\xfename.env" in text, fmt
        out.unlink()
    res = run_sprawl("scan", str(tmp_path), "--no-ignore-file")
    assert res.returncode == 1 and b"bad\\xff\\xfename.env" in res.stdout
    json.loads(run_sprawl("scan", str(tmp_path), "-f", "json", "--no-ignore-file").stdout)

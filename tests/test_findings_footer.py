"""`sprawl findings` closes with what the listing holds (by band, status and rule), never a scan's counters,
and points to `sprawl mark ... --as allowed` for a false positive (issue 24)."""
from __future__ import annotations

import re

from tests.conftest import run_sprawl


def _recorded(tree, tmp_path):
    db = tmp_path / "store" / "sprawl.db"
    res = run_sprawl("scan", str(tree), "--db", str(db))
    assert res.returncode == 1, res.stderr
    return db


def test_the_footer_counts_the_listing_not_a_scan(tree, tmp_path):
    db = _recorded(tree, tmp_path)
    res = run_sprawl("findings", "--db", str(db))
    assert res.returncode == 1, res.stderr
    out = res.stdout.decode()
    assert "blob(s)" not in out and "scanned in" not in out
    assert "1 credential(s) listed, at 1 location(s)" in out
    assert "by band: 1 unscored" in out and "by status: 1 open" in out
    assert re.search(r"by rule: 1 github-\S+", out)
    assert "sprawl mark FINGERPRINT --as allowed" in out and "sprawl:allow" not in out


def test_the_footer_follows_a_triage_decision_and_goes_to_stderr_with_a_format(tree, tmp_path):
    db = _recorded(tree, tmp_path)
    fingerprint = re.search(r"\[([0-9a-f]{8,})\]", run_sprawl("findings", "--db", str(db)).stdout.decode())[1]
    marked = run_sprawl("mark", fingerprint, "--as", "revoked", "--reason", "rotated", "--db", str(db))
    assert marked.returncode == 0, marked.stderr
    res = run_sprawl("findings", "--db", str(db), "-f", "json")
    err = res.stderr.decode()
    assert "sprawl: by status: 1 revoked" in err and "blob(s)" not in err


def test_an_empty_listing_says_so(tree, tmp_path):
    db = _recorded(tree, tmp_path)
    res = run_sprawl("findings", "--db", str(db), "--provider", "no-such-provider")
    assert res.returncode == 0, res.stderr
    assert res.stdout.decode().strip() == "0 credential(s) listed, at 0 location(s)"

"""Baselines: create, update, expire, and import from detect-secrets, gitleaks and betterleaks."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.conftest import GITHUB_TOKEN, run_sprawl
from tests.test_staged import OTHER_TOKEN


def _tree(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "old.py").write_text(f"T = '{GITHUB_TOKEN}'\n")
    return tmp_path


def test_create_then_only_new_findings_are_reported(tmp_path):
    root = _tree(tmp_path)
    baseline = tmp_path / "bl.json"
    res = run_sprawl("baseline", "create", str(root), "-o", str(baseline))
    assert res.returncode == 0, res.stderr.decode()
    text = baseline.read_text()
    doc = json.loads(text)
    [entry] = doc["entries"]
    assert set(entry) == {"fingerprint", "rule_id", "paths"}
    assert GITHUB_TOKEN not in text and '"line"' not in text and "date" not in text

    res = run_sprawl("scan", str(root), "--baseline", str(baseline))
    assert res.returncode == 0 and "1 in the baseline" in res.stdout.decode()

    (root / "new.py").write_text(f"N = '{OTHER_TOKEN}'\n")
    res = run_sprawl("scan", str(root), "--baseline", str(baseline), "-f", "json")
    assert res.returncode == 1
    assert [f["locations"][0]["path"] for f in json.loads(res.stdout)["findings"]] == [str(root / "new.py")]

    # Moving the line does not invalidate the baseline: it has no line numbers.
    (root / "old.py").write_text(f"# moved\n\nT = '{GITHUB_TOKEN}'\n")
    (root / "new.py").unlink()
    assert run_sprawl("scan", str(root), "--baseline", str(baseline)).returncode == 0
    assert run_sprawl("baseline", "create", str(root), "-o", str(baseline)).returncode == 2  # no clobbering


def test_update_keeps_review_notes_adds_and_drops(tmp_path):
    root = _tree(tmp_path / "t")
    baseline = tmp_path / "bl.json"
    run_sprawl("baseline", "create", str(root), "-o", str(baseline))
    doc = json.loads(baseline.read_text())
    doc["entries"][0].update(reason="revoked in March", owner="team:platform", expires="2999-01-01")
    baseline.write_text(json.dumps(doc))
    (root / "new.py").write_text(f"N = '{OTHER_TOKEN}'\n")
    res = run_sprawl("baseline", "update", str(baseline), str(root))
    assert "1 added, 0 removed, 1 kept" in res.stdout.decode()
    entries = {e["paths"][0].rsplit("/", 1)[-1]: e for e in json.loads(baseline.read_text())["entries"]}
    assert entries["old.py"]["owner"] == "team:platform" and entries["old.py"]["reason"] == "revoked in March"
    (root / "old.py").unlink()
    res = run_sprawl("baseline", "update", str(baseline), str(root))
    assert "0 added, 1 removed, 1 kept" in res.stdout.decode()


def test_expired_entry_stops_hiding_its_finding(tmp_path):
    root = _tree(tmp_path / "t")
    baseline = tmp_path / "bl.json"
    run_sprawl("baseline", "create", str(root), "-o", str(baseline))
    doc = json.loads(baseline.read_text())
    doc["entries"][0]["expires"] = "2020-01-01"
    baseline.write_text(json.dumps(doc))
    res = run_sprawl("scan", str(root), "--baseline", str(baseline))
    assert res.returncode == 1 and "expired on 2020-01-01" in res.stdout.decode()


def test_bad_baseline_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bl.json"
    bad.write_text("{not json")
    res = run_sprawl("scan", str(tmp_path), "--baseline", str(bad))
    assert res.returncode == 2 and "not a readable baseline" in res.stderr.decode()
    assert "Traceback" not in res.stderr.decode()


def test_import_detect_secrets_gitleaks_and_betterleaks(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.py").write_text(f"A = '{GITHUB_TOKEN}'\n")
    (root / "b.py").write_text(f"x = 1\nB = '{OTHER_TOKEN}'\n")
    third = OTHER_TOKEN[:-6] + GITHUB_TOKEN[-6:]  # a third value; its checksum is wrong, so low confidence
    (root / "c.py").write_text(f"C = '{third}'\n")
    ds = tmp_path / ".secrets.baseline"
    ds.write_text(json.dumps({"version": "1.5.0", "results": {"a.py": [{
        "type": "GitHub Token", "filename": "a.py", "line_number": 1,
        "hashed_secret": hashlib.sha1(GITHUB_TOKEN.encode()).hexdigest(), "is_verified": False}]}}))
    gl = tmp_path / ".gitleaksignore"
    gl.write_text(f"# reviewed\n{root / 'b.py'}:github-pat:2\n")
    bl = tmp_path / ".betterleaksignore"
    bl.write_text(hashlib.sha256(third.encode()).hexdigest() + "\n")
    out = tmp_path / "bl.json"
    res = run_sprawl("baseline", "import", str(ds), str(gl), str(bl), "-o", str(out))
    assert res.returncode == 0 and "3 entries imported" in res.stdout.decode()
    res = run_sprawl("scan", str(root), "--baseline", str(out), "--min-confidence", "low")
    assert res.returncode == 0, res.stdout.decode()
    assert "3 in the baseline" in res.stdout.decode()
    bad = tmp_path / ".gitleaksignore2"
    bad.write_text("no colons here\n")
    res = run_sprawl("baseline", "import", str(bad), "-o", str(out))
    assert res.returncode == 2 and "not a gitleaks fingerprint" in res.stderr.decode()

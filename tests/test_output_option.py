"""`-o` on every command that prints a report (issue 24): the report goes to the file, whole, and not to stdout."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import GITHUB_TOKEN, run_sprawl
from tests.gitutil import commit, init_repo

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_sweep_validate_and_inventory_show_write_their_reports_with_o(tmp_path):
    repo = init_repo(tmp_path / "repos" / "svc")
    commit(repo, {"app.env": f"GITHUB_TOKEN={GITHUB_TOKEN}\n"}, "add config")
    db, key = tmp_path / "org.db", tmp_path / "org.key"
    key.write_text("k" * 32)
    summary = tmp_path / "sweep.json"
    swept = run_sprawl("sweep", str(tmp_path / "repos"), "--db", str(db), "--key-file", str(key), "-f", "json",
                       "-o", str(summary))
    assert swept.returncode == 1, swept.stderr
    assert swept.stdout == b"" and json.loads(summary.read_text())["coverage"][0]["status"] == "scanned"

    answers = tmp_path / "validations.json"
    checked = run_sprawl("validate", "--db", str(db), "-f", "json", "-o", str(answers),
                         env={"SPRAWL_FINGERPRINT_KEY_FILE": str(key)})
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == b"" and json.loads(answers.read_text())["validations"] == []  # no secret stored

    shown = tmp_path / "inventory.json"
    listed = run_sprawl("inventory", "show", str(FIXTURES / "inventory" / "inventory.yaml"), "-f", "json", "-o", str(shown))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == b"" and json.loads(shown.read_text())["identities"]
    text = tmp_path / "inventory.txt"
    assert run_sprawl("inventory", "show", str(FIXTURES / "inventory" / "inventory.yaml"), "-o", str(text)).returncode == 0
    assert "identities" in text.read_text().splitlines()[0]

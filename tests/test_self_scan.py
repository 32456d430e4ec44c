"""The project's own code and docs hold no secrets. Rule examples, tests and fixtures hold fake ones on
purpose and are left out, as is ../shared/corpus (the peers' test data, never part of a self-scan)."""
from __future__ import annotations

import json

from tests.conftest import REPO, run_sprawl

OWN_FILES = ["scanner", "benchmarks", "README.md", "pyproject.toml", ".ci", ".pre-commit-hooks.yaml"]


def test_self_scan_is_clean():
    res = run_sprawl("scan", *OWN_FILES, "-f", "json", cwd=REPO)
    doc = json.loads(res.stdout)
    where = [(f["rule_id"], f["locations"][0]["path"], f["locations"][0]["line"]) for f in doc["findings"]]
    assert res.returncode == 0, where
    assert doc["summary"]["files"] > 50

"""The analysis reaches reports and the datastore typed (scanner.model.Link, BlastRadius): an analysis read back
from the datastore is the one the scan computed, field for field, and `explain` prints the same text of both."""
from __future__ import annotations

import dataclasses
import json

from scanner.analysis.explain import explain_text
from scanner.api import FindingFilter, list_findings, record_scan
from scanner.inventory.loader import load_inventory
from scanner.model import BlastRadius, Factor, Holder, Link, LinkEvidence, RunnerUp
from scanner.pipeline.files import scan_paths
from scanner.pipeline.options import ScanOptions
from tests.conftest import REPO

INVENTORY = REPO / "fixtures" / "inventory" / "inventory.yaml"
ORG = REPO / "fixtures" / "inventory" / "org"


def _place(f) -> tuple:
    return f.rule_id, f.first_location.path, f.first_location.line


def test_a_stored_analysis_reads_back_as_the_scan_computed_it(tmp_path):
    result = scan_paths([str(ORG)], ScanOptions(min_confidence="low", jobs=1))
    db = tmp_path / "sprawl.db"
    record_scan(db, result, "scan", str(ORG), inventory=load_inventory(INVENTORY))
    fresh = {_place(f): f.analysis for f in result.findings if f.analysis is not None}
    stored = {_place(f): f.analysis for f in list_findings(db, FindingFilter(min_confidence="low")).findings
              if f.analysis is not None}
    assert fresh and set(stored) == set(fresh)
    runners = holders = 0
    for place, a in fresh.items():
        b = stored[place]
        assert isinstance(b.link, Link) and isinstance(b.blast_radius, BlastRadius)
        assert all(isinstance(e, LinkEvidence) for e in b.link.evidence)
        assert all(isinstance(x, Factor) for x in b.blast_radius.factors)
        assert all(isinstance(h, Holder) for h in b.blast_radius.holders)
        assert b.link == a.link
        # The datastore keeps the link's paired identifiers beside the score; nothing else is added.
        assert b.blast_radius.identifiers == a.link.identifiers and a.blast_radius.identifiers is None
        assert dataclasses.replace(b.blast_radius, identifiers=None) == a.blast_radius
        assert explain_text("h", b.link, b.blast_radius) == explain_text("h", a.link, a.blast_radius)
        runners += isinstance(a.link.runner_up, RunnerUp)
        holders += bool(a.blast_radius.holders)
    assert runners and holders  # the example exercises a runner-up and declared holders


def test_the_json_report_prints_the_typed_analysis_as_plain_json(tmp_path):
    result = scan_paths([str(ORG)], ScanOptions(min_confidence="low", jobs=1))
    record_scan(tmp_path / "sprawl.db", result, "scan", str(ORG), inventory=load_inventory(INVENTORY))
    f = next(f for f in result.findings if f.analysis is not None and f.analysis.link.runner_up is not None)
    printed = json.loads(json.dumps(f.to_dict()))["analysis"]
    assert list(printed["link"]) == ["status", "identity", "owner", "credential", "confidence", "ambiguous",
                                     "orphaned", "methods", "evidence", "runner_up", "margin", "identifiers",
                                     "owner_groups"]
    assert list(printed["link"]["runner_up"]) == ["kind", "id", "owner", "confidence", "evidence"]
    assert list(printed["blast_radius"]) == ["score", "band", "raw", "multiplier", "liveness", "link_confidence",
                                             "gates", "impact", "exposure", "governance", "factors", "holders"]
    br = printed["blast_radius"]
    assert br["impact"] + br["exposure"] + br["governance"] == br["raw"]
    assert list(br["factors"][0]) == ["id", "group", "name", "points", "maximum", "reason", "evidence", "tags", "facts"]

"""Precision and recall of context analysis on fixtures/context: true secrets and hard negatives side by side.

Each fixture is scanned as a real file under its own name (the name picks the grammar or line parser).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scanner.engine import Engine
from scanner.model import CONFIDENCE_RANK
from scanner.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "context"
EXPECTED = yaml.safe_load((ROOT / "expected.yaml").read_text())


@pytest.fixture(scope="module")
def engines():
    rules = load_rules()
    return Engine(rules), Engine(rules, context=False)


def _scan(engine, name):
    return engine.scan((ROOT / name).read_bytes(), name)


def _score(engine):
    """(true positives at medium+, false positives at medium+, expected secrets, negatives reported at any level)."""
    tp = fp = expected = negatives = 0
    for name, want in EXPECTED.items():
        matches = _scan(engine, name)
        good = set(want.get("secrets", [])) | set(want.get("low", [])) | set(want.get("other", []))
        reported = [m for m in matches if CONFIDENCE_RANK[m.confidence] >= CONFIDENCE_RANK["medium"]]
        found = {m.secret for m in reported}
        expected += len(want.get("secrets", []))
        tp += len(found & set(want.get("secrets", [])))
        fp += sum(m.secret not in good for m in reported)
        negatives += sum(m.secret in set(want.get("not", [])) for m in matches)
    return tp, fp, expected, negatives


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(engines, name):
    engine, _ = engines
    want = EXPECTED[name]
    matches = _scan(engine, name)
    by_secret = {m.secret: m for m in matches}
    for secret in want.get("secrets", []):
        assert secret in by_secret, f"{name}: missed {secret!r}; found {sorted(by_secret)}"
        assert by_secret[secret].confidence in ("medium", "high"), (name, secret, by_secret[secret].reasons)
    for secret in want.get("low", []):
        assert secret in by_secret, f"{name}: {secret!r} should be reported at low, not hidden"
        assert by_secret[secret].confidence == "low", (name, secret, by_secret[secret].reasons)
    for secret in want.get("not", []):
        assert secret not in by_secret, f"{name}: hard negative {secret!r} reported: {by_secret[secret].reasons}"
    allowed = set(want.get("secrets", [])) | set(want.get("low", [])) | set(want.get("other", []))
    extra = [(m.secret, m.rule_id) for m in matches if m.secret not in allowed]
    assert not extra, f"{name}: unexpected findings {extra}"


def test_precision_and_recall_pinned(engines):
    engine, bare = engines
    tp, fp, expected, negatives = _score(engine)
    assert tp == expected  # recall 1.0 on the fixtures
    assert fp == 0 and negatives == 0  # precision 1.0, no hard negative at any confidence
    # Context is what earns this: without it, hard negatives and comments come through.
    b_tp, b_fp, _, b_neg = _score(bare)
    assert b_tp < tp or b_fp > fp or b_neg > negatives

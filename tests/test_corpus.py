"""Precision and recall on the peers' labelled corpus (../shared/corpus/peers), as issue 2 requires."""
from __future__ import annotations

import sys

import pytest

from tests.conftest import CORPUS, REPO

sys.path.insert(0, str(REPO / "benchmarks"))

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no peers corpus at {CORPUS}")

REQUIRED_SOURCES = ("gitleaks", "betterleaks", "titus", "noseyparker", "secretlint")


@pytest.fixture(scope="module")
def stats():
    from corpus_eval import evaluate, load_cases
    from scanner.engine import Engine
    from scanner.rules import load_rules

    stats, _ = evaluate(Engine(load_rules()), load_cases(CORPUS, set(REQUIRED_SOURCES)), "low")
    return stats


@pytest.mark.parametrize("source", REQUIRED_SOURCES)
def test_recall_on_positives(stats, source):
    positives, found, _, _ = stats[("source", source)]
    assert positives > 0
    assert found / positives >= 0.90, f"{source}: recall {found / positives:.3f}"


@pytest.mark.parametrize("source", REQUIRED_SOURCES)
def test_negatives_flagged_by_their_own_provider(stats, source):
    _, _, negatives, flagged = stats[("source", source)]
    assert negatives > 0
    assert flagged / negatives <= 0.05, f"{source}: {flagged}/{negatives} negatives flagged"

"""Precision and recall on the peers' labelled corpus (../shared/corpus/peers), as issues 2 and 3 require.

The bars are pinned at what the engine reaches (benchmarks/RESULTS.md), so a change that loses a
found positive or flags another negative fails here.
"""
from __future__ import annotations

import sys

import pytest

from tests.conftest import CORPUS, REPO

sys.path.insert(0, str(REPO / "benchmarks"))

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no peers corpus at {CORPUS}")

REQUIRED_SOURCES = ("gitleaks", "betterleaks", "titus", "noseyparker", "secretlint")
# Recall at the engine's full output (low) and at the default report threshold (medium), rounded down.
RECALL = {
    "low": {"gitleaks": 0.99, "betterleaks": 0.99, "titus": 0.91, "noseyparker": 0.91, "secretlint": 0.91},
    # Azure tenant, client and subscription ids, storage account names and GCP OAuth client ids are
    # identifiers, reported at low since issue 20 (held-out sets count them as false positives); the
    # peers label them positives, which costs titus, noseyparker and secretlint a few at medium.
    "medium": {"gitleaks": 0.96, "betterleaks": 0.96, "titus": 0.83, "noseyparker": 0.78, "secretlint": 0.68},
}
# The same at medium without the positives the corpus marks identifiers (corpus_eval's scoring rule).
# What stands between these and 0.95 is classified by benchmarks/corpus_misses.py (RESULTS.md): tokens
# failing their provider's checksum (GitHub, npm, Grafana), values marked EXAMPLE, filler and default
# passwords on local hosts (reported at low on purpose), placeholders, and hosts or URLs labelled secrets.
SECRETS_RECALL = {"gitleaks": 0.96, "betterleaks": 0.96, "titus": 0.86, "noseyparker": 0.83, "secretlint": 0.68}
# Share of negatives flagged by their own provider. The noseyparker and titus negatives still flagged
# at low carry the same value as a sibling rule's positive (a Slack webhook, a Mattermost URL, a quoted
# password) or are a positive's twin in another form (a weak password in a local URL), reported at low.
FLAGGED = {
    "low": {"gitleaks": 0.03, "betterleaks": 0.03, "titus": 0.038, "noseyparker": 0.042, "secretlint": 0.03},
    "medium": dict.fromkeys(REQUIRED_SOURCES, 0.03),
}


@pytest.fixture(scope="module")
def stats():
    from corpus_eval import evaluate, load_cases

    from scanner.engine import Engine
    from scanner.rules import load_rules

    engine, cases = Engine(load_rules()), load_cases(CORPUS, set(REQUIRED_SOURCES))
    return {floor: evaluate(engine, cases, floor)[0] for floor in RECALL}


@pytest.mark.parametrize("floor", RECALL)
@pytest.mark.parametrize("source", REQUIRED_SOURCES)
def test_recall_on_positives(stats, floor, source):
    positives, found, _, _ = stats[floor][("source", source)]
    assert positives > 0
    assert found / positives >= RECALL[floor][source], f"{source} at {floor}: recall {found / positives:.3f}"


@pytest.mark.parametrize("source", REQUIRED_SOURCES)
def test_recall_on_secrets_at_medium(stats, source):
    positives, found, _, _ = stats["medium"][("secrets", source)]
    assert positives > 0
    assert found / positives >= SECRETS_RECALL[source], f"{source} without identifiers: recall {found / positives:.3f}"


@pytest.mark.parametrize("floor", FLAGGED)
@pytest.mark.parametrize("source", REQUIRED_SOURCES)
def test_negatives_flagged_by_their_own_provider(stats, floor, source):
    _, _, negatives, flagged = stats[floor][("source", source)]
    assert negatives > 0
    assert flagged / negatives <= FLAGGED[floor][source], f"{source} at {floor}: {flagged}/{negatives} negatives flagged"

"""Blast radius (docs/blast-radius.md): three worked examples reproduce factor by factor, plus the gates,
bands and liveness multipliers.

docs/blast-radius.md names the factors and their maxima but its text holds no worked examples, so
these three are written out here from the section's rules (and the steps the scorer documents
where the section names a factor but not its steps). Each lists the facts in and the points out.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from scanner.analysis.blast_radius import Scorer, fixed_point_score, round_half_up
from scanner.analysis.linking import Linker
from scanner.analysis.subject import Subject
from scanner.inventory.model import Credential, Identity, Inventory, Owner, PathOwner, Tool
from scanner.model import Finding, Location, Provenance, band

TODAY = date(2026, 11, 25)


def finding(rule_id="test-rule", privilege="write", lifetime="static", locations=None, kind="token"):
    return Finding(rule_id=rule_id, rule_name=rule_id, provider="test", kind=kind, fingerprint=f"fp-{rule_id}",
                   preview="abcd****", confidence="high", entropy=4.5, privilege=privilege, lifetime=lifetime,
                   remediation="", reasons=[], locations=locations or [Location("src/app.py", 1, 1)])


def days_ago(n: int) -> str:
    return (datetime(2026, 11, 25, 12, tzinfo=UTC) - timedelta(days=n)).isoformat()


def run(subject: Subject, inv: Inventory):
    link = Linker(inv).link_all([subject])[subject.fingerprint]
    return link, Scorer(inv, TODAY).score(subject, link)


def test_example_a_active_admin_key_of_an_orphaned_agent_in_a_public_repo_gets_the_floor():
    """Facts: rule prior admin; linked by fingerprint to agent:legacy-deployer (owner null: orphaned, prod,
    tools shell + github); credential scope `*`, static, rotation unknown; 2 locations in 1 repository, the
    repository public, in the work tree; first seen 10 days ago; validation says active.

    Impact 22 + 8 + 8 + 7 = 45; Exposure 12 + 3.0 + 5 + 2 = 22; Governance 8 + 6 + 0 = 14;
    raw 81, M 1.0 -> 81; gate: active admin in public -> floor 90 (critical)."""
    inv = Inventory(
        identities=[Identity("agent:legacy-deployer", "agent", owner=None, environment="prod",
                             tools=[Tool("shell", "local-shell"), Tool("github", "github")],
                             credentials=["cred:deployer"])],
        credentials=[Credential("cred:deployer", fingerprint="fp-deploy-admin", scopes=["*"], ttl="static")])
    f = finding("deploy-admin", privilege="admin", locations=[
        Location("infra/deploy.sh", 4, 9, provenance=Provenance(repo="tools", date=days_ago(10))),
        Location("infra/README.md", 30, 1, provenance=Provenance(repo="tools", date=days_ago(3)))])
    s = Subject(f, liveness="active", public_repos=frozenset({"tools"}))
    link, score = run(s, inv)
    assert link.identity == "agent:legacy-deployer" and link.confidence == 0.99 and link.orphaned
    assert score.points() == {"privilege": 22, "reach": 8, "environment": 8, "toolset": 7, "where_found": 12,
                              "sprawl": 3.0, "persistence": 5, "age": 2, "ownership": 8, "lifetime": 6, "reuse": 0}
    assert (score.group("impact"), score.group("exposure"), score.group("governance")) == (45, 22, 14)
    assert score.raw == 81 and score.multiplier == 1.0
    assert score.score == 90 and score.band == "critical"
    assert score.gates == ["floor 90: a verified active admin credential in a public place"]


def test_example_b_write_token_in_ci_owned_only_by_a_team_not_validated():
    """Facts: rule prior write; no identity, CODEOWNERS gives /.github/ to team:platform (team only, 0.6);
    one location in .github/workflows/deploy-prod.yml, in git history only, first seen 45 days ago;
    static with no inventory record; not validated.

    Impact 16 + 4 + 8 + 0 = 28; Exposure 8 + 0 + 3 + 4 = 15; Governance 4 + 6 + 0 = 10;
    raw 53, M 0.85 -> 45.05 -> 45 (medium)."""
    inv = Inventory(owners=[Owner("team:platform")],
                    path_owners=[PathOwner("/.github/", ["team:platform"], order=1)])
    loc = Location(".github/workflows/deploy-prod.yml", 12, 20, source="git",
                   provenance=Provenance(commit="a" * 40, date=days_ago(45)))
    s = Subject(finding("ci-token", privilege="write", locations=[loc]))
    link, score = run(s, inv)
    assert link.status == "team-only" and link.owner == "team:platform" and link.confidence == 0.6
    assert score.points() == {"privilege": 16, "reach": 4, "environment": 8, "toolset": 0, "where_found": 8,
                              "sprawl": 0.0, "persistence": 3, "age": 4, "ownership": 4, "lifetime": 6, "reuse": 0}
    assert (score.group("impact"), score.group("exposure"), score.group("governance")) == (28, 15, 10)
    assert score.raw == 53 and score.multiplier == 0.85
    assert score.score == 45 and score.band == "medium" and score.gates == []
    assert score.link_confidence == 0.6


def test_example_c_test_key_in_a_transcript_shared_by_two_agents_is_capped():
    """Facts: rule prior test; the inventory credential (fingerprint, ttl P30D, no scopes) is held by
    agent:helper-a (dev, 2 tools) and agent:helper-b (staging): an ambiguous tie at 0.99; 3 locations in
    logs/agent-transcript.jsonl in the work tree, first seen 3 days ago; validation says active.

    Impact 2 + 4 + 3 (staging, the worst holder) + 2 = 11; Exposure 9 + 4.8 + 5 + 1 = 19.8;
    Governance 3 + 3 + 3 = 9; raw 39.8, M 1.0 -> 40; gate: a test key -> cap 30 (low)."""
    inv = Inventory(
        owners=[Owner("team:support")],
        identities=[Identity("agent:helper-a", "agent", owner="team:support", environment="dev",
                             tools=[Tool("zendesk", "zendesk"), Tool("slack", "slack")], credentials=["cred:shared"]),
                    Identity("agent:helper-b", "agent", owner="team:support", environment="staging",
                             credentials=["cred:shared"])],
        credentials=[Credential("cred:shared", fingerprint="fp-payments-test", ttl="P30D")])
    locs = [Location("logs/agent-transcript.jsonl", n, 5, provenance=Provenance(date=days_ago(3))) for n in (10, 50, 90)]
    s = Subject(finding("payments-test", privilege="test", locations=locs), liveness="active")
    link, score = run(s, inv)
    assert link.identity == "agent:helper-a" and link.ambiguous and link.runner_up.id == "agent:helper-b"
    assert score.points() == {"privilege": 2, "reach": 4, "environment": 3, "toolset": 2, "where_found": 9,
                              "sprawl": 4.8, "persistence": 5, "age": 1, "ownership": 3, "lifetime": 3, "reuse": 3}
    assert (score.group("impact"), score.group("exposure"), score.group("governance")) == (11, 19.8, 9)
    assert score.raw == 39.8 and score.score == 30 and score.band == "low"
    assert score.gates == ["cap 30: a test or publishable key"]


@pytest.mark.parametrize("liveness,m,expected", [("active", 1.0, 53), ("unknown", 0.85, 45), ("revoked", 0.35, 19),
                                                  ("expired", 0.2, 11)])
def test_liveness_multiplies_the_sum(liveness, m, expected):
    inv = Inventory(owners=[Owner("team:platform")], path_owners=[PathOwner("/.github/", ["team:platform"], order=1)])
    loc = Location(".github/workflows/deploy-prod.yml", 12, 20, source="git",
                   provenance=Provenance(commit="a" * 40, date=days_ago(45)))
    _link, score = run(Subject(finding("ci-token", locations=[loc]), liveness=liveness), inv)
    assert score.multiplier == m and score.raw == 53 and score.score == expected


def test_an_inventory_expiry_in_the_past_means_provably_expired():
    inv = Inventory(identities=[Identity("agent:a", "agent", owner="team:x", credentials=["c"])],
                    owners=[Owner("team:x")],
                    credentials=[Credential("c", fingerprint="fp-r", expires_at=date(2026, 1, 1))])
    _link, score = run(Subject(finding("r")), inv)
    assert score.liveness == "expired" and score.multiplier == 0.2


def test_every_factor_reports_points_maximum_reason_and_tags():
    _link, score = run(Subject(finding("plain")), Inventory())
    assert [f.id for f in score.factors] == [f"F{n}" for n in range(1, 12)]
    assert sum(f.maximum for f in score.factors) == 100
    for f in score.factors:
        assert 0 <= f.points <= f.maximum and f.reason
    tags = {f.name: f.tags for f in score.factors}
    assert "NHI1" in tags["ownership"] and "NHI2" in tags["where_found"] and "NHI5" in tags["privilege"]
    assert "NHI7" in tags["lifetime"] and "NHI9" in tags["reuse"]
    assert score.factors[8].points == 6  # unowned


def test_bands_and_rounding():
    assert [band(x) for x in (0, 19, 20, 39, 40, 59, 60, 79, 80, 100)] == [
        "info", "info", "low", "low", "medium", "medium", "high", "high", "critical", "critical"]
    assert round_half_up(44.5) == 45 and round_half_up(45.05) == 45 and round_half_up(0.35 * 90) == 32
    assert fixed_point_score(0.35, 90) == 32 and fixed_point_score(0.85, 87) == 74 and fixed_point_score(0.2, 55.8) == 11


def test_short_lived_tokens_score_low_lifetime():
    _l, hour = run(Subject(finding("gh-install", lifetime="PT1H")), Inventory())
    _l, day = run(Subject(finding("gh-day", lifetime="P1D")), Inventory())
    assert hour.points()["lifetime"] == 0 and day.points()["lifetime"] == 1

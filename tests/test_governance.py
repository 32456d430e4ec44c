"""Governance as policies (`sprawl governance --fail-on ...`): every view exact on planted rows (no more, no
fewer), every row with its why and evidence, exit 1 when a named view has rows, JSON and text."""
from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import GITHUB_TOKEN, REPO, run_sprawl

from scanner.analysis.analyze import analyze
from scanner.analysis.governance import Policy, all_views, render_text, workload_provider
from scanner.inventory.model import Credential, Identity, Inventory, Owner
from scanner.model import Finding, Location, Provenance

TODAY = date(2026, 12, 7)
INVENTORY = str(REPO / "fixtures" / "inventory" / "inventory.yaml")


def finding(fp: str, path: str, repo: str, *, rule_id: str = "test-token", provider: str = "test") -> Finding:
    return Finding(rule_id=rule_id, rule_name=rule_id, provider=provider, kind="api-key", fingerprint=fp,
                   preview="abcd****", confidence="high", entropy=4.5, privilege="write", lifetime="static",
                   remediation="", reasons=[], locations=[Location(path, 4, 1, provenance=Provenance(repo=repo))])


def planted():
    inv = Inventory(
        owners=[Owner("team:ok"), Owner("user:bob", type="user", active=False)],
        identities=[
            Identity("agent:gone", "agent", owner="user:bob", credentials=["c:gone"], last_reviewed=date(2026, 11, 30)),
            Identity("agent:fine", "agent", owner="team:ok", credentials=["c:fine"], paths=["deploy/**"],
                     repos=["r"], last_reviewed=date(2026, 11, 30)),
            Identity("agent:idle", "agent", owner=None, last_reviewed=date(2026, 11, 30)),  # orphaned, nothing open
            Identity("agent:a", "agent", owner="team:ok", environment="prod", credentials=["c:shared"],
                     last_reviewed=date(2026, 11, 30)),
            Identity("agent:b", "agent", owner="team:ok", environment="dev", credentials=["c:shared"],
                     last_reviewed=date(2026, 10, 1)),
            Identity("service_account:gke", "service_account", owner="team:ok", credentials=["c:gcp", "c:stripe"],
                     workload_identity="iam.gke.io/gcp-service-account=app@p.iam.gserviceaccount.com",
                     last_reviewed=date(2026, 11, 30)),
        ],
        credentials=[Credential("c:gone", fingerprint="fp-gone"), Credential("c:fine", fingerprint="fp-fine"),
                     Credential("c:shared", fingerprint="fp-shared"),
                     Credential("c:gcp", fingerprint="fp-gcp", ttl="static"),
                     Credential("c:stripe", fingerprint="fp-stripe", ttl="static")])
    findings = [finding("fp-gone", "ops/x.env", "r"), finding("fp-fine", "app.py", "r"),
                finding("fp-shared", "deploy/y.env", "r"),
                finding("fp-gcp", "sa.json", "r", rule_id="gcp-service-account-key", provider="gcp"),
                finding("fp-stripe", "pay.py", "r", rule_id="stripe-live-secret-key", provider="stripe")]
    return analyze(findings, inv, today=TODAY)


def test_every_view_is_exact_on_its_planted_rows():
    views = all_views(planted(), Policy.parse("unreviewed:30"))
    assert [r["identity"] for r in views["orphaned"]] == ["agent:gone"]
    assert "owner user:bob is inactive" in views["orphaned"][0]["why"]
    assert [r["fingerprint"] for r in views["shared"]] == ["fp-shared"]
    assert views["shared"][0]["holders"][:2] == ["agent:a", "agent:b"]
    assert [r["fingerprint"] for r in views["static-with-workload-identity"]] == ["fp-gcp"]  # not the Stripe key
    assert [(r["identity"], r["path"]) for r in views["outside-approved"]] == [("agent:fine", "app.py")]
    assert [r["identity"] for r in views["unreviewed"]] == ["agent:b"]  # 67 days > 30
    for rows in views.values():
        for r in rows:
            assert r["why"] and r["evidence"] and all(isinstance(e, str) and e for e in r["evidence"])


def test_policy_parsing_and_failure():
    p = Policy.parse("orphaned, shared,unreviewed:180")
    assert p.fail_on == ("orphaned", "shared", "unreviewed") and p.review_days == 180
    assert p.failed({"orphaned": [], "shared": [{"x": 1}], "unreviewed": []}) == ["shared"]
    for bad in ("orphans", "shared:3", "unreviewed:soon"):
        with pytest.raises(ValueError):
            Policy.parse(bad)
    text = render_text(all_views(planted()), Policy.parse("orphaned"))
    assert "why: owner user:bob is inactive" in text and text.rstrip().endswith("FAILED (orphaned)")


def test_workload_identity_providers():
    assert workload_provider("eks.amazonaws.com/role-arn=arn:aws:iam::1:role/x") == "aws"
    assert workload_provider("iam.gke.io/gcp-service-account=a@p.iam.gserviceaccount.com") == "gcp"
    assert workload_provider("spiffe://acme/ns/x") is None


def test_cli_fail_on_exits_1_when_a_named_view_has_rows_and_0_otherwise(tmp_path):
    proj = tmp_path / "payments-api"
    (proj / ".git").mkdir(parents=True)
    (proj / "app.py").write_text(f'GITHUB_TOKEN = "{GITHUB_TOKEN}"\n')
    r = run_sprawl("governance", str(proj), "--inventory", INVENTORY, "--fail-on", "outside-approved", "-f", "json")
    assert r.returncode == 1, r.stderr.decode()
    doc = json.loads(r.stdout)
    assert doc["policy"] == {"fail_on": ["outside-approved"], "review_days": 90, "failed": ["outside-approved"]}
    row = doc["views"]["outside-approved"][0]
    assert row["identity"] == "agent:release-bot" and row["why"].startswith("found at payments-api:")
    assert "app.py:1, outside the approved locations of agent:release-bot" in row["why"]
    ok = run_sprawl("governance", str(proj), "--inventory", INVENTORY, "--fail-on", "orphaned,shared")
    assert ok.returncode == 0, ok.stderr.decode()
    assert "policy --fail-on orphaned,shared: passed" in ok.stdout.decode()
    plain = run_sprawl("governance", str(proj), "--inventory", INVENTORY)
    assert plain.returncode == 0  # no policy, no failure
    bad = run_sprawl("governance", str(proj), "--inventory", INVENTORY, "--fail-on", "everything")
    assert bad.returncode == 2 and b"unknown governance view" in bad.stderr


def test_owner_filter_matches_membership():
    from scanner.api import _owned_by
    from scanner.model import BlastRadius, FindingAnalysis, Link

    a = FindingAnalysis(owner="user:dana", identity="agent:x", link_status="linked", link_confidence=0.99,
                        link_methods=["fingerprint"], ambiguous=False, orphaned=False, score=50, band="medium",
                        link=Link("linked", "agent:x", "user:dana", owner_groups=["team:payments"]),
                        blast_radius=BlastRadius(50, "medium", 50, 1.0, "active", []))
    assert _owned_by(a, "team:payments") and _owned_by(a, "user:dana") and _owned_by(a, "agent:x")
    assert not _owned_by(a, "team:ledger")

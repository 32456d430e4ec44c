"""DESIGN section 8's three worked examples, facts in and points per factor out, with today = 2026-12-07
injected: E1 = 80 critical (90 when verified active), E2 = 11 info, E3 = 32 low. Plus identifiers as
evidence, never scored, and the gates in their order."""
from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, date, datetime, timedelta

import pytest

from scanner.analysis.analyze import analyze
from scanner.analysis.blast_radius import Scorer
from scanner.analysis.linking import Linker
from scanner.analysis.subject import Subject, secret_facts
from scanner.inventory.model import Credential, Identity, Inventory, Owner, Tool
from scanner.model import Finding, Holder, Location, Provenance

TODAY = date(2026, 12, 7)
NOON = datetime(2026, 12, 7, 12, tzinfo=UTC)


def ago(days: int) -> str:
    return (NOON - timedelta(days=days)).isoformat()


def finding(rule_id: str, privilege: str, locations: list[Location], *, kind: str = "api-key",
            fingerprint: str | None = None, publishable: bool = False) -> Finding:
    return Finding(rule_id=rule_id, rule_name=rule_id, provider="test", kind=kind,
                   fingerprint=fingerprint or f"fp-{rule_id}-{secrets.token_hex(4)}", preview="abcd****",
                   confidence="high", entropy=4.5, privilege=privilege, lifetime="static", remediation="", reasons=[],
                   locations=locations, publishable=publishable)


def run(subject: Subject, inv: Inventory):
    link = Linker(inv).link_all([subject])[subject.fingerprint]
    return link, Scorer(inv, TODAY).score(subject, link)


def e1(liveness: str) -> tuple:
    """Unvalidated prod admin cloud key sprawled into a public log."""
    inv = Inventory(
        owners=[Owner("team:platform")],
        identities=[Identity("agent:deploy", "agent", owner="team:platform", environment="prod",
                             tools=[Tool("terraform", "terraform"), Tool("kubectl-exec", "kubernetes")],
                             credentials=["cred:aws-deploy"])],
        credentials=[Credential("cred:aws-deploy", provider="aws", fingerprint="fp-e1", scopes=["*"], ttl="static",
                                created_at=TODAY - timedelta(days=800))])
    locs = [Location("k8s/secret.yaml", 7, 20, provenance=Provenance(repo="platform", date=ago(800)))]
    locs += [Location("logs/run.log", n, 3, provenance=Provenance(repo="sdk")) for n in (12, 40, 77)]
    locs += [Location("notes.md", n, 1, provenance=Provenance(repo="docs")) for n in (2, 9)]
    s = Subject(finding("aws-secret-access-key", "admin", locs, fingerprint="fp-e1"), liveness=liveness,
                public_repos=frozenset({"sdk"}))
    return run(s, inv)


def test_e1_unvalidated_prod_admin_key_in_a_public_log_is_floored_at_80():
    link, score = e1("unknown")
    assert link.identity == "agent:deploy" and link.status == "linked" and not link.ambiguous
    assert score.points() == {"privilege": 22, "reach": 8, "environment": 8, "toolset": 7,
                              "where_found": 12, "sprawl": 10, "persistence": 5, "age": 8,
                              "ownership": 0, "lifetime": 7, "reuse": 0}
    assert (score.group("impact"), score.group("exposure"), score.group("governance")) == (45, 35, 7)
    assert score.raw == 87 and score.multiplier == 0.85
    assert score.gates == ["floor 80: an unvalidated admin credential in a public place"]
    assert (score.score, score.band) == (80, "critical")
    sprawl = next(f for f in score.factors if f.name == "sprawl")
    assert sprawl.reason == "6 location(s) in 3 repositories: 3 x log2(6) + 2 x (3 - 1) = 11.8, capped at 10"
    assert sprawl.evidence[0] == "platform:k8s/secret.yaml:7" and "sdk:logs/run.log:40" in sprawl.evidence
    lifetime = next(f for f in score.factors if f.name == "lifetime")
    assert lifetime.reason.startswith("static, never rotated: created 800 day(s) ago")
    assert score.holders == [Holder("agent:deploy", "declared", "holds cred:aws-deploy (inventory)")]


def test_e1_verified_active_is_floored_at_90():
    _link, score = e1("active")
    assert score.raw == 87 and score.multiplier == 1.0
    assert score.gates == ["floor 90: a verified active admin credential in a public place"]
    assert (score.score, score.band) == (90, "critical")


def jwt(claims: dict) -> str:
    def part(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{secrets.token_urlsafe(32)}"


def test_e2_expired_one_day_jwt_in_a_transcript_held_by_two_agents():
    iat = int(datetime(2026, 11, 16, tzinfo=UTC).timestamp())
    token = jwt({"sub": "svc-report", "iat": iat, "exp": iat + 86400})
    inv = Inventory(
        owners=[Owner("team:analytics")],
        identities=[Identity("agent:report-a", "agent", owner="team:analytics", environment="staging",
                             tools=[Tool("search", "search"), Tool("slack", "slack"), Tool("jira", "jira")],
                             credentials=["cred:svc-report"]),
                    Identity("agent:report-b", "agent", owner="team:analytics", environment="dev",
                             credentials=["cred:svc-report"])],
        credentials=[Credential("cred:svc-report", key_id="svc-report")])
    locs = [Location("logs/agent-transcript.jsonl", n, 5) for n in (10, 44)] + [Location("prompts/system.md", 3, 1)]
    s = Subject(finding("jwt", "write", locs, kind="token"), facts=secret_facts(token), first_seen=NOON - timedelta(days=20))
    link, score = run(s, inv)
    assert link.confidence == 0.95 and link.ambiguous and link.methods == ["key_id"]
    assert {link.identity, link.runner_up.id} == {"agent:report-a", "agent:report-b"}
    assert score.points() == {"privilege": 16, "reach": 6, "environment": 3, "toolset": 3,
                              "where_found": 9, "sprawl": 4.8, "persistence": 5, "age": 2,
                              "ownership": 3, "lifetime": 1, "reuse": 3}
    assert (score.group("impact"), score.group("exposure"), score.group("governance")) == (28, 20.8, 7)
    assert score.raw == 55.8 and score.liveness == "expired" and score.multiplier == 0.2
    assert (score.score, score.band, score.gates) == (11, "info", [])


def test_e3_revoked_admin_key_in_public_history_rounds_half_up():
    inv = Inventory(
        identities=[Identity("agent:legacy", "agent", owner=None, environment="prod",
                             tools=[Tool("code_interpreter", "python")], credentials=["cred:stripe"])],
        credentials=[Credential("cred:stripe", provider="stripe", fingerprint="fp-e3", scopes=["*"], ttl="static",
                                last_rotated=TODAY - timedelta(days=200))])
    locs = [Location(f"src/billing_{n}.py", n, 9, source="git",
                     provenance=Provenance(repo="oss", commit=f"{n:040x}", at_head=False, date=ago(800 - n)))
            for n in range(8)]
    s = Subject(finding("stripe-live-secret-key", "admin", locs, fingerprint="fp-e3"), liveness="revoked",
                privilege="admin", public_repos=frozenset({"oss"}))
    link, score = run(s, inv)
    assert link.identity == "agent:legacy" and link.orphaned
    assert score.points() == {"privilege": 22, "reach": 8, "environment": 8, "toolset": 7,
                              "where_found": 12, "sprawl": 9.0, "persistence": 3, "age": 8,
                              "ownership": 8, "lifetime": 5, "reuse": 0}
    assert (score.group("impact"), score.group("exposure"), score.group("governance")) == (45, 32, 13)
    assert score.raw == 90 and score.multiplier == 0.35
    assert (score.score, score.band, score.gates) == (32, "low", [])  # 31.5 rounds up; no floor for a revoked key


def test_the_cap_follows_the_floor_for_a_publishable_admin_key():
    """Gates in order: the floor first, then the cap, so a publishable key never ends above 30."""
    loc = Location("web/app.js", 1, 1, provenance=Provenance(repo="site"))
    s = Subject(finding("pk-live", "admin", [loc], publishable=True), public_repos=frozenset({"site"}))
    _link, score = run(s, Inventory())
    assert score.gates == ["floor 80: an unvalidated admin credential in a public place",
                           "cap 30: a test or publishable key"]
    assert score.score == 30


@pytest.mark.parametrize("rule_id", ["aws-access-key-id", "azure-tenant-or-client-id", "azure-storage-account-name",
                                     "gcp-oauth-client-id", "aws-arn"])
def test_identifiers_are_evidence_never_scored(rule_id):
    """An identifier beside a secret (same repository, same file, within five lines) is attached to the secret's
    link; it gets no score of its own and is not ranked. What is an identifier is rule data (`kind: identifier`),
    never a rule id in code."""
    from scanner.rules import load_rules

    kind = load_rules().by_id[rule_id].kind
    assert kind == "identifier"
    secret = finding("aws-secret-access-key", "admin", [Location("deploy.env", 2, 23, provenance=Provenance(repo="a"))])
    ident = finding(rule_id, "admin", [Location("deploy.env", 1, 19, provenance=Provenance(repo="a"))], kind=kind)
    a = analyze([secret, ident], Inventory(), today=TODAY)
    assert [s.fingerprint for s in a.ranked()] == [secret.fingerprint]
    assert ident.fingerprint not in a.scores and a.finding_analysis(ident.fingerprint) is None
    assert a.links[secret.fingerprint].identifiers == [f"{rule_id} abcd**** at a:deploy.env:1"]
    assert a.links[secret.fingerprint].link().identifiers == a.links[secret.fingerprint].identifiers

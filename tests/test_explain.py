"""`explain` a reviewer can check: every location with its repository, the sprawl arithmetic, the ambiguity
margin, declared versus inferred holders, and the source of every inventory fact used."""
from __future__ import annotations

from datetime import date

from scanner.analysis.analyze import analyze
from scanner.analysis.explain import explain_text, header
from scanner.inventory.model import Credential, Identity, Inventory, Owner, Tool
from scanner.model import Finding, Location, Provenance


def test_explain_shows_locations_arithmetic_margin_holders_and_fact_sources():
    inv = Inventory(
        owners=[Owner("team:analytics", source="catalog.yaml")],
        identities=[Identity("agent:a", "agent", owner="team:analytics", environment="staging",
                             tools=[Tool("slack", "slack")], credentials=["cred:k"], source="catalog.yaml",
                             sources={"environment": "backstage:svc:catalog-info.yaml#2"}),
                    Identity("agent:b", "agent", owner="team:analytics", environment="dev", credentials=["cred:k"],
                             source="base.yaml")],
        credentials=[Credential("cred:k", fingerprint="fp-k", ttl="static", created_at=date(2026, 1, 1),
                                source="base.yaml")])
    f = Finding(rule_id="test-token", rule_name="t", provider="test", kind="token", fingerprint="fp-k",
                preview="abcd****", confidence="high", entropy=4.5, privilege="write", lifetime="static",
                remediation="", reasons=[],
                locations=[Location("deploy.env", 3, 1, provenance=Provenance(repo="alpha")),
                           Location("notes.md", 9, 1, provenance=Provenance(repo="beta"))])
    a = analyze([f], inv, today=date(2026, 12, 7))
    text = explain_text(header(f), a.links["fp-k"].link(), a.scores["fp-k"])
    assert "(2 location(s) in alpha, beta)" in text
    assert "  alpha:deploy.env:3\n  beta:notes.md:9\n" in text
    assert "2 location(s) in 2 repositories: 3 x log2(2) + 2 x (2 - 1) = 5.0" in text
    assert "runner-up: agent:b at 0.99; margin 0.00 (ambiguous" in text
    assert "agent:a                        declared  holds cred:k (catalog.yaml)" in text
    assert "fact: environment staging of agent:a (backstage:svc:catalog-info.yaml#2)" in text
    assert "fact: created_at 2026-01-01 of cred:k (base.yaml)" in text
    assert "never rotated: created 340 day(s) ago" in text

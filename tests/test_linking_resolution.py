"""Linking on a realistic organisation (DESIGN sections 6 and 7): identity resolution before linking, owner
inheritance for ownerless imports, owners resolved against known people and groups, explicit nulls kept, one
MCP identity per server per config file and repository, per-server attribution of a literal, repository-correct
matching (imports, CODEOWNERS, the key-id neighbour index) and the ambiguity margin in hundredths.

Real files in temporary folders, imported by the real importers; findings built as a scan records them."""
from __future__ import annotations

import json
import secrets
from datetime import date
from pathlib import Path

import pytest

from scanner.analysis.analyze import analyze
from scanner.analysis.blast_radius import Scorer
from scanner.analysis.linking import Linker, within_margin
from scanner.analysis.subject import Subject
from scanner.findings.collect import portable_fingerprint
from scanner.inventory.importers import import_sources, locate
from scanner.inventory.loader import InventoryError, dump_inventory, from_document, parse_yaml
from scanner.inventory.model import Credential, Identity, Inventory, Owner
from scanner.inventory.resolve import resolve_identities
from scanner.model import Finding, Location, Provenance

TODAY = date(2026, 12, 7)


def finding(path: str, line: int, repo: str, *, rule_id: str = "postgres-uri", kind: str = "password",
            fingerprint: str | None = None, snippet: str = "") -> Finding:
    return Finding(rule_id=rule_id, rule_name=rule_id, provider="test", kind=kind,
                   fingerprint=fingerprint or secrets.token_hex(16), preview="abcd****", confidence="high",
                   entropy=4.5, privilege="write", lifetime="static", remediation="", reasons=[],
                   locations=[Location(path, line, 5, provenance=Provenance(repo=repo), snippet=snippet)])


def write(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


MCP = {"mcpServers": {
    "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
               "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_TOKEN:-}"}},
    "postgres": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-postgres", "postgres://app:PASSWORD@db/app"]},
}}


def org(tmp_path: Path) -> Path:
    """Two repositories with the same MCP config, each with its own CODEOWNERS `*` rule."""
    root = tmp_path / "org"
    for repo, team in (("alpha", "@acme/alpha-team"), ("beta", "@acme/beta-team")):
        write(root, f"{repo}/.github/CODEOWNERS", f"* {team}\n")
        write(root, f"{repo}/.mcp.json", json.dumps(MCP, indent=2))
    return root


def postgres_line(root: Path, repo: str) -> int:
    text = (root / repo / ".mcp.json").read_text().splitlines()
    return next(n for n, line in enumerate(text, 1) if "postgres://" in line)


def test_org_import_paths_are_repository_relative(tmp_path):
    root = org(tmp_path)
    assert locate(root / "alpha" / ".mcp.json", root).repo == "alpha"
    assert locate(root / "alpha" / ".mcp.json", root).path == ".mcp.json"
    inv, _ = import_sources([root])
    rules = {(r.repo, r.pattern, tuple(r.owners)) for r in inv.path_owners}
    assert rules == {("alpha", "*", ("team:alpha-team",)), ("beta", "*", ("team:beta-team",))}
    one_repo, _ = import_sources([root / "beta"])  # imported on its own: CODEOWNERS still bound to beta
    assert {r.repo for r in one_repo.path_owners} == {"beta"}


def test_the_same_server_name_in_two_repositories_is_two_identities_with_their_own_owner(tmp_path):
    inv, _ = import_sources([org(tmp_path)])
    servers = {i.id: i for i in inv.identities if i.kind == "mcp_server"}
    assert set(servers) == {f"mcp_server:{r}:.mcp.json#{s}" for r in ("alpha", "beta") for s in ("github", "postgres")}
    assert servers["mcp_server:alpha:.mcp.json#postgres"].owner == "team:alpha-team"  # inherited from CODEOWNERS
    assert servers["mcp_server:beta:.mcp.json#postgres"].owner == "team:beta-team"
    assert servers["mcp_server:beta:.mcp.json#postgres"].sources["owner"].startswith("inherited:codeowners:")


def test_a_literal_in_an_mcp_config_goes_to_the_server_whose_block_holds_it(tmp_path):
    root = org(tmp_path)
    inv, _ = import_sources([root])
    f = finding(".mcp.json", postgres_line(root, "beta"), "beta")
    a = analyze([f], inv, today=TODAY)
    link = a.links[f.fingerprint]
    assert link.identity == "mcp_server:beta:.mcp.json#postgres" and link.owner == "team:beta-team"
    assert not link.ambiguous and "agent_config" in link.methods
    others = {c.id for c in link.candidates if c.kind == "identity"}
    assert "mcp_server:beta:.mcp.json#github" not in others and not any(o.startswith("mcp_server:alpha") for o in others)
    assert a.scores[f.fingerprint].points()["reuse"] == 0  # not shared with its neighbour
    # A scan given the repository by its absolute path records the path under it: the same block.
    absolute = finding(str(root / "beta" / ".mcp.json"), postgres_line(root, "beta"), "beta")
    assert analyze([absolute], inv, today=TODAY).links[absolute.fingerprint].identity == "mcp_server:beta:.mcp.json#postgres"


def test_an_env_default_reference_is_a_reference_not_a_literal(tmp_path):
    inv, _ = import_sources([org(tmp_path)])
    cred = inv.credential("cred:alpha:.mcp.json#github:github_personal_access_token")
    assert cred.secret_ref == "env:GITHUB_TOKEN" and "GITHUB_TOKEN" in cred.env_vars
    assert not any("GITHUB_PERSONAL_ACCESS_TOKEN holds a literal" in n for n in inv.notes)


def test_codeowners_is_bound_to_its_repository(tmp_path):
    inv, _ = import_sources([org(tmp_path)])
    f = finding("src/app.py", 3, "beta")
    link = Linker(inv).link_all([Subject(f)])[f.fingerprint]
    assert (link.status, link.owner) == ("team-only", "team:beta-team")


def test_a_key_id_in_another_repository_is_not_a_pair():
    """The AWS key id in repository A's deploy.env does not pair with the secret in repository B's deploy.env."""
    key_id = "AKIA" + secrets.token_hex(8).upper()
    inv = Inventory(owners=[Owner("team:a")],
                    identities=[Identity("agent:a", "agent", owner="team:a", repos=["a"], credentials=["cred:a"])],
                    credentials=[Credential("cred:a", key_id=key_id)])
    kid = finding("deploy.env", 1, "a", rule_id="aws-access-key-id", kind="identifier",
                  fingerprint=portable_fingerprint("aws-access-key-id", key_id))
    secret_b = finding("deploy.env", 2, "b", rule_id="aws-secret-access-key", kind="api-key")
    secret_a = finding("deploy.env", 2, "a", rule_id="aws-secret-access-key", kind="api-key")
    a = analyze([kid, secret_b, secret_a], inv, today=TODAY)
    assert a.links[secret_b.fingerprint].status == "unowned" and a.links[secret_b.fingerprint].identifiers == []
    assert a.links[secret_a.fingerprint].identity == "agent:a" and "key_id" in a.links[secret_a.fingerprint].methods
    assert kid.fingerprint not in a.scores


def test_identity_resolution_merges_aliases_kubernetes_id_and_workload_identity(tmp_path):
    root = tmp_path / "org"
    write(root, "payments/catalog-info.yaml", """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-api
  annotations:
    backstage.io/kubernetes-id: payments-api
    secret-sprawl.io/environment: prod
spec: {type: service, lifecycle: production, owner: group:payments}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments}
spec: {type: team, children: []}
""")
    write(root, "payments/deploy/k8s.yaml", """apiVersion: v1
kind: ServiceAccount
metadata:
  name: payments-api
  namespace: payments-prod
  labels: {backstage.io/kubernetes-id: payments-api}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ledger
  namespace: payments-prod
  annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::123456789012:role/ledger"}
""")
    base = from_document(parse_yaml("""kind: Inventory
owners: [{id: team:payments}]
identities:
  - {id: agent:ledger-bot, kind: agent, owner: team:payments, workload_identity: "arn:aws:iam::123456789012:role/ledger",
     credentials: [cred:ledger]}
credentials: [{id: cred:ledger, fingerprint: fp-ledger}]
""", "base.yaml"), "base.yaml")
    inv, _ = import_sources([root], base=base)
    assert inv.identity("service_account:payments-prod/payments-api") is not None  # the label kept it Kubernetes
    resolved = resolve_identities(inv)
    ids = {i.id for i in resolved.identities}
    assert "workload:payments-api" in ids and "service_account:payments-prod/payments-api" not in ids
    assert "service_account:payments-prod/ledger" not in ids  # the same IRSA role as agent:ledger-bot
    bot = resolved.identity("agent:ledger-bot")
    assert "service_account:payments-prod/ledger" in bot.aliases
    assert inv.identity("service_account:payments-prod/ledger") is not None  # the input is untouched
    # One workload is one holder: declared by both records, the credential is not shared.
    inv.identity("service_account:payments-prod/ledger").credentials.append("cred:ledger")
    f = finding("x.env", 1, "payments", fingerprint="fp-ledger")
    a = analyze([f], inv, today=TODAY)
    assert a.links[f.fingerprint].identity == "agent:ledger-bot" and not a.links[f.fingerprint].ambiguous
    assert a.scores[f.fingerprint].points()["reuse"] == 0


def test_an_owner_who_left_orphans_the_identity():
    inv = Inventory(owners=[Owner("user:gone", type="user", active=False)],
                    identities=[Identity("agent:x", "agent", owner="user:gone", credentials=["c"])],
                    credentials=[Credential("c", fingerprint="fp-x")])
    f = finding("a.py", 1, "r", fingerprint="fp-x")
    link = Linker(inv).link_all([Subject(f)])[f.fingerprint]
    assert link.orphaned
    score = Scorer(inv, TODAY).score(Subject(f), link)
    assert score.points()["ownership"] == 8 and "inactive" in score.factors[8].reason


def test_an_owner_reference_to_nobody_is_inactive_and_survives_a_round_trip(tmp_path):
    root = tmp_path / "org"
    write(root, "svc/catalog-info.yaml", """apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: svc}
spec: {type: ai-agent, lifecycle: production, owner: user:bob}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {memberOf: [platform]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: platform}
spec: {type: team}
""")
    inv, _ = import_sources([root])
    assert inv.owner("user:bob").active is False and inv.owner("user:alice").active
    assert inv.orphaned(inv.identity("agent:svc"))
    assert inv.is_member("user:alice", "team:platform") and "user:alice" in inv.owner("team:platform").members
    again = from_document(parse_yaml(dump_inventory(inv), "m.yaml"), "m.yaml")
    assert again.owner("user:bob").active is False and again.owner("user:alice").member_of == ["team:platform"]


def test_an_explicit_null_owner_in_the_base_is_kept_as_a_conflict(tmp_path):
    root = org(tmp_path)
    base = from_document(parse_yaml("""kind: Inventory
identities:
  - {id: "mcp_server:alpha:.mcp.json#postgres", kind: mcp_server, owner: null}
""", "base.yaml"), "base.yaml")
    inv, conflicts = import_sources([root], base=base)
    assert inv.identity("mcp_server:alpha:.mcp.json#postgres").owner is None  # not inherited, not overwritten
    assert inv.orphaned(inv.identity("mcp_server:alpha:.mcp.json#postgres"))


def test_ambiguity_margin_is_compared_in_hundredths():
    assert 0.68 - 0.58 > 0.10  # the float trap
    assert within_margin(0.68, 0.58) and within_margin(0.95, 0.95) and not within_margin(0.69, 0.58)


def test_reuse_counts_distinct_holders_above_one_half():
    """A candidate at exactly 0.5 or below is not a holder."""
    inv = Inventory(owners=[Owner("team:t")],
                    identities=[Identity("agent:a", "agent", owner="team:t", credentials=["c"]),
                                Identity("agent:b", "agent", owner="team:t", repos=["r"])],
                    credentials=[Credential("c", fingerprint="fp-r")])
    f = finding("a.py", 1, "r", fingerprint="fp-r")
    a = analyze([f], inv, today=TODAY)
    assert any(c.id == "agent:b" for c in a.links[f.fingerprint].candidates)  # repo 0.4: a candidate, not a holder
    assert a.scores[f.fingerprint].points()["reuse"] == 0


def test_membership_is_recorded_for_owner_filters():
    inv = Inventory(owners=[Owner("team:eng", members=["team:payments"]), Owner("team:payments"),
                            Owner("user:dana", type="user", member_of=["team:payments"])],
                    identities=[Identity("agent:x", "agent", owner="user:dana", credentials=["c"])],
                    credentials=[Credential("c", fingerprint="fp-m")])
    f = finding("a.py", 1, "r", fingerprint="fp-m")
    link = Linker(inv).link_all([Subject(f)])[f.fingerprint]
    assert link.owner_groups == ["team:eng", "team:payments"]


def test_a_literal_in_a_committed_k8s_secret_manifest_is_found_at_its_secret_ref(tmp_path):
    root = tmp_path / "org"
    write(root, "payments/deploy/k8s.yaml", """apiVersion: v1
kind: ServiceAccount
metadata: {name: api, namespace: prod, labels: {owner: payments}}
---
apiVersion: v1
kind: Secret
metadata: {name: api-db, namespace: prod}
stringData:
  DB_PASSWORD: not-the-real-one
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: prod}
spec:
  template:
    spec:
      serviceAccountName: api
      containers:
        - name: api
          envFrom: [{secretRef: {name: api-db}}]
""")
    inv, _ = import_sources([root])
    assert inv.credential("k8s-secret:prod/api-db").declared_in == ["payments:deploy/k8s.yaml#L5-L10"]
    f = finding("deploy/k8s.yaml", 9, "payments")
    link = analyze([f], inv, today=TODAY).links[f.fingerprint]
    assert link.identity == "service_account:prod/api" and link.methods[0] == "secret_ref"
    assert link.confidence >= 0.95 and "committed manifest of k8s://prod/api-db" in link.evidence[0].detail
    elsewhere = finding("deploy/k8s.yaml", 9, "ledger")  # the same path in another repository
    assert "secret_ref" not in analyze([elsewhere], inv, today=TODAY).links[elsewhere.fingerprint].methods


def test_repository_visibility_comes_from_the_inventory():
    doc = """kind: Inventory
repos:
  - {name: sdk, visibility: public}
  - {name: core, visibility: private}
"""
    inv = from_document(parse_yaml(doc, "inv.yaml"), "inv.yaml")
    assert inv.public_repos == frozenset({"sdk"})
    public, private = finding("logs/run.log", 1, "sdk"), finding("logs/run.log", 1, "core")
    a = analyze([public, private], inv, today=TODAY)
    assert a.scores[public.fingerprint].points()["where_found"] == 12
    assert a.scores[private.fingerprint].points()["where_found"] == 9
    again = from_document(parse_yaml(dump_inventory(inv), "m.yaml"), "m.yaml")
    assert again.public_repos == frozenset({"sdk"})
    with pytest.raises(InventoryError, match="visibility"):
        from_document(parse_yaml(doc.replace("private}", "secret}"), "inv.yaml"), "inv.yaml")

"""Importers on realistic files (fixtures/inventory/org): Backstage, CODEOWNERS, MCP (both dialects),
Kubernetes, CrewAI, A2A (v1.0 and older), and the merge that records sources and reports conflicts."""
from __future__ import annotations

import json

import pytest
from conftest import REPO, run_sprawl

from scanner.errors import SprawlError
from scanner.inventory.importers import import_sources, read_one
from scanner.inventory.loader import dump_inventory, from_document, load_inventory, parse_yaml

ORG = REPO / "fixtures" / "inventory" / "org"


def one(*parts: str):
    """Import one file of the fixture organisation as an org-root import does: its repository is the first folder."""
    return read_one(ORG.joinpath(*parts), root=ORG)


def test_backstage_multi_document_catalog():
    inv = read_one(ORG / "catalog" / "catalog-info.yaml")
    ids = {i.id: i for i in inv.identities}
    assert set(ids) == {"agent:release-bot", "mcp_server:github-mcp", "service_account:ledger-sync"}
    bot = ids["agent:release-bot"]
    assert (bot.owner, bot.lifecycle, bot.environment, bot.repos) == ("team:payments", "production", "prod",
                                                                      ["payments-api"])
    assert bot.paths == ["deploy/**", ".github/workflows/**"] and str(bot.last_reviewed) == "2026-10-01"
    assert "cred:release-bot-aws" in bot.credentials  # a credential Resource `dependencyOf` the component
    assert bot.sources["owner"].startswith("backstage:") and bot.sources["owner"].endswith("#3")
    sa = ids["service_account:ledger-sync"]
    assert sa.lifecycle == "deprecated" and sa.orphaned and sa.workload_identity.startswith("eks.amazonaws.com/")
    owners = {o.id: o for o in inv.owners}
    assert owners["team:payments"].contacts == ["payments-oncall@acme.example"]
    assert owners["user:dana"].type == "user"
    aws = inv.credential("cred:release-bot-aws")
    assert aws.key_id == "AKIAQX3MPLEK3YRELBOT" and aws.env_vars == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    assert any("payments-rest" in n and "openapi" in n for n in inv.notes)  # a plain API is not an identity


def test_codeowners_last_matching_pattern_wins():
    inv = one("payments-api", ".github", "CODEOWNERS")
    owner = lambda p: (r.owners if (r := inv.path_owner(p, "payments-api")) else None)  # noqa: E731
    assert owner("src/app.py") == ["user:dana"]
    assert owner("deploy/values.yaml") == ["team:payments"]
    assert owner("deploy/generated/client.py") == []  # un-owned by the later, owner-less pattern
    assert owner(".github/workflows/ci.yml") == ["team:payments", "team:platform-security"]
    assert owner("docs/index.md") == ["team:tech-writers"]
    assert owner("docs/api/v1.md") == ["user:dana"]  # /docs/* does not reach into subfolders
    assert {r.repo for r in inv.path_owners} == {"payments-api"}


def test_mcp_vscode_dialect_reads_inputs_and_env_references():
    inv = one("support-agent", ".vscode", "mcp.json")
    at = "support-agent:.vscode/mcp.json"
    zendesk = inv.identity(f"mcp_server:{at}#zendesk")
    assert zendesk.configs == [".vscode/mcp.json"] and zendesk.declared_in == ["support-agent:.vscode/mcp.json"]  # repository-relative
    assert len(zendesk.block_lines(".vscode/mcp.json")) == 1
    cred = inv.credential(f"cred:{at}#zendesk:zendesk_api_token")
    assert cred.secret_ref == "input:zendesk-token" and cred.env_vars == ["ZENDESK_API_TOKEN"]
    assert inv.credential(f"cred:{at}#zendesk:zendesk_subdomain") is None  # a plain setting is not a credential
    docs = inv.credential(f"cred:{at}#docs-search:authorization")
    assert docs.secret_ref == "env:DOCS_SEARCH_TOKEN" and "DOCS_SEARCH_TOKEN" in docs.env_vars
    assert inv.identity(f"mcp_server:{at}#docs-search").purpose.startswith("MCP server (http)")


def test_mcp_servers_dialect_and_literal_values_are_noted_never_copied():
    inv = one("desktop", "claude_desktop_config.json")
    at = "mcp_server:desktop:claude_desktop_config.json#"
    assert {i.id for i in inv.identities} == {at + "github", at + "filesystem", at + "shell"}
    assert inv.identity(at + "shell").tools[0].executes_code
    assert any("GITHUB_PERSONAL_ACCESS_TOKEN holds a literal value" in n for n in inv.notes)
    assert "pasted-here-by-a-developer" not in dump_inventory(inv)
    cursor = one("support-agent", ".cursor", "mcp.json")
    at = "support-agent:.cursor/mcp.json#slack"
    assert cursor.credential(f"cred:{at}:slack_bot_token").secret_ref == "env:SLACK_BOT_TOKEN"
    assert cursor.identity(f"mcp_server:{at}").tools[0].system == "slack"


def test_kubernetes_service_accounts_secrets_and_workloads():
    inv = read_one(ORG / "payments-api" / "deploy" / "k8s.yaml")
    sa = inv.identity("service_account:payments-prod/ledger-sync")
    assert sa.workload_identity == "eks.amazonaws.com/role-arn=arn:aws:iam::123456789012:role/ledger-sync"
    assert sa.owner == "team:payments" and sa.environment == "prod"
    token = inv.credential("k8s-token:payments-prod/ledger-sync")
    assert token.ttl == "PT1H"  # workload identity: short-lived
    db = inv.credential("k8s-secret:payments-prod/ledger-db")
    assert db.secret_ref == "k8s://payments-prod/ledger-db" and db.env_vars == ["LEDGER_DB_PASSWORD", "LEDGER_DB_USER"]
    assert db.id in sa.credentials and "k8s-secret:payments-prod/ledger-api-keys" in sa.credentials
    legacy = inv.credential("k8s-secret:payments-staging/reporting-token")
    assert legacy.ttl == "static" and legacy.id in inv.identity("service_account:payments-staging/reporting").credentials
    assert "cmVwbGFjZS1tZQ==" not in dump_inventory(inv)  # data keys, never values


def test_crewai_agents():
    inv = one("research-crew", "src", "research_crew", "config", "agents.yaml")
    researcher, analyst = inv.identity("agent:researcher"), inv.identity("agent:analyst")
    assert researcher.purpose == "Senior market researcher"
    assert [t.name for t in researcher.tools][:2] == ["SerperDevTool", "ScrapeWebsiteTool"]
    assert any(t.executes_code for t in analyst.tools) and not any(t.executes_code for t in researcher.tools)
    assert researcher.paths == ["src/research_crew/**"] and researcher.declared_in == ["research-crew:src/research_crew/config/agents.yaml"]


def test_a2a_cards_v1_and_older_field_names():
    v1 = read_one(ORG / "research-crew" / ".well-known" / "agent-card.json")
    agent = v1.identity("agent:research-crew")
    assert [t.name for t in agent.tools] == ["market-brief", "competitor-scan"]
    cred = v1.credential("cred:research-crew:apikey")
    assert cred.env_vars == ["X-Research-Key"] and cred.type == "apiKeySecurityScheme"
    assert any("protocol 1.0" in n and "a2a/v1" in n and "extended card" in n for n in v1.notes)
    old = read_one(ORG / "support-agent" / "agent.json")
    assert old.credential("cred:support-agent:bearer").type == "http"
    assert any("protocol 0.3.0" in n and "support.acme.example/a2a/grpc" in n for n in old.notes)


def test_merge_records_sources_and_reports_conflicts_without_overwriting(tmp_path):
    hand = REPO / "fixtures" / "inventory" / "inventory.yaml"
    (tmp_path / "catalog-info.yaml").write_text("""apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: support-agent
  annotations: {secret-sprawl.io/environment: prod}
spec: {type: ai-agent, lifecycle: production, owner: group:ml-platform}
""")
    inv, conflicts = import_sources([tmp_path / "catalog-info.yaml"], base=load_inventory(hand))
    agent = inv.identity("agent:support-agent")
    assert (agent.environment, agent.lifecycle) == ("staging", "experimental")  # the first source keeps its values
    found = {(c.entry, c.field, c.kept, c.other) for c in conflicts}
    assert found == {("agent:support-agent", "environment", "staging", "prod"),
                     ("agent:support-agent", "lifecycle", "experimental", "production")}
    assert all(c.other_source.startswith("backstage:") and c.kept_source == str(hand) for c in conflicts)


def test_whole_organisation_import_validates_after_a_round_trip():
    inv, conflicts = import_sources([ORG])
    text = dump_inventory(inv)
    again = from_document(parse_yaml(text, "merged.yaml"), "merged.yaml")
    assert {i.id for i in again.identities} == {i.id for i in inv.identities}
    assert len(inv.identities) >= 15 and inv.owner("team:platform-security") is not None


def test_unreadable_sources_are_one_line_errors(tmp_path):
    bad = tmp_path / "mcp.json"
    bad.write_text('{"mcpServers": {')
    with pytest.raises(SprawlError, match=r"mcp.json:1: not valid JSON"):
        read_one(bad)
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(SprawlError, match="not a file any importer reads"):
        read_one(other)


def test_cli_import_writes_a_valid_inventory_and_reports_conflicts(tmp_path):
    out = tmp_path / "inventory.yaml"
    (tmp_path / "catalog-info.yaml").write_text("""apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: release-bot}
spec: {type: ai-agent, lifecycle: experimental, owner: payments}
""")
    r = run_sprawl("inventory", "import", str(ORG), str(tmp_path / "catalog-info.yaml"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert b"conflict: identities agent:release-bot field 'lifecycle': kept 'production'" in r.stderr
    assert b"holds a literal value" in r.stderr
    assert run_sprawl("inventory", "validate", str(out)).returncode == 0
    assert b"1 conflict(s)" in r.stdout
    missing = run_sprawl("inventory", "import", str(tmp_path / "nope"), "-o", str(out))
    assert missing.returncode == 2 and missing.stderr.count(b"\n") == 1


def test_a2a_v1_proto_json_requirements(tmp_path):
    card = tmp_path / "agent-card.json"
    card.write_text(json.dumps({
        "name": "Ledger Agent", "supportedInterfaces": [{"url": "https://ledger.example/a2a", "protocolBinding": "JSONRPC"}],
        "securitySchemes": {"oauth": {"oauth2SecurityScheme": {"flows": {}}},
                            "key": {"apiKeySecurityScheme": {"location": "header", "name": "X-Ledger-Key"}}},
        "securityRequirements": [{"schemes": {"oauth": {"list": ["ledger.read", "ledger.write"]}}}]}))
    inv = read_one(card, root=tmp_path)
    assert [c.id for c in inv.credentials] == ["cred:ledger-agent:oauth"]  # not a scheme called "schemes"
    assert inv.credentials[0].scopes == ["ledger.read", "ledger.write"]


def test_kubernetes_id_label_is_kubernetes(tmp_path):
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text("""apiVersion: v1
kind: ServiceAccount
metadata:
  name: api
  namespace: prod
  labels: {backstage.io/kubernetes-id: payments-api}
""")
    inv = read_one(manifest, root=tmp_path)
    sa = inv.identity("service_account:prod/api")
    assert sa is not None and sa.aliases == ["kubernetes-id:payments-api"]

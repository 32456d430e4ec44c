"""A generated organisation with its ground truth (issue 18): does analysis say whose each credential is, and
how bad, on the cases that went wrong before?

Five git repositories (platform, alpha, beta, reports, sdk) with Backstage catalogs, CODEOWNERS under
.github/, MCP configs, Kubernetes manifests with IRSA and GKE workload identity, CrewAI and A2A cards, a
public SDK repository with a token and a debug log holding the prod key pair, and a hand-kept base
inventory. Every secret is random, generated here. The org is imported (`import_sources`, with the base),
each repository's history is scanned (`scan_git`), the findings of one credential are gathered across
repositories, and the analysis runs in process. Printed: the measures below and the failing cases.

    python benchmarks/org_eval.py            # exits 1 when a bar is missed

Bars (issue 18): the right identity for >= 95% of strong-link credentials, the right owner for >= 95% of
all, no wrong link above 0.5, the planted governance rows exact (precision and recall 1.0), no identifier
ranked, and the prod admin key in the public log ranked first.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import string
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from scanner.analysis.analyze import analyze
from scanner.analysis.governance import all_views
from scanner.analysis.subject import Subject
from scanner.inventory.importers import import_sources
from scanner.inventory.loader import from_document, parse_yaml
from scanner.inventory.model import Inventory
from scanner.model import Finding

# The same organisation is measured on the code from before the analysis work too (benchmarks/RESULTS.md: run
# with PYTHONPATH at an export of commit 8c490bc); where that code named things otherwise, use what it had.
try:
    from scanner.findings.collect import portable_fingerprint
    from scanner.pipeline.git import scan_git
    from scanner.pipeline.options import ScanOptions
except ImportError:
    from scanner.findings import portable_fingerprint  # type: ignore[attr-defined,no-redef]
    from scanner.scan import ScanOptions, scan_git  # type: ignore[no-redef]
try:
    from scanner.analysis.subject import is_identifier, subject_facts
    from scanner.findings.facts import facts_of

    def facts_for(f: Finding, secret: str | None) -> list:
        return facts_of(f, secret)

    def subject_facts_of(pairs: list) -> dict:
        return subject_facts(pairs)
except ImportError:
    from scanner.analysis.subject import secret_facts  # type: ignore[attr-defined]

    def facts_for(f: Finding, secret: str | None) -> list:
        return [secret]

    def subject_facts_of(pairs: list) -> dict:
        return next((facts for s in pairs if (facts := secret_facts(s))), {})

    def is_identifier(finding: Finding) -> bool:
        return finding.kind == "identifier"


def repo_of(loc) -> str:
    return loc.provenance["repo"] if isinstance(loc.provenance, dict) else loc.provenance.repo


def set_repo(loc, name: str) -> None:
    if isinstance(loc.provenance, dict):
        loc.provenance["repo"] = name
    else:
        loc.provenance.repo = name

ALNUM = string.ascii_letters + string.digits
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
NOW = int(datetime.now(UTC).timestamp())
SA_TYPE = "service" + "_account"  # spelled apart so this file is not itself a key file to the scanner


def rnd(n: int, alphabet: str = ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def ghp() -> str:
    body = rnd(30)
    n, out = zlib.crc32(body.encode()), ""
    while n:
        n, m = divmod(n, 62)
        out = B62[m] + out
    return "ghp_" + body + out.rjust(6, "0")


def akia() -> str:
    return "AKIA" + rnd(16, string.ascii_uppercase + "234567")


def jwt(claims: dict) -> str:
    def part(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{rnd(43, ALNUM + '-_')}"


def git(repo: Path, *args: str, env: dict | None = None) -> None:
    full = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", **(env or {})}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=full)


def commit(repo: Path, files: dict[str, str | None], when: str = "2025-06-01T10:00:00+00:00") -> None:
    if not (repo / ".git").exists():
        repo.mkdir(parents=True, exist_ok=True)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "config", "user.name", "Dev")
        git(repo, "config", "user.email", "dev@acme.example")
        git(repo, "config", "commit.gpgsign", "false")
    for name, text in files.items():
        if text is None:
            git(repo, "rm", "-q", name)
            continue
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
        git(repo, "add", name)
    git(repo, "commit", "-q", "-m", "change", env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})


@dataclass
class Truth:
    """What the analysis should say of one planted secret."""

    case: str
    rule_id: str
    secret: str
    identity: str | None | tuple[str, ...]  # a tuple: any of these (a tie between declared holders)
    owner: str | None
    strong: bool  # linkable by fingerprint, secret_ref, key_id or its own config block
    where: str = ""  # `repo:path` when the matched text is not the planted string (a PEM inside JSON)

    @property
    def fingerprint(self) -> str:
        return portable_fingerprint(self.rule_id, self.secret)

    def find(self, subjects: list[Subject]) -> Subject | None:
        for s in subjects:
            if s.finding.rule_id != self.rule_id:
                continue
            if self.where and any(f"{repo_of(loc)}:{loc.path}" == self.where for loc in s.finding.locations):
                return s
            if not self.where and s.fingerprint == self.fingerprint:
                return s
        return None


@dataclass
class Org:
    root: Path
    base: Path
    truths: list[Truth] = field(default_factory=list)
    views: dict[str, set[str]] = field(default_factory=dict)  # planted rows: identity ids or fingerprints
    top: str = ""  # the fingerprint that must rank first


def generate(root: Path) -> Org:
    org = Org(root, root / "base-inventory.yaml")
    t = org.truths
    prod_id, prod_secret = akia(), rnd(40, ALNUM + "+/")
    role = "arn:aws:iam::123456789012:role/deployer"
    # platform: the prod deployer (IRSA) and its Secret manifest; the GKE reporter and its GCP key file.
    gcp_key_id = rnd(40, "0123456789abcdef")
    pem = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(rnd(64, ALNUM + "+/") for _ in range(8)) + "\n-----END PRIVATE KEY-----\n"
    commit(root / "platform", {
        ".github/CODEOWNERS": "* @acme/platform\n",
        "catalog-info.yaml": """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: platform-api
  annotations: {backstage.io/kubernetes-id: platform-api}
spec: {type: service, lifecycle: production, owner: group:platform}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: platform}
spec: {type: team}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: data}
spec: {type: team}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: analytics}
spec: {type: team}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {memberOf: [platform]}
""",
        "k8s/deployer.yaml": f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: deployer
  namespace: prod
  labels: {{owner: platform}}
  annotations: {{eks.amazonaws.com/role-arn: "{role}"}}
---
apiVersion: v1
kind: Secret
metadata: {{name: aws-deploy, namespace: prod}}
stringData:
  AWS_ACCESS_KEY_ID: {prod_id}
  AWS_SECRET_ACCESS_KEY: {prod_secret}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: deployer, namespace: prod}}
spec:
  template:
    spec:
      serviceAccountName: deployer
      containers:
        - name: deployer
          envFrom: [{{secretRef: {{name: aws-deploy}}}}]
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: reporter
  namespace: prod
  labels: {{owner: data}}
  annotations: {{iam.gke.io/gcp-service-account: reporter@acme-prod.iam.gserviceaccount.com}}
""",
        "secrets/gcp-sa.json": json.dumps({"type": SA_TYPE, "project_id": "acme-prod",
                                           "private_key_id": gcp_key_id, "private_key": pem,
                                           "client_email": "reporter@acme-prod.iam.gserviceaccount.com",
                                           "client_id": rnd(21, "0123456789")}, indent=2),
    })
    t.append(Truth("prod admin key pair (manifest + public log)", "aws-secret-access-key", prod_secret,
                   "agent:deployer", "team:platform", True))
    # The key file's rule reads the private key as the JSON holds it (newlines escaped) and its identity.
    gcp_truth = Truth("pretty-printed GCP key of a GKE WI account", "gcp-service-account-key-file",
                      json.dumps(pem.strip())[1:-1], "service_account:prod/reporter", "team:data", True,
                      where="platform:secrets/gcp-sa.json")
    t.append(gcp_truth)
    # alpha and beta: the same MCP config (two servers, their own literals), their own CODEOWNERS.
    gh_alpha, pw_alpha, pw_beta = ghp(), rnd(18), rnd(18)

    def mcp(github: str | None, pw: str) -> str:
        servers: dict = {}
        if github:
            servers["github"] = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
                                 "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": github}}
        servers["postgres"] = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-postgres",
                                                          f"postgres://app:{pw}@db.internal:5432/app"]}
        return json.dumps({"mcpServers": servers}, indent=2)

    alpha_key_id, beta_secret = akia(), rnd(40, ALNUM + "+/")
    shared = "sk_live_" + rnd(24)
    commit(root / "alpha", {".github/CODEOWNERS": "* @acme/alpha-team\n", ".mcp.json": mcp(gh_alpha, pw_alpha),
                            "deploy.env": f"AWS_ACCESS_KEY_ID={alpha_key_id}\nREGION=eu-west-1\n",
                            "app/dev.env": f"STRIPE_KEY={shared}\n"})
    test_key = "sk_test_" + rnd(24)
    commit(root / "beta", {".github/CODEOWNERS": "* @acme/beta-team\n", ".mcp.json": mcp(None, pw_beta),
                           "deploy.env": f"REGION=eu-west-1\nAWS_SECRET_ACCESS_KEY={beta_secret}\n",
                           "app/prod.env": f"STRIPE_KEY={shared}\n",
                           "tests/fixtures/stripe.json": json.dumps({"key": test_key}, indent=2)})
    t += [Truth("literal in the github server's block", "github-pat-classic", gh_alpha,
                "mcp_server:alpha:.mcp.json#github", "team:alpha-team", True),
          Truth("literal in alpha's postgres block", "db-connection-uri-password", pw_alpha,
                "mcp_server:alpha:.mcp.json#postgres", "team:alpha-team", True),
          Truth("same server name in beta", "db-connection-uri-password", pw_beta,
                "mcp_server:beta:.mcp.json#postgres", "team:beta-team", True),
          Truth("secret in B beside nothing (its key id sits in A)", "aws-secret-access-key", beta_secret,
                None, "team:beta-team", False),
          Truth("key shared by prod and dev agents", "stripe-live-secret-key", shared,
                ("agent:chat-prod", "agent:chat-dev"), "team:chat", True),
          Truth("test key in a dev fixture", "stripe-test-secret-key", test_key, None, "team:beta-team", False)]
    # reports: JWTs, an owner who left, a decommissioned agent with a key only in history, CrewAI and A2A.
    year = jwt({"sub": "svc-report", "iat": NOW - 86400, "exp": NOW - 86400 + 365 * 86400})
    expired = jwt({"sub": "svc-old-report", "iat": NOW - 3 * 86400, "exp": NOW - 2 * 86400})
    bot, legacy = ghp(), "sk_live_" + rnd(24)
    commit(root / "reports", {"legacy/billing.py": f'STRIPE = "{legacy}"\n'}, "2024-09-01T10:00:00+00:00")
    commit(root / "reports", {
        "legacy/billing.py": None, "config.env": f"REPORT_TOKEN={year}\n", "old.env": f"OLD_TOKEN={expired}\n",
        "bot.env": f"BOT_GITHUB_TOKEN={bot}\n",
        "catalog-info.yaml": """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: reports-bot
  annotations: {secret-sprawl.io/env-vars: BOT_GITHUB_TOKEN}
spec: {type: ai-agent, lifecycle: production, owner: user:bob}
""",
        "src/reports/config/agents.yaml": "analyst:\n  role: Analyst\n  goal: numbers\n  tools: [SerperDevTool]\n",
        ".well-known/agent-card.json": json.dumps({"name": "Reports", "supportedInterfaces": [
            {"url": "https://reports.acme.example/a2a", "protocolBinding": "JSONRPC"}],
            "securitySchemes": {"key": {"apiKeySecurityScheme": {"location": "header", "name": "X-Reports-Key"}}},
            "securityRequirements": [{"schemes": {"key": {"list": []}}}]}),
    })
    t += [Truth("JWT with sub and a one-year exp", "jwt-token", year, "agent:report", "team:analytics", True),
          Truth("expired JWT", "jwt-token", expired, "agent:report", "team:analytics", True),
          Truth("owner who left", "github-pat-classic", bot, "agent:reports-bot", "user:bob", False),
          Truth("decommissioned agent, key only in history", "stripe-live-secret-key", legacy, "agent:legacy",
                "team:analytics", True)]
    # sdk (public): a token in the README and a debug log holding the prod key pair.
    sdk_token = ghp()
    commit(root / "sdk", {".github/CODEOWNERS": "* @acme/dx\n", "README.md": f"export GITHUB_TOKEN={sdk_token}\n",
                          "logs/debug.log": f"2026-11-30T10:00:00Z boto: using AWS_ACCESS_KEY_ID={prod_id}\n"
                                            f"2026-11-30T10:00:01Z boto: AWS_SECRET_ACCESS_KEY={prod_secret}\n"})
    t.append(Truth("token in a public repository", "github-pat-classic", sdk_token, None, "team:dx", False))
    org.base.write_text(f"""kind: Inventory
repos:
  - {{name: sdk, visibility: public}}
owners:
  - {{id: team:platform}}
  - {{id: team:data}}
  - {{id: team:analytics}}
  - {{id: team:chat}}
  - {{id: team:dx}}
  - {{id: team:alpha-team}}
  - {{id: team:beta-team}}
identities:
  - {{id: agent:deployer, kind: agent, owner: team:platform, environment: prod, repos: [platform],
     paths: ["k8s/**"], workload_identity: "{role}", credentials: [cred:prod-aws], last_reviewed: 2026-11-01,
     tools: [{{name: terraform, system: terraform}}, {{name: kubectl-exec, system: kubernetes}}]}}
  - {{id: "service_account:prod/reporter", kind: service_account, owner: team:data, environment: prod,
     credentials: [cred:gcp-reporter], last_reviewed: 2026-11-01}}
  - {{id: agent:alpha-deployer, kind: agent, owner: team:alpha-team, repos: [alpha], credentials: [cred:alpha-deploy],
     last_reviewed: 2026-11-01}}
  - {{id: agent:chat-prod, kind: agent, owner: team:chat, environment: prod, credentials: [cred:shared-stripe],
     last_reviewed: 2026-11-01}}
  - {{id: agent:chat-dev, kind: agent, owner: team:chat, environment: dev, credentials: [cred:shared-stripe],
     last_reviewed: 2026-11-01}}
  - {{id: agent:report, kind: agent, owner: team:analytics, environment: staging,
     credentials: [cred:report-jwt, cred:old-report-jwt], last_reviewed: 2026-11-01}}
  - {{id: agent:legacy, kind: agent, owner: team:analytics, lifecycle: decommissioned, credentials: [cred:legacy],
     last_reviewed: 2026-11-01}}
credentials:
  - {{id: cred:prod-aws, provider: aws, key_id: {prod_id}, scopes: ["*"], ttl: static}}
  - {{id: cred:gcp-reporter, provider: gcp, key_id: {gcp_key_id}, secret_ref: secrets/gcp-sa.json, ttl: static}}
  - {{id: cred:alpha-deploy, provider: aws, key_id: {alpha_key_id},
     env_vars: [AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY]}}
  - {{id: cred:shared-stripe, provider: stripe, fingerprint: {portable_fingerprint("stripe-live-secret-key", shared)}}}
  - {{id: cred:report-jwt, key_id: svc-report}}
  - {{id: cred:old-report-jwt, key_id: svc-old-report}}
  - {{id: cred:legacy, provider: stripe, fingerprint: {portable_fingerprint("stripe-live-secret-key", legacy)}}}
""")
    prod_fp = portable_fingerprint("aws-secret-access-key", prod_secret)
    org.top = prod_fp
    org.views = {
        "orphaned": {"agent:reports-bot", "agent:legacy"},
        "shared": {portable_fingerprint("stripe-live-secret-key", shared)},
        "static-with-workload-identity": {prod_fp, gcp_truth.fingerprint},
        "outside-approved": {f"agent:deployer {prod_fp} sdk:logs/debug.log"},
    }
    return org


def gather(org: Org) -> list[Subject]:
    """Scan every repository's history; one Subject per credential with all its locations."""
    by_fp: dict[str, Finding] = {}
    facts: dict[str, list] = {}
    for repo in sorted(p for p in org.root.iterdir() if (p / ".git").exists()):
        result = scan_git(str(repo), ScanOptions())
        for f in result.findings:
            for loc in f.locations:
                set_repo(loc, repo.name)
            facts.setdefault(f.fingerprint, []).extend(facts_for(f, result.secrets.get(f.fingerprint)))
            if f.fingerprint in by_fp:
                by_fp[f.fingerprint].locations.extend(f.locations)
            else:
                by_fp[f.fingerprint] = f
    return [Subject(f, facts=subject_facts_of(facts[fp])) for fp, f in by_fp.items()]


def evaluate(org: Org) -> tuple[list[str], list[str]]:
    doc = parse_yaml(org.base.read_text(), str(org.base))
    public: frozenset[str] = frozenset()
    if not hasattr(Inventory, "public_repos"):  # code from before `repos:`: the same visibility as --public-repo
        public = frozenset(r["name"] for r in doc.pop("repos", []) if r.get("visibility") == "public")
    base = from_document(doc, str(org.base))
    inv, _conflicts = import_sources([org.root], base=base)
    subjects = gather(org)
    t0 = time.perf_counter()
    a = analyze(subjects, inv, today=date.today(), public_repos=public)
    elapsed = time.perf_counter() - t0
    lines, misses = [], []
    strong = [x for x in org.truths if x.strong]
    right_ident = right_owner = 0
    wrong_links = []
    for x in org.truths:
        subject = x.find(a.subjects)
        if subject is None:
            misses.append(f"not found: {x.case} ({x.rule_id})")
            continue
        link = a.links[subject.fingerprint]
        ok_ident = link.identity in x.identity if isinstance(x.identity, tuple) else link.identity == x.identity
        ok_owner = link.owner == x.owner
        right_ident += ok_ident and x.strong
        right_owner += ok_owner
        if link.identity and link.confidence > 0.5 and not ok_ident:
            wrong_links.append(x.case)
        if not ok_ident or not ok_owner:
            misses.append(f"{x.case}: got {link.identity} ({link.owner}) at {link.confidence:.2f}, "
                          f"want {x.identity} ({x.owner})")
    views = all_views(a)
    got = {"orphaned": {r["identity"] for r in views["orphaned"]},
           "shared": {r["fingerprint"] for r in views["shared"]},
           "static-with-workload-identity": {r["fingerprint"] for r in views["static-with-workload-identity"]},
           "outside-approved": {f"{r['identity']} {r['fingerprint']} {r.get('repo', '?')}:{r['path']}"
                                for r in views["outside-approved"]}}
    ranked = a.ranked()
    identifiers_ranked = [s.finding.rule_id for s in ranked if is_identifier(s.finding)]
    lines.append(f"strong-link credentials with the right identity: {right_ident}/{len(strong)}")
    lines.append(f"credentials with the right owner: {right_owner}/{len(org.truths)}")
    lines.append(f"wrong links above 0.5: {len(wrong_links)} {wrong_links or ''}")
    for name, want in org.views.items():
        have = got[name]
        tp = len(have & want)
        p = tp / len(have) if have else 1.0
        r = tp / len(want) if want else 1.0
        lines.append(f"governance {name}: precision {p:.2f} recall {r:.2f}"
                     + (f" (extra {sorted(have - want)}, missing {sorted(want - have)})" if p < 1 or r < 1 else ""))
        if p < 1 or r < 1:
            misses.append(f"governance {name}")
    lines.append(f"identifiers ranked as credentials: {len(identifiers_ranked)}")
    top = ranked[0] if ranked else None
    lines.append(f"ranked first: {top.finding.rule_id if top else '-'} {a.scores[top.fingerprint].score if top else ''}"
                 f" ({'the prod admin key' if top and top.fingerprint == org.top else 'NOT the prod admin key'})")
    lines.append(f"analysis of {len(a.subjects)} credentials ({len(getattr(a, 'identifiers', []))} identifiers as evidence) "
                 f"in {elapsed:.3f} s")
    if right_ident < 0.95 * len(strong) or right_owner < 0.95 * len(org.truths):
        misses.append("bar: identity or owner accuracy under 95%")
    if wrong_links or identifiers_ranked or not top or top.fingerprint != org.top:
        misses.append("bar: a wrong link, a ranked identifier or the wrong first")
    return lines, misses


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="sprawl-org-") as tmp:
        org = generate(Path(tmp) / "org")
        lines, misses = evaluate(org)
    print("\n".join(lines))
    for m in misses:
        print("MISS:", m)
    sys.exit(1 if any(m.startswith(("bar:", "governance")) for m in misses) else 0)


if __name__ == "__main__":
    main()

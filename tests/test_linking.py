"""Linking (docs/linking.md): every method with its confidence and evidence, noisy-OR, ambiguity,
inferred and unowned findings, orphaned identities; and a generated organisation of 30 agents with
100 planted credentials scanned by the real engine."""
from __future__ import annotations

import random
import string
from collections import Counter
from pathlib import Path

import pytest

from scanner.analysis.linking import STRONG_METHODS, Linker, orphaned_identities
from scanner.analysis.subject import Subject
from scanner.findings.collect import portable_fingerprint
from scanner.inventory.model import Credential, Identity, Inventory, Owner, PathOwner
from scanner.model import Finding, Location, Provenance
from scanner.pipeline.files import scan_paths
from scanner.pipeline.options import ScanOptions


def finding(fp="fp1", path="app/settings.py", snippet="", repo=None, rule_id="test-token", kind="token", line=3,
            **prov):
    provenance = Provenance(**prov, repo=repo or "")
    return Finding(rule_id=rule_id, rule_name=rule_id, provider="test", kind=kind, fingerprint=fp, preview="abcd****",
                   confidence="high", entropy=4.0, privilege="write", lifetime="static", remediation="", reasons=[],
                   locations=[Location(path, line, 1, provenance=provenance, snippet=snippet)])


def org() -> Inventory:
    return Inventory(
        owners=[Owner("team:a", contacts=["a@acme.example"]), Owner("team:b"), Owner("user:carol", "user",
                                                                                       ["carol@acme.example"])],
        identities=[
            Identity("agent:alpha", "agent", owner="team:a", repos=["alpha"], configs=["alpha/mcp.json"],
                     paths=["alpha/**"], credentials=["c:alpha-openai", "c:shared"]),
            Identity("agent:beta", "agent", owner="team:b", repos=["beta"], credentials=["c:beta-aws", "c:shared"]),
            Identity("agent:ghost", "agent", owner=None, credentials=["c:ghost"]),
            Identity("agent:old", "agent", owner="team:b", lifecycle="decommissioned", credentials=["c:old"]),
        ],
        credentials=[
            Credential("c:alpha-openai", fingerprint="fp-alpha", env_vars=["OPENAI_API_KEY"]),
            Credential("c:beta-aws", key_id="AKIAQX3MPLEK3YBETA22", env_vars=["AWS_SECRET_ACCESS_KEY"]),
            Credential("c:shared", env_vars=["SHARED_TOKEN"]),
            Credential("c:ghost", secret_ref="secrets/ghost.env"),
            Credential("c:old", fingerprint="fp-old"),
        ],
        path_owners=[PathOwner("*", ["user:carol"], order=1), PathOwner("/deploy/", ["team:b"], order=2)])


def link(f: Finding, inv: Inventory | None = None, **kw):
    s = Subject(f, **kw)
    return Linker(inv or org()).link_all([s])[s.fingerprint]


def test_fingerprint_match_is_099_with_its_evidence():
    lk = link(finding("fp-alpha", path="elsewhere/x.py"))
    assert (lk.identity, lk.owner, lk.credential, lk.status) == ("agent:alpha", "team:a", "c:alpha-openai", "linked")
    assert lk.confidence == 0.99 and lk.methods[0] == "fingerprint"
    assert "c:alpha-openai" in lk.evidence[0].detail


def test_the_keyed_credential_key_from_the_datastore_matches_too():
    inv = org()
    inv.credentials[0].fingerprint = "hmac-sha256:" + "ab" * 32
    lk = link(finding("portable-other", path="x.py"), inv, credential_key="ab" * 32)
    assert lk.identity == "agent:alpha" and lk.confidence == 0.99


def test_secret_ref_path_is_095():
    lk = link(finding("fp-x", path="secrets/ghost.env"))
    assert lk.identity == "agent:ghost" and lk.methods == ["secret_ref"] and lk.confidence == 0.95


def test_key_id_finding_beside_the_secret_links_the_secret():
    key_id_finding = finding(portable_fingerprint("aws-access-key-id", "AKIAQX3MPLEK3YBETA22"), path="ops/creds.env",
                             rule_id="aws-access-key-id", kind="identifier", line=1)
    secret = finding("fp-secret", path="ops/creds.env", rule_id="aws-secret-access-key", line=2)
    links = Linker(org()).link_all([Subject(key_id_finding), Subject(secret)])
    for fp in ("fp-secret", key_id_finding.fingerprint):
        assert links[fp].identity == "agent:beta" and "key_id" in links[fp].methods and links[fp].confidence == 0.95


def test_literal_in_the_agents_own_config_is_090_and_combines_with_path_and_repo():
    lk = link(finding("fp-x", path="alpha/mcp.json", repo="alpha"))
    assert lk.identity == "agent:alpha"
    assert set(lk.methods) == {"agent_config", "repo", "path_identity"}
    # noisy-OR of 0.90, 0.40 and 0.30, capped at 0.99: 1 - 0.1 * 0.6 * 0.7 = 0.958
    assert lk.confidence == pytest.approx(0.958)


def test_env_var_name_in_one_identity_same_repo_is_070_and_cross_repo_halves_it():
    same = link(finding("fp-x", path="src/a.py", snippet='OPENAI_API_KEY = "abcd****"', repo="alpha"))
    assert same.identity == "agent:alpha" and same.evidence[0].confidence == 0.70
    assert same.confidence == pytest.approx(1 - 0.3 * 0.6)  # with repo ownership 0.4
    inv = org()
    inv.path_owners = []  # else CODEOWNERS' `*` (0.6 for user:carol) would outrank a 0.35 guess
    cross = link(finding("fp-x", path="src/a.py", snippet='OPENAI_API_KEY = "abcd****"', repo="gamma"), inv)
    assert cross.identity == "agent:alpha" and cross.confidence == 0.35 and cross.status == "inferred"


def test_an_env_var_shared_by_two_identities_is_ambiguous():
    inv = org()
    inv.path_owners = []
    lk = link(finding("fp-x", path="src/a.py", snippet="SHARED_TOKEN=abcd****"), inv)
    assert lk.ambiguous and lk.status == "inferred" and lk.confidence == 0.35
    assert {lk.identity, lk.runner_up.id} == {"agent:alpha", "agent:beta"}


def test_codeowners_gives_the_team_060_and_the_last_matching_pattern_wins():
    lk = link(finding("fp-x", path="deploy/prod/values.yaml"))
    assert lk.status == "team-only" and lk.owner == "team:b" and lk.confidence == 0.6
    lk = link(finding("fp-x", path="docs/guide.md"))
    assert lk.owner == "user:carol"


def test_commit_author_is_020():
    inv = org()
    inv.path_owners = []
    lk = link(finding("fp-x", path="x.py", email="carol@acme.example"), inv)
    assert lk.owner == "user:carol" and lk.confidence == 0.2 and lk.status == "inferred"


def test_no_evidence_means_unowned():
    inv = org()
    inv.path_owners = []
    lk = link(finding("fp-nothing", path="x.py"), inv)
    assert lk.status == "unowned" and lk.identity is None and lk.owner is None and lk.confidence == 0


def test_noisy_or_is_capped_at_099():
    lk = link(finding("fp-alpha", path="alpha/mcp.json", repo="alpha", snippet="OPENAI_API_KEY=abcd****"))
    assert lk.confidence == 0.99 and len(lk.methods) >= 4


def test_orphaned_identities_are_named():
    inv = org()
    assert {i.id for i in orphaned_identities(inv)} == {"agent:ghost", "agent:old"}
    assert link(finding("fp-old", path="x.py"), inv).orphaned
    assert link(finding("fp-x", path="secrets/ghost.env"), inv).orphaned


# ---- the generated organisation ---------------------------------------------------------------

B62 = string.ascii_letters + string.digits
AWS_ID = string.ascii_uppercase + "234567"


def anthropic_key(rng) -> str:
    return "sk-ant-api03-" + "".join(rng.choice(B62) for _ in range(93)) + "AA"


def openai_key(rng) -> str:
    body = lambda n: "".join(rng.choice(B62) for _ in range(n))  # noqa: E731
    return f"sk-proj-{body(40)}T3BlbkFJ{body(40)}"


def build_org(root: Path, seed: int = 6):
    """30 agents in 6 teams, each with its own repository; 100 credentials planted with a known owner and method:
    25 declared by fingerprint, 20 by AWS key id beside the secret, 20 at a declared secret_ref, 20 as literals in
    the agent's own config, 15 assigned to an env var the agent declares. Leaks land in other agents' repos
    where the method allows it, so weak repo evidence points the wrong way."""
    rng = random.Random(seed)
    inv = Inventory(owners=[Owner(f"team:t{n}") for n in range(6)])
    agents = []
    for n in range(30):
        ident = Identity(f"agent:bot-{n:02d}", "agent", owner=f"team:t{n % 6}", repos=[f"repo-{n:02d}"],
                         configs=[f"repo-{n:02d}/agents/bot-{n:02d}/mcp.json"], environment="prod")
        inv.identities.append(ident)
        agents.append(ident)
    plan = ["fingerprint"] * 25 + ["key_id"] * 20 + ["secret_ref"] * 20 + ["agent_config"] * 20 + ["env_var"] * 15
    planted = {}  # secret -> (identity id, method)
    files: dict[Path, list[str]] = {}
    for k, method in enumerate(plan):
        owner = agents[k % 30]
        other = agents[(k * 7 + 3) % 30]
        n = int(owner.id[-2:])
        cred = Credential(f"cred:{k:03d}", provider="anthropic")
        secret = anthropic_key(rng) if k % 2 else openai_key(rng)
        if method == "fingerprint":
            rule = "anthropic-api-key" if k % 2 else "openai-api-key"
            cred.fingerprint = portable_fingerprint(rule, secret)
            path = root / f"repo-{int(other.id[-2:]):02d}" / "scripts" / f"leak_{k}.py"
            files.setdefault(path, []).append(f'client_key = "{secret}"')
        elif method == "key_id":
            key_id = "AKIA" + "".join(rng.choice(AWS_ID) for _ in range(16))
            secret = "".join(rng.choice(B62 + "/+") for _ in range(40))
            cred.key_id, cred.provider = key_id, "aws"
            path = root / f"repo-{int(other.id[-2:]):02d}" / "ops" / f"aws_{k}.env"
            files.setdefault(path, []).extend([f"AWS_ACCESS_KEY_ID={key_id}", f"AWS_SECRET_ACCESS_KEY={secret}"])
        elif method == "secret_ref":
            rel = f"repo-{int(other.id[-2:]):02d}/vault-export/bot-{n:02d}-{k}.env"
            cred.secret_ref = rel
            files.setdefault(root / rel, []).append(f"API_KEY={secret}")
        elif method == "agent_config":
            path = root / owner.configs[0]
            files.setdefault(path, []).append(f'"KEY_{k}": "{secret}",')
        else:  # env_var: a name only this agent declares, found in its own repository
            var = f"BOT{n:02d}_KEY_{k}"
            cred.env_vars = [var]
            path = root / f"repo-{n:02d}" / "app" / f"settings_{k}.py"
            files.setdefault(path, []).append(f'{var} = "{secret}"')
        inv.credentials.append(cred)
        owner.credentials.append(cred.id)
        planted[secret] = (owner.id, method)
    for path, lines in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.name == "mcp.json":
            path.write_text('{"mcpServers": {"tools": {"command": "npx", "env": {\n' + "\n".join(lines) +
                            '\n"REGION": "eu-west-1"}}}}\n')
        else:
            path.write_text("\n".join(lines) + "\n")
    return inv, planted


def test_generated_organisation_links_strong_credentials_right_and_never_wrong_above_half(tmp_path):
    inv, planted = build_org(tmp_path)
    assert len(planted) == 100 and len(inv.identities) == 30
    result = scan_paths([str(tmp_path)], ScanOptions(min_confidence="low", show_secrets=True, jobs=1))
    subjects = []
    for f in result.findings:
        for loc in f.locations:  # what a sweep records: the repository of each location
            loc.provenance.repo = Path(loc.path).relative_to(tmp_path).parts[0]
            loc.path = Path(loc.path).relative_to(tmp_path).as_posix()
        subjects.append(Subject(f))
    links = Linker(inv).link_all(subjects)
    by_secret = {f.secret: f for f in result.findings}
    missing = [m for s, (_i, m) in planted.items() if s not in by_secret]
    assert not missing, f"the engine missed planted credentials: {Counter(missing)}"
    strong_total = strong_right = 0
    wrong_above_half = []
    for secret, (owner, method) in planted.items():
        lk = links[by_secret[secret].fingerprint]
        if method in STRONG_METHODS:
            strong_total += 1
            strong_right += lk.identity == owner
        if lk.identity != owner and lk.confidence > 0.5:
            wrong_above_half.append((method, owner, lk.identity, lk.confidence))
    # Nothing else in the organisation may be linked wrongly above 0.5 either (the AWS key ids, for one).
    for f in result.findings:
        if f.secret in planted:
            continue
        lk = links[f.fingerprint]
        assert lk.confidence <= 0.5 or lk.credential is not None, (f.rule_id, lk.link())
    assert strong_total == 85
    assert strong_right / strong_total >= 0.95, f"{strong_right}/{strong_total} strong links right"
    assert wrong_above_half == []


def _jwt(claims: dict) -> str:
    import base64
    import json

    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")  # noqa: E731
    return f"{enc({'alg': 'HS256', 'typ': 'JWT'})}.{enc(claims)}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk"


def test_a_jwt_sub_is_a_key_id_and_its_exp_sets_lifetime_and_expiry():
    from datetime import date

    from scanner.analysis.blast_radius import Scorer
    from scanner.analysis.subject import secret_facts

    token = _jwt({"sub": "svc-report-exporter", "iat": 1_790_000_000, "exp": 1_790_003_600})
    facts = secret_facts(token)
    assert facts["key_ids"] == ["svc-report-exporter"] and facts["ttl_seconds"] == 3600
    assert secret_facts("not-a-jwt") == {} and secret_facts("eyJ.bm90IGpzb24.x") == {}
    inv = org()
    inv.credentials.append(Credential("c:exporter", key_id="svc-report-exporter"))
    inv.identities[1].credentials.append("c:exporter")
    s = Subject(finding("fp-jwt", path="x.py"), facts=facts)
    lk = Linker(inv).link_all([s])["fp-jwt"]
    assert lk.identity == "agent:beta" and lk.methods[0] == "key_id" and lk.confidence == 0.95
    score = Scorer(inv, date(2026, 11, 25)).score(s, lk)
    lifetime = next(f for f in score.factors if f.name == "lifetime")
    assert lifetime.points == 0 and "exp - iat" in lifetime.reason
    assert score.liveness == "expired" and score.multiplier == 0.2  # exp (2026-09) is before today

"""Linking at organisation scale: 2,000 identities against 5,000 findings must link in under 2 s.

The inventory has what makes linking expensive: every credential a declared secret_ref (a file path in its
repository, a k8s:// or vault ref), env vars, key ids for a third of them, MCP configs with per-server
blocks, CODEOWNERS rules per repository. Findings spread over 200 repositories; a third match a
secret_ref path, a third an env var, the rest nothing. Prints the link time (identity resolution included)
and the scoring time.

    python benchmarks/linking_scale.py                 # 2000 identities, 5000 findings
    python benchmarks/linking_scale.py 4000 10000      # a custom size
"""
from __future__ import annotations

import os
import platform
import random
import subprocess
import sys
import time
from datetime import date

from scanner.analysis.blast_radius import Scorer
from scanner.analysis.linking import Linker
from scanner.analysis.subject import Subject
from scanner.inventory.model import Credential, Identity, Inventory, Owner, PathOwner, Tool
from scanner.inventory.resolve import resolve_identities
from scanner.model import Finding, Location, Provenance

REPOS = 200


def build(n_identities: int, n_findings: int, seed: int = 7) -> tuple[Inventory, list[Subject]]:
    rng = random.Random(seed)
    inv = Inventory(owners=[Owner(f"team:t{k}") for k in range(n_identities // 10 + 1)])
    for k in range(n_identities):
        repo = f"repo-{k % REPOS}"
        ident = Identity(f"agent:a{k}", "agent", owner=f"team:t{k // 10}", repos=[repo],
                         paths=[f"services/a{k}/**"], configs=[".mcp.json"],
                         config_blocks=[f".mcp.json#L{10 * (k // REPOS) + 2}-L{10 * (k // REPOS) + 9}"],
                         tools=[Tool("github", "github"), Tool("slack", "slack")],
                         aliases=[f"kubernetes-id:a{k}"])
        for j in range(3):
            ref = (f"services/a{k}/secrets/{j}.env" if j == 0 else
                   f"k8s://ns-{k}/secret-{j}" if j == 1 else f"vault://kv/a{k}/{j}")
            cred = Credential(f"c{k}-{j}", fingerprint=f"{k:08x}{j:024x}", env_vars=[f"A{k}_KEY_{j}"],
                              key_id=f"AKIA{k:08d}{j:08d}" if j == 0 else None, secret_ref=ref)
            inv.credentials.append(cred)
            ident.credentials.append(cred.id)
        inv.identities.append(ident)
    for r in range(REPOS):
        inv.path_owners += [PathOwner("*", [f"team:t{r % len(inv.owners)}"], repo=f"repo-{r}", order=1),
                            PathOwner("/services/", [f"team:t{(r + 1) % len(inv.owners)}"], repo=f"repo-{r}", order=2)]
    subjects = []
    for n in range(n_findings):
        k = rng.randrange(n_identities)
        repo = f"repo-{k % REPOS}"
        kind = n % 3
        path = (f"services/a{k}/secrets/0.env" if kind == 0 else f"services/a{k}/settings.py" if kind == 1
                else f"misc/{n}.txt")
        snippet = f'A{k}_KEY_1 = "abcd****"' if kind == 1 else "abcd****"
        loc = Location(path, 3, 1, provenance=Provenance(repo=repo, date="2026-01-01T00:00:00+00:00"), snippet=snippet)
        f = Finding(f"rule-{n % 40}", "r", "p", "token", f"unknown{n:025x}", "abcd****", "high", 4.0, "write",
                    "static", "", [], [loc])
        subjects.append(Subject(f))
    return inv, subjects


def main() -> None:
    n_identities = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    n_findings = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    inv, subjects = build(n_identities, n_findings)
    t0 = time.perf_counter()
    resolved = resolve_identities(inv)
    links = Linker(resolved).link_all(subjects)
    t1 = time.perf_counter()
    scorer = Scorer(resolved, date(2026, 12, 7))
    for s in subjects:
        scorer.score(s, links[s.fingerprint])
    t2 = time.perf_counter()
    by_ref = sum(1 for lk in links.values() if "secret_ref" in lk.methods)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"identities={n_identities} credentials={len(inv.credentials)} findings={n_findings} "
          f"link_s={t1 - t0:.2f} score_s={t2 - t1:.2f} linked_by_secret_ref={by_ref} "
          f"commit={commit or '?'} machine={platform.machine()} cpus={os.cpu_count()} python={platform.python_version()}")
    if t1 - t0 >= 2.0:
        sys.exit(1)


if __name__ == "__main__":
    main()

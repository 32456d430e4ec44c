"""Analysis cost: link and score N findings against an inventory of M identities (in process, no scan).

Prints a table: findings, identities, credentials, link seconds, score seconds, findings per second.

    python benchmarks/linking.py               # 1k/100, 10k/300, 10k/1000
    python benchmarks/linking.py 20000 2000    # one custom size
"""
from __future__ import annotations

import random
import sys
import time

from scanner.analysis.blast_radius import Scorer
from scanner.analysis.linking import Linker
from scanner.analysis.subject import Subject
from scanner.inventory.model import Credential, Identity, Inventory, Owner, PathOwner, Tool
from scanner.model import Finding, Location


def build(n_findings: int, n_identities: int, seed: int = 1):
    rng = random.Random(seed)
    inv = Inventory(owners=[Owner(f"team:t{k}") for k in range(max(1, n_identities // 10))])
    for k in range(n_identities):
        ident = Identity(f"agent:a{k}", "agent", owner=f"team:t{k // 10}", repos=[f"repo-{k % 200}"],
                         paths=[f"services/a{k}/**"], configs=[f"services/a{k}/mcp.json"],
                         tools=[Tool("github", "github"), Tool("slack", "slack")])
        for j in range(3):
            cred = Credential(f"c{k}-{j}", fingerprint=f"{k:08x}{j:024x}", env_vars=[f"A{k}_KEY_{j}"],
                              key_id=f"AKIA{k:08d}{j:08d}" if j == 0 else None)
            inv.credentials.append(cred)
            ident.credentials.append(cred.id)
        inv.identities.append(ident)
    inv.path_owners = [PathOwner(f"/services/a{k}/", [f"team:t{k // 10}"], order=k) for k in range(n_identities)]
    subjects = []
    for n in range(n_findings):
        k = rng.randrange(n_identities)
        fp = f"{k:08x}{rng.randrange(3):024x}" if n % 3 == 0 else f"unknown{n:025x}"
        path = rng.choice([f"services/a{k}/settings.py", f"services/a{k}/mcp.json", f"misc/{n}.env"])
        locs = [Location(path, 3, 1, provenance={"repo": f"repo-{k % 200}", "date": "2026-01-01T00:00:00+00:00"},
                         snippet=f'A{k}_KEY_0 = "abcd****"')]
        subjects.append(Subject(Finding(f"rule-{n % 40}", "r", "p", "token", fp, "abcd****", "high", 4.0, "write",
                                        "static", "", [], locs)))
    return inv, subjects


def measure(n_findings: int, n_identities: int) -> tuple:
    inv, subjects = build(n_findings, n_identities)
    t0 = time.perf_counter()
    links = Linker(inv).link_all(subjects)
    t1 = time.perf_counter()
    scorer = Scorer(inv)
    for s in subjects:
        scorer.score(s, links[s.fingerprint])
    t2 = time.perf_counter()
    return n_findings, n_identities, len(inv.credentials), t1 - t0, t2 - t1, n_findings / (t2 - t0)


def main() -> None:
    sizes = [(int(sys.argv[1]), int(sys.argv[2]))] if len(sys.argv) == 3 else [(1000, 100), (10000, 300),
                                                                                (10000, 1000)]
    print(f"{'findings':>9} {'identities':>10} {'credentials':>11} {'link s':>8} {'score s':>8} {'findings/s':>11}")
    for size in sizes:
        f, i, c, lt, st, rate = measure(*size)
        print(f"{f:>9} {i:>10} {c:>11} {lt:>8.2f} {st:>8.2f} {rate:>11.0f}")


if __name__ == "__main__":
    main()

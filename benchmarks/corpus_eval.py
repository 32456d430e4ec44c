#!/usr/bin/env python3
"""Recall and negative-flag rate of the engine on the peers' labelled corpus.

    python benchmarks/corpus_eval.py [--corpus ../shared/corpus/peers] [--by-provider]
                                     [--source titus] [--provider aws] [--min-confidence low|medium]
                                     [--misses 20]

A positive counts as found when a finding overlaps the labelled secret (or, when the
label has no secret, when anything is found). A negative counts as flagged only when a
finding of the same provider is reported (any finding for the generic and password
providers), as the corpus README prescribes. Disputed negatives are left out.

Scoring rule for identifiers: a positive whose corpus `categories` hold `identifier` (Azure tenant,
client and subscription ids, storage account names, GCP OAuth client ids, S3 bucket names, AWS key
ids alone) names something rather than granting access; the engine reports those at low on purpose
(issue 20: held-out sets count them as false positives). Every positive counts in the `source` rows;
the `secrets` rows leave the identifier positives out, so both numbers are printed and gated
(tests/test_corpus.py).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner.engine import Engine  # noqa: E402
from scanner.model import CONFIDENCE_RANK  # noqa: E402
from scanner.rules import load_rules  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "peers"
ANY_FINDING_PROVIDERS = {"generic", "password"}
# The corpus labels some providers twice; each pair is one provider to us.
ALIASES = {"togetherai": "together", "stabilityai": "stability", "wandb": "weights", "zai": "zhipu",
           "frame": "frameio", "ciscomeraki": "cisco", "drone": "droneci", "definednetworking": "defined"}


def same_provider(a: str, b: str) -> bool:
    return ALIASES.get(a, a) == ALIASES.get(b, b)


def load_cases(corpus: Path, sources: set[str] | None) -> list[dict]:
    """Every case, less disputed negatives and contested ones: a negative whose exact text the same
    source also lists as a positive of the same provider (a sibling rule's true positive) cannot be
    scored by provider, so it is marked `contested` and counted apart."""
    cases = []
    for f in sorted(corpus.glob("*.jsonl")):
        if sources and f.stem not in sources:
            continue
        for line in f.open(encoding="utf-8"):
            case = json.loads(line)
            if not case.get("disputed"):
                cases.append(case)
    positives = {(c["source"], ALIASES.get(c["provider"], c["provider"]), c["text"]) for c in cases if c["positive"]}
    for c in cases:
        if not c["positive"] and (c["source"], ALIASES.get(c["provider"], c["provider"]), c["text"]) in positives:
            c["contested"] = True
    return cases


def is_identifier(case: dict) -> bool:
    """A positive the corpus itself marks as an identifier, not a credential (the scoring rule above)."""
    return "identifier" in (case.get("categories") or [])


def found_secret(case: dict, matches) -> bool:
    secret, text = case.get("secret"), case["text"]
    if not secret or secret not in text:
        return bool(matches)
    lo = len(text[: text.index(secret)].encode())
    hi = lo + len(secret.encode())
    return any(m.start < hi and m.end > lo for m in matches)


def flagged_negative(case: dict, matches) -> bool:
    if case["provider"] in ANY_FINDING_PROVIDERS:
        return bool(matches)
    return any(same_provider(m.provider, case["provider"]) for m in matches)


def evaluate(engine: Engine, cases: list[dict], min_confidence: str):
    floor = CONFIDENCE_RANK[min_confidence]
    stats = defaultdict(lambda: [0, 0, 0, 0])  # positives, found, negatives, flagged
    misses = []
    for case in cases:
        matches = [m for m in engine.scan(case["text"].encode(), case.get("path", "")) if CONFIDENCE_RANK[m.confidence] >= floor]
        keys = [("source", case["source"]), ("provider", (case["source"], case["provider"]))]
        if case["positive"]:
            hit = found_secret(case, matches)
            if not is_identifier(case):
                keys.append(("secrets", case["source"]))
            for k in keys:
                stats[k][0] += 1
                stats[k][1] += hit
            if not hit:
                misses.append(case)
        elif case.get("contested"):
            stats[("contested", case["source"])][2] += 1
            stats[("contested", case["source"])][3] += flagged_negative(case, matches)
        else:
            flag = flagged_negative(case, matches)
            for k in keys:
                stats[k][2] += 1
                stats[k][3] += flag
            if flag:
                case["flagged_by"] = [m for m in matches if flagged_negative(case, [m])]
                misses.append(case)
    return stats, misses


def ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--source", action="append", help="only these sources (repeatable)")
    ap.add_argument("--provider", action="append", help="only these providers (repeatable)")
    ap.add_argument("--min-confidence", default="low", choices=list(CONFIDENCE_RANK))
    ap.add_argument("--by-provider", action="store_true", help="print a row per source and provider")
    ap.add_argument("--misses", type=int, default=0, help="print up to N missed positives and flagged negatives")
    args = ap.parse_args()

    if not args.corpus.is_dir():
        print(f"corpus_eval: no corpus at {args.corpus}", file=sys.stderr)
        return 2
    cases = load_cases(args.corpus, set(args.source) if args.source else None)
    if args.provider:
        cases = [c for c in cases if c["provider"] in args.provider]
    t0 = time.perf_counter()
    engine = Engine(load_rules())
    stats, misses = evaluate(engine, cases, args.min_confidence)
    elapsed = time.perf_counter() - t0

    print(f"{len(engine.rules)} rules, {len(engine.ruleset.providers)} providers; {len(cases)} cases in {elapsed:.1f}s; "
          f"min confidence {args.min_confidence}\n")
    print(f"{'source':<16}{'positives':>10}{'found':>8}{'recall':>8}{'negatives':>11}{'flagged':>9}{'rate':>7}")
    for (kind, key), (p, f, n, fl) in sorted(stats.items(), key=lambda kv: str(kv[0])):
        if kind == "source":
            secrets = stats.get(("secrets", key), [0, 0, 0, 0])
            print(f"{key:<16}{p:>10}{f:>8}{ratio(f, p):>8}{n:>11}{fl:>9}{ratio(fl, n):>7}"
                  f"   without identifiers: {secrets[1]}/{secrets[0]} {ratio(secrets[1], secrets[0])}")
    if args.by_provider:
        print(f"\n{'source/provider':<36}{'positives':>10}{'found':>8}{'recall':>8}{'negatives':>11}{'flagged':>9}")
        for (kind, key), (p, f, n, fl) in sorted(stats.items(), key=lambda kv: str(kv[0])):
            if kind == "provider":
                print(f"{key[0] + '/' + key[1]:<36}{p:>10}{f:>8}{ratio(f, p):>8}{n:>11}{fl:>9}")
    contested = {k[1]: v for k, v in stats.items() if k[0] == "contested"}
    if contested:
        print("\ncontested negatives (also a positive of the same provider in the same source), not in the rates: "
              + ", ".join(f"{src} {v[3]}/{v[2]} flagged" for src, v in sorted(contested.items())))
    labelled = positive_secrets(cases)
    for case in misses[: args.misses]:
        label = "MISSED" if case["positive"] else "FLAGGED"
        print(f"{label} {case['source']}/{case['rule']} [{case['provider']}]: {case['text'][:160]!r}")
        for m in case.get("flagged_by", []):
            twin = labelled.get((case["source"], ALIASES.get(m.provider, m.provider), m.secret))
            print(f"    by {m.rule_id} at {m.confidence}" + (f"; the same value is a positive of {twin}" if twin else ""))
    return 0


def positive_secrets(cases: list[dict]) -> dict[tuple[str, str, str], str]:
    """(source, provider, labelled secret) -> rule of a positive: shows which flagged negatives carry a
    value that the same source labels a secret of that provider under a sibling rule."""
    return {(c["source"], ALIASES.get(c["provider"], c["provider"]), c["secret"]): c["rule"]
            for c in cases if c["positive"] and c.get("secret")}


if __name__ == "__main__":
    sys.exit(main())

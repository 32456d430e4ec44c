#!/usr/bin/env python3
"""Why the engine misses the peers' positives at a confidence floor: one class per miss, counted per source.

    python benchmarks/corpus_misses.py [--corpus ../shared/corpus/peers] [--source titus] [--min-confidence medium]
                                       [--show CLASS] [--limit 20]

Classes (the first that applies):
  identifier        the corpus marks the case an identifier (corpus_eval's scoring rule)
  low:<reason>      found, but below the floor; <reason> is the engine's first reason for the demotion
                    (marked as an example, filler, a failed checksum, a default password, a comment...)
  dropped:<reason>  the labelled secret is a placeholder, template or documented example: dropped on purpose
  unmatched         no rule finds the labelled secret at any confidence: a coverage gap to judge

Only the class counts and the peers' rule ids are printed unless --show names a class; the texts are the
peers' test strings (never copy them into rules, tests or docs).
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpus_eval import DEFAULT_CORPUS, found_secret, is_identifier, load_cases  # noqa: E402

from scanner.engine import Engine  # noqa: E402
from scanner.engine.filters import documented_example, placeholder_reason  # noqa: E402
from scanner.model import CONFIDENCE_RANK  # noqa: E402
from scanner.rules import load_rules  # noqa: E402


def classify(engine: Engine, case: dict, floor: int) -> str | None:
    """The class of a positive the engine misses at floor, or None when it is found."""
    matches = engine.scan(case["text"].encode(), case.get("path", ""))
    if found_secret(case, [m for m in matches if CONFIDENCE_RANK[m.confidence] >= floor]):
        return None
    if is_identifier(case):
        return "identifier"
    below = [m for m in matches if found_secret(case, [m])]
    if below:
        reasons = [r for r in below[0].reasons if "check passed" not in r and not r.startswith("assigned to")]
        return "low:" + (reasons[0] if reasons else f"rule confidence ({below[0].rule_id})")
    secret = case.get("secret")
    if secret and (reason := placeholder_reason(secret)):
        return f"dropped:{reason}"
    if secret and documented_example(secret):
        return "dropped:documented example"
    return "unmatched"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--source", action="append", help="only these sources (repeatable)")
    ap.add_argument("--min-confidence", default="medium", choices=list(CONFIDENCE_RANK))
    ap.add_argument("--show", help="print the cases of this class (prefix match: low, dropped, unmatched...)")
    ap.add_argument("--limit", type=int, default=20)
    args = ap.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus_misses: no corpus at {args.corpus}", file=sys.stderr)
        return 2
    engine = Engine(load_rules())
    floor = CONFIDENCE_RANK[args.min_confidence]
    cases = [c for c in load_cases(args.corpus, set(args.source) if args.source else None) if c["positive"]]
    classes: dict[str, Counter] = {}
    rules: dict[tuple[str, str], Counter] = {}
    shown = 0
    for case in cases:
        cls = classify(engine, case, floor)
        if cls is None:
            continue
        classes.setdefault(case["source"], Counter())[cls] += 1
        rules.setdefault((case["source"], cls), Counter())[case["rule"]] += 1
        if args.show and cls.startswith(args.show) and shown < args.limit:
            shown += 1
            print(f"{cls} {case['source']}/{case['rule']}: {case['text'][:160]!r}")
    positives = Counter(c["source"] for c in cases)
    for source, counted in sorted(classes.items()):
        print(f"\n{source}: {sum(counted.values())} of {positives[source]} positives missed at {args.min_confidence}")
        for cls, n in counted.most_common():
            top = ", ".join(f"{r} {k}" for r, k in rules[(source, cls)].most_common(4))
            print(f"  {n:>4}  {cls:<44} {top}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

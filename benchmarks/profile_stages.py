#!/usr/bin/env python3
"""Where a scan's time goes, stage by stage: one process, under cProfile.

    python benchmarks/profile_stages.py DIR [--engine hyperscan]
    python benchmarks/profile_stages.py REPO --git [--engine portable]

Runs scan_paths (or scan_git) with --jobs 1 and renders the JSON report, then prints the
cumulative seconds of each stage's entry point: read, keyword prefilter, rule regexes,
confirm, context, decode, findings, report. Stages nest (decode re-runs match and confirm on
decoded text), so the shares need not sum to the total. cProfile inflates Python-heavy stages
against C-heavy ones: read the table for proportions, benchmarks/throughput.py for speed.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import machine, table  # noqa: E402

# stage -> (file suffix, function name) entry points; the first that the profile holds is used.
STAGES = {
    "read (files; pipes too)": [("~", "<method 'read' of '_io.BufferedReader' objects>"), ("~", "<built-in method io.open>")],
    "read (git cat-file)": [("scanner/sources/git.py", "many"), ("scanner/sources/git.py", "__call__")],
    "keyword prefilter": [("scanner/engine/hyperscan_matcher.py", "prescan"), ("scanner/engine/matcher.py", "keyword_hits")],
    "matcher (prefilter + rule regexes)": [("scanner/engine/matcher.py", "candidates")],
    "confirm (entropy, filters, checks)": [("scanner/engine/core.py", "_confirm")],
    "context": [("scanner/engine/context/__init__.py", "refine")],
    "decode (spans, re-scan inside)": [("scanner/engine/core.py", "_decoded")],
    "findings (collect, fingerprint)": [("scanner/findings.py", "add")],
    "report (json)": [("scanner/report/__init__.py", "render")],
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("target", type=Path)
    ap.add_argument("--git", action="store_true", help="scan the target's full git history")
    ap.add_argument("--engine", choices=["auto", "portable", "hyperscan"], default="auto")
    args = ap.parse_args()
    os.environ["SPRAWL_ENGINE"] = args.engine

    from scanner.pipeline.engines import get_engine
    from scanner.pipeline.files import scan_paths
    from scanner.pipeline.git import scan_git
    from scanner.pipeline.options import ScanOptions
    from scanner.report import render

    engine = get_engine()  # rules and the matcher's databases: start-up, not scanning
    options = ScanOptions(jobs=1)
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    result = scan_git(str(args.target), options) if args.git else scan_paths([str(args.target)], options)
    render(result, "json")
    profile.disable()
    total = time.perf_counter() - started

    stats = pstats.Stats(profile).stats  # (file, line, name) -> (cc, nc, tottime, cumtime, callers)
    rows = []
    for stage, entries in STAGES.items():
        for suffix, name in entries:
            cum = sum(v[3] for (f, _, n), v in stats.items() if f.endswith(suffix) and n == name)
            calls = sum(v[1] for (f, _, n), v in stats.items() if f.endswith(suffix) and n == name)
            if calls:
                rows.append([stage, f"{cum:.2f}", f"{100 * cum / total:.0f}%", str(calls)])
                break
    mb = result.stats.bytes / 2**20
    print(f"{args.target}{' (git history)' if args.git else ''}: {result.stats.files} {result.stats.unit}s, "
          f"{mb:.1f} MB scanned, matcher {engine.matcher.name}, {len(result.findings)} findings; {machine()}")
    print(f"total under cProfile: {total:.2f} s ({mb / total:.1f} MB/s on one core)\n")
    print(table(rows, ["stage", "seconds", "of total", "calls"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""What context analysis (tree-sitter, line parsers, generic secrets, decoders) costs in throughput.

    python benchmarks/context_cost.py [TREE ...] --cli [--repeat 3] [--engine portable|hyperscan]
    python benchmarks/context_cost.py [TREE ...] [--repeat 3] [--max-size 1048576] [--engine portable|hyperscan]

With --cli, the issue's measure: throughput on a source tree, `sprawl scan TREE` against
`sprawl scan TREE --no-context` (the engine without context analysis), whole runs as a user runs them
(start-up, reading, every core, the report), interleaved, best of --repeat, in wall seconds. The bar:
context costs at most 30% of that throughput.

Without --cli, a diagnostic of the engine alone: every text file of each tree held in memory and
scanned in this process on one core, with the engine as built for a scan (Engine(rules)) and with
context off (as --no-context builds it), best of --repeat, in CPU seconds. It tells what share of the
engine's own time context takes; with the Hyperscan matcher, whose bare engine is several times
faster than the portable one, the same absolute cost of context is a larger share.
Default tree: this Python's standard library (a real source tree full of the words password, token,
secret and key).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner.engine import Engine  # noqa: E402
from scanner.engine.backends import make_matcher  # noqa: E402
from scanner.rules import load_rules  # noqa: E402

TEXT_SUFFIXES = {".py", ".js", ".ts", ".tsx", ".go", ".java", ".rb", ".sh", ".yaml", ".yml", ".json", ".toml",
                 ".tf", ".ini", ".cfg", ".properties", ".xml", ".txt", ".md", ".rst", ".env", ".c", ".h", ".html",
                 ".log", ".jsonl"}


def load_tree(root: Path, max_size: int) -> list[tuple[str, bytes]]:
    files = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in TEXT_SUFFIXES and "site-packages" not in p.relative_to(root).parts:
            try:
                data = p.read_bytes()
            except OSError:
                continue
            if 0 < len(data) <= max_size and b"\0" not in data[:4096]:
                files.append((str(p.relative_to(root)), data))
    return files


def timed(engine: Engine, files: list[tuple[str, bytes]], repeat: int) -> tuple[float, int]:
    best, found = float("inf"), 0
    for _ in range(repeat):
        # CPU time of this process: on a machine shared with other jobs, wall time swings by half.
        t0 = time.process_time()
        found = sum(len(engine.scan(data, path)) for path, data in files)
        best = min(best, time.process_time() - t0)
    return best, found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trees", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--max-size", type=int, default=1 << 20)
    ap.add_argument("--engine", choices=["portable", "hyperscan"], default="portable", help="matcher backend")
    ap.add_argument("--cli", action="store_true", help="time whole `sprawl scan` runs, with and without --no-context")
    args = ap.parse_args()
    trees = args.trees or [Path(sysconfig.get_paths()["stdlib"])]
    if args.cli:
        return cli_cost(trees, args.repeat, args.engine)
    rules = load_rules()
    # Without context the matcher, too, is built as for --no-context (no hint words or decoder facts).
    with_context = Engine(rules, make_matcher(list(rules), args.engine))
    without = Engine(rules, make_matcher(list(rules), args.engine, context=False), context=False)
    print(f"{'tree':<40}{'files':>7}{'MB':>8}{'context MB/s':>14}{'bare MB/s':>11}{'cost':>7}{'matches':>9}{'bare':>6}")
    worst = 0.0
    for tree in trees:
        if not tree.is_dir():
            print(f"context_cost: not a directory: {tree}", file=sys.stderr)
            return 2
        files = load_tree(tree, args.max_size)
        mb = sum(len(d) for _, d in files) / 1e6
        timed(with_context, files[:50], 1)  # build parsers and compile rule regexes outside the timing
        timed(without, files[:50], 1)
        if not files:
            print(f"context_cost: no text files in {tree}", file=sys.stderr)
            return 2
        # Interleaved, best of each: other work on a shared machine then hurts both sides alike.
        t_ctx = t_bare = float("inf")
        for _ in range(args.repeat):
            t, n_ctx = timed(with_context, files, 1)
            t_ctx = min(t_ctx, t)
            t, n_bare = timed(without, files, 1)
            t_bare = min(t_bare, t)
        cost = 1 - t_bare / t_ctx
        worst = max(worst, cost)
        print(f"{str(tree)[-40:]:<40}{len(files):>7}{mb:>8.1f}{mb / t_ctx:>14.1f}{mb / t_bare:>11.1f}"
              f"{cost:>7.0%}{n_ctx:>9}{n_bare:>6}")
    print(f"\ncontext's share of the engine's own time: {worst:.0%} (a diagnostic: the bar is on throughput, --cli)")
    return 0


def cli_cost(trees: list[Path], repeat: int, engine: str) -> int:
    print(f"{'tree':<40}{'MB':>8}{'context MB/s':>14}{'bare MB/s':>11}{'cost':>7}")
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="sprawl-context-cost-") as out:
        report = Path(out) / "report.json"
        for tree in trees:
            best = {}
            for _ in range(repeat):
                for extra in ((), ("--no-context",)):
                    cmd = [sys.executable, "-m", "scanner.cli", "scan", str(tree), "-f", "json", "-o", str(report),
                           "--engine", engine, *extra]
                    t0 = time.perf_counter()
                    subprocess.run(cmd, cwd=Path(__file__).resolve().parent.parent, capture_output=True)
                    best[extra] = min(best.get(extra, float("inf")), time.perf_counter() - t0)
                    mb = json.loads(report.read_text())["summary"]["bytes"] / 1e6
            t_ctx, t_bare = best[()], best[("--no-context",)]
            cost = 1 - t_bare / t_ctx
            worst = max(worst, cost)
            print(f"{str(tree)[-40:]:<40}{mb:>8.1f}{mb / t_ctx:>14.1f}{mb / t_bare:>11.1f}{cost:>7.0%}")
    print(f"\nthroughput lost to context analysis, whole scans: {worst:.0%} (bar: at most 30%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

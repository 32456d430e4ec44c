#!/usr/bin/env python3
"""Pre-commit latency: wall time of `sprawl staged` for a 10-file staged change in a repository
of 20,000 files, interpreter start-up included.

    python benchmarks/precommit.py [--files 20000] [--staged 10] [--runs 15]

Builds the repository in a temporary folder (one commit holding --files files), stages
edits to --staged of them (one with a secret, so the run takes the reporting path too),
then runs `python -m scanner.cli staged` --runs times and prints the median and spread.
The target is a median under 0.3 s on a 2-core machine.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import machine, table  # noqa: E402


def build_repo(root: Path, n_files: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null"}
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True, env=env)
    names = []
    for i in range(n_files):
        name = f"src/pkg{i // 200:03}/mod_{i:05}.py"
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"def handler_{i}_{j}(value):\n    return value * {rng.randint(1, 99)}\n" for j in range(rng.randint(5, 60))]
        p.write_text("".join(lines))
        names.append(name)
    git = ["git", "-C", str(root), "-c", "user.name=bench", "-c", "user.email=bench@example.test"]
    subprocess.run([*git, "add", "-A"], check=True, env=env)
    subprocess.run([*git, "commit", "-q", "-m", "import"], check=True, env=env)
    return names


def stage_change(root: Path, names: list[str], n: int) -> None:
    rng = random.Random(5)
    for k, name in enumerate(rng.sample(names, n)):
        p = root / name
        extra = "\nTOKEN = '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'\n" if k == 0 else "\n# edited\nx = 1\n"  # sprawl:allow
        p.write_text(p.read_text() + extra)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--staged", type=int, default=10)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    # ignore_cleanup_errors: a background `git gc --auto` may still be writing objects when we are done.
    with tempfile.TemporaryDirectory(prefix="sprawl-precommit-", ignore_cleanup_errors=True) as tmp:
        root = Path(tmp) / "repo"
        names = build_repo(root, args.files)
        stage_change(root, names, args.staged)
        cmd = [sys.executable, "-m", "scanner.cli", "staged"]
        subprocess.run(cmd, cwd=root, capture_output=True)  # warm the OS file cache once
        times, codes = [], set()
        for _ in range(args.runs):
            t = time.perf_counter()
            res = subprocess.run(cmd, cwd=root, capture_output=True)
            times.append(time.perf_counter() - t)
            codes.add(res.returncode)
        startup = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], capture_output=True)
            startup.append(time.perf_counter() - t)
    print(f"{args.files} files in the repository, {args.staged} staged; {machine()}; {args.runs} runs; "
          f"exit codes {sorted(codes)} (1: the staged secret was found)\n")
    rows = [["sprawl staged", f"{statistics.median(times):.3f}", f"{min(times):.3f}", f"{max(times):.3f}"],
            ["python -c pass", f"{statistics.median(startup):.3f}", f"{min(startup):.3f}", f"{max(startup):.3f}"]]
    print(table(rows, ["command", "median s", "min s", "max s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

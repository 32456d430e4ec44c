#!/usr/bin/env python3
"""Throughput beside the peers on inputs the project did not write (issue 21): sprawl, kingfisher and
betterleaks on the same inputs in one run, interleaved, medians and ranges of wall time, CPU time (user +
system of the whole process tree) and peak memory; and `sprawl staged` with one staged file.

    python benchmarks/peers.py [--inputs logs,history,tree,staged] [--repeat 3] [--work DIR]

The inputs, built once into --work (default ~/.cache/secret-sprawl-bench/inputs) and reused:
- logs: 200 MiB of service logs from ../shared/bench/make_logs.py (--size 200MiB --seed 21 --secrets 120
  --files 16), the bundle an incident responder gets;
- history: a real multi-thousand-commit history, every sdist of a few PyPI projects committed in upload
  order (benchmarks/real_history.py), scanned whole (`sprawl git`, `kingfisher --git-history full`,
  `betterleaks git`);
- tree: this interpreter's standard library with its bytecode, site-packages left out (about 256 MB);
- staged: a repository of 2,000 files with one staged file holding a token, `sprawl staged` run --staged-runs
  times (start-up included).

Each tool runs once untimed on each input first (to warm the page cache and sprawl's compiled-rules cache,
which is pointed at a folder of its own so that other checkouts' rule sets cannot evict it), then --repeat
rounds, each round every tool once. Findings are counted from each tool's JSON report.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import string
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import Run, available, machine, run, table, tree_bytes  # noqa: E402
from throughput import count_findings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MAKE_LOGS = ROOT.parent / "shared" / "bench" / "make_logs.py"


def build_logs(work: Path) -> Path:
    out = work / "logs-200MiB-seed21"
    if not out.exists():
        tmp = work / "logs.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run([sys.executable, str(MAKE_LOGS), str(tmp), "--size", "200MiB", "--seed", "21",
                        "--secrets", "120", "--files", "16"], check=True)
        tmp.rename(out)
    return out


def build_history(work: Path) -> Path:
    out = work / "pypi-history"
    if not out.exists():
        tmp = work / "history.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "real_history.py"), str(tmp)], check=True)
        tmp.rename(out)
    return out


def build_tree(work: Path) -> Path:
    out = work / f"stdlib-{sys.version_info.major}.{sys.version_info.minor}"
    if not out.exists():
        stdlib = Path(sysconfig.get_paths()["stdlib"])
        # Bytecode as Python writes it: compile first, so that the tree holds every .pyc.
        subprocess.run([sys.executable, "-m", "compileall", "-q", "-x", "site-packages|test/bad", str(stdlib)],
                       capture_output=True)
        tmp = work / "tree.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(stdlib, tmp, ignore=shutil.ignore_patterns("site-packages"), symlinks=True)
        tmp.rename(out)
    return out


def commands(kind: str, target: Path, out: Path) -> dict[str, list[str]]:
    sprawl = [sys.executable, "-m", "scanner.cli", "git" if kind == "history" else "scan", str(target),
              "-f", "json", "-o", str(out / "sprawl.json")]
    tools = {"sprawl": sprawl}
    if available("kingfisher"):
        tools["kingfisher"] = ["kingfisher", "scan", str(target), "--no-validate", "--format", "json",
                               "--output", str(out / "kingfisher.json"), "--no-update-check",
                               "--git-history", "full" if kind == "history" else "none"]
    if available("betterleaks"):
        tools["betterleaks"] = ["betterleaks", "git" if kind == "history" else "fs", str(target), "--no-banner",
                                "--output", str(out / "betterleaks.json"), "--exit-code", "0"]
    return tools


def compare(kind: str, target: Path, repeat: int, env: dict[str, str]) -> list[list[str]]:
    out = Path(tempfile.mkdtemp(prefix=f"sprawl-peers-{kind}-"))
    tools = commands(kind, target, out)
    runs: dict[str, list[Run]] = {name: [] for name in tools}
    for name, cmd in tools.items():  # warm-up, untimed
        r = run(name, cmd, cwd=str(ROOT), env=env)
        if r.returncode not in (0, 1, 200, 205):  # kingfisher: 200 when it found something
            print(f"{name}: exit code {r.returncode}: {' '.join(cmd)}", file=sys.stderr)
    for _ in range(repeat):
        for name, cmd in tools.items():
            runs[name].append(run(name, cmd, cwd=str(ROOT), env=env))
    base = statistics.median(r.seconds for r in runs["sprawl"])
    rows = []
    for name, rs in runs.items():
        wall = statistics.median(r.seconds for r in rs)
        rows.append([name, f"{wall:.2f}", f"{min(r.seconds for r in rs):.2f}-{max(r.seconds for r in rs):.2f}",
                     f"{statistics.median(r.cpu for r in rs):.2f}", f"{max(r.peak_rss for r in rs) / 2**20:.0f}",
                     str(count_findings(out / f"{name}.json")), f"{wall / base:.2f}x"])
    shutil.rmtree(out, ignore_errors=True)
    return rows


def staged(work: Path, runs: int, env: dict[str, str]) -> list[list[str]]:
    repo = work / "staged-repo"
    if not repo.exists():
        git_env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null"}
        subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=git_env)
        for i in range(2000):
            p = repo / f"src/pkg{i // 100:02}/mod_{i:04}.py"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("".join(f"def f_{i}_{j}(x):\n    return x * {j}\n" for j in range(40)))
        git = ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@example.test"]
        subprocess.run([*git, "add", "-A"], check=True, env=git_env)
        subprocess.run([*git, "commit", "-q", "-m", "import"], check=True, env=git_env)
        body = "".join(random.Random(21).choices(string.ascii_letters + string.digits, k=24))
        (repo / "src/pkg00/mod_0000.py").write_text(f"STRIPE_KEY = 'sk_live_{body}'\n")
        subprocess.run([*git, "add", "-A"], check=True, env=git_env)
    cmd = [sys.executable, "-m", "scanner.cli", "staged"]
    subprocess.run(cmd, cwd=repo, capture_output=True, env={**os.environ, **env})  # warm-up
    times, codes = [], set()
    for _ in range(runs):
        started = time.perf_counter()
        codes.add(subprocess.run(cmd, cwd=repo, capture_output=True, env={**os.environ, **env}).returncode)
        times.append(time.perf_counter() - started)
    return [["sprawl staged", f"{statistics.median(times):.3f}", f"{min(times):.3f}-{max(times):.3f}",
             "", "", f"exit {sorted(codes)}", ""]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", default="logs,history,tree,staged")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--staged-runs", type=int, default=15)
    ap.add_argument("--work", type=Path, default=Path.home() / ".cache" / "secret-sprawl-bench" / "inputs")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    env = {"SPRAWL_CACHE_DIR": str(args.work / "sprawl-cache")}
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"commit {commit}; {machine()}; median of {args.repeat} interleaved rounds after one warm-up\n")
    header = ["tool", "wall s (median)", "range", "CPU s", "peak MB", "findings", "wall vs sprawl"]
    builders = {"logs": build_logs, "history": build_history, "tree": build_tree}
    for kind in args.inputs.split(","):
        if kind == "staged":
            print("staged: one staged file in a 2,000-file repository\n")
            print(table(staged(args.work, args.staged_runs, env), header), "\n", flush=True)
            continue
        target = builders[kind](args.work).resolve()  # a real path: betterleaks does not follow a symlink
        files, size = tree_bytes(target)
        described = f"{target.name}: {files} files, {size / 2**20:.0f} MiB in the work tree"
        if kind == "history":
            commits = subprocess.run(["git", "-C", str(target), "rev-list", "--count", "--all"], capture_output=True,
                                     text=True).stdout.strip()
            described += f", {commits} commits"
        print(f"{kind}: {described}\n")
        print(table(compare(kind, target, args.repeat, env), header), "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

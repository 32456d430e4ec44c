#!/usr/bin/env python3
"""Sweep cost: a first sweep of many repositories, a sweep with nothing new, and one after new commits.

    python benchmarks/sweep.py [--repos 200] [--commits 10] [--files 5] [--changed 5] [--jobs 0] [--dir DIR]
    python benchmarks/sweep.py --hosted [--executors local,ray] [same options]

Generates --repos repositories (every tenth one a bare clone), each with --commits commits touching
--files source files and a few secrets shared among them, then runs `sprawl sweep` three times on
one datastore: first, again with no change, and again after one new commit in --changed
repositories. Prints the time, peak memory and what each sweep scanned. Goal: the no-change
sweep costs under 10% of the first.

--hosted: the repositories are bare ones served from 127.0.0.1 by the fake GitHub of tests/hostserver.py
(its org listing, 100 a page, and `git http-backend`), and each executor (local process pool; Ray, a local
Ray the sweep starts itself) runs `sprawl sweep --github-org acme` three times on its own datastore and
mirror cache: first (clone and scan everything), with no change, and after one new commit in --changed
repositories. Peak memory is summed over the process tree (Ray's own processes included).
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._bench import machine, run, table  # noqa: E402
from tests.hostserver import FakeHost, github_repo_item  # noqa: E402
from tests.repogen import add_commits, github_token, make_repo  # noqa: E402

WORDS = ("user", "order", "config", "client", "request", "session", "cache", "queue", "record", "value", "item")


def source_file(rng: random.Random, lines: int = 60) -> str:
    out = []
    for _ in range(lines):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        out.append(f"    {a}_{b} = self.{a}.get('{b}', {rng.randint(0, 9999)})  # {a} {b}")
    return "def handler(self):\n" + "\n".join(out) + "\n"


def generate(root: Path, repos: int, commits: int, files: int, hosted: bool = False) -> None:
    shared = [github_token(f"bench-shared-{k}") for k in range(5)]
    for i in range(repos):
        rng = random.Random(i)
        history = []
        for c in range(commits):
            change = {f"src/mod_{rng.randrange(files * 2)}.py": source_file(rng) for _ in range(files)}
            if c == commits // 2:
                change["config/settings.py"] = f'GITHUB_TOKEN = "{shared[i % len(shared)]}"\n'
                change["deploy/env.sh"] = f"export GH_TOKEN={github_token(f'bench-own-{i}')}\n"
            history.append(change)
        if hosted:
            make_repo(root / "acme" / f"repo{i}.git", history, bare=True)
            continue
        bare = i % 10 == 9
        make_repo(root / f"group{i % 4}" / (f"repo{i}.git" if bare else f"repo{i}"), history, bare=bare)


def sweep(label: str, root: Path, db: Path, jobs: int, env: dict) -> list[str]:
    r = run(label, [sys.executable, "-m", "scanner.cli", "sweep", str(root), "--db", str(db), "-j", str(jobs)],
            env=env)
    return [label, f"{r.seconds:.2f}", f"{r.peak_rss / 2**20:.0f}", str(r.returncode)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repos", type=int, default=200)
    ap.add_argument("--commits", type=int, default=10)
    ap.add_argument("--files", type=int, default=5)
    ap.add_argument("--changed", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--dir", type=Path, help="work here (default: a temporary folder)")
    ap.add_argument("--hosted", action="store_true", help="serve the repositories from a loopback GitHub")
    ap.add_argument("--executors", default="local,ray", help="with --hosted: the executors to compare")
    args = ap.parse_args()
    if args.hosted:
        return hosted(args)
    with tempfile.TemporaryDirectory() as tmp:
        base = args.dir or Path(tmp)
        root, db = base / "org", base / "sweep.db"
        generate(root, args.repos, args.commits, args.files)
        env = {"SPRAWL_FINGERPRINT_KEY": "benchmark-key"}
        rows = [sweep("first sweep", root, db, args.jobs, env), sweep("no change", root, db, args.jobs, env)]
        step = max(1, args.repos // args.changed)
        for i in range(0, step * args.changed, step):
            name = f"repo{i}" + (".git" if i % 10 == 9 else "")
            add_commits(root / f"group{i % 4}" / name,
                        [{"src/new_feature.py": source_file(random.Random(10_000 + i))}])
        rows.append(sweep(f"{args.changed} repos +1 commit", root, db, args.jobs, env))
        first = float(rows[0][1])
        for row in rows:
            row.append(f"{100 * float(row[1]) / first:.1f}%")
        stats = _scan_stats(db)
        for row, s in zip(rows, stats):
            row[4:4] = [str(s.get("repositories", "")), str(s.get("unchanged", "")), str(s.get("blobs", "")),
                        str(s.get("new_findings", ""))]
        print(f"\n{args.repos} repositories x {args.commits} commits x {args.files} files; {machine()}\n")
        print(table(rows, ["sweep", "seconds", "peak MiB", "exit", "repos", "unchanged", "blobs scanned",
                           "new findings", "of first"]))
        ok = float(rows[1][1]) < 0.10 * first
        print(f"\nno-change sweep under 10% of the first: {'yes' if ok else 'NO'}")
        return 0 if ok else 1


def hosted(args: argparse.Namespace) -> int:
    """First sweep, no-change rerun and +1 commit, per executor, of an org served from 127.0.0.1."""
    rows: list[list[str]] = []
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        base = args.dir or Path(tmp)
        served = base / "served"
        generate(served, args.repos, args.commits, args.files, hosted=True)
        env = {"SPRAWL_FINGERPRINT_KEY": "benchmark-key", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
        with FakeHost(served, page_cap=100) as fake:
            fake.github_repos = [github_repo_item(fake, f"repo{i}") for i in range(args.repos)]
            step = max(1, args.repos // args.changed)
            for round_, executor in enumerate(args.executors.split(",")):
                db, mirrors = base / f"{executor}.db", base / f"mirrors-{executor}"
                cmd = [sys.executable, "-m", "scanner.cli", "sweep", "--github-org", "acme", "--endpoint",
                       f"github={fake.url}", "--allow-internal-endpoints", "--db", str(db), "--mirrors", str(mirrors),
                       "-j", str(args.jobs), "--executor", executor]
                runs = [run("first", cmd, env=env), run("no change", cmd, env=env)]
                for i in range(0, step * args.changed, step):  # a later commit date each round: a new pushed_at
                    add_commits(served / "acme" / f"repo{i}.git",
                                [{f"src/new_{executor}.py": source_file(random.Random(10_000 + 1000 * round_ + i))}],
                                start=1735725600 + 86400 * (400 + round_))
                runs.append(run(f"{args.changed} repos +1 commit", cmd, env=env))
                first = runs[0].seconds
                for r, stats in zip(runs, _scan_stats(db)):
                    rows.append([executor, r.tool, f"{r.seconds:.2f}", f"{r.peak_rss / 2**20:.0f}", str(r.returncode),
                                 str(stats.get("repositories", "")), str(stats.get("unchanged", "")),
                                 str(stats.get("blobs", "")), str(stats.get("new_findings", "")),
                                 f"{100 * r.seconds / first:.1f}%"])
                ok = ok and runs[1].seconds <= 0.10 * first
    print(f"\n{args.repos} hosted repositories x {args.commits} commits x {args.files} files, served from 127.0.0.1; "
          f"{machine()}\n")
    print(table(rows, ["executor", "sweep", "seconds", "peak MiB", "exit", "repos", "unchanged", "blobs scanned",
                       "new findings", "of first"]))
    print(f"\nno-change sweep at most 10% of the first, every executor: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


def _scan_stats(db: Path) -> list[dict]:
    import json
    import sqlite3

    conn = sqlite3.connect(db)
    return [json.loads(s) for (s,) in conn.execute("SELECT stats FROM scans ORDER BY id")]


if __name__ == "__main__":
    sys.exit(main())

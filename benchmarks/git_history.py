#!/usr/bin/env python3
"""Full-history scan: sprawl beside kingfisher and betterleaks on the same repository, same run.

    python benchmarks/git_history.py [REPO] [--commits 2000] [--shape small|large] [--repeat 2] [--jobs 0] [--engine both]

With no REPO, a repository is built with `git fast-import` from real source files (the
Python standard library of the running interpreter) replayed as a history of --commits
commits. --shape small (default): 4,000 modules under 200 KB, each commit editing four, with
secrets planted in some commits and removed in later ones. --shape large: 30 modules of
80-300 KB, each commit editing two (a line inserted; every 50th commit a token-like
assignment), the shape where scanning each version whole costs most. The built repository is
then repacked (`git repack -adf`): fast-import stores each blob as a delta against the blob it wrote
before, whatever its path, a pack unlike any a clone or `git gc` makes, and one that reads many
times slower in history order. Prints seconds, MB/s of unique blob bytes, peak memory and findings
per tool.
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import machine  # noqa: E402
from throughput import compare, engines_arg, report  # noqa: E402


def build_history(repo: Path, commits: int, seed: int = 7) -> int:
    """A repository of real files with a long history; returns the number of planted secrets."""
    rng = random.Random(seed)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    sources = sorted(p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts and p.stat().st_size < 200_000)
    files = {str(p.relative_to(stdlib)): p.read_bytes() for p in sources[:4000]}
    names = sorted(files)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    proc = subprocess.Popen(["git", "-C", str(repo), "fast-import", "--quiet"], stdin=subprocess.PIPE)
    out = proc.stdin
    assert out is not None
    planted = 0
    when = 1_600_000_000

    def commit(changes: dict[str, bytes | None], message: str, author: str) -> None:
        nonlocal when
        when += 3600
        out.write(b"commit refs/heads/main\n")
        out.write(f"author {author} <{author.lower().replace(' ', '.')}@example.test> {when} +0000\n".encode())
        out.write(f"committer CI <ci@example.test> {when} +0000\n".encode())
        msg = message.encode()
        out.write(b"data %d\n%s\n" % (len(msg), msg))
        for name, data in changes.items():
            if data is None:
                out.write(f"D {name}\n".encode())
            else:
                out.write(f"M 100644 inline {name}\n".encode() + b"data %d\n" % len(data) + data + b"\n")

    commit(dict(files), "import", "Founder")
    leaks: list[tuple[int, str]] = []
    for i in range(commits):
        changes: dict[str, bytes | None] = {}
        for name in rng.sample(names, 4):
            body = files[name]
            cut = rng.randrange(len(body) + 1)
            files[name] = body[:cut] + f"\n# change {i}: {rng.random():.6f}\n".encode() + body[cut:]
            changes[name] = files[name]
        if i % 40 == 0:
            token = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(32))
            name = f"config/settings_{i}.py"
            changes[name] = f'STRIPE_KEY = "sk_live_{token}"\n'.encode()
            leaks.append((i + 25, name))
            planted += 1
        for _due, name in [leak for leak in leaks if leak[0] == i]:
            changes[name] = None
        commit(changes, f"change {i}", rng.choice(["Ada Lovelace", "Alan Turing", "Grace Hopper"]))
    out.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "-C", str(repo), "branch", "release", "main~100"], check=True)
    repack(repo)
    return planted


def repack(repo: Path) -> None:
    """Deltas chosen as git chooses them for a clone: each version of a file against a nearby version of
    the same file (fast-import's own pack deltas against whatever blob came before)."""
    subprocess.run(["git", "-C", str(repo), "repack", "-adfq"], check=True)


def build_large_history(repo: Path, commits: int, seed: int = 3) -> int:
    """A repository of 30 large real files, two of them edited by each commit; returns the number of
    token-like lines added (their random bodies fail GitHub's checksum)."""
    rng = random.Random(seed)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    big = sorted((p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts and 80_000 < p.stat().st_size < 300_000),
                 key=str)[:30]
    files = {f"src/{p.name}": p.read_bytes() for p in big}
    names = sorted(files)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    stream, when, planted = [], 1_600_000_000, 0

    def commit(changes: dict[str, bytes], message: str) -> None:
        nonlocal when
        when += 60
        stream.append(b"commit refs/heads/main\nauthor A <a@example.test> %d +0000\n"
                      b"committer A <a@example.test> %d +0000\ndata %d\n%s\n" % (when, when, len(message), message.encode()))
        for name, data in changes.items():
            stream.append(f"M 100644 inline {name}\n".encode() + b"data %d\n" % len(data) + data + b"\n")

    commit(dict(files), "import")
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789"
    for i in range(commits):
        changes = {}
        for name in rng.sample(names, 2):
            body = files[name]
            cut = body.rfind(b"\n", 0, rng.randrange(len(body))) + 1
            if i % 50:
                line = f"# change {i}\n"
            else:
                line = f'API_TOKEN_{i} = "ghp_{"".join(rng.choice(alphabet) for _ in range(36))}"\n'
                planted += 1
            files[name] = changes[name] = body[:cut] + line.encode() + body[cut:]
        commit(changes, f"c{i}")
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=b"".join(stream), check=True)
    repack(repo)
    return planted


def unique_blob_bytes(repo: str) -> tuple[int, int]:
    objects = subprocess.run(["git", "-C", repo, "rev-list", "--objects", "--all"], capture_output=True, check=True).stdout
    oids = "\n".join(line.split()[0] for line in objects.decode().splitlines()) + "\n"
    check = subprocess.run(["git", "-C", repo, "cat-file", "--batch-check=%(objecttype) %(objectsize)"],
                           input=oids.encode(), capture_output=True, check=True).stdout.decode().splitlines()
    sizes = [int(line.split()[1]) for line in check if line.startswith("blob ")]
    return len(sizes), sum(sizes)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo", nargs="?", type=Path)
    ap.add_argument("--commits", type=int, default=2000)
    ap.add_argument("--shape", choices=["small", "large"], default="small", help="the history built with no REPO")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--engine", choices=["auto", "portable", "hyperscan", "both"], default="auto",
                    help="sprawl's matcher backend; both: a sprawl row for each, in the same run")
    args = ap.parse_args()
    tmp = None
    if args.repo is None:
        tmp = tempfile.TemporaryDirectory(prefix="sprawl-git-bench-")
        args.repo = Path(tmp.name) / "repo"
        build = build_history if args.shape == "small" else build_large_history
        planted = build(args.repo, args.commits)
        print(f"built {args.repo}: {args.commits + 1} commits, {planted} planted secrets (each later deleted)")
    blobs, size = unique_blob_bytes(str(args.repo))
    extra = {"sprawl": [], "kingfisher": ["--git-history", "full"], "betterleaks": ["git"]}
    best = compare(str(args.repo), args.repeat, args.jobs, extra, sprawl_command="git",
                   engines=engines_arg(args.engine))
    mb = size / 2**20
    print(f"\n{args.repo}: {blobs} unique blobs, {mb:.1f} MB; {machine()}; best of {args.repeat}\n")
    print(report(best, mb))
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Leaked log bundle: sprawl beside kingfisher and betterleaks on the same generated bundle, same run.

    python benchmarks/logs.py [SIZE_MB] [--layout dir|tgz] [--repeat 1] [--keep DIR]

Generates a support bundle of SIZE_MB (1024 by default): JSON-lines service logs, plain
application logs, nginx access logs, agent transcripts (JSONL) and MCP client logs, a quarter of
them rotated and gzipped, with planted secrets of several kinds in the places they leak (headers,
nested JSON fields, query strings, basic-auth URLs, chat messages, env dumps). `--layout tgz`
packs the bundle into one .tar.gz instead of a folder. Each tool writes its report to a file;
a planted secret counts as recalled when its value appears in that tool's report (sprawl runs
with --show-secrets for this). Prints MB/s (of uncompressed bundle), peak memory of the whole
process tree and recall per tool.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import string
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import ALNUM, available, machine, run, table  # noqa: E402
from _bench import github_token as _github  # noqa: E402
from _bench import random_text as _rand  # noqa: E402

FILE_MB = 32


# kind -> (secret maker, line template); {s} is the secret, {t} the time.
PLANTS = {
    "github-header-json": (_github, '{{"time":"{t}","level":"debug","http":{{"headers":{{"Authorization":"token {s}"}}}}}}'),
    "github-query": (_github, '10.1.2.3 - - [{clf}] "GET /hooks/deploy?access_token={s} HTTP/1.1" 200 17'),
    "stripe-nested-json": (lambda r: "sk_live_" + _rand(r, 32),
                           '{{"time":"{t}","msg":"charge","ctx":{{"client":{{"stripe_key":"{s}"}}}}}}'),
    "slack-plain": (lambda r: f"xoxb-{r.randint(10**9, 10**10)}-{r.randint(10**12, 10**13)}-{_rand(r, 24)}",
                    "{t} ERROR notifier: post failed for token {s}"),
    "aws-env-dump": (lambda r: _rand(r, 40, ALNUM + "/+"),
                     "{t} DEBUG env AWS_ACCESS_KEY_ID=AKIA{kid} AWS_SECRET_ACCESS_KEY={s}"),
    "basic-auth-url": (lambda r: _rand(r, 20),
                       '{t} INFO cloning https://deploy:{s}@git.internal.example.com/platform/app.git'),
    "openai-transcript": (lambda r: "sk-proj-" + _rand(r, 40) + "T3BlbkFJ" + _rand(r, 40),
                          '{{"role":"user","content":"here is the key for the eval job: {s} please run it"}}'),
    "anthropic-mcp-log": (lambda r: "sk-ant-api03-" + _rand(r, 93, ALNUM + "_-") + "AA",
                          '{t} [claude] [info] spawning server with env ANTHROPIC_API_KEY={s}'),
}

FILLER = {
    "json": ['{{"time":"{t}","level":"info","msg":"request served","path":"/api/v1/{w}","status":200,"ms":{n}}}',
             '{{"time":"{t}","level":"debug","msg":"cache {w}","key":"{w}:{n}","hit":true}}',
             '{{"time":"{t}","level":"warn","msg":"slow query","table":"{w}","ms":{n},"token_ttl":3600}}'],
    "app": ["{t} INFO worker {w} processed {n} items", "{t} DEBUG session {w} refreshed, password policy ok",
            "{t} WARN retrying {w} after {n} ms (api_key rotation pending)", "{t} INFO user {w} logged in"],
    "access": ['10.0.{n}.7 - - [{clf}] "GET /static/{w}.js HTTP/1.1" 200 {n}',
               '10.0.3.{n} - - [{clf}] "POST /api/{w}?page={n} HTTP/1.1" 201 88'],
    "transcript": ['{{"role":"assistant","content":"I looked at the {w} service; the error rate is {n} per minute."}}',
                   '{{"role":"user","content":"can you check the {w} logs for the last {n} minutes?"}}'],
    "mcp": ['{t} [github] [info] Message from server: {{"jsonrpc":"2.0","id":{n},"result":{{"tools":["{w}"]}}}}',
            '{t} [filesystem] [debug] read /srv/{w}/{n}.txt'],
}
WORDS = ["orders", "billing", "search", "users", "inventory", "payments", "auth", "reports", "export", "ledger"]
KINDS = [("json", "services/api-{i}.jsonl"), ("app", "services/worker-{i}.log"), ("access", "nginx/access-{i}.log"),
         ("transcript", "agents/conversations-{i}.jsonl"), ("mcp", "agents/mcp-server-{i}.log")]


def _block(rng: random.Random, kind: str, lines: int) -> str:
    out = []
    for _ in range(lines):
        tmpl = rng.choice(FILLER[kind])
        out.append(tmpl.format(t=f"2026-06-{rng.randint(1, 28):02}T{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:00Z",
                               clf=f"{rng.randint(10, 28)}/Jun/2026:10:00:00 +0000", w=rng.choice(WORDS),
                               n=rng.randint(1, 999)))
    return "\n".join(out) + "\n"


def generate(root: Path, size_mb: int, seed: int = 7) -> list[str]:
    """Write the bundle under root; return the planted secret values."""
    rng = random.Random(seed)
    planted: list[str] = []
    blocks = {k: [_block(rng, k, 500) for _ in range(16)] for k in FILLER}
    target, written, i = size_mb * 2**20, 0, 0
    while written < target:
        kind, pattern = KINDS[i % len(KINDS)]
        rel = pattern.format(i=i)
        size = min(FILE_MB * 2**20, target - written)
        parts, got = [], 0
        while got < size:
            part = rng.choice(blocks[kind])
            parts.append(part)
            got += len(part)
            if rng.random() < 0.04:  # about one secret per MB
                name = rng.choice(list(PLANTS))
                make, tmpl = PLANTS[name]
                secret = make(rng)
                line = tmpl.format(s=secret, t="2026-06-15T12:00:00Z", clf="15/Jun/2026:12:00:00 +0000",
                                   kid=_rand(rng, 16, string.ascii_uppercase + "234567")) + "\n"
                parts.append(line)
                got += len(line)
                planted.append(secret)
        data = "".join(parts).encode()
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if i % 4 == 3:  # rotated and compressed, as support bundles ship old logs
            path.with_name(path.name + ".1.gz").write_bytes(gzip.compress(data, compresslevel=1))
        else:
            path.write_bytes(data)
        written += len(data)
        i += 1
    return planted


def recalled(report: Path, planted: list[str]) -> int:
    try:
        text = report.read_text(errors="replace")
    except OSError:
        return 0
    # Reports escape JSON; a secret with '/' or '+' may appear escaped.
    text += json.dumps(text)
    return sum(1 for s in set(planted) if s in text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("size_mb", nargs="?", type=int, default=1024)
    ap.add_argument("--layout", choices=["dir", "tgz"], default="dir")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="generate into (or reuse) this folder and keep it")
    args = ap.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="sprawl-logs-"))
    bundle_dir = work / "bundle"
    manifest = work / "planted.json"
    if manifest.exists():
        planted = json.loads(manifest.read_text())
    else:
        bundle_dir.mkdir(parents=True, exist_ok=True)
        planted = generate(bundle_dir, args.size_mb)
        manifest.write_text(json.dumps(planted))
    target = bundle_dir
    if args.layout == "tgz":
        target = work / "bundle.tar.gz"
        if not target.exists():
            with tarfile.open(target, "w:gz", compresslevel=1) as tf:
                tf.add(bundle_dir, arcname="bundle")
    uncompressed = sum(len(gzip.decompress(p.read_bytes())) if p.suffix == ".gz" else p.stat().st_size
                       for p in bundle_dir.rglob("*") if p.is_file())
    mb = uncompressed / 2**20
    print(f"bundle {target}: {mb:.0f} MB uncompressed, {len(set(planted))} planted secrets; {machine()}")

    out = work / "reports"
    out.mkdir(exist_ok=True)
    root = str(Path(__file__).resolve().parent.parent)
    tools = {"sprawl": [sys.executable, "-m", "scanner.cli", "scan", str(target), "-f", "json", "--show-secrets",
                        "--no-ignore-file", "-o", str(out / "sprawl.json")]}
    if available("kingfisher"):
        tools["kingfisher"] = ["kingfisher", "scan", str(target), "--no-validate", "--format", "json",
                               "--output", str(out / "kingfisher.json"), "--no-update-check", "--git-history", "none"]
    if available("betterleaks"):
        tools["betterleaks"] = ["betterleaks", "fs", str(target), "--no-banner", "--output",
                                str(out / "betterleaks.json"), "--exit-code", "0"]
    rows = []
    for name, cmd in tools.items():
        best = None
        for _ in range(args.repeat):
            r = run(name, cmd, cwd=root)
            if r.returncode not in (0, 1, 200, 205):
                print(f"{name}: exit code {r.returncode}; command: {' '.join(cmd)}", file=sys.stderr)
            if best is None or r.seconds < best.seconds:
                best = r
        hits = recalled(out / f"{name}.json", planted)
        rows.append([name, f"{best.seconds:.1f}", f"{mb / best.seconds:.1f}", f"{best.peak_rss / 2**20:.0f}",
                     f"{hits}/{len(set(planted))}", f"{hits / max(1, len(set(planted))):.1%}"])
    print()
    print(table(rows, ["tool", "seconds", "MB/s", "peak MB", "recalled", "recall"]))
    if args.keep is None:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

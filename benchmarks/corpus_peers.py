#!/usr/bin/env python3
"""The peers' corpus scanned by sprawl, betterleaks, kingfisher and detect-secrets, side by side.

    python benchmarks/corpus_peers.py [--corpus ../shared/corpus/peers] [--source gitleaks ...]

Every case is written to its own file (named as the case's `path` when it has one), each
tool scans the whole folder once, and its findings are mapped back to cases by file and
line. The same criteria apply to every tool, sprawl included:
- a positive is found when the tool reports a finding on a line the labelled secret spans
  (any line of the case when the label has no secret);
- a negative is flagged when the tool reports a finding whose rule names the case's
  provider (sprawl: the rule's provider; peers: the provider's name inside the rule id), or
  any finding for the generic and password providers. Disputed and contested negatives
  (see corpus_eval.py) are left out.
sprawl runs at its default threshold (medium) and at low; peers at their defaults.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import available, machine, table  # noqa: E402
from corpus_eval import ALIASES, ANY_FINDING_PROVIDERS, DEFAULT_CORPUS, load_cases  # noqa: E402

Finding = tuple[int, int, str]  # first line, last line, provider-ish label (rule id or provider)


def write_cases(cases: list[dict], root: Path) -> list[Path]:
    files = []
    for i, case in enumerate(cases):
        name = Path(case.get("path") or "case.txt").name
        f = root / case["source"] / f"{i:05}" / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(case["text"], encoding="utf-8", errors="surrogatepass")
        files.append(f)
    return files


def run_sprawl(root: Path, confidence: str) -> dict[str, list[Finding]]:
    out = root.parent / f"sprawl-{confidence}.json"
    subprocess.run([sys.executable, "-m", "scanner.cli", "scan", str(root), "-f", "json", "-o", str(out),
                    "--min-confidence", confidence], capture_output=True, cwd=Path(__file__).resolve().parent.parent)
    found: dict[str, list[Finding]] = defaultdict(list)
    for f in json.loads(out.read_text())["findings"]:
        for loc in f["locations"]:
            found[os.path.realpath(loc["path"])].append((loc["line"], loc["line"], f["provider"]))
    return found


def run_betterleaks(root: Path) -> dict[str, list[Finding]]:
    out = root.parent / "betterleaks.json"
    subprocess.run(["betterleaks", "fs", str(root), "--no-banner", "--output", str(out), "--exit-code", "0"],
                   capture_output=True)
    found: dict[str, list[Finding]] = defaultdict(list)
    for f in json.loads(out.read_text()).get("findings") or []:
        loc = f["location"]
        found[os.path.realpath(loc["path"])].append((loc["start_line"], loc["end_line"], f["rule_id"]))
    return found


def run_kingfisher(root: Path) -> dict[str, list[Finding]]:
    out = root.parent / "kingfisher.json"
    subprocess.run(["kingfisher", "scan", str(root), "--no-validate", "--format", "json", "--output", str(out),
                    "--git-history", "none", "--no-update-check"], capture_output=True)
    found: dict[str, list[Finding]] = defaultdict(list)
    for f in json.loads(out.read_text()).get("findings") or []:
        fd = f["finding"]
        lines = fd.get("snippet", "").count("\n")
        found[os.path.realpath(fd["path"])].append((fd["line"], fd["line"] + lines, f["rule"]["id"]))
    return found


def run_detect_secrets(root: Path) -> dict[str, list[Finding]]:
    res = subprocess.run(["detect-secrets", "scan", "--all-files", "."], capture_output=True, cwd=root)
    found: dict[str, list[Finding]] = defaultdict(list)
    for filename, items in json.loads(res.stdout).get("results", {}).items():
        for item in items:
            found[os.path.realpath(root / filename)].append((item["line_number"], item["line_number"], item["type"]))
    return found


def secret_lines(case: dict) -> tuple[int, int] | None:
    secret, text = case.get("secret"), case["text"]
    if not secret or secret not in text:
        return None
    first = text[: text.index(secret)].count("\n") + 1
    return first, first + secret.count("\n")


def names_provider(label: str, provider: str) -> bool:
    label = label.lower().replace(" ", "").replace("_", "-")
    names = {provider, ALIASES.get(provider, provider)}
    return any(n.replace("-", "") in label.replace("-", "") for n in names)


def score(cases: list[dict], files: list[Path], found: dict[str, list[Finding]], is_sprawl: bool):
    stats = defaultdict(lambda: [0, 0, 0, 0])
    for case, f in zip(cases, files):
        hits = found.get(os.path.realpath(f), [])
        s = stats[case["source"]]
        if case["positive"]:
            span = secret_lines(case)
            hit = any(lo <= span[1] and hi >= span[0] for lo, hi, _ in hits) if span else bool(hits)
            s[0] += 1
            s[1] += hit
        elif not case.get("contested"):
            provider = case["provider"]
            if provider in ANY_FINDING_PROVIDERS:
                flag = bool(hits)
            elif is_sprawl:
                flag = any(ALIASES.get(label, label) == ALIASES.get(provider, provider) for _, _, label in hits)
            else:
                flag = any(names_provider(label, provider) for _, _, label in hits)
            s[2] += 1
            s[3] += flag
    return stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--source", action="append")
    args = ap.parse_args()
    cases = load_cases(args.corpus, set(args.source) if args.source else None)
    tools = {"sprawl (medium)": lambda r: run_sprawl(r, "medium"), "sprawl (low)": lambda r: run_sprawl(r, "low")}
    if available("betterleaks"):
        tools["betterleaks"] = run_betterleaks
    if available("kingfisher"):
        tools["kingfisher"] = run_kingfisher
    if available("detect-secrets"):
        tools["detect-secrets"] = run_detect_secrets
    with tempfile.TemporaryDirectory(prefix="sprawl-corpus-") as tmp:
        root = Path(tmp) / "cases"
        files = write_cases(cases, root)
        results = {}
        for name, run in tools.items():
            t = time.perf_counter()
            found = run(root)
            results[name] = (score(cases, files, found, name.startswith("sprawl")), time.perf_counter() - t)
    print(f"{len(cases)} cases; {machine()}\n")
    sources = sorted({c["source"] for c in cases})
    rows = []
    for name, (stats, seconds) in results.items():
        row = [name]
        for src in sources:
            p, f, n, fl = stats[src]
            row.append(f"{f / p:.3f} / {fl / n:.3f}" if p and n else (f"{f / p:.3f} / -" if p else "-"))
        rows.append(row + [f"{seconds:.1f}"])
    print("recall on positives / rate of negatives flagged, per source\n")
    print(table(rows, ["tool", *sources, "seconds"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The peers' corpus, or a generated one, scanned by sprawl and its peers side by side.

    python benchmarks/corpus_peers.py [--corpus ../shared/corpus/peers] [--source gitleaks ...]
    python benchmarks/corpus_peers.py --generated 1 [--generated 2 ...] [--files-per-class 10]

--generated SEED writes the corpus of corpus_gen.py (realistic files in the shapes of issue 20 with
planted secrets of documented formats and decoys) and scores every tool (sprawl, betterleaks,
kingfisher, detect-secrets, CredSweeper) on it in the same run, per class of file: a planted secret
is found when the tool reports a finding on a line it spans; every other line a tool flags is a false
positive (counted once per line). Precision, recall and F1 per tool and class.

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
from corpus_gen import CLASSES, Label, generate  # noqa: E402

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


def run_credsweeper(root: Path) -> dict[str, list[Finding]]:
    out = root.parent / "credsweeper.json"
    subprocess.run(["credsweeper", "--path", str(root), "--save-json", str(out)], capture_output=True)
    found: dict[str, list[Finding]] = defaultdict(list)
    for f in json.loads(out.read_text()) if out.exists() else []:
        for ld in f.get("line_data_list") or []:
            found[os.path.realpath(ld["path"])].append((ld["line_num"], ld["line_num"], f["rule"]))
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


def score_generated(root: Path, labels: list[Label], found: dict[str, list[Finding]]) -> dict[str, list[int]]:
    """Per class: [planted, found, lines flagged outside any planted span]. A file's class is the class of
    the secrets planted in it, so a false positive counts against the shape it was found in."""
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    cls_of: dict[str, str] = {}
    for lb in labels:
        spans[lb.path].append((lb.first_line, lb.last_line))
        cls_of[lb.path] = lb.cls
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    flagged: dict[str, set[int]] = defaultdict(set)
    for path, hits in found.items():
        rel = os.path.relpath(path, os.path.realpath(root))
        for lo, hi, _ in hits:
            flagged[rel].update(range(lo, hi + 1))
    for lb in labels:
        stats[lb.cls][0] += 1
        stats[lb.cls][1] += any(lb.first_line <= n <= lb.last_line for n in flagged.get(lb.path, ()))
    for rel, lines in flagged.items():
        outside = {n for n in lines if not any(lo <= n <= hi for lo, hi in spans.get(rel, []))}
        stats[cls_of.get(rel, "other")][2] += len(outside)
    return stats


def prf(tp: int, planted: int, fp: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / planted if planted else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main_generated(seeds: list[int], per_class: int, tools: dict) -> int:
    print(f"generated corpus, seeds {seeds}, {per_class} files per class; {machine()}\n")
    for seed in seeds:
        with tempfile.TemporaryDirectory(prefix="sprawl-gen-") as tmp:
            root = Path(tmp) / "corpus"
            labels = generate(root, seed, per_class)
            results = {}
            for name, run in tools.items():
                t = time.perf_counter()
                found = run(root)
                results[name] = (score_generated(root, labels, found), time.perf_counter() - t)
        print(f"seed {seed}: {len(labels)} planted secrets in {len({lb.path for lb in labels})} files\n")
        rows = []
        for name, (stats, seconds) in results.items():
            total = [sum(v[i] for v in stats.values()) for i in range(3)]
            p, r, f = prf(total[1], total[0], total[2])
            rows.append([name, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", str(total[2]), f"{seconds:.1f}"])
        print(table(rows, ["tool", "precision", "recall", "F1", "false positives", "seconds"]))
        print("\nper class: precision / recall / F1\n")
        rows = []
        for name, (stats, _) in results.items():
            rows.append([name] + ["{:.2f} / {:.2f} / {:.2f}".format(*prf(stats[c][1], stats[c][0], stats[c][2]))
                                  for c in CLASSES])
        print(table(rows, ["tool", *CLASSES]))
        print()
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--source", action="append")
    ap.add_argument("--generated", type=int, action="append", metavar="SEED",
                    help="score the tools on a generated corpus with this seed (repeatable)")
    ap.add_argument("--files-per-class", type=int, default=10)
    args = ap.parse_args()
    tools = {"sprawl (medium)": lambda r: run_sprawl(r, "medium"), "sprawl (low)": lambda r: run_sprawl(r, "low")}
    if available("betterleaks"):
        tools["betterleaks"] = run_betterleaks
    if available("kingfisher"):
        tools["kingfisher"] = run_kingfisher
    if available("detect-secrets"):
        tools["detect-secrets"] = run_detect_secrets
    if args.generated:
        if available("credsweeper"):
            tools["credsweeper"] = run_credsweeper
        return main_generated(args.generated, args.files_per_class, tools)
    cases = load_cases(args.corpus, set(args.source) if args.source else None)
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

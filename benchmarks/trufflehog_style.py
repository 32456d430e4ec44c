#!/usr/bin/env python3
"""Recall on TruffleHog-style per-detector cases generated from the providers' key formats.

    python benchmarks/trufflehog_style.py [--rules DIR] [--min-confidence medium] [--seed 1234] [--misses]

Each line of trufflehog_style_formats.txt names a group (`new`: a provider whose rules the providers
session of issue 20 added; `old`: one the rule set already had), the keyword TruffleHog's detector for
it keys on, and the key's format (literals and character classes with a length). For every detector
the script writes four positive files, one per input shape TruffleHog's pattern tests use (`kw token =
'v'`, `kw = 'v'`, `You can find a kw secret v within`, a two-line log with the keyword on the first line
and `Key=v` on the second), and one negative file (the first shape with a value one character too long
or with a `?` inside). Every value is random, drawn from the format; nothing is copied from a peer.
A positive counts when `sprawl scan` reports anything in its file, a negative when it reports anything.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

FORMATS = Path(__file__).with_name("trufflehog_style_formats.txt")
SHAPES = ("{kw} token = '{v}'", "{kw} = '{v}'", "You can find a {kw} secret {v} within",
          "[INFO] Sending request to the {kw} API\n[DEBUG] Using Key={v}\n[INFO] Response received: 200 OK")


def _class(body: str) -> list[str]:
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            out.append(body[i + 1])
            i += 2
        elif i + 2 < len(body) and body[i + 1] == "-":
            out += [chr(x) for x in range(ord(c), ord(body[i + 2]) + 1)]
            i += 3
        else:
            out.append(c)
            i += 1
    return sorted(set(out))


def _tokens(fmt: str) -> list[tuple[list[str], int, int]]:
    """A format as (characters, least, most) runs: literals, [classes] and {n} or {n,m} repeats."""
    toks, i = [], 0
    while i < len(fmt):
        if fmt[i] == "[":
            j = i + 1
            while fmt[j] != "]" or fmt[j - 1] == "\\":
                j += 1
            chars, i = _class(fmt[i + 1:j]), j + 1
        elif fmt[i] == "\\":
            chars, i = [fmt[i + 1]], i + 2
        else:
            chars, i = [fmt[i]], i + 1
        m = re.match(r"\{(\d+)(?:,(\d+))?\}", fmt[i:])
        lo = hi = 1
        if m:
            lo, hi, i = int(m.group(1)), int(m.group(2) or m.group(1)), i + m.end()
        toks.append((chars, lo, hi))
    return toks


def sample(fmt: str, rng: random.Random) -> str:
    """A random value of the format with a digit when the format allows one (as real keys have)."""
    toks = _tokens(fmt)
    digits = any(c.isdigit() for chars, _, _ in toks for c in chars if len(chars) > 1)
    # A varied value is drawn a few times at most: a narrow class (digits only, 40 long) can never hold
    # more than len(v) // 3 distinct characters, and waiting for it hung the script.
    for _ in range(100):
        v = "".join("".join(rng.choice(chars) for _ in range(rng.randint(lo, hi))) for chars, lo, hi in toks)
        if len(set(v)) > len(v) // 3 and (not digits or any(c.isdigit() for c in v)):
            break
    return v


def cases(seed: int) -> list[tuple[str, str, int, bool, str]]:
    """(group, detector, shape, positive, text) for every detector in the formats file."""
    rng = random.Random(seed)
    out = []
    for line in FORMATS.read_text().splitlines():
        group, kw, fmt = re.split(r"(?<!\\)\|", line)
        for shape, text in enumerate(SHAPES):
            out.append((group, kw, shape, True, text.format(kw=kw, v=sample(fmt, rng))))
        v = sample(fmt, rng)
        bad = v + v[-1] if rng.random() < 0.5 else v[: len(v) // 2] + "?" + v[len(v) // 2 + 1:]
        out.append((group, kw, 0, False, SHAPES[0].format(kw=kw, v=bad)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rules", type=Path, help="a rules folder instead of the built-in rules")
    ap.add_argument("--min-confidence", default="medium", choices=["low", "medium", "high"])
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--misses", action="store_true", help="list the detectors no shape finds")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        labels = {}
        for n, (group, kw, shape, positive, text) in enumerate(cases(args.seed)):
            name = f"{n:04d}.txt"
            (Path(tmp) / name).write_text(text + "\n")
            labels[name] = (group, kw, shape, positive)
        cmd = ["sprawl", "scan", tmp, "-f", "json", "--no-ignore-file", "--min-confidence", args.min_confidence]
        if args.rules:
            cmd += ["--rules", str(args.rules)]
        report = json.loads(subprocess.run(cmd, capture_output=True, check=False).stdout)
    hit_files = {Path(loc["path"]).name for f in report["findings"] for loc in f["locations"]}
    found: Counter = Counter()
    total: Counter = Counter()
    by_detector: dict[str, int] = defaultdict(int)
    for name, (group, kw, shape, positive) in labels.items():
        hit = name in hit_files
        key = (group, f"shape {shape}" if positive else "negative")
        found[key] += hit
        total[key] += 1
        if positive:
            by_detector[f"{group}:{kw}"] += hit
    for key in sorted(total):
        print(f"{key[0]:4s} {key[1]:9s} {found[key]:4d}/{total[key]:4d} = {found[key] / total[key]:.3f}")
    for group in ("new", "old"):
        pos = [k for k in total if k[0] == group and k[1] != "negative"]
        print(f"{group} all shapes {sum(found[k] for k in pos) / sum(total[k] for k in pos):.3f}, detectors with no hit: "
              f"{sum(1 for d, n in by_detector.items() if d.startswith(group + ':') and n == 0)}"
              f" of {sum(1 for d in by_detector if d.startswith(group + ':'))}")
    if args.misses:
        print(" ".join(sorted(d for d, n in by_detector.items() if n == 0)))


if __name__ == "__main__":
    main()

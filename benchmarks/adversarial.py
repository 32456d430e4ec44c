#!/usr/bin/env python3
"""Crafted inputs: how long the engine takes on 200 KB of one fragment repeated (a key word, a
separator, an escape), the shape of input that makes a backtracking pattern or a per-value Python
loop blow up. A scanner of leaked bundles reads untrusted text, so no input may take minutes.

    python benchmarks/adversarial.py [--size 200000] [--top 10] [--engine portable|hyperscan|both]

Scans each fragment repeated to --size bytes under three paths (a log, Python, JSON: the path picks
the context stage's parser), plus 30 random mixes of the fragments, in this process, with each matcher
backend asked for (both by default: the Hyperscan database rules out most rules before any regex
runs, the portable matcher runs them near every keyword), and prints the slowest in CPU seconds.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import machine, table  # noqa: E402

from scanner.engine import Engine  # noqa: E402
from scanner.engine.backends import make_matcher  # noqa: E402
from scanner.rules import load_rules  # noqa: E402

FRAGMENTS = {
    "escaped key": '\\"a\\":', "percent": "%41%4", "token=": "token=", "&api_key=": "&api_key=x", "base64": "QUJD",
    "dash": "-", "space": " ", "password: ": "password: ", "json key": '{"a":', "url with user": "https://u:p@",
    "slashes": "//", "quote": '"', "backslash": "\\", "xml setting": '<add key="password" value="',
    "curl -u": "curl -u ", "hex": "deadbeef", "jwt start": "eyJhbGciOi.", "data uri": "data:image/png;base64,",
    "netrc": "machine x login y ", "mixed": "aB3_-", "newline": "\n", "assignment": 'secret_key = "',
    "dd_": "dd_", "AKIA": "AKIA", "tab equals": "\t=\t", "curl": "curl ", "curl continued": "curl x\\\n",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=200_000)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--engine", choices=["portable", "hyperscan", "both"], default="both")
    args = ap.parse_args()
    rules = load_rules()
    inputs = [(name, (fragment * (args.size // len(fragment) + 1))[: args.size].encode(), path)
              for name, fragment in FRAGMENTS.items() for path in ("bundle.log", "settings.py", "config.json")]
    rng = random.Random(1)
    for i in range(30):
        mix = "".join(rng.choice(list(FRAGMENTS.values())) for _ in range(args.size // 4))[: args.size]
        inputs.append((f"random mix {i}", mix.encode(), "bundle.log"))
    print(f"{len(inputs)} inputs of {args.size} bytes; {machine()}")
    for backend in (["portable", "hyperscan"] if args.engine == "both" else [args.engine]):
        engine = Engine(rules, make_matcher(list(rules), backend))
        engine.scan(b"warm up: token=abc", "x.py")
        timings = []
        for name, data, path in inputs:
            t0 = time.process_time()
            engine.scan(data, path)
            timings.append((time.process_time() - t0, name, path))
        timings.sort(reverse=True)
        print(f"\nmatcher {engine.matcher.name}: slowest {args.top}\n")
        print(table([[name, path, f"{t:.3f}"] for t, name, path in timings[: args.top]], ["fragment", "path", "CPU s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

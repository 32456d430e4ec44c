"""The engine's CPU time on a folder of files, in this process (no workers, no report): the measure for
changes inside scanner/engine, steadier than wall time on a shared machine.

    python benchmarks/engine_cpu.py FOLDER [--suffix .jsonl] [--repeat 3]

Prints the bytes read and the best of --repeat passes of Engine.scan over every file (each scanned as its
own path), after one pass that compiles what the engine compiles on first use. Run it under
`chrt -f 10` where other jobs share the cores, and with PYTHONPATH naming the code to measure.
"""
from __future__ import annotations

import argparse
import os
import time

from scanner.pipeline.engines import get_engine


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--suffix", default="", help="only files whose name ends so (e.g. .jsonl)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    files = []
    for root, _, names in os.walk(args.folder):
        for name in sorted(names):
            if name.endswith(args.suffix):
                with open(os.path.join(root, name), "rb") as fh:
                    files.append((os.path.join(root, name), fh.read()))
    engine = get_engine()
    for path, data in files:
        engine.scan(data, path)
    best = float("inf")
    for _ in range(args.repeat):
        start = time.process_time()
        for path, data in files:
            engine.scan(data, path)
        best = min(best, time.process_time() - start)
    print(f"{len(files)} files, {sum(len(d) for _, d in files) / 1e6:.1f} MB: engine {best:.2f} CPU-s")


if __name__ == "__main__":
    main()

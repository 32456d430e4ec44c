"""One huge single-line JSON log: time and peak memory of sprawl with one worker and with every core.

    python benchmarks/one_line.py [SIZE_GB] [--keep PATH]

Writes a JSON array of log records on one line (SIZE_GB, 1 by default; issue 7 asks for 3), with a
GitHub-format token planted every 100 MB, then runs `sprawl scan FILE --min-confidence low` with
`-j 1` and with the default worker count. A file over --max-size is streamed in overlapping chunks
(memory stays one chunk per worker whatever the size) and shared by the workers by byte range.
Prints seconds, MB/s, peak memory of the process tree and the planted tokens found.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import machine, run, table  # noqa: E402

RECORD = (b'{"t":"2026-06-01T00:00:00Z","level":"info","msg":"request served","path":"/api/v1/orders",'
          b'"token_ttl":3600,"ms":12},')
TOKEN = "ghp_" + "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5"  # a token's shape, not a live token; sprawl:allow
PLANTED = f'{{"t":"2026-06-01T00:00:01Z","headers":{{"Authorization":"Bearer {TOKEN}"}}}},'.encode()


def generate(path: Path, size: int) -> int:
    planted, written, block = 0, 1, RECORD * 8000
    with open(path, "wb") as fh:
        fh.write(b"[")
        while written < size:
            fh.write(block)
            written += len(block)
            if written // (100 << 20) > planted:
                fh.write(PLANTED)
                written += len(PLANTED)
                planted += 1
        fh.write(b"{}]")
    return planted


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("size_gb", nargs="?", type=float, default=1.0)
    ap.add_argument("--keep", type=Path, help="write the file here and keep it")
    args = ap.parse_args()
    tmp = None if args.keep else tempfile.TemporaryDirectory(prefix="sprawl-one-line-")
    path = args.keep or Path(tmp.name) / "huge.json"
    planted = generate(path, int(args.size_gb * (1 << 30)))
    mb = path.stat().st_size / 1e6
    rows = []
    for jobs in ("1", "0"):
        report = path.with_suffix(f".j{jobs}.json")
        r = run(f"sprawl -j {jobs}", [sys.executable, "-m", "scanner.cli", "scan", str(path), "-j", jobs,
                                       "--min-confidence", "low", "-f", "json", "-o", str(report)])
        found = sum(len(f["locations"]) for f in json.loads(report.read_text())["findings"]
                    if f["rule_id"].startswith("github"))
        rows.append([r.tool, f"{r.seconds:.1f}", f"{mb / r.seconds:.1f}", f"{r.peak_rss / 1e6:.0f}", f"{found}"])
        report.unlink()
    print(f"{path}: {mb:.0f} MB on one line, {planted} tokens planted; {machine()}\n")
    print(table(rows, ["run", "seconds", "MB/s", "peak MB", "token locations"]))
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A progress line on a terminal for long scans: bytes done of total, and throughput."""
from __future__ import annotations

import sys
import time

from scanner.report.summary import human_bytes


class ProgressBar:
    """Called as (bytes done, bytes total) after each file; redraws at most ten times a second, on stderr."""

    WIDTH = 30

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self.drawn = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - self.drawn < 0.1 and done < total:
            return
        self.drawn = now
        frac = done / total if total else 1.0
        filled = int(frac * self.WIDTH)
        rate = done / max(now - self.started, 1e-6)
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {frac:4.0%} "
                          f"{human_bytes(done)} / {human_bytes(total)}  {human_bytes(rate)}/s ")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def progress_for_terminal():
    """A ProgressBar when stderr is a terminal, else None (no bar in pipes, CI logs or tests)."""
    return ProgressBar() if sys.stderr.isatty() else None

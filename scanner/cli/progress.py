"""Progress on a terminal: a line for long scans (bytes done of total, and throughput), and a bar per phase
of a sweep (listing, fetching, scanning)."""
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


class PhaseBars:
    """A sweep's progress on stderr, one bar per phase: `start(phase, total)`, then `advance(phase, n)`.
    A phase's line is finished (newline) when it completes or the next phase starts; redrawn at most ten
    times a second (tests/test_sweep.py::test_progress_bar_on_a_terminal_instead_of_log_lines)."""

    WIDTH = 30

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.phase = ""
        self.done = self.total = 0
        self.drawn = 0.0

    def start(self, phase: str, total: int) -> None:
        self.finish()
        self.phase, self.done, self.total = phase, 0, total
        self._draw(force=True)

    def advance(self, phase: str, n: int = 1) -> None:
        if phase != self.phase:
            self.start(phase, n)
        self.done += n
        self._draw(force=self.done >= self.total)
        if self.done >= self.total:
            self.finish()

    def finish(self) -> None:
        """End the current phase's line (idempotent)."""
        if self.phase:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
            self.phase = ""

    def _draw(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self.drawn < 0.1:
            return
        self.drawn = now
        frac = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(frac * self.WIDTH)
        self.stream.write(f"\r{self.phase:<9} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {frac:4.0%} "
                          f"{self.done}/{self.total} repositories ")
        self.stream.flush()

"""A sweep killed midway, as the resume tests need it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def kill_sweep_after_first_repository(args: list[str], env: dict[str, str], line: bytes = b"sprawl: swept") -> None:
    """Run `sprawl ARGS` (a sweep) and SIGKILL its whole process group (workers, git, Ray) as soon as it
    reports a first swept repository (or logs a first `line`): a kill that lands mid-sweep."""
    proc = subprocess.Popen([sys.executable, "-m", "scanner.cli", *args], cwd=REPO, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, env={**os.environ, **env}, start_new_session=True)
    assert proc.stderr is not None
    for said in proc.stderr:
        if said.startswith(line):
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

"""Is the process that marked a scan "running" still alive? A pid alone cannot tell: pids are reused and
a datastore outlives reboots. A scan records its pid and `identity(pid)` (the boot id and the process's
start time on Linux); the scan is live only while a process with that pid exists and, where the
identity can be read, has the same one
(tests/test_store_reliability.py::test_a_stale_running_sweep_is_taken_over_only_when_its_process_is_gone)."""
from __future__ import annotations

import os
from pathlib import Path


def identity(pid: int) -> str:
    """`boot-id:start-time` of a process on Linux; "" where /proc cannot tell."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name (field 2) may hold spaces and parentheses: split after its closing one.
    fields = stat[stat.rindex(")") + 2:].split()
    return f"{boot}:{fields[19]}" if len(fields) > 19 else ""


def alive(pid: int | None, recorded: str | None) -> bool:
    """Whether the process that recorded (pid, identity) still runs. This process is never "alive" here:
    a scan it left running (an earlier call that failed) is stale by the time it asks."""
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    except OSError:
        return False
    if recorded:
        current = identity(pid)
        if current and current != recorded:
            return False  # the pid was reused, or the machine rebooted since
    if _zombie(pid):
        return False
    return True


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].startswith("Z")

"""A plain git pre-commit hook, for repositories that do not use the pre-commit framework."""
from __future__ import annotations

import os
import shlex
import stat
import sys
from pathlib import Path

from scanner.errors import SprawlError
from scanner.sources.gitcmd import GitError, git

MARKER = "# installed by: sprawl install-hook"


def hook_script() -> str:
    # The interpreter that runs sprawl now runs the hook later, whatever PATH the commit sees.
    return f"""#!/bin/sh
{MARKER}
exec {shlex.quote(sys.executable)} -m scanner.cli staged --quiet
"""


def install(force: bool = False, cwd: str = ".") -> str:
    try:
        hooks = Path(cwd) / git(cwd, "rev-parse", "--git-path", "hooks").decode().strip()
    except GitError:
        raise SprawlError("not inside a git repository") from None
    hooks.mkdir(parents=True, exist_ok=True)
    target = hooks / "pre-commit"
    if target.exists() and MARKER not in target.read_text(errors="replace") and not force:
        raise SprawlError(f"{target} already exists; use --force to replace it")
    target.write_text(hook_script())
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return f"installed {os.path.normpath(target)}: `git commit` now runs `sprawl staged`"

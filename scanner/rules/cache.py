"""A per-user cache of validated rule sets, so start-up does not re-parse every YAML file.

Entries live in $SPRAWL_CACHE_DIR, else $XDG_CACHE_HOME/secret-sprawl, else
~/.cache/secret-sprawl, one JSON file per rule-set hash. The cache is an optimisation
only: any error reading or writing it is ignored and the rules are parsed as usual.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

_KEEP = 8  # rule-set versions kept; older entries are deleted when a new one is written


def cache_dir() -> Path:
    if os.environ.get("SPRAWL_CACHE_DIR"):
        return Path(os.environ["SPRAWL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "secret-sprawl"


def load(key: str, kind: str = "rules") -> list | None:
    """The cached entry of this kind ("rules": a rule set; "documented": the documented example values)."""
    try:
        return json.loads((cache_dir() / f"{kind}-{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def store(key: str, data: list, kind: str = "rules") -> None:
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{kind}-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, folder / f"{kind}-{key}.json")
        prune(folder, f"{kind}-*.json", _KEEP)
    except OSError:
        pass


def prune(folder: Path, pattern: str, keep: int) -> None:
    """Delete all but the `keep` newest files of the folder matching the glob (other rule sets' entries)."""
    try:
        entries = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[keep:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass

"""Allowing false positives: .sprawlignore holds portable fingerprints and path globs.

    # a reviewed false positive (the fingerprint printed beside the finding)
    3f1c9a0e5b7d2c4a8e6f1b3d5c7a9e0f
    # everything under a test-data folder
    tests/data/**
    *.snap

Inline markers on the line itself (``sprawl:allow`` and the markers of other scanners)
are handled by the engine; see scanner.engine.core.ALLOW_MARKERS.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from scanner.sources.globs import path_matches

_FINGERPRINT = re.compile(r"^[0-9a-f]{32}$")
IGNORE_FILE = ".sprawlignore"


@dataclass
class IgnoreList:
    fingerprints: set[str] = field(default_factory=set)
    globs: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> IgnoreList:
        ignore = cls()
        for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            if _FINGERPRINT.match(line):
                ignore.fingerprints.add(line)
            else:
                ignore.globs.append(line)
        return ignore

    def merge(self, other: IgnoreList) -> None:
        self.fingerprints |= other.fingerprints
        self.globs.extend(other.globs)

    def ignores_path(self, relpath: str) -> bool:
        return any(path_matches(relpath, g) for g in self.globs)


def find_ignore_files(roots: list[Path]) -> IgnoreList:
    """The .sprawlignore of each scanned root (or of the folder holding a scanned file)."""
    ignore = IgnoreList()
    seen: set[Path] = set()
    for root in roots:
        folder = root if root.is_dir() else root.parent
        candidate = (folder / IGNORE_FILE).resolve()
        if candidate not in seen and candidate.is_file():
            seen.add(candidate)
            ignore.merge(IgnoreList.load(candidate))
    return ignore

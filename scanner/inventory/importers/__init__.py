"""Fill the inventory from what organisations already have.

Each importer reads one kind of file and returns a partial Inventory whose entries record their
source; `import_sources` finds the right importer for every file (walking folders) and merges
the results, reporting conflicts rather than overwriting.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from scanner.errors import SprawlError
from scanner.inventory.merge import Conflict, merge
from scanner.inventory.model import Inventory

MCP_FILES = ("claude_desktop_config.json", "mcp.json", ".mcp.json")
A2A_FILES = ("agent.json", "agent-card.json")
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox"}


def detect(path: Path, text: str) -> str | None:
    """Which importer reads this file, from its name and, for generic YAML, its content."""
    name = path.name
    if name == "CODEOWNERS":
        return "codeowners"
    if name in MCP_FILES:
        return "mcp"
    if name in A2A_FILES or name.endswith(".agent-card.json"):
        return "a2a"
    if name in ("agents.yaml", "agents.yml"):
        return "crewai"
    if name.endswith((".yaml", ".yml")):
        if "backstage.io/" in text and "apiVersion" in text:
            return "backstage"
        if "apiVersion:" in text and "kind:" in text:
            return "kubernetes"
    if name.endswith(".json") and '"mcpServers"' in text:
        return "mcp"
    return None


def read_one(path: Path, kind: str | None = None, root: Path | None = None) -> Inventory:
    """Import one file with the named (or detected) importer."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SprawlError(f"{path}: not UTF-8 text") from None
    kind = kind or detect(path, text)
    if kind is None:
        raise SprawlError(f"{path}: not a file any importer reads (Backstage catalog, CODEOWNERS, MCP config, "
                          "Kubernetes manifest, CrewAI agents.yaml, A2A agent card)")
    rel = _relative(path, root)
    if kind == "backstage":
        from scanner.inventory.importers.backstage import read
    elif kind == "codeowners":
        from scanner.inventory.importers.codeowners import read
    elif kind == "mcp":
        from scanner.inventory.importers.mcp import read
    elif kind == "kubernetes":
        from scanner.inventory.importers.kubernetes import read
    elif kind == "crewai":
        from scanner.inventory.importers.crewai import read
    elif kind == "a2a":
        from scanner.inventory.importers.a2a import read
    else:
        raise SprawlError(f"unknown importer {kind!r}")
    return read(text, rel)


def _relative(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def iter_importable(folder: Path):
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if name.endswith((".yaml", ".yml", ".json")) or name == "CODEOWNERS":
                try:
                    if p.stat().st_size > 4 * 1024 * 1024:
                        continue
                    if detect(p, p.read_text(encoding="utf-8", errors="replace")):
                        yield p
                except OSError:
                    continue


def import_sources(sources: list[str | Path], base: Inventory | None = None) -> tuple[Inventory, list[Conflict]]:
    """Import every source (files, or folders walked for files an importer reads) and merge them, in order.

    A file that cannot be read as its kind is reported in the notes and skipped; the others go on.
    """
    parts: list[Inventory] = [base] if base is not None else []
    notes: list[str] = []
    for src in sources:
        p = Path(src)
        if p.is_dir():
            for f in iter_importable(p):
                try:
                    parts.append(read_one(f, root=p))
                except (SprawlError, ValueError, json.JSONDecodeError) as exc:
                    notes.append(f"skipped {f}: {exc}")
        elif p.exists():
            parts.append(read_one(p))
        else:
            raise SprawlError(f"{p}: no such file or folder")
    inv, conflicts = merge(parts)
    inv.notes.extend(notes)
    return inv, conflicts

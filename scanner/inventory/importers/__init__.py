"""Fill the inventory from what organisations already have.

Each importer reads one kind of file and returns a partial Inventory whose entries record their
source; `import_sources` finds the right importer for every file (walking folders) and merges
the results, reporting conflicts rather than overwriting.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from scanner.errors import SprawlError
from scanner.inventory.merge import Conflict, merge
from scanner.inventory.model import Inventory

MCP_FILES = ("claude_desktop_config.json", "mcp.json", ".mcp.json")
A2A_FILES = ("agent.json", "agent-card.json")
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox"}
_BACKSTAGE_API = re.compile(r"(?m)^\s*apiVersion:\s*['\"]?backstage\.io/")
REPO_MARKERS = (".git", ".github", "CODEOWNERS", "catalog-info.yaml")


@dataclass(frozen=True)
class Place:
    """Where an imported file sits: its repository (None when unknown) and its path relative to it, the way a
    scan of that repository records its findings (tests/test_importers.py::test_org_import_paths_are_repository_relative)."""

    repo: str | None
    path: str


def locate(path: Path, root: Path | None = None) -> Place:
    """The repository of a file and its repository-relative path. The nearest folder holding `.git` (up to
    `root` when given) is the repository; else, under an import root, the root itself when it looks like a
    repository (`.github/`, CODEOWNERS, catalog-info.yaml), otherwise the root's first-level folder."""
    path = path.resolve()
    top = root.resolve() if root is not None else None
    for folder in path.parents:
        if (folder / ".git").exists():
            return Place(folder.name, path.relative_to(folder).as_posix())
        if top is not None and folder == top:
            break
    if top is None:
        return Place(None, path.as_posix())
    rel = path.relative_to(top)
    if any((top / m).exists() for m in REPO_MARKERS) or len(rel.parts) < 2:
        return Place(top.name, rel.as_posix())
    return Place(rel.parts[0], PurePosixPath(*rel.parts[1:]).as_posix())


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
        # A Kubernetes manifest labelled `backstage.io/kubernetes-id` is still Kubernetes: only a document whose
        # apiVersion is backstage.io's is a catalog (tests/test_importers.py::test_kubernetes_id_label_is_kubernetes).
        if _BACKSTAGE_API.search(text):
            return "backstage"
        if "apiVersion:" in text and "kind:" in text:
            return "kubernetes"
    if name.endswith(".json") and '"mcpServers"' in text:
        return "mcp"
    return None


def read_one(path: Path, kind: str | None = None, root: Path | None = None) -> Inventory:
    """Import one file with the named (or detected) importer; paths it records are repository-relative."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SprawlError(f"{path}: not UTF-8 text") from None
    kind = kind or detect(path, text)
    if kind is None:
        raise SprawlError(f"{path}: not a file any importer reads (Backstage catalog, CODEOWNERS, MCP config, "
                          "Kubernetes manifest, CrewAI agents.yaml, A2A agent card)")
    place = locate(path, root)
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
    return read(text, place.path, place.repo)


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
    declared: list[tuple[str, Place]] = []  # identity id -> the file that declares it, for owner inheritance

    def one(f: Path, root: Path | None) -> None:
        part = read_one(f, root=root)
        place = locate(f, root)
        declared.extend((i.id, place) for i in part.identities)
        parts.append(part)

    for src in sources:
        p = Path(src)
        if p.is_dir():
            for f in iter_importable(p):
                try:
                    one(f, p)
                except (SprawlError, ValueError, json.JSONDecodeError) as exc:
                    notes.append(f"skipped {f}: {exc}")
        elif p.exists():
            one(p, None)
        else:
            raise SprawlError(f"{p}: no such file or folder")
    inv, conflicts = merge(parts)
    inherit_owners(inv, declared)
    inv.notes.extend(notes)
    return inv, conflicts


def inherit_owners(inv: Inventory, declared: list[tuple[str, Place]]) -> None:
    """An identity whose importer knows no owner inherits, as an inferred owner, the owner of the file that
    declares it: its CODEOWNERS rule in that repository, else the owner of the repository's Backstage
    component. An explicit `owner: null` (a fact in the base) is kept
    (tests/test_importers.py::test_ownerless_imports_inherit_the_owner_of_their_file)."""
    by_id = {i.id: i for i in inv.identities}
    components: dict[str, str] = {}
    for i in inv.identities:
        if i.source.startswith("backstage:") and i.owner and i.kind in ("workload", "agent", "mcp_server"):
            for repo in i.repos:
                components.setdefault(repo, i.owner)
    for iid, place in declared:
        ident = by_id.get(iid)
        if ident is None or ident.owner is not None or "owner" in ident.sources:
            continue
        rule = inv.path_owner(place.path, place.repo) if place.repo else None
        if rule is not None and rule.owners:
            ident.owner = rule.owners[0]
            ident.sources["owner"] = f"inherited:{rule.source}"
        elif place.repo in components:
            ident.owner = components[place.repo]
            ident.sources["owner"] = f"inherited:backstage component of {place.repo}"

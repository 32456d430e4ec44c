"""CODEOWNERS: who owns a path, as a fallback owner link. The last matching pattern wins."""
from __future__ import annotations

from pathlib import PurePosixPath

from scanner.inventory.importers._common import owner_ref
from scanner.inventory.model import Inventory, Owner, PathOwner


def repo_of(name: str) -> str | None:
    """The repository folder holding a CODEOWNERS file (it may sit in .github/ or docs/)."""
    parent = PurePosixPath(name).parent
    if parent.name in (".github", "docs", ".gitlab"):
        parent = parent.parent
    return parent.name or None


def read(text: str, name: str, repo: str | None = None) -> Inventory:
    """Rules bound to their own repository: `repo` where the import located it, else the folder holding it."""
    inv = Inventory()
    repo = repo or repo_of(name)
    src = f"codeowners:{repo + ':' if repo else ''}{name}"
    seen: dict[str, Owner] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line or line.startswith("[") or line.startswith("^["):
            continue  # comments and GitLab section headers
        parts = line.split()
        pattern, refs = parts[0].replace("\\ ", " "), parts[1:]
        owners = []
        for ref in refs:
            oid = owner_ref(ref)
            if oid is None:
                continue
            owners.append(oid)
            if oid not in seen:
                seen[oid] = Owner(id=oid, type=oid.split(":", 1)[0], source=f"{src}:{lineno}",
                                  contacts=[ref] if "@" in ref[1:] and not ref.startswith("@") else [])
        # A pattern with no owners is meaningful: it un-owns the paths an earlier pattern gave away.
        inv.path_owners.append(PathOwner(pattern=pattern, owners=owners, repo=repo, order=lineno,
                                         source=f"{src}:{lineno}"))
    inv.owners.extend(seen.values())
    return inv

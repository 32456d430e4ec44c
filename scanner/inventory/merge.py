"""Merge partial inventories: lists are united, a scalar set by two sources to two values is a conflict.

The first source keeps the value (so a hand-written inventory given first wins over importers);
every conflict is returned for the caller to report. Each merged field remembers its source.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from scanner.inventory.model import Credential, Identity, Inventory, Owner

_META = {"id", "source", "sources"}


@dataclass
class Conflict:
    section: str  # owners, identities, credentials
    entry: str
    field: str
    kept: object
    kept_source: str
    other: object
    other_source: str

    def __str__(self) -> str:
        return (f"conflict: {self.section} {self.entry} field '{self.field}': kept {self.kept!r} from "
                f"{self.kept_source}, {self.other_source} says {self.other!r}")


def _defaults(cls) -> dict:
    probe = cls(id="", kind="agent") if cls is Identity else cls(id="")
    return {f.name: getattr(probe, f.name) for f in fields(cls)}


_DEFAULTS = {cls: _defaults(cls) for cls in (Owner, Identity, Credential)}


def _is_set(item, name: str) -> bool:
    return name in item.sources or getattr(item, name) != _DEFAULTS[type(item)][name]


def _source_of(item, name: str) -> str:
    return item.sources.get(name) or item.source


def _merge_entry(section: str, kept, new, conflicts: list[Conflict]) -> None:
    for f in fields(kept):
        name = f.name
        if name in _META or not _is_set(new, name):
            continue
        mine, theirs = getattr(kept, name), getattr(new, name)
        if isinstance(mine, list):
            for v in theirs:
                if v not in mine:
                    mine.append(v)
            if name not in kept.sources and kept.source != new.source and theirs:
                kept.sources[name] = _source_of(kept, name) if mine != theirs else _source_of(new, name)
            continue
        if not _is_set(kept, name):
            setattr(kept, name, theirs)
            kept.sources[name] = _source_of(new, name)
        elif mine != theirs:
            conflicts.append(Conflict(section, kept.id, name, mine, _source_of(kept, name), theirs,
                                      _source_of(new, name)))


def merge(parts: list[Inventory]) -> tuple[Inventory, list[Conflict]]:
    out = Inventory()
    conflicts: list[Conflict] = []
    index: dict[str, dict[str, object]] = {"owners": {}, "identities": {}, "credentials": {}}
    for part in parts:
        for section in ("owners", "identities", "credentials"):
            for item in getattr(part, section):
                kept = index[section].get(item.id)
                if kept is None:
                    index[section][item.id] = item
                    getattr(out, section).append(item)
                else:
                    _merge_entry(section, kept, item, conflicts)
        seen = {(r.pattern, r.repo, r.order, r.source) for r in out.path_owners}
        out.path_owners.extend(r for r in part.path_owners if (r.pattern, r.repo, r.order, r.source) not in seen)
        out.notes.extend(n for n in part.notes if n not in out.notes)
        names = {r.name for r in out.repos}
        out.repos.extend(r for r in part.repos if r.name not in names)  # the first source keeps a repository
    # An owner named only by reference (an importer saw `owner: team:x` but no Group) still gets an entry,
    # so the merged inventory validates and the owner can be filled in by hand.
    known = {o.id for o in out.owners}
    for ident in out.identities:
        if ident.owner and ident.owner not in known:
            out.owners.append(Owner(id=ident.owner, type=ident.owner.split(":", 1)[0] if ":" in ident.owner else "team",
                                    source=_source_of(ident, "owner"), sources={"placeholder": "a reference only"}))
            known.add(ident.owner)
    for rule in out.path_owners:
        for oid in rule.owners:
            if oid not in known:
                out.owners.append(Owner(id=oid, type=oid.split(":", 1)[0], source=rule.source,
                                        sources={"placeholder": "a reference only"}))
                known.add(oid)
    creds = {c.id for c in out.credentials}
    for ident in out.identities:
        missing = [c for c in ident.credentials if c not in creds]
        for cid in missing:
            out.credentials.append(Credential(id=cid, source=ident.source))
            creds.add(cid)
    for o in out.owners:
        if o.type not in ("team", "user", "group", "service"):
            o.type = "team"
    resolve_owners(out)
    return out, conflicts


IMPORTED_BY_REFERENCE = ("codeowners:", "mcp:", "k8s:", "crewai:", "a2a:")


def resolve_owners(inv: Inventory) -> None:
    """Owners are resolved against the people and groups the inventory knows (Backstage Users and Groups, and
    owners a hand-kept file declares): when any are known, an owner that is only a reference (from CODEOWNERS,
    an identity's `owner`, a label) and resolves to none of them is inactive, so a person who left is visible
    (tests/test_importers.py::test_an_owner_reference_to_nobody_is_inactive). Membership is made two-way."""
    known = {o.id for o in inv.owners if o.source and not o.source.startswith(IMPORTED_BY_REFERENCE)
             and not o.sources.get("placeholder")}
    if known:
        for o in inv.owners:
            if o.id not in known and o.active:
                o.active = False
                o.sources["active"] = "resolves to no known User or Group"
    by_id = {o.id: o for o in inv.owners}
    for o in inv.owners:
        for group in o.member_of:
            g = by_id.get(group)
            if g is not None and o.id not in g.members:
                g.members.append(o.id)
        for member in o.members:
            m = by_id.get(member)
            if m is not None and o.id not in m.member_of:
                m.member_of.append(o.id)

"""Read, validate and write the inventory YAML (`kind: Inventory`, docs/inventory.md).

Validation collects every problem, each naming the file, the line, the entry and the field, so
one run of `sprawl inventory validate` shows everything to fix.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import fields
from datetime import date, datetime
from pathlib import Path

import yaml

from scanner.errors import SprawlError
from scanner.inventory.model import (
    ENVIRONMENTS,
    IDENTITY_KINDS,
    LIFECYCLES,
    OWNER_TYPES,
    REPO_VISIBILITIES,
    Credential,
    Identity,
    Inventory,
    Owner,
    PathOwner,
    Repository,
    Tool,
)

_ISO_DURATION = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?\Z")
_LINE = "__line__"
_KEYLINES = "__keylines__"


def _ln(entry: dict, key: str):
    """The line of a field, else of its entry."""
    return (entry.get(_KEYLINES) or {}).get(key) or entry.get(_LINE)


class InventoryError(SprawlError):
    """One or more problems in an inventory file; str() is one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return self.problems[0]
        return f"{len(self.problems)} problems:\n" + "\n".join(f"  {p}" for p in self.problems)


class _LineLoader(yaml.SafeLoader):
    """Records the line of every mapping so errors can point at it."""


def _construct_mapping(loader, node, deep=False):
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    mapping[_LINE] = node.start_mark.line + 1
    mapping[_KEYLINES] = {k.value: k.start_mark.line + 1 for k, _v in node.value if isinstance(k.value, str)}
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _construct_timestamp(loader, node):
    """A value YAML reads as a timestamp but no calendar has (2026-13-45) stays the string it is, so the
    field's own check names the file, line and field (tests/test_inventory_errors.py)."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)

MAX_DEPTH = 200  # nesting no inventory or catalog needs; deeper input is refused, naming where


def parse_yaml(text: str, name: str, *, all_documents: bool = False):
    """YAML with line numbers on mappings; a syntax error, or nesting too deep for the parser, becomes a
    one-line SprawlError naming the file, the line and the field."""
    try:
        if all_documents:
            return [d for d in yaml.load_all(text, Loader=_LineLoader) if d is not None]
        return yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        raise InventoryError([f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}"]) from None
    except RecursionError:
        raise InventoryError([_too_deep(text, name)]) from None


def _too_deep(text: str, name: str) -> str:
    """Where the nesting passes MAX_DEPTH, found by walking the parser's events (iterative: no recursion)."""
    frames: list[list] = []  # per open collection: [is_mapping, current key, next node is a key]
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frames.pop()
                continue
            if not isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.MappingStartEvent,
                                      yaml.SequenceStartEvent)):
                continue
            if frames and frames[-1][0]:
                parent = frames[-1]
                if parent[2]:
                    parent[1] = event.value if isinstance(event, yaml.ScalarEvent) else "?"
                parent[2] = not parent[2]
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(frames) >= MAX_DEPTH:
                    path = [str(f[1]) for f in frames if f[0] and f[1] is not None]
                    field = (path[0] if len(path) == 1 else f"{path[0]} > ... > {path[-1]}") if path else "(top level)"
                    line = event.start_mark.line + 1 if event.start_mark else "?"
                    return f"{name}:{line}: field '{field[:80]}': nested more than {MAX_DEPTH} levels deep"
                frames.append([isinstance(event, yaml.MappingStartEvent), None, True])
    except yaml.YAMLError:
        pass
    return f"{name}: nested too deeply to read"


def strip_lines(value):
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k not in (_LINE, _KEYLINES)}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


class _Checker:
    def __init__(self, name: str):
        self.name = name
        self.problems: list[str] = []

    def err(self, where: str, line, msg: str) -> None:
        self.problems.append(f"{self.name}:{line or '?'}: {where}: {msg}")

    def string(self, entry: dict, key: str, where: str, *, required=False, choices=None, default=None):
        value = entry.get(key, default)
        if value is None:
            if required:
                self.err(where, _ln(entry, key), f"field '{key}' is required")
            return default
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            self.err(where, _ln(entry, key), f"field '{key}' must be a string")
            return default
        value = str(value)
        if choices and value not in choices:
            self.err(where, _ln(entry, key), f"field '{key}': {value!r} is not one of {', '.join(choices)}")
            return default
        return value

    def strings(self, entry: dict, key: str, where: str) -> list[str]:
        value = entry.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
            self.err(where, _ln(entry, key), f"field '{key}' must be a list of strings")
            return []
        return [str(v) for v in value]

    def day(self, entry: dict, key: str, where: str) -> date | None:
        value = entry.get(key)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            self.err(where, _ln(entry, key), f"field '{key}': {value!r} is not a date (YYYY-MM-DD)")
            return None

    def known_fields(self, entry: dict, allowed: set[str], where: str) -> None:
        for key in entry:
            if key not in (_LINE, _KEYLINES) and key not in allowed:
                self.err(where, _ln(entry, key), f"unknown field '{key}' (expected one of {', '.join(sorted(allowed))})")

    def sources(self, entry: dict, where: str) -> dict[str, str]:
        value = entry.get("sources") or {}
        if not isinstance(value, dict):
            self.err(where, entry.get(_LINE), "field 'sources' must map field names to sources")
            return {}
        return {str(k): str(v) for k, v in value.items() if k not in (_LINE, _KEYLINES)}


_OWNER_FIELDS = {"id", "type", "contacts", "name", "active", "members", "member_of", "source", "sources"}
_IDENTITY_FIELDS = {f.name for f in fields(Identity)}
_CREDENTIAL_FIELDS = {f.name for f in fields(Credential)}
_TOOL_FIELDS = {"name", "system", "via", "scopes"}
_PATH_OWNER_FIELDS = {"pattern", "owners", "repo", "order", "source"}


def _entries(doc: dict, key: str, c: _Checker) -> list[tuple[str, dict]]:
    value = doc.get(key) or []
    if not isinstance(value, list):
        c.err(key, doc.get(_LINE), f"'{key}' must be a list")
        return []
    out = []
    for n, entry in enumerate(value):
        where = f"{key}[{n}]"
        if not isinstance(entry, dict):
            c.err(where, doc.get(_LINE), "must be a mapping")
            continue
        if isinstance(entry.get("id"), str):
            where += f" ({entry['id']})"
        out.append((where, entry))
    return out


def _ttl(c: _Checker, entry: dict, where: str) -> str | None:
    ttl = c.string(entry, "ttl", where)
    if ttl is not None and ttl != "static" and not _ISO_DURATION.match(ttl):
        c.err(where, _ln(entry, "ttl"), f"field 'ttl': {ttl!r} is neither 'static' nor an ISO-8601 duration such as PT1H")
        return None
    return ttl


def _active(c: _Checker, entry: dict, where: str) -> bool:
    value = entry.get("active", True)
    if not isinstance(value, bool):
        c.err(where, _ln(entry, "active"), "field 'active' must be true or false")
        return True
    return value


def from_document(doc, name: str) -> Inventory:
    """Build and validate an Inventory from parsed YAML; every problem is collected, then raised together."""
    c = _Checker(name)
    if not isinstance(doc, dict):
        raise InventoryError([f"{name}: an inventory is a mapping with kind: Inventory"])
    if doc.get("kind") != "Inventory":
        c.err("document", doc.get(_LINE), f"field 'kind' must be 'Inventory', not {doc.get('kind')!r}")
    c.known_fields(doc, {"kind", "version", "owners", "identities", "credentials", "path_owners", "repos", "notes"},
                   "document")
    inv = Inventory()
    for where, e in _entries(doc, "owners", c):
        c.known_fields(e, _OWNER_FIELDS, where)
        inv.owners.append(Owner(
            id=c.string(e, "id", where, required=True) or "", type=c.string(e, "type", where, choices=OWNER_TYPES,
                                                                              default="team"),
            contacts=c.strings(e, "contacts", where), name=c.string(e, "name", where, default=""),
            active=_active(c, e, where), members=c.strings(e, "members", where),
            member_of=c.strings(e, "member_of", where),
            source=c.string(e, "source", where, default=name), sources=c.sources(e, where)))
    for where, e in _entries(doc, "credentials", c):
        c.known_fields(e, _CREDENTIAL_FIELDS, where)
        inv.credentials.append(Credential(
            id=c.string(e, "id", where, required=True) or "", provider=c.string(e, "provider", where, default=""),
            type=c.string(e, "type", where, default=""), key_id=c.string(e, "key_id", where),
            fingerprint=c.string(e, "fingerprint", where), secret_ref=c.string(e, "secret_ref", where),
            env_vars=c.strings(e, "env_vars", where), ttl=_ttl(c, e, where),
            created_at=c.day(e, "created_at", where), last_rotated=c.day(e, "last_rotated", where),
            expires_at=c.day(e, "expires_at", where), scopes=c.strings(e, "scopes", where),
            source=c.string(e, "source", where, default=name), sources=c.sources(e, where)))
    for where, e in _entries(doc, "identities", c):
        c.known_fields(e, _IDENTITY_FIELDS, where)
        ident = Identity(
            id=c.string(e, "id", where, required=True) or "",
            kind=c.string(e, "kind", where, required=True, choices=IDENTITY_KINDS, default="agent"),
            owner=c.string(e, "owner", where), purpose=c.string(e, "purpose", where, default=""),
            environment=c.string(e, "environment", where, choices=ENVIRONMENTS, default="unknown"),
            lifecycle=c.string(e, "lifecycle", where, choices=LIFECYCLES, default="production"),
            repos=c.strings(e, "repos", where), paths=c.strings(e, "paths", where),
            configs=c.strings(e, "configs", where), approved_scopes=c.strings(e, "approved_scopes", where),
            workload_identity=c.string(e, "workload_identity", where), credentials=c.strings(e, "credentials", where),
            last_reviewed=c.day(e, "last_reviewed", where), source=c.string(e, "source", where, default=name),
            sources=c.sources(e, where))
        ident.aliases = c.strings(e, "aliases", where)
        if "owner" in e and e["owner"] is None:
            # An explicit `owner: null` is a fact (orphaned): an importer's owner is a conflict, not a fill
            # (tests/test_inventory.py::test_an_explicit_null_owner_in_the_base_is_kept).
            ident.sources.setdefault("owner", ident.source)
        tools = e.get("tools") or []
        if not isinstance(tools, list):
            c.err(where, e.get(_LINE), "field 'tools' must be a list")
            tools = []
        for n, t in enumerate(tools):
            tw = f"{where}.tools[{n}]"
            if isinstance(t, str):
                t = {"name": t}
            if not isinstance(t, dict):
                c.err(tw, e.get(_LINE), "a tool is a name or a mapping with name, system, via, scopes")
                continue
            c.known_fields(t, _TOOL_FIELDS, tw)
            ident.tools.append(Tool(c.string(t, "name", tw, required=True) or "", c.string(t, "system", tw, default=""),
                                    c.string(t, "via", tw, default=""), c.strings(t, "scopes", tw)))
        if ident.id and ":" not in ident.id:
            c.err(where, _ln(e, "id"), f"field 'id': {ident.id!r} needs a kind prefix, e.g. agent:{ident.id}")
        inv.identities.append(ident)
    for where, e in _entries(doc, "path_owners", c):
        c.known_fields(e, _PATH_OWNER_FIELDS, where)
        order = e.get("order", 0)
        inv.path_owners.append(PathOwner(c.string(e, "pattern", where, required=True) or "",
                                         c.strings(e, "owners", where), c.string(e, "repo", where),
                                         order if isinstance(order, int) else 0, c.string(e, "source", where, default=name)))
    for where, e in _entries(doc, "repos", c):
        c.known_fields(e, {"name", "visibility", "default_branch", "owner", "source"}, where)
        inv.repos.append(Repository(c.string(e, "name", where, required=True) or "",
                                    c.string(e, "visibility", where, choices=REPO_VISIBILITIES, default="private"),
                                    c.string(e, "default_branch", where, default=""), c.string(e, "owner", where),
                                    c.string(e, "source", where, default=name)))
    inv.notes = [str(n) for n in doc.get("notes") or [] if isinstance(n, str)]
    _check_references(inv, doc, c)
    if c.problems:
        raise InventoryError(c.problems)
    return inv


def _check_references(inv: Inventory, doc: dict, c: _Checker) -> None:
    """Duplicate ids and dangling references are errors: a link to nothing would silently be unowned."""
    groups: tuple[tuple[str, Sequence[Owner | Identity | Credential]], ...] = (
        ("owners", inv.owners), ("identities", inv.identities), ("credentials", inv.credentials))
    for key, items in groups:
        seen: set[str] = set()
        raw = doc.get(key) or []
        for n, item in enumerate(items):
            if item.id in seen:
                c.err(f"{key}[{n}] ({item.id})", _line(raw, n), f"field 'id': duplicate id {item.id!r}")
            seen.add(item.id)
    owners = {o.id for o in inv.owners}
    creds = {cr.id for cr in inv.credentials}
    raw = doc.get("identities") or []
    for n, ident in enumerate(inv.identities):
        where = f"identities[{n}] ({ident.id})"
        if ident.owner is not None and ident.owner not in owners:
            c.err(where, _line(raw, n, "owner"), f"field 'owner': {ident.owner!r} is not in owners")
        for cid in ident.credentials:
            if cid not in creds:
                c.err(where, _line(raw, n, "credentials"), f"field 'credentials': {cid!r} is not in credentials")
    raw = doc.get("path_owners") or []
    for n, rule in enumerate(inv.path_owners):
        for oid in rule.owners:
            if oid not in owners:
                c.err(f"path_owners[{n}] ({rule.pattern})", _line(raw, n), f"field 'owners': {oid!r} is not in owners")


def _line(raw, n, key: str = "id"):
    try:
        return _ln(raw[n], key)
    except (IndexError, AttributeError, TypeError):
        return None


def load_inventory(path: str | Path) -> Inventory:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InventoryError([f"{path}: not UTF-8 text"]) from None
    return from_document(parse_yaml(text, str(path)), str(path))


# ---- writing ---------------------------------------------------------------------------------

def _plain(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)
                if getattr(value, f.name) not in (None, "", [], {})}
    return value


def to_document(inv: Inventory) -> dict:
    doc: dict = {"kind": "Inventory", "version": 1}
    for key in ("owners", "identities", "credentials", "path_owners", "repos"):
        items = [_plain(x) for x in getattr(inv, key)]
        if key == "identities":
            for d, ident in zip(items, inv.identities):
                d["owner"] = ident.owner  # null is meaningful: orphaned
        if items:
            doc[key] = items
    if inv.notes:
        doc["notes"] = list(inv.notes)
    return doc


def dump_inventory(inv: Inventory) -> str:
    return yaml.safe_dump(to_document(inv), sort_keys=False, allow_unicode=True, width=120)

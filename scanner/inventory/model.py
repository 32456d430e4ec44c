"""The agent inventory: owners, non-human identities and their credentials (docs/inventory.md).

Plain dataclasses. Every entry records the `source` it came from (a file, an importer); when a
merge fills fields of one entry from several sources, `sources` maps each such field to its source.
"""
from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass, field
from datetime import date

IDENTITY_KINDS = ("agent", "mcp_server", "service_account", "workload", "ci_job", "app_integration",
                  "shared_account")
ENVIRONMENTS = ("prod", "staging", "dev", "local", "unknown")
LIFECYCLES = ("production", "experimental", "deprecated", "decommissioned")
OWNER_TYPES = ("team", "user", "group", "service")
INACTIVE_LIFECYCLES = ("deprecated", "decommissioned")
# Tools that let an agent run arbitrary code count as the whole toolset (docs/blast-radius.md).
CODE_EXEC_MARKERS = ("shell", "exec", "terminal", "bash", "code-interpreter", "code_interpreter",
                     "python-repl", "desktop-commander", "run_command", "subprocess")


@dataclass
class Owner:
    id: str
    type: str = "team"
    contacts: list[str] = field(default_factory=list)
    name: str = ""
    active: bool = True  # a user who left, or a reference that resolves to no known User or Group, is not
    members: list[str] = field(default_factory=list)
    member_of: list[str] = field(default_factory=list)
    source: str = ""
    sources: dict[str, str] = field(default_factory=dict)


@dataclass
class Tool:
    name: str
    system: str = ""
    via: str = ""  # mcp, api, sdk, a2a...
    scopes: list[str] = field(default_factory=list)

    @property
    def executes_code(self) -> bool:
        text = f"{self.name} {self.system}".lower()
        return any(m in text for m in CODE_EXEC_MARKERS)


@dataclass
class Credential:
    id: str
    provider: str = ""
    type: str = ""
    key_id: str | None = None
    fingerprint: str | None = None
    secret_ref: str | None = None
    env_vars: list[str] = field(default_factory=list)
    ttl: str | None = None  # "static" or an ISO-8601 duration
    created_at: date | None = None
    last_rotated: date | None = None
    expires_at: date | None = None
    scopes: list[str] = field(default_factory=list)
    # `repo:path#L3-L12`: a committed manifest that holds it (a Kubernetes Secret whose namespace/name is its
    # secret_ref), so a finding there is found at its secret_ref (scanner.analysis.linking, step 2).
    declared_in: list[str] = field(default_factory=list)
    source: str = ""
    sources: dict[str, str] = field(default_factory=dict)


def parse_place(text: str) -> tuple[str, str, int, int] | None:
    """`repo:path#L3-L12` -> (repo, path, 3, 12); without a line span the whole file."""
    where, _, lines = text.partition("#L")
    repo, sep, path = where.partition(":")
    if not sep:
        return None
    a, _, b = lines.partition("-L")
    if a.isdigit() and b.isdigit():
        return repo, _norm(path), int(a), int(b)
    return repo, _norm(path), 0, 10**9


@dataclass
class Identity:
    id: str
    kind: str
    owner: str | None = None
    purpose: str = ""
    environment: str = "unknown"
    lifecycle: str = "production"
    repos: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # globs where its code and credentials belong
    configs: list[str] = field(default_factory=list)  # globs of its own config files (MCP, CrewAI, A2A card)
    approved_scopes: list[str] = field(default_factory=list)
    workload_identity: str | None = None
    tools: list[Tool] = field(default_factory=list)
    credentials: list[str] = field(default_factory=list)
    last_reviewed: date | None = None
    source: str = ""
    sources: dict[str, str] = field(default_factory=dict)

    aliases: list[str] = field(default_factory=list)  # other ids of the same workload (identity resolution)
    # `path#L5-L12`: the lines of its own block in a shared config file (one MCP server among several), so a
    # literal there is attributed to this server, never its neighbours (scanner.analysis.linking, step 4).
    config_blocks: list[str] = field(default_factory=list)
    # `repo:path` of the files that declare it (an importer's MCP config, agents.yaml, manifest): where its
    # configs and paths are relative to, and whose owner it inherits; unlike `repos`, not a claim to own them.
    declared_in: list[str] = field(default_factory=list)

    @property
    def home_repos(self) -> list[str]:
        """Repositories its paths and configs are relative to: its own, and those of the files declaring it."""
        return self.repos + [d.split(":", 1)[0] for d in self.declared_in if ":" in d and d.split(":", 1)[0] not in self.repos]

    def block_lines(self, path: str) -> list[tuple[int, int]]:
        out = []
        for block in self.config_blocks:
            where, _, lines = block.rpartition("#L")
            if where and same_file(path, where) and "-L" in lines:
                a, b = lines.split("-L", 1)
                if a.isdigit() and b.isdigit():
                    out.append((int(a), int(b)))
        return out

    @property
    def orphaned(self) -> bool:
        """Owner null, deprecated or decommissioned; Inventory.orphaned also asks whether the owner is active."""
        return self.owner is None or self.lifecycle in INACTIVE_LIFECYCLES


@dataclass
class PathOwner:
    """One CODEOWNERS (or Backstage source-location) rule: in a repo, paths matching pattern belong to owners."""

    pattern: str
    owners: list[str]
    repo: str | None = None
    order: int = 0  # position in its file: the last matching rule wins
    source: str = ""


REPO_VISIBILITIES = ("public", "internal", "private")


@dataclass
class Repository:
    """A repository the organisation has: a public one makes every finding in it public (blast radius)."""

    name: str
    visibility: str = "private"
    default_branch: str = ""
    owner: str | None = None
    source: str = ""


@dataclass
class Inventory:
    owners: list[Owner] = field(default_factory=list)
    identities: list[Identity] = field(default_factory=list)
    credentials: list[Credential] = field(default_factory=list)
    path_owners: list[PathOwner] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # importer remarks (literal secrets seen, skipped entries)
    repos: list[Repository] = field(default_factory=list)

    @property
    def public_repos(self) -> frozenset[str]:
        return frozenset(r.name for r in self.repos if r.visibility == "public")

    def owner(self, oid: str | None) -> Owner | None:
        return next((o for o in self.owners if o.id == oid), None) if oid else None

    def identity(self, iid: str) -> Identity | None:
        return next((i for i in self.identities if i.id == iid), None)

    def credential(self, cid: str) -> Credential | None:
        return next((c for c in self.credentials if c.id == cid), None)

    def orphaned(self, ident: Identity) -> bool:
        """Owner null or inactive (a person who left, a reference to nobody), deprecated or decommissioned
        (tests/test_linking.py::test_an_owner_who_left_orphans_the_identity)."""
        if ident.orphaned:
            return True
        owner = self.owner(ident.owner)
        return owner is not None and not owner.active

    def is_member(self, who: str, group: str) -> bool:
        """`who` is `group`, or a member of it (directly or through nested groups)."""
        seen: set[str] = set()
        todo = [who]
        while todo:
            cur = todo.pop()
            if cur == group:
                return True
            if cur in seen:
                continue
            seen.add(cur)
            o = self.owner(cur)
            if o is not None:
                todo.extend(o.member_of)
            todo.extend(g.id for g in self.owners if cur in g.members)
        return False

    def holders(self, credential_id: str) -> list[Identity]:
        """Identities that declare this credential: more than one is reuse."""
        return [i for i in self.identities if credential_id in i.credentials]

    def path_owner(self, path: str, repo: str | None = None) -> PathOwner | None:
        """CODEOWNERS semantics: of the rules for this repo (or for any repo), the last one that matches wins."""
        best = None
        for rule in self.path_owners:
            if rule.repo and repo and rule.repo != repo:
                continue
            if codeowners_match(rule.pattern, path) and (best is None or rule.order >= best.order):
                best = rule
        return best


def same_file(found: str, declared: str) -> bool:
    """A finding's path is the declared repository-relative path, or ends with it (a scan given the repository
    by an absolute or parent path records `/abs/repo/.mcp.json` for `.mcp.json`)."""
    found, declared = _norm(found), _norm(declared)
    return found == declared or found.endswith("/" + declared)


def norm_path(path: str) -> str:
    """A relative path as the inventory compares it: forward slashes, no leading `./` or `/`."""
    return _norm(path)


def _norm(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def path_matches(path: str, glob: str) -> bool:
    """Glob match on a relative path; `**` spans folders and a bare file name matches at any depth."""
    path, glob = _norm(path), _norm(glob)
    if fnmatch.fnmatchcase(path, glob) or fnmatch.fnmatchcase(path, glob.replace("**/", "")):
        return True
    if "/" not in glob:
        return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], glob)
    return fnmatch.fnmatchcase(path, "*/" + glob)


@functools.lru_cache(maxsize=4096)
def _codeowners_regex(pattern: str) -> re.Pattern:
    folder = pattern.endswith("/")
    body = pattern.strip("/")
    anchored = "/" in body or pattern.startswith("/")
    out = []
    i = 0
    while i < len(body):
        if body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    last = body.rsplit("/", 1)[-1]
    # `docs/*` owns the files directly in docs, `docs/` and `docs` everything beneath it.
    tail = "/.*" if folder else ("" if "*" in last else "(?:/.*)?")
    return re.compile(("" if anchored else "(?:.*/)?") + "".join(out) + tail + r"\Z")


def codeowners_match(pattern: str, path: str) -> bool:
    """GitHub CODEOWNERS patterns (gitignore-like): `*` stays within a folder, `**` spans folders."""
    if pattern in ("*", "/*", "**", "/**"):
        return True
    return _codeowners_regex(pattern).match(_norm(path)) is not None

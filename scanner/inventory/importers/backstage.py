"""Backstage catalog-info.yaml: Components, Resources and APIs become identities, Groups and Users owners.

Mapping: Component of spec.type agent / ai-agent -> agent, mcp-server -> mcp_server, anything else ->
workload; API of spec.type mcp-server -> mcp_server (other APIs are not identities); Resource of
type service-account -> service_account, of type secret / credential / api-key -> a credential.
spec.owner, spec.lifecycle and these annotations carry the rest:
  github.com/project-slug               the repository
  backstage.io/source-location          the repository (url:...)
  secret-sprawl.io/environment          prod | staging | dev | local
  secret-sprawl.io/paths                comma-separated globs
  secret-sprawl.io/env-vars             comma-separated variable names of its credentials
  secret-sprawl.io/workload-identity    SPIFFE / OIDC / IRSA subject
  secret-sprawl.io/last-reviewed        YYYY-MM-DD
  secret-sprawl.io/key-id, secret-ref, ttl, scopes (on credential Resources)
"""
from __future__ import annotations

from datetime import date

from scanner.inventory.importers._common import environment_from, fact, owner_ref, slug
from scanner.inventory.loader import parse_yaml, strip_lines
from scanner.inventory.model import LIFECYCLES, Credential, Identity, Inventory, Owner, Tool

_A = "secret-sprawl.io/"
_COMPONENT_KINDS = {"agent": "agent", "ai-agent": "agent", "mcp-server": "mcp_server", "service": "workload",
                    "website": "workload", "ci-job": "ci_job", "integration": "app_integration"}
_CRED_TYPES = {"secret", "credential", "api-key", "token"}
_SA_TYPES = {"service-account", "serviceaccount", "iam-role", "workload-identity"}


def _csv(value) -> list[str]:
    if not value:
        return []
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _repo(ann: dict) -> str | None:
    if ann.get("github.com/project-slug"):
        return ann["github.com/project-slug"].rsplit("/", 1)[-1]
    loc = str(ann.get("backstage.io/source-location", "")).removeprefix("url:").rstrip("/")
    if "/tree/" in loc:
        loc = loc.split("/tree/", 1)[0]
    return loc.rsplit("/", 1)[-1].removesuffix(".git") or None


def read(text: str, name: str, repo: str | None = None) -> Inventory:
    inv = Inventory()
    docs = [strip_lines(d) for d in parse_yaml(text, name, all_documents=True)]
    # A catalog-info.yaml describing one component sits in that component's repository; a central catalog
    # (several components) says nothing about where each one lives beyond its annotations.
    components = sum(1 for d in docs if isinstance(d, dict) and d.get("kind") == "Component")
    home = repo if components == 1 else None
    for n, doc in enumerate(docs):
        if not isinstance(doc, dict):
            continue
        kind = str(doc.get("kind", ""))
        meta = doc.get("metadata") or {}
        spec = doc.get("spec") or {}
        ann = meta.get("annotations") or {}
        ename = meta.get("name")
        src = f"backstage:{repo + ':' if repo else ''}{name}#{n + 1}"
        if not ename:
            inv.notes.append(f"{src}: {kind} without metadata.name skipped")
            continue
        stype = str(spec.get("type", "")).lower()
        if kind == "Group":
            profile = spec.get("profile") or {}
            inv.owners.append(Owner(id=f"team:{slug(ename)}", type="team", name=profile.get("displayName", ""),
                                    contacts=[profile["email"]] if profile.get("email") else [], source=src,
                                    members=[o for o in (owner_ref(m, "user") for m in spec.get("members") or []) if o],
                                    member_of=[o for o in [owner_ref(spec.get("parent"))] if o]))
        elif kind == "User":
            profile = spec.get("profile") or {}
            inv.owners.append(Owner(id=f"user:{slug(ename)}", type="user", name=profile.get("displayName", ""),
                                    contacts=[profile["email"]] if profile.get("email") else [], source=src,
                                    member_of=[o for o in (owner_ref(g) for g in spec.get("memberOf") or []) if o]))
        elif kind == "Resource" and stype in _CRED_TYPES:
            cred = Credential(id=f"cred:{slug(ename)}", source=src)
            fact(cred, "provider", ann.get(_A + "provider", ""), src)
            fact(cred, "type", stype, src)
            fact(cred, "key_id", ann.get(_A + "key-id"), src)
            fact(cred, "secret_ref", ann.get(_A + "secret-ref"), src)
            fact(cred, "ttl", ann.get(_A + "ttl"), src)
            fact(cred, "env_vars", _csv(ann.get(_A + "env-vars")), src)
            fact(cred, "scopes", _csv(ann.get(_A + "scopes")), src)
            inv.credentials.append(cred)
            for dep in spec.get("dependencyOf") or []:
                _attach(inv, dep, cred.id, src)
        elif kind in ("Component", "API") or (kind == "Resource" and stype in _SA_TYPES):
            if kind == "API" and stype != "mcp-server":
                inv.notes.append(f"{src}: API {ename} of type {stype or '?'} is not an identity; skipped")
                continue
            ikind = ("service_account" if kind == "Resource" else
                     "mcp_server" if stype == "mcp-server" else _COMPONENT_KINDS.get(stype, "workload"))
            ident = Identity(id=f"{ikind}:{slug(ename)}", kind=ikind, source=src)
            fact(ident, "owner", owner_ref(spec.get("owner")), src)
            fact(ident, "purpose", meta.get("description") or meta.get("title") or "", src)
            if spec.get("lifecycle") in LIFECYCLES:
                fact(ident, "lifecycle", spec["lifecycle"], src)
            elif spec.get("lifecycle"):
                inv.notes.append(f"{src}: lifecycle {spec['lifecycle']!r} is not one the inventory knows; left out")
            env = ann.get(_A + "environment") or environment_from(*(meta.get("tags") or []))
            fact(ident, "environment", env, src)
            fact(ident, "repos", [r for r in [_repo(ann) or home] if r], src)
            if ann.get("backstage.io/kubernetes-id"):
                fact(ident, "aliases", [f"kubernetes-id:{ann['backstage.io/kubernetes-id']}"], src)
            fact(ident, "paths", _csv(ann.get(_A + "paths")), src)
            fact(ident, "workload_identity", ann.get(_A + "workload-identity"), src)
            if ann.get(_A + "last-reviewed"):
                try:
                    fact(ident, "last_reviewed", date.fromisoformat(str(ann[_A + "last-reviewed"])[:10]), src)
                except ValueError:
                    inv.notes.append(f"{src}: last-reviewed {ann[_A + 'last-reviewed']!r} is not a date")
            tools = [Tool(name=_ref_name(r), system=_ref_name(r), via="backstage")
                     for r in (spec.get("consumesApis") or []) + (spec.get("dependsOn") or [])]
            fact(ident, "tools", tools, src)
            env_vars = _csv(ann.get(_A + "env-vars"))
            if env_vars:
                cred = Credential(id=f"cred:{slug(ename)}-env", env_vars=env_vars, source=src)
                cred.sources["env_vars"] = src
                inv.credentials.append(cred)
                ident.credentials.append(cred.id)
                ident.sources["credentials"] = src
            inv.identities.append(ident)
        else:
            inv.notes.append(f"{src}: {kind} {ename} is not an identity, owner or credential; skipped")
    return inv


def _ref_name(ref: str) -> str:
    return str(ref).rsplit(":", 1)[-1].rsplit("/", 1)[-1]


def _attach(inv: Inventory, ref: str, cred_id: str, src: str) -> None:
    """A credential Resource `dependencyOf: component:x` belongs to that identity (resolved after the file)."""
    target = slug(_ref_name(ref))
    for ident in inv.identities:
        if ident.id.split(":", 1)[1] == target:
            ident.credentials.append(cred_id)
            return
    inv.notes.append(f"{src}: credential {cred_id} is a dependency of {ref}, which this file does not define")

"""A2A agent cards (/.well-known/agent-card.json, older agent.json), v1.0 and earlier field names.

v1.0 moved `url` / `preferredTransport` / `additionalInterfaces` into `supportedInterfaces`
(`url`, `protocolBinding`, `protocolVersion`), renamed `security` to `securityRequirements`, and
`supportsAuthenticatedExtendedCard` to `capabilities.extendedAgentCard`. Both are read.
"""
from __future__ import annotations

import json

from scanner.errors import SprawlError
from scanner.inventory.importers._common import fact, slug
from scanner.inventory.model import Credential, Identity, Inventory, Tool


def interfaces(card: dict) -> list[tuple[str, str]]:
    """(url, binding) for every endpoint, whichever version wrote the card."""
    out = []
    for i in card.get("supportedInterfaces") or []:
        if isinstance(i, dict) and i.get("url"):
            out.append((i["url"], i.get("protocolBinding") or i.get("transport") or ""))
    if card.get("url"):
        out.append((card["url"], card.get("preferredTransport") or "JSONRPC"))
    for i in card.get("additionalInterfaces") or []:
        if isinstance(i, dict) and i.get("url") and (i["url"], i.get("transport", "")) not in out:
            out.append((i["url"], i.get("transport") or ""))
    return out


def requirement_scopes(required: list) -> dict[str, list[str]]:
    """Scheme name -> required scopes, from either shape: v1.0 proto-JSON `{"schemes": {"oauth": {"list":
    ["read"]}}}` or the older `{"oauth": ["read"]}` (tests/test_importers.py::test_a2a_v1_proto_json_requirements)."""
    out: dict[str, list[str]] = {}
    for req in required:
        if not isinstance(req, dict):
            continue
        body = req["schemes"] if isinstance(req.get("schemes"), dict) else req
        for scheme, scopes in body.items():
            if isinstance(scopes, dict):  # a proto StringList
                scopes = scopes.get("list") or []
            out.setdefault(str(scheme), [])
            out[str(scheme)] += [str(x) for x in scopes or [] if str(x) not in out[str(scheme)]]
    return out


def read(text: str, name: str, repo: str | None = None) -> Inventory:
    try:
        card = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SprawlError(f"{name}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(card, dict) or not card.get("name"):
        raise SprawlError(f"{name}: an A2A agent card is a JSON object with a name")
    v1 = "supportedInterfaces" in card or "securityRequirements" in card
    src = f"a2a:{repo + ':' if repo else ''}{name}"
    inv = Inventory()
    ident = Identity(id=f"agent:{slug(card['name'])}", kind="agent", source=src)
    fact(ident, "declared_in", [f"{repo}:{name}"] if repo else [], src)
    fact(ident, "purpose", card.get("description", ""), src)
    fact(ident, "configs", [name], src)
    fact(ident, "tools", [Tool(name=str(s.get("id") or s.get("name")), system=str(s.get("name", "")), via="a2a")
                          for s in card.get("skills") or [] if isinstance(s, dict)], src)
    urls = interfaces(card)
    if any("localhost" in u or "127.0.0.1" in u for u, _ in urls):
        fact(ident, "environment", "local", src)
    schemes = card.get("securitySchemes") or {}
    required = card.get("securityRequirements") if v1 else card.get("security")
    scopes_of = requirement_scopes(required or [])
    used = set(scopes_of) or set(schemes)
    for scheme_name in sorted(used):
        scheme = schemes.get(scheme_name) or {}
        stype = scheme.get("type") or next(iter(scheme), "")  # v1.0 cards may nest by type: {"apiKeySecurityScheme": {...}}
        nested = scheme.get(stype)
        inner = nested if isinstance(nested, dict) else scheme
        cred = Credential(id=f"cred:{slug(card['name'])}:{slug(scheme_name)}", source=src)
        fact(cred, "type", str(stype), src)
        fact(cred, "provider", "a2a", src)
        if inner.get("name"):  # an apiKey scheme names the header or query parameter
            fact(cred, "env_vars", [inner["name"]], src)
        fact(cred, "scopes", scopes_of.get(scheme_name, []), src)
        inv.credentials.append(cred)
        ident.credentials.append(cred.id)
    if ident.credentials:
        ident.sources["credentials"] = src
    caps = card.get("capabilities") or {}
    extended = caps.get("extendedAgentCard") if v1 else card.get("supportsAuthenticatedExtendedCard")
    version = ("1.0" if v1 else str(card.get("protocolVersion") or "0.x"))
    inv.notes.append(f"{src}: A2A card (protocol {version}) at {', '.join(u for u, _ in urls) or 'no url'}"
                     + ("; serves an authenticated extended card" if extended else ""))
    inv.identities.append(ident)
    return inv

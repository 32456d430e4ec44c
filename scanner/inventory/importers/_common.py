"""Helpers the importers share: naming, owner references and recording facts with their source."""
from __future__ import annotations

import re

_ENV_WORDS = (("prod", "prod"), ("production", "prod"), ("prd", "prod"), ("staging", "staging"), ("stage", "staging"),
              ("stg", "staging"), ("dev", "dev"), ("development", "dev"), ("local", "local"))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", str(text).strip().lower()).strip("-") or "unnamed"


def owner_ref(ref: str | None, default_kind: str = "team") -> str | None:
    """Backstage `group:default/payments`, CODEOWNERS `@acme/payments` or `@alice`, plain `payments`."""
    if not ref:
        return None
    ref = str(ref).strip()
    if ref.startswith("@"):
        body = ref[1:]
        return f"team:{slug(body.split('/', 1)[1])}" if "/" in body else f"user:{slug(body)}"
    if "@" in ref:  # an e-mail address
        return f"user:{slug(ref.split('@', 1)[0])}"
    kind, _, name = ref.partition(":") if ":" in ref else (default_kind, "", ref)
    name = name.rsplit("/", 1)[-1]  # drop a Backstage namespace
    kind = {"group": "team", "team": "team", "user": "user"}.get(kind.lower(), "team")
    return f"{kind}:{slug(name)}"


def environment_from(*words: str | None) -> str | None:
    """An environment named by a namespace, label or tag: `payments-prod` -> prod."""
    for word in words:
        if not word:
            continue
        parts = re.split(r"[^a-z0-9]+", str(word).lower())
        for token, env in _ENV_WORDS:
            if token in parts:
                return env
    return None


def fact(entry, name: str, value, source: str) -> None:
    """Set a field the importer actually knows, and remember where it came from."""
    if value in (None, "", []):
        return
    setattr(entry, name, value)
    entry.sources[name] = source


def provider_from_var(var: str) -> str:
    head = re.split(r"[_\-]", var.lower(), maxsplit=1)[0]
    return head if head not in ("api", "secret", "token", "key", "auth", "authorization", "x") else ""

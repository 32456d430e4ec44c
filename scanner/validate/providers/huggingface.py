"""Hugging Face: `GET /api/whoami-v2` names the user, their orgs and the token's role (read, write,
fineGrained with per-entity permissions) and expiry.

Docs: https://huggingface.co/docs/hub/api#get-apiwhoami-v2,
https://huggingface.co/docs/huggingface.js/hub/interfaces/AuthInfo
"""

from __future__ import annotations

from typing import Any

from scanner.validate.base import dig, parse_time, text_at, texts_at, unexpected
from scanner.validate.result import (
    Candidate,
    Identity,
    ValidationResult,
    active,
    revoked,
)
from scanner.validate.session import ProviderSession

API = "https://huggingface.co"


def token_scopes(document: Any) -> tuple[str, ...]:
    """`role:read|write|fineGrained`, then `ENTITY:PERMISSION` for each fine-grained grant."""
    role = text_at(document, "auth.accessToken.role")
    scopes = [f"role:{role}"] if role else []
    for grant in dig(document, "auth.accessToken.fineGrained.scoped") or []:
        entity = text_at(grant, "entity.name") or text_at(grant, "entity.type") or "?"
        scopes += [f"{entity}:{permission}" for permission in texts_at(grant, "permissions")]
    scopes += [f"global:{p}" for p in texts_at(document, "auth.accessToken.fineGrained.global")]
    return tuple(scopes)


class WhoAmICheck:
    provider = "huggingface"
    rule_ids = ("huggingface-access-token", "huggingface-org-api-token")
    documented = (API,)

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        headers = {"Authorization": f"Bearer {candidate.secret}"}
        response, document = session.json("GET", session.base_url(API) + "/api/whoami-v2", headers=headers)
        if response.status == 401:
            return revoked(self.provider, "Hugging Face refused the token (401)")
        if response.status != 200 or not text_at(document, "name"):
            raise unexpected(response)
        orgs = texts_at(document, "orgs", "name")
        return active(
            self.provider,
            identity=Identity(user=text_at(document, "name"), org=orgs[0] if len(orgs) == 1 else None),
            scopes=token_scopes(document),
            resources=tuple(f"org:{o}" for o in orgs),
            expires_at=parse_time(text_at(document, "auth.expiresAt") or text_at(document, "auth.accessToken.expiration")),
        )


VALIDATORS = [WhoAmICheck()]

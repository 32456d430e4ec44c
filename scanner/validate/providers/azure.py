"""Azure service principals: the client-credentials grant at the tenant's token endpoint, for the client id
and tenant id found beside the secret. The token obtained is read only for its claims (app roles, tenant,
object id, expiry) and never stored.

Docs: https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow,
https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

from scanner.validate.base import dig, parse_time, text_at, texts_at, unexpected
from scanner.validate.result import (
    Candidate,
    Identity,
    ValidationResult,
    active,
    revoked,
)
from scanner.validate.session import ProviderSession, Unusable

LOGIN = "https://login.microsoftonline.com"
SCOPE = "https://management.azure.com/.default"
DEAD_ERROR_CODES = {
    7000215: "invalid client secret",
    7000222: "the client secret has expired",
    700016: "the application is not found in the tenant",
    700023: "the application is disabled",
    7000112: "the application is disabled",
}


def claims_of(jwt: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (it came straight from the issuer over verified TLS)."""
    try:
        payload = jwt.split(".")[1]
        document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


class ClientSecretCheck:
    provider = "azure"
    rule_ids = ("azure-ad-client-secret", "azure-client-secret-assignment")
    documented = (LOGIN,)

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        tenant, client = candidate.group("tenant_id"), candidate.group("client_id")
        if not tenant or not client:
            raise Unusable("needs the tenant id and client id found beside the secret; they were not")
        form = urlencode({"client_id": client, "client_secret": candidate.secret, "scope": SCOPE,
                          "grant_type": "client_credentials"}).encode()
        response, answer = session.json(
            "POST", f"{session.base_url(LOGIN)}/{tenant}/oauth2/v2.0/token",
            headers={"Content-Type": "application/x-www-form-urlencoded"}, body=form,
        )
        codes = [c for c in (dig(answer, "error_codes") or []) if isinstance(c, int)]
        dead = [DEAD_ERROR_CODES[c] for c in codes if c in DEAD_ERROR_CODES]
        if dead:
            return revoked(self.provider, f"Entra ID refused the secret: {dead[0]} (AADSTS{codes[0]})")
        token = text_at(answer, "access_token")
        if response.status != 200 or not token:
            raise unexpected(response)
        session.also_secret(token)
        claims = claims_of(token)
        return active(
            self.provider,
            identity=Identity(account=text_at(claims, "tid") or tenant, user=text_at(claims, "appid") or client,
                              project=text_at(claims, "oid")),
            scopes=tuple(f"role:{r}" for r in texts_at(claims, "roles")),
            expires_at=parse_time(claims.get("exp")),
        )


VALIDATORS = [ClientSecretCheck()]

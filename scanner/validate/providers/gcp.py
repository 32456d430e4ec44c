"""GCP service-account keys: an RS256-signed JWT exchanged at the token endpoint (a deleted or disabled key is
refused with `invalid_grant`), then tokeninfo for the token's scope and lifetime, then the project's
`testIamPermissions` for what the service account may do there. The access token obtained is never stored.

The key comes as the key file's JSON (`secret`) or as paired values (`private_key`, `client_email`,
`private_key_id`, `project_id`). The key file's own `token_uri` is ignored: only Google's documented endpoint
(or --endpoint gcp=URL) receives the assertion.
Docs: https://developers.google.com/identity/protocols/oauth2/service-account#httprest,
https://cloud.google.com/resource-manager/reference/rest/v1/projects/testIamPermissions
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from scanner.validate.base import parse_time, text_at, texts_at
from scanner.validate.result import (
    Candidate,
    ProviderIdentity,
    ValidationResult,
    active,
    revoked,
)
from scanner.validate.session import ProviderSession, Unusable

OAUTH = "https://oauth2.googleapis.com"
CRM = "https://cloudresourcemanager.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
PROBED_PERMISSIONS = (
    "resourcemanager.projects.get",
    "resourcemanager.projects.setIamPolicy",
    "iam.serviceAccountKeys.create",
    "iam.serviceAccounts.actAs",
    "iam.roles.create",
    "compute.instances.list",
    "compute.instances.create",
    "storage.buckets.list",
    "storage.buckets.create",
    "secretmanager.versions.access",
    "bigquery.datasets.get",
    "bigquery.datasets.create",
    "cloudfunctions.functions.create",
    "run.services.create",
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_of(candidate: Candidate) -> dict[str, str]:
    """The key file's fields, from the secret (the JSON) or the paired values: the key-file rule's secret is the
    private key as the JSON holds it (newlines escaped), its identity the captured groups."""
    try:
        document = json.loads(candidate.secret)
    except ValueError:
        document = None
    source: dict[str, Any] = document if isinstance(document, dict) else dict(candidate.groups)
    if not isinstance(document, dict) and candidate.secret.startswith("-----BEGIN"):
        source["private_key"] = candidate.secret.replace("\\n", "\n") + "\n"
    key = {name: str(source.get(name) or "") for name in ("private_key", "client_email", "private_key_id",
                                                           "project_id")}
    if not key["private_key"] or not key["client_email"]:
        raise Unusable("needs the key file's private_key and client_email; they were not found together")
    return key


def signed_assertion(key: dict[str, str], now: float) -> str:
    """The RS256 JWT Google's token endpoint takes for a service account (`cryptography` signs it)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    private = serialization.load_pem_private_key(key["private_key"].encode(), password=None)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise Unusable("the service-account key is not an RSA key")
    header = {"alg": "RS256", "typ": "JWT", **({"kid": key["private_key_id"]} if key["private_key_id"] else {})}
    claims = {"iss": key["client_email"], "scope": SCOPE, "aud": f"{OAUTH}/token", "iat": int(now),
              "exp": int(now) + 600}
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


class ServiceAccountKeyCheck:
    provider = "gcp"
    rule_ids = ("gcp-service-account-key-file",)
    documented = (OAUTH, CRM)

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        key = key_of(candidate)
        session.also_secret(key["private_key"])
        assertion = signed_assertion(key, self.now())
        session.also_secret(assertion)
        form = urlencode({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})
        response, answer = session.json(
            "POST", session.base_url(OAUTH) + "/token",
            headers={"Content-Type": "application/x-www-form-urlencoded"}, body=form.encode(),
        )
        error = text_at(answer, "error")
        if error in {"invalid_grant", "invalid_client"}:
            detail = text_at(answer, "error_description") or error
            return revoked(self.provider, f"Google refused the key: {detail}")
        token = text_at(answer, "access_token")
        if response.status != 200 or not token:
            raise Unusable(f"unexpected answer ({response.status}) from the token endpoint")
        session.also_secret(token)
        info = self._tokeninfo(session, token)
        granted = self._granted(session, token, key["project_id"]) if key["project_id"] else ()
        return active(
            self.provider,
            f"key {key['private_key_id'][:8] or '?'}… of {key['client_email']} accepted",
            identity=ProviderIdentity(user=key["client_email"], project=key["project_id"] or None,
                              account=text_at(info, "azp")),
            scopes=tuple(f"permission:{p}" for p in granted) + tuple((text_at(info, "scope") or "").split()),
            resources=(f"projects/{key['project_id']}",) if key["project_id"] else (),
            expires_at=parse_time(int(info["exp"])) if isinstance(info, dict) and str(info.get("exp", "")).isdigit()
            else None,
        )

    def _tokeninfo(self, session: ProviderSession, token: str) -> Any:
        response = session.request(
            "POST", session.base_url(OAUTH) + "/tokeninfo",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=urlencode({"access_token": token}).encode(), screen=False,
        )
        try:
            return json.loads(response.body) if response.status == 200 else None
        except ValueError:
            return None

    def _granted(self, session: ProviderSession, token: str, project: str) -> tuple[str, ...]:
        """The probed permissions the service account holds on its project (testIamPermissions)."""
        body = json.dumps({"permissions": list(PROBED_PERMISSIONS)}).encode()
        response = session.request(
            "POST", f"{session.base_url(CRM)}/v1/projects/{project}:testIamPermissions",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, body=body,
            screen=False,
        )
        if response.status != 200:
            return ()
        try:
            return texts_at(json.loads(response.body), "permissions")
        except ValueError:
            return ()


VALIDATORS = [ServiceAccountKeyCheck()]

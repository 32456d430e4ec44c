"""Cloudflare: verify the API token (status, expiry); the global key needs its account email.

Docs: https://developers.cloudflare.com/api/resources/user/subresources/tokens/methods/verify/,
https://developers.cloudflare.com/fundamentals/api/get-started/keys/
"""

from typing import Any

from scanner.validate.base import HttpCheck
from scanner.validate.result import Candidate
from scanner.validate.session import Unusable

API = "https://api.cloudflare.com"


def _token_state(document: Any) -> bool | None:
    if not isinstance(document, dict) or document.get("success") is not True:
        return None
    status = str((document.get("result") or {}).get("status"))
    return {"active": True, "disabled": False, "expired": False}.get(status)


def _global_key(candidate: Candidate) -> dict[str, str]:
    email = candidate.group("email", "username")
    if not email:
        raise Unusable("a global API key needs its account email, and none was found beside it")
    return {"X-Auth-Email": email, "X-Auth-Key": candidate.secret}


API_TOKEN = HttpCheck(
    provider="cloudflare",
    rule_ids=("cloudflare-api-token", "cloudflare-prefixed-token"),
    base=API,
    path="/client/v4/user/tokens/verify",
    revoked_statuses=frozenset({401, 403}),
    accepted=_token_state,
    identity={"account": "result.id"},
    expires_path="result.expires_on",
)

GLOBAL_KEY = HttpCheck(
    provider="cloudflare",
    rule_ids=("cloudflare-global-api-key",),
    base=API,
    path="/client/v4/user",
    auth=_global_key,
    revoked_statuses=frozenset({400, 401, 403}),
    identity={"user": "result.email", "account": "result.id"},
)

VALIDATORS = [API_TOKEN, GLOBAL_KEY]

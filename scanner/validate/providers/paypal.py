"""PayPal: the client-credentials grant for a client id and secret; the answer's `scope`, `app_id` and
`expires_in` are kept, the access token it returns is discarded unread.

Docs: https://developer.paypal.com/api/rest/authentication/
"""

from __future__ import annotations

import base64

from scanner.validate.base import text_at, unexpected
from scanner.validate.result import (
    Candidate,
    Identity,
    ValidationResult,
    active,
    revoked,
)
from scanner.validate.session import ProviderSession, Unusable

LIVE = "https://api-m.paypal.com"
SANDBOX = "https://api-m.sandbox.paypal.com"


class ClientCredentialsCheck:
    provider = "paypal"
    rule_ids = ("paypal-client-secret",)
    documented = (LIVE, SANDBOX)

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        client_id = candidate.group("client_id")
        if not client_id:
            raise Unusable("needs the PayPal client id found beside the secret; none was")
        pair = base64.b64encode(f"{client_id}:{candidate.secret}".encode()).decode()
        response, document = session.json(
            "POST",
            session.base_url(LIVE) + "/v1/oauth2/token",
            headers={"Authorization": f"Basic {pair}", "Content-Type": "application/x-www-form-urlencoded"},
            body=b"grant_type=client_credentials",
        )
        if response.status == 401 or text_at(document, "error") == "invalid_client":
            return revoked(self.provider, "PayPal refused the client credentials")
        if response.status != 200 or not text_at(document, "access_token"):
            raise unexpected(response)
        scopes = tuple((text_at(document, "scope") or "").split())
        return active(self.provider, identity=Identity(account=text_at(document, "app_id")), scopes=scopes)


VALIDATORS = [ClientCredentialsCheck()]

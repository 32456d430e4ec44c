"""Stripe: the key's type from its prefix, liveness from `GET /v1/balance`, and for a restricted key the
read permissions it holds, probed with one-item GETs (a 403 `permission_error` means "not granted").

Docs: https://docs.stripe.com/keys#limit-access, https://docs.stripe.com/api/balance/balance_retrieve,
https://docs.stripe.com/error-handling (403: the key lacks the permission), https://docs.stripe.com/api/authentication
"""

from __future__ import annotations

from scanner.validate.base import dig, text_at, unexpected
from scanner.validate.result import (
    Candidate,
    Identity,
    ValidationResult,
    active,
    revoked,
)
from scanner.validate.session import ProviderSession, parse_json

API = "https://api.stripe.com"
PROBES = {
    "rak_balance_read": "/v1/balance",
    "rak_charge_read": "/v1/charges?limit=1",
    "rak_customer_read": "/v1/customers?limit=1",
    "rak_payout_read": "/v1/payouts?limit=1",
    "rak_subscription_read": "/v1/subscriptions?limit=1",
}


def key_type(secret: str) -> str:
    """secret | restricted, live | test, from the documented prefixes."""
    kind = "restricted" if secret.startswith("rk_") else "secret"
    mode = "test" if "_test_" in secret[:8] else "live"
    return f"{kind}-{mode}"


class KeyCheck:
    provider = "stripe"
    rule_ids = ("stripe-live-secret-key", "stripe-test-secret-key", "stripe-live-restricted-key",
                "stripe-test-restricted-key")
    documented = (API,)

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        kind = key_type(candidate.secret)
        headers = {"Authorization": f"Bearer {candidate.secret}"}
        granted: list[str] = []
        for permission, path in PROBES.items():
            response = session.request("GET", session.base_url(API) + path, headers=headers)
            if response.status == 401:
                return revoked(self.provider, "Stripe refused the key (401): rolled, deleted or mistyped")
            if response.status == 200:
                if not text_at(parse_json(response), "object"):
                    raise unexpected(response)  # every Stripe object names its type
                granted.append(permission)
            elif response.status != 403 or not isinstance(dig(parse_json(response), "error"), dict):
                raise unexpected(response)
            if kind.startswith("secret"):
                break  # a secret key holds every permission; one answer proves it live
        scopes = ("*",) if kind.startswith("secret") and granted else tuple(granted)
        reason = f"live {kind} key" + ("" if granted else ", no probed read permission granted (403)")
        return active(self.provider, reason, identity=Identity(account=kind), scopes=scopes)


VALIDATORS = [KeyCheck()]

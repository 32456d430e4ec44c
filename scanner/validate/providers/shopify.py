"""Shopify: the access scopes of an Admin API token, on the shop found beside it (`shop`: NAME.myshopify.com).

Docs: https://shopify.dev/docs/api/admin-rest/latest/resources/accessscope
"""

from __future__ import annotations

from scanner.validate.base import HttpCheck, header
from scanner.validate.result import Candidate, Identity, ValidationResult
from scanner.validate.session import ProviderSession, Unusable

DOCUMENTED = "https://*.myshopify.com"

SCOPES = HttpCheck(
    provider="shopify",
    rule_ids=(),
    base=DOCUMENTED,
    path="/admin/oauth/access_scopes.json",
    expect_path="access_scopes",
    auth=header("X-Shopify-Access-Token"),
    revoked_statuses=frozenset({401}),
    insufficient_statuses=frozenset({403}),
    scopes_path="access_scopes",
    scopes_key="handle",
)


class AdminTokenCheck:
    provider = "shopify"
    rule_ids = ("shopify-access-token", "shopify-custom-app-access-token", "shopify-private-app-password")
    documented = (DOCUMENTED,)

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        shop = (candidate.group("shop", "site") or "").removeprefix("https://").strip("/").lower()
        if not shop.endswith(".myshopify.com"):
            raise Unusable("needs the shop's NAME.myshopify.com domain found beside the token; none was")
        base = session.base_url(f"https://{shop}")
        response = session.request("GET", base + SCOPES.path, headers={"X-Shopify-Access-Token": candidate.secret})
        result = SCOPES.read(response)
        from dataclasses import replace

        return replace(result, identity=Identity(org=shop))


VALIDATORS = [AdminTokenCheck()]

"""Square: the merchant of the access token. Docs:
https://developer.squareup.com/reference/square/merchants-api/retrieve-merchant (merchant id `me`)
"""

from scanner.validate.base import HttpCheck

VALIDATORS = [
    HttpCheck(
        provider="square",
        rule_ids=("square-access-token", "square-production-access-token"),
        base="https://connect.squareup.com",
        path="/v2/merchants/me",
        expect_path="merchant",
        extra_headers={"Square-Version": "2025-01-23"},
        insufficient_statuses=frozenset({403}),
        identity={"account": "merchant.id", "org": "merchant.business_name"},
        extra_documented=("https://connect.squareupsandbox.com",),
    )
]

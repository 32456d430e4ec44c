"""Mailgun: list domains with HTTP Basic `api:KEY` (US host; EU via --endpoint mailgun=https://api.eu.mailgun.net).

Docs: https://documentation.mailgun.com/docs/mailgun/api-reference/authentication/,
https://documentation.mailgun.com/docs/mailgun/api-reference/openapi-final/tag/Domains/
"""

from scanner.validate.base import HttpCheck, basic

VALIDATORS = [
    HttpCheck(
        provider="mailgun",
        rule_ids=("mailgun-private-api-key", "mailgun-api-key-context"),
        base="https://api.mailgun.net",
        path="/v4/domains?limit=20",
        expect_path="items",
        auth=basic("api"),
        revoked_statuses=frozenset({401}),
        insufficient_statuses=frozenset({403}),
        resources_path="items",
        resources_key="name",
        extra_documented=("https://api.eu.mailgun.net",),
    )
]

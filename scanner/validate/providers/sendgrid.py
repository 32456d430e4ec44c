"""SendGrid: the scopes the key holds (GET /v3/scopes). Docs:
https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions/retrieve-a-list-of-scopes-for-which-this-user-has-access
"""

from scanner.validate.base import HttpCheck

VALIDATORS = [
    HttpCheck(
        provider="sendgrid",
        rule_ids=("sendgrid-api-key",),
        base="https://api.sendgrid.com",
        path="/v3/scopes",
        expect_path="scopes",
        revoked_statuses=frozenset({401}),
        insufficient_statuses=frozenset({403}),
        scopes_path="scopes",
    )
]

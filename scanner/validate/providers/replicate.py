"""Replicate: the account the token belongs to. Docs: https://replicate.com/docs/reference/http#account.get"""

from scanner.validate.base import HttpCheck

VALIDATORS = [
    HttpCheck(
        provider="replicate",
        rule_ids=("replicate-api-token",),
        base="https://api.replicate.com",
        path="/v1/account",
        expect_path="username",
        identity={"user": "username", "account": "type"},
    )
]

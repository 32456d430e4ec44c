"""Bitbucket Cloud: `GET /2.0/user` with HTTP Basic `username:app_password`; scopes in `X-OAuth-Scopes`.

Docs: https://developer.atlassian.com/cloud/bitbucket/rest/api-group-users/#api-user-get,
https://developer.atlassian.com/cloud/bitbucket/rest/intro/#app-passwords
"""

from scanner.validate.base import HttpCheck, basic

VALIDATORS = [
    HttpCheck(
        provider="bitbucket",
        rule_ids=("bitbucket-app-password",),
        base="https://api.bitbucket.org",
        path="/2.0/user",
        expect_path="uuid",
        auth=basic(lambda c: c.group("username")),
        revoked_statuses=frozenset({401}),
        insufficient_statuses=frozenset({403}),
        identity={"user": "username", "account": "uuid"},
        scopes_header="X-OAuth-Scopes",
    )
]

"""PagerDuty: the account's abilities for a REST API key. Docs: https://developer.pagerduty.com/api-reference/
(List abilities: GET /abilities, `Authorization: Token token=KEY`)
"""

from scanner.validate.base import HttpCheck, header

VALIDATORS = [
    HttpCheck(
        provider="pagerduty",
        rule_ids=("pagerduty-api-key",),
        base="https://api.pagerduty.com",
        path="/abilities",
        expect_path="abilities",
        auth=header("Authorization", "Token token="),
        extra_headers={"Accept": "application/vnd.pagerduty+json;version=2"},
        revoked_statuses=frozenset({401}),
        insufficient_statuses=frozenset({403}),
        scopes_path="abilities",
    )
]

"""New Relic: a user API key asks NerdGraph who it is (`{ actor { user { name email } } }`, a read of the
caller only). Docs: https://docs.newrelic.com/docs/apis/nerdgraph/get-started/introduction-new-relic-nerdgraph/
"""

from __future__ import annotations

import json
from typing import Any

from scanner.validate.base import HttpCheck, header

QUERY = json.dumps({"query": "{ actor { user { name email id } } }"}).encode()


def _has_user(document: Any) -> bool | None:
    if isinstance(document, dict) and (((document.get("data") or {}).get("actor") or {}).get("user")):
        return True
    return None


VALIDATORS = [
    HttpCheck(
        provider="newrelic",
        rule_ids=("newrelic-user-api-key",),
        base="https://api.newrelic.com",
        path="/graphql",
        method="POST",
        body=QUERY,
        auth=header("API-Key"),
        revoked_statuses=frozenset({401, 403}),
        accepted=_has_user,
        identity={"user": "data.actor.user.email", "account": "data.actor.user.id"},
        extra_documented=("https://api.eu.newrelic.com",),
    )
]

"""Linear: the viewer of a personal API key (GraphQL, the key as the bare Authorization value).

Docs: https://linear.app/developers/graphql#authentication
"""

from __future__ import annotations

import json
from typing import Any

from scanner.validate.base import HttpCheck, header

QUERY = json.dumps({"query": "{ viewer { id email organization { name urlKey } } }"}).encode()


def _viewer(document: Any) -> bool | None:
    if not isinstance(document, dict):
        return None
    if ((document.get("data") or {}).get("viewer")) is not None:
        return True
    codes = {str((e.get("extensions") or {}).get("code")) for e in document.get("errors") or [] if isinstance(e, dict)}
    return False if "AUTHENTICATION_ERROR" in codes else None


VALIDATORS = [
    HttpCheck(
        provider="linear",
        rule_ids=("linear-api-key",),
        base="https://api.linear.app",
        path="/graphql",
        method="POST",
        body=QUERY,
        auth=header("Authorization"),
        active_statuses=frozenset({200, 400}),
        revoked_statuses=frozenset({401}),
        accepted=_viewer,
        identity={"user": "data.viewer.email", "account": "data.viewer.id", "org": "data.viewer.organization.name"},
    )
]

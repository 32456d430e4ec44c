"""Cohere: POST /v1/check-api-key answers {"valid": bool, "organization_id", "owner_id"}.

Docs: https://docs.cohere.com/reference/check-api-key
"""

from typing import Any

from scanner.validate.base import HttpCheck


def _valid(document: Any) -> bool | None:
    value = document.get("valid") if isinstance(document, dict) else None
    return value if isinstance(value, bool) else None


VALIDATORS = [
    HttpCheck(
        provider="cohere",
        rule_ids=("cohere-api-key",),
        base="https://api.cohere.com",
        path="/v1/check-api-key",
        method="POST",
        body=b"{}",
        accepted=_valid,
        identity={"org": "organization_id", "user": "owner_id"},
    )
]

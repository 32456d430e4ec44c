"""Datadog: validate an API key (`GET /api/v1/validate`, `DD-API-KEY`) on its site (US1 by default; the
`site` found beside it, e.g. datadoghq.eu, selects another documented site).

Docs: https://docs.datadoghq.com/api/latest/authentication/#validate-api-key
"""

from __future__ import annotations

from typing import Any

from scanner.validate.base import HttpCheck, header
from scanner.validate.result import Candidate, ValidationResult
from scanner.validate.session import ProviderSession

SITES = ("datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "datadoghq.eu", "ap1.datadoghq.com",
         "ap2.datadoghq.com", "ddog-gov.com")
DOCUMENTED = tuple(f"https://api.{site}" for site in SITES)


def _valid(document: Any) -> bool | None:
    return True if isinstance(document, dict) and document.get("valid") is True else None


VALIDATE = HttpCheck(
    provider="datadog",
    rule_ids=(),
    base=DOCUMENTED[0],
    path="/api/v1/validate",
    auth=header("DD-API-KEY"),
    revoked_statuses=frozenset({401, 403}),
    accepted=_valid,
)


class ApiKeyCheck:
    provider = "datadog"
    rule_ids = ("datadog-api-key",)
    documented = DOCUMENTED

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        site = (candidate.group("site") or SITES[0]).removeprefix("https://").removeprefix("api.")
        base = f"https://api.{site}" if site in SITES else DOCUMENTED[0]
        url = session.base_url(base) + VALIDATE.path
        return VALIDATE.read(session.request("GET", url, headers={"DD-API-KEY": candidate.secret}))


VALIDATORS = [ApiKeyCheck()]

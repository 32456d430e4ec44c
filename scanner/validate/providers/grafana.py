"""Grafana: a service account token (`glsa_`) or API key asks its instance for its organization
(`GET /api/org`); the instance is the `url` found beside it (NAME.grafana.net) or --endpoint grafana=URL.

Docs: https://grafana.com/docs/grafana/latest/developers/http_api/org/#get-current-organization,
https://grafana.com/docs/grafana/latest/developers/http_api/auth/
"""

from __future__ import annotations

from scanner.validate.base import HttpCheck
from scanner.validate.result import Candidate, ValidationResult
from scanner.validate.session import ProviderSession, Unusable

DOCUMENTED = "https://*.grafana.net"

ORG = HttpCheck(
    provider="grafana",
    rule_ids=(),
    base=DOCUMENTED,
    path="/api/org",
    expect_path="id",
    revoked_statuses=frozenset({401}),
    insufficient_statuses=frozenset({403}),
    identity={"org": "name", "account": "id"},
)


class InstanceTokenCheck:
    provider = "grafana"
    rule_ids = ("grafana-service-account-token", "grafana-api-key", "grafana-api-key-context")
    documented = (DOCUMENTED,)

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        instance = (candidate.group("url", "site") or "").removeprefix("https://").strip("/").lower()
        if session.client.policy.is_configured(self.provider):
            base = session.base_url(DOCUMENTED)
        elif instance.endswith(".grafana.net"):
            base = f"https://{instance}"
        else:
            raise Unusable("needs the Grafana instance (NAME.grafana.net or --endpoint grafana=URL); none was found")
        url = base + ORG.path
        return ORG.read(session.request("GET", url, headers={"Authorization": f"Bearer {candidate.secret}"}))


VALIDATORS = [InstanceTokenCheck()]

"""Google AI (Gemini API) keys: list models with the key in `x-goog-api-key` (never in the URL).
A 400 `API_KEY_INVALID` is a dead key; a 403 (API not enabled, key restricted to other APIs) is a live key
that cannot reach Gemini.

Docs: https://ai.google.dev/api/models#method:-models.list, https://ai.google.dev/gemini-api/docs/troubleshooting
"""

from __future__ import annotations

from scanner.validate.base import HttpCheck, dig
from scanner.validate.result import Candidate, ValidationResult, active, revoked
from scanner.validate.session import ProviderSession, parse_json

API = "https://generativelanguage.googleapis.com"

MODELS = HttpCheck(
    provider="gcp",
    rule_ids=(),
    base=API,
    path="/v1beta/models?pageSize=1",
    expect_path="models",
    resources_path="models",
    resources_key="name",
)


class ApiKeyCheck:
    provider = "gcp"
    rule_ids = ("gcp-api-key", "gcp-gemini-auth-key")
    documented = (API,)

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        response = session.request(
            "GET", session.base_url(API) + MODELS.path, headers={"x-goog-api-key": candidate.secret}
        )
        if response.status in (400, 403):
            document = parse_json(response)
            reasons = {str(dig(d, "reason")) for d in dig(document, "error.details") or [] if isinstance(d, dict)}
            if "API_KEY_INVALID" in reasons or (response.status == 400 and "API key not valid" in response.text()):
                return revoked(self.provider, "Google says the API key is not valid")
            if response.status == 403:
                return active(self.provider, "live key, but it cannot reach the Gemini API (403: " +
                              (", ".join(sorted(reasons - {"None"})) or "permission denied") + ")")
        return MODELS.read(response)


VALIDATORS = [ApiKeyCheck()]

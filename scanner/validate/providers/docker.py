"""Docker Hub: exchange a personal or organization access token for a short-lived JWT (`POST /v2/auth/token`,
identifier = the user or organization name found beside it); the JWT is discarded unread.

Docs: https://docs.docker.com/reference/api/hub/latest/operations/AuthCreateAccessToken
"""

from __future__ import annotations

import json

from scanner.validate.base import text_at, unexpected
from scanner.validate.result import (
    Candidate,
    Identity,
    ValidationResult,
    active,
    revoked,
)
from scanner.validate.session import ProviderSession, Unusable

API = "https://hub.docker.com"


class AccessTokenCheck:
    provider = "docker"
    rule_ids = ("docker-hub-personal-access-token", "docker-hub-organization-access-token")
    documented = (API,)

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        identifier = candidate.group("username", "org")
        if not identifier:
            raise Unusable("needs the Docker Hub user or organization name found beside the token; none was")
        body = json.dumps({"identifier": identifier, "secret": candidate.secret}).encode()
        response, document = session.json(
            "POST", session.base_url(API) + "/v2/auth/token", headers={"Content-Type": "application/json"}, body=body
        )
        if response.status == 401:
            return revoked(self.provider, "Docker Hub refused the token (401)")
        if response.status != 200 or not text_at(document, "access_token"):
            raise unexpected(response)
        return active(self.provider, identity=Identity(user=identifier))


VALIDATORS = [AccessTokenCheck()]

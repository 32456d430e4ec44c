"""Atlassian: `GET /rest/api/3/myself` on the site found beside the token (`site`: NAME.atlassian.net), with
HTTP Basic `email:token` (the account email found beside it).

Docs: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/#api-rest-api-3-myself-get,
https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
"""

from __future__ import annotations

import base64

from scanner.validate.base import HttpCheck
from scanner.validate.result import Candidate, ValidationResult
from scanner.validate.session import ProviderSession, Unusable

DOCUMENTED = "https://*.atlassian.net"

MYSELF = HttpCheck(
    provider="atlassian",
    rule_ids=(),
    base=DOCUMENTED,
    path="/rest/api/3/myself",
    expect_path="accountId",
    revoked_statuses=frozenset({401}),
    identity={"user": "emailAddress", "account": "accountId"},
)


class ApiTokenCheck:
    provider = "atlassian"
    rule_ids = ("atlassian-api-token", "atlassian-legacy-api-token")
    documented = (DOCUMENTED,)

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        site = (candidate.group("site") or "").removeprefix("https://").strip("/").lower()
        email = candidate.group("email", "username")
        if not site.endswith(".atlassian.net") or not email:
            raise Unusable("needs the NAME.atlassian.net site and the account email found beside it; none was")
        pair = base64.b64encode(f"{email}:{candidate.secret}".encode()).decode()
        url = session.base_url(f"https://{site}") + MYSELF.path
        return MYSELF.read(session.request("GET", url, headers={"Authorization": f"Basic {pair}"}))


VALIDATORS = [ApiTokenCheck()]

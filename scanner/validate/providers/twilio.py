"""Twilio: fetch the account with HTTP Basic (Account SID or API key SID as the user).

An auth token needs the Account SID found beside it (`account_sid`); an API key SID (`SK...`) needs its secret
(`api_key_secret`) and the Account SID. Docs: https://www.twilio.com/docs/iam/api/account#fetch-an-account-resource,
https://www.twilio.com/docs/usage/requests-to-twilio#http-basic-authentication
"""

from __future__ import annotations

import base64

from scanner.validate.base import HttpCheck
from scanner.validate.result import Candidate, ValidationResult
from scanner.validate.session import ProviderSession, Unusable

API = "https://api.twilio.com"

ACCOUNT = HttpCheck(
    provider="twilio",
    rule_ids=(),
    base=API,
    path="",
    expect_path="sid",
    insufficient_statuses=frozenset({403}),
    identity={"account": "sid", "org": "friendly_name"},
)


class AccountCheck:
    provider = "twilio"
    rule_ids = ("twilio-auth-token", "twilio-api-key")
    documented = (API,)

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        account = candidate.group("account_sid")
        user: str | None
        password: str | None
        if candidate.secret.startswith("SK"):
            user, password = candidate.secret, candidate.group("api_key_secret")
        else:
            user, password = account, candidate.secret
        if not account or not user or not password:
            raise Unusable("needs the Account SID (and, for an API key, its secret) found beside it; none was")
        session.also_secret(password)
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        url = f"{session.base_url(API)}/2010-04-01/Accounts/{account}.json"
        return ACCOUNT.read(session.request("GET", url, headers={"Authorization": f"Basic {token}"}))


VALIDATORS = [AccountCheck()]

"""Telegram: `getMe` for a bot token (the token travels in the path; it is masked in what is recorded).

Docs: https://core.telegram.org/bots/api#getme, https://core.telegram.org/bots/api#making-requests
"""

from __future__ import annotations

from typing import Any

from scanner.validate.base import HttpCheck
from scanner.validate.result import Candidate, ValidationResult
from scanner.validate.session import ProviderSession

API = "https://api.telegram.org"


def _ok(document: Any) -> bool | None:
    return True if isinstance(document, dict) and document.get("ok") is True else None


GET_ME = HttpCheck(
    provider="telegram",
    rule_ids=(),
    base=API,
    path="",
    revoked_statuses=frozenset({401, 404}),
    accepted=_ok,
    identity={"user": "result.username", "account": "result.id"},
)


class BotTokenCheck:
    provider = "telegram"
    rule_ids = ("telegram-bot-token", "telegram-bot-token-context")
    documented = (API,)

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        url = f"{session.base_url(API)}/bot{candidate.secret}/getMe"
        return GET_ME.read(session.request("GET", url))


VALIDATORS = [BotTokenCheck()]

"""Slack: `auth.test` for bot, user and app-level tokens (scopes in `x-oauth-scopes`); incoming webhooks are
checked without posting: an empty JSON object is refused by a live webhook with `no_text`/`invalid_payload`
and never posted, while a dead one answers `no_service`, `invalid_token` or `channel_is_archived`.

Docs: https://api.slack.com/methods/auth.test, https://api.slack.com/messaging/webhooks#handling_errors
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scanner.validate.base import HttpCheck, unexpected
from scanner.validate.result import Candidate, ValidationResult, active, revoked
from scanner.validate.session import ProviderSession

DEAD_TOKEN_ERRORS = {"invalid_auth", "token_revoked", "token_expired", "account_inactive", "not_authed",
                     "org_login_required", "ekm_access_denied", "team_disabled"}


def _auth_test_ok(document: Any) -> bool | None:
    if not isinstance(document, dict):
        return None
    if document.get("ok") is True:
        return True
    return False if document.get("error") in DEAD_TOKEN_ERRORS else None


AUTH_TEST = HttpCheck(
    provider="slack",
    rule_ids=("slack-bot-token", "slack-user-token", "slack-legacy-token", "slack-workspace-token",
              "slack-app-token", "slack-config-access-token"),
    base="https://slack.com",
    path="/api/auth.test",
    method="POST",
    accepted=_auth_test_ok,
    identity={"user": "user", "org": "team", "account": "team_id", "project": "enterprise_id"},
    scopes_header="x-oauth-scopes",
)

WEBHOOK_HOST = "https://hooks.slack.com"
LIVE_WEBHOOK_ERRORS = {"no_text", "invalid_payload", "missing_text_or_fallback_or_attachments"}
DEAD_WEBHOOK_ERRORS = {"no_service", "invalid_token", "channel_is_archived", "no_team", "team_disabled",
                       "action_prohibited", "channel_not_found"}


class WebhookCheck:
    provider = "slack"
    rule_ids = ("slack-webhook-url",)
    documented = (WEBHOOK_HOST,)

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        path = urlsplit(candidate.secret if "://" in candidate.secret else "https://" + candidate.secret).path
        session.also_secret(path)
        response = session.request(
            "POST", session.base_url(WEBHOOK_HOST) + path, headers={"Content-Type": "application/json"}, body=b"{}"
        )
        answer = response.text().strip()
        if answer in LIVE_WEBHOOK_ERRORS:
            return active(self.provider, f"live webhook (refused an empty message: {answer}); nothing was posted")
        if answer in DEAD_WEBHOOK_ERRORS or response.status == 404:
            return revoked(self.provider, f"the webhook is gone ({response.status} {answer[:40]})")
        raise unexpected(response)


VALIDATORS = [AUTH_TEST, WebhookCheck()]

"""Discord: the bot user of a bot token; a webhook's own description (GET, which never posts).

Docs: https://discord.com/developers/docs/resources/user#get-current-user,
https://discord.com/developers/docs/resources/webhook#get-webhook-with-token
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scanner.validate.base import HttpCheck, header
from scanner.validate.result import Candidate, ValidationResult
from scanner.validate.session import ProviderSession

API = "https://discord.com"

BOT = HttpCheck(
    provider="discord",
    rule_ids=("discord-bot-token",),
    base=API,
    path="/api/v10/users/@me",
    expect_path="id",
    auth=header("Authorization", "Bot "),
    identity={"user": "username", "account": "id"},
)

WEBHOOK_READ = HttpCheck(
    provider="discord",
    rule_ids=(),
    base=API,
    path="",
    expect_path="id",
    revoked_statuses=frozenset({401, 404}),
    identity={"user": "name", "account": "id", "org": "guild_id", "project": "channel_id"},
)


class WebhookCheck:
    provider = "discord"
    rule_ids = ("discord-webhook-url",)
    documented = (API, "https://ptb.discord.com", "https://canary.discord.com", "https://discordapp.com")

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        path = urlsplit(candidate.secret).path
        session.also_secret(path.rsplit("/", 1)[-1])
        response = session.request("GET", session.base_url(API) + path)
        return WEBHOOK_READ.read(response)


VALIDATORS = [BOT, WebhookCheck()]

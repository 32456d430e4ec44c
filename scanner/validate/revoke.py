"""Guarded revocation: a dry run that says what it would send, unless `confirm=True`; then the provider's own
revocation call, and a fresh validation to see whether the credential is really dead.

Invariants (tests/test_validate_revoke.py): a dry run sends nothing (no DNS lookup either); requests go only
through the guarded client to the provider's documented or configured origin; the plan and the outcome
never carry the secret; after a confirmed revocation the credential is validated again and that result is
part of the outcome.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from scanner.net.http import GuardedClient, NetError
from scanner.validate.base import dig, text_at
from scanner.validate.registry import Registry, default_registry
from scanner.validate.result import Candidate, RequestMade, ValidationResult
from scanner.validate.runner import Runner, RunSettings
from scanner.validate.session import (
    Budget,
    ProviderSession,
    RateLimiter,
    SentLog,
    Unusable,
)


@dataclass(frozen=True)
class RevocationOutcome:
    provider: str
    rule_id: str
    confirmed: bool
    plan: tuple[RequestMade, ...]
    accepted: bool | None
    """True when the provider accepted the revocation, False when it refused, None when nothing was sent."""
    reason: str
    after: ValidationResult | None = None
    sent: tuple[RequestMade, ...] = field(default=())


class Revoker(Protocol):
    @property
    def provider(self) -> str: ...

    @property
    def documented(self) -> tuple[str, ...]: ...

    def applies(self, candidate: Candidate) -> bool: ...

    def plan(self, candidate: Candidate, base: Callable[[str], str]) -> list[RequestMade]: ...

    def perform(self, candidate: Candidate, session: ProviderSession) -> tuple[bool, str]: ...


GITHUB = "https://api.github.com"
GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


class GitHubRevoker:
    """User tokens through the credentials revocation API; installation tokens revoke themselves.

    Docs: https://docs.github.com/en/rest/credentials/revoke,
    https://docs.github.com/en/rest/apps/installations#revoke-an-installation-access-token
    """

    provider = "github"
    documented = (GITHUB,)

    def applies(self, candidate: Candidate) -> bool:
        return candidate.secret.startswith(("ghp_", "gho_", "ghu_", "ghs_", "github_pat_"))

    def plan(self, candidate: Candidate, base: Callable[[str], str]) -> list[RequestMade]:
        if candidate.secret.startswith("ghs_"):
            return [RequestMade("DELETE", base(GITHUB) + "/installation/token")]
        return [RequestMade("POST", base(GITHUB) + "/credentials/revoke")]

    def perform(self, candidate: Candidate, session: ProviderSession) -> tuple[bool, str]:
        base = session.base_url(GITHUB)
        if candidate.secret.startswith("ghs_"):
            headers = {**GITHUB_HEADERS, "Authorization": f"Bearer {candidate.secret}"}
            response = session.request("DELETE", base + "/installation/token", headers=headers)
            return response.status == 204, f"GitHub answered {response.status} to the installation-token revocation"
        body = json.dumps({"credentials": [candidate.secret]}).encode()
        response = session.request("POST", base + "/credentials/revoke",
                                   headers={**GITHUB_HEADERS, "Content-Type": "application/json"}, body=body)
        return response.status == 202, f"GitHub answered {response.status} to the credentials revocation request"


GITLAB = "https://gitlab.com"


class GitLabRevoker:
    """A personal access token revokes itself. Docs:
    https://docs.gitlab.com/ee/api/personal_access_tokens.html#using-a-request-header
    """

    provider = "gitlab"
    documented = (GITLAB,)

    def applies(self, candidate: Candidate) -> bool:
        return candidate.secret.startswith("glpat-")

    def plan(self, candidate: Candidate, base: Callable[[str], str]) -> list[RequestMade]:
        return [RequestMade("DELETE", base(GITLAB) + "/api/v4/personal_access_tokens/self")]

    def perform(self, candidate: Candidate, session: ProviderSession) -> tuple[bool, str]:
        url = session.base_url(GITLAB) + "/api/v4/personal_access_tokens/self"
        response = session.request("DELETE", url, headers={"PRIVATE-TOKEN": candidate.secret})
        return response.status == 204, f"GitLab answered {response.status} to the self-revocation"


SLACK = "https://slack.com"


class SlackRevoker:
    """`auth.revoke` with the token itself. Docs: https://api.slack.com/methods/auth.revoke"""

    provider = "slack"
    documented = (SLACK,)

    def applies(self, candidate: Candidate) -> bool:
        return candidate.secret.startswith(("xoxb-", "xoxp-", "xoxe.", "xoxa-", "xoxr-"))

    def plan(self, candidate: Candidate, base: Callable[[str], str]) -> list[RequestMade]:
        return [RequestMade("POST", base(SLACK) + "/api/auth.revoke")]

    def perform(self, candidate: Candidate, session: ProviderSession) -> tuple[bool, str]:
        _response, answer = session.json("POST", session.base_url(SLACK) + "/api/auth.revoke",
                                        headers={"Authorization": f"Bearer {candidate.secret}"})
        accepted = dig(answer, "ok") is True and dig(answer, "revoked") is True
        return accepted, "Slack revoked the token" if accepted else f"Slack refused: {text_at(answer, 'error')}"


NPM = "https://registry.npmjs.org"


class NpmRevoker:
    """Find the token's key among the account's tokens (its sha512, or its unique visible prefix), then delete
    it. Docs: https://docs.npmjs.com/cli/v10/commands/npm-token, https://github.com/npm/npm-profile#removetoken
    """

    provider = "npm"
    documented = (NPM,)

    def applies(self, candidate: Candidate) -> bool:
        return candidate.rule_id in {"npm-access-token", "npm-json-auth-token"}

    def plan(self, candidate: Candidate, base: Callable[[str], str]) -> list[RequestMade]:
        return [RequestMade("GET", base(NPM) + "/-/npm/v1/tokens"),
                RequestMade("DELETE", base(NPM) + "/-/npm/v1/tokens/token/{key}")]

    def perform(self, candidate: Candidate, session: ProviderSession) -> tuple[bool, str]:
        headers = {"Authorization": f"Bearer {candidate.secret}"}
        response, listing = session.json("GET", session.base_url(NPM) + "/-/npm/v1/tokens", headers=headers)
        if response.status != 200:
            return False, f"npm answered {response.status} to the token listing"
        digest = hashlib.sha512(candidate.secret.encode()).hexdigest()
        entries = [e for e in dig(listing, "objects") or [] if isinstance(e, dict)]
        keys = [str(e.get("key")) for e in entries if e.get("key") == digest]
        if not keys:
            keys = [str(e.get("key")) for e in entries
                    if len(str(e.get("token") or "").rstrip(".…")) >= 6
                    and candidate.secret.startswith(str(e.get("token")).rstrip(".…"))]
        if len(keys) != 1:
            return False, "the token was not found exactly once in the account's token list; nothing deleted"
        response = session.request("DELETE", f"{session.base_url(NPM)}/-/npm/v1/tokens/token/{keys[0]}",
                                   headers=headers)
        return response.status in (200, 204), f"npm answered {response.status} to the deletion"


OPENAI = "https://api.openai.com"


class OpenAIAdminKeyRevoker:
    """An admin key deletes itself: find it by its redacted value, then DELETE it. Docs:
    https://platform.openai.com/docs/api-reference/admin-api-keys/delete
    """

    provider = "openai"
    documented = (OPENAI,)

    def applies(self, candidate: Candidate) -> bool:
        return candidate.secret.startswith("sk-admin-")

    def plan(self, candidate: Candidate, base: Callable[[str], str]) -> list[RequestMade]:
        return [RequestMade("GET", base(OPENAI) + "/v1/organization/admin_api_keys"),
                RequestMade("DELETE", base(OPENAI) + "/v1/organization/admin_api_keys/{key_id}")]

    def perform(self, candidate: Candidate, session: ProviderSession) -> tuple[bool, str]:
        headers = {"Authorization": f"Bearer {candidate.secret}"}
        url = session.base_url(OPENAI) + "/v1/organization/admin_api_keys?limit=100"
        response, listing = session.json("GET", url, headers=headers)
        if response.status != 200:
            return False, f"OpenAI answered {response.status} to the admin key listing (the key may lack the right)"
        matches = [text_at(k, "id") for k in dig(listing, "data") or [] if _redacted_match(
            text_at(k, "redacted_value") or "", candidate.secret)]
        if len(matches) != 1 or not matches[0]:
            return False, "the key was not found exactly once among the organization's admin keys; nothing deleted"
        response, answer = session.json("DELETE", f"{session.base_url(OPENAI)}/v1/organization/admin_api_keys/"
                                        f"{matches[0]}", headers=headers)
        return dig(answer, "deleted") is True, f"OpenAI answered {response.status} to the deletion"


def _redacted_match(redacted: str, secret: str) -> bool:
    """`sk-admin...xyz` style redactions: the visible head and tail must both match."""
    head, sep, tail = redacted.partition("...")
    return bool(sep) and len(head) >= 8 and secret.startswith(head) and secret.endswith(tail)


class ManualOnly:
    """Providers whose API documents no revocation call: the outcome says where to revoke by hand."""

    def __init__(self, provider: str, where: str, rule_prefixes: tuple[str, ...]) -> None:
        self.provider, self.where, self.prefixes = provider, where, rule_prefixes
        self.documented: tuple[str, ...] = ()

    def applies(self, candidate: Candidate) -> bool:
        return candidate.secret.startswith(self.prefixes)

    def plan(self, candidate: Candidate, base: Callable[[str], str]) -> list[RequestMade]:
        return []

    def perform(self, candidate: Candidate, session: ProviderSession) -> tuple[bool, str]:
        raise Unusable(f"{self.provider} documents no API that revokes this token; revoke it at {self.where}")


REVOKERS: list[Revoker] = [
    GitHubRevoker(), GitLabRevoker(), SlackRevoker(), NpmRevoker(), OpenAIAdminKeyRevoker(),
    ManualOnly("huggingface", "https://huggingface.co/settings/tokens", ("hf_", "api_org_")),
    # PyPI removes an API token from the account's settings only (leaked ones reported to it are revoked
    # by PyPI itself, through GitHub's secret scanning partnership: nothing a user's tool can call).
    ManualOnly("pypi", "https://pypi.org/manage/account/token/", ("pypi-",)),
]


def revoker_for(candidate: Candidate) -> Revoker | None:
    return next((r for r in REVOKERS if r.provider == candidate.provider and r.applies(candidate)), None)


def revoke(
    candidate: Candidate,
    client: GuardedClient,
    *,
    confirm: bool = False,
    registry: Registry | None = None,
    settings: RunSettings | None = None,
) -> RevocationOutcome:
    """Dry run (the plan) unless `confirm`; confirmed: revoke, then validate again (`after`)."""
    revoker = revoker_for(candidate)
    if revoker is None:
        return RevocationOutcome(candidate.provider, candidate.rule_id, confirm, (), None,
                                 f"no revocation API is known for {candidate.provider} / {candidate.rule_id}")
    plan = tuple(revoker.plan(candidate, lambda documented: client.base_url(revoker.provider, documented)))
    if isinstance(revoker, ManualOnly):
        return RevocationOutcome(candidate.provider, candidate.rule_id, confirm, plan, None,
                                 f"no revocation API: revoke it at {revoker.where}")
    if not confirm:
        return RevocationOutcome(candidate.provider, candidate.rule_id, False, plan, None,
                                 "dry run: nothing was sent; --confirm sends the requests above")
    settings = settings or RunSettings(concurrency=1, budget=20)
    session = ProviderSession(client, revoker.provider, revoker.documented, [candidate.secret],
                              RateLimiter(settings.rps, _monotonic, _sleep), Budget(5), SentLog())
    try:
        accepted, reason = revoker.perform(candidate, session)
    except (Unusable, NetError) as err:
        accepted, reason = False, err.reason
    with Runner(client, registry or default_registry(), settings) as runner:
        after = runner.validate_all([candidate])[0]
    return RevocationOutcome(candidate.provider, candidate.rule_id, True, plan, accepted,
                             session.mask(reason), after, tuple(session.made))


def _monotonic() -> float:
    import time

    return time.monotonic()


def _sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)

"""Revocation: dry run sends nothing; confirmed, the provider's own call is made and the credential is
validated again; nothing carries the secret."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from scanner.net.endpoints import EndpointPolicy
from scanner.net.http import GuardedClient
from scanner.validate.result import Candidate, Status
from scanner.validate.revoke import revoke
from scanner.validate.runner import RunSettings
from tests.providerserver import Received, Reply, serving
from tests.validatekit import load_fixture, rand, reply_of

REVOKE = load_fixture("revoke")["cases"]
FAST = RunSettings(concurrency=1, rps=1e6, budget=50)


def client_for(provider: str, url: str) -> GuardedClient:
    return GuardedClient(EndpointPolicy.parse([f"{provider}={url}"], allow_internal=True))


class Provider:
    """A provider stand-in that accepts the token until its revocation call arrives."""

    def __init__(self, check: tuple[str, str], revocations: dict[tuple[str, str], Any], fixture: str) -> None:
        self.alive = True
        self.check, self.revocations = check, revocations
        active = load_fixture(fixture)["cases"]["active"]
        self.active = reply_of(active["routes"][check[1]] if "routes" in active else active)
        self.dead = reply_of(load_fixture(fixture)["cases"]["revoked"])

    def __call__(self, received: Received) -> Reply:
        key = (received.method, received.path.split("?", 1)[0])
        if key in self.revocations:
            reply = self.revocations[key]
            if isinstance(reply, Reply) and reply.status < 300 and key[0] != "GET":
                self.alive = False
            return reply
        if key == self.check:
            return self.active if self.alive else self.dead
        return Reply(404, {"Content-Type": "application/json"}, b"{}")


def test_dry_run_sends_nothing_and_shows_the_plan() -> None:
    token = f"ghp_{rand(36)}"
    provider = Provider(("GET", "/user"), {("POST", "/credentials/revoke"): reply_of(REVOKE["github_revoke"])},
                        "github")
    with serving(provider) as server:
        outcome = revoke(Candidate("github-pat-classic", "github", token), client_for("github", server.url))
    assert server.requests == [] and outcome.accepted is None and not outcome.confirmed
    assert [(r.method, r.url) for r in outcome.plan] == [("POST", f"{server.url}/credentials/revoke")]
    assert token not in repr(outcome)


def test_github_credentials_revocation_then_revalidation() -> None:
    token = f"ghp_{rand(36)}"
    provider = Provider(("GET", "/user"), {("POST", "/credentials/revoke"): reply_of(REVOKE["github_revoke"])},
                        "github")
    with serving(provider) as server:
        outcome = revoke(Candidate("github-pat-classic", "github", token), client_for("github", server.url),
                         confirm=True, settings=FAST)
    assert outcome.accepted is True and outcome.after is not None and outcome.after.status is Status.REVOKED
    assert json.loads(server.requests[0].body) == {"credentials": [token]}
    assert token not in repr(outcome)


def test_gitlab_self_revocation_and_a_refusal() -> None:
    token = f"glpat-{rand(20)}"
    for answer, accepted, after in (("gitlab_revoke", True, Status.REVOKED), ("gitlab_forbidden", False, Status.ACTIVE)):
        provider = Provider(("GET", "/api/v4/personal_access_tokens/self"),
                            {("DELETE", "/api/v4/personal_access_tokens/self"): reply_of(REVOKE[answer])}, "gitlab")
        with serving(provider) as server:
            outcome = revoke(Candidate("gitlab-pat", "gitlab", token), client_for("gitlab", server.url),
                             confirm=True, settings=FAST)
        assert outcome.accepted is accepted and outcome.after is not None and outcome.after.status is after
        assert server.requests[0].header("PRIVATE-TOKEN") == token


def test_slack_auth_revoke() -> None:
    token = f"xoxb-{rand(12, '0123456789')}-{rand(13, '0123456789')}-{rand(24)}"
    provider = Provider(("POST", "/api/auth.test"), {("POST", "/api/auth.revoke"): reply_of(REVOKE["slack_revoke"])},
                        "slack")
    with serving(provider) as server:
        outcome = revoke(Candidate("slack-bot-token", "slack", token), client_for("slack", server.url),
                         confirm=True, settings=FAST)
    assert outcome.accepted is True and outcome.after is not None and outcome.after.status is Status.REVOKED


def test_npm_token_found_by_its_key_and_deleted() -> None:
    token = f"npm_{rand(36)}"
    key = hashlib.sha512(token.encode()).hexdigest()
    listing = json.loads(json.dumps(REVOKE["npm_list"]).replace("{KEY}", key))
    provider = Provider(("GET", "/-/whoami"), {
        ("GET", "/-/npm/v1/tokens"): reply_of(listing),
        ("DELETE", f"/-/npm/v1/tokens/token/{key}"): reply_of(REVOKE["npm_delete"]),
    }, "npm")
    with serving(provider) as server:
        outcome = revoke(Candidate("npm-access-token", "npm", token), client_for("npm", server.url),
                         confirm=True, settings=FAST)
    assert outcome.accepted is True and outcome.after is not None and outcome.after.status is Status.REVOKED
    assert [r.method for r in server.requests][:2] == ["GET", "DELETE"]


def test_openai_admin_key_deletes_itself() -> None:
    token = f"sk-admin-{rand(40)}T3BlbkFJ{rand(40)}"
    listing = json.loads(json.dumps(REVOKE["openai_list"]).replace("{REDACTED}", f"{token[:12]}...{token[-4:]}"))
    provider = Provider(("GET", "/v1/organization/admin_api_keys"), {}, "openai")
    calls = {"list": 0}

    def respond(received: Received) -> Reply:
        path = received.path.split("?", 1)[0]
        if received.method == "DELETE" and path == "/v1/organization/admin_api_keys/key_abc":
            provider.alive = False
            return reply_of(REVOKE["openai_delete"])
        if path == "/v1/organization/admin_api_keys" and provider.alive and calls["list"] == 0:
            calls["list"] += 1
            return reply_of(listing)
        return provider(received)

    with serving(respond) as server:
        outcome = revoke(Candidate("openai-admin-key", "openai", token), client_for("openai", server.url),
                         confirm=True, settings=FAST)
    assert outcome.accepted is True and outcome.after is not None and outcome.after.status is Status.REVOKED


def test_hugging_face_has_no_revocation_api_and_sends_nothing() -> None:
    with serving(lambda received: Reply(500, {}, b"")) as server:
        outcome = revoke(Candidate("huggingface-access-token", "huggingface", f"hf_{rand(34)}"),
                         client_for("huggingface", server.url), confirm=True)
    assert server.requests == [] and outcome.accepted is None and "settings/tokens" in outcome.reason


def test_pypi_tokens_are_revoked_by_hand_and_nothing_is_sent() -> None:
    with serving(lambda received: Reply(500, {}, b"")) as server:
        outcome = revoke(Candidate("pypi-upload-token", "pypi", f"pypi-AgEIcHlwaS5vcmc{rand(60)}"),
                         client_for("pypi", server.url), confirm=True)
    assert server.requests == [] and outcome.accepted is None and "pypi.org/manage/account/token" in outcome.reason


def test_unknown_provider_is_refused() -> None:
    outcome = revoke(Candidate("mistral-api-key", "mistral", rand(32)), client_for("mistral", "http://127.0.0.1:9"),
                     confirm=True)
    assert outcome.accepted is None and "no revocation API" in outcome.reason

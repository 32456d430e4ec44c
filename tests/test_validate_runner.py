"""The runner: rate limit and concurrency counted over 1,000 validations, the run budget, Retry-After, one
request per credential, and failures that become indeterminate without ever showing the secret."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

from scanner.validate.base import HttpCheck
from scanner.validate.registry import Registry
from scanner.validate.result import (
    Candidate,
    Identity,
    Status,
    ValidationResult,
    active,
)
from scanner.validate.runner import RunSettings
from scanner.validate.session import Pacing, ProviderSession
from tests.providerserver import Received, Reply, serving
from tests.validatekit import (
    FakeTime,
    fixture_responder,
    load_fixture,
    rand,
    reply_of,
    runner_for,
)

WHOAMI = reply_of(load_fixture("npm")["cases"]["active"])


def npm_token() -> str:
    return f"npm_{rand(36)}"


def npm(secret: str, rule_id: str = "npm-access-token") -> Candidate:
    return Candidate(rule_id, "npm", secret)


class LockedFakeTime:
    """A fake clock shared by threads: time moves only when a thread sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def clock(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)
            self.now += seconds


def test_thousand_validations_respect_rps_and_concurrency() -> None:
    rps, concurrency = 5.0, 4
    fake = LockedFakeTime()
    with serving(lambda received: WHOAMI) as server:
        runner = runner_for("npm", server.url, time=fake,  # type: ignore[arg-type]
                            settings=RunSettings(concurrency=concurrency, rps=rps, budget=5000))
        with runner:
            results = runner.validate_all([npm(npm_token()) for _ in range(1000)])
    assert [r.status for r in results] == [Status.ACTIVE] * 1000
    sent = runner.sent.entries["npm"]
    assert len(sent) == len(server.requests) == 1000
    slots = sorted(slot for slot, _ in sent)
    assert all(later - earlier >= 1 / rps - 1e-9 for earlier, later in itertools.pairwise(slots))
    assert all(sent_at >= slot for slot, sent_at in sent)
    window_counts = [sum(1 for s in slots if start <= s < start + 1.0) for start in slots]
    assert max(window_counts) <= rps
    assert slots[-1] - slots[0] >= (1000 - 1) / rps - 1e-6
    assert 2 <= server.peak_concurrency <= concurrency, server.peak_concurrency


def test_budget_caps_the_run_and_the_rest_say_why() -> None:
    with serving(lambda received: WHOAMI) as server:
        runner = runner_for("npm", server.url, settings=RunSettings(concurrency=3, rps=1e6, budget=10))
        with runner:
            results = runner.validate_all([npm(npm_token()) for _ in range(25)])
    assert len(server.requests) == 10
    assert sum(r.status is Status.ACTIVE for r in results) == 10
    spent = [r for r in results if r.status is Status.INDETERMINATE]
    assert len(spent) == 15 and all("budget of 10 requests" in r.reason for r in spent)


def test_429_with_short_retry_after_is_retried_after_waiting() -> None:
    answers = [Reply(429, {"Retry-After": "3", "Content-Type": "application/json"}, b"{}"), WHOAMI]

    def respond(received: Received) -> Reply:
        return answers.pop(0)

    with serving(respond) as server:
        fake = FakeTime()
        runner = runner_for("npm", server.url, time=fake, settings=RunSettings(
            concurrency=1, rps=1e6, budget=10, pacing=Pacing(max_retry_after=10)))
        with runner:
            result = runner.validate_all([npm(npm_token())])[0]
    assert result.status is Status.ACTIVE
    assert len(server.requests) == 2 and 3.0 in fake.sleeps
    assert len(result.requests) == 2


def test_429_with_long_retry_after_is_indeterminate_after_one_request() -> None:
    limited = Reply(429, {"Retry-After": "600", "Content-Type": "application/json"}, b"{}")
    with serving(lambda received: limited) as server:
        runner = runner_for("npm", server.url)
        with runner:
            result = runner.validate_all([npm(npm_token())])[0]
    assert result.status is Status.INDETERMINATE and "rate limited (429), retry after 600s" in result.reason
    assert len(server.requests) == 1


def test_429_retry_needs_budget() -> None:
    limited = Reply(429, {"Retry-After": "1", "Content-Type": "application/json"}, b"{}")
    with serving(lambda received: limited) as server:
        runner = runner_for("npm", server.url, settings=RunSettings(concurrency=1, rps=1e6, budget=1))
        with runner:
            result = runner.validate_all([npm(npm_token())])[0]
    assert result.status is Status.INDETERMINATE and "budget" in result.reason
    assert len(server.requests) == 1


def test_one_credential_in_many_places_is_asked_once() -> None:
    token = npm_token()
    with serving(fixture_responder("npm", "active")) as server:
        runner = runner_for("npm", server.url)
        with runner:
            results = runner.validate_all([npm(token), npm(token, "npm-json-auth-token"), npm(token)])
    assert len(server.requests) == 1
    assert [r.rule_id for r in results] == ["npm-access-token", "npm-json-auth-token", "npm-access-token"]
    assert {r.status for r in results} == {Status.ACTIVE}


def test_rule_without_validator_is_unsupported_and_sends_nothing() -> None:
    with serving(lambda received: WHOAMI) as server:
        runner = runner_for("npm", server.url)
        with runner:
            result = runner.validate_all([Candidate("generic-api-key", "generic", rand(40))])[0]
    assert result.status is Status.UNSUPPORTED and server.requests == []


@dataclass(frozen=True)
class Leaky:
    """A validator that misbehaves: raises with the secret in its message, or echoes it in its identity."""

    raise_it: bool
    provider: str = "npm"
    rule_ids: tuple[str, ...] = ("npm-access-token",)
    documented: tuple[str, ...] = ("https://registry.npmjs.org",)

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        if self.raise_it:
            raise RuntimeError(f"boom near {candidate.secret}")
        return active("npm", f"echo {candidate.secret}", identity=Identity(user=candidate.secret))


def test_validator_exception_is_indeterminate_and_secret_is_scrubbed() -> None:
    token = npm_token()
    for raise_it in (True, False):
        runner = runner_for("npm", "http://127.0.0.1:9")
        runner.registry = Registry([Leaky(raise_it)])
        with runner:
            result = runner.validate_all([npm(token)])[0]
        assert token not in repr(result.to_dict())
        assert result.status is (Status.INDETERMINATE if raise_it else Status.ACTIVE)
        assert "***" in result.reason


def test_a_secret_is_never_handed_to_another_providers_validator() -> None:
    """An npm-looking rule id under another provider name finds no validator: nothing is sent anywhere."""
    with serving(lambda received: WHOAMI) as server:
        runner = runner_for("npm", server.url)
        with runner:
            result = runner.validate_all([Candidate("npm-access-token", "github", npm_token())])[0]
    assert result.status is Status.UNSUPPORTED and server.requests == []


def test_http_check_is_declarative() -> None:
    check = HttpCheck(provider="x", rule_ids=("x-key",), base="https://api.x.test", path="/me")
    assert check.documented == ("https://api.x.test",)

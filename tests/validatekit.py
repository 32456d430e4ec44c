"""Shared helpers for the validation tests: random tokens in documented formats, a runner against a loopback
provider server, and fixture-driven responders."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scanner.net.endpoints import EndpointPolicy
from scanner.net.http import GuardedClient, Limits
from scanner.validate.result import Candidate, ValidationResult
from scanner.validate.runner import Runner, RunSettings
from tests.providerserver import Received, Reply, Responder, load_fixture

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def rand(count: int, alphabet: str = ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(count))


def reply_of(spec: Mapping[str, Any]) -> Reply:
    body = spec.get("body", b"")
    if isinstance(body, (dict, list)):
        payload = json.dumps(body).encode()
    else:
        payload = body.encode() if isinstance(body, str) else body
    return Reply(int(spec["status"]), dict(spec.get("headers", {})), payload, float(spec.get("delay", 0.0)))


def fixture_responder(fixture: str, case: str) -> Responder:
    """Answer a fixture case: on its `routes` by path, or on any path containing the fixture's `route`."""
    document = load_fixture(fixture)
    spec = document["cases"][case]
    routes = {path: reply_of(r) for path, r in spec.get("routes", {}).items()}
    single = reply_of(spec) if "status" in spec else None
    route = document.get("route", "")

    def respond(received: Received) -> Reply:
        path = received.path.split("?", 1)[0]
        if path in routes:
            return routes[path]
        if single is not None and route in path:
            return single
        return Reply(404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}')

    return respond


def everywhere(reply: Reply) -> Responder:
    return lambda received: reply


@dataclass
class FakeTime:
    """A clock that only moves when someone sleeps; counts the sleeps."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def runner_for(
    provider: str,
    server_url: str,
    *,
    settings: RunSettings | None = None,
    time: FakeTime | None = None,
    allow_internal: bool = True,
    read_timeout: float = 2.0,
) -> Runner:
    policy = EndpointPolicy.parse([f"{provider}={server_url}"], allow_internal=allow_internal)
    client = GuardedClient(policy, limits=Limits(connect_timeout=1.0, read_timeout=read_timeout, total_timeout=5.0))
    fake = time or FakeTime()
    return Runner(client, settings=settings or RunSettings(concurrency=4, rps=1e6, budget=1000),
                  clock=fake.clock, sleep=fake.sleep)


def validate(runner: Runner, candidate: Candidate) -> ValidationResult:
    with runner:
        return runner.validate_all([candidate])[0]


def assert_expected(result: ValidationResult, expect: Mapping[str, Any]) -> None:
    """The result matches every key the fixture's `expect` names."""
    document = result.to_dict()
    assert document["status"] == expect["status"], (document["status"], document["reason"])
    for key in ("identity", "scopes", "resources", "expires_at"):
        if key in expect:
            if isinstance(expect[key], dict):
                for name, value in expect[key].items():
                    assert document[key].get(name) == value, (key, name, document[key])
            else:
                assert document[key] == expect[key], (key, document[key])
    if "reason" in expect:
        assert expect["reason"] in document["reason"], document["reason"]


SecretMaker = Callable[[], tuple[str, dict[str, str]]]

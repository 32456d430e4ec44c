"""A validator's only way out: one provider's requests, rate-limited, budgeted, and screened.

Invariants (tests/test_validate_runner.py and tests/test_validate_providers.py):
- every request waits for its provider's next rate-limiter slot; slots are at least 1/rps apart;
- every request, retries included, spends one unit of the run's budget; none is sent once it is spent;
- a validator never sees an answer that cannot be read as the provider's: a 429 (retried once after its
  Retry-After when that is short and the budget allows) or a 403 that says its rate limit is spent, a 5xx,
  a redirect, an HTML page (a WAF, a login or error page), a truncated body: each raises `Unusable`, which
  the runner reports as indeterminate;
- requests are recorded as method and URL with the secret masked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from scanner.net.http import GuardedClient, Response
from scanner.validate.result import RequestMade

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class Unusable(Exception):
    """An answer (or no answer) that says nothing about the credential; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BudgetSpent(Unusable):
    pass


class RateLimiter:
    """Per-provider request slots, `1/rps` apart, handed out in order of asking."""

    def __init__(self, rps: float, clock: Clock, sleep: Sleep) -> None:
        if rps <= 0:
            raise ValueError("requests per second must be positive")
        self.interval = 1.0 / rps
        self.clock, self.sleep = clock, sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, provider: str) -> float:
        """Block until `provider`'s next slot; return the slot's time on the clock."""
        now, slot = self._reserve(provider)
        if slot > now:
            self.sleep(slot - now)
        return slot

    def delay(self, provider: str) -> float:
        """Take `provider`'s next slot without sleeping: the seconds the caller must wait for it (a sweep's
        workers each sleep their own, scanner.pipeline.sweep_validate.ValidationGate)."""
        now, slot = self._reserve(provider)
        return slot - now

    def _reserve(self, provider: str) -> tuple[float, float]:
        with self._lock:
            now = self.clock()
            slot = max(now, self._next.get(provider, now))
            self._next[provider] = slot + self.interval
        return now, slot


class Budget:
    """A count of requests the whole run may still send."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0
        self._lock = threading.Lock()

    @property
    def left(self) -> int:
        return max(0, self.limit - self.spent)

    def take(self) -> bool:
        with self._lock:
            if self.spent >= self.limit:
                return False
            self.spent += 1
            return True


@dataclass
class SentLog:
    """What the run sent, per provider: (slot, clock when sent). Counts for tests and the run summary."""

    entries: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, provider: str, slot: float, sent: float) -> None:
        with self.lock:
            self.entries.setdefault(provider, []).append((slot, sent))


@dataclass(frozen=True)
class Pacing:
    """How the run paces requests and how long it honours a Retry-After."""

    max_retry_after: float = 10.0
    retries_after_429: int = 1


class ProviderSession:
    """Requests for one candidate to one provider; built by the runner, used by one validator call."""

    def __init__(
        self,
        client: GuardedClient,
        provider: str,
        documented: Collection[str],
        secrets: Collection[str],
        limiter: RateLimiter,
        budget: Budget,
        log: SentLog,
        pacing: Pacing = Pacing(),
    ) -> None:
        self.client = client
        self.provider = provider
        self.documented = tuple(documented)
        self.secrets = [s for s in secrets if s]
        self.limiter, self.budget, self.log, self.pacing = limiter, budget, log, pacing
        self.made: list[RequestMade] = []

    def also_secret(self, text: str) -> None:
        """Mask `text` too wherever this session records a URL (a webhook's path, a bot token in a path)."""
        if text and text not in self.secrets:
            self.secrets.append(text)

    def base_url(self, documented: str) -> str:
        """The base URL to use for `documented`: the --endpoint for this provider if configured."""
        return self.client.base_url(self.provider, documented)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        screen: bool = True,
    ) -> Response:
        """Send one request; with `screen`, raise `Unusable` for an answer that says nothing (see module doc)."""
        for attempt in range(self.pacing.retries_after_429 + 1):
            response = self._send(method, url, headers, body)
            wait = _retry_after(response)
            if response.status != 429 or attempt == self.pacing.retries_after_429:
                break
            if wait is None or wait > self.pacing.max_retry_after:
                break
            self.limiter.sleep(wait)
        if screen:
            screen_answer(response)
        return response

    def json(self, method: str, url: str, **kwargs: Any) -> tuple[Response, Any]:
        """`request`, then the body as JSON (`Unusable` when it is not JSON)."""
        response = self.request(method, url, **kwargs)
        return response, parse_json(response)

    def reserve(self, method: str, display_url: str) -> None:
        """Spend budget and wait for a rate slot for a non-HTTP exchange (a database login); record it."""
        if not self.budget.take():
            raise BudgetSpent(f"the run's validation budget of {self.budget.limit} requests is spent")
        slot = self.limiter.wait(self.provider)
        self.made.append(RequestMade(method, self.mask(display_url)))
        self.log.add(self.provider, slot, self.limiter.clock())

    def _send(self, method: str, url: str, headers: Mapping[str, str] | None, body: bytes | None) -> Response:
        if not self.budget.take():
            raise BudgetSpent(f"the run's validation budget of {self.budget.limit} requests is spent")
        slot = self.limiter.wait(self.provider)
        self.made.append(RequestMade(method, self.mask(url)))
        self.log.add(self.provider, slot, self.limiter.clock())
        return self.client.request(
            method, url, provider=self.provider, documented=self.documented, headers=headers, body=body
        )

    def mask(self, text: str) -> str:
        """`text` with every secret (raw or URL-quoted) replaced by ***."""
        for secret in self.secrets:
            for form in {secret, quote(secret, safe=""), quote(secret)}:
                if len(form) >= 4:
                    text = text.replace(form, "***")
        return text


def _retry_after(response: Response) -> float | None:
    value = response.header("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: not worth waiting for inside a scan


def is_html(response: Response) -> bool:
    """An HTML page (WAF, login, error page), by its content type or its first bytes."""
    head = response.body[:512].lstrip().lower()
    return response.content_type in {"text/html", "application/xhtml+xml"} or head.startswith(
        (b"<!doctype html", b"<html", b"<head", b"<body")
    )


def screen_answer(response: Response) -> None:
    """Raise `Unusable` for an answer that cannot be the provider speaking about the credential."""
    status = response.status
    if status == 429:
        wait = response.header("Retry-After")
        raise Unusable("rate limited (429)" + (f", retry after {wait}s" if wait else ""))
    if status == 403 and (response.header("Retry-After") or response.header("X-RateLimit-Remaining") == "0"):
        raise Unusable("rate limited (403 with an exhausted rate limit)")
    if status >= 500:
        raise Unusable(f"server error ({status})")
    if 300 <= status < 400:
        raise Unusable(f"redirected ({status}); redirects are not followed")
    if is_html(response):
        raise Unusable(f"an HTML page answered ({status}), likely a WAF, proxy or login page")
    if response.truncated:
        raise Unusable("the answer was larger than the size cap")
    if status < 200:
        raise Unusable(f"unexpected status {status}")


def parse_json(response: Response) -> Any:
    try:
        return json.loads(response.body or b"null")
    except ValueError:
        raise Unusable(f"the answer ({response.status}) is not JSON") from None

"""Validate many candidates at once: bounded threads, per-provider rate, one run budget, never a crash.

Invariants (tests/test_validate_runner.py):
- at most `concurrency` validations (hence requests) are in flight at once, in the runner's own pool, so
  the scan's workers never wait on a provider;
- each provider's requests are at least 1/rps apart on the injected clock; the whole run sends at most
  `budget` requests, and a candidate that finds the budget spent is indeterminate with that reason;
- one credential found in many places is asked about once per run;
- privilege and reach come from `permissions.analyze` of what the provider said;
- every exception and every unusable answer becomes `indeterminate` with its reason; a rule without a
  validator is `unsupported`; the secret never appears in a result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

from scanner.net.http import GuardedClient, NetError
from scanner.validate.permissions import analyze
from scanner.validate.registry import Registry, default_registry
from scanner.validate.result import (
    Candidate,
    ProviderIdentity,
    ValidationResult,
    indeterminate,
    unsupported,
)
from scanner.validate.session import (
    Budget,
    Pacing,
    ProviderSession,
    RateLimiter,
    SentLog,
    Sleep,
    Unusable,
)


@dataclass(frozen=True)
class RunSettings:
    """`--validation-rps`, `--validation-budget` and the pool size."""

    concurrency: int = 8
    rps: float = 2.0
    budget: int = 1000
    pacing: Pacing = field(default_factory=Pacing)


class Runner:
    def __init__(
        self,
        client: GuardedClient,
        registry: Registry | None = None,
        settings: RunSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        limiter: RateLimiter | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.client = client
        self.registry = registry or default_registry()
        self.settings = settings or RunSettings()
        # A limiter and budget given are shared with other runners (a sweep's workers: scanner.pipeline.sweep_validate)
        self.limiter = limiter or RateLimiter(self.settings.rps, clock, sleep)
        self.budget = budget or Budget(self.settings.budget)
        self.sent = SentLog()
        self.now = now
        self._pool = ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="validate")
        self._seen: dict[tuple[Any, ...], Future[ValidationResult]] = {}
        self._lock = threading.Lock()

    def submit(self, candidate: Candidate) -> Future[ValidationResult]:
        """Queue one candidate; the same credential submitted again shares the first one's future."""
        with self._lock:
            future = self._seen.get(candidate.dedupe_key)
            if future is None:
                future = self._pool.submit(self.validate_one, candidate)
                self._seen[candidate.dedupe_key] = future
        return future

    def validate_all(self, candidates: Iterable[Candidate]) -> list[ValidationResult]:
        """Results in the order of `candidates`, each with its own rule id."""
        pending = [(candidate, self.submit(candidate)) for candidate in candidates]
        return [replace(future.result(), rule_id=candidate.rule_id) for candidate, future in pending]

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def __enter__(self) -> Runner:  # noqa: PYI034 - Runner is final
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def validate_one(self, candidate: Candidate) -> ValidationResult:
        """Never raises: the result of asking the candidate's provider, made safe to store."""
        validator = self.registry.for_candidate(candidate)
        if validator is None:
            result = unsupported(candidate.provider, f"no validator for rule {candidate.rule_id}")
            return self._finish(result, candidate, None)
        session = ProviderSession(
            self.client, validator.provider, validator.documented, _secrets_of(candidate),
            self.limiter, self.budget, self.sent, self.settings.pacing,
        )
        try:
            result = validator.validate(candidate, session)
        except (Unusable, NetError) as err:
            result = indeterminate(candidate.provider, err.reason)
        except Exception as err:  # noqa: BLE001 - any failure of a validator is "could not tell", never a crash
            result = indeterminate(candidate.provider, f"validator error: {err.__class__.__name__}: {err}")
        return self._finish(result, candidate, session)

    def _finish(self, result: ValidationResult, candidate: Candidate, session: ProviderSession | None) -> ValidationResult:
        result = replace(
            result,
            rule_id=candidate.rule_id,
            checked_at=self.now(),
            requests=tuple(session.made) if session else (),
        )
        result = analyze(result)
        return scrub(result, session.secrets if session else _secrets_of(candidate))


def _secrets_of(candidate: Candidate) -> list[str]:
    """The secret and every paired value long enough to be one (ids and names are kept)."""
    paired = [candidate.groups[k] for k in SECRET_GROUPS if candidate.groups.get(k)]
    return [candidate.secret, *paired]


SECRET_GROUPS = ("secret_access_key", "session_token", "client_secret", "private_key", "password", "auth_token",
                 "api_key_secret")


def scrub(result: ValidationResult, secrets: Sequence[str]) -> ValidationResult:
    """`result` with every occurrence of a secret in its texts replaced by ***."""

    def clean(text: str) -> str:
        for secret in secrets:
            if secret and len(secret) >= 4:
                text = text.replace(secret, "***")
        return text

    changes: dict[str, Any] = {"reason": clean(result.reason)}
    changes["identity"] = ProviderIdentity(**{f.name: _maybe(clean, getattr(result.identity, f.name)) for f in fields(ProviderIdentity)})
    changes["scopes"] = tuple(clean(s) for s in result.scopes)
    changes["resources"] = tuple(clean(s) for s in result.resources)
    changes["reach"] = tuple(clean(s) for s in result.reach)
    changes["requests"] = tuple(replace(r, url=clean(r.url)) for r in result.requests)
    return replace(result, **changes)


def _maybe(clean: Callable[[str], str], value: str | None) -> str | None:
    return clean(value) if value is not None else None

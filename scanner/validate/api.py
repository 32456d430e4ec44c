"""What a scan calls: options from the CLI switches, and one function from candidates to results.

`validate_candidates` blocks until every candidate has an answer; `open_runner` gives a runner whose
`submit(candidate) -> Future` lets a scan queue validations while its own workers keep scanning.
Guarded by tests/test_validate_api.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from scanner.net.endpoints import EndpointPolicy
from scanner.net.http import GuardedClient, Limits
from scanner.validate.result import Candidate, Status, ValidationResult
from scanner.validate.runner import Runner, RunSettings
from scanner.validate.session import Budget, RateLimiter


@dataclass(frozen=True)
class ValidationOptions:
    """`--endpoint PROVIDER=URL` (repeatable), `--allow-internal-endpoints`, `--validation-rps`,
    `--validation-budget`, and the pool size and timeouts."""

    endpoints: tuple[str, ...] = ()
    allow_internal: bool = False
    rps: float = 2.0
    budget: int = 1000
    concurrency: int = 8
    timeout: float = 10.0

    def policy(self) -> EndpointPolicy:
        """The endpoint policy; a bad `--endpoint` is a ValueError naming it (a usage error, exit 2)."""
        return EndpointPolicy.parse(self.endpoints, allow_internal=self.allow_internal)


def open_runner(options: ValidationOptions, limiter: RateLimiter | None = None, budget: Budget | None = None) -> Runner:
    """A runner for one scan; close it (or use it as a context manager) when the scan ends. A `limiter` and `budget`
    given are shared with the runners of other processes (a sweep's workers)."""
    if options.rps <= 0 or options.budget < 0 or options.concurrency < 1:
        raise ValueError("--validation-rps must be positive, --validation-budget not negative")
    limits = Limits(connect_timeout=min(5.0, options.timeout), read_timeout=options.timeout,
                    total_timeout=options.timeout * 2)
    client = GuardedClient(options.policy(), limits=limits)
    settings = RunSettings(concurrency=options.concurrency, rps=options.rps, budget=options.budget)
    return Runner(client, settings=settings, limiter=limiter, budget=budget)


def validate_candidates(candidates: Iterable[Candidate], options: ValidationOptions, limiter: RateLimiter | None = None,
                        budget: Budget | None = None) -> list[ValidationResult]:
    """One result per candidate, in order (the same credential asked once)."""
    with open_runner(options, limiter, budget) as runner:
        return runner.validate_all(candidates)


LIVENESS_HUNDREDTHS = {Status.ACTIVE: 100, Status.REVOKED: 35, Status.INDETERMINATE: 85, Status.UNSUPPORTED: 85}
NOT_VALIDATED, EXPIRED = 85, 20


def liveness_hundredths(result: ValidationResult | None, now: datetime) -> int:
    """DESIGN section 8's M in hundredths: active 100, revoked 35, indeterminate, unsupported or not validated
    85, and 20 when the provider named an expiry that has passed (a live answer outranks a stale expiry)."""
    if result is None:
        return NOT_VALIDATED
    if result.status is not Status.ACTIVE and result.expires_at is not None and result.expires_at <= now:
        return EXPIRED
    return LIVENESS_HUNDREDTHS[result.status]


def is_fresh(result: ValidationResult, max_age_seconds: float, now_timestamp: float) -> bool:
    """True when a stored result is young enough to reuse (`--max-age`)."""
    if result.checked_at is None:
        return False
    return now_timestamp - result.checked_at.timestamp() <= max_age_seconds


__all__: Sequence[str] = (
    "ValidationOptions", "is_fresh", "liveness_hundredths", "open_runner", "validate_candidates",
)

"""`sprawl sweep --validate`: each secret is validated by the worker that found it, and never leaves it.

The worker that scans a unit asks each new credential's own provider (scanner.validate: a secret paired with
the identifier of its provider beside it in the same file) and returns only the answers, keyed by credential
(`UnitAnswer`): no secret crosses a process boundary, so none reaches Ray's object store (which may spill to
disk) or a local pool's pipe. The sweep's rate per provider and its request budget hold across all workers
through one `ValidationGate` (a Ray actor on the driver's node, or a manager process beside a local pool). The
driver keeps one answer per credential (`best_answers`: a secret's over its identifier's, a provider's yes or
no over "could not tell") and records them once every unit is done (tests/test_validate_sweep.py,
tests/test_sweep_ray.py::test_ray_sweep_validates_on_the_workers_and_returns_no_secret).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from scanner.model import ScanResult, Status, ValidationResult
from scanner.store.db import Observed
from scanner.validate.api import ValidationOptions, validate_candidates
from scanner.validate.pairing import Held, candidates_of
from scanner.validate.session import Budget, RateLimiter


@dataclass(frozen=True)
class UnitAnswer:
    """What a provider said of one credential a unit found: no secret, only its keyed identity."""

    credential_key: str
    kind: str  # the rule's kind: an identifier's answer yields to the secret's
    result: ValidationResult


class Gate(Protocol):
    """The sweep's shared request slots and budget, as a worker asks them."""

    def slot(self, provider: str) -> float: ...

    def take(self) -> bool: ...


class ValidationGate:
    """Request slots per provider, 1/rps apart, and the sweep's request budget; answers delays, never sleeps
    (a worker sleeps its own delay), so one gate serves every worker of the sweep."""

    def __init__(self, rps: float, budget: int) -> None:
        self.slots = RateLimiter(rps, time.monotonic, time.sleep)
        self.budget = Budget(budget)

    @property
    def left(self) -> int:
        return self.budget.left

    def slot(self, provider: str) -> float:
        """Seconds until the caller's request to `provider` may go."""
        return self.slots.delay(provider)

    def take(self) -> bool:
        """One request of the budget; False once it is spent."""
        return self.budget.take()


@dataclass
class ActorGate:
    """A Gate answered by a ValidationGate Ray actor."""

    actor: Any

    def slot(self, provider: str) -> float:
        import ray

        return float(ray.get(self.actor.slot.remote(provider)))

    def take(self) -> bool:
        import ray

        return bool(ray.get(self.actor.take.remote()))


class _GateLimiter(RateLimiter):
    def __init__(self, gate: Gate, rps: float) -> None:
        super().__init__(rps, time.monotonic, time.sleep)
        self.gate = gate

    def wait(self, provider: str) -> float:
        delay = self.gate.slot(provider)
        if delay > 0:
            self.sleep(delay)
        return self.clock()


class _GateBudget(Budget):
    def __init__(self, gate: Gate, limit: int) -> None:
        super().__init__(limit)
        self.gate = gate

    def take(self) -> bool:
        return self.gate.take()


def validate_unit(result: ScanResult, observed: list[Observed], options: ValidationOptions,
                  gate: Gate) -> list[UnitAnswer]:
    """Ask the provider of each credential a unit found (`observed`, keyed from `result`, whose secrets are in
    this process's memory) and return the answers without the secrets."""
    held, keyed = [], []
    for o in observed:
        secret = result.secrets.get(o.finding.fingerprint) or o.finding.secret
        if secret:
            held.append(Held(o.finding, secret, tuple((r.repo, r.path, r.line) for r in o.locations)))
            keyed.append(o)
    if not held:
        return []
    answers = validate_candidates(candidates_of(held), options, _GateLimiter(gate, options.rps),
                                  _GateBudget(gate, options.budget))
    return [UnitAnswer(o.credential_key, o.finding.kind, answer) for o, answer in zip(keyed, answers, strict=True)]


_DECISIVE = (Status.ACTIVE, Status.REVOKED)


def best_answers(answers: list[UnitAnswer]) -> dict[str, ValidationResult]:
    """One answer per credential: a secret's over its identifier's (a credential two rules matched), then a
    provider's yes or no over "could not tell" (a secret asked without its key id in one repository and with it
    in another), then the first."""
    best: dict[str, tuple[tuple[bool, bool], ValidationResult]] = {}
    for a in answers:
        rank = (a.kind != "identifier", a.result.status in _DECISIVE)
        if a.credential_key not in best or rank > best[a.credential_key][0]:
            best[a.credential_key] = (rank, a.result)
    return {key: result for key, (_rank, result) in best.items()}

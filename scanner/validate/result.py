"""What validation takes in (a `Candidate`) and gives back (a `ValidationResult`).

Invariants: a candidate's repr never shows its secret or paired values; a result never carries the secret
(the runner scrubs every text field, tests/test_validate_runner.py::test_secret_never_in_result); `active`
only ever comes from a validator that read an expected answer, never from a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from scanner.model import Privilege, ProviderIdentity, RequestMade, Status, ValidationResult

__all__ = ["Candidate", "Privilege", "ProviderIdentity", "RequestMade", "Status", "ValidationResult",
           "active", "indeterminate", "revoked", "unsupported"]


@dataclass(frozen=True)
class Candidate:
    """One credential to validate: the rule that found it, its provider, the secret and paired values.

    `groups` holds what the credential needs beside the secret, by name: `key_id` (AWS key id for a secret
    key), `secret_access_key`, `session_token`, `tenant_id`, `client_id`, `client_secret`, `account_sid`,
    `username`, `email`, `site`, `shop`, `private_key`, `client_email`, `project_id`...
    """

    rule_id: str
    provider: str
    secret: str = field(repr=False)
    groups: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), repr=False)

    def group(self, *names: str) -> str | None:
        """The first non-empty paired value among `names`."""
        return next((self.groups[n] for n in names if self.groups.get(n)), None)

    @property
    def dedupe_key(self) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        """Candidates with the same key are one credential: validated once per run."""
        return (self.provider, self.secret, tuple(sorted(self.groups.items())))


def active(provider: str, reason: str = "the provider accepted the credential", **fields: Any) -> ValidationResult:
    return ValidationResult(provider, Status.ACTIVE, reason, **fields)


def revoked(provider: str, reason: str, **fields: Any) -> ValidationResult:
    return ValidationResult(provider, Status.REVOKED, reason, **fields)


def indeterminate(provider: str, reason: str, **fields: Any) -> ValidationResult:
    return ValidationResult(provider, Status.INDETERMINATE, reason, **fields)


def unsupported(provider: str, reason: str, **fields: Any) -> ValidationResult:
    return ValidationResult(provider, Status.UNSUPPORTED, reason, **fields)

"""What validation takes in (a `Candidate`) and gives back (a `ValidationResult`).

Invariants: a candidate's repr never shows its secret or paired values; a result never carries the secret
(the runner scrubs every text field, tests/test_validate_runner.py::test_secret_never_in_result); `active`
only ever comes from a validator that read an expected answer, never from a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Status(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    INDETERMINATE = "indeterminate"
    UNSUPPORTED = "unsupported"


class Privilege(StrEnum):
    """As DESIGN section 8 scores it (admin 22, write 16, read 10, metered 5, test 2)."""

    ADMIN = "admin"
    WRITE = "write"
    READ = "read"
    METERED = "metered"
    TEST = "test"


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


@dataclass(frozen=True)
class Identity:
    """Who the provider says the credential belongs to; None where it did not say."""

    account: str | None = None
    user: str | None = None
    org: str | None = None
    project: str | None = None

    def is_empty(self) -> bool:
        return not any((self.account, self.user, self.org, self.project))


@dataclass(frozen=True)
class RequestMade:
    """A request sent while validating: method and URL only, the secret replaced by `***` if it was in the URL."""

    method: str
    url: str


@dataclass(frozen=True)
class ValidationResult:
    provider: str
    status: Status
    reason: str
    identity: Identity = Identity()
    scopes: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    privilege: Privilege | None = None
    reach: tuple[str, ...] = ()
    expires_at: datetime | None = None
    checked_at: datetime | None = None
    requests: tuple[RequestMade, ...] = ()
    rule_id: str = ""

    @property
    def request(self) -> RequestMade | None:
        """The first request made (the one that decided liveness), if any."""
        return self.requests[0] if self.requests else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, the `validation` object of reports and the `validations` row's payload."""
        return {
            "provider": self.provider,
            "rule_id": self.rule_id,
            "status": self.status.value,
            "reason": self.reason,
            "identity": {k: v for k, v in vars(self.identity).items() if v is not None},
            "scopes": list(self.scopes),
            "resources": list(self.resources),
            "privilege": self.privilege.value if self.privilege else None,
            "reach": list(self.reach),
            "expires_at": _iso(self.expires_at),
            "checked_at": _iso(self.checked_at),
            "requests": [{"method": r.method, "url": r.url} for r in self.requests],
        }


    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> ValidationResult:
        """The inverse of `to_dict` (a stored row's payload back to a result)."""
        privilege = document.get("privilege")
        return cls(
            provider=str(document["provider"]),
            status=Status(document["status"]),
            reason=str(document.get("reason", "")),
            identity=Identity(**{k: v for k, v in (document.get("identity") or {}).items()
                                 if k in {"account", "user", "org", "project"}}),
            scopes=tuple(document.get("scopes") or ()),
            resources=tuple(document.get("resources") or ()),
            privilege=Privilege(privilege) if privilege else None,
            reach=tuple(document.get("reach") or ()),
            expires_at=_parse_iso(document.get("expires_at")),
            checked_at=_parse_iso(document.get("checked_at")),
            requests=tuple(RequestMade(r["method"], r["url"]) for r in document.get("requests") or ()),
            rule_id=str(document.get("rule_id", "")),
        )


def _parse_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def active(provider: str, reason: str = "the provider accepted the credential", **fields: Any) -> ValidationResult:
    return ValidationResult(provider, Status.ACTIVE, reason, **fields)


def revoked(provider: str, reason: str, **fields: Any) -> ValidationResult:
    return ValidationResult(provider, Status.REVOKED, reason, **fields)


def indeterminate(provider: str, reason: str, **fields: Any) -> ValidationResult:
    return ValidationResult(provider, Status.INDETERMINATE, reason, **fields)


def unsupported(provider: str, reason: str, **fields: Any) -> ValidationResult:
    return ValidationResult(provider, Status.UNSUPPORTED, reason, **fields)

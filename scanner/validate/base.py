"""The validator contract, and `HttpCheck`: the declarative one-request validator most providers are.

Invariant: `HttpCheck` answers `active` only for a status in `active_statuses` whose JSON carries
`expect_path` and passes `accepted`; `revoked` only for 401, or another status in `revoked_statuses` with a
JSON body (a bare 403 text page is a proxy's, not the provider's), or `accepted` saying "revoked"; `insufficient_statuses`
(a JSON "you lack the scope for this" from a live credential) is active without the endpoint's evidence;
anything else raises `Unusable` (indeterminate). Guarded by tests/test_validate_providers.py.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from scanner.net.http import Response
from scanner.validate.result import (
    Candidate,
    Identity,
    ValidationResult,
    active,
    revoked,
)
from scanner.validate.session import ProviderSession, Unusable


class Validator(Protocol):
    """One provider's check. `documented` are the origins the provider's API lives on (`*.` = one tenant)."""

    @property
    def provider(self) -> str: ...

    @property
    def rule_ids(self) -> tuple[str, ...]: ...

    @property
    def documented(self) -> tuple[str, ...]: ...

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult: ...


Auth = Callable[[Candidate], dict[str, str]]


def bearer(candidate: Candidate) -> dict[str, str]:
    return {"Authorization": f"Bearer {candidate.secret}"}


def header(name: str, prefix: str = "") -> Auth:
    """The secret in header `name`, after `prefix` (`token `, `Bot `...)."""

    def auth(candidate: Candidate) -> dict[str, str]:
        return {name: f"{prefix}{candidate.secret}"}

    return auth


def basic(user: str | Callable[[Candidate], str | None], *, secret_is_user: bool = False) -> Auth:
    """HTTP Basic with a fixed or paired user name; `secret_is_user` puts the secret first (key:)."""

    def auth(candidate: Candidate) -> dict[str, str]:
        name = user(candidate) if callable(user) else user
        if name is None:
            raise Unusable("needs the user name paired with this credential, and none was found beside it")
        pair = f"{candidate.secret}:{name}" if secret_is_user else f"{name}:{candidate.secret}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    return auth


def dig(document: Any, path: str) -> Any:
    """The value at dotted `path` in nested dicts (`a.b.0.c`; "" is the document itself), or None."""
    if path == "":
        return document
    node = document
    for part in path.split("."):
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def text_at(document: Any, path: str | None) -> str | None:
    value = dig(document, path) if path else None
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def texts_at(document: Any, path: str | None, key: str | None = None) -> tuple[str, ...]:
    """Strings of the list at `path` (each item's `key` when items are objects)."""
    value = dig(document, path) if path is not None else None
    if not isinstance(value, list):
        return ()
    items = [dig(item, key) if key else item for item in value]
    return tuple(str(item) for item in items if item is not None and not isinstance(item, (dict, list)))


def header_list(response: Response, name: str) -> tuple[str, ...]:
    """A comma-separated header (X-OAuth-Scopes) as a tuple; () when absent or empty."""
    value = response.header(name) or ""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 text, `YYYY-MM-DD HH:MM:SS UTC`, or Unix seconds, as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    text = str(value).strip().replace(" UTC", "+00:00").replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


IdentityMap = Mapping[str, str]
"""Identity field (account, user, org, project) -> dotted JSON path."""


def identity_from(document: Any, mapping: IdentityMap) -> Identity:
    return Identity(**{name: text_at(document, path) for name, path in mapping.items()})


def is_list(document: Any) -> bool | None:
    """`accepted` for endpoints that answer a JSON list."""
    return True if isinstance(document, list) else None


def unexpected(response: Response) -> Unusable:
    return Unusable(f"unexpected answer ({response.status}) from the provider")


@dataclass(frozen=True)
class HttpCheck:
    """A validator that is one request: where, how the secret travels, and how to read the answer."""

    provider: str
    rule_ids: tuple[str, ...]
    base: str
    path: str
    auth: Auth = bearer
    method: str = "GET"
    body: bytes | None = None
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    active_statuses: frozenset[int] = frozenset({200})
    revoked_statuses: frozenset[int] = frozenset({401})
    insufficient_statuses: frozenset[int] = frozenset()
    identity: IdentityMap = field(default_factory=dict)
    identity_headers: Mapping[str, str] = field(default_factory=dict)
    """Identity field -> response header naming it (OpenAI's `openai-organization`)."""
    scopes_header: str | None = None
    scopes_path: str | None = None
    scopes_key: str | None = None
    resources_path: str | None = None
    resources_key: str | None = None
    expires_path: str | None = None
    expect_path: str | None = None
    """A dotted JSON path a genuine 2xx answer always carries (`login`, `data`): without it, unexpected."""
    accepted: Callable[[Any], bool | None] | None = None
    """Reads a 2xx JSON body: True live, False revoked (Slack's {"ok": false}), None unexpected."""
    extra_documented: tuple[str, ...] = ()

    @property
    def documented(self) -> tuple[str, ...]:
        return (self.base, *self.extra_documented)

    def url(self, session: ProviderSession, candidate: Candidate) -> str:
        return session.base_url(self.base) + self.path

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        headers = {**self.extra_headers, **self.auth(candidate)}
        if self.body is not None:
            headers.setdefault("Content-Type", "application/json")
        response = session.request(self.method, self.url(session, candidate), headers=headers, body=self.body)
        return self.read(response)

    def read(self, response: Response) -> ValidationResult:
        """The mapping from the provider's answer to a result (module doc)."""
        if response.status in self.revoked_statuses:
            if response.status != 401:
                _ = _json_or_unusable(response)  # a bare 403/404 page may be a proxy's; a provider's refusal is JSON
            return revoked(self.provider, f"the provider refused the credential ({response.status})")
        if response.status in self.insufficient_statuses:
            _ = _json_or_unusable(response)  # a live key's scope error is JSON; a bare 403 page is not evidence
            return active(self.provider, f"live, but lacks the scope this check reads ({response.status})")
        if response.status not in self.active_statuses:
            raise unexpected(response)
        document = _json_or_unusable(response) if response.body.strip() else None
        if self.expect_path is not None and dig(document, self.expect_path) is None:
            raise Unusable(f"the answer ({response.status}) lacks what the provider always sends; not trusted")
        if self.accepted is not None:
            verdict = self.accepted(document)
            if verdict is None:
                raise unexpected(response)
            if verdict is False:
                return revoked(self.provider, "the provider says the credential is not valid")
        scopes = header_list(response, self.scopes_header) if self.scopes_header else ()
        scopes += texts_at(document, self.scopes_path, self.scopes_key)
        identity = identity_from(document, self.identity)
        from_headers = {name: response.header(h) for name, h in self.identity_headers.items() if response.header(h)}
        return active(
            self.provider,
            identity=replace(identity, **from_headers),
            scopes=scopes,
            resources=texts_at(document, self.resources_path, self.resources_key),
            expires_at=parse_time(dig(document, self.expires_path)) if self.expires_path else None,
        )


def _json_or_unusable(response: Response) -> Any:
    from scanner.validate.session import parse_json

    return parse_json(response)

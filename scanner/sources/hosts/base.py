"""What every code-host lister shares: the repository record, the HTTP seam, paging and rate limits.

A lister never talks to the network itself: it is handed an `HttpClient` (in production the guarded
client of scanner/net, which checks and pins addresses; in tests a plain loopback client) and an
`ApiSession` that adds authentication, follows pagination only within the API's own origin, and
waits out rate limits through an injected `sleep`, reporting each wait (tests/test_hosts.py).
"""
from __future__ import annotations

import email.utils
import fnmatch
import http.client
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlencode, urlsplit

from scanner.errors import SprawlError

HostKind = Literal["github", "gitlab", "bitbucket", "gitea"]
Visibility = Literal["public", "internal", "private"]

HOST_KINDS: tuple[HostKind, ...] = ("github", "gitlab", "bitbucket", "gitea")

# The public API of each host, used unless `--endpoint NAME=URL` names another (self-hosted) base:
# parse those with scanner.net.endpoints.EndpointPolicy.parse (the validators' switch) and pass its
# `endpoints` mapping here.
DEFAULT_API_BASES: dict[HostKind, str] = {
    "github": "https://api.github.com",
    "gitlab": "https://gitlab.com/api/v4",
    "bitbucket": "https://api.bitbucket.org/2.0",
    "gitea": "https://gitea.com/api/v1",
}

MAX_WAITS_PER_REQUEST = 5
MAX_WAIT_SECONDS = 3600.0
DEFAULT_WAIT_SECONDS = 60.0  # a rate-limit answer that names no time: GitHub asks for at least a minute


class HostError(SprawlError):
    """Listing failed; the message is one line and never holds a credential."""


def json_list(host: str, what: str) -> Callable[[Any], list[Any]]:
    """A page parser for a host whose listing answers a JSON array of `what` (repositories, projects)."""

    def parse(body: Any) -> list[Any]:
        if not isinstance(body, list):
            raise HostError(f"{host}: the {what} list is not a JSON array")
        return body

    return parse


def required_text(host: str, item: Mapping[str, Any], key: str, what: str = "repository") -> str:
    """A listed item's field that must be a non-empty string, or HostError naming the host and the field."""
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise HostError(f"{host}: a listed {what} has no {key}")
    return value


def optional_text(value: Any) -> str | None:
    """A listed field that may be missing: a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class RemoteRepo:
    """One repository as its host lists it; what the sweep records per repository."""

    host: HostKind
    full_name: str  # "acme/app", "acme/platform/api" (GitLab subgroups)
    clone_url: str  # https (or http on loopback tests); never holds credentials
    visibility: Visibility
    default_branch: str | None  # None for an empty repository
    archived: bool
    fork: bool
    size_bytes: int | None = None  # as the host reports it, converted to bytes; None when not given
    pushed_at: str | None = None  # the host's time of the last push (GitHub pushed_at, GitLab last_activity_at...)

    @property
    def name(self) -> str:
        return self.full_name.rsplit("/", 1)[-1]


class HttpResponse(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def body(self) -> bytes: ...


class HttpClient(Protocol):
    """The seam for scanner/net's guarded client: no redirects followed, bounded timeouts."""

    def get(self, url: str, headers: Mapping[str, str]) -> HttpResponse: ...

    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> HttpResponse: ...


@dataclass(frozen=True, slots=True)
class RateLimitWait:
    """A wait the session made before resuming; handed to the `on_wait` callback."""

    host: HostKind
    seconds: float
    reason: str  # "retry-after", "rate limit exhausted until reset", "rate limited (no time given)"
    url: str


@dataclass(frozen=True, slots=True)
class RepoFilter:
    """Which listed repositories a sweep keeps; globs match the full name or the short name."""

    skip_archived: bool = False
    skip_forks: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def reason_to_skip(self, repo: RemoteRepo) -> str | None:
        """Why the sweep leaves this repository out ("archived", "fork", "not included", "excluded")."""
        if self.skip_archived and repo.archived:
            return "archived"
        if self.skip_forks and repo.fork:
            return "fork"
        if self.include and not _matches_any(repo, self.include):
            return "not included"
        return "excluded" if _matches_any(repo, self.exclude) else None


def _matches_any(repo: RemoteRepo, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(repo.full_name, p) or fnmatch.fnmatchcase(repo.name, p) for p in patterns)


def foreign_clone_reason(repo: RemoteRepo, api: str) -> str | None:
    """Why the host's token may not follow this clone URL, or None: the URL must be on the API's own
    host name or that name without a leading "api." label (api.github.com -> github.com), and https
    unless the API itself is plain http (loopback tests). Guards a listing that points git elsewhere
    (tests/test_hosts.py::test_a_clone_url_on_another_host_is_skipped)."""
    api_parts, clone = urlsplit(api), urlsplit(repo.clone_url)
    api_host, host = (api_parts.hostname or "").lower(), (clone.hostname or "").lower()
    if host not in (api_host, api_host.removeprefix("api.")):
        return f"clone URL on another host than the API ({host or 'none'})"
    if clone.scheme != "https" and (clone.scheme, api_parts.scheme) != ("http", "http"):
        return f"clone URL is not https ({clone.scheme or 'none'})"
    if clone.username or clone.password:
        return "clone URL carries credentials"
    return None


def api_base(kind: HostKind, endpoints: Mapping[str, str]) -> str:
    return endpoints.get(kind, DEFAULT_API_BASES[kind]).rstrip("/")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A response header, whatever case the client keeps names in."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, val in headers.items():
        if key.lower() == lowered:
            return val
    return None


def next_link(headers: Mapping[str, str]) -> str | None:
    """The rel="next" target of an RFC 8288 Link header (GitHub, GitLab, Gitea pagination)."""
    link = header(headers, "Link")
    if not link:
        return None
    for part in link.split(","):
        target, _, params = part.partition(";")
        rels = [p.strip() for p in params.split(";")]
        if any(r.replace(" ", "") in ('rel="next"', "rel=next") for r in rels):
            return target.strip().strip("<>")
    return None


def with_query(url: str, params: Mapping[str, str | int]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """The text with every given secret (and nothing shorter than 4 characters) replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


class AuthHeaders(Protocol):
    """Where an `ApiSession` gets its headers: asked again for every request, so tokens renew."""

    def api_headers(self) -> dict[str, str]: ...

    def secrets(self) -> tuple[str, ...]: ...


@dataclass
class ApiSession:
    """Authenticated JSON GETs against one host's API, with rate-limit waits and same-origin paging.

    Invariant: a request goes only to the origin of `base`, and the headers (credentials) are never
    part of an error message (tests/test_hosts.py::test_foreign_next_link_is_refused,
    ::test_errors_never_hold_the_token).
    """

    kind: HostKind
    base: str
    http: HttpClient
    auth: AuthHeaders | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    on_wait: Callable[[RateLimitWait], None] | None = None
    waits: list[RateLimitWait] = field(default_factory=list, init=False)
    _resume_at: float = field(default=0.0, init=False, repr=False)  # epoch seconds the window reopens

    def get_json(self, url: str) -> tuple[Any, Mapping[str, str]]:
        """The decoded body and the headers of a 2xx answer; raises HostError otherwise."""
        self._check_origin(url)
        for attempt in range(MAX_WAITS_PER_REQUEST + 1):
            self._wait_until_resume(url)
            try:
                response = self.http.get(url, self._headers())
            except (OSError, http.client.HTTPException) as exc:
                raise HostError(f"{self.kind}: cannot reach {_path(url)} ({type(exc).__name__})") from None
            self._note_exhaustion(response.headers)
            if 200 <= response.status < 300:
                return self._decode(url, response), response.headers
            wait = self._rate_limit_wait(response)
            if wait is None:
                raise HostError(self._failure(url, response))
            if attempt < MAX_WAITS_PER_REQUEST:
                self._wait(wait[0], wait[1], url)
        raise HostError(f"{self.kind}: still rate limited after {MAX_WAITS_PER_REQUEST} waits at {_path(url)}")

    def paginate(self, first_url: str, items: Callable[[Any], list[Any]],
                 next_url: Callable[[Any, Mapping[str, str], str], str | None]) -> Iterator[Any]:
        """Every item of every page, following `next_url(body, headers, this_url)` until it is None."""
        url: str | None = first_url
        seen: set[str] = set()
        while url is not None:
            if url in seen:
                raise HostError(f"{self.kind}: the API's pagination loops at {_path(url)}")
            seen.add(url)
            body, headers = self.get_json(url)
            yield from items(body)
            url = next_url(body, headers, url)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "secret-sprawl"}
        if self.auth is not None:
            headers.update(self.auth.api_headers())
        return headers

    def _check_origin(self, url: str) -> None:
        want, got = urlsplit(self.base), urlsplit(url)
        if (want.scheme, want.netloc) != (got.scheme, got.netloc):
            raise HostError(f"{self.kind}: the API pointed to another origin ({got.scheme}://{got.hostname}); "
                            "refused so the token stays with its host")

    def _decode(self, url: str, response: HttpResponse) -> Any:
        try:
            return json.loads(response.body)
        except ValueError:
            raise HostError(f"{self.kind}: {_path(url)} answered {response.status} without JSON") from None

    def _rate_limit_wait(self, response: HttpResponse) -> tuple[float, str] | None:
        if response.status not in (403, 429):
            return None
        retry_after = _retry_after(header(response.headers, "Retry-After"), self.clock)
        if retry_after is not None:
            return retry_after, "retry-after"
        reset = self._exhausted_until(response.headers)
        if reset is not None:
            return max(0.0, reset - self.clock()), "rate limit exhausted until reset"
        if response.status == 429 or b"rate limit" in response.body.lower():
            return DEFAULT_WAIT_SECONDS, "rate limited (no time given)"
        return None  # a 403 that is not a rate limit: permissions

    def _exhausted_until(self, headers: Mapping[str, str]) -> float | None:
        for prefix in ("X-RateLimit-", "RateLimit-"):  # GitHub and Gitea; GitLab
            remaining, reset = header(headers, prefix + "Remaining"), header(headers, prefix + "Reset")
            if remaining is not None and remaining.strip() == "0" and reset and reset.strip().isdigit():
                return float(reset)
        return None

    def _note_exhaustion(self, headers: Mapping[str, str]) -> None:
        """After an answer that used the last request of the window, the next one waits for the reset."""
        reset = self._exhausted_until(headers)
        if reset is not None:
            self._resume_at = max(self._resume_at, reset)

    def _wait_until_resume(self, url: str) -> None:
        if self._resume_at > self.clock():
            self._wait(self._resume_at - self.clock(), "rate limit exhausted until reset", url)

    def _wait(self, seconds: float, reason: str, url: str) -> None:
        event = RateLimitWait(self.kind, min(seconds, MAX_WAIT_SECONDS), reason, _path(url))
        self.waits.append(event)
        if self.on_wait is not None:
            self.on_wait(event)
        self.sleep(event.seconds)
        self._resume_at = 0.0  # the window this wait was for is over

    def _failure(self, url: str, response: HttpResponse) -> str:
        detail = _api_message(response.body)
        secrets = self.auth.secrets() if self.auth is not None else ()
        hint = {401: "bad or expired token", 403: "the token may not see it",
                404: "not found, or the token may not see it"}.get(response.status, "")
        parts = [f"{self.kind}: {_path(url)} answered {response.status}", hint, scrub(detail, secrets)]
        return "; ".join(p for p in parts if p)


def _path(url: str) -> str:
    """The URL without its query string, for messages (queries never carry tokens, but stay short)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _api_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if isinstance(data, dict):
        message = data.get("message") or data.get("error")
        if isinstance(message, dict):
            message = message.get("message")
        if isinstance(message, str):
            return " ".join(message.split())[:200]
    return ""


def _retry_after(value: str | None, clock: Callable[[], float]) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - clock())

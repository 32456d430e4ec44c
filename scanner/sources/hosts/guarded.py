"""The listers' `HttpClient` on scanner.net's guarded client, and the same address rule for git.

API requests go through `GuardedClient`: only the host's documented API origin or its `--endpoint`,
one DNS lookup with every answer checked (loopback, private, link-local, CGNAT refused unless
`--allow-internal-endpoints`; metadata always), the connection pinned, no redirects, bounded
timeouts. `git_address_check` gives the mirror cache the same check for git's own connections,
which it then pins through `http.curloptResolve` (tests/test_hosts.py::test_guarded_*,
tests/test_mirrors.py::test_git_connections_are_checked_and_pinned).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from scanner.net.http import (
    GuardedClient,
    Limits,
    NetError,
    Resolver,
    resolve_pinned,
    system_resolver,
)
from scanner.sources.hosts.base import DEFAULT_API_BASES, HostError, HostKind

# A page of 100 repositories is a few hundred kilobytes; the validators' 1 MiB cap would cut some.
HOST_LIMITS = Limits(connect_timeout=10.0, read_timeout=30.0, total_timeout=60.0, max_body=16 << 20)

AddressCheck = Callable[[str, int], str]
"""host, port -> the one checked address git may connect to; raises NetError (its `reason` is one line)."""


@dataclass(frozen=True, slots=True)
class HostResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class GuardedHostHttp:
    """One host's API requests through a `GuardedClient` (build it with HOST_LIMITS)."""

    client: GuardedClient
    kind: HostKind

    def get(self, url: str, headers: Mapping[str, str]) -> HostResponse:
        return self._send("GET", url, headers, None)

    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> HostResponse:
        return self._send("POST", url, headers, body)

    def _send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> HostResponse:
        try:
            response = self.client.request(method, url, provider=self.kind, documented=(DEFAULT_API_BASES[self.kind],),
                                           headers=headers, body=body)
        except NetError as exc:
            raise HostError(f"{self.kind}: {exc.reason}") from None
        if response.truncated:
            raise HostError(f"{self.kind}: {url.split('?')[0]} answered more than {self.client.limits.max_body} bytes")
        return HostResponse(response.status, _joined(response.headers), response.body)


def _joined(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Headers as one value per name; a repeated header's values joined with ", " (RFC 9110 5.3)."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def git_address_check(allow_internal: bool, resolver: Resolver = system_resolver) -> AddressCheck:
    """The guarded client's address rule for `MirrorCache(address_check=...)`."""

    def check(host: str, port: int) -> str:
        return resolve_pinned(host, port, resolver=resolver, allow_internal=allow_internal)

    return check

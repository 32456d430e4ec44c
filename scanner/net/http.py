"""A guarded HTTP(S) client for provider requests, on the standard library's http.client.

Invariants (each guarded by tests/test_net_guard.py):
- a request goes only to the provider's documented origin or the one its `EndpointPolicy` configures
  (`HostNotAllowed` otherwise, before any DNS lookup);
- the host is resolved once; if any resolved address is refused by `scanner.net.address.classify`, nothing
  is sent (`AddressRefused`); the connection goes to the first resolved address and is never re-resolved, so a
  DNS answer that changes between check and connect cannot move it;
- TLS verifies the certificate against the host name (SNI = host name); the Host header is the host name;
- redirects are never followed: a 3xx comes back as a `Response`;
- connect and read timeouts are bounded, and so is the whole exchange; the body is capped (`truncated`).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from scanner.net.address import AddressVerdict, classify
from scanner.net.endpoints import EndpointPolicy, Origin, parse_endpoint

__all__ = [
    "AddressRefused",
    "ConnectionFailed",
    "EndpointPolicy",
    "GuardedClient",
    "HostNotAllowed",
    "NetError",
    "RequestTimeout",
    "ResolutionFailed",
    "Resolver",
    "Response",
    "TLSFailed",
    "host_header",
    "parse_endpoint",
    "resolve_pinned",
    "system_resolver",
]

Resolver = Callable[[str, int], Sequence[str]]
"""host, port -> the addresses it resolves to, as text; injected so tests can make a name resolve anywhere."""

USER_AGENT = "secret-sprawl-validator/0.1"


class NetError(Exception):
    """A request that got no usable answer; `reason` is one line a report can show."""

    kind = "error"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HostNotAllowed(NetError):
    kind = "host-not-allowed"


class ResolutionFailed(NetError):
    kind = "resolution-failed"


class AddressRefused(NetError):
    kind = "address-refused"


class ConnectionFailed(NetError):
    kind = "connection-failed"


class TLSFailed(NetError):
    kind = "tls-failed"


class RequestTimeout(NetError):
    kind = "timeout"


@dataclass(frozen=True)
class Response:
    """One HTTP answer. `url` is the URL requested (callers redact secrets carried in it); `address` the peer."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    url: str
    address: str
    truncated: bool = False

    def header(self, name: str) -> str | None:
        """The first value of header `name`, case-insensitively."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";", 1)[0].strip().lower()

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses getaddrinfo gives for host:port, in its order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise ResolutionFailed(f"cannot resolve {host}: {err}") from None
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def resolve_pinned(host: str, port: int, *, resolver: Resolver, allow_internal: bool) -> str:
    """Resolve `host` once and return the one address to connect to; refuse if any answer is refused.

    Every answer is checked, not only the first, so a name with one public and one internal record is refused.
    """
    addresses = list(resolver(host, port))
    if not addresses:
        raise ResolutionFailed(f"{host} resolves to no address")
    verdicts: list[AddressVerdict] = [classify(a, allow_internal=allow_internal) for a in addresses]
    refused = [v for v in verdicts if not v.allowed]
    if refused:
        first = refused[0]
        hint = "" if first.category in {"metadata", "unspecified", "multicast", "reserved", "non-global"} else (
            " (--allow-internal-endpoints permits it)"
        )
        raise AddressRefused(f"{host} resolves to {first.category} address {first.address}{hint}")
    return verdicts[0].address


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a fixed address; `host` stays the name for the Host header."""

    def __init__(self, host: str, port: int, address: str, connect_timeout: float, read_timeout: float) -> None:
        super().__init__(host, port, timeout=read_timeout)
        self.pinned_address = address
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout

    def connect(self) -> None:
        sock = socket.create_connection((self.pinned_address, self.port), timeout=self.connect_timeout)
        sock.settimeout(self.read_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """As `_PinnedHTTPConnection`, then TLS verified against the host name (SNI = host name)."""

    default_port = http.client.HTTPS_PORT

    def __init__(
        self, host: str, port: int, address: str, connect_timeout: float, read_timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, address, connect_timeout, read_timeout)
        self.context = context

    def connect(self) -> None:
        super().connect()
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)


def default_tls_context() -> ssl.SSLContext:
    """Certificate and host name verified, TLS 1.2 or newer."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


@dataclass(frozen=True)
class Limits:
    """Bounded waits and sizes for one request."""

    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 20.0
    max_body: int = 1 << 20


class GuardedClient:
    """Sends one request at a time per call; safe to share between threads (no state across calls)."""

    def __init__(
        self,
        policy: EndpointPolicy | None = None,
        *,
        resolver: Resolver = system_resolver,
        limits: Limits | None = None,
        tls_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or EndpointPolicy()
        self.resolver = resolver
        self.limits = limits or Limits()
        self.tls_context = tls_context or default_tls_context()
        self.clock = clock

    def base_url(self, provider: str, documented: str) -> str:
        """Where `provider` lives for this run: the configured base URL, else the documented one."""
        return self.policy.base_url(provider, documented)

    def request(
        self,
        method: str,
        url: str,
        *,
        provider: str,
        documented: Collection[str],
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Response:
        """Send one request to `url`, which must be on `provider`'s configured or documented origin."""
        if not self.policy.allows(provider, url, documented):
            raise HostNotAllowed(f"{_origin_text(url)} is neither {provider}'s documented host nor its --endpoint")
        origin = Origin.of(url)
        address = resolve_pinned(
            origin.host, origin.port, resolver=self.resolver, allow_internal=self.policy.allow_internal
        )
        connection = self._connection(origin, address)
        try:
            return self._exchange(connection, method, url, origin, address, headers or {}, body)
        finally:
            connection.close()

    def _connection(self, origin: Origin, address: str) -> _PinnedHTTPConnection:
        limits = self.limits
        if origin.scheme == "https":
            return _PinnedHTTPSConnection(
                origin.host, origin.port, address, limits.connect_timeout, limits.read_timeout, self.tls_context
            )
        return _PinnedHTTPConnection(origin.host, origin.port, address, limits.connect_timeout, limits.read_timeout)

    def _exchange(
        self,
        connection: _PinnedHTTPConnection,
        method: str,
        url: str,
        origin: Origin,
        address: str,
        headers: Mapping[str, str],
        body: bytes | None,
    ) -> Response:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        chosen = {name: value for name, value in headers.items() if name.lower() not in {"host", "connection"}}
        sent = {"User-Agent": USER_AGENT, "Accept": "application/json", **chosen, "Connection": "close"}
        deadline = self.clock() + self.limits.total_timeout
        try:
            connection.request(method, target, body=body, headers=sent)
            answer = connection.getresponse()
            payload, truncated = _read_capped(answer, self.limits.max_body, deadline, self.clock)
        except ssl.SSLError as err:
            raise TLSFailed(f"TLS with {origin.host} failed: {err.__class__.__name__}: {err.reason}") from None
        except TimeoutError:
            raise RequestTimeout(f"{origin.host} did not answer in time") from None
        except (ConnectionError, OSError, http.client.HTTPException) as err:
            raise ConnectionFailed(f"{origin.host}: {err.__class__.__name__}: {err}") from None
        return Response(answer.status, tuple(answer.getheaders()), payload, url, address, truncated)


def _read_capped(
    answer: http.client.HTTPResponse, cap: int, deadline: float, clock: Callable[[], float]
) -> tuple[bytes, bool]:
    """Read at most `cap` bytes of the body before `deadline`; (body, whether more was left unread)."""
    chunks: list[bytes] = []
    size = 0
    while size <= cap:
        if clock() > deadline:
            raise RequestTimeout("the answer took longer than the total timeout")
        chunk = answer.read1(min(65536, cap + 1 - size)) if cap + 1 - size > 0 else b""
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    body = b"".join(chunks)
    return body[:cap], len(body) > cap


def host_header(url: str) -> str:
    """The Host header this client sends for `url` (as http.client writes it): host, and port if not default."""
    origin = Origin.of(url)
    host = f"[{origin.host}]" if ":" in origin.host else origin.host
    default = 443 if origin.scheme == "https" else 80
    return host if origin.port == default else f"{host}:{origin.port}"


def _origin_text(url: str) -> str:
    try:
        origin = Origin.of(url)
    except ValueError as err:
        return f"URL ({err})"
    return f"{origin.scheme}://{origin.host}:{origin.port}"

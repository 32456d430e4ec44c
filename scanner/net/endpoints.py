"""Where each provider may be reached: its documented origins, or one the user configured.

Invariant: `--endpoint PROVIDER=URL` names one http(s) base URL per provider, without credentials, query or
fragment; anything else is a ValueError naming the bad part (tests/test_net_guard.py::test_parse_endpoint_*).
A documented origin may use one leading wildcard label (`https://*.myshopify.com`) for per-tenant hosts.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urlsplit

PROVIDER_NAME = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,62}")
HOST_NAME = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?")
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Origin:
    """scheme://host:port of a URL, host lower-cased, port made explicit."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        """The origin of an absolute http(s) URL; ValueError when it is not one."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ValueError(f"not an http(s) URL: scheme {parts.scheme!r}")
        if parts.username is not None or parts.password is not None:
            raise ValueError("URL must not carry credentials")
        host = (parts.hostname or "").lower()
        if not host:
            raise ValueError("URL has no host")
        try:
            port = parts.port or DEFAULT_PORTS[scheme]
        except ValueError as err:
            raise ValueError(f"bad port: {err}") from None
        if not (HOST_NAME.fullmatch(host) or _is_ip_literal(host)):
            raise ValueError(f"bad host {host!r}")
        return cls(scheme, host, port)

    def matches(self, pattern: Origin) -> bool:
        """True when this origin is `pattern`, or a single-label subdomain of a `*.` pattern."""
        if (self.scheme, self.port) != (pattern.scheme, pattern.port):
            return False
        if pattern.host.startswith("*."):
            suffix = pattern.host[1:]
            label = self.host[: -len(suffix)] if self.host.endswith(suffix) else ""
            return bool(label) and "." not in label
        return self.host == pattern.host


def _is_ip_literal(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def parse_endpoint(spec: str) -> tuple[str, str]:
    """`PROVIDER=URL` -> (provider, base URL without a trailing slash); ValueError with the reason otherwise."""
    provider, sep, url = spec.partition("=")
    provider = provider.strip().lower()
    url = url.strip()
    if not sep:
        raise ValueError(f"--endpoint {spec!r}: expected PROVIDER=URL")
    if not PROVIDER_NAME.fullmatch(provider):
        raise ValueError(f"--endpoint {spec!r}: bad provider name {provider!r}")
    if not url:
        raise ValueError(f"--endpoint {spec!r}: empty URL")
    try:
        Origin.of(url)
    except ValueError as err:
        raise ValueError(f"--endpoint {provider}=...: {err}") from None
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError(f"--endpoint {provider}=...: a base URL has no query or fragment")
    return provider, url.rstrip("/")


@dataclass(frozen=True)
class EndpointPolicy:
    """Configured base URLs per provider, and whether internal addresses may be reached."""

    endpoints: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    allow_internal: bool = False

    @classmethod
    def parse(cls, specs: Iterable[str], *, allow_internal: bool = False) -> EndpointPolicy:
        """From repeated `--endpoint PROVIDER=URL` strings; a provider named twice is a ValueError."""
        endpoints: dict[str, str] = {}
        for spec in specs:
            provider, url = parse_endpoint(spec)
            if provider in endpoints:
                raise ValueError(f"--endpoint: provider {provider!r} given twice")
            endpoints[provider] = url
        return cls(MappingProxyType(endpoints), allow_internal)

    def base_url(self, provider: str, documented: str) -> str:
        """The configured base URL for `provider`, else its documented one."""
        return self.endpoints.get(provider, documented).rstrip("/")

    def is_configured(self, provider: str) -> bool:
        return provider in self.endpoints

    def allows(self, provider: str, url: str, documented: Collection[str]) -> bool:
        """True when `url`'s origin is the provider's configured origin or one of its documented origins."""
        try:
            origin = Origin.of(url)
        except ValueError:
            return False
        patterns = [Origin.of(self.endpoints[provider])] if provider in self.endpoints else []
        patterns += [documented_origin(d) for d in documented]
        return any(origin.matches(pattern) for pattern in patterns)


def documented_origin(pattern: str) -> Origin:
    """The origin of a documented base URL; a leading `*.` label stands for one tenant label."""
    wildcard = "://*." in pattern
    origin = Origin.of(pattern.replace("://*.", "://tenant.", 1) if wildcard else pattern)
    return Origin(origin.scheme, "*." + origin.host.split(".", 1)[1], origin.port) if wildcard else origin

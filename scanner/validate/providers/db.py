"""Database connection URIs (Postgres, MySQL/MariaDB): connect and authenticate, never a query.

The host is the URI's own; it is resolved once, checked like any provider host (loopback and private
addresses need --allow-internal-endpoints), and the connection is pinned to that address; one login attempt
spends one unit of the run's budget and waits for a rate slot like a request. The protocol exchange is in
`postgres` and `mysql`. Guarded by tests/test_validate_postgres.py and tests/test_validate_mysql.py.
"""

from __future__ import annotations

import socket
import ssl

from scanner.net.http import RequestTimeout, resolve_pinned
from scanner.validate.providers import mysql, postgres
from scanner.validate.providers.dbtarget import PROVIDER, target_of
from scanner.validate.result import Candidate, ValidationResult, unsupported
from scanner.validate.session import ProviderSession, Unusable


class DatabaseLoginCheck:
    provider = PROVIDER
    rule_ids = ("db-connection-uri-password",)
    documented: tuple[str, ...] = ()

    def __init__(self, tls_context: ssl.SSLContext | None = None) -> None:
        self.tls_context = tls_context

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        target = target_of(candidate)
        if target is None:
            return unsupported(self.provider, "only postgres:// and mysql:// URIs are validated (connect and log in)")
        client = session.client
        address = resolve_pinned(target.host, target.port, resolver=client.resolver,
                                 allow_internal=client.policy.allow_internal)
        session.reserve("CONNECT", target.display)
        login = postgres.login if target.scheme == "postgres" else mysql.login
        try:
            with socket.create_connection((address, target.port), timeout=client.limits.connect_timeout) as raw:
                raw.settimeout(client.limits.read_timeout)
                return login(raw, target, self.tls_context)
        except TimeoutError:
            raise RequestTimeout(f"{target.host} did not answer in time") from None
        except ssl.SSLError as err:
            raise Unusable(f"TLS with {target.host} failed: {err.reason}") from None
        except OSError as err:
            raise Unusable(f"cannot reach {target.host}:{target.port}: {err.__class__.__name__}") from None


VALIDATORS = [DatabaseLoginCheck()]

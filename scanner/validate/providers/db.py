"""Database connection URIs (Postgres): connect and authenticate, never a query.

The host is the URI's own; it is resolved once, checked like any provider host (loopback and private
addresses need --allow-internal-endpoints) and the connection is pinned to that address. TLS is asked for
first (verified against the host name); a server that demands a clear-text password without TLS is not
answered. Supported authentication: trust, MD5, SCRAM-SHA-256. AuthenticationOk -> active; SQLSTATE 28P01 or
28000 -> revoked; then a Terminate message, and the connection closes.

MySQL URIs are not validated yet (unsupported).
Docs: https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP,
https://www.postgresql.org/docs/current/protocol-message-formats.html, https://www.postgresql.org/docs/current/sasl-authentication.html
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import ssl
import struct
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from scanner.net.http import NetError, RequestTimeout, resolve_pinned
from scanner.validate.result import (
    Candidate,
    Identity,
    ValidationResult,
    active,
    revoked,
    unsupported,
)
from scanner.validate.session import ProviderSession, Unusable

SSL_REQUEST = 80877103
PROTOCOL_3 = 196608
DEAD_STATES = {"28P01": "wrong password", "28000": "the server refuses this user"}


@dataclass(frozen=True)
class PostgresTarget:
    host: str
    port: int
    user: str
    password: str
    database: str


def target_of(candidate: Candidate) -> PostgresTarget | None:
    """The URI's parts (the secret is the password; the URI comes as `uri` beside it), or None if not Postgres."""
    uri = candidate.group("uri", "url") or ""
    parts = urlsplit(uri.removeprefix("jdbc:"))
    if parts.scheme.lower() not in {"postgres", "postgresql"} or not parts.hostname:
        return None
    return PostgresTarget(
        host=parts.hostname,
        port=parts.port or 5432,
        user=unquote(parts.username or candidate.group("user") or "postgres"),
        password=unquote(parts.password) if parts.password else candidate.secret,
        database=unquote(parts.path.lstrip("/")) or unquote(parts.username or "postgres"),
    )


class _Wire:
    """Length-prefixed Postgres messages on one socket."""

    def __init__(self, sock: socket.socket | ssl.SSLSocket) -> None:
        self.sock = sock

    def send(self, kind: bytes, payload: bytes) -> None:
        self.sock.sendall(kind + struct.pack("!I", len(payload) + 4) + payload)

    def exact(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise Unusable("the database closed the connection mid-message")
            data += chunk
        return data

    def receive(self) -> tuple[bytes, bytes]:
        kind = self.exact(1)
        (length,) = struct.unpack("!I", self.exact(4))
        if length < 4 or length > 1 << 20:
            raise Unusable("malformed message from the database")
        return kind, self.exact(length - 4)


def error_fields(payload: bytes) -> dict[str, str]:
    return {chunk[:1].decode(): chunk[1:].decode("utf-8", "replace") for chunk in payload.split(b"\0") if chunk}


class Scram:
    """The client side of SCRAM-SHA-256 (RFC 5802/7677), channel binding not used."""

    def __init__(self, password: str, nonce: str | None = None) -> None:
        self.password = password.encode()
        self.nonce = nonce or base64.b64encode(os.urandom(18)).decode()
        self.first_bare = f"n=,r={self.nonce}"
        self.server_signature = b""

    def first(self) -> bytes:
        return f"n,,{self.first_bare}".encode()

    def final(self, server_first: bytes) -> bytes:
        fields = dict(item.split("=", 1) for item in server_first.decode().split(","))
        if not fields["r"].startswith(self.nonce):
            raise Unusable("the database's SCRAM nonce does not extend ours")
        salted = hashlib.pbkdf2_hmac("sha256", self.password, base64.b64decode(fields["s"]), int(fields["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        without_proof = f"c=biws,r={fields['r']}"
        message = f"{self.first_bare},{server_first.decode()},{without_proof}".encode()
        signature = hmac.new(hashlib.sha256(client_key).digest(), message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        self.server_signature = hmac.new(server_key, message, hashlib.sha256).digest()
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify(self, server_final: bytes) -> bool:
        text = server_final.decode()
        return text.startswith("v=") and hmac.compare_digest(base64.b64decode(text[2:]), self.server_signature)


class PostgresCheck:
    provider = "db-connection"
    rule_ids = ("db-connection-uri-password",)
    documented: tuple[str, ...] = ()

    def __init__(self, tls_context: ssl.SSLContext | None = None) -> None:
        self.tls_context = tls_context

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        target = target_of(candidate)
        if target is None:
            return unsupported(self.provider, "only postgres:// URIs are validated (connect and authenticate)")
        client = session.client
        address = resolve_pinned(target.host, target.port, resolver=client.resolver,
                                 allow_internal=client.policy.allow_internal)
        session.reserve("CONNECT", f"postgres://{target.user}@{target.host}:{target.port}/{target.database}")
        try:
            with socket.create_connection((address, target.port), timeout=client.limits.connect_timeout) as raw:
                raw.settimeout(client.limits.read_timeout)
                return self._authenticate(raw, target)
        except TimeoutError:
            raise RequestTimeout(f"{target.host} did not answer in time") from None
        except ssl.SSLError as err:
            raise Unusable(f"TLS with {target.host} failed: {err.reason}") from None
        except OSError as err:
            raise Unusable(f"cannot reach {target.host}:{target.port}: {err.__class__.__name__}") from None

    def _authenticate(self, raw: socket.socket, target: PostgresTarget) -> ValidationResult:
        raw.sendall(struct.pack("!II", 8, SSL_REQUEST))
        answer = raw.recv(1)
        sock: socket.socket | ssl.SSLSocket = raw
        if answer == b"S":
            context = self.tls_context or ssl.create_default_context()
            sock = context.wrap_socket(raw, server_hostname=target.host)
        elif answer != b"N":
            raise Unusable("not a Postgres server (no answer to the TLS request)")
        encrypted = answer == b"S"
        wire = _Wire(sock)
        params = b"user\0" + target.user.encode() + b"\0database\0" + target.database.encode() + b"\0\0"
        sock.sendall(struct.pack("!II", len(params) + 8, PROTOCOL_3) + params)
        scram: Scram | None = None
        try:
            while True:
                kind, payload = wire.receive()
                if kind == b"E":
                    fields = error_fields(payload)
                    state = fields.get("C", "")
                    if state in DEAD_STATES:
                        return revoked(self.provider, f"the database refused the login: {DEAD_STATES[state]} ({state})")
                    if state == "3D000":
                        return active(self.provider, "authenticated; the named database does not exist",
                                      identity=Identity(user=target.user, account=target.host))
                    raise Unusable(f"the database answered error {state or '?'} before authenticating")
                if kind != b"R":
                    raise Unusable(f"unexpected message {kind!r} during authentication")
                (code,) = struct.unpack("!I", payload[:4])
                if code == 0:
                    return active(self.provider, "authenticated (no query was sent)",
                                  identity=Identity(user=target.user, account=target.host, project=target.database))
                if code == 3:
                    if not encrypted:
                        raise Unusable("the server asks for the password in clear text without TLS; not sent")
                    wire.send(b"p", target.password.encode() + b"\0")
                elif code == 5:
                    inner = hashlib.md5((target.password + target.user).encode()).hexdigest()
                    outer = hashlib.md5(inner.encode() + payload[4:8]).hexdigest()
                    wire.send(b"p", b"md5" + outer.encode() + b"\0")
                elif code == 10:
                    if b"SCRAM-SHA-256\0" not in payload[4:]:
                        raise Unusable("the server offers no SASL mechanism this check speaks")
                    scram = Scram(target.password)
                    first = scram.first()
                    wire.send(b"p", b"SCRAM-SHA-256\0" + struct.pack("!I", len(first)) + first)
                elif code == 11 and scram is not None:
                    wire.send(b"p", scram.final(payload[4:]))
                elif code == 12 and scram is not None:
                    if not scram.verify(payload[4:]):
                        raise Unusable("the server's SCRAM signature is wrong: not the server it claims to be")
                else:
                    raise Unusable(f"authentication method {code} is not supported")
        finally:
            try:
                wire.send(b"X", b"")
            except OSError:
                pass


VALIDATORS = [PostgresCheck()]
_ = NetError  # re-exported failures surface through the runner

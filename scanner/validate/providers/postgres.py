"""The Postgres side of a database login check: SSLRequest (TLS verified when the server offers it), startup,
then trust, MD5 or SCRAM-SHA-256; AuthenticationOk -> active; SQLSTATE 28P01 / 28000 -> revoked; then
Terminate. No query is ever sent.

Docs: https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP,
https://www.postgresql.org/docs/current/protocol-message-formats.html,
https://www.postgresql.org/docs/current/sasl-authentication.html
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import ssl
import struct

from scanner.validate.providers.dbtarget import PROVIDER, DatabaseTarget
from scanner.validate.result import Identity, ValidationResult, active, revoked
from scanner.validate.session import Unusable

SSL_REQUEST = 80877103
PROTOCOL_3 = 196608
DEAD_STATES = {"28P01": "wrong password", "28000": "the server refuses this user"}


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


def login(raw: socket.socket, target: DatabaseTarget, tls_context: ssl.SSLContext | None) -> ValidationResult:
    """Authenticate on `raw` (already connected to the pinned address); never a query."""
    raw.sendall(struct.pack("!II", 8, SSL_REQUEST))
    answer = raw.recv(1)
    sock: socket.socket | ssl.SSLSocket = raw
    if answer == b"S":
        context = tls_context or ssl.create_default_context()
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
                    return revoked(PROVIDER, f"the database refused the login: {DEAD_STATES[state]} ({state})")
                if state == "3D000":
                    return active(PROVIDER, "authenticated; the named database does not exist",
                                  identity=Identity(user=target.user, account=target.host))
                raise Unusable(f"the database answered error {state or '?'} before authenticating")
            if kind != b"R":
                raise Unusable(f"unexpected message {kind!r} during authentication")
            (code,) = struct.unpack("!I", payload[:4])
            if code == 0:
                return active(PROVIDER, "authenticated (no query was sent)",
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

"""Postgres URIs: a loopback server speaking just enough of the v3 protocol (SSLRequest refused, startup,
SCRAM-SHA-256 or MD5, ErrorResponse 28P01) checks the login; the validator sends no query, only Terminate."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from scanner.validate.result import Candidate, Status
from tests.validatekit import rand, runner_for, validate

SALT, ITERATIONS = os.urandom(16), 4096


@dataclass
class PgServer:
    password: str
    method: str = "scram"
    port: int = 0
    received: list[bytes] = field(default_factory=list)
    connections: int = 0


def _recv_exact(conn: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _message(conn: socket.socket) -> tuple[bytes, bytes]:
    kind = _recv_exact(conn, 1)
    (length,) = struct.unpack("!I", _recv_exact(conn, 4))
    return kind, _recv_exact(conn, length - 4)


def _send(conn: socket.socket, kind: bytes, payload: bytes) -> None:
    conn.sendall(kind + struct.pack("!I", len(payload) + 4) + payload)


def _auth(conn: socket.socket, code: int, data: bytes = b"") -> None:
    _send(conn, b"R", struct.pack("!I", code) + data)


def _fail(conn: socket.socket) -> None:
    _send(conn, b"E", b"SFATAL\0C28P01\0Mpassword authentication failed for user\0\0")


def _scram(conn: socket.socket, password: str) -> bool:
    _auth(conn, 10, b"SCRAM-SHA-256\0\0")
    _, payload = _message(conn)
    mechanism, rest = payload.split(b"\0", 1)
    assert mechanism == b"SCRAM-SHA-256"
    client_first = rest[4:].decode()
    bare = client_first.split(",", 2)[2]
    nonce = dict(p.split("=", 1) for p in bare.split(","))["r"] + base64.b64encode(os.urandom(12)).decode()
    server_first = f"r={nonce},s={base64.b64encode(SALT).decode()},i={ITERATIONS}"
    _auth(conn, 11, server_first.encode())
    _, final = _message(conn)
    without_proof, proof = final.decode().rsplit(",p=", 1)
    message = f"{bare},{server_first},{without_proof}".encode()
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), SALT, ITERATIONS)
    stored = hashlib.sha256(hmac.new(salted, b"Client Key", hashlib.sha256).digest()).digest()
    signature = hmac.new(stored, message, hashlib.sha256).digest()
    client_key = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature, strict=True))
    if hashlib.sha256(client_key).digest() != stored:
        return False
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    _auth(conn, 12, b"v=" + base64.b64encode(hmac.new(server_key, message, hashlib.sha256).digest()))
    return True


def _md5(conn: socket.socket, password: str, user: str) -> bool:
    salt = os.urandom(4)
    _auth(conn, 5, salt)
    _, payload = _message(conn)
    inner = hashlib.md5((password + user).encode()).hexdigest()
    return payload.rstrip(b"\0") == b"md5" + hashlib.md5(inner.encode() + salt).hexdigest().encode()


def _serve_one(server: PgServer, conn: socket.socket) -> None:
    with conn:
        server.connections += 1
        assert struct.unpack("!II", _recv_exact(conn, 8))[1] == 80877103
        conn.sendall(b"N")
        (length,) = struct.unpack("!I", _recv_exact(conn, 4))
        startup = _recv_exact(conn, length - 4)
        fields = startup[4:].split(b"\0")
        user = fields[fields.index(b"user") + 1].decode()
        accepted = _scram(conn, server.password) if server.method == "scram" else _md5(conn, server.password, user)
        if not accepted:
            _fail(conn)
            return
        _auth(conn, 0)
        _send(conn, b"Z", b"I")
        try:
            while True:
                kind, _ = _message(conn)
                server.received.append(kind)
                if kind == b"X":
                    return
        except ConnectionError:
            return


@contextmanager
def pg_server(password: str, method: str = "scram") -> Iterator[PgServer]:
    server = PgServer(password, method)
    listener = socket.create_server(("127.0.0.1", 0))
    server.port = listener.getsockname()[1]
    stop = threading.Event()

    def loop() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(2)
            try:
                _serve_one(server, conn)
            except (ConnectionError, OSError, AssertionError):
                pass

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


def uri_candidate(password: str, port: int, host: str = "127.0.0.1") -> Candidate:
    uri = f"postgres://app_user:{password}@{host}:{port}/appdb"
    return Candidate("db-connection-uri-password", "db-connection", password, {"uri": uri, "user": "app_user"})


@pytest.mark.parametrize("method", ["scram", "md5"])
def test_right_password_authenticates_and_sends_no_query(method: str) -> None:
    password = rand(24)
    with pg_server(password, method) as server:
        result = validate(runner_for("db-connection", "http://127.0.0.1:1"), uri_candidate(password, server.port))
    assert result.status is Status.ACTIVE, result.reason
    assert result.identity.user == "app_user" and result.identity.project == "appdb"
    assert server.received == [b"X"]
    assert result.request is not None and password not in result.request.url


@pytest.mark.parametrize("method", ["scram", "md5"])
def test_wrong_password_is_revoked(method: str) -> None:
    with pg_server(rand(24), method) as server:
        result = validate(runner_for("db-connection", "http://127.0.0.1:1"), uri_candidate(rand(24), server.port))
    assert result.status is Status.REVOKED and "28P01" in result.reason


def test_loopback_database_needs_allow_internal() -> None:
    password = rand(24)
    with pg_server(password) as server:
        runner = runner_for("db-connection", "http://127.0.0.1:1", allow_internal=False)
        result = validate(runner, uri_candidate(password, server.port))
    assert result.status is Status.INDETERMINATE and "loopback" in result.reason
    assert server.connections == 0


def test_other_database_uri_is_unsupported() -> None:
    candidate = Candidate("db-connection-uri-password", "db-connection", "pw",
                          {"uri": "mongodb://root:pw@db.example.com:27017/app"})
    result = validate(runner_for("db-connection", "http://127.0.0.1:1"), candidate)
    assert result.status is Status.UNSUPPORTED and result.requests == ()

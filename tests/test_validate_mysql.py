"""MySQL URIs: a loopback server speaking the connection phase (protocol-10 handshake, HandshakeResponse41,
mysql_native_password or caching_sha2_password fast authentication, auth switch, ERR 1045) checks the login;
the validator sends nothing after it but COM_QUIT."""

from __future__ import annotations

import hashlib
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


@dataclass
class MyServer:
    password: str
    plugin: str = "mysql_native_password"
    switch_to: str | None = None
    port: int = 0
    after_login: list[bytes] = field(default_factory=list)
    connections: int = 0


def _exact(conn: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _read(conn: socket.socket) -> tuple[int, bytes]:
    header = _exact(conn, 4)
    return header[3], _exact(conn, header[0] | header[1] << 8 | header[2] << 16)


def _write(conn: socket.socket, sequence: int, payload: bytes) -> None:
    conn.sendall(struct.pack("<I", len(payload))[:3] + bytes([sequence]) + payload)


def _expected(plugin: str, password: str, nonce: bytes) -> bytes:
    """The scramble computed the way the server's docs define it (independently of the client module)."""
    if plugin == "mysql_native_password":
        stage1 = hashlib.sha1(password.encode()).digest()
        stage2 = hashlib.sha1(stage1).digest()
        return bytes(a ^ b for a, b in zip(stage1, hashlib.sha1(nonce + stage2).digest(), strict=True))
    digest1 = hashlib.sha256(password.encode()).digest()
    digest2 = hashlib.sha256(hashlib.sha256(digest1).digest() + nonce).digest()
    return bytes(a ^ b for a, b in zip(digest1, digest2, strict=True))


def _handshake(nonce: bytes, plugin: str) -> bytes:
    capabilities = 0x1 | 0x8 | 0x200 | 0x8000 | 0x80000  # no CLIENT_SSL: the test server speaks plain TCP
    return (b"\x0a" + b"8.0.36-test\0" + struct.pack("<I", 7) + nonce[:8] + b"\0"
            + struct.pack("<H", capabilities & 0xFFFF) + b"\x21" + struct.pack("<H", 2)
            + struct.pack("<H", capabilities >> 16) + bytes([21]) + bytes(10) + nonce[8:] + b"\0"
            + plugin.encode() + b"\0")


def _serve_one(server: MyServer, conn: socket.socket) -> None:
    server.connections += 1
    nonce = os.urandom(20)
    _write(conn, 0, _handshake(nonce, server.plugin))
    sequence, response = _read(conn)
    at = 4 + 4 + 1 + 23
    user, _, rest = response[at:].partition(b"\0")
    scramble = rest[1 : 1 + rest[0]]
    plugin = server.plugin
    if server.switch_to:
        plugin, nonce = server.switch_to, os.urandom(20)
        _write(conn, sequence + 1, b"\xfe" + plugin.encode() + b"\0" + nonce + b"\0")
        sequence, scramble = _read(conn)
    ok = user == b"app_user" and scramble == _expected(plugin, server.password, nonce)
    if not ok:
        _write(conn, sequence + 1, b"\xff" + struct.pack("<H", 1045) + b"#28000Access denied for user")
        return
    if plugin == "caching_sha2_password":
        _write(conn, sequence + 1, b"\x01\x03")
        sequence += 1
    _write(conn, sequence + 1, b"\x00\x00\x00\x02\x00\x00\x00")
    while True:
        _, packet = _read(conn)
        server.after_login.append(packet)
        if packet == b"\x01":
            return


@contextmanager
def mysql_server(server: MyServer) -> Iterator[MyServer]:
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
            with conn:
                conn.settimeout(2)
                try:
                    _serve_one(server, conn)
                except (ConnectionError, OSError):
                    pass

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


def candidate(password: str, port: int) -> Candidate:
    return Candidate("db-connection-uri-password", "db-connection", password,
                     {"uri": f"mysql://app_user:{password}@127.0.0.1:{port}/app"})


@pytest.mark.parametrize("plugin, switch_to", [("mysql_native_password", None), ("caching_sha2_password", None),
                                               ("caching_sha2_password", "mysql_native_password")])
def test_right_password_logs_in_and_quits(plugin: str, switch_to: str | None) -> None:
    password = rand(20)
    with mysql_server(MyServer(password, plugin, switch_to)) as server:
        result = validate(runner_for("db-connection", "http://127.0.0.1:1"), candidate(password, server.port))
    assert result.status is Status.ACTIVE, result.reason
    assert server.after_login == [b"\x01"]
    assert result.request is not None and password not in result.request.url


@pytest.mark.parametrize("plugin", ["mysql_native_password", "caching_sha2_password"])
def test_wrong_password_is_revoked(plugin: str) -> None:
    with mysql_server(MyServer(rand(20), plugin)) as server:
        result = validate(runner_for("db-connection", "http://127.0.0.1:1"), candidate(rand(20), server.port))
    assert result.status is Status.REVOKED and "1045" in result.reason


def test_loopback_mysql_needs_allow_internal() -> None:
    with mysql_server(MyServer(rand(20))) as server:
        runner = runner_for("db-connection", "http://127.0.0.1:1", allow_internal=False)
        result = validate(runner, candidate(rand(20), server.port))
    assert result.status is Status.INDETERMINATE and server.connections == 0

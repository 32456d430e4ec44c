"""The MySQL/MariaDB side of a database login check: the server's handshake, TLS (verified) when it offers it,
a HandshakeResponse41 with a `mysql_native_password` or `caching_sha2_password` scramble (an auth switch is
followed between the two); OK -> active; ER_ACCESS_DENIED_ERROR (1045) -> revoked; then COM_QUIT. No query is
ever sent, and the password never travels in clear: caching_sha2's full authentication is answered only
over TLS.

Docs: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html,
https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_response.html,
https://dev.mysql.com/doc/dev/mysql-server/latest/page_caching_sha2_authentication_exchanges.html
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import struct

from scanner.validate.providers.dbtarget import PROVIDER, DatabaseTarget
from scanner.validate.result import Identity, ValidationResult, active, revoked
from scanner.validate.session import Unusable

CLIENT_LONG_PASSWORD = 0x1
CLIENT_CONNECT_WITH_DB = 0x8
CLIENT_PROTOCOL_41 = 0x200
CLIENT_SSL = 0x800
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_PLUGIN_AUTH = 0x80000
MAX_PACKET = 1 << 24
ACCESS_DENIED = 1045
AUTHENTICATED_ERRORS = {1044: "authenticated; no access to the named database",
                        1049: "authenticated; the named database does not exist"}


class _Packets:
    """MySQL packets: 3-byte little-endian length, 1-byte sequence id."""

    def __init__(self, sock: socket.socket | ssl.SSLSocket) -> None:
        self.sock = sock
        self.sequence = 0

    def receive(self) -> bytes:
        header = self._exact(4)
        length = header[0] | header[1] << 8 | header[2] << 16
        self.sequence = (header[3] + 1) % 256
        return self._exact(length)

    def send(self, payload: bytes) -> None:
        self.sock.sendall(struct.pack("<I", len(payload))[:3] + bytes([self.sequence]) + payload)
        self.sequence = (self.sequence + 1) % 256

    def _exact(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise Unusable("the database closed the connection mid-packet")
            data += chunk
        return data


def native_scramble(password: str, nonce: bytes) -> bytes:
    """SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password)))."""
    if not password:
        return b""
    once = hashlib.sha1(password.encode()).digest()
    mask = hashlib.sha1(nonce + hashlib.sha1(once).digest()).digest()
    return bytes(a ^ b for a, b in zip(once, mask, strict=True))


def caching_sha2_scramble(password: str, nonce: bytes) -> bytes:
    """SHA256(password) XOR SHA256(SHA256(SHA256(password)) + nonce)."""
    if not password:
        return b""
    once = hashlib.sha256(password.encode()).digest()
    mask = hashlib.sha256(hashlib.sha256(once).digest() + nonce).digest()
    return bytes(a ^ b for a, b in zip(once, mask, strict=True))


SCRAMBLES = {"mysql_native_password": native_scramble, "caching_sha2_password": caching_sha2_scramble}


def _handshake(payload: bytes) -> tuple[int, bytes, str]:
    """(capabilities, 20-byte nonce, auth plugin name) from a protocol-10 initial handshake."""
    if not payload or payload[0] != 10:
        raise Unusable("not a MySQL server (no protocol 10 handshake)")
    at = payload.index(b"\0", 1) + 1 + 4  # server version, connection id
    nonce = payload[at : at + 8]
    at += 8 + 1
    capabilities = struct.unpack("<H", payload[at : at + 2])[0]
    at += 2 + 1 + 2
    capabilities |= struct.unpack("<H", payload[at : at + 2])[0] << 16
    data_length = payload[at + 2]
    at += 3 + 10
    rest = max(13, data_length - 8)
    nonce += payload[at : at + rest].rstrip(b"\0")
    at += rest
    plugin = payload[at:].split(b"\0", 1)[0].decode() or "mysql_native_password"
    return capabilities, nonce[:20], plugin


def login(raw: socket.socket, target: DatabaseTarget, tls_context: ssl.SSLContext | None) -> ValidationResult:
    """Authenticate on `raw` (already connected to the pinned address); never a query."""
    packets = _Packets(raw)
    server_caps, nonce, plugin = _handshake(packets.receive())
    flags = CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH
    flags |= CLIENT_CONNECT_WITH_DB if target.database else 0
    encrypted = bool(server_caps & CLIENT_SSL)
    if encrypted:
        packets.send(struct.pack("<IIB", flags | CLIENT_SSL, MAX_PACKET, 33) + bytes(23))
        context = tls_context or ssl.create_default_context()
        packets.sock = context.wrap_socket(raw, server_hostname=target.host)
        flags |= CLIENT_SSL
    if plugin not in SCRAMBLES:
        plugin = "mysql_native_password"
    scramble = SCRAMBLES[plugin](target.password, nonce)
    response = struct.pack("<IIB", flags, MAX_PACKET, 33) + bytes(23) + target.user.encode() + b"\0"
    response += bytes([len(scramble)]) + scramble
    response += (target.database.encode() + b"\0") if target.database else b""
    response += plugin.encode() + b"\0"
    packets.send(response)
    try:
        return _conclude(packets, target, plugin, encrypted)
    finally:
        packets.sequence = 0
        try:
            packets.send(b"\x01")  # COM_QUIT
        except OSError:
            pass


def _conclude(packets: _Packets, target: DatabaseTarget, plugin: str, encrypted: bool) -> ValidationResult:
    identity = Identity(user=target.user, account=target.host, project=target.database or None)
    for _ in range(4):
        answer = packets.receive()
        if answer[:1] == b"\x00":
            return active(PROVIDER, "authenticated (no query was sent)", identity=identity)
        if answer[:1] == b"\xff":
            code = struct.unpack("<H", answer[1:3])[0]
            if code == ACCESS_DENIED:
                return revoked(PROVIDER, "the database refused the login: access denied (1045)")
            if code in AUTHENTICATED_ERRORS:
                return active(PROVIDER, AUTHENTICATED_ERRORS[code], identity=identity)
            raise Unusable(f"the database answered error {code} during the login")
        if answer[:1] == b"\xfe":  # auth switch: plugin name, new nonce
            name, _, data = answer[1:].partition(b"\0")
            plugin = name.decode()
            if plugin not in SCRAMBLES:
                raise Unusable(f"the server asks for authentication plugin {plugin!r}, which this check does not speak")
            packets.send(SCRAMBLES[plugin](target.password, data.rstrip(b"\0")[:20]))
        elif answer[:2] == b"\x01\x03" and plugin == "caching_sha2_password":
            continue  # fast authentication succeeded; OK follows
        elif answer[:2] == b"\x01\x04" and plugin == "caching_sha2_password":
            if not encrypted:
                raise Unusable("the server wants the password itself (caching_sha2 full authentication) "
                               "without TLS; not sent")
            packets.send(target.password.encode() + b"\0")
        else:
            raise Unusable("unexpected packet during the MySQL login")
    raise Unusable("the MySQL login did not conclude")

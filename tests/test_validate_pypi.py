"""PyPI tokens are read offline: a v2 macaroon built here from the format's spec, with PyPI's caveats."""

from __future__ import annotations

import base64
import json
import secrets

from scanner.validate.providers.pypi import macaroon_caveats, read_caveat
from scanner.validate.result import Candidate, Status
from tests.validatekit import runner_for, validate


def _varint(n: int) -> bytes:
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def _field(kind: int, data: bytes) -> bytes:
    return _varint(kind) + _varint(len(data)) + data


def macaroon(location: bytes, caveats: list[bytes]) -> str:
    """A v2 binary macaroon (libmacaroons format.txt): header section, caveat sections, end, signature."""
    raw = b"\x02" + _field(1, location) + _field(2, secrets.token_hex(16).encode()) + b"\x00"
    for caveat in caveats:
        raw += _field(2, caveat) + b"\x00"
    raw += b"\x00" + _field(6, secrets.token_bytes(32))
    return "pypi-" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_project_scoped_token_with_expiry() -> None:
    token = macaroon(b"pypi.org", [json.dumps([1, ["acme-sdk", "acme-cli"]]).encode(),
                                   json.dumps([0, 1796644800, 1765000000]).encode()])
    result = validate(runner_for("pypi", "http://127.0.0.1:9"), Candidate("pypi-upload-token", "pypi", token))
    assert result.status is Status.UNSUPPORTED and "offline" in result.reason
    assert result.scopes == ("project:acme-sdk", "project:acme-cli")
    assert result.expires_at is not None and result.expires_at.year == 2026
    assert result.requests == ()


def test_legacy_user_wide_token() -> None:
    token = macaroon(b"pypi.org", [json.dumps({"version": 1, "permissions": "user"}).encode()])
    result = validate(runner_for("pypi", "http://127.0.0.1:9"), Candidate("pypi-upload-token", "pypi", token))
    assert result.scopes == ("user",)


def test_caveat_forms() -> None:
    assert read_caveat(b'{"version": 1, "permissions": {"projects": ["x"]}}') == {"projects": ["x"]}
    assert read_caveat(b"[3, 42]") == {"user": "42"}
    assert "unknown" in read_caveat(b"\xff")


def test_garbage_is_indeterminate() -> None:
    result = validate(runner_for("pypi", "http://127.0.0.1:9"),
                      Candidate("pypi-upload-token", "pypi", "pypi-AgEIcHlwaS5vcmc" + "A" * 60))
    assert result.status is Status.INDETERMINATE and "macaroon" in result.reason
    assert macaroon_caveats(base64.urlsafe_b64decode(macaroon(b"pypi.org", [b"[3, 1]"])[5:] + "==="))[1] == [b"[3, 1]"]

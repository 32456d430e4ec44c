"""PyPI upload tokens: no read-only check exists (the only endpoint a token opens is upload), so the token's
macaroon is decoded offline and its caveats give its scope (whole user, or named projects) and expiry.
The result is `unsupported` for liveness, with the scope filled in.

Docs: https://pypi.org/help/#apitoken, macaroon v2 binary format: https://github.com/rescrv/libmacaroons/blob/master/doc/format.txt
"""

from __future__ import annotations

import base64
import json
from typing import Any

from scanner.validate.base import parse_time
from scanner.validate.result import Candidate, ValidationResult, unsupported
from scanner.validate.session import ProviderSession, Unusable

FIELD_LOCATION, FIELD_IDENTIFIER, FIELD_VID, FIELD_SIGNATURE = 1, 2, 4, 6


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, at
        shift += 7


def macaroon_caveats(raw: bytes) -> tuple[bytes, list[bytes]]:
    """(identifier, caveat identifiers) of a v2 binary macaroon."""
    if not raw or raw[0] != 2:
        raise ValueError("not a v2 macaroon")
    at = 1
    sections: list[list[tuple[int, bytes]]] = []
    current: list[tuple[int, bytes]] = []
    while at < len(raw):
        kind, at = _varint(raw, at)
        if kind == 0:  # end of a section
            sections.append(current)
            current = []
            if len(sections) > 1 and not sections[-1]:
                break  # an empty section ends the caveats
            continue
        length, at = _varint(raw, at)
        value, at = raw[at : at + length], at + length
        if len(value) != length:
            raise ValueError("truncated field")
        if kind == FIELD_SIGNATURE:
            break
        current.append((kind, value))
    identifiers = [value for section in sections for kind, value in section if kind == FIELD_IDENTIFIER]
    if not identifiers:
        raise ValueError("no identifier")
    return identifiers[0], identifiers[1:]


def read_caveat(raw: bytes) -> dict[str, Any]:
    """One caveat as {"projects": [...]} / {"user": id} / {"expires": t, "not_before": t} / {"scope": "user"}."""
    try:
        value = json.loads(raw)
    except ValueError:
        return {"unknown": raw[:40].decode("utf-8", "replace")}
    if isinstance(value, dict):  # legacy v1: {"version": 1, "permissions": "user" | {"projects": [...]}}
        permissions = value.get("permissions")
        if permissions == "user":
            return {"scope": "user"}
        if isinstance(permissions, dict):
            return {"projects": [str(p) for p in permissions.get("projects", [])]}
        if "exp" in value:
            return {"expires": value.get("exp"), "not_before": value.get("nbf")}
    if isinstance(value, list) and value and isinstance(value[0], int):
        tag, args = value[0], value[1:]
        if tag == 0 and len(args) >= 2:
            return {"expires": args[0], "not_before": args[1]}
        if tag == 1 and args and isinstance(args[0], list):
            return {"projects": [str(p) for p in args[0]]}
        if tag == 2 and args and isinstance(args[0], list):
            return {"project_ids": [str(p) for p in args[0]]}
        if tag == 3 and args:
            return {"user": str(args[0])}
    return {"unknown": str(value)[:40]}


class UploadTokenCheck:
    provider = "pypi"
    rule_ids = ("pypi-upload-token",)
    documented: tuple[str, ...] = ()

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        body = candidate.secret.removeprefix("pypi-")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            _identifier, caveats = macaroon_caveats(raw)
        except ValueError as err:
            raise Unusable(f"the token's macaroon cannot be decoded: {err}") from None
        readings = [read_caveat(c) for c in caveats]
        projects = [p for r in readings for p in r.get("projects", [])]
        scopes = tuple(f"project:{p}" for p in projects) or ("user",)
        expiry = next((parse_time(r["expires"]) for r in readings if r.get("expires")), None)
        location = "test.pypi.org" if b"test.pypi.org" in raw[:40] else "pypi.org"
        return unsupported(
            self.provider,
            f"{location} has no read-only token check; scope read offline from the token's caveats",
            scopes=scopes,
            resources=tuple(f"{location}/project/{p}" for p in projects),
            expires_at=expiry,
        )


VALIDATORS = [UploadTokenCheck()]

"""Offline format checks: a candidate that fails one is not the credential it looks like.

Each check takes the secret (and the other named groups) and returns
True (structure confirmed), False (structure broken) or None (cannot tell).
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _in_base(n: int, width: int, digits: str) -> str:
    """n written with these digits (their count is the base), zero-padded to width."""
    out = ""
    while n:
        n, r = divmod(n, len(digits))
        out = digits[r] + out
    return out.rjust(width, "0")


def _crc32_token(secret: str) -> bool | None:
    """GitHub (ghp_, gho_, ghu_, ghs_, ghr_) and npm (npm_) tokens end in a base62 CRC32 of their body."""
    prefix, _, rest = secret.partition("_")
    if len(rest) != 36:
        return None
    body, checksum = rest[:30], rest[30:]
    return _in_base(binascii.crc32(body.encode()), 6, _BASE62) == checksum


def _grafana_sa_checksum(secret: str) -> bool | None:
    """Grafana service account tokens (glsa_<32>_<8 hex>) end in the CRC32 (IEEE) of glsa_<32>, its four
    bytes little-endian in hex (grafana/grafana pkg/components/satokengen)."""
    key, _, checksum = secret.rpartition("_")
    if not key.startswith("glsa_") or len(checksum) != 8:
        return None
    return binascii.crc32(key.encode()).to_bytes(4, "little").hex() == checksum.lower()


_ROUTABLE = re.compile(r"^(?P<head>[a-z]+-(?P<payload>[\w\-]+)\.[0-9a-z]{2}\.(?P<length>[0-9a-z]{2}))(?P<crc>[0-9a-z]{7})$")


def _gitlab_routable(secret: str) -> bool | None:
    """GitLab routable tokens (glpat-<base64url payload>.<version>.<payload length>, both base36 in two
    characters) end in the CRC32 of all before it in base36, seven characters (gitlab
    lib/authn/token_field/generator/routable_token.rb); the legacy 20-character form has no checksum."""
    m = _ROUTABLE.match(secret)
    if m is None:
        return None
    return int(m["length"], 36) == len(m["payload"]) and _in_base(binascii.crc32(m["head"].encode()), 7, _BASE36) == m["crc"]


_AWS_ID_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "APKA", "AROA", "ASCA", "A3T")


def _aws_key_id(secret: str) -> bool | None:
    """AWS key ids are base32 (A-Z, 2-7) after a known four-letter prefix."""
    if not secret.startswith(_AWS_ID_PREFIXES) or len(secret) != 20:
        return False
    return all(c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" for c in secret[4:])


def _b64json(segment: str) -> object:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


def _jwt(secret: str) -> bool | None:
    """A JWT's header is base64url JSON naming an algorithm; its payload is JSON too."""
    parts = secret.split(".")
    if len(parts) < 2:
        return False
    try:
        header = _b64json(parts[0])
        payload = _b64json(parts[1])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header and isinstance(payload, dict)


def _pem_body(secret: str) -> bool | None:
    """A PEM private key's body is base64 of a plausible length, not a template."""
    lines = [ln.strip() for ln in secret.strip().splitlines()]
    body = "".join(ln for ln in lines if ln and not ln.startswith("-----") and ":" not in ln)
    body = body.replace("\\n", "").replace('"', "").replace("\\", "")
    if len(body) < 40:
        return False
    try:
        base64.b64decode(body + "=" * (-len(body) % 4), validate=False)
    except binascii.Error:
        return False
    return True


def _has_digit(secret: str) -> bool | None:
    """Random keys of 20+ characters almost always hold a digit; camelCase identifiers do not."""
    return any(c.isdigit() for c in secret)


_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*(?:\(\))?$")


def _not_identifier(secret: str) -> bool | None:
    """An unquoted value such as fallback_getpass or self.passwd is a variable, not a password, and
    Read-Host or Get-Credential is the PowerShell command that asks for one.

    Only names with a separator count: a bare word such as ouNunzkIRlDbP may well be a password."""
    looks_like_name = any(c in secret for c in "_.$(") and _IDENTIFIER.match(secret)
    return not (looks_like_name or _CMDLET.match(secret))


# A PowerShell command: an approved verb, a dash, a noun (`$Password = Read-Host -AsSecureString`).
_CMDLET = re.compile(
    r"^(?:Get|Set|Read|New|Import|Export|ConvertTo|ConvertFrom|Invoke|Select|Write|Out|Test|Resolve|Protect|"
    r"Unprotect|Find|Request|Receive|Add)-[A-Z][A-Za-z]{1,40}$")


# Parts no longer than words (a token's random run is longer): sk_<32 random> is no name.
_CODE_NAME = re.compile(
    r"^(?:[a-z][a-z0-9]{0,11}(?:_[a-z0-9]{1,12}){2,}"  # snake_case: gss_krb5_rfc1964_keydata
    r"|[A-Za-z_][A-Za-z0-9_]{0,23}(?:\.[A-Za-z_][A-Za-z0-9_]{0,23}){1,4}[.,;:]?)$"  # a dotted path (a sentence may end it)
)


def _not_code_name(secret: str) -> bool | None:
    """A value under a name ending in key that is itself a name in code (a dotted type or module path, a
    snake_case identifier) is a reference, not a key: x25519_key: x25519.X25519PrivateKey.
    Guarded by the negative examples of generic-key-suffix-assignment."""
    return not (_not_identifier(secret) is False or _CODE_NAME.match(secret))


CHECKS: dict[str, Callable[[str], bool | None]] = {
    "not-identifier": _not_identifier,
    "not-code-name": _not_code_name,
    "has-digit": _has_digit,
    "github-checksum": _crc32_token,
    "npm-checksum": _crc32_token,
    "grafana-sa-checksum": _grafana_sa_checksum,
    "gitlab-routable-checksum": _gitlab_routable,
    "aws-key-id": _aws_key_id,
    "jwt": _jwt,
    "pem": _pem_body,
}


def run_check(name: str, secret: str) -> bool | None:
    return CHECKS[name](secret)

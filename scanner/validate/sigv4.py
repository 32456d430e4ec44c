"""AWS Signature Version 4 request signing (header form), on hashlib and hmac.

Invariant: reproduces AWS's documented example (IAM ListUsers, AKIDEXAMPLE, 20150830T123600Z): canonical
request hash f536975d..., signature 5d672d79... (tests/test_validate_aws.py::test_sigv4_documented_example).
Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode(), day)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return "&".join(f"{_uri_encode(k)}={_uri_encode(v)}" for k, v in sorted(pairs))


def canonical_request(method: str, url: str, headers: Mapping[str, str], payload: bytes) -> tuple[str, str]:
    """(canonical request, signed header names) for a request whose `headers` include host."""
    parts = urlsplit(url)
    path = quote(parts.path or "/", safe="/-_.~")
    lowered = {name.lower().strip(): " ".join(value.strip().split()) for name, value in headers.items()}
    names = sorted(lowered)
    header_block = "".join(f"{name}:{lowered[name]}\n" for name in names)
    signed = ";".join(names)
    body_hash = hashlib.sha256(payload).hexdigest()
    text = "\n".join([method.upper(), path, canonical_query(parts.query), header_block, signed, body_hash])
    return text, signed


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    payload: bytes,
    credentials: Credentials,
    region: str,
    service: str,
    moment: datetime,
) -> dict[str, str]:
    """`headers` plus X-Amz-Date, the session token if any, and Authorization. `headers` must name Host."""
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    signed_headers = {**headers, "X-Amz-Date": stamp}
    if credentials.session_token:
        signed_headers["X-Amz-Security-Token"] = credentials.session_token
    request_text, signed_names = canonical_request(method, url, signed_headers, payload)
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(request_text.encode()).hexdigest()])
    signature = hmac.new(
        signing_key(credentials.secret_access_key, day, region, service), to_sign.encode(), hashlib.sha256
    ).hexdigest()
    authorization = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={signed_names}, Signature={signature}"
    )
    return {**signed_headers, "Authorization": authorization}

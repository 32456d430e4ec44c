"""GCP service-account keys: the loopback token endpoint verifies the RS256 assertion with the key's public
half, so a deleted (unknown) key is refused as Google refuses it; testIamPermissions drives the privilege."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

import pytest

pytest.importorskip("cryptography", reason="GCP key signing needs the cryptography dependency")

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from scanner.validate.result import Candidate, Privilege, Status
from tests.providerserver import Received, Reply
from tests.providerserver import serving as serve
from tests.validatekit import load_fixture, rand, reply_of, runner_for, validate

FIXTURE = load_fixture("gcp")
EMAIL = "deployer@acme-prod.iam.gserviceaccount.com"


def key_file(private: rsa.RSAPrivateKey) -> str:
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return json.dumps({"type": "service_account", "project_id": "acme-prod", "private_key_id": rand(40, "0123456789abcdef"),
                       "private_key": pem, "client_email": EMAIL, "token_uri": "http://169.254.169.254/token"})


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def google(public: rsa.RSAPublicKey, seen: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    routes = {path: reply_of(spec) for path, spec in FIXTURE["cases"]["active"]["routes"].items()}

    def respond(received: Received) -> Reply:
        path = received.path.split("?", 1)[0]
        if path == "/token":
            assertion = parse_qs(received.body.decode())["assertion"][0]
            head, claims, signature = assertion.split(".")
            try:
                public.verify(_unb64(signature), f"{head}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature:
                return reply_of(FIXTURE["cases"]["revoked"])
            seen.append(json.loads(_unb64(claims)))
        if path.endswith(":testIamPermissions"):
            assert received.header("Authorization") == "Bearer placeholder-access-token"
        return routes.get(path, Reply(404, {}, b""))

    return respond


def test_live_key_is_active_with_project_permissions() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims: list[dict[str, object]] = []
    candidate = Candidate("gcp-service-account-key-file", "gcp", key_file(private))
    with serve(google(private.public_key(), claims)) as server:
        result = validate(runner_for("gcp", server.url), candidate)
    assert result.status is Status.ACTIVE, result.reason
    assert result.identity.user == EMAIL and result.identity.project == "acme-prod"
    assert "permission:storage.buckets.create" in result.scopes
    assert result.privilege is Privilege.WRITE and "gcp:storage" in result.reach
    assert claims[0]["iss"] == EMAIL and str(claims[0]["aud"]).endswith("/token")
    assert [r.path.split("?")[0] for r in server.requests] == [
        "/token", "/tokeninfo", "/v1/projects/acme-prod:testIamPermissions"]
    text = json.dumps(result.to_dict())
    assert "PRIVATE KEY" not in text and "placeholder-access-token" not in text
    assert "169.254.169.254" not in text  # the key file's own token_uri is never used


def test_deleted_key_is_revoked() -> None:
    served, other = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    candidate = Candidate("gcp-service-account-key-file", "gcp", key_file(other))
    with serve(google(served.public_key(), [])) as server:
        result = validate(runner_for("gcp", server.url), candidate)
    assert result.status is Status.REVOKED and "Invalid JWT Signature" in result.reason
    assert len(server.requests) == 1


def test_key_from_paired_values() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fields = json.loads(key_file(private))
    candidate = Candidate("gcp-service-account-key-file", "gcp", "service_account",
                          {k: fields[k] for k in ("private_key", "client_email", "private_key_id", "project_id")})
    with serve(google(private.public_key(), [])) as server:
        result = validate(runner_for("gcp", server.url), candidate)
    assert result.status is Status.ACTIVE

"""AWS: the SigV4 signer against AWS's documented example; STS GetCallerIdentity against a loopback STS that
checks the signature with the key's secret; IAM policies read for permission analysis."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest

from scanner.validate.permissions import analyze
from scanner.validate.providers.aws import allowed_actions, principal_of
from scanner.validate.result import Candidate, Privilege, Status
from scanner.validate.sigv4 import Credentials, canonical_request, sign, signing_key
from tests.providerserver import Received, Reply, serving
from tests.validatekit import load_fixture, rand, reply_of, runner_for, validate

UPPER32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ALNUM_SLASH = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"


def test_sigv4_documented_example() -> None:
    """AWS's worked example: IAM ListUsers, AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1 (IAM User Guide)."""
    url = "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"
    headers = {"Host": "iam.amazonaws.com", "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    text, signed = canonical_request("GET", url, {**headers, "X-Amz-Date": "20150830T123600Z"}, b"")
    assert hashlib.sha256(text.encode()).hexdigest() == (
        "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
    )
    assert signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam").hex() == (
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
    )
    out = sign("GET", url, headers, b"", Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
               "us-east-1", "iam", datetime(2015, 8, 30, 12, 36, tzinfo=UTC))
    assert out["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    )
    assert signed == "content-type;host;x-amz-date"


ACTIONS = load_fixture("aws")["actions"]


def aws_server(key_id: str, secret: str, *, iam_denied: bool = False):  # type: ignore[no-untyped-def]
    """An STS/IAM stand-in that recomputes each request's SigV4 signature with the key's secret."""

    def respond(received: Received) -> Reply:
        auth = received.header("Authorization") or ""
        query = received.path.split("?", 1)[1] if "?" in received.path else ""
        action = (parse_qs(query) or parse_qs(received.body.decode())).get("Action", [""])[0]
        if f"Credential={key_id}/" not in auth:
            return reply_of(ACTIONS["InvalidClientTokenId"])
        names = auth.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
        headers = {n: received.header(n) or "" for n in names}
        url = f"http://{received.header('Host')}{received.path}"
        text, _ = canonical_request(received.method, url, headers, received.body)
        stamp = received.header("X-Amz-Date") or ""
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/", 1)[1]
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(text.encode()).hexdigest()])
        day, region, service, _ = scope.split("/")
        expected = hmac.new(signing_key(secret, day, region, service), to_sign.encode(), hashlib.sha256).hexdigest()
        if not auth.endswith(f"Signature={expected}"):
            return reply_of(ACTIONS["SignatureDoesNotMatch"])
        if action != "GetCallerIdentity" and iam_denied:
            return reply_of(ACTIONS["AccessDenied"])
        return reply_of(ACTIONS[action]) if action in ACTIONS else Reply(400, {}, b"")

    return respond


def new_key() -> tuple[str, str]:
    return "AKIA" + rand(16, UPPER32), rand(40, ALNUM_SLASH)


def test_live_key_names_its_caller_and_admin_inline_policy() -> None:
    key_id, secret = new_key()
    candidate = Candidate("aws-secret-access-key", "aws", secret, {"key_id": key_id})
    with serving(aws_server(key_id, secret)) as server:
        result = validate(runner_for("aws", server.url), candidate)
    assert result.status is Status.ACTIVE, result.reason
    assert result.identity.account == "123456789012"
    assert result.identity.user == "arn:aws:iam::123456789012:user/deploy-bot"
    assert "managed:ci-deploy" in result.scopes and "allow:s3:GetObject" in result.scopes
    assert "allow:*" in result.scopes
    assert result.privilege is Privilege.ADMIN and "*" in result.reach
    assert secret not in repr(result.to_dict())
    actions = [parse_qs(r.path.split("?", 1)[1])["Action"][0] for r in server.requests[1:]]
    assert actions == ["ListAttachedUserPolicies", "GetPolicy", "GetPolicyVersion", "ListUserPolicies",
                       "GetUserPolicy"]


def test_key_id_rule_pairs_with_its_secret() -> None:
    key_id, secret = new_key()
    candidate = Candidate("aws-access-key-id", "aws", key_id, {"secret_access_key": secret})
    with serving(aws_server(key_id, secret, iam_denied=True)) as server:
        result = validate(runner_for("aws", server.url), candidate)
    assert result.status is Status.ACTIVE and "not readable" in result.reason
    assert result.scopes == () and result.privilege is None


@pytest.mark.parametrize("which", ["wrong secret", "unknown key id"])
def test_dead_keys_are_revoked(which: str) -> None:
    key_id, secret = new_key()
    other_id, other_secret = new_key()
    candidate = Candidate("aws-secret-access-key", "aws", other_secret if which == "wrong secret" else secret,
                          {"key_id": key_id if which == "wrong secret" else other_id})
    with serving(aws_server(key_id, secret)) as server:
        result = validate(runner_for("aws", server.url), candidate)
    assert result.status is Status.REVOKED
    assert ("SignatureDoesNotMatch" if which == "wrong secret" else "InvalidClientTokenId") in result.reason


def test_unpaired_secret_is_indeterminate_without_a_request() -> None:
    with serving(aws_server(*new_key())) as server:
        result = validate(runner_for("aws", server.url), Candidate("aws-secret-access-key", "aws", new_key()[1]))
    assert result.status is Status.INDETERMINATE and "key id" in result.reason and server.requests == []


def test_policy_reading() -> None:
    assert principal_of("arn:aws:iam::123456789012:user/team/deploy-bot") == ("user", "deploy-bot")
    assert principal_of("arn:aws:sts::123456789012:assumed-role/ci/session-1") == ("role", "ci")
    assert principal_of("arn:aws:iam::123456789012:root") is None
    wide = "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%7D"
    assert allowed_actions(wide) == ["allow:*"]
    assert allowed_actions("not json") == []


def test_read_only_managed_policy_is_read_privilege() -> None:
    from scanner.validate.result import active

    result = analyze(active("aws", scopes=("managed:ReadOnlyAccess",)))
    assert result.privilege is Privilege.READ

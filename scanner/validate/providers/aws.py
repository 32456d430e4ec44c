"""AWS: STS GetCallerIdentity, SigV4-signed, names the account and the caller's ARN; then, where the caller
may read them, its attached and inline IAM policies (user or role), for permission analysis.

A secret key needs its access key id (`key_id`, found beside it); a key id needs its secret
(`secret_access_key`); temporary (ASIA) keys need `session_token`.
Docs: https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html,
https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html,
https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAttachedUserPolicies.html,
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetUserPolicy.html
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import unquote, urlencode

from scanner.net.http import Response, host_header
from scanner.validate.result import (
    Candidate,
    Identity,
    ValidationResult,
    active,
    revoked,
)
from scanner.validate.session import ProviderSession, Unusable
from scanner.validate.sigv4 import Credentials, sign

STS = "https://sts.amazonaws.com"
IAM = "https://iam.amazonaws.com"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
DEAD_CODES = {
    "InvalidClientTokenId": "AWS does not know this access key id (deleted, or never valid)",
    "SignatureDoesNotMatch": "the secret does not match this access key id (rotated, or not its secret)",
    "ExpiredToken": "the session token has expired",
    "InvalidAccessKeyId": "AWS does not know this access key id",
}
MAX_POLICY_READS = 4


def tag(xml: str, name: str) -> str | None:
    """The text of the first <name> element (AWS query-API answers are flat enough for this)."""
    found = re.search(rf"<{name}>([^<]*)</{name}>", xml)
    return found.group(1).strip() if found else None


def tags(xml: str, name: str) -> list[str]:
    return [value.strip() for value in re.findall(rf"<{name}>([^<]*)</{name}>", xml)]


def credentials_of(candidate: Candidate) -> Credentials:
    key_id: str | None
    secret: str | None
    if candidate.rule_id == "aws-access-key-id":
        key_id, secret = candidate.secret, candidate.group("secret_access_key")
    else:
        key_id, secret = candidate.group("key_id", "access_key_id"), candidate.group("secret_access_key")
        if candidate.rule_id == "aws-secret-access-key":
            secret = candidate.secret
    token = candidate.secret if candidate.rule_id == "aws-session-token" else candidate.group("session_token")
    if not key_id or not secret:
        raise Unusable("needs both the access key id and its secret; the pair was not found together")
    if key_id.startswith("ASIA") and not token:
        raise Unusable("a temporary (ASIA) key needs its session token, and none was found beside it")
    return Credentials(key_id, secret, token)


class CallerIdentityCheck:
    provider = "aws"
    rule_ids = ("aws-secret-access-key", "aws-access-key-id", "aws-session-token")
    documented = (STS, IAM)

    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.now = now

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        credentials = credentials_of(candidate)
        body = urlencode({"Action": "GetCallerIdentity", "Version": "2011-06-15"}).encode()
        response = self._signed(session, credentials, "POST", session.base_url(STS) + "/", body, "sts")
        xml = response.text()
        if response.status != 200:
            code = tag(xml, "Code")
            if code in DEAD_CODES:
                return revoked(self.provider, f"{DEAD_CODES[code]} ({code})")
            raise Unusable(f"unexpected answer ({response.status} {code or 'no error code'}) from STS")
        arn, account = tag(xml, "Arn"), tag(xml, "Account")
        if not arn or not account:
            raise Unusable("STS answered 200 without an Arn")
        scopes, note = self._policies(session, credentials, arn)
        kind = "temporary" if credentials.access_key_id.startswith("ASIA") else "long-term"
        return active(
            self.provider,
            f"{kind} key of {arn}" + (f"; {note}" if note else ""),
            identity=Identity(account=account, user=arn, project=tag(xml, "UserId")),
            scopes=scopes,
            resources=(arn,),
        )

    def _signed(
        self, session: ProviderSession, credentials: Credentials, method: str, url: str, body: bytes, service: str
    ) -> Response:
        headers = {"Host": host_header(url), "Content-Type": FORM}
        signed = sign(method, url, headers, body, credentials, "us-east-1", service, self.now())
        return session.request(method, url, headers=signed, body=body or None)

    def _iam(self, session: ProviderSession, credentials: Credentials, **params: str) -> str | None:
        """One IAM query action's XML, or None when the caller may not read it."""
        query = urlencode({**params, "Version": "2010-05-08"})
        response = self._signed(session, credentials, "GET", f"{session.base_url(IAM)}/?{query}", b"", "iam")
        return response.text() if response.status == 200 else None

    def _policies(self, session: ProviderSession, credentials: Credentials, arn: str) -> tuple[tuple[str, ...], str]:
        """Scopes `managed:NAME` and `allow:ACTION` (on Resource *) from the caller's readable policies."""
        principal = principal_of(arn)
        if principal is None:
            return (), "policies not read: the caller is neither an IAM user nor a role"
        kind, name = principal
        noun = "User" if kind == "user" else "Role"
        attached = self._iam(session, credentials, Action=f"ListAttached{noun}Policies", **{f"{noun}Name": name})
        if attached is None:
            return (), "its IAM policies are not readable with this key"
        scopes = [f"managed:{n}" for n in tags(attached, "PolicyName")]
        reads = 0
        for policy_arn in tags(attached, "PolicyArn"):
            if policy_arn.startswith("arn:aws:iam::aws:policy/") or reads >= MAX_POLICY_READS:
                continue
            policy = self._iam(session, credentials, Action="GetPolicy", PolicyArn=policy_arn)
            version = tag(policy or "", "DefaultVersionId")
            reads += 1
            if version:
                document = self._iam(session, credentials, Action="GetPolicyVersion", PolicyArn=policy_arn,
                                     VersionId=version)
                scopes += allowed_actions(tag(document or "", "Document"))
        inline = self._iam(session, credentials, Action=f"List{noun}Policies", **{f"{noun}Name": name}) or ""
        for policy_name in tags(inline, "member")[:MAX_POLICY_READS]:
            document = self._iam(session, credentials, Action=f"Get{noun}Policy", PolicyName=policy_name,
                                 **{f"{noun}Name": name})
            scopes += allowed_actions(tag(document or "", "PolicyDocument"))
        return tuple(dict.fromkeys(scopes)), ""


def principal_of(arn: str) -> tuple[str, str] | None:
    """("user", name) for an IAM user ARN, ("role", name) for an assumed-role ARN, else None."""
    user = re.fullmatch(r"arn:aws[\w-]*:iam::\d{12}:user/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)", arn)
    if user:
        return "user", user.group(1)
    role = re.fullmatch(r"arn:aws[\w-]*:sts::\d{12}:assumed-role/([\w+=,.@-]+)/.+", arn)
    return ("role", role.group(1)) if role else None


def allowed_actions(encoded: str | None) -> list[str]:
    """`allow:ACTION` for each action an Allow statement grants on Resource "*" (URL-encoded JSON policy)."""
    if not encoded:
        return []
    try:
        document = json.loads(unquote(encoded))
    except ValueError:
        return []
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    statements = [statements] if isinstance(statements, dict) else statements
    found: list[str] = []
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if "*" in resources:
            found += [f"allow:{action}" for action in actions if isinstance(action, str)]
    return found


VALIDATORS = [CallerIdentityCheck()]

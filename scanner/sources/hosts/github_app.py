"""GitHub App authentication: an RS256 app JWT, then an installation token renewed before it expires.

Flow (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/
generating-a-json-web-token-jwt-for-a-github-app and .../generating-an-installation-access-token-
for-a-github-app): the app signs a JWT (iat 60 s in the past against clock drift, exp at most 10
minutes ahead, iss the app id) with its private key; POST /app/installations/{id}/access_tokens
with that JWT answers an installation token valid one hour. The private key is read once into
memory; tokens are never written anywhere (tests/test_hosts.py::test_github_app_*).
"""
from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from scanner.sources.hosts.auth import GitAuth
from scanner.sources.hosts.base import HostError, HttpClient, scrub

JWT_LIFETIME = 540  # seconds; GitHub refuses more than 600
JWT_BACKDATE = 60
RENEW_MARGIN = 300.0  # renew the installation token when it has less than this left
_API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "secret-sprawl"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    """The app's RSA private key from its PEM file (the error names the file, never its content)."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise HostError(f"cannot read the GitHub App private key {path}: {exc.strerror or exc}") from None
    except (ValueError, TypeError):
        raise HostError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise HostError(f"{path} is not an RSA key (GitHub App keys are RSA)")
    return key


@dataclass
class GitHubApp:
    """A GitHub App acting as one installation; a `Credential` whose token renews itself."""

    app_id: str
    private_key: rsa.RSAPrivateKey = field(repr=False)
    api_base: str
    http: HttpClient
    installation_id: int | None = None
    clock: Callable[[], float] = time.time
    renew_margin: float = RENEW_MARGIN
    minted: int = field(default=0, init=False)  # installation tokens minted so far
    _token: str = field(default="", init=False, repr=False)
    _expires_at: float = field(default=0.0, init=False)

    @classmethod
    def from_key_file(cls, app_id: str, key_file: Path, *, api_base: str, http: HttpClient,
                      installation_id: int | None = None, clock: Callable[[], float] = time.time) -> GitHubApp:
        return cls(str(app_id), load_private_key(key_file), api_base.rstrip("/"), http, installation_id, clock)

    def app_jwt(self) -> str:
        """A fresh RS256 JWT that authenticates as the app itself."""
        now = int(self.clock())
        head = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}, separators=(",", ":")).encode())
        claims = {"iat": now - JWT_BACKDATE, "exp": now + JWT_LIFETIME, "iss": self.app_id}
        body = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = self.private_key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{head}.{body}.{_b64url(signature)}"

    def find_installation(self, org: str) -> int:
        """The app's installation id on an organisation (GET /orgs/{org}/installation)."""
        url = f"{self.api_base}/orgs/{quote(org, safe='')}/installation"
        data = self._call("GET", url, "finding its installation on " + org)
        if not isinstance(data.get("id"), int):
            raise HostError(f"github: the app's installation on {org} has no id")
        self.installation_id = data["id"]
        return data["id"]

    def installation_token(self) -> str:
        """The current installation token, minted anew when it has less than `renew_margin` left."""
        if self._token and self.clock() < self._expires_at - self.renew_margin:
            return self._token
        if self.installation_id is None:
            raise HostError("github: a GitHub App needs an installation id (or an org to find it on)")
        url = f"{self.api_base}/app/installations/{self.installation_id}/access_tokens"
        data = self._call("POST", url, "minting an installation token")
        token = data.get("token")
        if not isinstance(token, str) or not token:
            raise HostError("github: the installation token answer holds no token")
        self._token, self._expires_at = token, _expiry(data.get("expires_at"), self.clock())
        self.minted += 1
        return token

    def api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.installation_token()}"}

    def git_auth(self) -> GitAuth:
        return GitAuth("x-access-token", self.installation_token())

    def secrets(self) -> tuple[str, ...]:
        if not self._token:
            return ()
        return (self._token, GitAuth("x-access-token", self._token).basic())

    def _call(self, method: str, url: str, doing: str) -> dict:
        headers = {**_API_HEADERS, "Authorization": f"Bearer {self.app_jwt()}"}
        response = self.http.post(url, headers, b"") if method == "POST" else self.http.get(url, headers)
        try:
            data = json.loads(response.body)
        except ValueError:
            data = None
        if not 200 <= response.status < 300 or not isinstance(data, dict):
            message = data.get("message", "") if isinstance(data, dict) else ""
            detail = scrub(" ".join(str(message).split())[:200], self.secrets())
            raise HostError(f"github: app {self.app_id} {doing} answered {response.status}"
                            + (f"; {detail}" if detail else ""))
        return data


def _expiry(value: object, now: float) -> float:
    """`expires_at` ("2016-07-11T22:14:10Z") as epoch seconds; an hour from now when absent."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            pass
    return now + 3600.0

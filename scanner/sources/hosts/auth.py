"""Host credentials from the environment: the API headers and the git credentials of one token.

A credential lives only in memory: it is never written to disk, into a mirror's config or into an
error message (tests/test_hosts.py::test_errors_never_hold_the_token, tests/test_mirrors.py).
Every use asks the credential again, so a GitHub App's installation token can renew in between.
"""
from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from scanner.sources.hosts.base import HostKind

# The variables each host's token is read from, first found wins.
TOKEN_VARIABLES: dict[HostKind, tuple[str, ...]] = {
    "github": ("GITHUB_TOKEN",),
    "gitlab": ("GITLAB_TOKEN",),
    "bitbucket": ("BITBUCKET_TOKEN",),
    "gitea": ("GITEA_TOKEN",),
}

# The user name git sends with a token as the password, as each host documents it.
_GIT_USER: dict[HostKind, str] = {
    "github": "x-access-token",
    "gitlab": "oauth2",
    "bitbucket": "x-token-auth",
    "gitea": "oauth2",
}


@dataclass(frozen=True, slots=True)
class GitAuth:
    """HTTP Basic credentials for git over https; handed to git only through its environment."""

    username: str
    password: str = field(repr=False)

    def basic(self) -> str:
        return base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


class Credential(Protocol):
    """What listers and the mirror cache need from any kind of credential."""

    def api_headers(self) -> dict[str, str]: ...

    def git_auth(self) -> GitAuth | None: ...

    def secrets(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class TokenCredential:
    """A host token (or, for Bitbucket, a user name and app password)."""

    kind: HostKind
    token: str = field(repr=False)
    username: str | None = None  # Bitbucket app passwords and Gitea user tokens name their user

    def api_headers(self) -> dict[str, str]:
        if self.kind == "gitlab":
            return {"PRIVATE-TOKEN": self.token}
        if self.kind == "gitea":
            return {"Authorization": f"token {self.token}"}
        if self.kind == "bitbucket" and self.username:
            return {"Authorization": f"Basic {self._git().basic()}"}
        return {"Authorization": f"Bearer {self.token}"}

    def git_auth(self) -> GitAuth:
        return self._git()

    def secrets(self) -> tuple[str, ...]:
        return (self.token, self._git().basic())

    def _git(self) -> GitAuth:
        return GitAuth(self.username or _GIT_USER[self.kind], self.token)


def credential_from_env(kind: HostKind, env: Mapping[str, str] | None = None) -> TokenCredential | None:
    """The host's token from the environment, or None to list and clone anonymously.

    Bitbucket also takes BITBUCKET_USERNAME with BITBUCKET_APP_PASSWORD; Gitea takes GITEA_USERNAME.
    """
    env = os.environ if env is None else env
    if kind == "bitbucket" and env.get("BITBUCKET_USERNAME") and env.get("BITBUCKET_APP_PASSWORD"):
        return TokenCredential("bitbucket", env["BITBUCKET_APP_PASSWORD"], env["BITBUCKET_USERNAME"])
    for name in TOKEN_VARIABLES[kind]:
        token = env.get(name, "").strip()
        if token:
            username = env.get("GITEA_USERNAME") if kind == "gitea" else None
            return TokenCredential(kind, token, username or None)
    return None

"""Listing repositories from code hosts: GitHub orgs and App installations, GitLab groups with their
subgroups, Bitbucket workspaces and Gitea orgs, public or self-hosted (`--endpoint NAME=URL`).

`list_repositories` is the one entry point the sweep calls; guarded by tests/test_hosts.py.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from scanner.sources.hosts import bitbucket, gitea, github, gitlab
from scanner.sources.hosts.auth import (
    Credential,
    GitAuth,
    TokenCredential,
    credential_from_env,
)
from scanner.sources.hosts.base import (
    HOST_KINDS,
    ApiSession,
    HostError,
    HostKind,
    HttpClient,
    HttpResponse,
    RateLimitWait,
    RemoteRepo,
    RepoFilter,
    api_base,
    foreign_clone_reason,
)
from scanner.sources.hosts.github_app import GitHubApp

__all__ = [
    "HOST_KINDS", "Credential", "GitAuth", "GitHubApp", "GitHubAppConfig", "HostError", "HostKind", "HostSource",
    "HttpClient", "HttpResponse",
    "Listing", "RateLimitWait", "RemoteRepo", "RepoFilter", "SkippedRepo", "TokenCredential", "api_base",
    "credential_from_env", "git_auth_for_url", "list_repositories",
    "resolve_credential",
]


KEEP_ALL = RepoFilter()


@dataclass(frozen=True, slots=True)
class HostSource:
    """One `--github-org`, `--gitlab-group`, `--bitbucket-workspace` or `--gitea-org` value."""

    kind: HostKind
    owner: str  # org, group full path ("acme/platform"), workspace; unused for an App installation
    installation: bool = False  # github only: the repositories the App installation reaches


@dataclass(frozen=True, slots=True)
class GitHubAppConfig:
    """`--github-app-id`, `--github-app-key FILE` and, optionally, `--github-app-installation ID`."""

    app_id: str
    key_file: Path
    installation_id: int | None = None


@dataclass(frozen=True, slots=True)
class SkippedRepo:
    repo: RemoteRepo
    reason: str  # RepoFilter.reason_to_skip, or foreign_clone_reason (a clone URL the token may not follow)


@dataclass
class Listing:
    """What one host listed: the repositories to sweep, those filtered out and why, the waits made."""

    source: HostSource
    kept: list[RemoteRepo] = field(default_factory=list)
    skipped: list[SkippedRepo] = field(default_factory=list)
    waits: list[RateLimitWait] = field(default_factory=list)


def list_repositories(source: HostSource, *, http: HttpClient, endpoints: Mapping[str, str] | None = None,
                      credential: Credential | None = None, repo_filter: RepoFilter = KEEP_ALL,
                      on_wait: Callable[[RateLimitWait], None] | None = None,
                      sleep: Callable[[float], None] = time.sleep,
                      clock: Callable[[], float] = time.time) -> Listing:
    """Every repository of the source, in the host's order, split by the filter. Raises HostError."""
    base = api_base(source.kind, endpoints or {})
    session = ApiSession(source.kind, base, http, credential, sleep=sleep, clock=clock, on_wait=on_wait)
    listing = Listing(source)
    for repo in _repos(session, source):
        reason = foreign_clone_reason(repo, base) or repo_filter.reason_to_skip(repo)
        if reason is None:
            listing.kept.append(repo)
        else:
            listing.skipped.append(SkippedRepo(repo, reason))
    listing.waits = list(session.waits)
    return listing


def _repos(session: ApiSession, source: HostSource) -> Iterator[RemoteRepo]:
    if source.kind == "github":
        return github.list_installation(session) if source.installation else github.list_org(session, source.owner)
    if source.kind == "gitlab":
        return gitlab.list_group(session, source.owner)
    if source.kind == "bitbucket":
        return bitbucket.list_workspace(session, source.owner)
    return gitea.list_org(session, source.owner)


def resolve_credential(source: HostSource, *, http: HttpClient, endpoints: Mapping[str, str] | None = None,
                       env: Mapping[str, str] | None = None, app: GitHubAppConfig | None = None,
                       clock: Callable[[], float] = time.time) -> Credential | None:
    """The GitHub App (its installation found on the org when not given) or the host's token from the
    environment; None to go anonymous. Raises HostError when the App cannot authenticate."""
    if app is not None and source.kind == "github":
        github_app = GitHubApp.from_key_file(app.app_id, app.key_file, api_base=api_base("github", endpoints or {}),
                                             http=http, installation_id=app.installation_id, clock=clock)
        if github_app.installation_id is None:
            github_app.find_installation(source.owner)
        github_app.installation_token()  # fail now, before any listing, if the App cannot mint one
        return github_app
    return credential_from_env(source.kind, env)


def git_auth_for_url(url: str, credentials: Mapping[HostKind, Credential],
                     endpoints: Mapping[str, str] | None = None) -> GitAuth | None:
    """The git credentials for a `--repos` URL: those of the host it belongs to by the same rule as a
    listed clone URL (foreign_clone_reason), else None (the URL is cloned without them)."""
    for kind, credential in credentials.items():
        probe = RemoteRepo(kind, "", url, "private", None, False, False)
        if foreign_clone_reason(probe, api_base(kind, endpoints or {})) is None:
            return credential.git_auth()
    return None

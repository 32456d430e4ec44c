"""GitHub: an organisation's repositories, or those a GitHub App installation can reach.

GET /orgs/{org}/repos (https://docs.github.com/en/rest/repos/repos#list-organization-repositories)
and GET /installation/repositories (https://docs.github.com/en/rest/apps/installations#list-
repositories-accessible-to-the-app-installation), 100 a page, following the Link header
(https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api).
Guarded by tests/test_hosts.py::test_github_org_*.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from scanner.sources.hosts.base import (
    ApiSession,
    HostError,
    RemoteRepo,
    Visibility,
    json_list,
    next_link,
    optional_text,
    required_text,
    with_query,
)

PER_PAGE = 100


def list_org(session: ApiSession, org: str) -> Iterator[RemoteRepo]:
    url = with_query(f"{session.base}/orgs/{quote(org, safe='')}/repos", {"type": "all", "per_page": PER_PAGE})
    for item in session.paginate(url, json_list("github", "repository"), _next):
        yield to_remote_repo(item)


def list_installation(session: ApiSession) -> Iterator[RemoteRepo]:
    """Every repository the installation token of `session.auth` (a GitHubApp) can reach."""
    url = with_query(f"{session.base}/installation/repositories", {"per_page": PER_PAGE})
    for item in session.paginate(url, _repositories, _next):
        yield to_remote_repo(item)


def to_remote_repo(item: Mapping[str, Any]) -> RemoteRepo:
    size_kb = item.get("size")
    return RemoteRepo(
        host="github",
        full_name=required_text("github", item, "full_name"),
        clone_url=required_text("github", item, "clone_url"),
        visibility=_visibility(item),
        default_branch=item.get("default_branch") or None,
        archived=bool(item.get("archived")),
        fork=bool(item.get("fork")),
        size_bytes=size_kb * 1024 if isinstance(size_kb, int) else None,  # GitHub reports kilobytes
        pushed_at=optional_text(item.get("pushed_at")),  # when it last changed, as the host says: the sweep's listing stamp
    )


def _visibility(item: Mapping[str, Any]) -> Visibility:
    value = item.get("visibility")
    for known in ("public", "internal", "private"):
        if value == known:
            return known
    return "private" if item.get("private", True) else "public"  # older servers: only `private`


def _repositories(body: Any) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get("repositories"), list):
        raise HostError("github: the installation's repository list has no `repositories` array")
    return body["repositories"]


def _next(_body: Any, headers: Mapping[str, str], _url: str) -> str | None:
    return next_link(headers)

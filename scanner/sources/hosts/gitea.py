"""Gitea (and Forgejo): an organisation's repositories.

GET /api/v1/orgs/{org}/repos?page=N&limit=M (https://gitea.com/api/swagger#/organization/orgListRepos;
paging: https://docs.gitea.com/development/api-usage#pagination). The server may cap `limit` below
what was asked, so pages are followed by the Link header when sent, else until an empty page.
Guarded by tests/test_hosts.py::test_gitea_org.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from scanner.sources.hosts.base import (
    ApiSession,
    RemoteRepo,
    Visibility,
    header,
    json_list,
    next_link,
    optional_text,
    required_text,
    with_query,
)

LIMIT = 50


def list_org(session: ApiSession, org: str) -> Iterator[RemoteRepo]:
    url = with_query(f"{session.base}/orgs/{quote(org, safe='')}/repos", {"page": 1, "limit": LIMIT})
    for item in session.paginate(url, json_list("gitea", "repository"), _next):
        yield to_remote_repo(item)


def to_remote_repo(item: Mapping[str, Any]) -> RemoteRepo:
    size_kb = item.get("size")
    return RemoteRepo(
        host="gitea",
        full_name=required_text("gitea", item, "full_name"),
        clone_url=required_text("gitea", item, "clone_url"),
        visibility=_visibility(item),
        default_branch=None if item.get("empty") else item.get("default_branch") or None,
        archived=bool(item.get("archived")),
        fork=bool(item.get("fork")),
        size_bytes=size_kb * 1024 if isinstance(size_kb, int) else None,  # Gitea reports kilobytes
        pushed_at=optional_text(item.get("updated_at")),  # when it last changed, as the host says: the sweep's listing stamp
    )


def _visibility(item: Mapping[str, Any]) -> Visibility:
    if item.get("private", True):
        return "private"
    return "internal" if item.get("internal") else "public"


def _next(body: Any, headers: Mapping[str, str], url: str) -> str | None:
    if header(headers, "Link") is not None:
        return next_link(headers)
    if not body:
        return None
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["page"] = str(int(query.get("page", "1")) + 1)
    return urlunsplit(parts._replace(query=urlencode(query)))

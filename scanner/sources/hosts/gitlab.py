"""GitLab: a group's projects, its subgroups' included.

GET /groups/:id/projects?include_subgroups=true (https://docs.gitlab.com/api/groups/#list-projects),
:id the URL-encoded full path; pages followed through the Link header when the server sends one
(keyset pagination sends only that), else X-Next-Page (https://docs.gitlab.com/api/rest/#pagination).
Guarded by tests/test_hosts.py::test_gitlab_group_*.
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

PER_PAGE = 100


def list_group(session: ApiSession, group: str) -> Iterator[RemoteRepo]:
    params: dict[str, str | int] = {"include_subgroups": "true", "with_shared": "false", "order_by": "id", "sort": "asc",
              "per_page": PER_PAGE}
    url = with_query(f"{session.base}/groups/{quote(group, safe='')}/projects", params)
    for item in session.paginate(url, json_list("gitlab", "project"), _next):
        yield to_remote_repo(item)


def to_remote_repo(item: Mapping[str, Any]) -> RemoteRepo:
    statistics = item.get("statistics")
    size = statistics.get("repository_size") if isinstance(statistics, dict) else None
    return RemoteRepo(
        host="gitlab",
        full_name=required_text("gitlab", item, "path_with_namespace", "project"),
        clone_url=required_text("gitlab", item, "http_url_to_repo", "project"),
        visibility=_visibility(item.get("visibility")),
        default_branch=item.get("default_branch") or None,
        archived=bool(item.get("archived")),
        fork=item.get("forked_from_project") is not None,  # present only on forks
        size_bytes=size if isinstance(size, int) else None,  # only with statistics=true
        pushed_at=optional_text(item.get("last_activity_at")),  # when it last changed, as the host says: the sweep's listing stamp
    )


def _visibility(value: object) -> Visibility:
    if value == "public":
        return "public"
    return "internal" if value == "internal" else "private"


def _next(_body: Any, headers: Mapping[str, str], url: str) -> str | None:
    link = next_link(headers)
    if link:
        return link
    page = (header(headers, "X-Next-Page") or "").strip()
    return _with_page(url, page) if page.isdigit() else None


def _with_page(url: str, page: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "page"] + [("page", page)]
    return urlunsplit(parts._replace(query=urlencode(query)))

"""Bitbucket Cloud: a workspace's repositories.

GET /2.0/repositories/{workspace} (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-
repositories/#api-repositories-workspace-get), following the body's `next` link
(https://developer.atlassian.com/cloud/bitbucket/rest/intro/#pagination). Bitbucket Cloud's
repository object has no archived state: every repository is recorded as not archived.
Guarded by tests/test_hosts.py::test_bitbucket_workspace.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from scanner.sources.hosts.base import ApiSession, HostError, RemoteRepo, optional_text, with_query

PAGE_LEN = 100


def list_workspace(session: ApiSession, workspace: str) -> Iterator[RemoteRepo]:
    url = with_query(f"{session.base}/repositories/{quote(workspace, safe='')}", {"pagelen": PAGE_LEN})
    for item in session.paginate(url, _values, _next):
        yield to_remote_repo(item)


def to_remote_repo(item: Mapping[str, Any]) -> RemoteRepo:
    mainbranch = item.get("mainbranch")
    size = item.get("size")
    return RemoteRepo(
        host="bitbucket",
        full_name=_full_name(item),
        clone_url=_https_clone(item),
        visibility="private" if item.get("is_private", True) else "public",
        default_branch=mainbranch.get("name") if isinstance(mainbranch, dict) else None,
        archived=False,
        fork=item.get("parent") is not None,  # present only on forks
        size_bytes=size if isinstance(size, int) else None,  # bytes
        pushed_at=optional_text(item.get("updated_on")),  # when it last changed, as the host says: the sweep's listing stamp
    )


def _https_clone(item: Mapping[str, Any]) -> str:
    links = item.get("links")
    clones = links.get("clone") if isinstance(links, dict) else None
    for clone in clones if isinstance(clones, list) else []:
        if isinstance(clone, dict) and clone.get("name") == "https" and isinstance(clone.get("href"), str):
            return _without_user(clone["href"])
    raise HostError(f"bitbucket: {_full_name(item)} lists no https clone link")


def _without_user(url: str) -> str:
    """Bitbucket puts the caller's user name in clone links (https://user@bitbucket.org/...)."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    return f"{scheme}{sep}{authority.rsplit('@', 1)[-1]}{slash}{path}"


def _full_name(item: Mapping[str, Any]) -> str:
    value = item.get("full_name")
    if not isinstance(value, str) or not value:
        raise HostError("bitbucket: a listed repository has no full_name")
    return value


def _values(body: Any) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get("values"), list):
        raise HostError("bitbucket: the repository page has no `values` array")
    return body["values"]


def _next(body: Any, _headers: Mapping[str, str], _url: str) -> str | None:
    value = body.get("next") if isinstance(body, dict) else None
    return value if isinstance(value, str) and value else None

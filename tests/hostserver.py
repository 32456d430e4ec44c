"""Fake code hosts on 127.0.0.1: GitHub, GitLab, Bitbucket and Gitea APIs answering from the recorded
shapes in fixtures/hosts/, and real git repositories served by `git http-backend` behind a small
CGI-over-http.server wrapper.

The fake paginates (a small page cap forces several pages), sends rate-limit headers, answers one
rate-limit refusal where told, checks tokens (an API request or a git fetch without the right one is
refused), verifies GitHub App JWTs with the app's public key and mints installation tokens, and
refuses git access to repositories named in `refuse_git`.
"""
from __future__ import annotations

import http.client
import json
import os
import secrets
import string
import subprocess
import threading
import time
from base64 import b64decode, urlsafe_b64decode
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "hosts"


def github_repo_item(fake: FakeHost, name: str, visibility: str = "private", archived: bool = False,
                     fork: bool = False) -> dict[str, Any]:
    """A repository object in the recorded shape, for `FakeHost(github_repos=[...])` (e.g. three repositories)."""
    item = dict(fake.fixture("github-org-repos.json")["body"][0])
    item.update({"name": name, "full_name": f"acme/{name}", "private": visibility != "public",
                 "visibility": visibility, "archived": archived, "fork": fork,
                 "html_url": f"https://github.com/acme/{name}", "url": f"{fake.url}/repos/acme/{name}",
                 "clone_url": f"{fake.git_base}/acme/{name}.git"})
    return item


def random_token(prefix: str, length: int) -> str:
    """A made-up token in a host's documented shape (prefix + alphanumerics)."""
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass
class LoopbackResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class LoopbackHttp:
    """A plain HTTP client for tests only (no address checks): the listers' HttpClient seam."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []

    def get(self, url: str, headers: Mapping[str, str]) -> LoopbackResponse:
        return self._send("GET", url, headers, None)

    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> LoopbackResponse:
        return self._send("POST", url, headers, body)

    def _send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> LoopbackResponse:
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1", "tests talk to loopback only"
        self.requests.append((method, url))
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            conn.request(method, target, body=body, headers=dict(headers))
            response = conn.getresponse()
            return LoopbackResponse(response.status, dict(response.getheaders()), response.read())
        finally:
            conn.close()


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FakeHost:
    """All fake APIs and the git server on one loopback port; use as a context manager."""

    git_root: Path  # bare repositories at git_root/<owner>/.../<name>.git
    token: str | None = None  # required on API and git requests when set
    page_cap: int = 2
    rate_limit_once: set[str] = field(default_factory=set)  # "github:2", "gitlab:2": that page refuses once
    rate_limit_always: set[str] = field(default_factory=set)  # that page refuses every time
    refuse_git: set[str] = field(default_factory=set)  # "acme/gone": git access answers 403
    # "acme/app": its first git request is held (`held` set) until `release` is set, then answered 503
    hold_git_once: set[str] = field(default_factory=set)
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    gitlab_link_only: bool = False  # keyset-style: Link header, no X-Next-Page
    gitea_link: bool = True
    foreign_next: bool = False  # GitHub's Link points to another origin
    github_exhausted_page: int | None = None  # that page answers 200 with x-ratelimit-remaining 0
    app_id: str = "12345"
    app_public_key: rsa.RSAPublicKey | None = None
    installation_id: int = 42
    token_lifetime: float = 3600.0
    now: Callable[[], float] = time.time
    github_repos: list[dict[str, Any]] | None = None  # instead of the fixture's
    requests: list[Recorded] = field(default_factory=list)
    minted: list[str] = field(default_factory=list)
    _pushed: dict[str, tuple[tuple[int, ...], str | None]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def git_base(self) -> str:
        return f"{self.url}/git"

    def pushed_at(self, full_name: str) -> str | None:
        """The newest committer date among a served repository's refs, as GitHub's pushed_at; None if none.
        Asked of git again only when a ref file changed (a listing of 200 repositories stays cheap)."""
        repo = self.git_root / f"{full_name}.git"
        if not repo.is_dir():
            return None
        key = tuple(p.stat().st_mtime_ns if p.exists() else 0
                    for p in (repo / "packed-refs", repo / "refs" / "heads", repo / "refs" / "tags"))
        cached = self._pushed.get(full_name)
        if cached is not None and cached[0] == key:
            return cached[1]
        out = subprocess.run(["git", "-C", str(repo), "for-each-ref", "--sort=-committerdate", "--count=1",
                              "--format=%(committerdate:format-local:%Y-%m-%dT%H:%M:%SZ)"],
                             capture_output=True, text=True, env={**os.environ, "TZ": "UTC"})
        self._pushed[full_name] = (key, out.stdout.strip() or None)
        return self._pushed[full_name][1]

    def endpoints(self) -> dict[str, str]:
        return {"github": self.url, "gitlab": f"{self.url}/api/v4", "bitbucket": f"{self.url}/2.0",
                "gitea": f"{self.url}/api/v1"}

    def __enter__(self) -> Self:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def fixture(self, name: str) -> dict[str, Any]:
        text = (FIXTURES / name).read_text()
        user_base = self.git_base.replace("http://", "http://alice@", 1)
        for key, value in (("{api_base}", self.url), ("{git_base_with_user}", user_base),
                           ("{git_base}", self.git_base), ("{app_id}", self.app_id)):
            text = text.replace(key, value)
        data: dict[str, Any] = json.loads(text)
        assert data["source"].startswith("https://"), name
        return data

    def valid_tokens(self) -> set[str]:
        return ({self.token} if self.token else set()) | set(self.minted)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHost

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    # routing

    def _route(self, method: str) -> None:
        fake = self.fake
        fake.requests.append(Recorded(method, self.path, {k: v for k, v in self.headers.items()}))
        parts = urlsplit(self.path)
        path, query = parts.path, dict(parse_qsl(parts.query))
        if path.startswith("/git/"):
            return self._git(method, path[len("/git"):], parts.query)
        if method == "POST" and path.startswith("/app/installations/") and path.endswith("/access_tokens"):
            return self._mint(path.split("/")[3])
        if path.startswith("/orgs/") and path.endswith("/installation"):
            return self._org_installation()
        if not self._authorized_api(path):
            return self._json(401, {"message": "Bad credentials"})
        if path.startswith("/orgs/") and path.endswith("/repos"):
            return self._github_page("github", self._github_repos(), query, wrap=None)
        if path == "/installation/repositories":
            return self._github_page("github-installation", self._github_repos(), query, wrap="repositories")
        if path.startswith("/api/v4/groups/") and path.endswith("/projects"):
            return self._gitlab(unquote(path[len("/api/v4/groups/"):-len("/projects")]), query)
        if path.startswith("/2.0/repositories/"):
            return self._bitbucket(query)
        if path.startswith("/api/v1/orgs/") and path.endswith("/repos"):
            return self._gitea(query)
        self._json(404, {"message": "Not Found"})

    def _authorized_api(self, path: str) -> bool:
        valid = self.fake.valid_tokens()
        if not valid:
            return True
        got = self.headers.get("Authorization", "")
        if path.startswith("/api/v4/"):
            got = self.headers.get("PRIVATE-TOKEN", "")
            return got in valid
        scheme, _, value = got.partition(" ")
        if scheme == "Basic":
            value = b64decode(value).decode().partition(":")[2]
        return scheme in ("Bearer", "token", "Basic") and value in valid

    # GitHub

    def _github_repos(self) -> list[dict[str, Any]]:
        if self.fake.github_repos is not None:
            # pushed_at as GitHub gives it (seconds, UTC): here the newest commit of the served repository,
            # so that a commit added upstream changes it as a push would.
            return [{**item, "pushed_at": self.fake.pushed_at(item["full_name"]) or item.get("pushed_at")}
                    for item in self.fake.github_repos]
        body: list[dict[str, Any]] = self.fake.fixture("github-org-repos.json")["body"]
        return body

    def _github_page(self, kind: str, items: list[Any], query: dict[str, str], wrap: str | None) -> None:
        per_page = min(int(query.get("per_page", "30")), self.fake.page_cap)
        page = int(query.get("page", "1"))
        now = self.fake.now()
        if self._refuse_once(f"github:{page}"):
            limited = self.fake.fixture("github-rate-limited.json")
            headers = {**limited["headers"], "x-ratelimit-reset": str(int(now) + 30)}
            return self._json(limited["status"], limited["body"], headers)
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": str(4990 - page),
                   "x-ratelimit-reset": str(int(now) + 3600), "x-ratelimit-resource": "core"}
        if page == self.fake.github_exhausted_page:
            headers.update({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 45)})
        links = []
        base = self.path.split("?")[0]
        origin = "http://127.0.0.2:9" if self.fake.foreign_next else self.fake.url
        if page < last:
            links.append(f'<{origin}{base}?{urlencode({**query, "page": page + 1})}>; rel="next"')
            links.append(f'<{self.fake.url}{base}?{urlencode({**query, "page": last})}>; rel="last"')
        if links:
            headers["Link"] = ", ".join(links)
        body: Any = chunk
        if wrap:
            body = {**self.fake.fixture("github-installation-repositories.json")["body"],
                    "total_count": len(items), wrap: chunk}
        self._json(200, body, headers)

    def _org_installation(self) -> None:
        if not self._valid_app_jwt():
            return self._json(401, {"message": "A JSON web token could not be decoded"})
        data = self.fake.fixture("github-org-installation.json")
        self._json(200, {**data["body"], "id": self.fake.installation_id})

    def _mint(self, installation: str) -> None:
        if not self._valid_app_jwt():
            return self._json(401, {"message": "A JSON web token could not be decoded"})
        if installation != str(self.fake.installation_id):
            return self._json(404, {"message": "Not Found"})
        token = random_token("ghs_", 36)
        self.fake.minted.append(token)
        expires = datetime.fromtimestamp(self.fake.now() + self.fake.token_lifetime, UTC)
        data = self.fake.fixture("github-installation-token.json")
        body = {**data["body"], "token": token, "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}
        self._json(data["status"], body)

    def _valid_app_jwt(self) -> bool:
        key = self.fake.app_public_key
        scheme, _, jwt = self.headers.get("Authorization", "").partition(" ")
        if key is None or scheme != "Bearer" or jwt.count(".") != 2:
            return False
        head, claims, signature = jwt.split(".")
        try:
            key.verify(_unb64(signature), f"{head}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        header, payload = json.loads(_unb64(head)), json.loads(_unb64(claims))
        now = self.fake.now()
        return (header.get("alg") == "RS256" and payload.get("iss") == self.fake.app_id
                and payload["iat"] <= now < payload["exp"] and payload["exp"] - payload["iat"] <= 600)

    # GitLab

    def _gitlab(self, group: str, query: dict[str, str]) -> None:
        projects = [p for p in self.fake.fixture("gitlab-group-projects.json")["body"]
                    if p["namespace"]["full_path"] == group
                    or (query.get("include_subgroups") == "true" and p["namespace"]["full_path"].startswith(group + "/"))]
        if not any(p["path_with_namespace"].startswith(group + "/") for p in
                   self.fake.fixture("gitlab-group-projects.json")["body"]):
            return self._json(404, {"message": "404 Group Not Found"})
        per_page = min(int(query.get("per_page", "20")), self.fake.page_cap)
        page = int(query.get("page", "1"))
        if self._refuse_once(f"gitlab:{page}"):
            return self._json(429, {"message": "Retry later"}, {"Retry-After": "7", "RateLimit-Remaining": "0"})
        last = max(1, -(-len(projects) // per_page))
        headers = {"RateLimit-Limit": "2000", "RateLimit-Remaining": str(1990 - page),
                   "RateLimit-Reset": str(int(self.fake.now()) + 60)}
        base = self.path.split("?")[0]
        next_url = f"{self.fake.url}{base}?{urlencode({**query, 'page': page + 1})}" if page < last else None
        if next_url:
            headers["Link"] = f'<{next_url}>; rel="next"'
        if not self.fake.gitlab_link_only:
            headers.update({"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(projects)),
                            "X-Total-Pages": str(last), "X-Next-Page": str(page + 1) if next_url else ""})
            if next_url:  # offset pagination: the client may follow either; drop Link to test X-Next-Page
                del headers["Link"]
        self._json(200, projects[(page - 1) * per_page: page * per_page], headers)

    # Bitbucket

    def _bitbucket(self, query: dict[str, str]) -> None:
        body = self.fake.fixture("bitbucket-workspace-repositories.json")["body"]
        values = body["values"]
        pagelen = min(int(query.get("pagelen", "10")), self.fake.page_cap)
        page = int(query.get("page", "1"))
        out = {"pagelen": pagelen, "page": page, "size": len(values),
               "values": values[(page - 1) * pagelen: page * pagelen]}
        if page * pagelen < len(values):
            out["next"] = f"{self.fake.url}{self.path.split('?')[0]}?{urlencode({**query, 'page': page + 1})}"
        self._json(200, out)

    # Gitea

    def _gitea(self, query: dict[str, str]) -> None:
        repos = self.fake.fixture("gitea-org-repos.json")["body"]
        limit = min(int(query.get("limit", "30")), self.fake.page_cap)
        page = int(query.get("page", "1"))
        headers = {"X-Total-Count": str(len(repos))}
        if self.fake.gitea_link and page * limit < len(repos):
            nxt = f"{self.fake.url}{self.path.split('?')[0]}?{urlencode({**query, 'page': page + 1})}"
            headers["Link"] = f'<{nxt}>; rel="next"'
        elif self.fake.gitea_link:
            headers["Link"] = f'<{self.fake.url}{self.path.split("?")[0]}?page=1>; rel="first"'
        self._json(200, repos[(page - 1) * limit: page * limit], headers)

    # git smart HTTP through git http-backend (CGI)

    def _git(self, method: str, path_info: str, query: str) -> None:
        repo = path_info.lstrip("/").split(".git/")[0]
        if repo in self.fake.refuse_git:
            return self._plain(403, b"forbidden\n")
        if repo in self.fake.hold_git_once:
            self.fake.hold_git_once.discard(repo)
            self.fake.held.set()
            self.fake.release.wait(60)
            return self._plain(503, b"held, then let go\n")
        if self.fake.valid_tokens() and not self._authorized_git():
            return self._plain(401, b"authentication required\n", {"WWW-Authenticate": 'Basic realm="git"'})
        body = self._request_body()
        env = {"GIT_PROJECT_ROOT": str(self.fake.git_root), "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": path_info,
               "QUERY_STRING": query, "REQUEST_METHOD": method, "CONTENT_TYPE": self.headers.get("Content-Type", ""),
               "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1", "PATH": os.environ["PATH"],
               "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "HOME": str(self.fake.git_root)}
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        out = subprocess.run(["git", "http-backend"], check=False, input=body, env=env, capture_output=True, timeout=60).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = out.partition(b"\n\n")
        status, headers = 200, {}
        for line in head.decode(errors="replace").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers[name.strip()] = value.strip()
        self._plain(status, payload, headers)

    def _authorized_git(self) -> bool:
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme != "Basic":
            return False
        return b64decode(value).decode().partition(":")[2] in self.fake.valid_tokens()

    def _request_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(length) if length else b""

    # answers

    def _refuse_once(self, key: str) -> bool:
        if key in self.fake.rate_limit_always:
            return True
        if key in self.fake.rate_limit_once:
            self.fake.rate_limit_once.discard(key)
            return True
        return False

    def _json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        self._plain(status, json.dumps(body).encode(), {"Content-Type": "application/json; charset=utf-8",
                                                        **(headers or {})})

    def _plain(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _unb64(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))

"""Listing repositories from fake GitHub, GitLab, Bitbucket and Gitea APIs on 127.0.0.1 (tests/hostserver.py):
pagination, rate-limit waits, filters, tokens from the environment and the GitHub App flow."""
from __future__ import annotations

import json
import time
from base64 import urlsafe_b64decode
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from scanner.net.endpoints import EndpointPolicy
from scanner.net.http import GuardedClient
from scanner.sources.hosts import (
    Credential,
    GitHubAppConfig,
    HostError,
    HostKind,
    HostSource,
    Listing,
    RateLimitWait,
    RepoFilter,
    TokenCredential,
    credential_from_env,
    git_auth_for_url,
    list_repositories,
    resolve_credential,
)
from scanner.sources.hosts.base import (
    ApiSession,
    RemoteRepo,
    foreign_clone_reason,
    next_link,
)
from scanner.sources.hosts.github_app import GitHubApp, load_private_key
from scanner.sources.hosts.guarded import HOST_LIMITS, GuardedHostHttp
from tests.hostserver import (
    FIXTURES,
    FakeHost,
    LoopbackHttp,
    github_repo_item,
    random_token,
)

KEEP = RepoFilter()
GITHUB_NAMES = ["acme/app", "acme/site", "acme/tools", "acme/legacy", "acme/lib-fork", "acme/gone"]


@dataclass
class FakeClock:
    """Time that moves only when the code under test sleeps."""

    t: float = field(default_factory=lambda: float(int(time.time())))
    slept: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def listing(fake: FakeHost, source: HostSource, clock: FakeClock, credential=None, repo_filter=KEEP,
            waits: list[RateLimitWait] | None = None):
    return list_repositories(source, http=LoopbackHttp(), endpoints=fake.endpoints(), credential=credential,
                             repo_filter=repo_filter, on_wait=None if waits is None else waits.append,
                             sleep=clock.sleep, clock=clock.now)


def api_requests(fake: FakeHost, prefix: str) -> list[str]:
    return [r.path for r in fake.requests if r.path.startswith(prefix)]


def test_fixtures_name_their_documentation() -> None:
    for path in FIXTURES.glob("*.json"):
        source = json.loads(path.read_text())["source"]
        assert source.startswith(("https://docs.github.com/", "https://docs.gitlab.com/",
                                  "https://developer.atlassian.com/", "https://gitea.com/api/swagger")), path


def test_github_org_pages_and_waits_out_a_rate_limit(tmp_path: Path, clock: FakeClock) -> None:
    token = random_token("ghp_", 36)
    waits: list[RateLimitWait] = []
    with FakeHost(tmp_path, token=token, rate_limit_once={"github:2"}, now=clock.now) as fake:
        result = listing(fake, HostSource("github", "acme"), clock, TokenCredential("github", token), waits=waits)
    repos = {r.full_name: r for r in result.kept}
    assert list(repos) == GITHUB_NAMES
    assert [r.visibility for r in result.kept] == ["private", "public", "internal", "public", "public", "private"]
    assert repos["acme/legacy"].archived and not repos["acme/app"].archived
    assert repos["acme/lib-fork"].fork and not repos["acme/site"].fork
    assert repos["acme/app"].clone_url == f"{fake.git_base}/acme/app.git"
    assert repos["acme/app"].default_branch == "main" and repos["acme/site"].size_bytes == 48 * 1024
    # page 2 refused once with x-ratelimit-remaining 0 and a reset 30 s ahead: one wait, reported, then resumed
    assert clock.slept == [30.0]
    assert [(w.host, w.seconds, w.reason) for w in waits] == [("github", 30.0, "rate limit exhausted until reset")]
    assert result.waits == waits
    pages = [dict(parse_qsl(urlsplit(p).query)).get("page", "1") for p in api_requests(fake, "/orgs/acme/repos")]
    assert pages == ["1", "2", "2", "3"]
    assert all(r.headers.get("Authorization") == f"Bearer {token}" for r in fake.requests)


def test_github_waits_before_the_next_request_when_a_page_used_the_last_one(tmp_path: Path, clock: FakeClock) -> None:
    with FakeHost(tmp_path, github_exhausted_page=1, now=clock.now) as fake:
        result = listing(fake, HostSource("github", "acme"), clock)
    assert len(result.kept) == 6
    assert clock.slept == [45.0]  # no refused request: the client waited for the reset the answer named
    assert len(api_requests(fake, "/orgs/acme/repos")) == 3


def test_filters_skip_archived_forks_and_by_name(tmp_path: Path, clock: FakeClock) -> None:
    with FakeHost(tmp_path, now=clock.now) as fake:
        result = listing(fake, HostSource("github", "acme"), clock,
                         repo_filter=RepoFilter(skip_archived=True, skip_forks=True, exclude=("gone",)))
        only = listing(fake, HostSource("github", "acme"), clock, repo_filter=RepoFilter(include=("acme/s*", "tool?")))
    assert [r.full_name for r in result.kept] == ["acme/app", "acme/site", "acme/tools"]
    assert [(s.repo.full_name, s.reason) for s in result.skipped] == [
        ("acme/legacy", "archived"), ("acme/lib-fork", "fork"), ("acme/gone", "excluded")]
    assert [r.full_name for r in only.kept] == ["acme/site", "acme/tools"]
    assert {s.reason for s in only.skipped} == {"not included"}


@pytest.mark.parametrize("link_only", [False, True], ids=["x-next-page", "link-header"])
def test_gitlab_group_with_subgroups(tmp_path: Path, clock: FakeClock, link_only: bool) -> None:
    token = random_token("glpat-", 20)
    waits: list[RateLimitWait] = []
    with FakeHost(tmp_path, token=token, rate_limit_once={"gitlab:2"}, gitlab_link_only=link_only,
                  now=clock.now) as fake:
        result = listing(fake, HostSource("gitlab", "acme/platform"), clock,
                         credential_from_env("gitlab", {"GITLAB_TOKEN": token}), waits=waits)
    repos = {r.full_name: r for r in result.kept}
    assert list(repos) == ["acme/platform/api", "acme/platform/web", "acme/platform/infra/terraform",
                           "acme/platform/upstream-fork", "acme/platform/docs"]
    assert [r.visibility for r in result.kept] == ["private", "public", "internal", "public", "public"]
    assert repos["acme/platform/web"].archived and repos["acme/platform/upstream-fork"].fork
    assert not repos["acme/platform/api"].fork and repos["acme/platform/api"].size_bytes is None
    assert [(w.seconds, w.reason) for w in waits] == [(7.0, "retry-after")]  # the 429's Retry-After
    paths = api_requests(fake, "/api/v4/groups/")
    assert all(p.startswith("/api/v4/groups/acme%2Fplatform/projects?") for p in paths)
    assert all("include_subgroups=true" in p for p in paths) and len(paths) == 4
    assert all(r.headers.get("PRIVATE-TOKEN") == token for r in fake.requests)


def test_bitbucket_workspace_follows_next_and_drops_the_user_from_clone_links(tmp_path: Path,
                                                                               clock: FakeClock) -> None:
    password = random_token("ATBB", 28)
    env = {"BITBUCKET_USERNAME": "alice", "BITBUCKET_APP_PASSWORD": password}
    with FakeHost(tmp_path, token=password, now=clock.now) as fake:
        result = listing(fake, HostSource("bitbucket", "acme"), clock, credential_from_env("bitbucket", env))
    assert [(r.full_name, r.visibility, r.fork) for r in result.kept] == [
        ("acme/billing", "private", False), ("acme/landing", "public", False), ("acme/sdk-fork", "public", True)]
    assert result.kept[0].clone_url == f"{fake.git_base}/acme/billing.git"  # no alice@
    assert result.kept[0].default_branch == "main" and result.kept[0].size_bytes == 40960
    assert len(api_requests(fake, "/2.0/repositories/acme")) == 2


@pytest.mark.parametrize("link", [True, False], ids=["link-header", "until-empty-page"])
def test_gitea_org(tmp_path: Path, clock: FakeClock, link: bool) -> None:
    token = random_token("", 40).lower()
    with FakeHost(tmp_path, token=token, gitea_link=link, now=clock.now) as fake:
        result = listing(fake, HostSource("gitea", "acme"), clock, credential_from_env("gitea", {"GITEA_TOKEN": token}))
    assert [(r.full_name, r.visibility) for r in result.kept] == [
        ("acme/portal", "public"), ("acme/vault-config", "private"), ("acme/intranet", "internal"),
        ("acme/old-site", "public"), ("acme/blank", "private")]
    assert result.kept[3].archived and result.kept[4].default_branch is None  # an empty repository
    assert len(api_requests(fake, "/api/v1/orgs/acme/repos")) == (3 if link else 4)
    assert all(r.headers.get("Authorization") == f"token {token}" for r in fake.requests)


def test_errors_never_hold_the_token(tmp_path: Path, clock: FakeClock) -> None:
    token, wrong = random_token("ghp_", 36), random_token("ghp_", 36)
    with FakeHost(tmp_path, token=token, now=clock.now) as fake:
        with pytest.raises(HostError) as bad:
            listing(fake, HostSource("github", "acme"), clock, TokenCredential("github", wrong))
        with pytest.raises(HostError) as missing:
            listing(fake, HostSource("gitlab", "nobody"), clock, TokenCredential("gitlab", token))
    assert "401" in str(bad.value) and "bad or expired token" in str(bad.value)
    assert "404" in str(missing.value) and "/groups/nobody/projects" in str(missing.value)
    for message in (str(bad.value), str(missing.value)):
        assert token not in message and wrong not in message
    assert token not in repr(TokenCredential("github", token))


def test_foreign_next_link_is_refused(tmp_path: Path, clock: FakeClock) -> None:
    token = random_token("ghp_", 36)
    http = LoopbackHttp()
    with (FakeHost(tmp_path, token=token, foreign_next=True, now=clock.now) as fake,
          pytest.raises(HostError, match="another origin")):
        list_repositories(HostSource("github", "acme"), http=http, endpoints=fake.endpoints(),
                          credential=TokenCredential("github", token), sleep=clock.sleep, clock=clock.now)
    assert [url for _, url in http.requests if "127.0.0.2" in url] == []  # the token never left its host


def test_a_session_resumes_after_a_refused_first_page(tmp_path: Path, clock: FakeClock) -> None:
    with FakeHost(tmp_path, now=clock.now) as fake:
        session = ApiSession("github", fake.url, LoopbackHttp(), sleep=clock.sleep, clock=clock.now)
        fake.rate_limit_once.update({"github:1"})
        body, _ = session.get_json(f"{fake.url}/orgs/acme/repos?per_page=2")
    assert [r["name"] for r in body] == ["app", "site"] and clock.slept == [30.0]


def test_a_clone_url_on_another_host_is_skipped(tmp_path: Path, clock: FakeClock) -> None:
    with FakeHost(tmp_path, now=clock.now) as fake:
        moved = [github_repo_item(fake, name) for name in ("metadata", "plain", "userinfo", "fine")]
        moved[0]["clone_url"] = "http://169.254.169.254/acme/metadata.git"
        moved[1]["clone_url"] = "git://127.0.0.1/acme/plain.git"
        moved[2]["clone_url"] = moved[2]["clone_url"].replace("http://", "http://u:p@")
        fake.github_repos = moved
        result = listing(fake, HostSource("github", "acme"), clock)
    assert [r.full_name for r in result.kept] == ["acme/fine"]
    assert [s.reason for s in result.skipped] == ["clone URL on another host than the API (169.254.169.254)",
                                                  "clone URL is not https (git)", "clone URL carries credentials"]
    github = "https://api.github.com"
    public = RemoteRepo("github", "acme/x", "https://github.com/acme/x.git", "public", "main", False, False)
    assert foreign_clone_reason(public, github) is None
    assert foreign_clone_reason(replace(public, clone_url="http://github.com/acme/x.git"), github) is not None
    assert foreign_clone_reason(replace(public, clone_url="https://ghe.example.com/a/x.git"),
                                "https://ghe.example.com/api/v3") is None


def test_guarded_client_lists_within_the_address_rules(tmp_path: Path, clock: FakeClock) -> None:
    token = random_token("ghp_", 36)
    with FakeHost(tmp_path, token=token, now=clock.now) as fake:
        def through(allow_internal: bool, kind: HostKind = "github") -> Listing:
            policy = EndpointPolicy.parse([f"github={fake.url}"], allow_internal=allow_internal)
            http = GuardedHostHttp(GuardedClient(policy, limits=HOST_LIMITS), kind)
            return list_repositories(HostSource(kind, "acme"), http=http, endpoints=policy.endpoints,
                                     credential=TokenCredential(kind, token), sleep=clock.sleep, clock=clock.now)

        assert [r.full_name for r in through(allow_internal=True).kept] == GITHUB_NAMES
        with pytest.raises(HostError, match=r"loopback address 127\.0\.0\.1 \(--allow-internal-endpoints") as exc:
            through(allow_internal=False)
        assert token not in str(exc.value)
    with pytest.raises(HostError, match="gitlab: .* is neither gitlab's documented host nor its --endpoint"):
        list_repositories(HostSource("gitlab", "acme"), endpoints={"gitlab": "http://127.0.0.1:9/api/v4"},
                          http=GuardedHostHttp(GuardedClient(EndpointPolicy(allow_internal=True)), "gitlab"))


def test_a_host_that_stays_rate_limited_is_given_up_on(tmp_path: Path, clock: FakeClock) -> None:
    with FakeHost(tmp_path, rate_limit_always={"gitlab:1"}, now=clock.now) as fake, \
            pytest.raises(HostError, match="still rate limited after 5 waits") as exc:
        listing(fake, HostSource("gitlab", "acme/platform"), clock)
    assert clock.slept == [7.0] * 5 and "/api/v4/groups/acme%2Fplatform/projects" in str(exc.value)
    assert len(api_requests(fake, "/api/v4/groups/")) == 6


def test_an_unreachable_host_is_one_line(tmp_path: Path, clock: FakeClock) -> None:
    with FakeHost(tmp_path) as fake:
        endpoints = fake.endpoints()
    with pytest.raises(HostError, match=r"cannot reach .*/orgs/acme/repos \(ConnectionRefusedError\)"):
        list_repositories(HostSource("github", "acme"), http=LoopbackHttp(), endpoints=endpoints,
                          sleep=clock.sleep, clock=clock.now)


def test_link_headers() -> None:
    link = '<https://api.github.com/x?page=3>; rel="next", <https://api.github.com/x?page=9>; rel="last"'
    assert next_link({"link": link}) == "https://api.github.com/x?page=3"
    assert next_link({"Link": '<https://api.github.com/x?page=1>; rel="prev"'}) is None


def test_credentials_from_the_environment() -> None:
    assert credential_from_env("github", {}) is None
    github = credential_from_env("github", {"GITHUB_TOKEN": "ghp_abc123"})
    assert github is not None and github.api_headers() == {"Authorization": "Bearer ghp_abc123"}
    assert github.git_auth().username == "x-access-token" and github.git_auth().password == "ghp_abc123"
    gitlab = credential_from_env("gitlab", {"GITLAB_TOKEN": "glpat-xyz"})
    assert gitlab is not None and gitlab.api_headers() == {"PRIVATE-TOKEN": "glpat-xyz"}
    bitbucket = credential_from_env("bitbucket", {"BITBUCKET_TOKEN": "ATCTT3xFfGN0"})
    assert bitbucket is not None and bitbucket.git_auth().username == "x-token-auth"
    gitea = credential_from_env("gitea", {"GITEA_TOKEN": "0123abcd", "GITEA_USERNAME": "bob"})
    assert gitea is not None and gitea.api_headers() == {"Authorization": "token 0123abcd"}
    assert gitea.git_auth().username == "bob"


# GitHub App

@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def write_key(path: Path, key: rsa.RSAPrivateKey) -> Path:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    return path


def test_github_app_mints_an_installation_token_and_renews_it(tmp_path: Path, clock: FakeClock,
                                                              app_key: rsa.RSAPrivateKey) -> None:
    key_file = write_key(tmp_path / "app.pem", app_key)
    with FakeHost(tmp_path, app_public_key=app_key.public_key(), installation_id=4242, now=clock.now) as fake:
        http = LoopbackHttp()
        app = GitHubApp.from_key_file(fake.app_id, key_file, api_base=fake.url, http=http, clock=clock.now)
        assert app.find_installation("acme") == 4242
        result = list_repositories(HostSource("github", "acme", installation=True), http=http,
                                   endpoints=fake.endpoints(), credential=app, sleep=clock.sleep, clock=clock.now)
        assert [r.full_name for r in result.kept] == GITHUB_NAMES
        assert app.minted == 1 and len(fake.minted) == 1  # one token served all pages
        listed = [r for r in fake.requests if r.path.startswith("/installation/repositories")]
        assert {r.headers["Authorization"] for r in listed} == {f"Bearer {fake.minted[0]}"}
        clock.t += 3000  # 10 minutes left: more than the renewal margin
        assert app.git_auth().password == fake.minted[0]
        clock.t += 400  # under 5 minutes left: renewed before it expires
        assert app.git_auth().password == fake.minted[1] and app.minted == 2
    claims = json.loads(urlsafe_b64decode(app.app_jwt().split(".")[1] + "=="))
    assert claims["iss"] == fake.app_id and claims["exp"] - claims["iat"] <= 600
    assert fake.minted[1] not in repr(app) and "BEGIN" not in repr(app)


def test_github_app_with_the_wrong_key_is_refused(tmp_path: Path, clock: FakeClock,
                                                  app_key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = write_key(tmp_path / "other.pem", other)
    with FakeHost(tmp_path, app_public_key=app_key.public_key(), now=clock.now) as fake:
        app = GitHubApp.from_key_file(fake.app_id, key_file, api_base=fake.url, http=LoopbackHttp(),
                                      installation_id=42, clock=clock.now)
        with pytest.raises(HostError) as exc:
            app.installation_token()
    assert "401" in str(exc.value) and "minting an installation token" in str(exc.value)
    assert "eyJ" not in str(exc.value) and fake.minted == []


def test_github_app_key_file_errors_name_the_file_not_its_content(tmp_path: Path) -> None:
    bad = tmp_path / "key.pem"
    bad.write_text("-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n")
    with pytest.raises(HostError) as exc:
        load_private_key(bad)
    assert str(bad) in str(exc.value) and "bm90IGEga2V5" not in str(exc.value)
    with pytest.raises(HostError, match="cannot read"):
        load_private_key(tmp_path / "missing.pem")


def test_resolve_credential_prefers_the_app_and_finds_its_installation(tmp_path: Path, clock: FakeClock,
                                                                      app_key: rsa.RSAPrivateKey) -> None:
    key_file = write_key(tmp_path / "app.pem", app_key)
    with FakeHost(tmp_path, app_public_key=app_key.public_key(), installation_id=77, now=clock.now) as fake:
        fake.github_repos = [github_repo_item(fake, "one"), github_repo_item(fake, "two", "public"),
                             github_repo_item(fake, "three", "internal")]
        http = LoopbackHttp()
        credential = resolve_credential(HostSource("github", "acme"), http=http, endpoints=fake.endpoints(),
                                        env={"GITHUB_TOKEN": "ghp_unused"},
                                        app=GitHubAppConfig(fake.app_id, key_file), clock=clock.now)
        assert isinstance(credential, GitHubApp) and credential.installation_id == 77 and len(fake.minted) == 1
        result = list_repositories(HostSource("github", "acme"), http=http, endpoints=fake.endpoints(),
                                   credential=credential, sleep=clock.sleep, clock=clock.now)
    assert [(r.full_name, r.visibility) for r in result.kept] == [
        ("acme/one", "private"), ("acme/two", "public"), ("acme/three", "internal")]
    token = resolve_credential(HostSource("gitlab", "acme"), http=http, env={"GITLAB_TOKEN": "glpat-abc"},
                               app=GitHubAppConfig("1", key_file))
    assert token == TokenCredential("gitlab", "glpat-abc")


def test_git_auth_for_a_repository_url_goes_only_to_its_host() -> None:
    github, gitlab = TokenCredential("github", "ghp_aaaa1111"), TokenCredential("gitlab", "glpat-bbbb2222")
    credentials: dict[HostKind, Credential] = {"github": github, "gitlab": gitlab}
    endpoints = {"gitlab": "https://git.example.org/api/v4"}
    assert git_auth_for_url("https://github.com/acme/app.git", credentials) == github.git_auth()
    assert git_auth_for_url("https://git.example.org/a/b.git", credentials, endpoints) == gitlab.git_auth()
    assert git_auth_for_url("https://gitlab.com/a/b.git", credentials, endpoints) is None  # not the configured host
    assert git_auth_for_url("http://github.com/acme/app.git", credentials) is None
    assert git_auth_for_url("https://evil.example/acme/app.git", credentials) is None

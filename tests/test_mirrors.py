"""The mirror cache against real repositories served by `git http-backend` on 127.0.0.1 (tests/hostserver.py):
created once, fetched incrementally, failures reported with git's reason, credentials kept out of the cache."""
from __future__ import annotations

import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scanner.sources.hosts import (
    GitAuth,
    HostSource,
    TokenCredential,
    list_repositories,
)
from scanner.sources.hosts.guarded import git_address_check
from scanner.sources.mirrors import (
    MirrorCache,
    default_mirror_root,
    git_environment,
    mirror_path,
    read_refs,
    remote_host,
    split_credentials,
)
from tests.hostserver import FakeHost, LoopbackHttp, random_token
from tests.repogen import add_commits, make_repo

SERVED = ["app", "site", "tools", "legacy", "lib-fork"]  # the fixture's acme/gone is listed but never served


@pytest.fixture(autouse=True)
def hermetic_git(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def served(tmp_path: Path) -> Path:
    root = tmp_path / "served"
    for name in SERVED:
        make_repo(root / "acme" / f"{name}.git", [{"README.md": f"# {name}\n"}, {"src/app.py": "print(1)\n"}],
                  bare=True)
    return root


@pytest.fixture
def token() -> str:
    return random_token("ghp_", 36)


def git_out(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def packs_and_loose(mirror: Path) -> tuple[set[str], int]:
    packs = {p.name for p in (mirror / "objects" / "pack").glob("*.pack")}
    loose = sum(1 for d in (mirror / "objects").iterdir() if len(d.name) == 2 for _ in d.iterdir())
    return packs, loose


def test_created_then_unchanged_then_only_the_new_commit_fetched(tmp_path: Path, served: Path, token: str) -> None:
    cache = MirrorCache(tmp_path / "mirrors")
    auth = GitAuth("x-access-token", token)
    with FakeHost(served, token=token) as fake:
        url = f"{fake.git_base}/acme/app.git"
        first = cache.update(url, auth)
        assert first.status == "created" and first.reason == "" and first.refs_before == {}
        assert set(first.refs_after) == {"refs/heads/main"} and first.new_refs == first.refs_after
        assert first.path == tmp_path / "mirrors" / f"127.0.0.1_{fake.url.rsplit(':', 1)[1]}" / "git" / "acme" / "app.git"
        packs_before, loose_before = packs_and_loose(first.path)

        second = cache.update(url, auth)
        assert second.status == "unchanged" and second.new_refs == {} and second.new_object_range() == []

        old_tip = first.refs_after["refs/heads/main"]
        add_commits(served / "acme" / "app.git", [{"src/new.py": "print(2)\n"}])
        new_tip = git_out(served / "acme" / "app.git", "rev-parse", "main").strip()
        third = cache.update(url, auth)
    assert third.status == "fetched" and third.reason == ""
    assert third.new_refs == {"refs/heads/main": new_tip} and third.refs_before == {"refs/heads/main": old_tip}
    assert third.new_object_range() == [new_tip, f"^{old_tip}"]
    new_objects = git_out(third.path, "rev-list", "--objects", *third.new_object_range()).split("\n")[:-1]
    assert len(new_objects) == 4  # the commit, its root tree, src/ and src/new.py
    # nothing else came again: the first clone's pack is untouched and only those objects arrived (loose)
    packs_after, loose_after = packs_and_loose(third.path)
    assert packs_after == packs_before and loose_after - loose_before == len(new_objects)


def test_no_credential_in_the_cache_or_the_outcome(tmp_path: Path, served: Path, token: str) -> None:
    cache = MirrorCache(tmp_path / "mirrors")
    auth = GitAuth("x-access-token", token)
    with FakeHost(served, token=token) as fake:
        made = cache.update(f"{fake.git_base}/acme/site.git", auth)
        add_commits(served / "acme" / "site.git", [{"x.txt": "x\n"}])
        fetched = cache.update(f"{fake.git_base}/acme/site.git", auth)
        # a URL that carries its own credentials: they are used, then kept out of the config and the outcome
        inline = cache.update(f"http://x-access-token:{token}@127.0.0.1:{fake.url.rsplit(':', 1)[1]}/git/acme/tools.git")
    assert (made.status, fetched.status, inline.status) == ("created", "fetched", "created")
    assert token not in inline.url and "@" not in inline.url
    needles = [token.encode(), auth.basic().encode()]
    for path in (tmp_path / "mirrors").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(n in data for n in needles), path
    assert git_out(made.path, "config", "--get", "remote.origin.url").strip() == f"{fake.git_base}/acme/site.git"
    assert "extraheader" not in git_out(made.path, "config", "--list").lower()


def test_refused_repository_fails_with_reason(tmp_path: Path, served: Path, token: str) -> None:
    cache = MirrorCache(tmp_path / "mirrors")
    with FakeHost(served, token=token, refuse_git={"acme/gone"}) as fake:
        refused = cache.update(f"{fake.git_base}/acme/gone.git", GitAuth("x-access-token", token))
        unauthenticated = cache.update(f"{fake.git_base}/acme/app.git")
        wrong = cache.update(f"{fake.git_base}/acme/app.git", GitAuth("x-access-token", "ghp_" + "0" * 36))
    assert refused.status == "failed" and "403" in refused.reason, refused.reason
    assert unauthenticated.status == "failed" and "terminal prompts disabled" in unauthenticated.reason
    assert wrong.status == "failed" and "ghp_" + "0" * 36 not in wrong.reason
    for outcome in (refused, unauthenticated, wrong):
        assert "\n" not in outcome.reason and token not in outcome.reason
        assert not outcome.path.exists() and not outcome.path.with_name(outcome.path.name + ".partial").exists()


def test_a_failed_fetch_keeps_the_mirror_and_its_refs(tmp_path: Path, served: Path, token: str) -> None:
    cache = MirrorCache(tmp_path / "mirrors")
    auth = GitAuth("x-access-token", token)
    with FakeHost(served, token=token) as fake:
        url = f"{fake.git_base}/acme/legacy.git"
        made = cache.update(url, auth)
        fake.refuse_git.add("acme/legacy")
        failed = cache.update(url, auth)
    assert failed.status == "failed" and "403" in failed.reason
    assert failed.refs_before == failed.refs_after == made.refs_after == read_refs(made.path)
    assert failed.new_refs == {}


def test_listing_then_mirroring_every_kept_repository(tmp_path: Path, served: Path, token: str) -> None:
    """The sweep's shape: list from the fake GitHub API, then mirror each kept repository with the same token."""
    cache = MirrorCache(tmp_path / "mirrors")
    credential = TokenCredential("github", token)
    with FakeHost(served, token=token, refuse_git={"acme/gone"}, rate_limit_once={"github:2"}) as fake:
        listing = list_repositories(HostSource("github", "acme"), http=LoopbackHttp(), endpoints=fake.endpoints(),
                                    credential=credential, sleep=lambda s: None)
        outcomes = {repo.full_name: cache.update(repo.clone_url, credential.git_auth()) for repo in listing.kept}
    assert {name: o.status for name, o in outcomes.items()} == {
        "acme/app": "created", "acme/site": "created", "acme/tools": "created", "acme/legacy": "created",
        "acme/lib-fork": "created", "acme/gone": "failed"}
    assert "403" in outcomes["acme/gone"].reason and len(listing.waits) == 1


def test_concurrent_updates_of_one_mirror_take_turns(tmp_path: Path, served: Path) -> None:
    cache = MirrorCache(tmp_path / "mirrors")
    with FakeHost(served) as fake, ThreadPoolExecutor(2) as pool:
        url = f"{fake.git_base}/acme/tools.git"
        outcomes = list(pool.map(cache.update, [url, url]))
    assert sorted(o.status for o in outcomes) == ["created", "unchanged"]


@pytest.fixture
def git_daemon(served: Path):
    """`git daemon` on a free loopback port, exporting the served repositories; stopped by its own pid."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(["git", "daemon", "--listen=127.0.0.1", f"--port={port}", f"--base-path={served}",
                             "--export-all", "--reuseaddr", "--informative-errors", str(served)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as conn:
                if conn.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"git://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_git_and_file_transports(tmp_path: Path, served: Path, git_daemon: str) -> None:
    cache = MirrorCache(tmp_path / "mirrors")
    over_git = cache.update(f"{git_daemon}/acme/site.git")
    missing = cache.update(f"{git_daemon}/acme/gone.git")
    local = cache.update(f"file://{served}/acme/site.git")
    assert over_git.status == "created" and local.status == "created"
    assert over_git.refs_after == local.refs_after and over_git.path != local.path
    assert missing.status == "failed" and "gone.git" in missing.reason, missing.reason
    assert cache.update(f"{git_daemon}/acme/site.git").status == "unchanged"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
@example("..").via("a URL that once named the folder above the cache")
@example(".")
def test_any_url_maps_inside_the_root(url: str) -> None:
    root = Path("/cache/mirrors")
    path = mirror_path(root, url)
    assert root in path.parents and ".." not in path.parts and path.name.endswith(".git")


def test_git_connections_are_checked_and_pinned(tmp_path: Path, served: Path, token: str) -> None:
    auth = GitAuth("x-access-token", token)
    strict = MirrorCache(tmp_path / "strict", address_check=git_address_check(allow_internal=False))
    unpinned = MirrorCache(tmp_path / "unpinned")
    # git.acme.test resolves nowhere but through the check's resolver: a clone works only if git is pinned
    pinned = MirrorCache(tmp_path / "pinned", address_check=git_address_check(
        allow_internal=True, resolver=lambda host, port: ["127.0.0.1"] if host == "git.acme.test" else []))
    with FakeHost(served, token=token) as fake:
        port = fake.url.rsplit(":", 1)[1]
        refused = strict.update(f"{fake.git_base}/acme/app.git", auth)
        named = f"http://git.acme.test:{port}/git/acme/app.git"
        assert unpinned.update(named, auth).status == "failed"
        made = pinned.update(named, auth)
        assert pinned.update(named, auth).status == "unchanged"
    assert refused.status == "failed" and not refused.path.exists()
    assert refused.reason == "refused: 127.0.0.1 resolves to loopback address 127.0.0.1 (--allow-internal-endpoints permits it)"
    assert made.status == "created", made.reason
    assert remote_host("git@github.com:acme/app.git") == ("github.com", 22)
    assert remote_host("ssh://git@h.example:2222/a.git") == ("h.example", 2222)
    assert remote_host("git://h.example/a.git") == ("h.example", 9418)
    assert remote_host("file:///srv/a.git") is None and remote_host("/srv/a.git") is None


def test_unsafe_transports_and_option_like_urls_are_refused(tmp_path: Path) -> None:
    cache = MirrorCache(tmp_path / "mirrors")
    marker = tmp_path / "pwned"
    outcome = cache.update(f"ext::sh -c touch% {marker}")
    assert outcome.status == "failed" and "unsafe" in outcome.reason and not marker.exists()
    assert cache.update("--upload-pack=touch x").status == "failed"


def test_mirror_paths_stay_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "m"
    assert mirror_path(root, "https://github.com/acme/app.git") == root / "github.com" / "acme" / "app.git"
    assert mirror_path(root, "https://gitlab.example.com:8443/a/b/c") == root / "gitlab.example.com_8443/a/b/c.git"
    assert mirror_path(root, "git@github.com:acme/app.git") == root / "github.com" / "acme" / "app.git"
    assert mirror_path(root, "https://u:p@h/../../etc/passwd") == root / "h" / "etc" / "passwd.git"
    assert mirror_path(root, "file:///srv/git/x.git") == root / "local" / "srv" / "git" / "x.git"
    for url in ("https://h/a/../../../x", "https://h/%2e%2e/x", "ssh://h/..;/x"):
        assert root in mirror_path(root, url).parents


def test_credentials_split_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean, auth = split_credentials("https://bob:p%40ss@h.example/r.git")
    assert clean == "https://h.example/r.git" and auth == GitAuth("bob", "p@ss")
    assert split_credentials("https://bob@h.example/r.git") == ("https://h.example/r.git", None)
    env = git_environment("https://h.example/r.git", GitAuth("u", "pw"), {"GIT_CONFIG_COUNT": "1"}, pinned="::1")
    assert env["GIT_CONFIG_COUNT"] == "4" and "GIT_CONFIG_KEY_0" not in env  # the caller's own 0 is kept
    assert [(env[f"GIT_CONFIG_KEY_{n}"], env[f"GIT_CONFIG_VALUE_{n}"]) for n in (1, 2, 3)] == [
        ("http.followRedirects", "false"), ("http.curloptResolve", "h.example:443:[::1]"),
        ("http.https://h.example/.extraHeader", "Authorization: Basic dTpwdw==")]  # base64 of u:pw, env only
    assert env["GIT_TERMINAL_PROMPT"] == "0" and env["GIT_ASKPASS"] == ""
    assert "GIT_CONFIG_COUNT" not in git_environment("git@h.example:r.git", GitAuth("u", "pw"), {})
    monkeypatch.setenv("SPRAWL_CACHE_DIR", str(tmp_path / "c"))
    assert default_mirror_root() == tmp_path / "c" / "mirrors"


def test_timeout_is_bounded(tmp_path: Path, served: Path) -> None:
    cache = MirrorCache(tmp_path / "mirrors", timeout=60)
    with FakeHost(served) as fake:
        assert cache.update(f"{fake.git_base}/acme/app.git").status == "created"


def test_read_refs_equals_for_each_ref(tmp_path: Path) -> None:
    """GitPython reads a mirror's refs from its files as `git for-each-ref` lists them: loose and packed refs,
    an annotated tag by its tag object (not peeled), a symbolic ref resolved; a lock file left by a killed
    update and HEAD are not refs."""
    repo = make_repo(tmp_path / "r.git", [{"a.txt": "1\n"}, {"b.txt": "2\n"}], bare=True)
    git_out(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "tag", "-a", "-m", "release", "v1",
            "HEAD~1")
    git_out(repo, "tag", "light", "HEAD")
    git_out(repo, "pack-refs", "--all")
    git_out(repo, "branch", "loose", "HEAD~1")  # loose, beside packed-refs
    git_out(repo, "update-ref", "refs/pull/7/head", "HEAD")
    git_out(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/heads/loose")
    (repo / "refs" / "heads" / "killed.lock").write_text(git_out(repo, "rev-parse", "HEAD"))
    listed = dict(reversed(line.split(" ", 1)) for line in
                  git_out(repo, "for-each-ref", "--format=%(objectname) %(refname)").splitlines())
    assert len(listed) == 6 and "refs/heads/killed.lock" not in listed
    assert read_refs(repo) == listed

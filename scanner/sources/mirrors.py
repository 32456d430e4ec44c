"""The mirror cache: one bare mirror per repository, cloned once, then brought up to date by fetching.

`MirrorCache.update(url, auth)` clones (`git clone --mirror`) into a temporary folder renamed into
place only when whole, or fetches (`git fetch --prune`) into the existing mirror, and reports the
refs before and after, so the sweep scans only objects reachable from the new tips and not from
the old (`MirrorOutcome.new_object_range`). Credentials reach git only through its environment
(GIT_CONFIG_COUNT/KEY/VALUE with an http.<origin>.extraHeader scoped to the repository's origin):
never the command line, never the mirror's config, never the reason of a failure
(tests/test_mirrors.py::test_no_credential_in_the_cache, ::test_refused_repository_fails_with_reason).
"""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

import git

from scanner.net.http import NetError
from scanner.rules.cache import cache_dir
from scanner.sources.hosts.auth import GitAuth
from scanner.sources.hosts.guarded import AddressCheck

MirrorStatus = Literal["created", "fetched", "unchanged", "failed"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "git": 9418, "ssh": 22}
_SAFE_SEGMENT = re.compile(r"[^A-Za-z0-9._-]+")
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")


def default_mirror_root() -> Path:
    """$SPRAWL_CACHE_DIR, else $XDG_CACHE_HOME/secret-sprawl, else ~/.cache/secret-sprawl; then mirrors/."""
    return cache_dir() / "mirrors"


@dataclass(frozen=True, slots=True)
class MirrorOutcome:
    """What updating one mirror did. `reason` is one line, empty unless the update failed."""

    url: str  # without credentials
    path: Path
    status: MirrorStatus
    reason: str = ""
    refs_before: dict[str, str] = field(default_factory=dict)  # refname -> object id
    refs_after: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def new_refs(self) -> dict[str, str]:
        """Refs that appeared or moved: the tips with objects the sweep has not scanned."""
        return {ref: oid for ref, oid in self.refs_after.items() if self.refs_before.get(ref) != oid}

    @property
    def deleted_refs(self) -> list[str]:
        return sorted(set(self.refs_before) - set(self.refs_after))

    def new_object_range(self) -> list[str]:
        """Revisions for `git rev-list --objects` or `git log` that reach exactly what this update brought:
        the new tips, each old tip excluded (`^oid`). Empty when nothing moved."""
        new = sorted(set(self.new_refs.values()))
        if not new:
            return []
        return [*new, *(f"^{oid}" for oid in sorted(set(self.refs_before.values())))]


def split_credentials(url: str) -> tuple[str, GitAuth | None]:
    """The URL without user info, and the user info as git credentials when it held a password."""
    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, sep, password = userinfo.partition(":")
    clean = urlunsplit(parts._replace(netloc=hostport))
    return clean, GitAuth(unquote(user), unquote(password)) if sep else None


def mirror_path(root: Path, url: str) -> Path:
    """root/host[_port]/owner/name.git: one stable folder per repository URL, inside root."""
    clean, _ = split_credentials(url)
    parts = urlsplit(clean)
    if parts.scheme and parts.netloc:
        host, path = parts.netloc.replace(":", "_"), parts.path
    elif parts.scheme == "file" or clean.startswith("/"):
        host, path = "local", parts.path or clean
    else:  # scp-like ssh: git@host:owner/name.git
        host, _, path = clean.rpartition("@")[2].partition(":")
    segments = [_SAFE_SEGMENT.sub("_", s) for s in path.split("/") if s not in ("", ".", "..")]
    if not segments:
        segments = ["repository"]
    last = segments[-1].removesuffix(".git") + ".git"
    folder = _SAFE_SEGMENT.sub("_", host)
    if folder in ("", ".", ".."):  # a URL such as `..` must not name a folder outside root
        folder = "host"
    return root.joinpath(folder, *segments[:-1], last)


def git_environment(url: str, auth: GitAuth | None, base: Mapping[str, str] | None = None,
                    pinned: str | None = None) -> dict[str, str]:
    """The environment git runs in: no prompts; over http(s), no redirects, the connection pinned to the
    checked address when given (`http.curloptResolve`), and the credential as a header for this origin only."""
    env = dict(os.environ if base is None else base)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_ASKPASS"] = ""  # set empty, not removed: GitPython adds to os.environ, and empty means none
    env["SSH_ASKPASS"] = ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return env  # ssh and git:// carry no header; ssh uses the user's agent and keys
    settings = [("http.followRedirects", "false")]  # nothing follows a redirect elsewhere
    if pinned is not None:
        host, port = parts.hostname or "", parts.port or _DEFAULT_PORTS[parts.scheme]
        settings.append(("http.curloptResolve", f"{host}:{port}:{f'[{pinned}]' if ':' in pinned else pinned}"))
    if auth is not None:
        settings.append((f"http.{parts.scheme}://{parts.netloc}/.extraHeader", f"Authorization: Basic {auth.basic()}"))
    count = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
    for n, (key, value) in enumerate(settings, start=count):
        env[f"GIT_CONFIG_KEY_{n}"], env[f"GIT_CONFIG_VALUE_{n}"] = key, value
    env["GIT_CONFIG_COUNT"] = str(count + len(settings))
    return env


def remote_host(url: str) -> tuple[str, int] | None:
    """The host and port git will connect to for a network URL (scp-like ssh included); None for local."""
    parts = urlsplit(url)
    if parts.scheme in _DEFAULT_PORTS or parts.scheme in ("ssh+git", "git+ssh"):
        if not parts.hostname:
            return None
        return parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme, 22)
    if parts.scheme or url.startswith("/") or ":" not in url:
        return None
    host = url.split(":", 1)[0].rpartition("@")[2]
    return (host, 22) if host and "/" not in host else None


def scrub_reason(text: str, auth: GitAuth | None) -> str:
    """git's last stderr line, with user info in URLs and the credential (plain or encoded) removed."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = lines[-1] if lines else "git failed without a message"
    reason = _USERINFO.sub(r"\g<scheme>", reason)
    if auth is not None:
        for secret in (auth.password, auth.basic()):
            if len(secret) >= 4:
                reason = reason.replace(secret, "[redacted]")
    return reason[:300]


@dataclass
class MirrorCache:
    """Bare mirrors under `root`, created once and then fetched incrementally.

    With an `address_check` (scanner.sources.hosts.guarded.git_address_check), a network URL whose host
    resolves to a refused address fails before git runs, and http(s) connections are pinned to the
    checked address; without one (local use, tests of local transports), git resolves as it likes."""

    root: Path = field(default_factory=default_mirror_root)
    timeout: float | None = None  # seconds one clone or fetch may take; None: no limit
    address_check: AddressCheck | None = None

    def path_for(self, url: str) -> Path:
        return mirror_path(self.root, url)

    def update(self, url: str, auth: GitAuth | None = None) -> MirrorOutcome:
        """Clone or fetch one repository; never raises for a git failure, reports it instead."""
        clean, url_auth = split_credentials(url)
        auth = auth or url_auth
        path = self.path_for(clean)
        started = time.monotonic()
        try:
            git.Git.check_unsafe_protocols(clean)
        except git.UnsafeProtocolError:
            return MirrorOutcome(clean, path, "failed", "refused: an unsafe git transport (ext::, fd::)")
        if clean.startswith("-"):
            return MirrorOutcome(clean, path, "failed", "refused: a repository URL cannot start with '-'")
        try:
            env = self._environment(clean, auth)
        except NetError as exc:
            return MirrorOutcome(clean, path, "failed", f"refused: {exc.reason}")
        with _locked(path):
            if path.exists():
                outcome = self._fetch(clean, path, env, auth)
            else:
                outcome = self._clone(clean, path, env, auth)
        return MirrorOutcome(outcome.url, outcome.path, outcome.status, outcome.reason, outcome.refs_before,
                             outcome.refs_after, time.monotonic() - started)

    def remote_refs(self, url: str, auth: GitAuth | None = None) -> dict[str, str] | None:
        """The refs the server advertises (`git ls-remote`), as read_refs() would read them from an up-to-date
        mirror (no HEAD, no peeled tags); None when they cannot be read (the fetch will then say why)."""
        clean, url_auth = split_credentials(url)
        try:
            git.Git.check_unsafe_protocols(clean)
            env = self._environment(clean, auth or url_auth)
        except (git.UnsafeProtocolError, NetError):
            return None
        if clean.startswith("-"):
            return None
        self.root.mkdir(parents=True, exist_ok=True)
        status, stdout, _ = self._git(str(self.root), ["ls-remote", "--", clean], env)
        if status != 0:
            return None
        refs: dict[str, str] = {}
        for line in stdout.splitlines():
            oid, _, name = line.partition("\t")
            if name.startswith("refs/") and not name.endswith("^{}"):
                refs[name] = oid
        return refs

    def _environment(self, url: str, auth: GitAuth | None) -> dict[str, str]:
        """git's environment for this URL; NetError when the address check refuses its host."""
        target = remote_host(url) if self.address_check is not None else None
        pinned = self.address_check(*target) if self.address_check is not None and target is not None else None
        return git_environment(url, auth, pinned=pinned)

    def _clone(self, url: str, path: Path, env: dict[str, str], auth: GitAuth | None) -> MirrorOutcome:
        partial = path.with_name(path.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)  # a clone killed midway
        status, _, stderr = self._git(str(partial.parent), ["clone", "--mirror", "--quiet", "--", url, str(partial)],
                                      env)
        if status != 0:
            shutil.rmtree(partial, ignore_errors=True)
            return MirrorOutcome(url, path, "failed", scrub_reason(stderr, auth))
        os.replace(partial, path)
        return MirrorOutcome(url, path, "created", refs_after=read_refs(path))

    def _fetch(self, url: str, path: Path, env: dict[str, str], auth: GitAuth | None) -> MirrorOutcome:
        try:
            before = read_refs(path)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError, OSError, ValueError):
            return MirrorOutcome(url, path, "failed", f"the mirror at {path} is not a git repository; delete it")
        repo = str(path)
        if origin_url(path) != url:
            self._git(repo, ["remote", "set-url", "origin", "--", url], env)
        status, _, stderr = self._git(repo, ["fetch", "--prune", "--quiet", "origin"], env)
        if status != 0:
            return MirrorOutcome(url, path, "failed", scrub_reason(stderr, auth), before, before)
        after = read_refs(path)
        return MirrorOutcome(url, path, "unchanged" if after == before else "fetched", "", before, after)

    def _git(self, cwd: str, args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
        status, stdout, stderr = git.Git(cwd).execute(
            ["git", *args], with_extended_output=True, with_exceptions=False, env=env,
            kill_after_timeout=self.timeout)
        return int(status or 0), str(stdout), str(stderr)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One update of a mirror at a time, across threads and processes (workers sharing a node's cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_refs(path: Path) -> dict[str, str]:
    """Every ref of a (bare) repository: refname -> object id, as `git for-each-ref` lists them (symbolic refs
    resolved, annotated tags not peeled), read by GitPython from the ref files with no git process
    (tests/test_mirrors.py::test_read_refs_equals_for_each_ref)."""
    repo = git.Repo(path)
    refs: dict[str, str] = {}
    for ref in git.Reference.iter_items(repo, common_path="refs"):
        if ref.path.endswith(".lock"):  # an update killed midway; git never lists it
            continue
        try:
            refs[ref.path] = git.SymbolicReference.dereference_recursive(repo, ref.path)
        except ValueError:  # a dangling symbolic ref: for-each-ref leaves it out too
            continue
    return refs


def origin_url(path: Path) -> str | None:
    """The URL a mirror fetches from (its config's remote.origin.url), read by GitPython; None when unset."""
    value = git.Repo(path).config_reader("repository").get_value('remote "origin"', "url", default=None)
    return None if value is None else str(value)


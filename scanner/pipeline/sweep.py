"""`sprawl sweep`: scan many repositories into the datastore, incrementally and resumably.

Worker processes take one repository each (history walk, scan of blobs not seen under this
rules version, branch heads) and hand results back; the parent is the only writer and commits
each repository in one transaction. A repository whose refs have not moved since it was last
swept under the same rules costs one `git for-each-ref`. A sweep killed at any point leaves
whole repositories recorded or not at all, and the next run resumes the same sweep (same scan
id, so what the killed run found still counts as new) once the killed run's process is gone; a sweep
of the same repositories whose process still runs is refused, not joined. Workers die with the parent
(scanner.pipeline.workers.die_with_parent). A repository that fails (git cannot read it, or anything
unexpected while scanning it) is named in the summary with its reason and the sweep goes on; the
command then exits 3 (incomplete) unless new findings make it 1.

Hosted repositories (a GitHub org, GitLab group, Bitbucket workspace, Gitea org, or a `--repos` URL) are
listed first (`plan_hosted`: a host that cannot list is a failed coverage row, not an abort), then
brought up to date in the mirror cache (scanner.sources.mirrors, credentials in git's environment
only), then swept as local repositories under the host's full name; what the host says of each
(visibility, default branch, archived, fork) is kept in its `repositories` row, and a public one's
locations read back as public (Provenance.visibility). Every repository gets one `coverage` row per
sweep, written in the same transaction as its findings (tests/test_sweep_hosts.py).
"""
from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scanner.errors import SprawlError
from scanner.model import confidence_rank
from scanner.pipeline.engines import get_engine
from scanner.pipeline.git import scan_git
from scanner.pipeline.options import EngineSpec, ScanOptions
from scanner.pipeline.workers import die_with_parent, pool_context, reset_worker_state
from scanner.rules import load_rules
from scanner.sources.filesystem import WalkOptions
from scanner.sources.git import enumerate_history, open_repo, repo_name
from scanner.sources.gitcmd import GitError
from scanner.sources.hosts import (
    HOST_KINDS,
    Credential,
    GitAuth,
    GitHubAppConfig,
    HostError,
    HostKind,
    HostSource,
    RateLimitWait,
    RepoFilter,
    credential_from_env,
    git_auth_for_url,
    list_repositories,
    resolve_credential,
)
from scanner.sources.mirrors import MirrorCache, MirrorOutcome, split_credentials
from scanner.sources.repos import SweepError, discover, head_pairs, quick_state, refs_hash
from scanner.store.db import CoverageRow, LocationRow, Observed, RepositoryFacts, Store
from scanner.store.record import observe

__all__ = ["HostedPlan", "HostedSweep", "RemoteTarget", "SweepError", "SweepOptions", "SweepSummary", "discover",
           "plan_hosted", "sweep"]

# Repositories handed to the pool at once: enough to keep every worker busy, few enough that
# a kill loses little in-flight work.
_IN_FLIGHT_PER_JOB = 2


@dataclass
class SweepOptions:
    jobs: int = 0
    rules_paths: list[Path] | None = None
    max_size: int = 64 * 1024 * 1024
    excludes: tuple[str, ...] = ()
    store_secrets: bool = False
    min_confidence: str = "medium"  # what counts as new for the exit code; everything is stored
    engine: str = "auto"
    # issue 19 (sweep --validate): keep each new credential's secret in memory, never stored, in
    # SweepSummary.held, for validation once every unit is done (scanner.api.validate_swept).
    hold_secrets: bool = False

    def __post_init__(self) -> None:
        confidence_rank(self.min_confidence)

    @property
    def engine_spec(self) -> EngineSpec:
        return EngineSpec(tuple(self.rules_paths or ()), self.engine)


@dataclass
class RepoOutcome:
    path: str  # as given
    git_dir: str = ""
    name: str = ""
    refs_hash: str = ""
    unchanged: bool = False
    error: str = ""
    observed: list[Observed] = field(default_factory=list)
    scanned_blobs: list[str] = field(default_factory=list)
    reappeared: dict[str, list[LocationRow]] = field(default_factory=dict)  # known blob -> new places
    heads: list[tuple[str, str]] = field(default_factory=list)  # (path, blob) at a branch head
    commits: int = 0
    bytes: int = 0
    seconds: float = 0.0


@dataclass
class SweepSummary:
    scan_id: int
    repositories: int = 0
    unchanged: int = 0
    failed: int = 0
    blobs: int = 0
    bytes: int = 0
    new_findings: int = 0
    resolved_findings: int = 0
    elapsed: float = 0.0
    resumed: bool = False
    errors: list[str] = field(default_factory=list)
    listed: int = 0  # listed by a host but left out by a filter (archived, fork, --include/--exclude)
    coverage: list[CoverageRow] = field(default_factory=list)  # one per repository, as the datastore keeps it
    held: list[Observed] = field(default_factory=list, repr=False)  # issue 19: with SweepOptions.hold_secrets only

    @property
    def incomplete(self) -> bool:
        """Some repository could not be read: the sweep's silence about it is not "clean" (exit 3)."""
        return self.failed > 0

    def lines(self) -> list[str]:
        return [f"{self.repositories} repositories ({self.unchanged} unchanged, {self.failed} failed"
                + (f", {self.listed} listed and left out" if self.listed else "") + "), "
                f"{self.blobs} blobs scanned, {self.new_findings} new findings, "
                f"{self.resolved_findings} resolved at head, {self.elapsed:.1f}s"
                + (" (resumed an interrupted sweep)" if self.resumed else ""),
                *(f"failed {error}" for error in self.errors)]

    def to_dict(self) -> dict[str, Any]:
        """The `sprawl sweep -f json` document (tests/test_sweep_hosts.py)."""
        return {"scan_id": self.scan_id, "repositories": self.repositories, "unchanged": self.unchanged,
                "failed": self.failed, "listed": self.listed, "blobs": self.blobs, "bytes": self.bytes,
                "new_findings": self.new_findings, "resolved_findings": self.resolved_findings,
                "elapsed": round(self.elapsed, 3), "resumed": self.resumed, "errors": list(self.errors),
                "coverage": [{k: v for k, v in asdict(row).items() if k != "repository_id"}
                             for row in self.coverage]}


# --- hosted repositories: what to mirror ----------------------------------------------------------

@dataclass(frozen=True)
class RemoteTarget:
    """A repository to mirror, then sweep: listed by a code host, or a `--repos` URL. The credential lives
    in memory only and is asked again for each update (a GitHub App token renews)."""

    url: str  # without credentials
    name: str
    facts: RepositoryFacts | None = None
    credential: Credential | None = field(default=None, repr=False, compare=False)
    url_auth: GitAuth | None = field(default=None, repr=False, compare=False)

    def git_auth(self) -> GitAuth | None:
        if self.url_auth is not None:
            return self.url_auth
        return self.credential.git_auth() if self.credential is not None else None


@dataclass
class HostedSweep:
    """What `sprawl sweep` asks of code hosts: organisations to list and URLs to mirror."""

    sources: list[HostSource] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    repo_filter: RepoFilter = field(default_factory=RepoFilter)
    app: GitHubAppConfig | None = None
    env: Mapping[str, str] | None = None  # where tokens are read from; None: os.environ


@dataclass
class HostedPlan:
    """The repositories to mirror, those listed and left out by a filter, and the hosts that failed to list."""

    remotes: list[RemoteTarget] = field(default_factory=list)
    left_out: list[CoverageRow] = field(default_factory=list)
    failed: list[CoverageRow] = field(default_factory=list)
    waits: list[RateLimitWait] = field(default_factory=list)


def plan_hosted(request: HostedSweep, http_for: Callable[[HostKind], Any], endpoints: Mapping[str, str],
                on_wait: Callable[[RateLimitWait], None] | None = None,
                sleep: Callable[[float], None] = time.sleep) -> HostedPlan:
    """List every host source (a host that cannot list is a failed coverage row, not an abort) and
    pair each `--repos` URL with the credential of the host it belongs to."""
    plan = HostedPlan()
    seen: set[str] = set()
    credentials: dict[HostKind, Credential] = {}
    for source in request.sources:
        http = http_for(source.kind)
        label = f"{source.kind}:{source.owner or 'app installation'}"
        try:
            credential = resolve_credential(source, http=http, endpoints=endpoints, env=request.env, app=request.app)
            listing = list_repositories(source, http=http, endpoints=endpoints, credential=credential,
                                        repo_filter=request.repo_filter, on_wait=on_wait, sleep=sleep)
        except HostError as exc:
            plan.failed.append(CoverageRow(label, "failed", f"cannot list: {exc}"))
            continue
        if credential is not None:
            credentials.setdefault(source.kind, credential)
        plan.waits.extend(listing.waits)
        for repo in listing.kept:
            if repo.clone_url not in seen:
                seen.add(repo.clone_url)
                facts = RepositoryFacts(repo.host, repo.full_name, repo.clone_url, repo.visibility,
                                        repo.default_branch, repo.archived, repo.fork)
                plan.remotes.append(RemoteTarget(repo.clone_url, repo.full_name, facts, credential))
        for skipped in listing.skipped:
            plan.left_out.append(CoverageRow(skipped.repo.full_name, "listed", skipped.reason,
                                             url=skipped.repo.clone_url))
    for kind in HOST_KINDS:
        if kind not in credentials:
            found = credential_from_env(kind, request.env)
            if found is not None:
                credentials[kind] = found
    for url in request.urls:
        clean, url_auth = split_credentials(url)
        if clean in seen:
            continue
        seen.add(clean)
        auth = url_auth or git_auth_for_url(clean, credentials, endpoints)
        plan.remotes.append(RemoteTarget(clean, url_name(clean), url_auth=auth))
    return plan


def url_name(url: str) -> str:
    """owner/name of a repository URL (https, ssh, scp-like, file), as the datastore names it."""
    path = url.split("://", 1)[1] if "://" in url else url.rpartition(":")[2]
    if "://" in url:
        path = path.partition("/")[2]
    segments = [s for s in path.split("/") if s]
    if not segments:
        return url
    segments[-1] = segments[-1].removesuffix(".git")
    return "/".join(segments[-2:])


# --- the worker ------------------------------------------------------------------------------

@dataclass
class _Worker:
    """What a sweep worker process holds: the datastore (read-only here), the key and the options."""

    db_path: str
    key: bytes
    options: SweepOptions
    _store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.db_path, create=False)
        return self._store


_WORKER: _Worker | None = None


def _worker_init(db_path: str, key: bytes, options: SweepOptions, parent: int | None = None) -> None:
    global _WORKER
    reset_worker_state()
    if parent is not None:
        die_with_parent(parent)
    _WORKER = _Worker(db_path, key, options)


def sweep_repo(path: str, state: tuple[str, str] | None = None, name: str | None = None) -> RepoOutcome:
    """Scan one repository's new blobs; read-only on the datastore. `state` is quick_state(), if known;
    `name` the host's full name of a mirrored repository."""
    assert _WORKER is not None, "sweep_repo runs in a process _worker_init prepared"
    out = RepoOutcome(path)
    started = time.perf_counter()
    try:
        out = _sweep_repo(out, state, name)
    finally:
        out.seconds = time.perf_counter() - started
    return out


def _sweep_repo(out: RepoOutcome, state: tuple[str, str] | None, name: str | None) -> RepoOutcome:
    assert _WORKER is not None
    options = _WORKER.options
    path = out.path
    try:
        rules_version = get_engine(options.engine_spec).ruleset.version
        store = _WORKER.store
        if state:
            out.git_dir, out.refs_hash = state
        else:
            out.git_dir = os.path.realpath(open_repo(path))
            out.refs_hash = refs_hash(out.git_dir, rules_version)  # before the walk: a later push means a rescan
        out.name = name or repo_name(out.git_dir)
        if store.refs_hash(out.git_dir) == out.refs_hash:
            out.unchanged = True
            return out
        history = enumerate_history(out.git_dir)
        out.commits = history.commits
        oids = list(history.blobs)
        known = store.known_blobs(oids, rules_version)
        scan_options = ScanOptions(min_confidence="low", jobs=1, rules_paths=options.rules_paths,
                                   walk=WalkOptions(max_size=options.max_size, excludes=options.excludes),
                                   use_ignore_files=False, engine=options.engine)
        result = scan_git(out.git_dir, scan_options, skip_blobs=known, history=history)
        out.scanned_blobs = result.stats.scanned_blobs
        out.bytes = result.stats.bytes
        blob_at = {(o.commit, o.path): oid for oid, occs in history.blobs.items() for o in occs}
        out.observed = observe(result, _WORKER.key, options.store_secrets, repo=out.name,
                               blob_of=lambda loc: blob_at.get((loc.provenance.commit, loc.path), ""),
                               hold_secrets=options.hold_secrets)  # issue 19: sweep --validate
        for oid in store.blobs_with_locations(sorted(known)):
            out.reappeared[oid] = [LocationRow(o.path, 0, 0, "git", repo=out.name, blob=oid, commit=o.commit,
                                               author=o.author, email=o.email, date=o.date)
                                   for o in history.blobs[oid]]
        wanted = set(out.reappeared) | {r.blob for obs in out.observed for r in obs.locations if r.blob}
        out.heads = head_pairs(out.git_dir, wanted)
    except GitError as exc:
        out.error = f"{path}: {exc}"
    except SprawlError as exc:
        out.error = str(exc)
    except Exception as exc:  # one repository's problem never aborts the sweep: it is named as failed
        out.error = f"{path}: {type(exc).__name__}: {exc}"
    return out


# --- the parent: the only writer ---------------------------------------------------------------

@dataclass
class _Unit:
    """One repository to sweep: a local one, or a mirror with what its host said and its update."""

    path: str
    name: str | None = None
    remote: RemoteTarget | None = None
    mirror: MirrorOutcome | None = None


def _write(store: Store, scan_id: int, out: RepoOutcome, rules_version: str, unit: _Unit,
           cover: CoverageRow) -> None:
    """One repository's findings, blobs, heads, facts and coverage: in one transaction (the checkpoint)."""
    with store.atomic():
        repo = store.repository(out.git_dir, out.name)
        rid = repo["id"]
        for obs in out.observed:
            for r in obs.locations:
                r.repository_id = rid
        touched = store.record(scan_id, out.observed)
        for oid, rows in out.reappeared.items():
            for r in rows:
                r.repository_id = rid
            touched |= store.copy_blob_locations(scan_id, oid, rows)
        store.mark_blobs(scan_id, out.scanned_blobs, rules_version)
        touched |= store.set_heads(rid, out.heads)
        store.refresh(scan_id, touched)
        store.finish_repository(rid, out.refs_hash, scan_id)
        _describe(store, scan_id, rid, unit, cover)


def _describe(store: Store, scan_id: int, rid: int | None, unit: _Unit | None, cover: CoverageRow) -> None:
    """The host's facts of the repository and its coverage row; call inside atomic()."""
    if rid is not None and unit is not None and unit.remote is not None and unit.remote.facts is not None:
        store.describe_repository(rid, unit.remote.facts)
    cover.repository_id = rid
    store.add_coverage(scan_id, cover)


def sweep(paths: list[str], db_path: str | Path, key: bytes, options: SweepOptions, progress=None,
          log=None, hosted: HostedPlan | None = None, mirrors: MirrorCache | None = None) -> SweepSummary:
    """Sweep every repository into the datastore; `progress(n)` advances a bar, `log(line)` reports a repository.
    Hosted repositories (`hosted.remotes`) are first brought up to date in `mirrors`, then swept as local ones."""
    started = time.perf_counter()
    rules_version = load_rules(options.rules_paths).version
    store = Store(db_path, key)
    try:
        return _sweep(store, paths, key, options, rules_version, started, progress, log, hosted or HostedPlan(),
                      mirrors)
    finally:
        store.close()


def _sweep(store: Store, paths: list[str], key: bytes, options: SweepOptions, rules_version: str, started: float,
           progress, log, hosted: HostedPlan, mirrors: MirrorCache | None) -> SweepSummary:
    db_path = store.path
    target = "\n".join(sorted([os.path.realpath(p) for p in paths] + [r.url for r in hosted.remotes]
                              + [row.repo for row in hosted.failed]))
    scan_id, resumed = store.start_sweep(target, rules_version,
                                         {"repositories": len(paths) + len(hosted.remotes),
                                          "store_secrets": options.store_secrets})
    summary = SweepSummary(scan_id, resumed=resumed)

    def account(cover: CoverageRow, unit: _Unit | None = None, line: str = "", written: bool = False) -> None:
        """Count one repository's outcome and keep its coverage (written here unless _write did)."""
        if cover.status == "listed":
            summary.listed += 1
            line = line or f"left out {cover.repo}: {cover.reason}"
        else:
            summary.repositories += 1
        if cover.status == "failed":
            summary.failed += 1
            summary.errors.append(f"{cover.repo}: {cover.reason}" if not cover.reason.startswith(cover.repo)
                                  else cover.reason)
            line = line or f"error {summary.errors[-1]}"
        elif cover.status == "unchanged":
            summary.unchanged += 1
        if not written:
            with store.atomic():
                _describe(store, scan_id, None, unit, cover)
        summary.coverage.append(cover)
        if log and line:
            log(line)
        if progress and cover.status != "listed":
            progress(1)

    for row in [*hosted.left_out, *hosted.failed]:
        account(CoverageRow(row.repo, row.status, row.reason, url=row.url))
    jobs = options.jobs or os.cpu_count() or 1
    units = [_Unit(p) for p in paths]
    if hosted.remotes:
        cache = mirrors or MirrorCache()
        with ThreadPoolExecutor(max_workers=min(jobs, len(hosted.remotes))) as pool:
            updates = pool.map(lambda r: cache.update(r.url, r.git_auth()), hosted.remotes)
            for remote, update in zip(hosted.remotes, updates):
                if update.status == "failed":
                    account(CoverageRow(remote.name, "failed", f"cannot fetch {remote.url}: {update.reason}",
                                        mirror="failed", url=remote.url, seconds=update.seconds))
                else:
                    if log:
                        log(f"mirror {update.status} {remote.name}")
                    with store.atomic():  # a sweep killed before scanning it leaves it "fetched", not missing
                        store.add_coverage(scan_id, CoverageRow(remote.name, "fetched", mirror=update.status,
                                                                url=remote.url, seconds=round(update.seconds, 3)))
                    units.append(_Unit(str(update.path), remote.name, remote, update))
    by_path = {u.path: u for u in units}
    init = (str(db_path), key, options, os.getpid())
    todo: list[tuple[str, tuple[str, str] | None, str | None]] = []
    unchanged = []
    for unit in units:
        state = quick_state(unit.path, rules_version)
        if state and store.refs_hash(state[0]) == state[1]:
            unchanged.append(RepoOutcome(unit.path, state[0], unit.name or repo_name(state[0]), state[1],
                                         unchanged=True))
        else:
            todo.append((unit.path, state, unit.name))
    if todo:
        get_engine(options.engine_spec)  # compiled before forking: the workers inherit it
    for out in itertools.chain(unchanged, _results(todo, jobs, init)):
        unit = by_path[out.path]
        fetched = unit.mirror
        cover = CoverageRow(out.name or unit.name or out.path, "scanned", mirror=fetched.status if fetched else "",
                            url=unit.remote.url if unit.remote else os.path.realpath(out.path),
                            seconds=round(out.seconds + (fetched.seconds if fetched else 0.0), 3))
        if out.error:
            cover.status, cover.reason = "failed", out.error
            account(cover, unit)
        elif out.unchanged:
            cover.status = "unchanged"
            if unit.remote is not None:  # what the host says may have changed (made public, archived)
                with store.atomic():
                    _describe(store, scan_id, store.repository(out.git_dir, out.name)["id"], unit, cover)
            account(cover, unit, f"unchanged {out.name} ({out.path})", written=unit.remote is not None)
        else:
            cover.new_blobs, cover.bytes = len(out.scanned_blobs), out.bytes
            _write(store, scan_id, out, rules_version, unit, cover)
            if options.hold_secrets:  # issue 19: validated after every unit is done (scanner.api.validate_swept)
                summary.held.extend(out.observed)
            summary.blobs += len(out.scanned_blobs)
            summary.bytes += out.bytes
            account(cover, unit, f"swept {out.name} ({out.path}): {out.commits} commits, "
                                 f"{len(out.scanned_blobs)} new blobs, {len(out.observed)} credentials in new blobs",
                    written=True)
    summary.new_findings, summary.resolved_findings = store.sweep_counts(scan_id, options.min_confidence)
    summary.elapsed = time.perf_counter() - started
    store.finish_scan(scan_id, {
        "repositories": summary.repositories, "unchanged": summary.unchanged, "failed": summary.failed,
        "listed": summary.listed, "blobs": summary.blobs, "bytes": summary.bytes,
        "new_findings": summary.new_findings, "resolved_findings": summary.resolved_findings,
        "errors": summary.errors})
    return summary


def _results(todo: list[tuple[str, tuple[str, str] | None, str | None]], jobs: int, init: tuple):
    """Outcomes as workers finish them, with a bounded number in flight."""
    if not todo:
        return
    if jobs == 1 or len(todo) == 1:
        _worker_init(*init[:3])
        for p, state, name in todo:
            yield sweep_repo(p, state, name)
        return
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=pool_context(), initializer=_worker_init, initargs=init)
    try:
        pending = iter(todo)
        running: dict = {}
        for p, state, name in pending:
            running[pool.submit(sweep_repo, p, state, name)] = p
            if len(running) >= jobs * _IN_FLIGHT_PER_JOB:
                break
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                path = running.pop(fut)
                nxt = next(pending, None)
                if nxt is not None:
                    try:
                        running[pool.submit(sweep_repo, *nxt)] = nxt[0]
                    except BrokenProcessPool:
                        yield RepoOutcome(nxt[0], error=f"{nxt[0]}: not scanned: a worker process died")
                try:
                    yield fut.result()
                except BrokenProcessPool:
                    yield RepoOutcome(path, error=f"{path}: a worker process died while scanning it")
        for p, _state, _name in pending:  # left when the pool broke
            yield RepoOutcome(p, error=f"{p}: not scanned: a worker process died")
    finally:
        # Stopped early (the datastore failed): repositories not started are dropped, not scanned.
        pool.shutdown(wait=True, cancel_futures=True)

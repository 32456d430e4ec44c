"""`sprawl sweep`: scan many repositories into the datastore, incrementally and resumably.

Workers take one unit each (a repository, or a slice of a large one's new blobs: --slice-bytes, --slice-blobs) and run
it (scanner.pipeline.sweep_unit: history walk, scan of blobs not seen under this rules version, branch
heads) on an executor (scanner.pipeline.executors: the local process pool, or Ray tasks that also fetch
the mirror on their node); the driver here is the only writer and commits each unit in one transaction.
A repository whose refs have not moved since it was last swept under the same rules costs one
`git for-each-ref`. A sweep killed at any point leaves
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

A no-change rerun fetches nothing: a listed repository whose pushed_at and default branch are as recorded
with its last completed unit (`listing_stamp`), or a URL whose `git ls-remote` refs are (`refs_stamp`), is
unchanged without a fetch; after a fetch only the new objects are walked (`incremental_revs`).
"""
from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from scanner.model import ValidationResult
from scanner.pipeline.engines import get_engine
from scanner.pipeline.executors import Executor, LocalExecutor, WorkerContext
from scanner.pipeline.sweep_unit import FetchSpec, RepoOutcome, SweepOptions, UnitTask, incremental_revs
from scanner.pipeline.sweep_validate import UnitAnswer, best_answers
from scanner.rules import load_rules
from scanner.sources.git import repo_name
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
from scanner.sources.repos import SweepError, discover, quick_state
from scanner.store import validations
from scanner.store.db import CoverageRow, RepositoryFacts, Store

__all__ = ["HostedPlan", "HostedSweep", "RemoteTarget", "SweepError", "SweepOptions", "SweepSummary", "discover",
           "plan_hosted", "sweep"]

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
    validated: list[ValidationResult] = field(default_factory=list)  # with SweepOptions.validation: one per credential
    retried: list[tuple[str, int]] = field(default_factory=list)  # (unit, attempts): run again after a worker died

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
                *(f"failed {error}" for error in self.errors),
                *(f"retried {unit}: {n} attempts (a worker running it was lost)" for unit, n in self.retried)]

    def to_dict(self) -> dict[str, Any]:
        """The `sprawl sweep -f json` document (tests/test_sweep_hosts.py)."""
        return {"scan_id": self.scan_id, "repositories": self.repositories, "unchanged": self.unchanged,
                "failed": self.failed, "listed": self.listed, "blobs": self.blobs, "bytes": self.bytes,
                "new_findings": self.new_findings, "resolved_findings": self.resolved_findings,
                "elapsed": round(self.elapsed, 3), "resumed": self.resumed, "errors": list(self.errors),
                "retried": [{"unit": unit, "attempts": n} for unit, n in self.retried],
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
    pushed_at: str | None = None  # the host's time of its last push, when listed

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
                sleep: Callable[[float], None] = time.sleep, progress: SweepProgress | None = None) -> HostedPlan:
    """List every host source (a host that cannot list is a failed coverage row, not an abort) and
    pair each `--repos` URL with the credential of the host it belongs to; `progress`: the "listing" phase."""
    plan = HostedPlan()
    seen: set[str] = set()
    credentials: dict[HostKind, Credential] = {}
    if progress and request.sources:
        progress.start("listing", len(request.sources))
    for n, source in enumerate(request.sources):
        if progress and n:  # the one before is listed (or failed)
            progress.advance("listing")
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
                plan.remotes.append(RemoteTarget(repo.clone_url, repo.full_name, facts, credential,
                                                 pushed_at=repo.pushed_at))
        for skipped in listing.skipped:
            plan.left_out.append(CoverageRow(skipped.repo.full_name, "listed", skipped.reason,
                                             url=skipped.repo.clone_url))
    if progress and request.sources:
        progress.advance("listing")
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


# --- the parent: the only writer ---------------------------------------------------------------

@dataclass
class _Unit:
    """One repository to sweep: a local one, or a mirror with what its host said and its update."""

    path: str
    name: str | None = None
    remote: RemoteTarget | None = None
    mirror: MirrorOutcome | None = None  # fetched by the driver (local executor)
    fetch: FetchSpec | None = None  # to be fetched by the worker (Ray)
    stamp: str | None = None  # recorded with the unit's completion: the next sweep skips the fetch if unchanged
    revs: tuple[str, ...] | None = None  # only what the driver's fetch brought (None: the whole history)


def _write(store: Store, scan_id: int, out: RepoOutcome, rules_version: str, unit: _Unit,
           cover: CoverageRow) -> None:
    """One repository's findings, blobs, heads, facts and coverage: in one transaction (the checkpoint)."""
    with store.atomic():
        rid, touched = _record(store, scan_id, out, rules_version)
        _complete(store, scan_id, rid, out.refs_hash, out.heads, touched, unit, cover)


def _record(store: Store, scan_id: int, out: RepoOutcome, rules_version: str) -> tuple[int, set[int]]:
    """A unit's (or a slice's) findings, the new places of blobs seen before, and the blobs it scanned;
    (repository id, findings touched). Call inside atomic()."""
    rid = store.repository(out.git_dir, out.name)["id"]
    for obs in out.observed:
        for r in obs.locations:
            r.repository_id = rid
    touched = store.record(scan_id, out.observed)
    for oid, rows in out.reappeared.items():
        for r in rows:
            r.repository_id = rid
        touched |= store.copy_blob_locations(scan_id, oid, rows)
    store.mark_blobs(scan_id, out.scanned_blobs, rules_version)
    return rid, touched


def _complete(store: Store, scan_id: int, rid: int, refs_hash: str, heads: list[tuple[str, str]], touched: set[int],
              unit: _Unit, cover: CoverageRow) -> None:
    """A repository done: its heads, its refs hash (what makes the next sweep skip it), facts and coverage.
    Call inside atomic()."""
    touched = touched | store.set_heads(rid, heads)
    store.refresh(scan_id, touched)
    store.finish_repository(rid, refs_hash, scan_id)
    _describe(store, scan_id, rid, unit, cover)


@dataclass
class _Sliced:
    """A repository swept in slices: each slice is recorded in its own transaction as it lands (a killed sweep
    keeps them: their blobs are known to the rerun); the last one also completes the repository."""

    first: RepoOutcome  # the outcome that asked for slices: git dir, name, refs hash
    left: int
    heads: set[tuple[str, str]] = field(default_factory=set)
    blobs: int = 0
    bytes: int = 0
    credentials: int = 0
    error: str = ""

    def add(self, out: RepoOutcome) -> None:
        self.left -= 1
        self.error = self.error or out.error
        self.heads.update(out.heads)
        self.blobs += len(out.scanned_blobs)
        self.bytes += out.bytes
        self.credentials += len(out.observed)


def _describe(store: Store, scan_id: int, rid: int | None, unit: _Unit | None, cover: CoverageRow) -> None:
    """The host's facts of the repository and its coverage row; call inside atomic()."""
    if rid is not None and unit is not None and unit.remote is not None:
        if unit.remote.facts is not None:
            store.describe_repository(rid, unit.remote.facts)
        if unit.stamp is not None:
            store.set_listed_stamp(rid, unit.remote.url, unit.stamp)
    cover.repository_id = rid
    store.add_coverage(scan_id, cover)


class SweepProgress(Protocol):
    """A bar per phase: "fetching" (mirrors updated by the driver), "scanning" (units done, any executor)."""

    def start(self, phase: str, total: int) -> None: ...

    def advance(self, phase: str, n: int = 1) -> None: ...


def sweep(paths: list[str], db_path: str | Path, key: bytes, options: SweepOptions,
          progress: SweepProgress | None = None, log: Callable[[str], None] | None = None,
          hosted: HostedPlan | None = None, mirrors: MirrorCache | None = None,
          executor: Executor | None = None) -> SweepSummary:
    """Sweep every repository into the datastore; `progress` draws a bar per phase, `log(line)` reports a repository.
    Hosted repositories (`hosted.remotes`) are first brought up to date in `mirrors`, then swept as local ones.
    `executor` runs the units (default: the local process pool with `options.jobs`); one given is the caller's to close."""
    started = time.perf_counter()
    rules_version = load_rules(options.rules_paths).version
    store = Store(db_path, key)
    runner = executor or LocalExecutor(options.jobs)
    try:
        return _sweep(store, paths, key, options, rules_version, started, progress, log, hosted or HostedPlan(),
                      mirrors, runner)
    finally:
        if executor is None:
            runner.close()
        store.close()


def _sweep(store: Store, paths: list[str], key: bytes, options: SweepOptions, rules_version: str, started: float,
           progress: SweepProgress | None, log: Callable[[str], None] | None, hosted: HostedPlan,
           mirrors: MirrorCache | None, executor: Executor) -> SweepSummary:
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

    for row in [*hosted.left_out, *hosted.failed]:
        account(CoverageRow(row.repo, row.status, row.reason, url=row.url))
    # --- the units: local folders, then hosted repositories not unchanged as listed (fetched here or by workers) ---
    units = [_Unit(p) for p in paths]
    if hosted.remotes:
        cache = mirrors or MirrorCache()
        remotes = []
        for remote, stamp, recorded in _probe(store, cache, hosted.remotes, rules_version, options.jobs):
            if recorded is not None and stamp == recorded[1]:  # nothing pushed since it was swept: no fetch
                cover = CoverageRow(remote.name, "unchanged", mirror="unchanged", url=remote.url)
                with store.atomic():
                    _describe(store, scan_id, recorded[0], _Unit("", remote.name, remote), cover)
                account(cover, line=f"unchanged {remote.name} (as listed)", written=True)
            else:
                remotes.append((remote, stamp))
        if executor.fetches_on_workers:
            units += [_Unit(str(cache.path_for(r.url)), r.name, r, fetch=_fetch_spec(cache, r), stamp=stamp)
                      for r, stamp in remotes]
        else:
            if progress and remotes:
                progress.start("fetching", len(remotes))
            for unit in _fetch_here(store, cache, remotes, options.jobs or os.cpu_count() or 1, rules_version):
                if progress:
                    progress.advance("fetching")
                if unit.mirror is not None and unit.mirror.status == "failed":
                    account(_fetch_failed(unit, unit.mirror))
                    continue
                if log:
                    log(f"mirror {unit.mirror.status if unit.mirror else ''} {unit.name}")
                with store.atomic():  # a sweep killed before scanning it leaves it "fetched", not missing
                    store.add_coverage(scan_id, CoverageRow(unit.name or unit.path, "fetched",
                                                            mirror=unit.mirror.status if unit.mirror else "",
                                                            url=unit.remote.url if unit.remote else "",
                                                            seconds=round(unit.mirror.seconds, 3) if unit.mirror else 0))
                units.append(unit)
    by_path = {u.path: u for u in units}
    todo: list[UnitTask] = []
    unchanged = []
    for unit in units:
        if unit.fetch is not None:  # fetched by the worker, on its node: only it can tell what changed
            todo.append(UnitTask(unit.path, None, unit.name, unit.fetch))
            continue
        state = quick_state(unit.path, rules_version)
        if state and store.refs_hash(state[0]) == state[1]:
            unchanged.append(RepoOutcome(unit.path, state[0], unit.name or repo_name(state[0]), state[1],
                                         unchanged=True))
        else:
            todo.append(UnitTask(unit.path, state, unit.name, revs=unit.revs))
    if todo and not executor.fetches_on_workers:
        get_engine(options.engine_spec)  # compiled before forking: the workers inherit it
    # --- every unit run by the executor and settled here as it lands; slices asked for run after ---
    context = WorkerContext(str(store.path), key, options)
    if progress and units:
        progress.start("scanning", len(units))
    sliced: dict[str, _Sliced] = {}
    slices: list[UnitTask] = []
    answers: list[UnitAnswer] = []  # sweep --validate: what the workers' providers said, no secret

    def settle(out: RepoOutcome) -> None:
        """Record one outcome as it lands: a whole repository, a slice of one, or a request for slices."""
        unit = by_path[out.path]
        if out.attempts > 1:
            name = (out.name or unit.name or out.path) + (f" (slice from {out.slice.first[:12] or 'the first'})"
                                                           if out.slice else "")
            summary.retried.append((name, out.attempts))
            if log:
                log(f"retried {name}: a worker running it was lost; attempt {out.attempts} is the one recorded")
        if out.slices:
            sliced[out.path] = _Sliced(out, len(out.slices))
            slices.extend(UnitTask(unit.path, None, unit.name, unit.fetch, out.revs, part) for part in out.slices)
            return
        fetched = out.mirror or unit.mirror
        if out.mirror is not None and out.mirror.status == "failed" and out.slice is None:
            account(_fetch_failed(unit, out.mirror))
            return
        if unit.remote is not None and unit.stamp is None and fetched is not None:
            unit.stamp = refs_stamp(unit.remote.url, fetched.refs_after, rules_version)  # what this sweep saw
        cover = CoverageRow(out.name or unit.name or out.path, "scanned", mirror=fetched.status if fetched else "",
                            url=unit.remote.url if unit.remote else os.path.realpath(out.path),
                            seconds=round(out.seconds + (fetched.seconds if fetched and not out.mirror else 0.0), 3))
        if out.slice is not None:
            _settle_slice(out, unit, cover)
        elif out.error:
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
            answers.extend(out.answers)
            swept(out, unit, cover, out.commits, len(out.scanned_blobs), out.bytes, len(out.observed))

    def _settle_slice(out: RepoOutcome, unit: _Unit, cover: CoverageRow) -> None:
        whole = sliced[out.path]
        whole.add(out)
        if not out.error:
            answers.extend(out.answers)
            with store.atomic():
                rid, touched = _record(store, scan_id, out, rules_version)
                store.refresh(scan_id, touched)
                if not whole.left and not whole.error:
                    cover.new_blobs, cover.bytes = whole.blobs, whole.bytes
                    _complete(store, scan_id, rid, whole.first.refs_hash, sorted(whole.heads), touched, unit, cover)
        if log:  # after its transaction: a slice logged is a slice kept
            log(f"slice {len(whole.first.slices) - whole.left} of {len(whole.first.slices)} of {out.name}: "
                + (f"failed: {out.error}" if out.error else f"{len(out.scanned_blobs)} new blobs, {out.bytes} bytes"))
        if whole.left:
            return
        if whole.error:
            cover.status, cover.reason = "failed", whole.error
            account(cover, unit)
        else:
            swept(whole.first, unit, cover, whole.first.commits, whole.blobs, whole.bytes, whole.credentials,
                  f" in {len(whole.first.slices)} slices")

    def swept(out: RepoOutcome, unit: _Unit, cover: CoverageRow, commits: int, blobs: int, size: int,
              credentials: int, how: str = "") -> None:
        summary.blobs += blobs
        summary.bytes += size
        account(cover, unit, f"swept {out.name} ({out.path}): {commits} commits, {blobs} new blobs{how}, "
                             f"{credentials} credentials in new blobs", written=True)

    for out in itertools.chain(unchanged, executor.results(todo, context), _later(slices, executor, context)):
        if progress and not out.slices and (out.slice is None or sliced[out.path].left == 1):
            progress.advance("scanning")
        settle(out)
    summary.validated = _record_answers(store, answers)
    summary.new_findings, summary.resolved_findings = store.sweep_counts(scan_id, options.min_confidence)
    summary.elapsed = time.perf_counter() - started
    store.finish_scan(scan_id, {
        "repositories": summary.repositories, "unchanged": summary.unchanged, "failed": summary.failed,
        "listed": summary.listed, "blobs": summary.blobs, "bytes": summary.bytes,
        "new_findings": summary.new_findings, "resolved_findings": summary.resolved_findings,
        "errors": summary.errors})
    return summary


def _record_answers(store: Store, answers: list[UnitAnswer]) -> list[ValidationResult]:
    """Each credential's best answer (best_answers) recorded on its finding, in one transaction; the answers."""
    by_finding: dict[int, ValidationResult] = {}
    for credential_key, result in best_answers(answers).items():
        row = store.conn.execute("SELECT id FROM findings WHERE credential_key = ?", [credential_key]).fetchone()
        if row is not None:
            by_finding[row[0]] = result
    if by_finding:
        validations.record(store, by_finding)
    return list(by_finding.values())


def _later(tasks: list[UnitTask], executor: Executor, context: WorkerContext) -> Iterator[RepoOutcome]:
    """The slices of large repositories, run once the units that asked for them are all settled (`tasks` is
    filled meanwhile)."""
    yield from executor.results(tasks, context)


def _fetch_spec(cache: MirrorCache, remote: RemoteTarget) -> FetchSpec:
    """What a worker needs to update a mirror in its node's cache (the credential asked for now)."""
    return FetchSpec(remote.url, str(cache.root), remote.git_auth(), cache.timeout, cache.address_check)


def _fetch_here(store: Store, cache: MirrorCache, remotes: list[tuple[RemoteTarget, str | None]], jobs: int,
                rules_version: str) -> Iterator[_Unit]:
    """Every mirror brought up to date by this process (the local executor), a thread per fetch in flight;
    in the order given, each as soon as it and those before it are done, with what to walk (incremental_revs)."""
    if not remotes:
        return
    before = [quick_state(str(cache.path_for(remote.url)), rules_version) for remote, _ in remotes]
    with ThreadPoolExecutor(max_workers=min(jobs, len(remotes))) as pool:
        updates = pool.map(lambda pair: cache.update(pair[0].url, pair[0].git_auth()), remotes)
        for (remote, stamp), update, state in zip(remotes, updates, before):
            revs = incremental_revs(store, state, update) if update.status != "failed" else None
            yield _Unit(str(update.path), remote.name, remote, update, stamp=stamp, revs=revs)


# --- a no-change rerun costs no fetch -----------------------------------------------------------

# A push this recent (or a host clock this far behind ours) could share its listed second with a later push:
# such a listing is not trusted to say "nothing new", and the repository is fetched.
STAMP_MARGIN = 300.0


def listing_stamp(remote: RemoteTarget, rules_version: str, now: float) -> str | None:
    """What the host listed of the repository's last push and default branch, under these rules; None when
    the host gave no time or the push is within STAMP_MARGIN of now (tests/test_sweep_hosts.py)."""
    if not remote.pushed_at:
        return None
    try:
        when = datetime.fromisoformat(remote.pushed_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None or when.timestamp() > now - STAMP_MARGIN:
        return None
    branch = remote.facts.default_branch if remote.facts else None
    return _stamp(rules_version, "listed", remote.url, remote.pushed_at, branch or "")


def refs_stamp(url: str, refs: Mapping[str, str], rules_version: str) -> str:
    """The refs of a mirror (read_refs) or of its server (MirrorCache.remote_refs), under these rules."""
    return _stamp(rules_version, "refs", url, *(f"{oid} {ref}" for ref, oid in sorted(refs.items())))


def _stamp(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _probe(store: Store, cache: MirrorCache, remotes: list[RemoteTarget], rules_version: str,
           jobs: int) -> list[tuple[RemoteTarget, str | None, tuple[int, str] | None]]:
    """(remote, its stamp now, the stamp recorded when it was last swept whole) for every remote. The stamp is
    the host's listing when it can be trusted, else (for a repository swept before) `git ls-remote`'s refs."""
    now = time.time()
    recorded = {r.url: store.listed_stamp(r.url) for r in remotes}
    stamps = {r.url: listing_stamp(r, rules_version, now) for r in remotes}
    ask = [r for r in remotes if stamps[r.url] is None and recorded[r.url] is not None]
    if ask:
        with ThreadPoolExecutor(max_workers=min(jobs or os.cpu_count() or 1, len(ask))) as pool:
            for remote, refs in zip(ask, pool.map(lambda r: cache.remote_refs(r.url, r.git_auth()), ask)):
                if refs is not None:
                    stamps[remote.url] = refs_stamp(remote.url, refs, rules_version)
    return [(r, stamps[r.url], recorded[r.url]) for r in remotes]


def _fetch_failed(unit: _Unit, update: MirrorOutcome) -> CoverageRow:
    url = unit.remote.url if unit.remote else update.url
    return CoverageRow(unit.name or url, "failed", f"cannot fetch {url}: {update.reason}", mirror="failed", url=url,
                       seconds=round(update.seconds, 3))

"""`sprawl sweep`: scan many repositories into the datastore, incrementally and resumably.

Worker processes take one repository each (history walk, scan of blobs not seen under this
rules version, branch heads) and hand results back; the parent is the only writer and commits
each repository in one transaction. A repository whose refs have not moved since it was last
swept under the same rules costs one `git for-each-ref`. A sweep killed at any point leaves
whole repositories recorded or not at all, and the next run resumes the same sweep (same scan
id, so what the killed run found still counts as new).
"""
from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from scanner.errors import SprawlError
from scanner.model import CONFIDENCE_RANK
from scanner.store.db import LocationRow, Observed, Store

# Repositories handed to the pool at once: enough to keep every worker busy, few enough that
# a kill loses little in-flight work.
_IN_FLIGHT_PER_JOB = 2


class SweepError(SprawlError):
    """The list of repositories cannot be read or holds none."""


@dataclass
class SweepOptions:
    jobs: int = 0
    rules_paths: list[Path] | None = None
    max_size: int = 64 * 1024 * 1024
    excludes: tuple[str, ...] = ()
    store_secrets: bool = False
    min_confidence: str = "medium"  # what counts as new for the exit code; everything is stored


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

    def lines(self) -> list[str]:
        return [f"{self.repositories} repositories ({self.unchanged} unchanged, {self.failed} failed), "
                f"{self.blobs} blobs scanned, {self.new_findings} new findings, "
                f"{self.resolved_findings} resolved at head, {self.elapsed:.1f}s"
                + (" (resumed an interrupted sweep)" if self.resumed else "")]


def discover(list_file: str | None, roots: list[str]) -> list[str]:
    """Repository paths from a file (one a line, # comments) and folders holding many repositories."""
    found: list[str] = []
    if list_file:
        try:
            text = Path(list_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise SweepError(f"cannot read repository list {list_file}: {exc.strerror}") from None
        base = Path(list_file).parent
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                found.append(str((base / line) if not os.path.isabs(line) else Path(line)))
    for root in roots:
        if not Path(root).is_dir():
            raise SweepError(f"not a folder: {root}")
        found.extend(_repos_under(Path(root)))
    seen, out = set(), []
    for p in found:
        key = os.path.realpath(p)
        if key not in seen:
            seen.add(key)
            out.append(p)
    if not out:
        raise SweepError("no repositories to sweep (give --repos FILE or a folder holding repositories)")
    return out


def _is_repo(p: Path) -> bool:
    return (p / ".git").exists() or ((p / "HEAD").is_file() and (p / "objects").is_dir() and (p / "refs").is_dir())


def _repos_under(root: Path) -> list[str]:
    """Work trees and bare or mirror clones, at any depth; a repository's insides are not searched."""
    if _is_repo(root):
        return [str(root)]
    out = []
    for dirpath, dirnames, _files in os.walk(root):
        dirnames.sort()
        keep = []
        for d in dirnames:
            p = Path(dirpath) / d
            if _is_repo(p):
                out.append(str(p))
            elif not d.startswith("."):
                keep.append(d)
        dirnames[:] = keep
    return out


def _git(git_dir: str, *args: str) -> bytes:
    return subprocess.run(["git", "-C", git_dir, *args], capture_output=True, check=True).stdout


def refs_hash(git_dir: str, rules_version: str) -> str:
    refs = _git(git_dir, "for-each-ref", "--format=%(objectname) %(refname)")
    return hashlib.sha256(rules_version.encode() + b"\0git\0" + refs).hexdigest()


def quick_state(path: str, rules_version: str) -> tuple[str, str] | None:
    """(git dir, refs hash) read from the ref files themselves, with no git process: what makes a
    sweep of unchanged repositories cheap. Any ref update rewrites a loose ref or packed-refs, so
    the hash changes (a `git pack-refs` also changes it: a harmless rescan of nothing new).
    None when git must answer (a .git file, reftable refs)."""
    p = Path(path)
    if (p / ".git").is_dir():
        git_dir = p / ".git"
    elif _is_repo(p) and not (p / ".git").exists():
        git_dir = p
    else:
        return None
    if (git_dir / "reftable").exists():
        return None
    h = hashlib.sha256(rules_version.encode() + b"\0files\0")
    try:
        packed = git_dir / "packed-refs"
        if packed.is_file():
            h.update(b"packed-refs\0" + packed.read_bytes() + b"\0")
        for folder, dirs, files in os.walk(git_dir / "refs"):
            dirs.sort()
            for name in sorted(files):
                f = Path(folder) / name
                h.update(str(f.relative_to(git_dir)).encode() + b"\0" + f.read_bytes() + b"\0")
    except OSError:
        return None
    return os.path.realpath(git_dir), h.hexdigest()


def _branch_tips(git_dir: str) -> list[str]:
    """Local branches; a clone holding only remote-tracking refs uses those."""
    for pattern in ("refs/heads", "refs/remotes"):
        tips = _git(git_dir, "for-each-ref", "--format=%(objectname)", pattern).decode().split()
        if tips:
            return sorted(set(tips))
    return []


def _head_pairs(git_dir: str, wanted: set[str]) -> list[tuple[str, str]]:
    pairs = set()
    if not wanted:
        return []
    for tip in _branch_tips(git_dir):
        out = _git(git_dir, "-c", "core.quotePath=false", "ls-tree", "-r", "-z", "--full-tree", tip)
        for entry in out.split(b"\0"):
            meta, _, path = entry.partition(b"\t")
            parts = meta.split()
            if len(parts) == 3 and parts[1] == b"blob" and parts[2].decode() in wanted:
                pairs.add((path.decode("utf-8", "surrogateescape"), parts[2].decode()))
    return sorted(pairs)


# --- the worker ------------------------------------------------------------------------------

_WORKER: dict = {}


def _worker_init(db_path: str, key: bytes, options: SweepOptions) -> None:
    from scanner.scan import _forget_readers

    _forget_readers()
    _WORKER.update(db_path=db_path, key=key, options=options, store=None)


def _worker_store() -> Store:
    if _WORKER.get("store") is None:
        _WORKER["store"] = Store(_WORKER["db_path"], create=False)
    return _WORKER["store"]


def sweep_repo(path: str, state: tuple[str, str] | None = None) -> RepoOutcome:
    """Scan one repository's new blobs; read-only on the datastore. `state` is quick_state(), if known."""
    from scanner.scan import ScanOptions, get_engine, scan_git
    from scanner.sources.filesystem import WalkOptions
    from scanner.sources.git import enumerate_history, open_repo, repo_name
    from scanner.store.record import observe

    options: SweepOptions = _WORKER["options"]
    out = RepoOutcome(path)
    try:
        rules_version = get_engine(options.rules_paths).ruleset.version
        store = _worker_store()
        if state:
            out.git_dir, out.refs_hash = state
        else:
            out.git_dir = os.path.realpath(open_repo(path))
            out.refs_hash = refs_hash(out.git_dir, rules_version)  # before the walk: a later push means a rescan
        out.name = repo_name(out.git_dir)
        if store.refs_hash(out.git_dir) == out.refs_hash:
            out.unchanged = True
            return out
        history = enumerate_history(out.git_dir)
        out.commits = history.commits
        oids = list(history.blobs)
        known = store.known_blobs(oids, rules_version)
        scan_options = ScanOptions(min_confidence="low", jobs=1, rules_paths=options.rules_paths,
                                   walk=WalkOptions(max_size=options.max_size, excludes=options.excludes),
                                   use_ignore_files=False)
        result = scan_git(out.git_dir, scan_options, skip_blobs=known, history=history)
        out.scanned_blobs = result.stats.scanned_blobs
        out.bytes = result.stats.bytes
        blob_at = {(o.commit, o.path): oid for oid, occs in history.blobs.items() for o in occs}
        out.observed = observe(result, _WORKER["key"], options.store_secrets, repo=out.name,
                               blob_of=lambda loc: blob_at.get((loc.provenance.get("commit"), loc.path), ""))
        for oid in store.blobs_with_locations(sorted(known)):
            out.reappeared[oid] = [LocationRow(o.path, 0, 0, "git", "", out.name, None, oid, o.commit, o.author,
                                               o.email, o.date) for o in history.blobs[oid]]
        wanted = set(out.reappeared) | {r.blob for obs in out.observed for r in obs.locations if r.blob}
        out.heads = _head_pairs(out.git_dir, wanted)
    except SprawlError as exc:
        out.error = str(exc)
    except subprocess.CalledProcessError as exc:
        msg = exc.stderr.decode(errors="replace").strip().splitlines() if exc.stderr else []
        out.error = f"{path}: git failed ({msg[-1] if msg else exc.returncode})"
    return out


# --- the parent: the only writer ---------------------------------------------------------------

def _write(store: Store, scan_id: int, out: RepoOutcome, rules_version: str) -> None:
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


def sweep(paths: list[str], db_path: str | Path, key: bytes, options: SweepOptions, progress=None,
          log=None) -> SweepSummary:
    """Sweep every repository into the datastore; `progress(n)` advances a bar, `log(line)` reports a repository."""
    from scanner.rules import load_rules

    started = time.perf_counter()
    rules_version = load_rules(options.rules_paths).version
    store = Store(db_path, key)
    target = "\n".join(sorted(os.path.realpath(p) for p in paths))
    resumed = store.unfinished_sweep(target, rules_version)
    if resumed:
        scan_id = resumed
        store.claim_scan(scan_id)
    else:
        scan_id = store.begin_scan("sweep", target, rules_version,
                                   {"repositories": len(paths), "store_secrets": options.store_secrets})
    summary = SweepSummary(scan_id, resumed=bool(resumed))
    jobs = options.jobs or os.cpu_count() or 1
    init = (str(db_path), key, options)
    todo: list[tuple[str, tuple[str, str] | None]] = []
    unchanged = []
    for p in paths:
        state = quick_state(p, rules_version)
        if state and store.refs_hash(state[0]) == state[1]:
            unchanged.append(RepoOutcome(p, state[0], _name(state[0]), state[1], unchanged=True))
        else:
            todo.append((p, state))
    if todo:
        from scanner.scan import get_engine

        get_engine(options.rules_paths)  # compiled before forking: the workers inherit it
    try:
        for out in itertools.chain(unchanged, _results(todo, jobs, init)):
            summary.repositories += 1
            if out.error:
                summary.failed += 1
                summary.errors.append(out.error)
                line = f"error {out.error}"
            elif out.unchanged:
                summary.unchanged += 1
                line = f"unchanged {out.name} ({out.path})"
            else:
                _write(store, scan_id, out, rules_version)
                summary.blobs += len(out.scanned_blobs)
                summary.bytes += out.bytes
                line = (f"swept {out.name} ({out.path}): {out.commits} commits, {len(out.scanned_blobs)} new blobs, "
                        f"{len(out.observed)} credentials in new blobs")
            if log:
                log(line)
            if progress:
                progress(1)
        summary.new_findings, summary.resolved_findings = _counts(store, scan_id, options.min_confidence)
        summary.elapsed = time.perf_counter() - started
        store.finish_scan(scan_id, {
            "repositories": summary.repositories, "unchanged": summary.unchanged, "failed": summary.failed,
            "blobs": summary.blobs, "bytes": summary.bytes, "new_findings": summary.new_findings,
            "resolved_findings": summary.resolved_findings, "errors": summary.errors})
    finally:
        store.close()
    return summary


def _counts(store: Store, scan_id: int, min_confidence: str) -> tuple[int, int]:
    floor = CONFIDENCE_RANK[min_confidence]
    confs = [c for c, r in CONFIDENCE_RANK.items() if r >= floor]
    marks = ",".join("?" * len(confs))
    new = store.count(f"SELECT count(*) FROM findings WHERE first_scan_id = ? AND status = 'open' "
                      f"AND confidence IN ({marks})", [scan_id, *confs])
    resolved = store.count("SELECT count(*) FROM findings WHERE resolved_scan_id = ?", [scan_id])
    return new, resolved


def _name(git_dir: str) -> str:
    # As scanner.sources.git.repo_name, without importing GitPython into the parent.
    p = Path(git_dir)
    return p.parent.name if p.name == ".git" else p.name.removesuffix(".git")


def _results(todo: list[tuple[str, tuple[str, str] | None]], jobs: int, init: tuple):
    """Outcomes as workers finish them, with a bounded number in flight."""
    if not todo:
        return
    if jobs == 1 or len(todo) == 1:
        _worker_init(*init)
        for p, state in todo:
            yield sweep_repo(p, state)
        return
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init, initargs=init) as pool:
        pending = iter(todo)
        running = set()
        for p, state in pending:
            running.add(pool.submit(sweep_repo, p, state))
            if len(running) >= jobs * _IN_FLIGHT_PER_JOB:
                break
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                nxt = next(pending, None)
                if nxt is not None:
                    running.add(pool.submit(sweep_repo, *nxt))
                yield fut.result()


def to_stderr_is_tty() -> bool:
    return sys.stderr.isatty()

"""Where a sweep's units run: the local process pool, or Ray tasks on a cluster; one small interface.

`Executor.results(tasks, context)` yields one `RepoOutcome` per `UnitTask`, in the order units finish,
with a bounded number in flight (a kill loses little work). Workers only read the datastore; the
driver writes each outcome in one transaction as it arrives (scanner.pipeline.sweep).

`LocalExecutor` forks worker processes that open the datastore read-only and die with the driver.
`RayExecutor` runs the same `run_unit` as Ray tasks, retried when a worker process or node dies
(`max_retries`); a mirrored repository is fetched by the task itself into the mirror cache of the
node it runs on (`fetches_on_workers`), and the datastore is read through one actor pinned to the
driver's node. `ray` is imported here only, inside RayExecutor (tests/test_sweep_ray.py).
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass, field
from multiprocessing.managers import BaseManager
from typing import Any, Protocol

from scanner.errors import SprawlError
from scanner.pipeline.sweep_unit import (
    RepoOutcome,
    SweepOptions,
    SweepWorker,
    UnitTask,
    install_worker,
    run_unit,
    worker_init,
)
from scanner.pipeline.sweep_validate import ActorGate, Gate, ValidationGate
from scanner.pipeline.workers import die_with_parent, pool_context
from scanner.store.db import Store

# Units handed out at once per worker: enough to keep every worker busy, few enough that a kill loses
# little in-flight work.
IN_FLIGHT_PER_WORKER = 2
EXECUTORS = ("local", "ray")


class ExecutorError(SprawlError):
    """The executor cannot start (Ray not installed, or its cluster unreachable)."""


@dataclass(frozen=True)
class WorkerContext:
    """What every worker is given: the datastore to read, the fingerprint key, the options."""

    db_path: str
    key: bytes
    options: SweepOptions


class Executor(Protocol):
    """Runs units of a sweep; `fetches_on_workers`: mirrors are updated by the task, on the worker's node."""

    fetches_on_workers: bool

    def results(self, tasks: list[UnitTask], context: WorkerContext) -> Iterator[RepoOutcome]: ...

    def close(self) -> None:
        """Let go of what the executor started (a Ray connection); called once the sweep is done."""


class _GateManager(BaseManager):
    """A process serving the ValidationGate that a local pool's workers share (sweep --validate)."""


_GateManager.register("ValidationGate", ValidationGate)


@dataclass
class LocalExecutor:
    """Worker processes on this machine (jobs 0: every core); one job runs in the driver itself."""

    jobs: int = 0
    fetches_on_workers: bool = False
    _gate: Gate | None = field(default=None, init=False, repr=False)
    _manager: _GateManager | None = field(default=None, init=False, repr=False)

    def close(self) -> None:
        if self._manager is not None:
            self._manager.shutdown()
            self._manager = None
        self._gate = None

    def _gate_for(self, options: SweepOptions, shared: bool) -> Gate | None:
        """The sweep's one gate (created on first use, kept until close()); served by a manager process when
        worker processes share it."""
        if options.validation is None:
            return None
        if self._gate is None or (shared and self._manager is None):
            rps, budget = options.validation.rps, options.validation.budget
            if isinstance(self._gate, ValidationGate):  # the driver's own gate so far: what is left of its budget
                budget = self._gate.left
            if shared:
                self._manager = _GateManager(ctx=pool_context())
                self._manager.start(die_with_parent, (os.getpid(),))
                self._gate = self._manager.ValidationGate(rps, budget)  # type: ignore[attr-defined]
            else:
                self._gate = ValidationGate(rps, budget)
        return self._gate

    def results(self, tasks: list[UnitTask], context: WorkerContext) -> Iterator[RepoOutcome]:
        if not tasks:
            return
        jobs = self.jobs or os.cpu_count() or 1
        if jobs == 1 or len(tasks) == 1:
            worker_init(context.db_path, context.key, context.options, gate=self._gate_for(context.options, False))
            for task in tasks:
                yield run_unit(task)
            return
        gate = self._gate_for(context.options, True)
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=pool_context(), initializer=worker_init,
                                   initargs=(context.db_path, context.key, context.options, os.getpid(), gate))
        try:
            pending = iter(tasks)
            running: dict = {}
            for task in pending:
                running[pool.submit(run_unit, task)] = task.path
                if len(running) >= jobs * IN_FLIGHT_PER_WORKER:
                    break
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    path = running.pop(fut)
                    nxt = next(pending, None)
                    if nxt is not None:
                        try:
                            running[pool.submit(run_unit, nxt)] = nxt.path
                        except BrokenProcessPool:
                            yield RepoOutcome(nxt.path, error=f"{nxt.path}: not scanned: a worker process died")
                    try:
                        yield fut.result()
                    except BrokenProcessPool:
                        yield RepoOutcome(path, error=f"{path}: a worker process died while scanning it")
            for task in pending:  # left when the pool broke
                yield RepoOutcome(task.path, error=f"{task.path}: not scanned: a worker process died")
        finally:
            # Stopped early (the datastore failed): units not started are dropped, not scanned.
            pool.shutdown(wait=True, cancel_futures=True)


class StoreReader:
    """The datastore, read-only, for Ray workers: an actor on the driver's node (where the file is). It also
    counts each unit's attempts, so that a unit Ray ran again after losing its worker says so."""

    def __init__(self, db_path: str) -> None:
        self.store = Store(db_path, create=False)
        self.attempts: dict[tuple[str, str], int] = {}

    def attempt(self, path: str, part: str) -> int:
        """This unit's attempt number, from 1."""
        self.attempts[(path, part)] = self.attempts.get((path, part), 0) + 1
        return self.attempts[(path, part)]

    def refs_hash(self, path: str) -> str | None:
        return self.store.refs_hash(path)

    def known_blobs(self, oids: list[str], rules_version: str) -> set[str]:
        return self.store.known_blobs(oids, rules_version)

    def blobs_with_locations(self, oids: list[str]) -> set[str]:
        return self.store.blobs_with_locations(oids)

    def repository_blobs(self, path: str) -> set[str]:
        return self.store.repository_blobs(path)


@dataclass
class ActorIndex:
    """A BlobIndex answered by the StoreReader actor (each call one round trip to the driver's node)."""

    actor: Any

    def refs_hash(self, path: str) -> str | None:
        return self._ask(self.actor.refs_hash.remote(path))

    def known_blobs(self, oids: list[str], rules_version: str) -> set[str]:
        return self._ask(self.actor.known_blobs.remote(oids, rules_version))

    def blobs_with_locations(self, oids: list[str]) -> set[str]:
        return self._ask(self.actor.blobs_with_locations.remote(oids))

    def repository_blobs(self, path: str) -> set[str]:
        return self._ask(self.actor.repository_blobs.remote(path))

    @staticmethod
    def _ask(ref: Any) -> Any:
        import ray

        return ray.get(ref)


def _ray_unit(task: UnitTask, context: WorkerContext, actor: Any, gate: Any) -> RepoOutcome:
    """A Ray task: one unit, in a Ray worker process (which keeps its compiled engine between tasks). Ray runs
    it again when its worker dies (tests/test_sweep_ray.py::test_a_ray_worker_killed_mid_unit_is_retried)."""
    import ray

    attempt = ray.get(actor.attempt.remote(task.path, task.slice.first if task.slice else ""))
    install_worker(SweepWorker(context.db_path, context.key, context.options, ActorIndex(actor),
                               ActorGate(gate) if gate is not None else None))
    out = run_unit(task)
    out.attempts = attempt
    return out


@dataclass
class RayExecutor:
    """Ray tasks on the cluster at `address` ("auto": the one this machine belongs to), else a local Ray
    with `jobs` CPUs. A Ray already initialised in this process (a test's session) is used as it is."""

    address: str | None = None
    jobs: int = 0
    max_retries: int = 3
    fetches_on_workers: bool = True
    _connection: ExitStack | None = field(default=None, init=False, repr=False)
    _gate: Any = field(default=None, init=False, repr=False)  # the ValidationGate actor, for the whole sweep

    def results(self, tasks: list[UnitTask], context: WorkerContext) -> Iterator[RepoOutcome]:
        if not tasks:
            return
        ray = _import_ray()
        self._connect(ray)
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)
        reader = ray.remote(num_cpus=0)(StoreReader).options(scheduling_strategy=here).remote(context.db_path)
        validation = context.options.validation
        if validation is not None and self._gate is None:
            self._gate = ray.remote(num_cpus=0)(ValidationGate).options(scheduling_strategy=here).remote(
                validation.rps, validation.budget)
        unit = ray.remote(num_cpus=1, max_retries=self.max_retries, retry_exceptions=False)(_ray_unit)
        context_ref = ray.put(context)
        limit = max(1, int(ray.cluster_resources().get("CPU", 1))) * IN_FLIGHT_PER_WORKER
        pending = iter(tasks)
        running: dict[Any, UnitTask] = {}
        try:
            for task in pending:
                running[unit.remote(task, context_ref, reader, self._gate)] = task
                if len(running) >= limit:
                    break
            while running:
                done, _ = ray.wait(list(running), num_returns=1)
                for ref in done:
                    task = running.pop(ref)
                    nxt = next(pending, None)
                    if nxt is not None:
                        running[unit.remote(nxt, context_ref, reader, self._gate)] = nxt
                    yield self._outcome(ray, ref, task)
        finally:
            for ref in running:  # stopped early: units not finished are dropped
                ray.cancel(ref, force=True)
            ray.kill(reader)

    def close(self) -> None:
        """Disconnect from Ray (a local Ray this process started stops), if this executor connected."""
        if self._gate is not None:
            _import_ray().kill(self._gate)
            self._gate = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self, ray: Any) -> None:
        """Join the cluster, or start a local Ray. Until close(), what Ray's driver threads print on stdout (a lost
        worker's error, from the raylet) goes to stderr: stdout is the sweep's JSON document."""
        if ray.is_initialized():
            return
        stack = ExitStack()
        stack.enter_context(contextlib.redirect_stdout(sys.stderr))
        try:
            if self.address:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.WARNING)
            else:
                ray.init(num_cpus=self.jobs or os.cpu_count() or 1, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            stack.close()
            raise ExecutorError(f"cannot start Ray{f' at {self.address}' if self.address else ''}: "
                                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        stack.callback(ray.shutdown)
        self._connection = stack

    @staticmethod
    def _outcome(ray: Any, ref: Any, task: UnitTask) -> RepoOutcome:
        try:
            return ray.get(ref)
        except ray.exceptions.RayError as exc:  # retries exhausted: the unit is named as failed
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return RepoOutcome(task.path, error=f"{task.path}: Ray task failed: {type(exc).__name__}: {reason[:200]}")


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ExecutorError("--executor ray needs Ray: pip install 'secret-sprawl[ray]'") from None
    return ray


def ray_available() -> bool:
    """Whether `--executor ray` can run here (the `ray` extra is installed), without importing it."""
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def make_executor(name: str, jobs: int = 0, address: str | None = None) -> Executor:
    """The executor `sprawl sweep --executor NAME` asks for; ExecutorError if Ray is asked for and missing."""
    if name == "ray":
        if address and address.startswith("ray://"):
            raise ExecutorError("--ray-address ray:// (Ray Client) is not supported: run the sweep on a node of the "
                                "cluster (ray job submit, a RayJob) with --ray-address auto")
        if not ray_available():
            raise ExecutorError("--executor ray needs Ray: pip install 'secret-sprawl[ray]'")
        return RayExecutor(address, jobs)
    if address:
        raise ExecutorError("--ray-address goes with --executor ray")
    return LocalExecutor(jobs)

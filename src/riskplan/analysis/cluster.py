"""The Dask engine riskplan fans work out on: one place that opens a client and follows tasks.

`open_engine()` gives a local cluster sized to the machine (one single-threaded worker
process per CPU: the solver is single-threaded by design, for reproducible rosters) that
listens on the loopback interface only (its HTTP port too: a dashboard there only when bokeh
is installed, and only then is its address shown);
`open_engine("tcp://host:8786")` uses an existing cluster instead. `run_tasks` submits one
task per job, in the order of the priorities given (`longest_first`), and follows them:
started (a task reports itself, and its worker, when a worker begins it), done, crashed (the
task raised, or the workers running it died `distributed.scheduler.allowed-failures` times),
timed out (the client cancels it and restarts its worker when it can). A worker that dies
mid-task costs only a retry: Dask reschedules the task on another worker. `run_here` does the
same in this process, without an engine. `run_jobs` is the what-if's use of them: values in
job order, in this process when one worker is asked for. Province runs and what-if sweeps use
these functions and nothing else to run in parallel.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from riskplan import __version__
from riskplan.i18n import _

LOOPBACK = "127.0.0.1"
TOPIC_PREFIX = "riskplan-tasks-"
POLL_SECONDS = 0.25


class EngineError(RuntimeError):
    """The cluster cannot be used (unreachable, no workers, another riskplan version there)."""


@dataclass
class Engine:
    client: Any  # distributed.Client
    address: str
    local: bool
    dashboard: str | None

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))


def machine_workers() -> int:
    """The CPUs this process may use (a container's limit, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _has_bokeh() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


def dashboard_link(client) -> str | None:
    """The dashboard's address when the scheduler serves one (it needs bokeh there), else None."""
    services = client.scheduler_info().get("services", {})
    if "dashboard" not in services:
        return None
    try:
        served = client.run_on_scheduler(_has_bokeh)
    except Exception:  # an old or locked-down scheduler: say nothing rather than a wrong address
        return None
    return client.dashboard_link if served else None


def _local_start_method():
    """The local cluster's workers are forked from this process where the system can fork: they
    start with riskplan, pandas and OR-Tools already imported, as the process pool's did, where
    spawning would import them again in every worker (seconds each, before the first task)."""
    import multiprocessing

    import dask

    if "fork" not in multiprocessing.get_all_start_methods():
        return contextlib.nullcontext()
    return dask.config.set({"distributed.worker.multiprocessing-method": "fork"})


def _riskplan_version() -> str:
    import riskplan

    return riskplan.__version__


@contextlib.contextmanager
def open_engine(scheduler: str | None = None, workers: int | None = None, *,
                timeout: float = 30.0) -> Iterator[Engine]:
    """A client on the given scheduler, or on a new local cluster of `workers` processes
    (default: one per CPU) on 127.0.0.1; closed (and the local cluster stopped) on exit."""
    from distributed import Client, LocalCluster

    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout=timeout)
            except (OSError, TimeoutError, ValueError) as exc:
                raise EngineError(_("cannot reach the Dask scheduler at {address}: {reason}")
                                  .format(address=scheduler, reason=exc)) from None
        else:
            with _local_start_method():
                cluster = LocalCluster(n_workers=workers or machine_workers(), threads_per_worker=1, processes=True,
                                       host=LOOPBACK, dashboard_address=f"{LOOPBACK}:0",
                                       silence_logs=logging.ERROR)
            client = Client(cluster, timeout=timeout)
    except BaseException:
        if cluster is not None:
            cluster.close()
        raise
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise EngineError(_("the Dask scheduler at {address} has no worker (start one with: dask worker "
                                "{address})").format(address=client.scheduler.address)) from None
        versions = client.run(_riskplan_version)
        other = sorted({v for v in versions.values() if v != __version__})
        if other:
            raise EngineError(_("the cluster's workers run riskplan {theirs}, this is riskplan {ours}; install the "
                                "same version on every worker").format(theirs=", ".join(other), ours=__version__))
        yield Engine(client, client.scheduler.address, scheduler is None, dashboard_link(client))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def task_started(topic: str, name: str) -> None:
    """Called by a task when a worker begins it, so the client can show it running and time it."""
    from distributed import get_worker

    with contextlib.suppress(ValueError):  # not on a worker (a test calling the task directly)
        worker = get_worker()
        worker.log_event(topic, {"name": name, "worker": worker.address})


def _traced(fn: Callable[[Any], Any], job: Any, topic: str, name: str) -> Any:
    """What a worker runs: say that the task has begun, then the task."""
    task_started(topic, name)
    return fn(job)


@dataclass
class Outcome:
    """How one task ended: state "finished" (with its value), "crashed" or "timed out" (with why)."""

    name: str
    state: str
    value: Any = None
    reason: str = ""
    workers: list[str] = field(default_factory=list)  # the workers that began it, in order (retries)


@dataclass
class Progress:
    """Counts shown while tasks run; `dashboard` when the scheduler serves one."""

    total: int
    done: int = 0
    failed: int = 0
    running: int = 0
    dashboard: str | None = None
    last: str = ""

    @property
    def waiting(self) -> int:
        return self.total - self.done - self.failed - self.running


@dataclass
class _Started:
    at: dict[str, tuple[float, str]] = field(default_factory=dict)
    workers: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event) -> None:
        _stamp, msg = event
        with self.lock:
            self.at[msg["name"]] = (time.monotonic(), msg["worker"])
            self.workers.setdefault(msg["name"], []).append(msg["worker"])

    def get(self, name: str) -> tuple[float, str] | None:
        with self.lock:
            return self.at.get(name)

    def attempts(self, name: str) -> list[str]:
        with self.lock:
            return list(self.workers.get(name, []))

    def names(self) -> set[str]:
        with self.lock:
            return set(self.at)


def _reason(exc: BaseException) -> str:
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return _("the workers running it died (out of memory or killed) too many times")
    return f"{type(exc).__name__}: {exc}"


def longest_first(expected: Mapping[str, float]) -> dict[str, int]:
    """Dask priorities that start the longest tasks first (longest-processing-time-first: the
    last task to start is a short one, so no worker idles long at the end): the task expected
    to take longest gets the highest number; equal expectations keep their given order."""
    ranked = sorted(expected, key=lambda name: -expected[name])  # sorted() is stable
    return {name: len(ranked) - i for i, name in enumerate(ranked)}


def run_tasks(engine: Engine, fn: Callable[[Any], Any], jobs: Mapping[str, Any], *,
              timeout: float | None = None, on_progress: Callable[[Progress], None] | None = None,
              on_outcome: Callable[[Outcome], None] | None = None,
              succeeded: Callable[[Any], bool] = lambda value: True,
              priority: Mapping[str, int] | None = None) -> dict[str, Outcome]:
    """Run `fn(job)` for every job (by name) on the engine (`fn` and its jobs must pickle).
    `timeout`: seconds a task may run once started;
    `succeeded(value)` tells a finished task's failure it reports itself (counted as failed);
    `priority` (by name; higher first, e.g. `longest_first`): tasks are submitted in that order
    and the scheduler hands them out in it. All tasks of a call share one Dask task group (the
    key's prefix), so the scheduler queues them as one batch, whatever the names."""
    from distributed import wait

    client = engine.client
    topic = TOPIC_PREFIX + uuid.uuid4().hex
    started = _Started()
    client.subscribe_topic(topic, started)
    token = uuid.uuid4().hex[:8]
    rank = priority or {}
    order = sorted(jobs, key=lambda name: -rank.get(name, 0))
    pending = {client.submit(_traced, fn, jobs[name], topic, name, key=(f"riskplan-{token}", name), pure=False,
                             priority=rank.get(name, 0)): name
               for name in order}
    progress = Progress(len(jobs), dashboard=engine.dashboard)
    outcomes: dict[str, Outcome] = {}

    def finish(outcome: Outcome) -> None:
        outcome.workers = started.attempts(outcome.name)
        outcomes[outcome.name] = outcome
        if outcome.state == "finished" and succeeded(outcome.value):
            progress.done += 1
        else:
            progress.failed += 1
        progress.last = outcome.name
        if on_outcome:
            on_outcome(outcome)

    shown = None
    try:
        while pending:
            with contextlib.suppress(TimeoutError):
                wait(list(pending), timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
            for future in [f for f in pending if f.done()]:
                name = pending.pop(future)
                if future.status == "finished":
                    finish(Outcome(name, "finished", future.result()))
                else:
                    exc = future.exception() if future.status == "error" else None
                    finish(Outcome(name, "crashed", reason=_reason(exc) if exc else future.status))
            if timeout is not None:
                now = time.monotonic()
                for future, name in list(pending.items()):
                    begun = started.get(name)
                    if begun and now - begun[0] > timeout:
                        pending.pop(future)
                        future.cancel()
                        _restart(client, begun[1])
                        finish(Outcome(name, "timed out", reason=_("still running after {seconds:g} s "
                                                                   "(--task-timeout)").format(seconds=timeout)))
            progress.running = len(started.names() & set(pending.values()))
            state = (progress.done, progress.failed, progress.running)
            if on_progress and state != shown:
                shown = state
                on_progress(progress)
    finally:
        for future in pending:
            future.cancel()
        with contextlib.suppress(Exception):
            client.unsubscribe_topic(topic)
    return outcomes


def _restart(client, worker: str) -> None:
    """Stop a timed-out task for real: restart its worker (needs a nanny; else it runs on, unused)."""
    with contextlib.suppress(Exception):
        client.restart_workers([worker], raise_for_error=False)


def run_here(fn: Callable[[Any], Any], jobs: Mapping[str, Any], *,
             on_progress: Callable[[Progress], None] | None = None,
             on_outcome: Callable[[Outcome], None] | None = None,
             succeeded: Callable[[Any], bool] = lambda value: True) -> dict[str, Outcome]:
    """`run_tasks` without an engine: the jobs one after the other in this process (one worker
    asked for: a cluster would only add its start and a process). No time-out here."""
    progress = Progress(len(jobs))
    outcomes: dict[str, Outcome] = {}
    for name, job in jobs.items():
        progress.running = 1
        if on_progress:
            on_progress(progress)
        try:
            outcome = Outcome(name, "finished", fn(job))
        except Exception as exc:
            outcome = Outcome(name, "crashed", reason=f"{type(exc).__name__}: {exc}")
        outcomes[name] = outcome
        if outcome.state == "finished" and succeeded(outcome.value):
            progress.done += 1
        else:
            progress.failed += 1
        progress.running, progress.last = 0, name
        if on_outcome:
            on_outcome(outcome)
        if on_progress:
            on_progress(progress)
    return outcomes


class TaskFailed(RuntimeError):
    """A task of `run_jobs` crashed or timed out: the sweep has no result for it."""


def run_jobs(fn: Callable[[Any], Any], jobs: list[Any], *, scheduler: str | None = None,
             workers: int | None = None, on_done: Callable[[int, int], None] | None = None,
             on_progress: Callable[[Progress], None] | None = None) -> list[Any]:
    """`[fn(job) for job in jobs]`, the jobs run as tasks on the Dask engine (a local cluster
    of `workers` processes, or `scheduler`). With no scheduler and one worker (or one job) they
    run here, one after the other, with no cluster (e.g. inside a task of a province run).
    `on_done(count, index)` after each job; TaskFailed (with the reason) if any job fails."""
    if not scheduler and (workers == 1 or len(jobs) <= 1):
        values = []
        for i, job in enumerate(jobs):
            values.append(fn(job))
            if on_done:
                on_done(i + 1, i)
        return values
    if not scheduler:
        workers = min(workers or machine_workers(), len(jobs))  # no idle worker processes
    names = {f"{i:06d}": i for i in range(len(jobs))}
    count = 0

    def done(outcome: Outcome) -> None:
        nonlocal count
        count += 1
        if on_done and outcome.state == "finished":
            on_done(count, names[outcome.name])

    with open_engine(scheduler, workers) as engine:
        outcomes = run_tasks(engine, fn, {name: jobs[i] for name, i in names.items()},
                             on_progress=on_progress, on_outcome=done)
    failed = [o for o in outcomes.values() if o.state != "finished"]
    if failed:
        raise TaskFailed(_("task {number} of {total} failed: {reason}").format(
            number=names[failed[0].name] + 1, total=len(jobs), reason=failed[0].reason))
    return [outcomes[name].value for name in names]

"""Province and what-if on Dask, against one process and against the old process pool.

    python -m pytest benchmarks/bench_province.py -m slow -s

1. 16 generated M districts (a districts.csv listing the cached folders): `run_province` with
   one worker (in this process, no cluster: the honest sequential run of the same code path,
   fingerprints, manifest and summary included), then on a local cluster of 2 workers twice:
   a first run (no recorded task times; ordered by input size, equal here) and a run ordered
   longest first by the times the first run recorded (the next quarter's case). Printed: the
   wall times, the speed-ups with and without the cluster's start (target >= 1.8x on 2 cores,
   judged on the second), the load average, each worker's peak memory (max RSS, read on the
   workers before the cluster closes) and this process's. All give the same plan files.
2. A what-if sweep of 13 staffing levels at M: scenarios on a local Dask cluster (today's
   `run_whatif`) and on the concurrent.futures process pool it used before (the old executor,
   kept here for the comparison). Target: Dask within 10% of the pool; the same table.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest
from districts import district_path

import riskplan.analysis.whatif as whatif
import riskplan.province.runner as runner
from riskplan.analysis.whatif import run_whatif, scenario_grid

QUARTER = "2027Q1"
SEED = 2027
N_DISTRICTS = 16
TIME_LIMIT = 60.0  # `riskplan plan`'s default
SPEEDUP_TARGET = 1.8
WHATIF_SLACK = 1.10


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _same_plans(a, b) -> None:
    for path in sorted(a.rglob("*")):
        if path.is_file():
            other = b / path.relative_to(a)
            if path.name == "plan.json":
                left, right = json.loads(path.read_bytes()), json.loads(other.read_bytes())
                left.pop("timing"), right.pop("timing")
                assert left == right, path
            else:
                assert path.read_bytes() == other.read_bytes(), path


def _task_seconds(result) -> list[float]:
    return [result.districts[n]["timing"]["task_wall_time_s"] for n in result.order]


def _busy(result) -> str:
    """Each worker's summed task time: how evenly the order spread the districts (load aside)."""
    busy: dict[str, float] = {}
    for name in result.order:
        worker = result.districts[name]["workers"][-1]
        busy[worker] = busy.get(worker, 0.0) + result.districts[name]["timing"]["task_wall_time_s"]
    return " / ".join(f"{v:.1f}" for v in sorted(busy.values(), reverse=True)) + " s per worker"


@pytest.mark.slow
def test_16_m_districts_sequential_vs_local_cluster_of_2(tmp_path, monkeypatch):
    folders = {f"M-{i}": district_path("M", i) for i in range(1, N_DISTRICTS + 1)}
    root = tmp_path / "root"
    root.mkdir()
    (root / "districts.csv").write_text("name,folder\n" + "".join(f"{n},{f}\n" for n, f in folders.items()),
                                        encoding="utf-8")
    load = os.getloadavg()[0]
    started = time.perf_counter()  # the same run_province, one worker: in this process, no cluster
    alone = runner.run_province(root, QUARTER, SEED, tmp_path / "sequential", workers=1, time_limit=TIME_LIMIT)
    sequential = time.perf_counter() - started
    assert alone.manifest["timing"]["engine"]["scheduler"] is None

    peaks: dict[str, float] = {}
    starts: list[float] = []
    real = runner.open_engine

    @contextlib.contextmanager
    def measured(*args, **kwargs):
        begun = time.perf_counter()
        with real(*args, **kwargs) as engine:
            starts.append(time.perf_counter() - begun)
            yield engine
            # a lambda travels by value (this module is not importable on the workers)
            for worker, peak in engine.client.run(
                    lambda: __import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss / 1024
            ).items():
                peaks[worker] = max(peaks.get(worker, 0.0), peak)

    monkeypatch.setattr(runner, "open_engine", measured)
    runs = {}
    # 1. a first run: no recorded times, the tasks ordered by the size of their inputs (equal here)
    # 2. the next quarter's run: ordered longest first by the times the first run recorded
    for label, times_from in (("first run", None), ("times from the last run", tmp_path / "first run")):
        started = time.perf_counter()
        result = runner.run_province(root, QUARTER, SEED, tmp_path / label, workers=2, time_limit=TIME_LIMIT,
                                     times_from=times_from)
        runs[label] = (time.perf_counter() - started, result)
    print(f"\n16 M districts (load {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end): "
          f"one process {sequential:.1f} s (tasks {sum(_task_seconds(alone)):.1f} s)")
    for (label, (wall, result)), start in zip(runs.items(), starts):
        print(f"  local cluster of 2, {label}: {wall:.1f} s = {sequential / wall:.2f}x; without the cluster's "
              f"start ({start:.1f} s) {sequential / (wall - start):.2f}x; tasks {_busy(result)}")
    print(f"  target {SPEEDUP_TARGET}x; peak memory per worker " + ", ".join(f"{v:.0f} MiB" for v in peaks.values())
          + f"; this process {_max_rss_mib():.0f} MiB")
    assert sorted(alone.in_state("done")) == sorted(folders)  # a fallback roster would not compare
    for _label, (_wall, result) in runs.items():
        assert sorted(result.in_state("done")) == sorted(folders)
        for name in folders:
            _same_plans(tmp_path / "sequential" / "districts" / name / "plan",
                        result.out_dir / "districts" / name / "plan")
    assert sequential / runs["times from the last run"][0] >= SPEEDUP_TARGET


def _process_pool(fn, jobs, *, scheduler=None, workers=None, on_done=None, on_progress=None):
    """The executor `run_whatif` had before Dask: a process pool over all cores."""
    import os

    with ProcessPoolExecutor(max_workers=min(workers or os.cpu_count() or 1, len(jobs))) as pool:
        values = []
        for i, value in enumerate(pool.map(fn, jobs)):
            values.append(value)
            if on_done:
                on_done(i + 1, i)
    return values


@pytest.mark.slow
def test_whatif_sweep_of_13_levels_at_m_on_dask_vs_the_process_pool(monkeypatch):
    path = district_path("M", 1)
    grid = scenario_grid(list(range(32, 81, 4)))
    assert len(grid) == 13
    kwargs = {"time_limit": 20.0, "extra_qualification": "hazchem", "workers": 2}
    started = time.perf_counter()
    on_dask = run_whatif(path, QUARTER, 1, grid, **kwargs)
    dask_s = time.perf_counter() - started
    monkeypatch.setattr(whatif, "run_jobs", _process_pool)
    started = time.perf_counter()
    pooled = run_whatif(path, QUARTER, 1, grid, **kwargs)
    pool_s = time.perf_counter() - started
    print(f"\nwhat-if M, 13 staffing levels: Dask local cluster {dask_s:.1f} s, process pool {pool_s:.1f} s, "
          f"ratio {dask_s / pool_s:.2f} (target <= {WHATIF_SLACK}); minimal staffing {on_dask.minimal_staffing}")
    if (on_dask.table["status"] != "GREEDY_FALLBACK").all() and (pooled.table["status"] != "GREEDY_FALLBACK").all():
        pd.testing.assert_frame_equal(on_dask.table, pooled.table)
    assert dask_s <= pool_s * WHATIF_SLACK

"""The order a province's districts go to the workers: longest first (LPT), from the task times
an earlier run recorded, else from the size of the districts' inputs; and one worker planning
in this process with no cluster. tests/test_province_cluster.py checks the outputs on Dask."""

from __future__ import annotations

import json
import time

from province_helpers import QUARTER, TIME_LIMIT, assert_same_plan, documented_seed, make_district, plan_alone

from riskplan.analysis.cluster import longest_first, open_engine, run_tasks
from riskplan.province.districts import DistrictEntry, input_bytes
from riskplan.province.runner import expected_seconds, read_task_times, run_province

SEED = 2027


def test_longest_first_gives_the_longest_the_highest_priority_and_keeps_ties_in_order():
    assert longest_first({"a": 2.0, "b": 9.0, "c": 2.0, "d": 5.0}) == {"b": 4, "d": 3, "a": 2, "c": 1}


def test_expected_seconds_are_the_recorded_times_else_the_size_at_the_median_rate(tmp_path):
    small = make_district(tmp_path / "small", 1, n_enterprises=40)
    big = make_district(tmp_path / "big", 2, n_enterprises=400)
    new = make_district(tmp_path / "new", 3, n_enterprises=200)
    entries = [DistrictEntry(p.name, p) for p in (small, big, new)]
    assert input_bytes(big) > input_bytes(new) > input_bytes(small) > 0
    by_size = expected_seconds(entries, {})
    assert sorted(by_size, key=by_size.get, reverse=True) == ["big", "new", "small"]
    recorded = {"small": 30.0, "big": 3.0}  # the times say otherwise: they win
    expected = expected_seconds(entries, recorded)
    assert (expected["small"], expected["big"]) == (30.0, 3.0)
    rates = sorted(recorded[n] / input_bytes(tmp_path / n) for n in recorded)
    assert expected["new"] == input_bytes(new) * rates[1]  # the median of two: the upper one


def test_task_times_come_from_finished_districts_of_an_earlier_run(tmp_path):
    (tmp_path / "province.json").write_text(json.dumps({"districts": {
        "east": {"state": "done", "timing": {"task_wall_time_s": 12.5}},
        "west": {"state": "bad input", "timing": {"task_wall_time_s": 0.2}},
        "north": {"state": "fallback", "timing": {"task_wall_time_s": 60.1}},
        "south": {"state": "done"}}}), encoding="utf-8")
    assert read_task_times(tmp_path) == read_task_times(tmp_path / "province.json") == {"east": 12.5, "north": 60.1}
    assert read_task_times(tmp_path / "nothing-here") == {}


def _started_at(job) -> float:
    return time.monotonic()


def test_the_engine_starts_tasks_in_priority_order_whatever_their_names():
    names = ["k", "a", "x", "b", "m", "c"]
    priority = {"k": 1, "a": 6, "x": 2, "b": 5, "m": 3, "c": 4}
    with open_engine(workers=1) as engine:
        outcomes = run_tasks(engine, _started_at, {n: n for n in names}, priority=priority)
    began = sorted(names, key=lambda n: outcomes[n].value)
    assert began == sorted(names, key=lambda n: -priority[n])


def test_one_worker_plans_here_with_no_cluster_and_records_task_times(tmp_path, monkeypatch):
    import riskplan.province.runner as runner

    root = tmp_path / "root"
    make_district(root / "east", 1)
    make_district(root / "west", 2)

    def no_engine(*args, **kwargs):
        raise AssertionError("one local worker needs no cluster")

    monkeypatch.setattr(runner, "open_engine", no_engine)
    result = run_province(root, QUARTER, SEED, tmp_path / "out", workers=1, time_limit=TIME_LIMIT)
    assert result.in_state("done") == ["east", "west"]
    assert result.manifest["timing"]["engine"] == {"scheduler": None, "local": True, "workers": 1, "dashboard": None}
    for name in ("east", "west"):
        assert_same_plan(plan_alone(root / name, documented_seed(SEED, name), tmp_path / "alone" / name),
                         tmp_path / "out" / "districts" / name / "plan")
    times = read_task_times(tmp_path / "out")
    assert set(times) == {"east", "west"} and all(t > 0 for t in times.values())

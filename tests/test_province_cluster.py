"""`riskplan province` and `riskplan whatif` on a real Dask cluster: a `dask scheduler` and two
`dask worker` processes on 127.0.0.1 (tests/province_helpers.py), and a local cluster.

Every district's plan folder must equal, byte for byte, what `riskplan plan` writes for the
district alone with the seed of the documented rule (plan.json but for its wall times); a
district with bad input is reported and the others finish; a worker killed in the middle of
a district costs a retry, not the province."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner
from province_helpers import (
    DISTRICTS,
    QUARTER,
    TIME_LIMIT,
    DaskProcesses,
    assert_same_plan,
    documented_seed,
    make_district,
    make_province,
    plan_alone,
)

from riskplan.check.checker import check_roster
from riskplan.cli import main
from riskplan.province.runner import run_province

SEED = 2027


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    cluster = DaskProcesses(tmp_path_factory.mktemp("dask"))
    try:
        yield cluster.start(n_workers=2)
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    return make_province(tmp_path_factory.mktemp("province") / "root")


@pytest.fixture(scope="module")
def alone(province, tmp_path_factory):
    """Each district planned alone by `riskplan plan`, with its seed by the documented rule."""
    out = tmp_path_factory.mktemp("alone")
    return {name: plan_alone(province / name, documented_seed(SEED, name), out / name) for name in DISTRICTS}


def assert_province_matches(out, alone, names=DISTRICTS):
    manifest = json.loads((out / "province.json").read_text(encoding="utf-8"))
    for name in names:
        record = manifest["districts"][name]
        assert record["state"] == "done", (name, record["reason"])
        assert record["seed"] == documented_seed(SEED, name)
        plan_dir = out / "districts" / name / "plan"
        assert_same_plan(alone[name], plan_dir)
        assert check_roster(record["folder"], plan_dir) == []  # the independent checker, again
    return manifest


def test_on_a_scheduler_address_every_district_equals_plan_alone(dask_cluster, province, alone, tmp_path):
    result = run_province(province, QUARTER, SEED, tmp_path / "out", scheduler=dask_cluster.address,
                          time_limit=TIME_LIMIT)
    manifest = assert_province_matches(tmp_path / "out", alone)
    assert manifest["timing"]["engine"]["scheduler"] == dask_cluster.address
    assert not manifest["timing"]["engine"]["local"]
    ran_on = {w for name in DISTRICTS for w in manifest["districts"][name]["workers"]}
    assert ran_on <= set(dask_cluster.worker_addresses().values()) and ran_on
    assert result.in_state("done") == list(sorted(DISTRICTS))
    summary = pd.read_excel(tmp_path / "out" / "province_summary.xlsx", engine="openpyxl")
    total = summary.iloc[-1]
    placed = sum(json.loads((alone[n] / "plan.json").read_text(encoding="utf-8"))["counts"]["placed"]
                 for n in DISTRICTS)
    assert total["visits_placed"] == placed
    _rerun_resumes_by_fingerprints(dask_cluster, province, alone, tmp_path)


def _rerun_resumes_by_fingerprints(dask_cluster, province, alone, tmp_path):
    """Same OUT again: nothing to plan (no cluster needed); a newer mtime changes nothing; a
    changed input file replans that district alone."""
    import os

    import riskplan.province.runner as runner

    out = tmp_path / "out"
    before = {n: (out / "districts" / n / "plan" / "roster.csv").stat().st_mtime_ns for n in DISTRICTS}

    def no_engine(*args, **kwargs):
        raise AssertionError("a resumed province needs no cluster")

    real = runner.open_engine
    runner.open_engine = no_engine
    try:
        for path in (province / "east").iterdir():  # timestamps are not fingerprints
            os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
        again = run_province(province, QUARTER, SEED, out, time_limit=TIME_LIMIT)
    finally:
        runner.open_engine = real
    assert sorted(again.resumed) == sorted(DISTRICTS)
    changed = tmp_path / "changed"
    for name in DISTRICTS:
        shutil.copytree(province / name, changed / name)
    leave = (changed / "east" / "leave.csv").read_text(encoding="utf-8-sig").splitlines()
    (changed / "east" / "leave.csv").write_text("\n".join(leave[:1]) + "\n", encoding="utf-8")  # no leave now
    third = run_province(changed, QUARTER, SEED, out, scheduler=dask_cluster.address, time_limit=TIME_LIMIT)
    assert sorted(third.resumed) == sorted(set(DISTRICTS) - {"east"})
    assert third.districts["east"]["state"] == "done"
    after = {n: (out / "districts" / n / "plan" / "roster.csv").stat().st_mtime_ns for n in DISTRICTS}
    assert [n for n in DISTRICTS if after[n] != before[n]] == ["east"]
    assert_same_plan(plan_alone(changed / "east", documented_seed(SEED, "east"), tmp_path / "east-alone"),
                     out / "districts" / "east" / "plan")


def test_a_district_with_bad_input_is_reported_and_the_others_finish(dask_cluster, province, alone, tmp_path):
    root = tmp_path / "root"
    for name in DISTRICTS:
        shutil.copytree(province / name, root / name)
    broken = make_district(root / "broken", 9)
    enterprises = (broken / "enterprises.csv").read_text(encoding="utf-8-sig").splitlines()
    header = enterprises[0].split(",")
    row = enterprises[3].split(",")
    row[header.index("employees")] = "many"
    enterprises[3] = ",".join(row)
    (broken / "enterprises.csv").write_text("\n".join(enterprises) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["province", str(root), "--quarter", QUARTER, "--seed", str(SEED),
                                       "--out", str(tmp_path / "out"), "--scheduler", dask_cluster.address,
                                       "--time-limit", str(TIME_LIMIT), "--lang", "en"])
    assert result.exit_code == 1, result.output
    manifest = json.loads((tmp_path / "out" / "province.json").read_text(encoding="utf-8"))
    bad = manifest["districts"]["broken"]
    assert bad["state"] == "bad input"
    assert "enterprises.csv" in bad["reason"] and "4" in bad["reason"] and "employees" in bad["reason"]
    assert "broken" in result.output and "enterprises.csv" in result.output
    assert "districts: 4 done, 0 running, 1 failed, 0 waiting of 5" in result.output  # the progress line
    assert not (tmp_path / "out" / "districts" / "broken" / "plan").exists()  # nothing written for it
    assert_province_matches(tmp_path / "out", alone)


def test_whatif_on_the_scheduler_gives_the_results_of_one_process(dask_cluster, province, tmp_path):
    from riskplan.analysis.whatif import run_whatif, scenario_grid

    grid = scenario_grid([2, 3, 4, 5])
    here = run_whatif(province / "east", QUARTER, 5, grid, time_limit=TIME_LIMIT, workers=1)
    there = run_whatif(province / "east", QUARTER, 5, grid, time_limit=TIME_LIMIT,
                       scheduler=dask_cluster.address)
    pd.testing.assert_frame_equal(here.table, there.table)
    assert (here.minimal_staffing, here.extra) == (there.minimal_staffing, there.extra)
    result = CliRunner().invoke(main, ["whatif", str(province / "east"), "--quarter", QUARTER, "--seed", "5",
                                       "--inspectors", "2:5:1", "--time-limit", str(TIME_LIMIT),
                                       "--scheduler", dask_cluster.address, "--out", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(tmp_path / "w" / "whatif.csv", encoding="utf-8-sig")
    assert list(written["mandatory_placed"]) == list(here.table["mandatory_placed"])


def test_a_task_that_times_out_or_raises_is_reported_and_the_others_finish(dask_cluster):
    """The engine itself, with plain functions the workers can import: time.sleep past the
    time-out (its worker is restarted by its nanny), int() of a word (raises), int() of a number."""
    import time

    from riskplan.analysis.cluster import open_engine, run_tasks

    seen = []
    with open_engine(dask_cluster.address) as engine:
        slept = run_tasks(engine, time.sleep, {"sleeper": 120, "napper": 0.01}, timeout=2.0)
        counted = run_tasks(engine, int, {"word": "many", "number": "3"}, on_progress=lambda p: seen.append(
            (p.done, p.failed)))
    assert slept["sleeper"].state == "timed out" and "2 s" in slept["sleeper"].reason
    assert slept["napper"].state == "finished"
    assert counted["word"].state == "crashed" and "ValueError" in counted["word"].reason
    assert (counted["number"].state, counted["number"].value) == ("finished", 3)
    assert seen[-1] == (1, 1)
    dask_cluster.wait_for_workers(2)  # the restarted worker is back for the tests after this one


def test_on_a_local_cluster_every_district_equals_plan_alone(province, alone, tmp_path):
    result = CliRunner().invoke(main, ["province", str(province), "--quarter", QUARTER, "--seed", str(SEED),
                                       "--out", str(tmp_path / "out"), "--workers", "2",
                                       "--time-limit", str(TIME_LIMIT)])
    assert result.exit_code == 0, result.output
    manifest = assert_province_matches(tmp_path / "out", alone)
    engine = manifest["timing"]["engine"]
    assert engine["local"] and engine["workers"] == 2 and engine["scheduler"].startswith("tcp://127.0.0.1:")


@pytest.mark.slow
def test_a_worker_killed_mid_district_costs_a_retry_not_the_province(tmp_path, tmp_path_factory):
    """Bigger districts, so the kill lands while the first district is still being planned."""
    names = {"east": 1, "west": 2, "north": 3}
    root = tmp_path / "root"
    for name, seed in names.items():
        make_district(root / name, seed, n_enterprises=400, n_inspectors=12)
    alone = {name: plan_alone(root / name, documented_seed(SEED, name), tmp_path / "alone" / name) for name in names}
    cluster = DaskProcesses(tmp_path_factory.mktemp("dask-kill"))
    try:
        cluster.start(n_workers=2)
        victim = cluster.worker_addresses()["w0"]
        killed = []

        def kill_when_running(progress):
            if progress.running == 2 and not killed:  # both workers, w0 among them, are planning a district
                cluster.kill_worker("w0")
                killed.append(progress.running)

        result = run_province(root, QUARTER, SEED, tmp_path / "out", scheduler=cluster.address,
                              time_limit=TIME_LIMIT, progress=kill_when_running)
    finally:
        cluster.close()
    assert killed
    manifest = assert_province_matches(tmp_path / "out", alone, names)
    retried = [n for n in names if len(manifest["districts"][n]["workers"]) > 1]
    assert retried, {n: manifest["districts"][n]["workers"] for n in names}
    for name in retried:  # begun on the killed worker, finished on the other
        assert manifest["districts"][name]["workers"][0] == victim
        assert manifest["districts"][name]["workers"][-1] != victim
    assert result.in_state("done") == sorted(names)

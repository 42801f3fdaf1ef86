"""A plan whose solve was interrupted or timed out says so: plan.json, plan's exit status,
check's warning and the report's notice (fault injection, not real signals)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from riskplan.check.checker import check_roster
from riskplan.cli import main
from riskplan.cli.roster import EXIT_FALLBACK
from riskplan.export.plan_files import deterministic_part
from riskplan.pipeline import run_plan


def _interrupt_phase_1(monkeypatch):
    import riskplan.solve.solve as solver

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(solver, "plan_weeks", interrupted)


def _plan_json(out):
    return json.loads((out / "plan.json").read_text(encoding="utf-8"))


def test_interrupted_solve_is_marked_in_plan_json(tiny_district, tmp_path, monkeypatch):
    t = tiny_district()
    normal = run_plan(t.path, "2027Q1", 7, t.tiers_csv, out_dir=tmp_path / "normal", time_limit=10)
    assert normal.plan["solver"]["status"] in ("OPTIMAL", "FEASIBLE") and "fallback" not in normal.plan["solver"]
    _interrupt_phase_1(monkeypatch)
    res = run_plan(t.path, "2027Q1", 7, t.tiers_csv, out_dir=tmp_path / "out", time_limit=10)
    solver = _plan_json(res.out_dir)["solver"]
    assert solver["status"] == "INTERRUPTED"
    assert solver["fallback"]["roster"] == "greedy" and solver["fallback"]["reason"] == "user interrupt"
    assert check_roster(t.path, res.out_dir) == []  # the fallback is still a valid roster
    # everything else in plan.json is as a finished solve writes it
    a, b = deterministic_part(normal.plan), deterministic_part(res.plan)
    assert set(a) == set(b) and set(a["solver"]) | {"fallback"} == set(b["solver"])


def test_timed_out_solve_is_marked_time_limit(tiny_district, tmp_path):
    t = tiny_district()
    res = run_plan(t.path, "2027Q1", 7, t.tiers_csv, out_dir=tmp_path / "out", time_limit=0.0)
    solver = _plan_json(res.out_dir)["solver"]
    assert solver["status"] == "TIME_LIMIT"
    assert solver["fallback"]["reason"] == "time limit" and "time limit" in solver["fallback"]["detail"]


def test_no_week_plan_is_not_called_a_time_limit(tiny_district, tmp_path, monkeypatch):
    import riskplan.solve.solve as solver_mod

    monkeypatch.setattr(solver_mod, "plan_weeks", lambda *a, **k: ({}, "MODEL_INVALID", float("nan")))
    t = tiny_district()
    res = run_plan(t.path, "2027Q1", 7, t.tiers_csv, out_dir=tmp_path / "out", time_limit=10)
    solver = res.plan["solver"]
    assert solver["status"] == "NO_WEEK_PLAN" and solver["fallback"]["reason"] == "no week plan"
    assert "MODEL_INVALID" in solver["fallback"]["detail"]


@pytest.mark.parametrize("accept", [False, True])
def test_plan_cli_exits_3_on_a_fallback_unless_accepted(tiny_district, tmp_path, monkeypatch, accept):
    t = tiny_district()
    _interrupt_phase_1(monkeypatch)
    out = tmp_path / "out"
    args = ["plan", str(t.path), "--quarter", "2027Q1", "--seed", "7", "--tiers", str(t.tiers_csv),
            "--out", str(out)] + (["--accept-fallback"] if accept else [])
    r = CliRunner().invoke(main, args)
    assert r.exit_code == (0 if accept else EXIT_FALLBACK), r.output
    assert "warning: the roster is the greedy fallback" in r.stderr and "user interrupt" in r.stderr
    assert _plan_json(out)["solver"]["status"] == "INTERRUPTED"  # marked either way

    c = CliRunner().invoke(main, ["check", str(t.path), str(out)])
    assert c.exit_code == 0, c.output
    assert "roster checks pass" in c.stdout and "greedy fallback" in c.stderr

    report = tmp_path / "report.html"
    rep = CliRunner().invoke(main, ["report", str(t.path), str(out), "--out", str(report)])
    assert rep.exit_code == 0, rep.output
    html = report.read_text(encoding="utf-8")
    assert 'id="fallback-notice"' in html and "user interrupt" in html


def test_finished_plan_has_no_fallback_warning(tiny_district, tmp_path):
    t = tiny_district()
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["plan", str(t.path), "--quarter", "2027Q1", "--seed", "7", "--tiers",
                                  str(t.tiers_csv), "--out", str(out), "--time-limit", "10"])
    assert r.exit_code == 0, r.output
    assert "fallback" not in r.stderr
    c = CliRunner().invoke(main, ["check", str(t.path), str(out)])
    assert c.exit_code == 0 and "fallback" not in c.stderr
    report = tmp_path / "report.html"
    CliRunner().invoke(main, ["report", str(t.path), str(out), "--out", str(report)])
    assert "fallback-notice" not in report.read_text(encoding="utf-8")


#: The plan command, held inside CP-SAT's first solution callback of phase 1 until a signal
#: comes (at most HOLD_S seconds), and saying so on stderr: the SIGINT then reaches CP-SAT's
#: search however slowly either process runs, and a CP-SAT that takes the signal itself
#: returns from the hold after HOLD_S with a finished plan (exit 0), which the test refuses
#: (the time limit is far past the hold, so the clock never stands in for the signal).
HOLD_S = 60
HELD = "held inside CP-SAT's phase 1 search"
PLAN_HELD_IN_PHASE_1 = f"""
import sys, time
import riskplan.solve.solve as solve

real = solve.plan_weeks

def plan_weeks(inst, classes, seed, det, wall, report, *rest):
    held = []

    def report_and_hold(message):  # phase 1 reports only from CP-SAT's solution callbacks
        report(message)
        if not held:
            held.append(True)
            print({HELD!r}, file=sys.stderr, flush=True)
            end = time.monotonic() + {HOLD_S}
            while time.monotonic() < end:
                time.sleep(0.01)

    return real(inst, classes, seed, det, wall, report_and_hold, *rest)

solve.plan_weeks = plan_weeks
from riskplan.cli import main
main()
"""


def test_a_real_ctrl_c_during_the_week_plan_is_marked(tmp_path):
    """A real SIGINT while CP-SAT solves phase 1: CP-SAT must not swallow it (it would return its
    best plan as if finished, exit 0, FEASIBLE). The plan is held inside CP-SAT's search until
    the signal comes (PLAN_HELD_IN_PHASE_1), so the test does not depend on timing: under load
    phase 1 (about a second on an S district) could otherwise end before the signal arrives."""
    import json
    import signal
    import subprocess
    import sys

    district = tmp_path / "district"
    subprocess.run([sys.executable, "-c", "from riskplan.cli import main; main()", "synth", "--size", "S", "--seed",
                    "3", "--out", str(district)], check=True, capture_output=True)
    out = tmp_path / "plan"
    proc = subprocess.Popen([sys.executable, "-c", PLAN_HELD_IN_PHASE_1, "plan", str(district), "--quarter", "2027Q1",
                             "--seed", "1", "--out", str(out), "--lang", "en", "--time-limit", "300"],
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if HELD in line:
            proc.send_signal(signal.SIGINT)
            break
    rest, errors = proc.communicate(timeout=600)
    assert any(HELD in line for line in seen), "".join(seen)
    assert any("phase 1 week plan (" in line for line in seen)  # the hold is inside a solution callback
    assert proc.returncode == 3, (rest, "".join(seen), errors)
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert plan["solver"]["status"] == "INTERRUPTED"
    assert plan["solver"]["fallback"]["reason"] == "user interrupt"

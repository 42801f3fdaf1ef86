"""Inputs on which no visit can be placed: one plain message naming the cause, exit 2, nothing
written, and no solver status that would read as success (issue 14)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from riskplan.cli import main
from riskplan.plan.problem import build_problem
from riskplan.solve.degenerate import NothingToPlan, nothing_to_plan
from riskplan.solve.compile import compile_problem
from riskplan.solve.solve import solve_roster
from conftest import default_inspectors


def _all_weekdays(quarter_start: date, quarter_end: date) -> list[str]:
    out, d = [], quarter_start
    while d <= quarter_end:
        if d.weekday() < 5:
            out.append(d.isoformat())
        d += timedelta(days=1)
    return out


def _policy_without_working_days() -> str:
    days = ", ".join(f'"{d}"' for d in _all_weekdays(date(2027, 1, 1), date(2027, 3, 31)))
    return f"[roster]\nholidays = [{days}]\n"


CASES = {
    "zero capacity": ({"inspectors": [dict(r, weekly_capacity=0) for r in default_inspectors()]},
                      "inspectors.csv", "weekly_capacity", "can make no visit in 2027Q1"),
    "no certified inspector": ({"inspectors": [dict(r, certified=0) for r in default_inspectors()]},
                               "inspectors.csv", "certified", "0 certified inspectors"),
    "one certified inspector": ({"inspectors": [dict(r, certified=int(r["inspector_id"] == "I01"))
                                                for r in default_inspectors()]},
                                "inspectors.csv", "certified", "1 certified inspector, and a visit needs a team of 2"),
    "no working day": ({"policy": _policy_without_working_days()},
                       "policy.toml", "holidays", "has no working day"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_says_plainly_that_nothing_can_be_planned(case, tiny_district, tmp_path):
    overrides, file, column, words = CASES[case]
    t = tiny_district(**overrides)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["plan", str(t.path), "--quarter", "2027Q1", "--seed", "1",
                                       "--tiers", str(t.tiers_csv), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"{file}, column '{column}'" in result.output and words in result.output
    assert "nothing can be planned" in result.output
    assert "feasible" not in result.output.lower() and "inspector-weeks" not in result.output
    assert not out.exists()


@pytest.mark.parametrize("case", sorted(CASES))
def test_solver_raises_rather_than_returning_a_status(case, tiny_district):
    overrides, file, column, _words = CASES[case]
    t = tiny_district(**overrides)
    problem, _draw, _obl = build_problem(t.load(), t.tiers, "2027Q1", 1)
    with pytest.raises(NothingToPlan) as err:
        solve_roster(problem, 1)
    [cause] = err.value.problems
    assert (cause.file, cause.column, cause.cause) == (file, column, True)


def test_two_certified_inspectors_with_one_day_of_capacity_are_planned(tiny_district):
    """The boundary: the smallest capacity that allows a visit is not refused."""
    rows = [dict(r, certified=int(r["inspector_id"] in ("I01", "I02")), weekly_capacity=5)
            for r in default_inspectors()]
    # leave every day but Wednesday 13 January for both certified inspectors
    leave = [{"inspector_id": i, "start": "2027-01-01", "end": "2027-01-12"} for i in ("I01", "I02")]
    leave += [{"inspector_id": i, "start": "2027-01-14", "end": "2027-03-31"} for i in ("I01", "I02")]
    t = tiny_district(inspectors=rows, leave=leave)
    problem, _draw, _obl = build_problem(t.load(), t.tiers, "2027Q1", 1)
    assert nothing_to_plan(compile_problem(problem)) is None
    result = solve_roster(problem, 1)
    assert result.status == "FEASIBLE"
    assert result.roster.visits and {v.date for v in result.roster.visits} == {date(2027, 1, 13)}


def test_the_message_reads_chinese_by_default(tiny_district, tmp_path, monkeypatch):
    from riskplan import i18n

    monkeypatch.delenv(i18n.ENV_VAR, raising=False)
    i18n.set_language(None)
    overrides, *_rest = CASES["no certified inspector"]
    t = tiny_district(**overrides)
    result = CliRunner().invoke(main, ["plan", str(t.path), "--quarter", "2027Q1", "--seed", "1",
                                       "--tiers", str(t.tiers_csv), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "无法编排计划" in result.output and "0 名持证执法人员" in result.output

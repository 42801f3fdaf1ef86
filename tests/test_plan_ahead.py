"""Orange deadlines just after the quarter (`[tiers.orange] plan_ahead_days`, docs/obligations.md).

A half-year deadline in the first `plan_ahead_days` days after the quarter's end is met in the
quarter's last `plan_ahead_days` days (never sooner than `min_days_between_visits` after the
last visit), so a two-day window at the start of the next quarter is not its only chance. The
planner (plan/obligations.py) and the checker (check/obligations.py) derive it each their own
way; every case below runs against both, and every roster is judged by the checker.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from conftest import first_fit_solve

from riskplan.check.checker import check_roster
from riskplan.check.obligations import derive_obligations
from riskplan.domain.calendar import Quarter, WorkCalendar
from riskplan.io import read_csv_text
from riskplan.pipeline import run_plan
from riskplan.plan.obligations import find_obligations

Q1 = Quarter(2027, 1)  # 2027-01-01 .. Wednesday 2027-03-31
LAST_28 = date(2027, 3, 4)  # the first of the quarter's last 28 days


def orange(last_visit: str | None):
    inspections = [] if last_visit is None else [{"enterprise_id": "O1", "date": last_visit, "inspectors": "I01;I02"}]
    return dict(enterprises=[{"enterprise_id": "O1", "tier": "orange"}], inspections=inspections)


def planner_window(t):
    district = t.load()
    cal = WorkCalendar.for_quarter(Q1, district.policy.roster)
    found = [o for o in find_obligations(district, t.tier_series, Q1, cal) if o.kind == "orange_due"]
    return (found[0].window_start, found[0].window_end) if found else None


def checker_window(t):
    found = [o for o in derive_obligations(t.load(), t.tier_series, "2027Q1") if o.kind == "orange_due"]
    return (found[0].window_start, found[0].window_end) if found else None


CASES = [
    # last visit, policy, expected window (None: nothing this quarter)
    ("2026-09-30", None, (Q1.start, date(2027, 3, 31))),          # + 182 = 31 March: in the quarter
    ("2026-10-01", None, (LAST_28, date(2027, 3, 31))),           # + 182 = 1 April: 1 day after, ahead
    ("2026-10-28", None, (LAST_28, date(2027, 3, 31))),           # + 182 = 28 April: 28 days after, ahead
    ("2026-10-29", None, None),                                   # + 182 = 29 April: 29 days after, next quarter
    ("2026-10-01", "[tiers.orange]\nmax_days_between_visits = 182\nplan_ahead_days = 0\n", None),  # off
    ("2026-10-08", "[tiers.orange]\nmax_days_between_visits = 182\nplan_ahead_days = 7\n", None),  # 8 > 7 days
    ("2026-10-07", "[tiers.orange]\nmax_days_between_visits = 182\nplan_ahead_days = 7\n",
     (date(2027, 3, 25), date(2027, 3, 31))),                      # 7 days after: the last 7 days
    # a short gap and a long look-ahead: the window opens min_days_between_visits after the last visit
    ("2026-12-25", "[tiers.orange]\nmax_days_between_visits = 100\nplan_ahead_days = 92\n"
                   "[roster]\nmin_days_between_visits = 30\n", (date(2027, 1, 24), date(2027, 3, 31))),
    # the only day of a one-day window is a holiday: nothing now, the next quarter plans it
    ("2026-10-01", "[tiers.orange]\nmax_days_between_visits = 182\nplan_ahead_days = 1\n"
                   "[roster]\nholidays = [2027-03-31]\n", None),
    ("2026-10-01", "[tiers.orange]\nmax_days_between_visits = 182\nplan_ahead_days = 1\n",
     (date(2027, 3, 31), date(2027, 3, 31))),
]


@pytest.mark.parametrize("derive", [planner_window, checker_window], ids=["planner", "checker"])
@pytest.mark.parametrize("last, policy, expected", CASES)
def test_plan_ahead_window(tiny_district, derive, last, policy, expected):
    t = tiny_district(**orange(last), policy=policy)
    assert derive(t) == expected


def test_plan_ahead_is_on_by_default_and_documented_in_the_default_file():
    from riskplan.domain.policy import DEFAULT_POLICY_TOML, Policy

    assert Policy().tiers.orange.plan_ahead_days == 28
    assert "plan_ahead_days = 28" in DEFAULT_POLICY_TOML


@pytest.mark.parametrize("value", [-1, 93])
def test_plan_ahead_days_is_range_checked(tmp_path, value):
    from riskplan.domain.policy import PolicyError, load_policy

    path = tmp_path / "policy.toml"
    path.write_text(f"[tiers.orange]\nmax_days_between_visits = 182\nplan_ahead_days = {value}\n")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert any("tiers.orange.plan_ahead_days" in p for p in info.value.problems)


def plan(t, out, **kw):
    kw.setdefault("solve", first_fit_solve)
    return run_plan(t.path, "2027Q1", 5, t.tiers_csv, out_dir=out, **kw)


def test_the_early_visit_is_planned_in_its_window_and_passes_the_checker(tiny_district, tmp_path):
    t = tiny_district(**orange("2026-10-01"))
    result = plan(t, tmp_path / "out")
    assert check_roster(t.path, result.out_dir) == []
    roster = read_csv_text(result.out_dir / "roster.csv")
    row = roster[roster["enterprise_id"] == "O1"].iloc[0]
    assert row["obligations"] == "orange_due"
    assert (row["window_start"], row["window_end"]) == ("2027-03-04", "2027-03-31")
    assert LAST_28 <= date.fromisoformat(row["date"]) <= date(2027, 3, 31)


def test_with_planning_ahead_off_no_visit_and_the_checker_agrees(tiny_district, tmp_path):
    t = tiny_district(**orange("2026-10-01"), policy="[tiers.orange]\nmax_days_between_visits = 182\n"
                                                     "plan_ahead_days = 0\n")
    result = plan(t, tmp_path / "out")
    assert check_roster(t.path, result.out_dir) == []
    assert "O1" not in set(read_csv_text(result.out_dir / "roster.csv")["enterprise_id"])


def _rewrite_roster(out, change):
    path = out / "roster.csv"
    roster = read_csv_text(path)
    roster = change(roster)
    path.write_bytes(b"\xef\xbb\xbf" + roster.to_csv(index=False).encode("utf-8"))


def test_the_checker_misses_no_early_orange_visit(tiny_district, tmp_path):
    """A roster without the early visit (and no shortfall saying so) fails mandatory coverage."""
    t = tiny_district(**orange("2026-10-01"))
    out = plan(t, tmp_path / "out").out_dir
    _rewrite_roster(out, lambda r: r[r["enterprise_id"] != "O1"])
    rules = {v.rule for v in check_roster(t.path, out) if v.enterprise_id == "O1"}
    assert "mandatory_coverage" in rules


def test_the_checker_refuses_an_early_visit_outside_its_window(tiny_district, tmp_path):
    """Planned at the quarter's start (too early: it would shorten the half-year cycle by months)."""
    t = tiny_district(**orange("2026-10-01"))
    out = plan(t, tmp_path / "out").out_dir

    def too_early(r):
        at = r["enterprise_id"] == "O1"
        r.loc[at, "window_start"] = "2027-01-04"
        r.loc[at, "date"] = "2027-01-04"
        return r

    _rewrite_roster(out, too_early)
    rules = {v.rule for v in check_roster(t.path, out) if v.enterprise_id == "O1"}
    assert {"roster_well_formed", "on_working_day_in_window", "mandatory_coverage"} <= rules


def test_planning_ahead_adds_exactly_the_deadlines_just_after_the_quarter(tmp_path):
    """On a generated district: the obligations with the setting on are those with it off plus
    one visit for each orange enterprise due in the 28 days after the quarter, nothing else."""
    from riskplan.load.district import load_district
    from riskplan.synth.district import generate_district

    folder = tmp_path / "d"
    generate_district(folder, seed=3, n_enterprises=400, n_inspectors=6, years=2)
    district = load_district(folder)
    tiers = pd.Series("orange", index=district.enterprises["enterprise_id"])
    cal = WorkCalendar.for_quarter(Q1, district.policy.roster)
    on = find_obligations(district, tiers, Q1, cal)
    off_policy = district.policy.model_copy(update={"tiers": district.policy.tiers.model_copy(
        update={"orange": district.policy.tiers.orange.model_copy(update={"plan_ahead_days": 0})})})
    district_off = district.__class__(**{**district.__dict__, "policy": off_policy})
    off = find_obligations(district_off, tiers, Q1, cal)
    last = district.inspections[district.inspections["date"] < pd.Timestamp(Q1.start)].groupby(
        "enterprise_id")["date"].max()
    due = (last + pd.Timedelta(days=182)).dt.date
    expected = {e for e, d in due.items() if 1 <= (d - Q1.end).days <= 28}
    added = set(on) - set(off)
    assert expected and {o.enterprise_id for o in added} == expected
    assert all((o.kind, o.window_start, o.window_end) == ("orange_due", LAST_28, Q1.end) for o in added)
    assert set(off) <= set(on)
    # the checker's own reading agrees, setting on and off
    for d, planned in ((district, on), (district_off, off)):
        assert ({(o.enterprise_id, o.kind, o.window_start, o.window_end) for o in derive_obligations(d, tiers, "2027Q1")}
                == {(o.enterprise_id, o.kind, o.window_start, o.window_end) for o in planned})

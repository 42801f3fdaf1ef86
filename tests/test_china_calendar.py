"""China's working calendar built in: statutory holidays and 调休 make-up working days come from
the chinesecalendar package when the policy lists none for the quarter; the policy's lists
replace them; a year the package does not know is planned Monday to Friday with a loud
warning; the checker asks the package on its own and flags a visit on a statutory holiday.

The official days are read from the package here too (never a second copy of the State
Council's schedule); a few well-known dates are only a sanity check that the package is the one
meant (元旦 2026-01-01, the Spring Festival 2026-02-16, the make-up Sunday 2026-01-04)."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta

import chinese_calendar
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import first_fit_solve, make_tiny_district

from riskplan import i18n
from riskplan.check.calendar import CheckQuarter, working_days
from riskplan.check.checker import check_roster
from riskplan.cli import main
from riskplan.domain.calendar import Quarter, WorkCalendar, calendar_warning
from riskplan.domain.policy import RosterRules
from riskplan.pipeline import run_plan

Q = Quarter(2026, 1)
INSPECTIONS_2025 = [{"enterprise_id": "R1", "date": "2025-12-10", "inspectors": "I01;I03"},
                    {"enterprise_id": "O1", "date": "2025-08-01", "inspectors": "I02;I05"}]


def official(quarter: Quarter) -> tuple[set[date], set[date]]:
    """(weekdays off, weekend days on) of the quarter, from the package's own tables."""
    days = [quarter.start + timedelta(days=k) for k in range((quarter.end - quarter.start).days + 1)]
    off = {d for d in days if d.weekday() < 5 and chinese_calendar.is_holiday(d)}
    on = {d for d in days if d.weekday() >= 5 and chinese_calendar.is_workday(d)}
    return off, on


def test_the_package_is_the_one_meant():
    off, on = official(Q)
    assert {date(2026, 1, 1), date(2026, 1, 2), date(2026, 2, 16), date(2026, 2, 23)} <= off
    assert {date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28)} <= on


def test_without_policy_holidays_the_official_calendar_is_used():
    cal = WorkCalendar.for_quarter(Q, RosterRules())
    off, on = official(Q)
    assert cal.source == "chinesecalendar"
    assert not off & set(cal.days)
    assert on <= set(cal.days)
    plain = [d for d in (Q.start + timedelta(days=k) for k in range(90)) if d <= Q.end and d.weekday() < 5]
    assert len(cal.days) == len(plain) - len(off) + len(on)
    record = cal.record()
    assert record["source"] == "chinesecalendar" and record["chinesecalendar_version"]
    assert set(on) == {date.fromisoformat(d) for d in record["extra_workdays"]}
    assert off <= {date.fromisoformat(d) for d in record["holidays"]}
    assert calendar_warning(cal) is None


def test_the_policy_lists_replace_the_package_for_that_quarter():
    rules = RosterRules(holidays=(date(2026, 3, 2),))
    cal = WorkCalendar.for_quarter(Q, rules)
    assert cal.source == "policy"
    assert date(2026, 3, 2) not in cal.index
    assert date(2026, 1, 1) in cal.index and date(2026, 2, 16) in cal.index  # the package is not used
    assert date(2026, 1, 4) not in cal.index  # nor its make-up Sunday
    # a make-up day alone is a list too
    only_extra = WorkCalendar.for_quarter(Q, RosterRules(extra_workdays=(date(2026, 1, 10),)))
    assert only_extra.source == "policy" and date(2026, 1, 10) in only_extra.index
    assert date(2026, 2, 16) in only_extra.index
    # days listed for another quarter leave this one to the package
    elsewhere = WorkCalendar.for_quarter(Q, RosterRules(holidays=(date(2026, 5, 1),)))
    assert elsewhere.source == "chinesecalendar" and date(2026, 1, 1) not in elsewhere.index


def test_a_year_the_package_does_not_know_gets_a_warning_naming_it():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 1))
    cal = WorkCalendar.for_quarter(Quarter(2027, 1), RosterRules())
    assert cal.source == "none"
    assert date(2027, 1, 1) in cal.index  # nothing invented: Monday to Friday
    text = calendar_warning(cal)
    assert "2027" in text and "policy.toml" in text and "holidays = [2027-01-01" in text
    assert "extra_workdays" in text
    # the bureau's own holidays silence it
    listed = WorkCalendar.for_quarter(Quarter(2027, 1), RosterRules(holidays=(date(2027, 1, 1),)))
    assert listed.source == "policy" and calendar_warning(listed) is None


def test_the_warning_is_chinese_by_default(monkeypatch):
    monkeypatch.delenv(i18n.ENV_VAR, raising=False)
    i18n.set_language("zh")
    text = calendar_warning(WorkCalendar.for_quarter(Quarter(2027, 1), RosterRules()))
    assert "2027" in text and "policy.toml" in text and "法定节假日" in text


@pytest.mark.parametrize("year", range(2004, 2027, 3))
def test_checker_and_planner_agree_on_every_known_quarter(year):
    for n in (1, 2, 3, 4):
        planner = WorkCalendar.for_quarter(Quarter(year, n), RosterRules()).days
        assert list(planner) == working_days(CheckQuarter(year, n), (), ())


def test_the_checker_uses_the_policy_lists_when_given():
    days = working_days(CheckQuarter(2026, 1), [date(2026, 3, 2)], [])
    assert date(2026, 1, 1) in days and date(2026, 3, 2) not in days and date(2026, 1, 4) not in days
    assert date(2027, 1, 1) in working_days(CheckQuarter(2027, 1), [], [])


#: many visits, and two pinned visits whose windows are almost all holiday: 1–4 January leaves
#: only the make-up Sunday 4 January; 16–24 February only Tuesday 24 February
POLICY_2026 = "[tiers.yellow]\nsample_share = 1.0\n[tiers.blue]\nsample_share = 0.5\n"
PINNED_2026 = [{"enterprise_id": "B01", "reason": "complaint", "earliest": "2026-01-01", "latest": "2026-01-04"},
               {"enterprise_id": "B02", "reason": "complaint", "earliest": "2026-02-16", "latest": "2026-02-24"}]


@pytest.fixture(scope="module")
def plan_2026(tmp_path_factory):
    """A tiny district planned for 2026Q1 with no holidays in its policy (the real solver)."""
    root = tmp_path_factory.mktemp("cal2026")
    t = make_tiny_district(root / "district", inspections=INSPECTIONS_2025, policy=POLICY_2026, pinned=PINNED_2026)
    result = run_plan(t.path, "2026Q1", 3, t.tiers_csv, out_dir=root / "out", time_limit=20)
    return t, result


def test_a_plan_avoids_the_statutory_holidays(plan_2026):
    t, result = plan_2026
    off, _ = official(Q)
    roster = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=result.out_dir / "roster.csv", dtype=str)
    dates = {date.fromisoformat(d) for d in roster["date"]}
    assert len(roster) > 15
    assert not dates & off
    pinned = roster[roster["basis"] == "pinned"].set_index("enterprise_id")["date"]
    assert pinned.to_dict() == {"B01": "2026-01-04", "B02": "2026-02-24"}
    plan = json.loads((result.out_dir / "plan.json").read_text(encoding="utf-8"))
    assert plan["calendar"]["source"] == "chinesecalendar"
    assert "2026-01-01" in plan["calendar"]["holidays"] and "2026-01-04" in plan["calendar"]["extra_workdays"]
    assert plan["warnings"] == [] and result.warnings == []
    assert list(plan)[-1] == "timing"
    assert check_roster(t.path, result.out_dir) == []


def test_a_plan_may_use_the_make_up_days(tmp_path):
    # first fit puts each visit on the first working day it can: 4 January 2026, a Sunday
    t = make_tiny_district(tmp_path / "district", inspections=INSPECTIONS_2025)
    out = tmp_path / "out"
    run_plan(t.path, "2026Q1", 1, t.tiers_csv, out_dir=out, solve=first_fit_solve)
    dates = set(pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=out / "roster.csv", dtype=str)["date"])
    assert "2026-01-04" in dates
    assert check_roster(t.path, out) == []


def test_the_checker_flags_a_visit_on_a_statutory_holiday(plan_2026, tmp_path):
    t, result = plan_2026
    copy = tmp_path / "out"
    shutil.copytree(result.out_dir, copy)
    roster = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=copy / "roster.csv", dtype=str, keep_default_na=False)
    moved = roster["window_start"].le("2026-02-17") & roster["window_end"].ge("2026-02-17")
    assert moved.any()
    vid = roster.loc[moved.idxmax(), "visit_id"]
    roster.loc[moved.idxmax(), "date"] = "2026-02-17"  # a Tuesday of the Spring Festival
    roster.to_csv(copy / "roster.csv", index=False)
    found = [v for v in check_roster(t.path, copy) if v.rule == "on_working_day_in_window"]
    assert [v.visit_id for v in found] == [vid]


def test_the_checker_accepts_a_make_up_day_and_refuses_an_ordinary_weekend(plan_2026, tmp_path):
    t, result = plan_2026
    for day, broken in (("2026-02-28", False), ("2026-03-07", True)):
        copy = tmp_path / day
        shutil.copytree(result.out_dir, copy)
        roster = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=copy / "roster.csv", dtype=str, keep_default_na=False)
        fits = roster["window_start"].le(day) & roster["window_end"].ge(day)
        row = fits.idxmax()
        roster.loc[row, "date"] = day
        roster.to_csv(copy / "roster.csv", index=False)
        hits = [v.visit_id for v in check_roster(t.path, copy) if v.rule == "on_working_day_in_window"]
        assert (roster.loc[row, "visit_id"] in hits) == broken, day


def test_plan_for_an_unknown_year_warns_on_stderr_and_in_plan_json(tmp_path):
    t = make_tiny_district(tmp_path / "district")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["plan", str(t.path), "--quarter", "2027Q1", "--seed", "1",
                                    "--tiers", str(t.tiers_csv), "--time-limit", "10", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "2027" in res.stderr and "policy.toml" in res.stderr and "warning:" in res.stderr
    assert "does not know" not in res.stdout
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert plan["calendar"] == {"source": "none", "chinesecalendar_version": plan["calendar"]["chinesecalendar_version"],
                                "holidays": [], "extra_workdays": []}
    assert [w["kind"] for w in plan["warnings"]] == ["calendar_unknown_year"]
    assert plan["warnings"][0]["year"] == 2027 and "2027" in plan["warnings"][0]["message"]


def test_policy_holidays_for_an_unknown_year_are_recorded_and_silence_the_warning(tmp_path):
    policy = "[roster]\nholidays = [2027-01-01, 2027-02-08]\nextra_workdays = [2027-02-06]\n"
    t = make_tiny_district(tmp_path / "district", policy=policy)
    result = run_plan(t.path, "2027Q1", 1, t.tiers_csv, out_dir=tmp_path / "out", solve=first_fit_solve)
    assert result.warnings == [] and result.plan["warnings"] == []
    assert result.plan["calendar"]["source"] == "policy"
    assert result.plan["calendar"]["holidays"] == ["2027-01-01", "2027-02-08"]
    assert result.plan["calendar"]["extra_workdays"] == ["2027-02-06"]
    dates = set(result.roster["date"].astype(str))
    assert "2027-01-01" not in dates and "2027-02-08" not in dates

"""Spot checks fall in every month of the quarter (issue 14): drawn visits are spread over the
weeks in proportion to their working days, where the mandatory visits leave room, so a
published enterprise cannot tell a month in which it is safe. Every roster here is judged by
the independent checker."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from click.testing import CliRunner

from riskplan.cli import main
from riskplan.domain.calendar import Quarter, WorkCalendar
from riskplan.domain.policy import Policy
from riskplan.synth.common import true_tiers

QUARTER = "2027Q1"


@pytest.fixture(scope="module")
def roomy_district(tmp_path_factory):
    """A generated district whose month 1 the mandatory visits do not fill (synth says its load)."""
    root = tmp_path_factory.mktemp("spread")
    district = root / "district"
    run = CliRunner().invoke(main, ["synth", "--size", "S", "--seed", "3", "--enterprises", "1000",
                                    "--inspectors", "24", "--out", str(district)])
    assert run.exit_code == 0, run.output
    truth = pd.read_csv(district / "truth.csv")
    tiers = root / "tiers.csv"
    pd.DataFrame({"enterprise_id": truth["enterprise_id"],
                  "tier": true_tiers(truth["p_event_12m"].to_numpy())}).to_csv(tiers, index=False)
    return district, tiers, root


def _plan(district, tiers, out, seed):
    run = CliRunner().invoke(main, ["plan", str(district), "--quarter", QUARTER, "--seed", str(seed),
                                    "--tiers", str(tiers), "--out", str(out)])
    assert run.exit_code == 0, run.output
    check = CliRunner().invoke(main, ["check", str(district), str(out)])
    assert check.exit_code == 0, check.output
    roster = pd.read_csv(out / "roster.csv", encoding="utf-8-sig")
    return roster


def _month_shares(roster: pd.DataFrame) -> tuple[dict[int, float], dict[int, float]]:
    days = WorkCalendar.for_quarter(Quarter.parse(QUARTER), Policy().roster).days
    day_share = {m: n / len(days) for m, n in Counter(d.month for d in days).items()}
    drawn = roster[roster["basis"] == "drawn"]
    months = pd.to_datetime(drawn["date"]).dt.month
    return day_share, {m: float((months == m).mean()) for m in day_share}


def test_each_month_gets_its_share_of_the_drawn_visits(roomy_district):
    district, tiers, root = roomy_district
    roster = _plan(district, tiers, root / "plan", 1)
    day_share, drawn_share = _month_shares(roster)
    assert (roster["basis"] == "drawn").sum() >= 30  # enough visits for shares to mean something
    for month, share in day_share.items():
        assert abs(drawn_share[month] - share) <= 0.10, (month, drawn_share, day_share)


def test_every_full_week_holds_spot_checks(roomy_district):
    """Not bunched in a few weeks either: every five-day week of the quarter has drawn visits."""
    district, tiers, root = roomy_district
    roster = _plan(district, tiers, root / "plan-weeks", 2)
    days = WorkCalendar.for_quarter(Quarter.parse(QUARTER), Policy().roster).days
    per_week = Counter(d.isocalendar()[:2] for d in days)
    full = {w for w, n in per_week.items() if n == 5}
    drawn_weeks = {d.isocalendar()[:2] for d in pd.to_datetime(roster.loc[roster["basis"] == "drawn", "date"])}
    assert full and full <= drawn_weeks, sorted(full - drawn_weeks)

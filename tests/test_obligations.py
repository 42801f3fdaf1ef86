"""Who must be visited (domain "Obligations"), and merging obligations into few visits."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskplan.domain.calendar import Quarter, WorkCalendar
from riskplan.plan.obligations import (
    find_obligations,
    group_into_requests,
    group_obligations,
)

Q1 = Quarter(2027, 1)  # 2027-01-01 is a Friday


def obligations_of(t, **kw):
    district = t.load()
    cal = WorkCalendar.for_quarter(Q1, district.policy.roster)
    return district, cal, find_obligations(district, t.tier_series, Q1, cal)


def by_kind(obs, enterprise_id):
    return {o.kind: o for o in obs if o.enterprise_id == enterprise_id}


def one(enterprise_id, tier, **kw):
    return {"enterprise_id": enterprise_id, "tier": tier, **kw}


def test_red_gets_one_visit_in_each_month(tiny_district):
    _, _, obs = obligations_of(tiny_district(enterprises=[one("R1", "red")], inspections=[]))
    red = by_kind(obs, "R1")
    assert sorted(red) == ["red_month_1", "red_month_2", "red_month_3"]
    assert (red["red_month_2"].window_start, red["red_month_2"].window_end) == (date(2027, 2, 1), date(2027, 2, 28))
    assert all(o.basis == "mandatory" for o in red.values())


def test_two_visits_a_month_need_separate_visits(tiny_district):
    policy = "[tiers.red]\nvisits_per_month = 2\nmax_visits_per_quarter = 6\n[roster]\nmin_days_between_visits = 7\n"
    t = tiny_district(enterprises=[one("R1", "red")], inspections=[], policy=policy)
    district, cal, obs = obligations_of(t)
    assert len(obs) == 6
    requests = group_into_requests(obs, district.policy, cal, t.tier_series)
    assert len(requests) == 6 and all(len(r.obligations) == 1 for r in requests)


def test_orange_due_on_a_weekend_moves_back_to_friday(tiny_district):
    # last visit 2026-08-01 + 182 days = 2027-01-30, a Saturday
    t = tiny_district(enterprises=[one("O1", "orange")],
                      inspections=[{"enterprise_id": "O1", "date": "2026-08-01", "inspectors": "I01;I02"}])
    _, _, obs = obligations_of(t)
    due = by_kind(obs, "O1")["orange_due"]
    assert (due.window_start, due.window_end) == (date(2027, 1, 1), date(2027, 1, 29))
    assert "moved back" in due.reason


def test_orange_due_on_a_holiday_moves_back_past_it(tiny_district):
    # last visit 2026-08-17 + 182 = 2027-02-15 (Monday), a holiday -> Friday 2027-02-12
    t = tiny_district(enterprises=[one("O1", "orange")],
                      inspections=[{"enterprise_id": "O1", "date": "2026-08-17", "inspectors": "I01;I02"}],
                      policy='[roster]\nholidays = [2027-02-15]\n')
    _, _, obs = obligations_of(t)
    assert by_kind(obs, "O1")["orange_due"].window_end == date(2027, 2, 12)


@pytest.mark.parametrize("history, expected", [
    ([], (date(2027, 1, 1), date(2027, 1, 31))),                       # never visited
    ([{"enterprise_id": "O1", "date": "2026-05-02", "inspectors": "I01"}],  # overdue since 2026-10-31
     (date(2027, 1, 1), date(2027, 1, 31))),
    ([{"enterprise_id": "O1", "date": "2026-11-02", "inspectors": "I01"}], None),  # due 2027-05-03: next quarter
    ([{"enterprise_id": "O1", "date": "2026-09-29", "inspectors": "I01"}],  # due 2027-03-30 (Tue)
     (date(2027, 1, 1), date(2027, 3, 30))),
])
def test_orange_overdue_never_visited_and_not_due(tiny_district, history, expected):
    _, _, obs = obligations_of(tiny_district(enterprises=[one("O1", "orange")], inspections=history))
    due = by_kind(obs, "O1").get("orange_due")
    assert (None if due is None else (due.window_start, due.window_end)) == expected


def test_orange_due_before_the_first_working_day_counts_as_overdue(tiny_district):
    # due 2027-01-02 (Saturday); 2027-01-01 is a holiday: moving back leaves the quarter
    t = tiny_district(enterprises=[one("O1", "orange")],
                      inspections=[{"enterprise_id": "O1", "date": "2026-07-04", "inspectors": "I01"}],
                      policy='[roster]\nholidays = [2027-01-01]\n')
    district, cal, obs = obligations_of(t)
    due = by_kind(obs, "O1")["orange_due"]
    assert (due.window_start, due.window_end) == (date(2027, 1, 1), date(2027, 1, 31))
    assert "overdue" in due.reason


def test_follow_up_after_major_hazard_only_when_the_latest_visit_found_one(tiny_district):
    t = tiny_district(
        enterprises=[one("A", "blue"), one("B", "blue"), one("C", "yellow")],
        inspections=[
            {"enterprise_id": "A", "date": "2026-10-01", "inspectors": "I01", "major_hazards_found": 1},
            {"enterprise_id": "B", "date": "2026-09-01", "inspectors": "I01", "major_hazards_found": 2},
            {"enterprise_id": "B", "date": "2026-10-01", "inspectors": "I02", "major_hazards_found": 0},
            # two visits on the latest date: one of them found a major hazard
            {"enterprise_id": "C", "date": "2026-11-03", "inspectors": "I01", "major_hazards_found": 0},
            {"enterprise_id": "C", "date": "2026-11-03", "inspectors": "I02", "major_hazards_found": 1},
        ])
    _, _, obs = obligations_of(t)
    follow = {o.enterprise_id: o for o in obs if o.kind == "follow_up_hazard"}
    assert sorted(follow) == ["A", "C"]
    assert follow["A"].basis == "follow_up" and follow["A"].window_end == date(2027, 1, 31)


def accident(eid, day, severity="serious"):
    return {"enterprise_id": eid, "date": day, "severity": severity, "deaths": 0, "injuries": 1}


def test_follow_up_after_accident_window_is_31_days(tiny_district):
    t = tiny_district(
        enterprises=[one(e, "blue") for e in ("EXACT", "TOO_OLD", "MINOR", "VISITED", "SAME_DAY", "MAJOR")],
        accidents=[accident("EXACT", "2026-12-01"),         # exactly 31 days before 2027-01-01
                   accident("TOO_OLD", "2026-11-30"),       # 32 days
                   accident("MINOR", "2026-12-20", "minor"),
                   accident("VISITED", "2026-12-05"),
                   accident("SAME_DAY", "2026-12-07"),
                   accident("MAJOR", "2026-12-31", "major")],
        inspections=[{"enterprise_id": "VISITED", "date": "2026-12-06", "inspectors": "I01"},
                     {"enterprise_id": "SAME_DAY", "date": "2026-12-07", "inspectors": "I01"}])
    _, _, obs = obligations_of(t)
    assert sorted(o.enterprise_id for o in obs if o.kind == "follow_up_accident") == ["EXACT", "MAJOR", "SAME_DAY"]


def test_follow_up_switches_turn_the_rules_off(tiny_district):
    t = tiny_district(
        enterprises=[one("A", "blue")], accidents=[accident("A", "2026-12-20")],
        inspections=[{"enterprise_id": "A", "date": "2026-12-10", "inspectors": "I01", "major_hazards_found": 1}],
        policy="[follow_up]\nafter_major_hazard = false\nafter_accident = false\n")
    assert obligations_of(t)[2] == []


def pin(eid, earliest, latest, reason="order"):
    return {"enterprise_id": eid, "reason": reason, "earliest": earliest, "latest": latest}


def test_pinned_windows_are_clipped_to_the_quarter(tiny_district):
    t = tiny_district(enterprises=[one("P", "blue")], inspections=[],
                      pinned=[pin("P", "2026-12-15", "2027-01-10"),   # row 2: clipped to Jan 1..10
                              pin("P", "2027-04-01", "2027-04-30"),   # row 3: next quarter: none
                              pin("P", "2027-03-20", "2027-05-01"),   # row 4: clipped to Mar 20..31
                              pin("P", "2027-02-06", "2027-02-07")])  # row 5: a weekend: no working day
    district, cal, obs = obligations_of(t)
    pinned = by_kind(obs, "P")
    assert sorted(pinned) == ["pinned_2", "pinned_4", "pinned_5"]
    assert (pinned["pinned_2"].window_start, pinned["pinned_2"].window_end) == (date(2027, 1, 1), date(2027, 1, 10))
    assert (pinned["pinned_4"].window_start, pinned["pinned_4"].window_end) == (date(2027, 3, 20), date(2027, 3, 31))
    assert "clipped" in pinned["pinned_2"].reason
    grouping = group_obligations(obs, district.policy, cal, t.tier_series)
    assert [o.kind for o in grouping.no_working_day] == ["pinned_5"]
    assert len(grouping.requests) == 2 and all(r.basis == "pinned" for r in grouping.requests)


def test_one_visit_serves_overlapping_obligations_within_their_intersection(tiny_district):
    t = tiny_district(
        enterprises=[one("R1", "red")],
        inspections=[{"enterprise_id": "R1", "date": "2026-12-01", "inspectors": "I01", "major_hazards_found": 1}],
        pinned=[pin("R1", "2027-01-20", "2027-02-10")])
    district, cal, obs = obligations_of(t)
    requests = group_into_requests(obs, district.policy, cal, t.tier_series)
    assert [r.obligations for r in requests] == [("red_month_1", "follow_up_hazard", "pinned_2"),
                                                 ("red_month_2",), ("red_month_3",)]
    first = requests[0]
    assert (first.window_start, first.window_end) == (date(2027, 1, 20), date(2027, 1, 31))
    assert first.basis == "mandatory" and first.mandatory
    assert [r.visit_id for r in requests] == ["V00001", "V00002", "V00003"]


def test_tier_maximum_keeps_binding_visits_and_reports_the_excess(tiny_district):
    # blue allows 2 visits; three pinned visits in disjoint windows, plus a follow-up that can
    # share the first pinned visit's window
    t = tiny_district(
        enterprises=[one("P", "blue")], accidents=[accident("P", "2026-12-20")], inspections=[],
        pinned=[pin("P", "2027-01-04", "2027-01-08"), pin("P", "2027-02-01", "2027-02-05"),
                pin("P", "2027-03-01", "2027-03-05")])
    district, cal, obs = obligations_of(t)
    grouping = group_obligations(obs, district.policy, cal, t.tier_series)
    assert len(grouping.requests) == 2
    assert grouping.requests[0].obligations == ("follow_up_accident", "pinned_2")
    assert grouping.requests[0].basis == "follow_up"
    assert [o.kind for o in grouping.beyond_max] == ["pinned_4"]
    served = {k for r in grouping.requests for k in r.obligations} | {o.kind for o in grouping.beyond_max}
    assert served == {o.kind for o in obs}  # nothing dropped silently


def test_dropped_visit_folds_into_a_kept_visit_when_windows_allow():
    # max 1 visit. Fewest visits: {A, B} (point Jan 8) and {M}; the mandatory one is kept and
    # B, whose window reaches February, joins it instead of being reported; A is reported.
    from riskplan.domain.policy import Policy
    from riskplan.domain.roster import Obligation

    policy = Policy.model_validate({"tiers": {"blue": {"sample_share": 0.03, "max_visits_per_quarter": 1}}})
    cal = WorkCalendar.for_quarter(Q1, policy.roster)
    obs = [Obligation("P", "pinned_2", "pinned", date(2027, 1, 4), date(2027, 1, 8)),
           Obligation("P", "pinned_3", "pinned", date(2027, 1, 6), date(2027, 3, 31)),
           Obligation("P", "blue_month_2", "mandatory", date(2027, 2, 1), date(2027, 2, 28))]
    grouping = group_obligations(obs, policy, cal, pd.Series({"P": "blue"}))
    assert [(r.obligations, r.window_start, r.window_end) for r in grouping.requests] == [
        (("blue_month_2", "pinned_3"), date(2027, 2, 1), date(2027, 2, 28))]
    assert [o.kind for o in grouping.beyond_max] == ["pinned_2"]


def test_request_order_and_ids_are_stable(tiny_district):
    t = tiny_district()
    district, cal, obs = obligations_of(t)
    a = group_into_requests(obs, district.policy, cal, t.tier_series)
    b = group_into_requests(list(reversed(obs)), district.policy, cal, t.tier_series)
    assert a == b
    assert [r.enterprise_id for r in a] == sorted(r.enterprise_id for r in a)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 89), st.integers(0, 30)), min_size=1, max_size=7))
def test_grouping_uses_the_fewest_visits_and_never_loses_an_obligation(spans):
    """Every obligation lands in exactly one visit (or is reported), each visit's window lies in
    each of its obligations' windows and holds a working day, and the number of visits equals
    the most pairwise-disjoint windows (the minimum for intervals)."""
    from itertools import combinations

    from riskplan.domain.policy import Policy
    from riskplan.domain.roster import Obligation

    policy = Policy.model_validate({"tiers": {"blue": {"sample_share": 0.03, "max_visits_per_quarter": 99}}})
    cal = WorkCalendar.for_quarter(Q1, policy.roster)
    obs = [Obligation("E", f"pinned_{i + 2}", "pinned", Q1.start + timedelta(days=a),
                      min(Q1.end, Q1.start + timedelta(days=a + n))) for i, (a, n) in enumerate(spans)]
    grouping = group_obligations(obs, policy, cal, pd.Series({"E": "blue"}))
    assert grouping.beyond_max == []
    placeable = [o for o in obs if cal.days_in(o.window_start, o.window_end)]
    assert sorted(o.kind for o in grouping.no_working_day) == sorted(o.kind for o in obs if o not in placeable)
    served = [k for r in grouping.requests for k in r.obligations]
    assert sorted(served) == sorted(o.kind for o in placeable)
    window = {o.kind: (o.window_start, o.window_end) for o in obs}
    for r in grouping.requests:
        assert cal.days_in(r.window_start, r.window_end)
        assert all(window[k][0] <= r.window_start <= r.window_end <= window[k][1] for k in r.obligations)

    def days(o):
        return set(cal.days_in(o.window_start, o.window_end))

    most_disjoint = max((len(c) for n in range(len(placeable) + 1) for c in combinations(placeable, n)
                         if all(not (days(a) & days(b)) for a, b in combinations(c, 2))), default=0)
    assert len(grouping.requests) == most_disjoint

from datetime import date

import pandas as pd
import pytest

from riskplan.domain.calendar import Quarter, WorkCalendar, weekly_limit, weekly_limits
from riskplan.domain.policy import RosterRules


def test_quarter_parsing_and_months():
    q = Quarter.parse("2027Q1")
    assert (q.start, q.end) == (date(2027, 1, 1), date(2027, 3, 31))
    assert q.month_end(2) == date(2027, 2, 28)
    assert Quarter.parse("2026-q4").end == date(2026, 12, 31)
    assert q.previous() == Quarter(2026, 4) and Quarter(2026, 4).next() == q
    with pytest.raises(ValueError):
        Quarter.parse("2027Q5")


def test_working_days_honour_holidays_and_make_up_days():
    rules = RosterRules(holidays=(date(2027, 1, 1), date(2027, 2, 8)), extra_workdays=(date(2027, 2, 6),))
    cal = WorkCalendar.for_quarter(Quarter(2027, 1), rules)
    assert date(2027, 1, 1) not in cal.index  # New Year, a Friday
    assert date(2027, 1, 2) not in cal.index  # Saturday
    assert date(2027, 2, 6) in cal.index  # make-up Saturday
    assert date(2027, 2, 8) not in cal.index
    plain = WorkCalendar.for_quarter(Quarter(2027, 1), RosterRules())
    assert len(cal.days) == len(plain.days) - 2 + 1
    assert cal.last_working_day_on_or_before(date(2027, 1, 3)) is None
    assert cal.last_working_day_on_or_before(date(2027, 3, 28)) == date(2027, 3, 26)


def test_weekly_limit_scales_with_available_days_and_reserve():
    assert weekly_limit(5, 0.0, 5) == 5
    assert weekly_limit(5, 0.0, 3) == 3
    assert weekly_limit(4, 0.25, 5) == 3
    assert weekly_limit(4, 0.0, 1) == 0  # floor(0.8)


def test_weekly_limits_with_leave_and_quarter_edges():
    cal = WorkCalendar.for_quarter(Quarter(2027, 1), RosterRules())
    inspectors = pd.DataFrame({"inspector_id": ["A", "B"], "weekly_capacity": [5, 5]})
    leave = pd.DataFrame({"inspector_id": ["B"], "start": [pd.Timestamp("2027-01-11")],
                          "end": [pd.Timestamp("2027-01-13")]})
    limits = weekly_limits(inspectors, leave, cal, RosterRules())
    assert limits["A"][(2026, 53)] == 1  # Fri 1 Jan 2027 is the quarter's only day of that ISO week
    assert limits["A"][(2027, 2)] == 5
    assert limits["B"][(2027, 2)] == 2  # 3 of 5 days on leave

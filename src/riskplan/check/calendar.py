"""The checker's own calendar: quarter months, working days, ISO weeks and weekly limits.

Written apart from the planner's calendar on purpose: a mistake in the planner's date or
capacity arithmetic must show up as a violation here, not be agreed with. Limits are exact
fractions (no float tolerance), so a limit that is an integer on paper is that integer.

Holidays: the policy's lists when either names a day inside the quarter; otherwise China's
official working days, asked of the chinesecalendar package day by day (`is_workday`, not the
planner's call); for a year the package does not know, Monday to Friday.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date, timedelta
from fractions import Fraction

from riskplan.i18n import _

_FORM = re.compile(r"\s*(\d{4})-?[Qq]([1-4])\s*")


class CheckQuarter:
    """A calendar quarter: its three months, first and last day."""

    def __init__(self, year: int, number: int):
        if number not in (1, 2, 3, 4):
            raise ValueError(_("quarter number {number} is not 1..4").format(number=number))
        self.year, self.number = int(year), int(number)
        first_month = 3 * self.number - 2
        self.months: tuple[tuple[date, date], ...] = tuple(
            (date(self.year, m, 1), _last_day_of_month(self.year, m)) for m in range(first_month, first_month + 3))
        self.start = self.months[0][0]
        self.end = self.months[2][1]

    @classmethod
    def parse(cls, text: str) -> CheckQuarter:
        m = _FORM.fullmatch(str(text))
        if m is None:
            raise ValueError(_("quarter '{text}' is not of the form 2027Q1").format(text=text))
        return cls(int(m.group(1)), int(m.group(2)))

    def month(self, k: int) -> tuple[date, date]:
        """First and last day of the quarter's k-th month (k = 1, 2, 3)."""
        return self.months[k - 1]

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CheckQuarter) and (self.year, self.number) == (other.year, other.number)

    def __hash__(self) -> int:
        return hash((self.year, self.number))

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    __repr__ = __str__


def _last_day_of_month(year: int, month: int) -> date:
    # the day before the first of the next month
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


def as_check_quarter(quarter: object) -> CheckQuarter:
    """Any quarter-like value (the planner's Quarter, text such as 2027Q1) as the checker's own."""
    return quarter if isinstance(quarter, CheckQuarter) else CheckQuarter.parse(str(quarter))


def working_days(quarter: CheckQuarter, holidays: Iterable[date], extra_workdays: Iterable[date]) -> list[date]:
    """The quarter's working days, in order: Monday to Friday minus holidays plus make-up days
    when the policy lists a day inside the quarter, else the official calendar's (module doc)."""
    off, extra = set(holidays), set(extra_workdays)
    days = [quarter.start + timedelta(days=offset) for offset in range((quarter.end - quarter.start).days + 1)]
    if not any(day in quarter for day in off | extra):
        official = _official_working_days(days)
        if official is not None:
            return official
    out = []
    for day in days:
        weekday = day.isoweekday()  # 1 Monday .. 7 Sunday
        if day in extra or (weekday <= 5 and day not in off):
            out.append(day)
    return out


def _official_working_days(days: list[date]) -> list[date] | None:
    """The days China works on (statutory holidays off, 调休 make-up days on), or None when
    the package does not know the year."""
    import chinese_calendar

    try:
        return [day for day in days if chinese_calendar.is_workday(day)]
    except NotImplementedError:
        return None


def iso_week_of(day: date) -> tuple[int, int]:
    """(ISO year, ISO week number): the week Monday to Sunday the day lies in."""
    iso = day.isocalendar()
    return (iso[0], iso[1])


def last_working_day_on_or_before(days: list[date], day: date) -> date | None:
    """The latest of the (sorted) working days that is not after `day`, or None."""
    found = None
    for d in days:
        if d > day:
            break
        found = d
    return found


def weekly_limit(capacity: int, reserve: float | str, available_days: int) -> int:
    """floor(capacity × (1 − reserve) × available days ÷ 5), reserve taken as written in
    the policy (its decimal text), so the arithmetic is exact."""
    share_kept = 1 - Fraction(str(reserve))
    return math.floor(Fraction(int(capacity)) * share_kept * int(available_days) / 5)

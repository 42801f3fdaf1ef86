"""The quarter's working calendar and each inspector's capacity in it.

Working days are Monday–Friday, minus the holidays, plus the make-up working days (调休上班),
inside the quarter. Which holidays: the policy's `holidays` and `extra_workdays` when either
lists a day inside the quarter (the bureau's word replaces the package's for that quarter);
otherwise China's statutory holidays and make-up days from the `chinesecalendar` package;
for a year the package does not know, none, with a warning (`calendar_warning`) telling the
bureau to add them to policy.toml. A year's official schedule is never computed or guessed:
the State Council publishes it each year. An inspector's limit in an
ISO week is floor(weekly_capacity × (1 − capacity_reserve) × available days ÷ 5), where
available days are that week's working days inside the quarter without leave: a short
week (a holiday, the quarter's edge, leave) carries proportionally less work.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from datetime import date, timedelta
from functools import cached_property

import pandas as pd

from riskplan.domain.policy import RosterRules
from riskplan.i18n import _

#: Where a calendar's holidays come from (plan.json "calendar" -> "source").
SOURCES = ("policy", "chinesecalendar", "none")

_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int  # 1..4

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        m = _QUARTER.match(text.strip())
        if not m:
            raise ValueError(_("quarter '{text}' is not of the form 2027Q1").format(text=text))
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        return self.month_end(3)

    def month_start(self, k: int) -> date:
        """First day of the quarter's k-th month (k = 1, 2, 3)."""
        return date(self.year, 3 * self.number - 3 + k, 1)

    def month_end(self, k: int) -> date:
        m = 3 * self.number - 3 + k
        nxt = date(self.year + (m == 12), m % 12 + 1, 1)
        return nxt - timedelta(days=1)

    def month_of(self, day: date) -> int:
        """1, 2 or 3 for a day inside the quarter."""
        return day.month - (3 * self.number - 3)

    def previous(self) -> "Quarter":
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def next(self) -> "Quarter":
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)


def iso_week(day: date) -> tuple[int, int]:
    y, w, _day = day.isocalendar()
    return (y, w)


@dataclass(frozen=True)
class WorkCalendar:
    """The working days of one quarter under a policy."""

    quarter: Quarter
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    source: str = "policy"  # one of SOURCES

    @classmethod
    def for_quarter(cls, quarter: Quarter, rules: RosterRules) -> "WorkCalendar":
        """The policy's days when it lists one inside the quarter, else the official ones."""
        policy_days = frozenset(rules.holidays), frozenset(rules.extra_workdays)
        if any(quarter.start <= d <= quarter.end for d in policy_days[0] | policy_days[1]):
            return cls(quarter, *policy_days, source="policy")
        official = official_days(quarter)
        if official is None:
            return cls(quarter, *policy_days, source="none")
        return cls(quarter, *official, source="chinesecalendar")

    def applied(self) -> tuple[list[date], list[date]]:
        """The holidays and make-up working days inside the quarter that this calendar applies."""
        inside = [d for d in sorted(self.holidays) if self.quarter.start <= d <= self.quarter.end]
        return inside, [d for d in sorted(self.extra_workdays) if self.quarter.start <= d <= self.quarter.end]

    def record(self) -> dict[str, object]:
        """plan.json's "calendar": which days were applied, and from where."""
        holidays, extra = self.applied()
        return {"source": self.source, "chinesecalendar_version": package_version(),
                "holidays": [d.isoformat() for d in holidays],
                "extra_workdays": [d.isoformat() for d in extra]}

    @cached_property
    def days(self) -> tuple[date, ...]:
        """Working days of the quarter, in order."""
        out = []
        d = self.quarter.start
        while d <= self.quarter.end:
            if (d.weekday() < 5 and d not in self.holidays) or d in self.extra_workdays:
                out.append(d)
            d += timedelta(days=1)
        return tuple(out)

    @cached_property
    def index(self) -> dict[date, int]:
        return {d: i for i, d in enumerate(self.days)}

    def is_working_day(self, day: date) -> bool:
        return day in self.index

    @cached_property
    def weeks(self) -> tuple[tuple[int, int], ...]:
        """ISO weeks that contain at least one working day, in order."""
        return tuple(dict.fromkeys(iso_week(d) for d in self.days))

    def days_in(self, start: date, end: date) -> tuple[date, ...]:
        """Working days in [start, end]."""
        return tuple(d for d in self.days if start <= d <= end)

    def last_working_day_on_or_before(self, day: date) -> date | None:
        candidates = [d for d in self.days if d <= day]
        return candidates[-1] if candidates else None


def package_version() -> str | None:
    """The installed chinesecalendar's version (recorded: a newer one may know more years)."""
    try:
        return version("chinesecalendar")
    except PackageNotFoundError:  # pragma: no cover - a dependency
        return None


def official_days(quarter: Quarter) -> tuple[frozenset[date], frozenset[date]] | None:
    """China's statutory holidays and 调休 make-up working days inside the quarter, from the
    chinesecalendar package; None for a year it does not know (it raises NotImplementedError)."""
    import chinese_calendar

    try:
        off = chinese_calendar.get_holidays(quarter.start, quarter.end, include_weekends=False)
        working = chinese_calendar.get_workdays(quarter.start, quarter.end, include_weekends=True)
    except NotImplementedError:
        return None
    return frozenset(off), frozenset(d for d in working if d.weekday() >= 5)


def calendar_warning(calendar: WorkCalendar) -> str | None:
    """The loud warning for a quarter planned without any holidays: the package does not know
    its year and the policy lists none. None when the calendar has its holidays."""
    if calendar.source != "none":
        return None
    year = calendar.quarter.year
    return _("The working calendar built in (chinesecalendar {version}) does not know the year {year}, and "
             "policy.toml lists no holidays in {quarter}: {quarter} is planned with every Monday to Friday "
             "as a working day, statutory holidays included. Add the holidays and make-up working days "
             "of the State Council's notice on the {year} holiday schedule to policy.toml, under [roster], "
             "for example:\n    holidays = [{year}-01-01, ...]\n    extra_workdays = [...]").format(
        version=package_version() or "?", year=year, quarter=str(calendar.quarter))


def leave_days(leave: pd.DataFrame, calendar: WorkCalendar) -> dict[str, frozenset[date]]:
    """Working days of the quarter each inspector is on leave (leave: inspector_id, start, end)."""
    out: dict[str, set[date]] = {}
    if leave is None or leave.empty:
        return {}
    for inspector, start, end in leave[["inspector_id", "start", "end"]].itertuples(index=False):
        s, e = pd.Timestamp(start).date(), pd.Timestamp(end).date()
        days = calendar.days_in(s, e)
        if days:
            out.setdefault(inspector, set()).update(days)
    return {k: frozenset(v) for k, v in out.items()}


def weekly_limit(weekly_capacity: int, capacity_reserve: float, available_days: int) -> int:
    """Visits an inspector may make in one ISO week with `available_days` working days."""
    return math.floor(weekly_capacity * (1.0 - capacity_reserve) * available_days / 5 + 1e-9)


def weekly_limits(
    inspectors: pd.DataFrame, leave: pd.DataFrame, calendar: WorkCalendar, rules: RosterRules
) -> dict[str, dict[tuple[int, int], int]]:
    """inspector_id -> ISO week -> the most visits they may make that week."""
    on_leave = leave_days(leave, calendar)
    week_days: dict[tuple[int, int], list[date]] = {}
    for d in calendar.days:
        week_days.setdefault(iso_week(d), []).append(d)
    out: dict[str, dict[tuple[int, int], int]] = {}
    for inspector, capacity in inspectors[["inspector_id", "weekly_capacity"]].itertuples(index=False):
        away = on_leave.get(inspector, frozenset())
        out[inspector] = {
            week: weekly_limit(int(capacity), rules.capacity_reserve, sum(d not in away for d in days))
            for week, days in week_days.items()
        }
    return out

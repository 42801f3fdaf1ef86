"""How far a district's records reach: the date its history is complete through.

A bureau's export rarely ends the day before it plans: the last record is the last working
day that had an inspection, and the as-of date may follow a weekend or a public holiday. So
the end of the history is, in order of precedence:

1. declared: `--history-through DATE` (the records are complete through DATE);
2. inferred from the as-of date: when every day between the last recorded date and the
   as-of date is a non-working day (weekend, statutory holiday from the policy or
   chinesecalendar), the history is complete through the day before the as-of date;
3. otherwise the last recorded date (an as-of date after it, with working days between, is
   refused: the 12-month label windows would count missing records as "no event").

`HistoryWindow.note` says which date was used and why, in words a clerk reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from riskplan.domain.calendar import Quarter, WorkCalendar
from riskplan.domain.policy import RosterRules
from riskplan.i18n import _
from riskplan.load.district import District
from riskplan.score.features import history_end

#: How the end was found (HistoryWindow.basis).
DECLARED, NON_WORKING_GAP, LAST_RECORD = "declared", "non-working days", "last record"


class HistoryError(ValueError):
    """The as-of date reaches past what the records cover."""


@dataclass(frozen=True)
class HistoryWindow:
    """The as-of date and the day the history is complete through (as_of - 1 at most)."""

    as_of: date
    through: date
    last_record: date
    basis: str

    @property
    def note(self) -> str:
        if self.basis == DECLARED:
            return _("history complete through {through} (declared with --history-through); last record {last}, "
                     "as-of date {as_of}").format(through=self.through, last=self.last_record, as_of=self.as_of)
        if self.basis == NON_WORKING_GAP:
            return _("history taken as complete through {through}: the last record is {last} and every day from "
                     "{first} to {through} is a non-working day (weekend or holiday); as-of date {as_of}").format(
                through=self.through, last=self.last_record, first=self.last_record + timedelta(days=1),
                as_of=self.as_of)
        return _("history complete through its last record, {through}; as-of date {as_of}").format(
            through=self.through, as_of=self.as_of)


def _working_days(start: date, end: date, rules: RosterRules) -> list[date]:
    """Working days in [start, end] by the policy's holidays or China's official calendar."""
    out: list[date] = []
    if start > end:
        return out
    q = Quarter(start.year, (start.month - 1) // 3 + 1)
    while q.start <= end:
        cal = WorkCalendar.for_quarter(q, rules)
        out += list(cal.days_in(max(start, q.start), min(end, q.end)))
        q = q.next()
    return out


def history_window(district: District, as_of: date | None = None,
                   history_through: date | None = None) -> HistoryWindow:
    """The as-of date to use and the day the history is complete through (module docstring)."""
    last = history_end(district).date()
    rules = district.policy.roster
    if history_through is not None:
        through = pd.Timestamp(history_through).date()
        as_of = as_of or through + timedelta(days=1)
        if as_of > through + timedelta(days=1):
            raise HistoryError(_("as-of date {as_of} is after the declared history end {through} plus one day: "
                                 "the records would not cover the days in between").format(as_of=as_of,
                                                                                          through=through))
        return HistoryWindow(as_of, as_of - timedelta(days=1), last, DECLARED)
    if as_of is None or as_of <= last + timedelta(days=1):
        as_of = as_of or last + timedelta(days=1)
        return HistoryWindow(as_of, as_of - timedelta(days=1), last, LAST_RECORD)
    gap = _working_days(last + timedelta(days=1), as_of - timedelta(days=1), rules)
    if not gap:
        return HistoryWindow(as_of, as_of - timedelta(days=1), last, NON_WORKING_GAP)
    raise HistoryError(_(
        "as-of date {as_of} is after the history ends ({end}), and {count} working day(s) lie between, the first "
        "{first}: the last 12-month label windows would count missing records as 'no event'. If the records are "
        "complete (no inspection on those days), say so with --history-through {through}").format(
        as_of=as_of, end=last, count=len(gap), first=gap[0], through=as_of - timedelta(days=1)))


__all__ = ["HistoryWindow", "HistoryError", "history_window", "DECLARED", "NON_WORKING_GAP", "LAST_RECORD"]

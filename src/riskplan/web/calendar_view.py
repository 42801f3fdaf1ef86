"""The roster arranged for people: month calendars, and visits per squad and per inspector.

Pure functions of the roster as `read_csv_text` reads OUT/roster.csv (visit_id, enterprise_name,
subdistrict, tier, date, inspectors ';'-joined) and the district's inspectors table.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from typing import Any

import pandas as pd

from riskplan.domain.calendar import Quarter
from riskplan.domain.headers import value_label
from riskplan.domain.schema import split_list


def _names(inspectors: pd.DataFrame) -> dict[str, str]:
    return dict(zip(inspectors["inspector_id"].astype(str), inspectors["name"].astype(str)))


def _visit(row: Any, names: dict[str, str]) -> dict[str, Any]:
    team = split_list(row.inspectors)
    return {"id": row.visit_id, "enterprise": row.enterprise_name, "subdistrict": row.subdistrict,
            "tier": row.tier, "tier_label": value_label("tier", row.tier), "date": row.date,
            "team": [names.get(i, i) for i in team]}


def month_grids(roster: pd.DataFrame, quarter: Quarter, inspectors: pd.DataFrame) -> list[dict[str, Any]]:
    """For each month of the quarter: weeks (Monday first) of days, each with its visits."""
    names = _names(inspectors)
    by_day: dict[str, list[dict[str, Any]]] = {}
    for row in roster.sort_values(["date", "visit_id"]).itertuples():
        by_day.setdefault(str(row.date), []).append(_visit(row, names))
    months = []
    for month in range(quarter.start.month, quarter.start.month + 3):
        weeks = []
        for week in _calendar.Calendar(firstweekday=0).monthdatescalendar(quarter.start.year, month):
            weeks.append([{"day": d.day, "iso": d.isoformat(), "in_month": d.month == month,
                           "weekend": d.weekday() >= 5, "visits": by_day.get(d.isoformat(), []) if d.month == month
                           else []} for d in week])
        months.append({"year": quarter.start.year, "month": month, "weeks": weeks,
                       "visits": sum(len(v) for k, v in by_day.items() if dt.date.fromisoformat(k).month == month)})
    return months


def by_inspector(roster: pd.DataFrame, inspectors: pd.DataFrame) -> list[dict[str, Any]]:
    """Each inspector with a visit, with their visits in date order."""
    names = _names(inspectors)
    visits: dict[str, list[dict[str, Any]]] = {}
    for row in roster.sort_values(["date", "visit_id"]).itertuples():
        for person in split_list(row.inspectors):
            visits.setdefault(person, []).append(_visit(row, names))
    return [{"id": i, "name": names.get(i, i), "visits": visits[i]} for i in sorted(visits)]


def by_squad(roster: pd.DataFrame, inspectors: pd.DataFrame) -> list[dict[str, Any]]:
    """Each squad (the inspectors table's `squad`) with the visits any of its members makes."""
    names = _names(inspectors)
    squad_of = dict(zip(inspectors["inspector_id"].astype(str), inspectors["squad"].fillna("").astype(str)))
    visits: dict[str, list[dict[str, Any]]] = {}
    for row in roster.sort_values(["date", "visit_id"]).itertuples():
        for squad in dict.fromkeys(squad_of.get(p, "") for p in split_list(row.inspectors)):
            visits.setdefault(squad, []).append(_visit(row, names))
    return [{"squad": s, "visits": visits[s]} for s in sorted(visits)]

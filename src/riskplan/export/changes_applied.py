"""The changes a re-plan applies: the changes table checked against the plan being revised
(`validate_changes`: a cancelled visit must be in its roster, an urgent window must reach past
--from, leave and capacity cannot reach back before it) and written as NEW/changes_applied.csv
(`applied_changes_bytes`), which the checker reads back with its own code."""

from __future__ import annotations

from datetime import date

import pandas as pd

from riskplan.domain.calendar import Quarter
from riskplan.i18n import _
from riskplan.io import frame_to_csv_bytes
from riskplan.load.changes import CHANGE_COLUMNS, CHANGE_KINDS
from riskplan.load.district import District, DistrictError, Problem

_NEEDS = {"leave": ("inspector_id", "start", "end"), "leaves_bureau": ("inspector_id", "start"),
          "capacity": ("inspector_id", "start", "capacity"), "enterprise_closed": ("enterprise_id", "start"),
          "enterprise_suspended": ("enterprise_id", "start"), "urgent_visit": ("enterprise_id", "start", "end"),
          "pinned_visit": ("enterprise_id", "start", "end"), "cancel_visit": ("visit_id",)}
#: changes whose start cannot reach back before --from (the past is frozen)
_FROM_ON = ("leave", "leaves_bureau", "capacity")


def _empty(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value)) or str(value).strip() == ""



def validate_changes(changes: pd.DataFrame, *, quarter: Quarter, district: District, from_date: date,
                     roster_ids: set[str]) -> pd.DataFrame:
    """The changes as applied: checked against the district and the revised plan (each problem
    names the row), starts of leave and capacity moved up to --from, rows wholly before it left out."""
    frame = changes.copy()
    for col in CHANGE_COLUMNS:
        if col not in frame.columns:
            frame[col] = pd.NA
    frame = frame[list(CHANGE_COLUMNS)].reset_index(drop=True)
    frame["start"] = pd.to_datetime(frame["start"])
    frame["end"] = pd.to_datetime(frame["end"])
    source = str(getattr(changes, "attrs", {}).get("source", "changes"))
    inspectors = set(district.inspectors["inspector_id"])
    enterprises = set(district.enterprises["enterprise_id"])
    problems: list[Problem] = []
    keep = []
    for i, row in enumerate(frame.itertuples(index=False)):
        where = int(row.row) if not _empty(row.row) else i + 2
        if row.change not in CHANGE_KINDS:
            problems.append(Problem(source, _("'{value}' is not a change kind ({choices})").format(
                value=row.change, choices=", ".join(CHANGE_KINDS)), row=where, column="change"))
            continue
        missing = [c for c in _NEEDS[row.change] if _empty(getattr(row, c))]
        for c in missing:
            problems.append(Problem(source, _("empty cell; a {change} needs it").format(change=row.change),
                                    row=where, column=c))
        if missing:
            continue
        if "inspector_id" in _NEEDS[row.change] and row.inspector_id not in inspectors:
            problems.append(Problem(source, _("no inspector '{value}' in the inspectors table").format(value=row.inspector_id),
                                    row=where, column="inspector_id"))
        if "enterprise_id" in _NEEDS[row.change] and row.enterprise_id not in enterprises:
            problems.append(Problem(source, _("no enterprise '{value}' in the enterprises table").format(value=row.enterprise_id),
                                    row=where, column="enterprise_id"))
        if row.change == "cancel_visit" and row.visit_id not in roster_ids:
            problems.append(Problem(source, _("visit '{value}' is not in the plan's roster").format(
                value=row.visit_id), row=where, column="visit_id"))
        if not _empty(row.end) and not _empty(row.start) and row.end < row.start:
            problems.append(Problem(source, _("ends before it starts"), row=where, column="end"))
        if row.change == "capacity" and int(row.capacity) < 0:
            problems.append(Problem(source, _("capacity must be 0 or more"), row=where, column="capacity"))
        if row.change in ("urgent_visit", "pinned_visit") and (row.end.date() < from_date
                                                               or row.start.date() > quarter.end):
            problems.append(Problem(source, _("the window {start} to {end} has no day from {from_date} to the "
                                              "quarter's end {end_of_quarter}").format(
                start=row.start.date(), end=row.end.date(), from_date=from_date, end_of_quarter=quarter.end),
                row=where, column="end"))
        keep.append(i)
    if problems:
        raise DistrictError(problems)
    frame = frame.loc[keep].reset_index(drop=True)
    start_floor = pd.Timestamp(from_date)
    moved = frame["change"].isin(_FROM_ON)
    frame.loc[moved, "start"] = frame.loc[moved, "start"].clip(lower=start_floor)
    gone = moved & frame["end"].notna() & (frame["end"] < frame["start"])
    return frame[~gone].reset_index(drop=True)


def applied_changes_bytes(changes: pd.DataFrame) -> bytes:
    """NEW/changes_applied.csv: the applied changes, canonical column names, ISO dates (machine-readable,
    like plan.json; the people's version is changes.csv)."""
    out = changes[list(CHANGE_COLUMNS)].copy()
    for col in ("start", "end"):
        out[col] = [d.date().isoformat() if not pd.isna(d) else "" for d in pd.to_datetime(out[col])]
    for col in ("capacity", "row"):
        out[col] = ["" if _empty(v) else str(int(v)) for v in out[col]]
    for col in ("change", "inspector_id", "enterprise_id", "visit_id", "reason", "source"):
        out[col] = ["" if _empty(v) else str(v) for v in out[col]]
    return frame_to_csv_bytes(out)

"""Closing the loop: record a quarter's completed visits in the district's history.

After the visits, the bureau fills in `results.csv` (visit_id, date, hazards_found,
major_hazards_found, penalized, outcome). Recording appends each result to the district's
`inspections` table, with the team taken from the roster, so the next quarter's tiers,
follow-ups, half-year deadlines and rotation see what happened. Each recorded row carries
`visit_id` as `<quarter>-<visit_id>`, which makes recording idempotent: a visit already in
the history is not added again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from riskplan.domain.calendar import Quarter
from riskplan.domain.schema import INSPECTIONS, Column, split_list
from riskplan.io import find_table, read_csv_text, read_table_text, write_table
from riskplan.load.district import DistrictError, Problem, _convert, load_district

RESULTS_COLUMNS = (
    Column("visit_id"),
    Column("date", "date"),
    Column("hazards_found", "int", min=0),
    Column("major_hazards_found", "int", min=0),
    Column("penalized", "flag"),
    Column("outcome", allow_empty=True),
)
HISTORY_KEY = "visit_id"


@dataclass(frozen=True)
class RecordResult:
    added: int
    already_recorded: int
    inspections_file: Path


def read_results(path: Path, roster: pd.DataFrame, quarter: Quarter) -> pd.DataFrame:
    """Typed results, refusing unknown visits, dates outside the quarter and repeats."""
    path = Path(path)
    raw = read_table_text(path)
    problems: list[Problem] = []
    missing = [c.name for c in RESULTS_COLUMNS if c.name not in raw.columns and c.name != "outcome"]
    for name in missing:
        problems.append(Problem(path.name, "missing required column", row=1, column=name))
    if missing:
        raise DistrictError(problems)
    if "outcome" not in raw.columns:
        raw["outcome"] = ""
    out = raw.copy()
    for col in RESULTS_COLUMNS:
        out[col.name] = _convert(raw[col.name], col, path.name, problems)
    known = set(roster["visit_id"])
    seen: dict[str, int] = {}
    for i, (vid, day) in enumerate(zip(out["visit_id"], out["date"])):
        row = i + 2
        if vid and vid not in known:
            problems.append(Problem(path.name, f"visit '{vid}' is not in the roster", row=row, column="visit_id"))
        if vid in seen:
            problems.append(Problem(path.name, f"visit '{vid}' appears twice (first at row {seen[vid]})",
                                    row=row, column="visit_id"))
        seen.setdefault(vid, row)
        if pd.notna(day) and not (quarter.start <= day.date() <= quarter.end):
            problems.append(Problem(path.name, f"{day.date()} is outside the roster's quarter {quarter}",
                                    row=row, column="date"))
    if problems:
        raise DistrictError(problems)
    return out


def record_results(district_dir: Path, plan_dir: Path, results_path: Path) -> RecordResult:
    """Append the quarter's completed visits to the district's inspections table."""
    district_dir, plan_dir = Path(district_dir), Path(plan_dir)
    district = load_district(district_dir)  # refuse to extend a history that is itself invalid
    plan = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    quarter = Quarter.parse(plan["quarter"])
    roster = read_csv_text(plan_dir / "roster.csv")
    results = read_results(results_path, roster, quarter)

    history_path = find_table(district_dir, INSPECTIONS.name)
    history = read_table_text(history_path)
    for extra in (HISTORY_KEY, "outcome"):
        if extra not in history.columns:
            history[extra] = ""
    recorded = set(history[HISTORY_KEY])
    team = dict(zip(roster["visit_id"], roster["inspectors"]))
    enterprise = dict(zip(roster["visit_id"], roster["enterprise_id"]))
    rows = []
    for r in results.itertuples(index=False):
        key = f"{quarter}-{r.visit_id}"
        if key in recorded:
            continue
        rows.append({
            "enterprise_id": enterprise[r.visit_id], "date": r.date.date().isoformat(),
            "inspectors": team[r.visit_id], "hazards_found": str(r.hazards_found),
            "major_hazards_found": str(r.major_hazards_found), "penalized": str(r.penalized),
            HISTORY_KEY: key, "outcome": r.outcome,
        })
    _check_roster_references(rows, district, plan_dir / "roster.csv")
    if rows:
        write_table(pd.concat([history, pd.DataFrame(rows)], ignore_index=True).fillna(""), history_path)
    return RecordResult(added=len(rows), already_recorded=len(results) - len(rows), inspections_file=history_path)


def _check_roster_references(rows: list[dict], district, roster_path: Path) -> None:
    """The roster must name enterprises and inspectors the district still has."""
    enterprises = set(district.enterprises["enterprise_id"])
    inspectors = set(district.inspectors["inspector_id"])
    problems = []
    for row in rows:
        if row["enterprise_id"] not in enterprises:
            problems.append(Problem(roster_path.name, f"unknown enterprise '{row['enterprise_id']}'",
                                    column="enterprise_id"))
        for member in split_list(row["inspectors"]):
            if member not in inspectors:
                problems.append(Problem(roster_path.name, f"unknown inspector '{member}'", column="inspectors"))
    if problems:
        raise DistrictError(problems)

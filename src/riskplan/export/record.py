"""Closing the loop: record a quarter's completed visits in the district's history.

After the visits, the bureau fills in `results.csv` (visit_id, date, hazards_found,
major_hazards_found, penalized, outcome). Recording appends each result to the district's
`inspections` table, with the team taken from the roster, so the next quarter's tiers,
follow-ups, half-year deadlines and rotation see what happened. Each recorded row carries
`visit_id` as `<quarter>-<visit_id>`, which makes recording idempotent: a visit already in
the history is not added again.

A results row that differs from what is already recorded for its visit is a correction: it is
refused unless asked for (`correct=True`, `--correct`), so a changed result is never dropped
silently nor applied by accident. Before the history changes, the bureau's file is copied to
`inspections.bak-<n>.<ext>`; every corrected field's old and new value is kept in
`inspections_corrections.csv` beside it, with the results file that made the change.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from riskplan.domain.calendar import Quarter
from riskplan.domain.schema import INSPECTIONS, Column, split_list
from riskplan.io import find_table, read_csv_text, read_table_text, sha256_file, write_table
from riskplan.outputs import restore_interrupted
from riskplan.load.district import (
    DistrictError,
    Problem,
    _check_control_characters,
    _convert,
    load_district,
)

RESULTS_COLUMNS = (
    Column("visit_id"),
    Column("date", "date"),
    Column("hazards_found", "int", min=0),
    Column("major_hazards_found", "int", min=0),
    Column("penalized", "flag"),
    Column("outcome", allow_empty=True),
)
HISTORY_KEY = "visit_id"
#: The results fields a correction can change, in the order a message names them.
CORRECTABLE = ("date", "hazards_found", "major_hazards_found", "penalized", "outcome")
CORRECTIONS_FILE = "inspections_corrections.csv"
CORRECTIONS_COLUMNS = ("visit_id", "field", "old", "new", "results_file", "results_sha256")


@dataclass(frozen=True)
class RecordResult:
    added: int
    already_recorded: int
    inspections_file: Path
    corrected: int = 0
    backup_file: Path | None = None
    corrections_file: Path | None = None


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
    flagged = _check_control_characters(raw, path.name, problems)
    out = raw.copy()
    found: list[Problem] = []
    for col in RESULTS_COLUMNS:
        out[col.name] = _convert(raw[col.name], col, path.name, found)
    problems.extend(p for p in found if (p.row, p.column) not in flagged)
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


def _same(field: str, old: str, new: str) -> bool:
    """Recorded text and a new result mean the same (a workbook may hold a date as a datetime)."""
    if field == "date":
        return pd.to_datetime(old, errors="coerce") == pd.to_datetime(new, errors="coerce")
    if field in ("hazards_found", "major_hazards_found", "penalized"):
        return pd.to_numeric(old, errors="coerce") == pd.to_numeric(new, errors="coerce")
    return old.strip() == new.strip()


def _backup(path: Path) -> Path:
    """Copy the bureau's file to the first free `inspections.bak-<n>.<ext>` before changing it."""
    n = 1
    while (backup := path.with_name(f"{path.stem}.bak-{n}{path.suffix}")).exists():
        n += 1
    shutil.copy2(path, backup)
    return backup


def record_results(district_dir: Path, plan_dir: Path, results_path: Path, correct: bool = False) -> RecordResult:
    """Append the quarter's completed visits to the district's inspections table; with
    `correct`, also apply results that change visits already recorded (see the module notes)."""
    district_dir, plan_dir = Path(district_dir), Path(plan_dir)
    restore_interrupted(plan_dir)  # a replace a crash cut short: put the old plan back first
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
    recorded = {key: i for i, key in enumerate(history[HISTORY_KEY]) if key}
    team = dict(zip(roster["visit_id"], roster["inspectors"]))
    enterprise = dict(zip(roster["visit_id"], roster["enterprise_id"]))
    rows = []
    changes: list[tuple[int, str, str, str, str]] = []  # history index, visit key, field, old, new
    problems: list[Problem] = []
    for i, r in enumerate(results.itertuples(index=False)):
        key = f"{quarter}-{r.visit_id}"
        row = {
            "enterprise_id": enterprise[r.visit_id], "date": r.date.date().isoformat(),
            "inspectors": team[r.visit_id], "hazards_found": str(r.hazards_found),
            "major_hazards_found": str(r.major_hazards_found), "penalized": str(r.penalized),
            HISTORY_KEY: key, "outcome": r.outcome,
        }
        if key not in recorded:
            rows.append(row)
            continue
        at = recorded[key]
        differ = [(f, history.iloc[at][f], row[f]) for f in CORRECTABLE if not _same(f, history.iloc[at][f], row[f])]
        changes += [(at, key, f, old, new) for f, old, new in differ]
        if differ and not correct:
            listed = "; ".join(f"{f} '{old}' -> '{new}'" for f, old, new in differ)
            problems.append(Problem(Path(results_path).name, f"visit '{r.visit_id}' is already recorded as {key} "
                                    f"with other values ({listed}); use --correct to apply the change",
                                    row=i + 2, column=differ[0][0]))
    if problems:
        raise DistrictError(problems)
    _check_roster_references(rows, district, plan_dir / "roster.csv")
    corrected = len({c[1] for c in changes})
    if not rows and not changes:
        return RecordResult(added=0, already_recorded=len(results), inspections_file=history_path)
    backup = _backup(history_path)
    for at, _key, field, _old, new in changes:
        history.iloc[at, history.columns.get_loc(field)] = new
    write_table(pd.concat([history, pd.DataFrame(rows)], ignore_index=True).fillna(""), history_path)
    corrections_path = None
    if changes:
        corrections_path = history_path.with_name(CORRECTIONS_FILE)
        digest = sha256_file(results_path)
        audit = pd.DataFrame([(key, f, old, new, Path(results_path).name, digest) for _, key, f, old, new in changes],
                             columns=list(CORRECTIONS_COLUMNS))
        if corrections_path.exists():
            audit = pd.concat([read_csv_text(corrections_path), audit], ignore_index=True)
        write_table(audit, corrections_path)
    return RecordResult(added=len(rows), already_recorded=len(results) - len(rows) - corrected,
                        inspections_file=history_path, corrected=corrected, backup_file=backup,
                        corrections_file=corrections_path)


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

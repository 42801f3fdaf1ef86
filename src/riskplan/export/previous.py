"""The previous quarter's plan as history for the next quarter's (`plan --previous OUT_Q1/`).

Every rule that looks back (orange deadlines, rotation, spacing, follow-ups, the draw's
`avoid_recent_days`) reads the district's inspections table, which `riskplan record` extends
with a quarter's results. Results come in late: planning 2027Q2 in the last days of March, the
March visits are not recorded yet, and the Q2 plan would send March's team back in April, put a
visit three days after one on 30 March, and plan again an orange deadline Q1 met ahead.

`read_previous_plan` reads the previous quarter's plan folder (its quarter must be the one right
before) and returns the visits of its roster the history does not hold yet (by visit id, as
record writes it). With the previous results file (`--previous-results`, the results workbook
or results.csv, filled in or partly), a visit whose outcome says it did not happen (未检查,
企业已关闭或未找到) is left out, and a carried-out result not recorded yet is refused: record it
first. `with_planned_history` adds the rest to the inspections in memory, as done on their
planned date by their planned team with nothing found; plan.json lists them under
"previous_plan" ("planned_not_recorded"), the checker counts the same list as history, and the
tiers are still scored from the recorded history alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from riskplan.domain.calendar import Quarter
from riskplan.domain.schema import split_list
from riskplan.export.record import NOT_CARRIED_OUT, history_key, plan_identity, read_results
from riskplan.i18n import _
from riskplan.io import read_csv_text, sha256_file
from riskplan.load.district import District, DistrictError, Problem
from riskplan.outputs import restore_interrupted

PLANNED_COLUMNS = ("visit_id", "enterprise_id", "date", "inspectors")


@dataclass(frozen=True)
class PreviousPlan:
    """The previous quarter's plan as far as the next one needs it. `planned`: its visits
    without a recorded result (PLANNED_COLUMNS, date as ISO text), sorted by visit id."""

    quarter: Quarter
    plan_id: str
    roster_sha256: str
    recorded: int  # visits of its roster the history holds
    not_carried_out: int  # visits its results say did not happen
    planned: pd.DataFrame

    def record(self) -> dict[str, Any]:
        """plan.json's "previous_plan"."""
        return {"quarter": str(self.quarter), "plan_id": self.plan_id, "roster_sha256": self.roster_sha256,
                "recorded": self.recorded, "not_carried_out": self.not_carried_out,
                "planned_not_recorded": [dict(zip(PLANNED_COLUMNS, row))
                                         for row in self.planned[list(PLANNED_COLUMNS)].itertuples(index=False)]}

    def fingerprint(self) -> dict[str, Any]:
        """What of it decides the new plan (part of the plan id)."""
        return {"plan_id": self.plan_id, "roster_sha256": self.roster_sha256,
                "planned_not_recorded": list(self.planned["visit_id"])}


def read_previous_plan(folder: Path | str, district: District, quarter: Quarter,
                       results: Path | str | None = None) -> PreviousPlan:
    """The plan in `folder` (of the quarter before `quarter`) and its visits not recorded in
    `district`'s history; DistrictError naming the file when it cannot serve as history."""
    folder = Path(folder)
    restore_interrupted(folder)
    plan_file, roster_file = folder / "plan.json", folder / "roster.csv"
    for path in (plan_file, roster_file):
        if not path.exists():
            raise DistrictError([Problem(path.name, _("not found in {folder} (is this a riskplan plan folder?)")
                                         .format(folder=folder))])
    try:
        plan = json.loads(plan_file.read_text(encoding="utf-8"))
        identity = plan_identity(plan, roster := read_csv_text(roster_file))
    except (ValueError, KeyError, TypeError) as exc:
        raise DistrictError([Problem(plan_file.name, _("cannot be read: {error}").format(error=exc))]) from None
    if identity.quarter != quarter.previous():
        raise DistrictError([Problem(plan_file.name, _(
            "the plan in {folder} is of {other}, not of {previous}, the quarter before {quarter}").format(
            folder=folder, other=identity.quarter, previous=quarter.previous(), quarter=quarter))])
    history = district.inspections
    recorded_ids = set(history["visit_id"]) if "visit_id" in history.columns else set()
    keys = [history_key(v, identity.quarter) for v in roster["visit_id"]]
    is_recorded = pd.Series([k in recorded_ids for k in keys], index=roster.index)
    skipped: set[str] = set()
    if results is not None:
        found = read_results(Path(results), roster, identity, district.inspectors)
        skipped = set(found.loc[found["outcome"].isin(NOT_CARRIED_OUT), "visit_id"])
        done = found[~found["outcome"].isin(NOT_CARRIED_OUT)]
        late = [(vid, row) for vid, row in zip(done["visit_id"], done["row"])
                if history_key(vid, identity.quarter) not in recorded_ids]
        if late:
            raise DistrictError([Problem(Path(results).name, _(
                "visit '{visit_id}' has a result that is not recorded in the history yet: run record with these "
                "results first").format(visit_id=vid), row=row, column="visit_id") for vid, row in late])
    known = set(district.enterprises["enterprise_id"])
    keep = ~is_recorded & ~roster["visit_id"].isin(skipped) & roster["enterprise_id"].isin(known)
    planned = roster.loc[keep, list(PLANNED_COLUMNS)].sort_values("visit_id", kind="mergesort").reset_index(drop=True)
    return PreviousPlan(identity.quarter, str(identity), sha256_file(roster_file), int(is_recorded.sum()),
                        len(skipped), planned)


def with_planned_history(district: District, previous: PreviousPlan | None) -> District:
    """`district` with the previous plan's unrecorded visits in its inspections (in memory
    only), as done on their planned date with nothing found."""
    if previous is None or previous.planned.empty:
        return district
    rows = pd.DataFrame({
        "enterprise_id": previous.planned["enterprise_id"].astype(district.inspections["enterprise_id"].dtype),
        "date": pd.to_datetime(previous.planned["date"]),
        "inspectors": [";".join(split_list(x)) for x in previous.planned["inspectors"]],
        "hazards_found": 0, "major_hazards_found": 0, "penalized": 0,
    })
    if "visit_id" in district.inspections.columns:
        rows["visit_id"] = list(previous.planned["visit_id"])
    rows = rows.reindex(columns=district.inspections.columns)
    for column, dtype in district.inspections.dtypes.items():
        if column in ("enterprise_id", "date", "inspectors", "hazards_found", "major_hazards_found", "penalized"):
            rows[column] = rows[column].astype(dtype)
    return replace(district, inspections=pd.concat([district.inspections, rows], ignore_index=True))

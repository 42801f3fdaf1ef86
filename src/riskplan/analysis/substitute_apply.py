"""Write a plan with one substitution made as a new plan folder (`riskplan substitute --apply`).

NEW/ is OUT/ with one visit's team (and, for another date, its date) changed: roster.csv,
inspector_schedule.csv and their sheets of plan.xlsx are rewritten, the other tables copied
byte for byte, and plan.json records the substitution and the input fingerprints it was made
against; visit ids and the draw are unchanged. The folder is judged by the independent
checker in its staging folder and only moved into place when every rule passes, so a NEW/
that exists always passes `riskplan check`.

Why a new plan folder and not `riskplan record`'s substitute column: that column says who
actually went, after the visit; this changes the plan before it, so the inspectors' schedules
and the notices follow it.
"""

from __future__ import annotations

import datetime
import io
import json
import shutil
from pathlib import Path

import pandas as pd

from riskplan.analysis.substitute import Candidate, PlanView
from riskplan.check.checker import check_roster
from riskplan.domain.calendar import leave_days
from riskplan.domain.headers import canonical_frame, display_frame
from riskplan.domain.schema import split_list
from riskplan.export.changes_report import changes_files
from riskplan.export.plan_files import PLAN_TABLES, PLAN_WORKBOOK, csv_bytes
from riskplan.export.plan_inputs import snapshot_files
from riskplan.i18n import _, language
from riskplan.io import read_table_text, sheets_to_xlsx_bytes
from riskplan.outputs import OUTPUT_MARKER, atomic_output_dir

CHANGED_TABLES = ("roster", "inspector_schedule")


class SubstitutionRefused(ValueError):
    """The new plan would not pass the checker (its violations are in the message)."""


def substitution_record(view: PlanView, cand: Candidate) -> dict:
    """One entry of plan.json's "substitutions" (oldest first): which plan it revises, the visit, who left and who joined."""
    old = view.base.visits[view.request_of[cand.visit_id]]
    return {"revises": {"folder": view.out_dir.name, "plan_id": view.base.plan.get("plan_id", "")},
            "visit_id": cand.visit_id, "date_before": old.date.isoformat(), "date": cand.date.isoformat(),
            "team_before": sorted(old.inspectors), "team": list(cand.team), "leaving": list(cand.leaving),
            "joining": [j.inspector_id for j in cand.joining]}


def _roster(out_dir: Path, cand: Candidate) -> pd.DataFrame:
    frame = canonical_frame("roster", read_table_text(out_dir / "roster.csv"))
    at = frame["visit_id"] == cand.visit_id
    frame.loc[at, "date"] = cand.date.isoformat()
    frame.loc[at, "inspectors"] = ";".join(cand.team)
    return frame


def _schedule(view: PlanView, cand: Candidate) -> pd.DataFrame:
    """inspector_schedule.csv with the visit moved between inspectors (and days), leave as the
    district's current leave table has it."""
    frame = canonical_frame("inspector_schedule", read_table_text(view.out_dir / "inspector_schedule.csv"))
    old = view.base.visits[view.request_of[cand.visit_id]]
    away = leave_days(view.district.leave, view.inst.problem.calendar)
    cells = []
    for iid, day, visits in frame[["inspector_id", "date", "visits"]].itertuples(index=False):
        ids = [v for v in split_list(visits) if not (v == cand.visit_id and day == old.date.isoformat()
                                                    and iid in old.inspectors)]
        if day == cand.date.isoformat() and iid in cand.team and cand.visit_id not in ids:
            ids.append(cand.visit_id)
        cells.append(";".join(sorted(ids)))
    frame["visits"] = cells
    frame["on_leave"] = ["yes" if datetime.date.fromisoformat(d) in away.get(i, ()) else "no"
                         for i, d in frame[["inspector_id", "date"]].itertuples(index=False)]
    return frame


def _workbook_sheets(path: Path) -> list[tuple[str, pd.DataFrame]]:
    """plan.xlsx's sheets as written (numbers stay numbers, date cells become ISO dates again)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    out = []
    for ws in book.worksheets:
        rows = [[c.date().isoformat() if isinstance(c, datetime.datetime) else c for c in row]
                for row in ws.iter_rows(values_only=True)]
        header = [str(h) for h in rows[0]] if rows else []
        out.append((ws.title, pd.DataFrame(rows[1:], columns=header, dtype=object)))
    return out


def write_substituted_plan(view: PlanView, cand: Candidate, new_dir: Path | str, *, force: bool = False) -> Path:
    """NEW/ (see the module docstring); SubstitutionRefused, nothing written, if it fails the check."""
    new_dir = Path(new_dir)
    plan = json.loads((view.out_dir / "plan.json").read_text(encoding="utf-8"))
    lang = plan.get("language")
    with language(lang):
        new_roster = _roster(view.out_dir, cand)
        shown = {"roster": display_frame("roster", new_roster),
                 "inspector_schedule": display_frame("inspector_schedule", _schedule(view, cand))}
        old_roster = canonical_frame("roster", read_table_text(view.out_dir / "roster.csv"))
        reason = _("substitute: {leaving} replaced by {joining}").format(
            leaving=", ".join(cand.leaving), joining=", ".join(j.inspector_id for j in cand.joining))
        # the changes report and the notices to send, and the tables the new plan was made against
        extra = changes_files(old_roster, new_roster, {cand.visit_id: reason}, view.district.inspectors)
        extra.update(snapshot_files(view.district))
    with atomic_output_dir(new_dir, force=force, inputs=(view.out_dir, view.district.path)) as staging:
        for f in sorted(view.out_dir.iterdir()):
            if f.is_file() and f.name not in (OUTPUT_MARKER, "plan.json", PLAN_WORKBOOK) and \
                    f.name not in (f"{t}.csv" for t in CHANGED_TABLES):
                shutil.copyfile(f, staging / f.name)
        for name, frame in shown.items():
            (staging / f"{name}.csv").write_bytes(csv_bytes(frame))
        for name, data in extra.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
        sheets = _workbook_sheets(view.out_dir / PLAN_WORKBOOK)
        changed = {PLAN_TABLES.index(t): t for t in CHANGED_TABLES}
        (staging / PLAN_WORKBOOK).write_bytes(sheets_to_xlsx_bytes(
            {title: shown[changed[k]] if k in changed else frame for k, (title, frame) in enumerate(sheets)}))
        record = {k: v for k, v in plan.items() if k != "timing"}
        record["inputs"] = view.district.fingerprints()
        record["substitutions"] = [*plan.get("substitutions", []), substitution_record(view, cand)]
        if "timing" in plan:
            record["timing"] = plan["timing"]
        (staging / "plan.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        violations = check_roster(view.district, staging)
        if violations:
            raise SubstitutionRefused(_("the substituted plan fails the check, nothing written:\n{violations}").format(
                violations="\n".join(str(v) for v in violations)))
    return new_dir

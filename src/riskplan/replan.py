"""`run_replan`: re-plan the rest of a quarter from a date, changing as little as the changes
force (docs/replan.md), and write NEW/ — a complete plan folder (export.plan_files) plus the
applied changes (`changes_applied.csv`, read back by the checker), the revised roster
(`roster_before.csv`) and the changes files for people (`changes.csv`, `changes.xlsx`,
`notices.csv`).

Frozen, whatever the changes say: every visit dated before --from and every visit the
district's inspections table records as done (its `visit_id` column). The tiers and the
published draw are the revised plan's; obligations come from the district's current tables."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from riskplan.check.context import read_plan_json, read_plan_table, read_roster_csv, plan_value
from riskplan.domain.calendar import Quarter
from riskplan.domain.headers import display_frame
from riskplan.domain.roster import BASES, RosterProblem, SolveResult, Unplaced, VisitRequest
from riskplan.export.plan_files import (
    PLAN_WORKBOOK,
    csv_bytes,
    plan_record,
    roster_frame,
    schedule_frame,
    sheet_names,
    shortfall_tables,
)
from riskplan.i18n import _
from riskplan.io import read_table_text, sha256_file, sheets_to_xlsx_bytes
from riskplan.load.district import DistrictError, Problem, load_district
from riskplan.load.tiers import load_tiers_csv
from riskplan.outputs import atomic_output_dir, refuse_existing
from riskplan.pipeline import plan_warnings, with_calendar
from riskplan.plan.obligations import parse_visit_id, plan_prefix, visit_id
from riskplan.plan.problem import Prepared, prepare
from riskplan.export.changes_applied import applied_changes_bytes, validate_changes
from riskplan.export.changes_report import changes_files
from riskplan.export.plan_inputs import snapshot_files
from riskplan.load.changes import CHANGE_COLUMNS, detect_changes, read_changes
from riskplan.solve.replan import CapacityChange, replan_roster
from riskplan.solve.shortfall import explain_shortfall

APPLIED_FILE = "changes_applied.csv"
BEFORE_FILE = "roster_before.csv"


@dataclass
class ReplanResult:
    out_dir: Path
    plan: dict[str, Any]
    roster: pd.DataFrame
    before: pd.DataFrame
    summary: dict[str, Any]  # plan.json's "replan"
    reasons: dict[str, str]


def _bad(source: str, message: str, row: int | None = None, column: str | None = None) -> DistrictError:
    return DistrictError([Problem(source, message, row=row, column=column)])


def _day(value: Any) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _text(value: Any) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _done_ids(district, roster_ids: set[str]) -> set[str]:
    """Visits of the plan the inspections table records as done (its optional visit_id column)."""
    ins = district.inspections
    if "visit_id" not in ins.columns:
        return set()
    return {str(v) for v in ins["visit_id"] if str(v) in roster_ids}


class _Ids:
    """New visit ids in the revised plan's scheme (2027Q1-7F3A9C-00042: after its highest number)."""

    def __init__(self, ids: list[str]):
        parsed = [p for p in (parse_visit_id(v) for v in ids if v) if p]
        self.prefix = plan_prefix(parsed[0][0], parsed[0][1]) if parsed else None
        numbers = [p[2] for p in parsed] or [int(v[1:]) for v in ids if v[:1] == "V" and v[1:].isdigit()]
        self.next = max(numbers, default=0) + 1

    def new(self) -> str:
        vid = visit_id(self.next, self.prefix)
        self.next += 1
        return vid


def _closure_periods(changes: pd.DataFrame, quarter: Quarter) -> dict[str, list[tuple[date, date, str]]]:
    out: dict[str, list[tuple[date, date, str]]] = {}
    for row in changes.itertuples(index=False):
        if row.change in ("enterprise_closed", "enterprise_suspended"):
            end = _day(row.end) if row.change == "enterprise_suspended" else None
            out.setdefault(row.enterprise_id, []).append((_day(row.start), end or quarter.end, _text(row.reason)))
    return out


def _closed(periods, eid: str, window_end: date) -> str | None:
    """The closure reason when the enterprise is closed or suspended on or before the window's end."""
    for start, _end, reason in periods.get(eid, ()):
        if start <= window_end:
            return reason
    return None


def _extra_leave(changes: pd.DataFrame, quarter: Quarter) -> pd.DataFrame:
    rows = []
    for row in changes.itertuples(index=False):
        if row.change == "leave":
            rows.append((row.inspector_id, pd.Timestamp(row.start), pd.Timestamp(row.end)))
        elif row.change == "leaves_bureau":
            rows.append((row.inspector_id, pd.Timestamp(row.start), pd.Timestamp(quarter.end)))
    return pd.DataFrame(rows, columns=["inspector_id", "start", "end"])


def run_replan(district_dir: Path | str, plan_dir: Path | str, from_date: date, changes: pd.DataFrame | Path | str | None = None,
               *, out_dir: Path | str, force: bool = False, time_limit: float = 60.0,
               progress: Callable[[str], Any] | None = None) -> ReplanResult:
    """Re-plan OUT/ (plan_dir) from `from_date` with the changes and write NEW/ (module docstring)."""
    started = time.perf_counter()
    say = progress or (lambda text: None)
    plan_dir, out_dir = Path(plan_dir), Path(out_dir)
    changes_path = Path(changes) if isinstance(changes, (str, Path)) else None
    refuse_existing(out_dir, force, "folder", marker="plan.json", holds="a plan",
                    inputs=(district_dir, plan_dir, changes_path))
    say(_("reading the district and the plan"))
    district = load_district(district_dir)
    old_plan = read_plan_json(plan_dir)
    quarter = Quarter.parse(str(old_plan["quarter"]))
    seed = int(old_plan["seed"])
    if not quarter.start <= from_date <= quarter.end:
        raise _bad("--from", _("{date} is outside the plan's quarter {quarter} ({start} to {end})").format(
            date=from_date, quarter=quarter, start=quarter.start, end=quarter.end))
    before_frame, before_visits = read_roster_csv(plan_dir / "roster.csv")
    known = set(district.enterprises["enterprise_id"])
    foreign = sorted({v.enterprise_id for v in before_visits} - known)
    if foreign:
        raise _bad("roster.csv", _("the plan in {folder} is not a plan of this district: {count} of its enterprises "
                                   "are not in the enterprises table (e.g. {example})").format(
            folder=plan_dir, count=len(foreign), example=foreign[0]))
    tiers_frame = load_tiers_csv(plan_dir / "tiers.csv", district)
    unplaced_before, _w = read_plan_table(plan_dir / "unplaced.csv", "unplaced")
    draw_before, _w = read_plan_table(plan_dir / "draw.csv", "draw")
    drawn = sorted(e for e, d in zip(draw_before["enterprise_id"], draw_before["drawn"])
                   if plan_value("yes_no", d) == "yes")
    if changes_path is not None:
        changes = read_changes(changes_path, quarter=quarter, district=district)
        changes.attrs["source"] = Path(changes_path).name  # the file the later checks name
    elif changes is None:
        changes = pd.DataFrame({c: pd.Series(dtype=object) for c in CHANGE_COLUMNS})
    changes = validate_changes(changes, quarter=quarter, district=district, from_date=from_date,
                               roster_ids={v.visit_id for v in before_visits})

    done = _done_ids(district, {v.visit_id for v in before_visits})
    frozen = {v.visit_id: (v.date, v.inspectors) for v in before_visits if v.date < from_date or v.visit_id in done}
    cancelled = {row.visit_id: _text(row.reason) for row in changes.itertuples(index=False)
                 if row.change == "cancel_visit"}
    for vid in sorted(cancelled):
        if vid in frozen:
            raise _bad(APPLIED_FILE if changes_path is None else changes_path.name, _(
                "visit {visit_id} cannot be cancelled: it is dated before --from or already done").format(visit_id=vid),
                column="visit_id")
    periods = _closure_periods(changes, quarter)

    say(_("re-deriving the obligations from the current tables"))
    prep = prepare(district, tiers_frame, quarter, seed)
    obligations = {(o.enterprise_id, o.kind): o for o in prep.obligations}
    ids = _Ids([v.visit_id for v in before_visits] + [str(x) for x in unplaced_before.get("visit_id", [])])
    old_key: dict[tuple[str, str, tuple[str, ...]], str] = {}
    old_rows = [(v.visit_id, v.enterprise_id, v.basis, v.obligations) for v in before_visits if v.visit_id not in frozen]
    old_rows += [(str(r["visit_id"]), str(r["enterprise_id"]), plan_value("basis", str(r["basis"])),
                  tuple(x for x in str(r["obligations"]).split(";") if x))
                 for r in unplaced_before.to_dict("records") if r.get("visit_id")]
    for vid, eid, basis, obs in old_rows:
        old_key.setdefault((eid, basis, tuple(obs)), vid)
    claimed: dict[str, set[str]] = {}
    by_id = {v.visit_id: v for v in before_visits}
    frozen_requests = []
    for vid in sorted(frozen):
        v = by_id[vid]
        claimed.setdefault(v.enterprise_id, set()).update(v.obligations)
        frozen_requests.append(VisitRequest(vid, v.enterprise_id, v.basis, v.obligations, v.window_start, v.window_end))

    requests: list[VisitRequest] = []
    dropped: list[Unplaced] = []
    closed_ids: set[str] = set()
    reasons: dict[str, str] = {}
    for r in prep.grouping.requests:
        left = tuple(k for k in r.obligations if k not in claimed.get(r.enterprise_id, set()))
        if not left:
            continue
        vid = old_key.get((r.enterprise_id, r.basis, r.obligations))
        if len(left) < len(r.obligations):
            obs = [obligations[(r.enterprise_id, k)] for k in left]
            basis = min((o.basis for o in obs), key=BASES.index)
            r = replace(r, basis=basis, obligations=left, window_start=max(o.window_start for o in obs),
                        window_end=min(o.window_end for o in obs))
        vid = vid or old_key.get((r.enterprise_id, r.basis, r.obligations)) or ids.new()
        requests.append(replace(r, visit_id=vid))
    for eid in drawn:
        if any(by_id[v].enterprise_id == eid and by_id[v].basis == "drawn" for v in frozen):
            continue
        vid = old_key.get((eid, "drawn", ())) or ids.new()
        requests.append(VisitRequest(vid, eid, "drawn", (), quarter.start, quarter.end))
    extra = 0
    for k, row in enumerate(changes.itertuples(index=False)):
        if row.change not in ("urgent_visit", "pinned_visit"):
            continue
        extra += 1
        kind = f"urgent_{k + 2}" if row.change == "urgent_visit" else f"pinned_change_{k + 2}"
        basis = "follow_up" if row.change == "urgent_visit" else "pinned"
        start, end = max(_day(row.start), quarter.start), min(_day(row.end) or quarter.end, quarter.end)
        vid = ids.new()
        requests.append(VisitRequest(vid, row.enterprise_id, basis, (kind,), start, end))
        reasons[vid] = _text(row.reason) or (_("urgent visit") if basis == "follow_up" else _("pinned visit"))
    kept_requests = []
    for r in requests:
        why = _closed(periods, r.enterprise_id, r.window_end)
        if why is not None:
            dropped.append(Unplaced(r, _("enterprise closed or suspended: {reason}").format(reason=why)))
            closed_ids.add(r.visit_id)
        elif r.visit_id in cancelled:
            dropped.append(Unplaced(r, _("cancelled: {reason}").format(reason=cancelled[r.visit_id])))
        else:
            kept_requests.append(r)
    ordered = sorted(frozen_requests + kept_requests, key=lambda r: (not r.mandatory, r.visit_id))
    problem = RosterProblem(
        quarter=quarter, calendar=prep.problem.calendar, policy=prep.problem.policy, requests=tuple(ordered),
        enterprises=prep.problem.enterprises, inspectors=district.inspectors,
        leave=pd.concat([district.leave[["inspector_id", "start", "end"]], _extra_leave(changes, quarter)],
                        ignore_index=True),
        conflicts=district.conflicts, past_inspections=prep.problem.past_inspections)
    capacity = [CapacityChange(row.inspector_id, _day(row.start), _day(row.end) or quarter.end, int(row.capacity))
                for row in changes.itertuples(index=False) if row.change == "capacity"]
    requested = {r.visit_id for r in kept_requests}
    previous = {v.visit_id: (v.date, v.inspectors) for v in before_visits
                if v.visit_id not in frozen and v.visit_id in requested}

    say(_("re-planning from {date}: {frozen} visits frozen, {requests} to place").format(
        date=from_date, frozen=len(frozen), requests=len(kept_requests)))
    solved = replan_roster(problem, seed, first_day=from_date, frozen=frozen, previous=previous, capacity=capacity,
                           time_limit=time_limit)
    roster = solved.roster
    # a visit the revised plan could not place and whose window has passed keeps its reason
    said = dict(zip(unplaced_before.get("visit_id", []), unplaced_before.get("reason", [])))
    roster.unplaced = [Unplaced(u.request, said[u.request.visit_id])
                       if u.request.window_end < from_date and said.get(u.request.visit_id) else u
                       for u in roster.unplaced]
    shortfall_rows = explain_shortfall(problem, roster)
    roster.unplaced = list(roster.unplaced) + dropped
    result = SolveResult(roster, "FEASIBLE", {}, None, solved.wall_time, shortfall_rows)
    new_frame = roster_frame(replace(problem, requests=problem.requests + tuple(u.request for u in dropped)), result)
    old_rows_by_id = before_frame.set_index("visit_id", drop=False)
    frozen_rows = new_frame["visit_id"].isin(set(frozen))
    for col in new_frame.columns:
        new_frame.loc[frozen_rows, col] = new_frame.loc[frozen_rows, "visit_id"].map(old_rows_by_id[col])
    prepared = Prepared(replace(problem, requests=problem.requests + tuple(u.request for u in dropped)), prep.draw,
                        prep.obligations, prep.grouping, str(old_plan.get("plan_id", prep.plan_id)))
    shortfall = shortfall_tables(prepared, result)
    # a closed enterprise's obligations lapse with it: not unmet, listed with the reason in unplaced.csv
    shortfall.unmet_obligations = [u for u in shortfall.unmet_obligations if u["visit_id"] not in closed_ids]

    summary = _summary(before_frame, new_frame, frozen, solved, closed_ids, cancelled, reasons, drawn, dropped)
    summary.update({
        "revises": {"plan_id": old_plan.get("plan_id"), "plan_json_sha256": sha256_file(plan_dir / "plan.json"),
                    "roster_sha256": sha256_file(plan_dir / "roster.csv"),
                    "draw_sha256": sha256_file(plan_dir / "draw.csv"),
                    "tiers_sha256": sha256_file(plan_dir / "tiers.csv")},
        "from": from_date.isoformat(),
        "changes": [{k: _json_cell(v) for k, v in row.items()} for row in changes.to_dict("records")],
    })
    detected = _detected(district, plan_dir)
    if detected is not None:  # what changed in the district's own tables (applied by loading them)
        summary["detected"] = [{k: _json_cell(v) for k, v in row.items()} for row in detected.to_dict("records")]
    plan = plan_record(prepared, result, new_frame, shortfall, seed=seed, district=district,
                       tier_source=old_plan.get("tiers", {}), time_limit=time_limit,
                       wall_time=time.perf_counter() - started)
    plan["plan_id"] = old_plan.get("plan_id", plan["plan_id"])
    for key in ("drawn_by_tier", "eligible_by_tier"):
        if key in old_plan.get("counts", {}):
            plan["counts"][key] = old_plan["counts"][key]
    plan["counts"]["obligations"] = len(prep.obligations) + extra
    plan["solver"] = {"status": "REPLAN", "objective": {}, "bound": None}
    warnings = plan_warnings(problem.calendar)
    plan = with_calendar(plan, problem.calendar, warnings)
    timing = plan.pop("timing")
    plan["replan"] = summary
    plan["timing"] = timing
    _write(out_dir, force, plan_dir, prepared, result, new_frame, shortfall, plan, changes, before_frame, reasons,
           district)
    return ReplanResult(out_dir, plan, new_frame, before_frame, summary, reasons)


def _detected(district, plan_dir: Path) -> pd.DataFrame | None:
    """The changes found in the district's own tables since the plan (the changes table's
    `detect_changes`): recorded in plan.json, already in force because the current tables
    are loaded."""
    return detect_changes(district, plan_dir)


def _json_cell(value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return value.item() if hasattr(value, "item") else value


def _summary(before: pd.DataFrame, after: pd.DataFrame, frozen: dict, solved, closed_ids: set[str],
             cancelled: dict[str, str], reasons: dict[str, str], drawn: list[str],
             dropped: list[Unplaced]) -> dict[str, Any]:
    """What changed, visit by visit (and `reasons` filled in for each changed visit)."""
    old = {r["visit_id"]: r for r in before.to_dict("records")}
    new = {r["visit_id"]: r for r in after.to_dict("records")}
    moved, reteamed, removed, added = [], [], [], []
    dropped_reason = {u.request.visit_id: u.reason for u in dropped}
    why = {"window": _("its window changed"), "inspector_gone": _("a team member is no longer an inspector"),
           "rules": _("no longer valid under the new inputs (leave, conflicts, rotation or spacing)"),
           "capacity": _("weekly capacity no longer allows it"), "before_from": _("dated before --from")}
    for vid in sorted(set(old) | set(new)):
        if vid in frozen:
            continue
        o, n = old.get(vid), new.get(vid)
        if o is None and n is not None:
            added.append(vid)
            reasons.setdefault(vid, _("new obligation: {obligations}").format(obligations=n["obligations"]))
        elif o is not None and n is None:
            removed.append(vid)
            reasons[vid] = dropped_reason.get(vid) or why.get(solved.invalid.get(vid, ""), _(
                "displaced: capacity is needed for mandatory visits"))
        elif o is not None and n is not None and (o["date"], o["inspectors"]) != (n["date"], n["inspectors"]):
            (moved if o["date"] != n["date"] else reteamed).append(vid)
            reasons[vid] = why.get(solved.invalid.get(vid, ""), _("gave way to mandatory work"))
    displaced = sorted(v for v in removed if old[v]["basis"] == "drawn" and v not in closed_ids and v not in cancelled)
    old_days = {(i, r["date"]) for r in old.values() if r["visit_id"] not in frozen for i in r["inspectors"].split(";")}
    new_days = {(i, r["date"]) for r in new.values() if r["visit_id"] not in frozen for i in r["inspectors"].split(";")}
    changed = len(moved) + len(reteamed) + len(removed) + len(added)
    return {"frozen": len(frozen), "kept": len(solved.kept), "lower_bound": solved.lower_bound, "changed": changed,
            "moved": moved, "reteamed": reteamed, "dropped": removed, "added": added,
            "displaced_drawn": displaced, "changed_inspector_days": len(old_days ^ new_days)}


def _write(out_dir: Path, force: bool, plan_dir: Path, prepared: Prepared, result: SolveResult, roster: pd.DataFrame,
           shortfall, plan: dict, changes: pd.DataFrame, before: pd.DataFrame, reasons: dict[str, str],
           district) -> None:
    shown = {"roster": display_frame("roster", roster),
             "inspector_schedule": display_frame("inspector_schedule", schedule_frame(prepared.problem, result)),
             "shortfall": display_frame("shortfall", shortfall.summary),
             "unplaced": display_frame("unplaced", shortfall.unplaced)}
    copied = {name: (plan_dir / f"{name}.csv").read_bytes() for name in ("tiers", "draw")}
    sheets = sheet_names()
    tables = {"roster": shown["roster"], "tiers": read_table_text(plan_dir / "tiers.csv"),
              "inspector_schedule": shown["inspector_schedule"], "draw": read_table_text(plan_dir / "draw.csv"),
              "shortfall": shown["shortfall"], "unplaced": shown["unplaced"]}
    extra = changes_files(before, roster, reasons, district.inspectors)
    extra.update(snapshot_files(district))  # what the next re-plan compares the tables with
    with atomic_output_dir(out_dir, force=force) as staging:
        for name, frame in shown.items():
            (staging / f"{name}.csv").write_bytes(csv_bytes(frame))
        for name, data in copied.items():
            (staging / f"{name}.csv").write_bytes(data)
        (staging / PLAN_WORKBOOK).write_bytes(
            sheets_to_xlsx_bytes({sheets[name]: frame.round(6) if name != "tiers" and name != "draw" else frame
                                  for name, frame in tables.items()}))
        (staging / BEFORE_FILE).write_bytes((plan_dir / "roster.csv").read_bytes())
        (staging / APPLIED_FILE).write_bytes(applied_changes_bytes(changes))
        for name, data in extra.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
        (staging / "plan.json").write_text(json.dumps(plan, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

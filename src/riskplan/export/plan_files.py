"""The plan folder (OUT/) a quarter's plan writes, atomically, in the reader's language
(headers and enumerated values by domain.headers; riskplan reads either language back):

- roster.csv             placed visits (sorted by visit_id)
- tiers.csv              the tiers used (from --tiers, or the scoring model's output)
- inspector_schedule.csv one row per inspector per working day, with that day's visit ids
- draw.csv               the first random draw, every enterprise of a sampled tier
- shortfall.csv          unmet needs by rule, tier, subdistrict and month, with a suggestion
- unplaced.csv           each requested visit or obligation that did not make it, with why
- plan.xlsx              the six tables above as one workbook, a sheet each, for Excel and WPS
                         (date cells, frozen headers, filters, fitted widths)
- inputs/                the small district tables the plan used, as read (export/plan_inputs.py):
                         what a re-plan compares the district's tables with
- plan.json              quarter, seed, language, input sha256, policy, tier source, counts,
                         shortfall, solver status/objective/bound, versions; wall times under
                         "timing". Machine-readable: English keys and codes.

Every CSV starts with a UTF-8 BOM, so Chinese Excel opens it without garbling. One workbook
rather than one per table: a clerk opens, prints or mails the quarter's plan as one file and
finds each table on its own sheet; the CSVs stay what riskplan (check, report, record,
publish) reads back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskplan import __version__
from riskplan.domain.headers import display_frame, value_label
from riskplan.domain.roster import BASES, FALLBACK_REASONS, RosterProblem, SolveResult, Unplaced
from riskplan.domain.schema import TIERS
from riskplan.i18n import _, get_language, pgettext
from riskplan.io import frame_to_csv_bytes, sheets_to_xlsx_bytes
from riskplan.outputs import atomic_output_dir
from riskplan.load.district import District
from riskplan.plan.problem import Prepared

#: The plan folder's tables, each `NAME.csv` and a sheet of plan.xlsx (NAME: its table in domain.headers).
PLAN_TABLES = ("roster", "tiers", "inspector_schedule", "draw", "shortfall", "unplaced")
PLAN_WORKBOOK = "plan.xlsx"
#: The input snapshot's folder (export/plan_inputs.py), listed with the plan's files.
PLAN_INPUTS = "inputs"
PLAN_FILES = (*(f"{t}.csv" for t in PLAN_TABLES), PLAN_WORKBOOK, "plan.json", PLAN_INPUTS)
SHORTFALL_COLUMNS = ("rule", "tier", "subdistrict", "month", "missing", "reason", "suggestion")
NO_WORKING_DAY = "no working day"  # shortfall reasons found before solving (codes, domain.headers)
BEYOND_MAX = "beyond max_visits_per_quarter"
FLOAT_FORMAT = "%.6f"


def sheet_names() -> dict[str, str]:
    """plan.xlsx's sheet of each table, in the reader's language."""
    return {"roster": pgettext("plan sheet", "roster"), "tiers": pgettext("plan sheet", "tiers"),
            "inspector_schedule": pgettext("plan sheet", "inspector schedule"),
            "draw": pgettext("plan sheet", "draw"), "shortfall": pgettext("plan sheet", "shortfall"),
            "unplaced": pgettext("plan sheet", "unplaced")}


# ---------------------------------------------------------------- output tables

def _tier_map(problem: RosterProblem) -> dict[str, dict[str, Any]]:
    return problem.enterprises.set_index("enterprise_id")[["name", "subdistrict", "tier"]].to_dict("index")


def roster_frame(problem: RosterProblem, result: SolveResult) -> pd.DataFrame:
    ent = _tier_map(problem)
    rows = []
    for v in sorted(result.roster.visits, key=lambda v: v.request.visit_id):
        r, e = v.request, ent[v.request.enterprise_id]
        rows.append({"visit_id": r.visit_id, "enterprise_id": r.enterprise_id, "enterprise_name": e["name"],
                     "subdistrict": e["subdistrict"], "tier": e["tier"], "basis": r.basis,
                     "obligations": ";".join(r.obligations), "window_start": r.window_start.isoformat(),
                     "window_end": r.window_end.isoformat(), "date": v.date.isoformat(),
                     "inspectors": ";".join(sorted(v.inspectors))})
    return pd.DataFrame(rows, columns=["visit_id", "enterprise_id", "enterprise_name", "subdistrict", "tier",
                                       "basis", "obligations", "window_start", "window_end", "date", "inspectors"])


def schedule_frame(problem: RosterProblem, result: SolveResult) -> pd.DataFrame:
    """One row per inspector per working day: on leave or not, and that day's visit ids."""
    from riskplan.domain.calendar import leave_days

    away = leave_days(problem.leave, problem.calendar)
    visits: dict[tuple[str, Any], list[str]] = {}
    for v in result.roster.visits:
        for iid in v.inspectors:
            visits.setdefault((iid, v.date), []).append(v.request.visit_id)
    rows = [(iid, d.isoformat(), "yes" if d in away.get(iid, ()) else "no", ";".join(sorted(visits.get((iid, d), []))))
            for iid in sorted(problem.inspectors["inspector_id"]) for d in problem.calendar.days]
    return pd.DataFrame(rows, columns=["inspector_id", "date", "on_leave", "visits"])


def obligation_rule(kind: str) -> str:
    """The shortfall rule an obligation kind belongs to, named as the solver's shortfall report
    names them: red_monthly, orange_due, follow_up, pinned."""
    if "_month_" in kind:
        return kind.split("_month_")[0] + "_monthly"
    if kind.startswith("follow_up"):
        return "follow_up"
    if kind.startswith("pinned_"):
        return "pinned"
    return kind


@dataclass
class Shortfall:
    summary: pd.DataFrame  # SHORTFALL_COLUMNS
    unplaced: pd.DataFrame  # one row per visit / obligation not placed
    unmet_obligations: list[dict[str, str]] = field(default_factory=list)
    drawn_not_placed: list[dict[str, str]] = field(default_factory=list)


def _missing_from_solver(problem: RosterProblem, result: SolveResult) -> list[Unplaced]:
    """Requests the solver neither placed nor reported: reported here rather than lost."""
    seen = {v.request.visit_id for v in result.roster.visits} | {u.request.visit_id for u in result.roster.unplaced}
    return [Unplaced(r, _("not returned by the solver")) for r in problem.requests if r.visit_id not in seen]


def shortfall_tables(prep: Prepared, result: SolveResult) -> Shortfall:
    problem = prep.problem
    ent = _tier_map(problem)
    rows: list[dict] = []
    unmet: list[dict[str, str]] = []
    drawn: list[dict[str, str]] = []
    unplaced = sorted(list(result.roster.unplaced) + _missing_from_solver(problem, result),
                      key=lambda u: u.request.visit_id)
    for u in unplaced:
        r, e = u.request, ent[u.request.enterprise_id]
        rows.append({"visit_id": r.visit_id, "enterprise_id": r.enterprise_id, "enterprise_name": e["name"],
                     "subdistrict": e["subdistrict"], "tier": e["tier"], "basis": r.basis,
                     "obligations": ";".join(r.obligations), "window_start": r.window_start.isoformat(),
                     "window_end": r.window_end.isoformat(), "reason": u.reason})
        if r.mandatory:
            unmet += [{"enterprise_id": r.enterprise_id, "obligation": k, "visit_id": r.visit_id, "reason": u.reason}
                      for k in r.obligations]
        else:
            drawn.append({"enterprise_id": r.enterprise_id, "visit_id": r.visit_id, "reason": u.reason})

    extra: list[dict] = []
    policy = problem.policy
    leftovers = [(o, NO_WORKING_DAY) for o in prep.grouping.no_working_day]
    leftovers += [(o, BEYOND_MAX) for o in prep.grouping.beyond_max]
    for ob, code in sorted(leftovers, key=lambda x: (x[0].enterprise_id, x[0].window_start, x[0].kind)):
        e = ent[ob.enterprise_id]
        limit = policy.tier(e["tier"]).max_visits_per_quarter
        # plan.json keeps the English code (machine-readable); the tables read in the reader's language
        recorded = code if code == NO_WORKING_DAY else f"{code} ({limit} for {e['tier']})"
        if code == NO_WORKING_DAY:
            said = _("no working day in the window")
            suggestion = _("widen the window or declare a make-up working day ([roster] extra_workdays)")
        else:
            said = _("beyond the tier's max_visits_per_quarter ({limit} for {tier})").format(
                limit=limit, tier=value_label("tier", e["tier"]))
            suggestion = _("raise [tiers.{tier}] max_visits_per_quarter").format(tier=e["tier"])
        rows.append({"visit_id": "", "enterprise_id": ob.enterprise_id, "enterprise_name": e["name"],
                     "subdistrict": e["subdistrict"], "tier": e["tier"], "basis": ob.basis, "obligations": ob.kind,
                     "window_start": ob.window_start.isoformat(), "window_end": ob.window_end.isoformat(),
                     "reason": _("{reason}: {detail}").format(reason=said, detail=ob.reason)})
        unmet.append({"enterprise_id": ob.enterprise_id, "obligation": ob.kind, "visit_id": "", "reason": recorded})
        extra.append({"rule": obligation_rule(ob.kind), "tier": e["tier"], "subdistrict": e["subdistrict"],
                      "month": f"{ob.window_end.year}-{ob.window_end.month:02d}", "missing": 1,
                      "reason": code, "suggestion": suggestion})

    solver_rows = result.shortfall if result.shortfall is not None else pd.DataFrame(columns=SHORTFALL_COLUMNS)
    mine = pd.DataFrame(extra, columns=SHORTFALL_COLUMNS)
    if len(mine):
        mine = (mine.groupby(["rule", "tier", "subdistrict", "month", "reason", "suggestion"], as_index=False)
                ["missing"].sum())[list(SHORTFALL_COLUMNS)]
    parts = [f for f in (solver_rows.reindex(columns=list(SHORTFALL_COLUMNS)), mine) if len(f)]
    summary = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SHORTFALL_COLUMNS)
    if len(summary):
        keys = summary.astype(str)
        order = keys.sort_values(list(SHORTFALL_COLUMNS), kind="mergesort").index
        summary = summary.loc[order].reset_index(drop=True)
    unplaced_frame = pd.DataFrame(rows, columns=["visit_id", "enterprise_id", "enterprise_name", "subdistrict",
                                                 "tier", "basis", "obligations", "window_start", "window_end",
                                                 "reason"])
    return Shortfall(summary, unplaced_frame, unmet, drawn)


def _counts(frame: pd.DataFrame, column: str, order: tuple[str, ...]) -> dict[str, int]:
    counts = frame[column].value_counts() if len(frame) else pd.Series(dtype=int)
    return {k: int(counts.get(k, 0)) for k in order}


def _round(x: Any) -> Any:
    if isinstance(x, float):
        return round(x, 6)
    return x


def plan_record(prep: Prepared, result: SolveResult, roster: pd.DataFrame, shortfall: Shortfall, *,
                seed: int, district: District, tier_source: dict[str, Any], time_limit: float,
                wall_time: float) -> dict[str, Any]:
    """plan.json: everything deterministic, then wall times under "timing"."""
    try:
        import ortools

        ortools_version = ortools.__version__
    except ImportError:  # pragma: no cover - ortools is a dependency
        ortools_version = None
    tiers = tuple(t.value for t in TIERS)
    requested = pd.DataFrame({"basis": [r.basis for r in prep.problem.requests]})
    missing_total = int(pd.to_numeric(shortfall.summary["missing"]).sum()) if len(shortfall.summary) else 0
    return {
        "quarter": str(prep.problem.quarter),
        "plan_id": prep.plan_id,
        "seed": seed,
        "language": get_language(),  # of the tables' headers and values (riskplan reads both back)
        "riskplan_version": __version__,
        "ortools_version": ortools_version,
        "inputs": district.fingerprints(),
        "tiers": tier_source,
        "policy": district.policy.to_dict(),
        "options": {"time_limit": time_limit},
        "counts": {
            "obligations": len(prep.obligations),
            "requested_by_basis": _counts(requested, "basis", BASES),
            "placed": len(roster),
            "placed_by_tier": _counts(roster, "tier", tiers),
            "placed_by_basis": _counts(roster, "basis", BASES),
            "drawn_by_tier": _counts(prep.draw.frame[prep.draw.frame["drawn"] == "yes"], "tier", tiers),
            "eligible_by_tier": _counts(prep.draw.frame[prep.draw.frame["eligible"] == "yes"], "tier", tiers),
        },
        "shortfall": {
            "missing_total": missing_total,
            "by_rule": [{k: _round(v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                        for row in shortfall.summary.to_dict("records")],
            "unmet_obligations": shortfall.unmet_obligations,
            "drawn_not_placed": shortfall.drawn_not_placed,
        },
        "solver": solver_record(result),
        "timing": {"solver_wall_time_s": round(float(result.wall_time), 3), "total_wall_time_s": round(wall_time, 3)},
    }


def solver_record(result: SolveResult) -> dict[str, Any]:
    """plan.json's "solver": a fallback roster gets its own status and a "fallback" entry
    (only then, so a finished solve's plan.json is what it always was)."""
    record: dict[str, Any] = {
        "status": FALLBACK_REASONS.get(result.fallback, result.status) if result.fallback else result.status,
        "objective": {k: _round(float(v)) for k, v in sorted(result.objective.items())},
        "bound": None if result.bound is None else _round(float(result.bound)),
    }
    if result.fallback:
        record["fallback"] = {"roster": "greedy", "reason": result.fallback, "detail": result.fallback_detail}
    return record


def fallback_notice(plan: dict[str, Any]) -> str | None:
    """One line saying the plan's roster is the greedy fallback and why, None for a finished
    solve; the plan, check and report commands all show it."""
    fb = plan.get("solver", {}).get("fallback") if isinstance(plan.get("solver"), dict) else None
    if not isinstance(fb, dict):
        return None
    reason = fb.get("reason")
    advice = {"time limit": _("re-run plan with a larger --time-limit"),
              "user interrupt": _("re-run plan and let it finish")}.get(reason, _("re-run plan"))
    said = {"time limit": pgettext("fallback reason", "time limit"),
            "user interrupt": pgettext("fallback reason", "user interrupt"),
            "no week plan": pgettext("fallback reason", "no week plan")}.get(reason, reason or _("unknown reason"))
    return _("the roster is the greedy fallback, not the optimised roster: the solve stopped early "
             "({reason}: {detail}); {advice} for the optimised roster").format(
        reason=said, detail=fb.get("detail", ""), advice=advice)


def deterministic_part(plan: dict[str, Any]) -> dict[str, Any]:
    """plan.json without its "timing" key: what must be identical between runs."""
    return {k: v for k, v in plan.items() if k != "timing"}


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """Stable CSV bytes: UTF-8 with a BOM, '\\n' line ends, floats with six decimals, text cells
    neutralised."""
    return frame_to_csv_bytes(frame, FLOAT_FORMAT)


def tiers_sorted(tiers_frame: pd.DataFrame) -> pd.DataFrame:
    return tiers_frame.sort_values("enterprise_id", kind="mergesort")


def tiers_output(tiers_frame: pd.DataFrame) -> bytes:
    """OUT/tiers.csv: the tiers used, sorted by enterprise_id, in the reader's language (its
    sha256 goes in plan.json)."""
    return csv_bytes(display_frame("tiers", tiers_sorted(tiers_frame)))


def plan_tables(prep: Prepared, result: SolveResult, tiers_frame: pd.DataFrame, roster: pd.DataFrame,
                shortfall: Shortfall) -> dict[str, pd.DataFrame]:
    """The plan folder's tables by name (PLAN_TABLES), with riskplan's column names and codes."""
    return {"roster": roster, "tiers": tiers_sorted(tiers_frame),
            "inspector_schedule": schedule_frame(prep.problem, result), "draw": prep.draw.frame,
            "shortfall": shortfall.summary, "unplaced": shortfall.unplaced}


def write_plan(out_dir: Path, force: bool, prep: Prepared, result: SolveResult, tiers_frame: pd.DataFrame,
               roster: pd.DataFrame, shortfall: Shortfall, plan: dict[str, Any],
               extra: dict[str, bytes] | None = None) -> None:
    """OUT/ in the reader's language: each table as CSV and as a sheet of plan.xlsx, and plan.json;
    `extra`: more files by relative path (the input snapshot, inputs/NAME.csv)."""
    shown = {name: display_frame(name, frame)
             for name, frame in plan_tables(prep, result, tiers_frame, roster, shortfall).items()}
    sheets = sheet_names()
    with atomic_output_dir(Path(out_dir), force=force) as staging:
        for name, frame in shown.items():
            (staging / f"{name}.csv").write_bytes(csv_bytes(frame))
        (staging / PLAN_WORKBOOK).write_bytes(
            sheets_to_xlsx_bytes({sheets[name]: frame.round(6) for name, frame in shown.items()}))
        for name, data in sorted((extra or {}).items()):
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
        (staging / "plan.json").write_text(json.dumps(plan, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

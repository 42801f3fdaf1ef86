"""Where the steps meet: `run_plan` reads the district and its tiers, builds the quarter's
problem, solves it and writes OUT/ (see `export.plan_files` for the files).

Same inputs + seed + options give byte-identical files; plan.json differs between runs only
under its "timing" key. plan.json also records the working calendar the plan used ("calendar":
the holidays and make-up working days applied, and whether they came from the policy, the
chinesecalendar package or nowhere) and the warnings the user must read ("warnings"; the
`plan` command prints them on stderr)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from riskplan.domain.calendar import Quarter, WorkCalendar, calendar_warning
from riskplan.domain.roster import Obligation, SolveResult
from riskplan.export.commitment import commitment_for_plan
from riskplan.export.plan_files import (
    Shortfall,
    plan_record,
    roster_frame,
    shortfall_tables,
    tiers_output,
    write_plan,
)
from riskplan.export.plan_inputs import snapshot_files
from riskplan.export.previous import PreviousPlan, read_previous_plan, with_planned_history
from riskplan.i18n import _, ngettext
from riskplan.io import sha256_file
from riskplan.outputs import refuse_existing
from riskplan.load.district import load_district
from riskplan.load.tiers import load_tiers_csv
from riskplan.plan.draw import DrawResult
from riskplan.plan.problem import prepare
from riskplan.score.tiering import model_tiers, tier_warnings

DEFAULT_TIME_LIMIT = 60.0


# ---------------------------------------------------------------- the pipeline

@dataclass
class PlanResult:
    out_dir: Path
    plan: dict[str, Any]
    solve: SolveResult
    draw: DrawResult
    obligations: list[Obligation]
    roster: pd.DataFrame
    shortfall: Shortfall
    warnings: list[str]  # lines for stderr, in the current language ("warning: ...")


def plan_warnings(calendar: WorkCalendar) -> list[dict[str, Any]]:
    """plan.json's "warnings": what the user must know about how the plan was made."""
    text = calendar_warning(calendar)
    if text is None:
        return []
    return [{"kind": "calendar_unknown_year", "year": calendar.quarter.year, "message": text}]


def with_calendar(plan: dict[str, Any], calendar: WorkCalendar, warnings: list[dict[str, Any]]) -> dict[str, Any]:
    """plan.json with "calendar" and "warnings" added before "timing" (which stays last)."""
    timing = {"timing": plan["timing"]} if "timing" in plan else {}
    body = {k: v for k, v in plan.items() if k != "timing"}
    return {**body, "calendar": calendar.record(), "warnings": warnings, **timing}


def previous_warnings(previous: PreviousPlan | None) -> list[dict[str, Any]]:
    """plan.json's warning that visits of the previous plan count as done without a result."""
    if previous is None or previous.planned.empty:
        return []
    n = len(previous.planned)
    text = ngettext("{count} visit of the previous plan {plan} ({quarter}) has no recorded result: it counts as "
                    "done on its planned date by its planned team (plan.json: previous_plan); record the results "
                    "and plan again when they are in",
                    "{count} visits of the previous plan {plan} ({quarter}) have no recorded result: they count as "
                    "done on their planned dates by their planned teams (plan.json: previous_plan); record the "
                    "results and plan again when they are in", n).format(count=n, plan=previous.plan_id,
                                                                          quarter=previous.quarter)
    return [{"kind": "planned_not_recorded", "count": n, "plan_id": previous.plan_id, "message": text}]


def with_previous(plan: dict[str, Any], previous: PreviousPlan) -> dict[str, Any]:
    """plan.json with "previous_plan" added before "timing" (which stays last)."""
    timing = {"timing": plan["timing"]} if "timing" in plan else {}
    body = {k: v for k, v in plan.items() if k != "timing"}
    return {**body, "previous_plan": previous.record(), **timing}


def run_plan(district_dir: Path | str, quarter: Quarter | str, seed: int, tiers_path: Path | str | None = None,
             *, out_dir: Path | str, force: bool = False, time_limit: float = DEFAULT_TIME_LIMIT,
             progress: Callable[..., Any] | None = None,
             solve: Callable[..., SolveResult] | None = None,
             commitment_dir: Path | str | None = None, previous_dir: Path | str | None = None,
             previous_results: Path | str | None = None) -> PlanResult:
    """Plan the quarter and write OUT/ (see the module docstring). `solve` replaces
    `riskplan.solve.solve.solve_roster` (same signature), e.g. for a baseline comparison.
    `commitment_dir`: the folder `commit-seed` wrote; the seed must be the one it commits to, and
    plan.json carries the commitment and its reveal (publish puts them on the notice).
    `previous_dir`: the previous quarter's plan, whose visits without a recorded result count as
    history (export.previous; `previous_results` leaves out those that did not happen)."""
    started = time.perf_counter()
    quarter = Quarter.parse(quarter) if isinstance(quarter, str) else quarter
    out_dir = Path(out_dir)
    refuse_existing(out_dir, force, "folder", marker="plan.json", holds="a plan",
                    inputs=(district_dir, tiers_path, previous_dir, previous_results))
    carried = commitment_for_plan(commitment_dir, seed, str(quarter)) if commitment_dir is not None else None
    district = load_district(district_dir)
    if tiers_path is not None:
        tiers_frame = load_tiers_csv(tiers_path, district)
        tiers_frame.attrs["source"] = Path(tiers_path).name  # named in a risk-weighted draw's errors
        tier_source = {"source": "file", "file": Path(tiers_path).name, "sha256": sha256_file(Path(tiers_path))}
    else:
        tiers_frame, tier_source = model_tiers(district, quarter)
    tier_source["tiers_csv_sha256"] = hashlib.sha256(tiers_output(tiers_frame)).hexdigest()
    previous = (read_previous_plan(previous_dir, district, quarter, previous_results)
                if previous_dir is not None else None)
    prep = prepare(with_planned_history(district, previous), tiers_frame, quarter, seed,
                   previous.fingerprint() if previous is not None else None)
    if solve is None:
        from riskplan.solve.solve import solve_roster as solve
    result = solve(prep.problem, seed, time_limit=time_limit, progress=progress)
    roster = roster_frame(prep.problem, result)
    shortfall = shortfall_tables(prep, result)
    plan = plan_record(prep, result, roster, shortfall, seed=seed, district=district, tier_source=tier_source,
                       time_limit=time_limit, wall_time=time.perf_counter() - started)
    warnings = plan_warnings(prep.problem.calendar) + previous_warnings(previous)
    plan = with_calendar(plan, prep.problem.calendar, warnings)
    if previous is not None:
        plan = with_previous(plan, previous)
    if carried is not None:
        plan["seed_commitment"] = carried
    write_plan(out_dir, force, prep, result, tiers_frame, roster, shortfall, plan, extra=snapshot_files(district))
    lines = [_("warning: {message}").format(message=w["message"]) for w in warnings]
    # what the scoring model did not know (an unseen industry, no headcount), as `tier` says it
    lines += [_("warning: {message}").format(message=w) for w in tier_warnings(tiers_frame)]
    return PlanResult(out_dir, plan, result, prep.draw, prep.obligations, roster, shortfall, lines)

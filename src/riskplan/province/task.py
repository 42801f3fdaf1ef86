"""What a worker does for one district: validate -> tier -> plan -> check (-> publish).

The plan is written by `riskplan.pipeline.run_plan`, the function `riskplan plan` calls, with
the district's seed and the shipped scoring model's tiers, into OUT/districts/<name>/plan/ —
so its files are byte-identical to `riskplan plan` run alone (plan.json but for its "timing").
The task runs in the language the province run asked for, whatever the worker's locale, so a
remote worker writes the same bytes a local one would.

A district's failure stays in its result: bad input (with the reader's message naming file,
row and column) and crashes come back as a state and a reason, never as an exception that
would stop the province. The figures the summary needs are computed here, where the district
is loaded anyway, and recorded in the province manifest, with the task's wall time (a later
run starts its longest districts first by it).

With a what-if (`whatif_levels`), the task also sweeps the district's staffing, in the same
process (the province's parallelism is its districts): levels are fractions of the district's
certified inspectors (rounded, at least 1, the current staffing first), planned with the
plan's tiers and the district's seed by `riskplan.analysis.whatif.run_whatif`; it records the
smallest staffing among them that meets the whole policy, and what one more inspector holding
`whatif_qualification` adds at the current staffing."""

from __future__ import annotations

import hashlib
import shutil
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from riskplan.i18n import _, language

#: A district's states, in the order the summary lists them.
DONE, FALLBACK, CHECK_FAILED, BAD_INPUT, CRASHED, TIMED_OUT = (
    "done", "fallback", "check failed", "bad input", "crashed", "timed out")
STATES = (DONE, FALLBACK, CHECK_FAILED, BAD_INPUT, CRASHED, TIMED_OUT)
#: States whose outputs are complete (a fallback roster is valid, only weaker; see `riskplan plan`).
FINISHED = (DONE, FALLBACK, CHECK_FAILED)
PLAN_DIR, PUBLIC_DIR = "plan", "public"
MANDATORY_BASES = ("mandatory", "follow_up", "pinned")
SHORTFALL_RULES = ("red_monthly", "orange_due", "follow_up", "pinned", "drawn")


@dataclass(frozen=True)
class DistrictJob:
    name: str
    folder: str
    quarter: str
    seed: int
    time_limit: float
    out_dir: str  # OUT/districts/<name>
    publish: bool
    lang: str
    whatif_levels: tuple[float, ...] = ()  # fractions of the certified inspectors; () = no what-if
    whatif_qualification: str = "hazchem"


def plan_district(job: DistrictJob) -> dict[str, Any]:
    """The task: one district's outputs and its record for the manifest (state, reason, figures,
    check, outputs' sha256). Bad input and crashes are returned, not raised."""
    from riskplan.domain.policy import PolicyError
    from riskplan.io import TableReadError
    from riskplan.load.district import DistrictError
    from riskplan.score.tiering import TieringError

    with language(job.lang):
        try:
            started = time.perf_counter()
            record = _plan(job)
            record["timing"]["task_wall_time_s"] = round(time.perf_counter() - started, 3)
            return record
        except (DistrictError, PolicyError, TableReadError, TieringError, FileExistsError) as exc:
            return {"state": BAD_INPUT, "reason": str(exc)}
        except Exception as exc:  # a crash is this district's failure, not the province's
            where = traceback.extract_tb(exc.__traceback__)[-1]
            return {"state": CRASHED, "reason": _("{error}: {message} (in {file}, line {line})").format(
                error=type(exc).__name__, message=exc, file=Path(where.filename).name, line=where.lineno)}


def _plan(job: DistrictJob) -> dict[str, Any]:
    from riskplan.check.checker import check_roster
    from riskplan.export.plan_files import fallback_notice
    from riskplan.load.district import load_district
    from riskplan.load.tiers import load_tiers_csv
    from riskplan.outputs import written_by_riskplan
    from riskplan.pipeline import run_plan

    folder, out = Path(job.folder), Path(job.out_dir)
    plan_dir, public_dir = out / PLAN_DIR, out / PUBLIC_DIR
    district = load_district(folder)  # validate first: bad input stops here, before any output
    result = run_plan(folder, job.quarter, job.seed, out_dir=plan_dir, force=True, time_limit=job.time_limit)
    violations = check_roster(district, plan_dir)
    tiers = load_tiers_csv(plan_dir / "tiers.csv", district)
    if job.publish:
        from riskplan.export.publish import publish

        publish(folder, plan_dir, "plan", public_dir, lang=job.lang, force=True)
    elif public_dir.is_dir() and written_by_riskplan(public_dir):
        shutil.rmtree(public_dir)  # an earlier run's public files would not match this plan
    by_rule: dict[str, int] = {}
    for v in violations:
        by_rule[v.rule] = by_rule.get(v.rule, 0) + 1
    notice = fallback_notice(result.plan)
    if violations:
        state, reason = CHECK_FAILED, _("{count} roster rule violation(s): {rules}").format(
            count=len(violations), rules=", ".join(f"{k} {n}" for k, n in by_rule.items()))
    elif notice:
        state, reason = FALLBACK, notice
    else:
        state, reason = DONE, ""
    figures = district_figures(result.plan, tiers, district, result.roster)
    if job.whatif_levels:
        figures.update(whatif_figures(job, district, plan_dir / "tiers.csv"))
    return {"state": state, "reason": reason, "figures": figures, "check": by_rule, "outputs": output_files(out),
            "warnings": [w["message"] for w in result.plan.get("warnings", [])],
            "timing": dict(result.plan.get("timing", {}))}


def staffing_levels(certified: int, fractions: tuple[float, ...]) -> list[int]:
    """The what-if's staffing levels: the current one first, then each fraction's (module docstring)."""
    levels = [certified] + [max(1, int(certified * f + 0.5)) for f in fractions]
    return list(dict.fromkeys(levels))


def whatif_figures(job: DistrictJob, district, tiers_csv: Path) -> dict[str, Any]:
    """The what-if's columns of the summary row (module docstring)."""
    from riskplan.analysis.whatif import Scenario, run_whatif

    certified = int((district.inspectors["certified"] == 1).sum())
    scenarios = [Scenario(inspectors=n) for n in staffing_levels(certified, job.whatif_levels)]
    result = run_whatif(Path(job.folder), job.quarter, job.seed, scenarios, tiers_path=tiers_csv,
                        time_limit=job.time_limit, workers=1, extra_qualification=job.whatif_qualification)
    levels = sorted(int(n) for n in result.table["inspectors"].unique())
    return {"certified_inspectors": certified, "whatif_levels": f"{levels[0]}–{levels[-1]}",
            "minimal_staffing": result.minimal_staffing,
            "extra_inspector_mandatory": int(result.extra["mandatory_gained"]),
            "extra_inspector_visits": int(result.extra["visits_gained"])}


def district_figures(plan: dict[str, Any], tiers, district, roster) -> dict[str, Any]:
    """One summary row: enterprises by tier, visits, mandatory coverage, shortfall by rule,
    utilisation (inspector-visits placed / certified inspectors' weekly limits over the quarter)."""
    from riskplan.domain.calendar import Quarter, WorkCalendar, weekly_limits
    from riskplan.domain.schema import TIERS, split_list

    counts = plan["counts"]
    row: dict[str, Any] = {}
    tier_counts = tiers["tier"].value_counts()
    for t in TIERS:
        row[f"enterprises_{t.value}"] = int(tier_counts.get(t.value, 0))
    row["enterprises"] = int(len(tiers))
    requested, placed = counts["requested_by_basis"], counts["placed_by_basis"]
    row["visits_requested"] = int(sum(requested.values()))
    row["visits_placed"] = int(counts["placed"])
    row["mandatory_requested"] = int(sum(requested.get(b, 0) for b in MANDATORY_BASES))
    row["mandatory_placed"] = int(sum(placed.get(b, 0) for b in MANDATORY_BASES))
    row["mandatory_coverage"] = (round(row["mandatory_placed"] / row["mandatory_requested"], 4)
                                 if row["mandatory_requested"] else 1.0)
    row["drawn_requested"], row["drawn_placed"] = int(requested.get("drawn", 0)), int(placed.get("drawn", 0))
    missing = {r: 0 for r in SHORTFALL_RULES}
    for entry in plan["shortfall"]["by_rule"]:
        missing[entry["rule"]] = missing.get(entry["rule"], 0) + int(entry["missing"])
    for rule, n in missing.items():
        row[f"missing_{rule}"] = int(n)
    row["missing_total"] = int(plan["shortfall"]["missing_total"])
    quarter = Quarter.parse(plan["quarter"])
    rules = district.policy.roster
    certified = district.inspectors[district.inspectors["certified"] == 1]
    limits = weekly_limits(certified, district.leave, WorkCalendar.for_quarter(quarter, rules), rules)
    capacity = sum(sum(weeks.values()) for weeks in limits.values())
    inspector_visits = sum(len(split_list(team)) for team in roster["inspectors"])
    row["inspector_visits"], row["capacity"] = int(inspector_visits), int(capacity)
    row["utilisation"] = round(inspector_visits / capacity, 4) if capacity else 0.0
    row["solver_status"] = plan["solver"]["status"]
    return row


def output_files(out: Path) -> dict[str, str]:
    """sha256 of every file under a district's output folder, by path relative to it."""
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}

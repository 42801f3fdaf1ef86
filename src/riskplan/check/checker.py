"""The independent checker: verify a published roster against every rule, from first principles.

`check_roster(district, OUT)` re-reads the district's inputs and OUT's roster.csv, tiers.csv
and plan.json (quarter, seed, shortfall), re-derives the obligations (`obligations.py`) and
the draw (`draw.py`) with its own code, and runs each rule of `ROSTER_RULES` — one function
per roster rule, named like its twin in the solver (`rules.py`, `coverage.py`). It shares no
code with the planner or the solver: only input loading, the policy model and plain
vocabulary (docs/checker.md lists exactly what, and why that is safe). A mistake in the
planner therefore shows up as a violation here instead of being agreed with.

Rule 11 (who inspects whom is random) is statistical: it is tested over many seeds, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from riskplan.load.district import District

from .context import (
    DRAW_FILE,
    PLAN_FILE,
    ROSTER_COLUMNS,
    ROSTER_FILE,
    TIERS_FILE,
    CheckContext,
    Violation,
    Visit,
    build_context,
    read_plan_json,
    read_roster_csv,
)
from .coverage import exact_draw, mandatory_coverage
from .rules import (
    cross_area,
    inputs_match_plan,
    inspector_daily_limit,
    inspector_not_on_leave,
    inspector_weekly_capacity,
    no_conflict_of_interest,
    on_working_day_in_window,
    required_qualifications_held,
    roster_well_formed,
    rotate_inspectors,
    team_of_certified_inspectors,
    tier_visit_maximum,
    visit_spacing,
)

__all__ = [
    "DRAW_FILE", "PLAN_FILE", "ROSTER_COLUMNS", "ROSTER_FILE", "ROSTER_RULES", "TIERS_FILE", "CheckContext",
    "Violation", "Visit", "build_context", "check_roster", "read_plan_json", "read_roster_csv",
] + [rule.__name__ for rule in (
    inputs_match_plan, roster_well_formed, on_working_day_in_window, team_of_certified_inspectors,
    inspector_not_on_leave, inspector_weekly_capacity, inspector_daily_limit, no_conflict_of_interest,
    required_qualifications_held, rotate_inspectors, cross_area, visit_spacing, tier_visit_maximum,
    mandatory_coverage, exact_draw)]

#: The checks, in the order of the domain's roster rules (rule 11, randomness, is statistical).
ROSTER_RULES: tuple[Callable[[CheckContext], list[Violation]], ...] = (
    inputs_match_plan,
    roster_well_formed,
    on_working_day_in_window,
    team_of_certified_inspectors,
    inspector_not_on_leave,
    inspector_weekly_capacity,
    inspector_daily_limit,
    no_conflict_of_interest,
    required_qualifications_held,
    rotate_inspectors,
    cross_area,
    visit_spacing,
    tier_visit_maximum,
    mandatory_coverage,
    exact_draw,
)


def check_roster(district: District | Path | str, out_dir: Path | str) -> list[Violation]:
    """Every violation of every roster rule in OUT/, in rule order then visit id."""
    ctx = build_context(district, out_dir)
    rules = ROSTER_RULES
    if "replan" in ctx.plan:  # a re-plan: the whole quarter, with its changes (check.replan)
        from .replan import apply_replan, replan_rules

        ctx = apply_replan(ctx)
        rules = replan_rules(ROSTER_RULES)
    out: list[Violation] = []
    for rule in rules:
        out.extend(sorted(rule(ctx), key=lambda v: (v.visit_id, v.enterprise_id, v.message)))
    if ctx.replan is not None:
        from .replan import judged

        out = judged(ctx, out)
    return out

"""The solver's input for one quarter: obligations grouped into visits, the drawn sample, and
the district's inspectors, leave, conflicts and history, as one `RosterProblem`.

Pure: from a district, its tiers, the quarter and the seed; no I/O."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from riskplan.domain.calendar import Quarter, WorkCalendar
from riskplan.domain.roster import Obligation, RosterProblem
from riskplan.load.district import District
from riskplan.plan.draw import DrawResult, draw_spot_checks
from riskplan.plan.obligations import (
    Grouping,
    as_tier_series,
    find_obligations,
    group_obligations,
    past_inspections,
    plan_fingerprint,
    plan_id,
    plan_prefix,
)

PROBLEM_ENTERPRISE_COLUMNS = ("enterprise_id", "name", "subdistrict", "lat", "lon", "hazchem",
                              "major_hazard_level", "dust_explosion", "molten_metal")


# ---------------------------------------------------------------- the pure part

@dataclass
class Prepared:
    problem: RosterProblem
    draw: DrawResult
    obligations: list[Obligation]
    grouping: Grouping
    plan_id: str = ""  # the short id in every visit id (obligations.plan_id), recorded in plan.json


def prepare(district: District, tiers_frame: pd.DataFrame, quarter: Quarter | str, seed: int,
            previous: dict | None = None) -> Prepared:
    """`previous`: the fingerprint of the previous plan whose unrecorded visits `district`'s
    inspections already hold (export.previous); it goes into the plan id."""
    quarter = Quarter.parse(quarter) if isinstance(quarter, str) else quarter
    policy = district.policy
    calendar = WorkCalendar.for_quarter(quarter, policy.roster)
    tiers = as_tier_series(tiers_frame)
    obligations = find_obligations(district, tiers, quarter, calendar)
    pid = plan_id(plan_fingerprint(district, tiers_frame, quarter, seed, previous))
    prefix = plan_prefix(quarter, pid)
    grouping = group_obligations(obligations, policy, calendar, tiers, id_prefix=prefix)
    # the frame, not just the tiers: a risk-weighted draw reads its `probability` column
    draw = draw_spot_checks(district, tiers_frame, quarter, obligations, seed, first_number=len(grouping.requests) + 1,
                            id_prefix=prefix)
    enterprises = district.enterprises[list(PROBLEM_ENTERPRISE_COLUMNS)].copy()
    enterprises["tier"] = enterprises["enterprise_id"].map(tiers)
    problem = RosterProblem(
        quarter=quarter, calendar=calendar, policy=policy,
        requests=tuple(grouping.requests) + tuple(draw.requests),
        enterprises=enterprises.reset_index(drop=True), inspectors=district.inspectors,
        leave=district.leave, conflicts=district.conflicts,
        past_inspections=past_inspections(district, quarter).reset_index(drop=True),
    )
    return Prepared(problem, draw, obligations, grouping, pid)


def build_problem(district: District, tiers_frame: pd.DataFrame, quarter: Quarter | str,
                  seed: int) -> tuple[RosterProblem, DrawResult, list[Obligation]]:
    """The solver's input for one quarter, with the draw and the obligations behind it."""
    p = prepare(district, tiers_frame, quarter, seed)
    return p.problem, p.draw, p.obligations

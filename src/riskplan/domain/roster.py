"""The roster's vocabulary: obligations, visit requests, placed visits, shortfall.

Pipeline: obligations (who must be visited, `obligations.py`) and the drawn sample
(`draw.py`) become `VisitRequest`s; the solver (`solver.py`) turns requests into a
`Roster` of `PlacedVisit`s plus the `Unplaced` ones with their reasons; the checker
(`checker.py`) verifies a roster from first principles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from riskplan.domain.calendar import Quarter

if TYPE_CHECKING:
    import pandas as pd

    from riskplan.domain.calendar import WorkCalendar
    from riskplan.domain.policy import Policy

#: Basis of a visit, most binding first; a visit serving several obligations takes the first.
BASES = ("mandatory", "follow_up", "pinned", "drawn")


@dataclass(frozen=True)
class Obligation:
    """Something the policy says must happen to one enterprise this quarter.

    kind: red_month_1 | red_month_2 | red_month_3 | orange_due | follow_up_hazard |
    follow_up_accident | pinned_<n> (n = the pinned table's spreadsheet row).
    basis: mandatory (tier rules) | follow_up | pinned.
    """

    enterprise_id: str
    kind: str
    basis: str
    window_start: date
    window_end: date
    reason: str = ""


@dataclass(frozen=True)
class VisitRequest:
    """One visit the roster should place: mandatory unless `basis == "drawn"`.

    `obligations` lists the obligation kinds this visit serves (empty for a drawn visit);
    the window is the intersection of theirs.
    """

    visit_id: str
    enterprise_id: str
    basis: str
    obligations: tuple[str, ...]
    window_start: date
    window_end: date

    @property
    def mandatory(self) -> bool:
        return self.basis != "drawn"


@dataclass(frozen=True)
class PlacedVisit:
    request: VisitRequest
    date: date
    inspectors: tuple[str, ...]


@dataclass(frozen=True)
class Unplaced:
    """A requested visit the roster could not place, with the reason in plain words."""

    request: VisitRequest
    reason: str


@dataclass
class Roster:
    quarter: Quarter
    visits: list[PlacedVisit] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)


@dataclass(frozen=True)
class RosterProblem:
    """Everything the solver needs for one quarter, already resolved (pure input).

    enterprises: enterprise_id, name, subdistrict, lat, lon, hazchem, major_hazard_level,
        dust_explosion, molten_metal, tier (red|orange|yellow|blue) — one row per enterprise.
    inspectors, leave, conflicts: the district's tables as loaded.
    past_inspections: the district's `inspections` table (visits before the quarter).
    requests: the visits to place, mandatory first (`VisitRequest.mandatory`), then drawn.
    """

    quarter: Quarter
    calendar: "WorkCalendar"
    policy: "Policy"
    requests: tuple[VisitRequest, ...]
    enterprises: "pd.DataFrame"
    inspectors: "pd.DataFrame"
    leave: "pd.DataFrame"
    conflicts: "pd.DataFrame"
    past_inspections: "pd.DataFrame"


@dataclass
class SolveResult:
    """A roster and how it was found.

    status: the solver's outcome in words (e.g. "OPTIMAL", "FEASIBLE", "GREEDY_FALLBACK").
    objective: the soft objective's parts by name; bound: a lower bound on the total (None if
    none was computed). shortfall: one row per unmet need with columns
    rule, tier, subdistrict, month, missing, reason, suggestion.
    fallback: why the roster is the greedy fallback (one of FALLBACK_REASONS), None when the
    solver finished: a plan built on a fallback must say so, or nobody can tell it is weaker.
    fallback_detail: the message of what stopped the solve.
    """

    roster: Roster
    status: str
    objective: dict[str, float]
    bound: float | None
    wall_time: float
    shortfall: "pd.DataFrame"
    fallback: str | None = None
    fallback_detail: str = ""


# why a solve fell back to the greedy roster -> the status plan.json records for it
FALLBACK_REASONS = {"user interrupt": "INTERRUPTED", "time limit": "TIME_LIMIT",
                    "no week plan": "NO_WEEK_PLAN"}


def required_qualifications(enterprise: "pd.Series | dict", policy: "Policy") -> frozenset[str]:
    """Qualifications at least one team member must hold, from the enterprise's hazards."""
    q = policy.qualifications
    need = set()
    if enterprise["hazchem"] != "none":
        need.add(q.hazchem)
    if int(enterprise["major_hazard_level"]) >= 1:
        need.add(q.major_hazard)
    if int(enterprise["dust_explosion"]) == 1:
        need.add(q.dust_explosion)
    if int(enterprise["molten_metal"]) == 1:
        need.add(q.molten_metal)
    return frozenset(need)

"""The roster's vocabulary: obligations, visit requests, placed visits, shortfall.

Pipeline: obligations (who must be visited, `obligations.py`) and the drawn sample
(`draw.py`) become `VisitRequest`s; the solver (`solver.py`) turns requests into a
`Roster` of `PlacedVisit`s plus the `Unplaced` ones with their reasons; the checker
(`checker.py`) verifies a roster from first principles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .calendar import Quarter

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

"""The compiled problem: arrays indexed by inspector, working day, ISO week and enterprise."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from riskplan.domain.roster import RosterProblem, VisitRequest

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


# --------------------------------------------------------------------------------------
# The compiled instance: arrays indexed by inspector, working day, ISO week, enterprise.
# --------------------------------------------------------------------------------------


@dataclass
class Instance:
    """A RosterProblem as arrays (only enterprises with requests are compiled)."""

    problem: RosterProblem
    team_size: int
    day_limit: int
    min_gap: int
    rotate: bool
    cross: bool
    days: tuple[date, ...]
    day_ord: np.ndarray  # D: date ordinal of each working day
    week_of_day: np.ndarray  # D
    weeks: tuple[tuple[int, int], ...]
    week_days: list[list[int]]  # W -> day indices
    insp_ids: list[str]
    certified: np.ndarray  # I bool
    qual: dict[str, np.ndarray]  # qualification -> I bool
    home: np.ndarray  # I int, -1 = district brigade
    on_leave: np.ndarray  # I x D bool
    wlim: np.ndarray  # I x W int
    subs: list[str]
    ent_ids: list[str]
    ent_sub: np.ndarray  # E
    ent_tier: list[str]
    ent_need: list[tuple[str, ...]]
    ent_max: np.ndarray  # E
    ent_conflict: list[np.ndarray]
    ent_prev_team: list[tuple[int, ...]]
    ent_last_past: np.ndarray  # E, date ordinal of the last past visit (very small if none)
    requests: tuple[VisitRequest, ...]
    req_ent: np.ndarray  # R
    req_lo: np.ndarray  # R first working-day index in the window
    req_hi: np.ndarray  # R last working-day index (hi < lo: no working day)
    req_mandatory: np.ndarray  # R bool
    sub_mask: np.ndarray = field(default=None)  # S x I: certified and allowed by cross_area

    @property
    def I(self) -> int:  # noqa: E743
        return len(self.insp_ids)

    @property
    def D(self) -> int:
        return len(self.days)

    @property
    def W(self) -> int:
        return len(self.weeks)

    def capacity(self) -> np.ndarray:
        """I: each certified inspector's usable visits in the quarter (week and day limits)."""
        per_week = np.zeros_like(self.wlim)
        avail = ~self.on_leave
        for w, ds in enumerate(self.week_days):
            per_week[:, w] = np.minimum(self.wlim[:, w], self.day_limit * avail[:, ds].sum(axis=1))
        return per_week.sum(axis=1) * self.certified


def _empty_home(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""

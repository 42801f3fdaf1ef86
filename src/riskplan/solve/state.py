"""The mutable state of a partial roster: loads and placed visits, changed only through
`State.place` and `State.remove` so the day and week loads stay exact."""

from __future__ import annotations

import bisect
from collections import defaultdict

import numpy as np

from riskplan.solve.instance import Instance
from riskplan.solve.rules import inspector_daily_limit, inspector_weekly_capacity

# --------------------------------------------------------------------------------------
# Mutable state of a partial roster.
# --------------------------------------------------------------------------------------


class State:
    """Loads and placed visits; every change goes through `place` / `remove`."""

    def __init__(self, inst: Instance):
        self.inst = inst
        self.day_load = np.zeros((inst.I, inst.D), dtype=np.int64)
        self.week_load = np.zeros((inst.I, inst.W), dtype=np.int64)
        self.placed: dict[int, tuple[int, tuple[int, ...]]] = {}
        self.ent_visits: list[list[tuple[int, tuple[int, ...], int]]] = [[] for _ in inst.ent_ids]
        self.stops: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)  # (day, sub) -> inspector -> visits
        #: the weekly limits placements respect: the true ones, or lower ones while planning
        self.wcap = inst.wlim
        self.by_insp_week: dict[tuple[int, int], set[int]] = defaultdict(set)
        self.by_week: dict[int, set[int]] = defaultdict(set)
        #: placed requests no pass may lift, move or re-team (a re-plan's visits before its
        #: --from date or already done); only `place` / `remove` by their owner touch them
        self.frozen: set[int] = set()
        self._refresh_free()

    def _refresh_free(self) -> None:
        """free[i, d]: inspector i can take one more visit on day d: rule 3 (both limits, from
        `solve.rules`), cached here and kept current by `place` / `remove`."""
        days = np.arange(self.inst.D)
        self.free = inspector_daily_limit(self.inst, self, days) & inspector_weekly_capacity(self.inst, self, days)

    def _update_free(self, team: tuple[int, ...], w: int) -> None:
        """Re-evaluate rule 3 for the team's members on every day of week w."""
        ds = np.asarray(self.inst.week_days[w])
        rows = np.asarray(team, dtype=np.int64)
        ok = inspector_daily_limit(self.inst, self, ds) & inspector_weekly_capacity(self.inst, self, ds)
        self.free[np.ix_(rows, ds)] = ok[rows]

    def even_weeks(self, on: bool) -> None:
        """While on, weekly limits are rounded down to whole days (multiples of the daily limit),
        so inspector-weeks fill with full team-days; repair turns it off to use the rest."""
        k = self.inst.day_limit
        self.wcap = (self.inst.wlim // k) * k if on else self.inst.wlim
        self._refresh_free()

    def place(self, r: int, d: int, team: tuple[int, ...]) -> None:
        inst = self.inst
        w = int(inst.week_of_day[d])
        self.placed[r] = (d, team)
        e = int(inst.req_ent[r])
        bisect.insort(self.ent_visits[e], (d, team, r))
        st = self.stops[(d, int(inst.ent_sub[e]))]
        for i in team:
            self.day_load[i, d] += 1
            self.week_load[i, w] += 1
            st[i] = st.get(i, 0) + 1
            self.by_insp_week[(i, w)].add(r)
        self._update_free(team, w)
        self.by_week[w].add(r)

    def remove(self, r: int) -> tuple[int, tuple[int, ...]]:
        inst = self.inst
        d, team = self.placed.pop(r)
        w = inst.week_of_day[d]
        idx = list(team)
        self.day_load[idx, d] -= 1
        self.week_load[idx, w] -= 1
        e = inst.req_ent[r]
        self.ent_visits[e].remove((d, team, r))
        st = self.stops[(d, int(inst.ent_sub[e]))]
        for i in team:
            st[i] -= 1
            if st[i] == 0:
                del st[i]
            self.by_insp_week[(i, int(w))].discard(r)
        self.by_week[int(w)].discard(r)
        self._update_free(team, int(w))
        return d, team

    def loads(self) -> np.ndarray:
        return self.week_load.sum(axis=1)

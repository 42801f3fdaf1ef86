"""From the solver's state to a `Roster` and back."""

from __future__ import annotations

import pandas as pd

from riskplan.domain.roster import PlacedVisit, Roster, Unplaced
from riskplan.i18n import _
from riskplan.solve.instance import Instance
from riskplan.solve.rules import required_qualifications_held
from riskplan.solve.state import State


def build_roster(inst: Instance, state: State, reasons: dict[int, str]) -> Roster:
    """PlacedVisits sorted by date then visit id; unplaced ones with their reasons, mandatory first.

    A last cheap self-check on every visit (team size, distinct members, qualifications):
    placements are valid by construction, so a failure here is a bug, never a roster.
    """
    visits = []
    for r, (d, team) in state.placed.items():
        e = int(inst.req_ent[r])
        if len(set(team)) != inst.team_size or not required_qualifications_held(inst, e, team):
            raise RuntimeError(_("internal error: visit {visit_id} got an invalid team {team}").format(
                visit_id=inst.requests[r].visit_id, team=team))
        visits.append(PlacedVisit(inst.requests[r], inst.days[d], tuple(sorted(inst.insp_ids[i] for i in team))))
    visits.sort(key=lambda v: (v.date, v.request.visit_id))
    unplaced = [Unplaced(inst.requests[r], reasons[r]) for r in sorted(reasons, key=lambda r: (
        not inst.req_mandatory[r], r))]
    return Roster(inst.problem.quarter, visits, unplaced)


def state_from_roster(inst: Instance, roster: Roster) -> State:
    """Re-load a roster's placed visits into a State (for diagnosis of any roster)."""
    state = State(inst)
    by_id = {r.visit_id: k for k, r in enumerate(inst.requests)}
    ins = {x: k for k, x in enumerate(inst.insp_ids)}
    for v in roster.visits:
        r = by_id.get(v.request.visit_id)
        if r is None or v.date not in inst.problem.calendar.index:
            continue
        state.place(r, inst.problem.calendar.index[v.date], tuple(ins[i] for i in v.inspectors if i in ins))
    return state


def _empty_shortfall() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in
                         ("rule", "tier", "subdistrict", "month", "missing", "reason", "suggestion")})

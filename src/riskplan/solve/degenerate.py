"""Inputs on which no visit at all can be placed, said once and plainly.

A quarter without a working day, a district without `team_size` certified inspectors, or
certified inspectors whose capacity rounds to nothing on every day: the solver would run,
return "feasible" and list every request as shortfall with one suggestion per month and
qualification. Instead `solve_roster` raises `NothingToPlan` (a `DistrictError`, so the
command line exits 2 and writes nothing), naming the root cause: the calendar before the
inspectors, certification before capacity.
"""

from __future__ import annotations

import numpy as np

from riskplan.i18n import _, ngettext
from riskplan.load.problems import DistrictError, Problem
from riskplan.solve.instance import Instance
from riskplan.solve.rules import inspector_not_on_leave, team_of_certified_inspectors, weekly_slots


class NothingToPlan(DistrictError):
    """No visit can be placed in the quarter; `problems` holds the one root cause."""


def nothing_to_plan(inst: Instance) -> Problem | None:
    """The root cause that rules out every placement, or None when some visit could be placed.

    Only asked when there are requests: a quarter with nothing to place has nothing to refuse.
    """
    if not inst.requests:
        return None
    quarter = str(inst.problem.quarter)
    if inst.D == 0:
        return Problem("policy.toml", _("the quarter {quarter} has no working day (the holidays cover every weekday): "
                                        "nothing can be planned").format(quarter=quarter),
                       column="holidays", cause=True)
    t = inst.team_size
    cert = team_of_certified_inspectors(inst)
    n_cert = int(cert.sum())
    if n_cert < t:
        return Problem("inspectors.csv", ngettext(
            "{count} certified inspector, and a visit needs a team of {team_size}: nothing can be planned",
            "{count} certified inspectors, and a visit needs a team of {team_size}: nothing can be planned",
            n_cert).format(count=n_cert, team_size=t),
                       column="certified", cause=True)
    # a day on which at least team_size certified inspectors off leave have room in their week
    slots = weekly_slots(inst)  # I x W, rule 3 on an empty roster
    room = slots[:, inst.week_of_day] > 0  # I x D
    able = cert[:, None] & room & inspector_not_on_leave(inst, np.arange(inst.D))
    if not (able.sum(axis=0) >= t).any():
        return Problem("inspectors.csv", _(
            "the certified inspectors can make no visit in {quarter}: on every working day fewer than {team_size} "
            "of them have any capacity (weekly_capacity, capacity_reserve, leave): nothing can be planned").format(
                           quarter=quarter, team_size=t),
                       column="weekly_capacity", cause=True)
    return None

"""The roster rules, each written once, numbered and named as in docs/rules.md (the checker's
rule functions carry the same names).

Every pass of the solver, the greedy roster and the shortfall diagnosis ask these functions
which inspectors may go on a visit on a day; none of them writes a rule again, so a pass
cannot drift from the others. The rules read the compiled arrays of `Instance` and the loads
of `State`; nothing outside this module (and the modules that build those arrays) reads
them to decide eligibility (`tests/test_solve_rules.py` guards that).

Shapes: `d` is one working-day index or an array of them. Per-inspector rules then return an
inspector mask (I) or an inspectors x days mask (I x len(d)); per-visit rules return a bool
or a bool per day. `visit` (a request id already placed) lifts that visit: the rule is then
asked for the same visit with another team, so its own placement neither counts against
its enterprise's spacing and maximum nor makes its own neighbours' teams its neighbours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from riskplan.solve.instance import Instance
    from riskplan.solve.state import State


def _days(d) -> np.ndarray:
    return np.atleast_1d(np.asarray(d, dtype=np.int64))


# --------------------------------------------------------------------------------------
# Rules 1-9 of docs/rules.md (rule 11, the random team, is `teams.random_assignment`).
# --------------------------------------------------------------------------------------


def on_working_day_in_window(inst: Instance, r: int) -> range:
    """Rule 1: the working days (indices) inside request r's window (empty: none)."""
    return range(int(inst.req_lo[r]), int(inst.req_hi[r]) + 1)


def team_of_certified_inspectors(inst: Instance) -> np.ndarray:
    """Rule 2: the inspectors who may be on a team at all (certified); a team has team_size
    distinct ones (`team_possible`, `required_qualifications_held` callers check the size)."""
    return inst.certified.copy()


def inspector_not_on_leave(inst: Instance, d) -> np.ndarray:
    """Rule 2: inspectors not on leave on day d (I), or on each of days d (I x len(d))."""
    return ~inst.on_leave[:, d]


def inspector_weekly_capacity(inst: Instance, state: State, d, n: int = 1) -> np.ndarray:
    """Rule 3: inspectors who can take n more visits in day d's ISO week (I or I x len(d)).

    The limit is `state.wcap`: the true floor(capacity x (1 - reserve) x available days / 5)
    (`Instance.wlim`), or the whole-day rounding phase 2 plans with (`State.even_weeks`)."""
    w = inst.week_of_day[d]
    return state.week_load[:, w] + n <= state.wcap[:, w]


def inspector_daily_limit(inst: Instance, state: State, d, n: int = 1) -> np.ndarray:
    """Rule 3: inspectors who can take n more visits on day d (I or I x len(d))."""
    return state.day_load[:, d] + n <= inst.day_limit


def no_conflict_of_interest(inst: Instance, e: int) -> np.ndarray:
    """Rule 4: inspectors without a declared conflict with enterprise e (I)."""
    ok = np.ones(inst.I, bool)
    ok[inst.ent_conflict[e]] = False
    return ok


def required_qualifications_held(inst: Instance, e: int, team: tuple[int, ...],
                                 with_one_of: np.ndarray | None = None):
    """Rule 5: every qualification enterprise e's hazards require is held by a team member.

    With `with_one_of` (an inspector mask), `team` is the team less one seat: returns the
    inspectors of the mask with whom the team holds every requirement (the one-seat
    replacements the polish passes and the swap in repair look for)."""
    need = inst.ent_need[e]
    if with_one_of is None:
        return all(any(inst.qual[q][i] for i in team) for q in need)
    out = with_one_of.copy()
    for q in need:
        if not any(inst.qual[q][i] for i in team):
            out &= inst.qual[q]
    return out


def rotate_inspectors(inst: Instance, state: State, e: int, d, visit: int | None = None,
                      strict: bool = False) -> np.ndarray:
    """Rule 6: inspectors allowed on a visit to e on day d (I), or on each of days d (I x len(d)).

    Excluded: the team of e's visit just before d (the previous past team, the union of all
    visits on the latest past date, when d would be the quarter's first), of the visit just
    after d and of visits on d itself, so that date-ordered neighbours never share anyone.
    `visit`: that placed visit is lifted (its team is being changed). `strict`: every team of
    the enterprise and the previous past team are excluded whatever the day (simpler, still
    valid; the greedy roster's choice).
    """
    days = _days(d)
    out = np.ones((inst.I, len(days)), bool)
    visits = [v for v in state.ent_visits[e] if v[2] != visit]
    prev = inst.ent_prev_team[e]
    if inst.rotate and (visits or prev):
        if strict:
            for v in visits:
                out[list(v[1]), :] = False
            if prev:
                out[list(prev), :] = False
        else:
            vdays = [v[0] for v in visits]  # sorted: ent_visits is kept in date order
            cache: dict[tuple[int, int], np.ndarray] = {}
            for k, dk in enumerate(days):
                nb = sum(1 for x in vdays if x < dk)
                ns = sum(1 for x in vdays if x == dk)
                key = (nb, ns)
                if key not in cache:
                    ok = np.ones(inst.I, bool)
                    if nb:
                        ok[list(visits[nb - 1][1])] = False
                    elif prev:
                        ok[list(prev)] = False
                    if nb + ns < len(visits):
                        ok[list(visits[nb + ns][1])] = False
                    for v in visits[nb:nb + ns]:
                        ok[list(v[1])] = False
                    cache[key] = ok
                out[:, k] = cache[key]
    return out if np.ndim(d) else out[:, 0]


def cross_area(inst: Instance, s: int) -> np.ndarray:
    """Rule 7: with cross_area, subdistrict-based inspectors never visit their home subdistrict s;
    district-brigade inspectors (no home) go anywhere (I)."""
    if not inst.cross:
        return np.ones(inst.I, bool)
    return inst.home != s


def visit_spacing(inst: Instance, state: State, e: int, d, visit: int | None = None):
    """Rule 8: a visit to e on day d is >= min_days_between_visits from its other visits and from
    the last past one (bool, or a bool per day of d). `visit`: that placed visit is lifted."""
    o = inst.day_ord[d]
    ok = o - inst.ent_last_past[e] >= inst.min_gap
    for v in state.ent_visits[e]:
        if v[2] != visit:
            ok = ok & (np.abs(o - inst.day_ord[v[0]]) >= inst.min_gap)
    return ok if np.ndim(d) else bool(ok)


def tier_visit_maximum(inst: Instance, state: State, e: int, visit: int | None = None) -> bool:
    """Rule 8: enterprise e may take one more visit within its tier's max_visits_per_quarter."""
    n = sum(1 for v in state.ent_visits[e] if v[2] != visit)
    return n < int(inst.ent_max[e])


def mandatory_coverage(inst: Instance, rng: np.random.Generator | None = None) -> np.ndarray:
    """Rule 9: the order requests are served in: mandatory ones first, then drawn (each group in
    a seeded random order when rng is given). The week plan weights mandatory placements
    above all drawn ones together (`plan_weeks`), and repair may displace drawn visits."""
    mand, drawn = np.flatnonzero(inst.req_mandatory), np.flatnonzero(~inst.req_mandatory)
    if rng is not None:
        mand, drawn = rng.permutation(mand), rng.permutation(drawn)
    return np.concatenate([mand, drawn]).astype(int)


# --------------------------------------------------------------------------------------
# Compositions of the rules: what the passes ask.
# --------------------------------------------------------------------------------------


def holders_of(inst: Instance, q: str) -> np.ndarray:
    """Inspectors holding qualification q (I; none when nobody declares it): for drawing teams
    that hold it and for counting its capacity; rule 5 itself is `required_qualifications_held`."""
    h = inst.qual.get(q)
    return h.copy() if h is not None else np.zeros(inst.I, bool)


def inspector_has_room(inst: Instance, state: State, d) -> np.ndarray:
    """Rule 3, both limits, for one more visit on d: `State.free`, which the state keeps equal
    to inspector_daily_limit & inspector_weekly_capacity as loads change."""
    return state.free[:, d]


def visits_left(inst: Instance, state: State, d) -> np.ndarray:
    """Rule 3 as a count: visits each inspector can still take on day d (day and week limits)."""
    w = inst.week_of_day[d]
    return np.maximum(np.minimum(inst.day_limit - state.day_load[:, d], state.wcap[:, w] - state.week_load[:, w]), 0)


def free_slots(inst: Instance, state: State, days: list[int]) -> np.ndarray:
    """Visits each certified inspector can still take over `days` (rules 2 and 3: leave, the
    daily limit per day, the weekly limits of the weeks the days touch)."""
    free_day = np.maximum(inst.day_limit - state.day_load[:, days], 0) * inspector_not_on_leave(inst, days)
    weeks = sorted({int(inst.week_of_day[d]) for d in days})
    free_week = np.maximum(state.wcap[:, weeks] - state.week_load[:, weeks], 0).sum(axis=1)
    return np.minimum(free_day.sum(axis=1), free_week) * team_of_certified_inspectors(inst)


def weekly_slots(inst: Instance) -> np.ndarray:
    """I x W: the most visits each inspector can take each ISO week on an empty roster (rule 3's
    weekly limit, and the daily limit on each day not on leave)."""
    out = np.zeros_like(inst.wlim)
    for w, ds in enumerate(inst.week_days):
        out[:, w] = np.minimum(inst.wlim[:, w], inst.day_limit * inspector_not_on_leave(inst, ds).sum(axis=1))
    return out


def team_possible(inst: Instance, e: int, M: np.ndarray, exact: bool = False) -> np.ndarray:
    """Per column of M (inspectors x days): can team_size members of M hold every qualification
    e needs (rules 2 and 5)? exact=True also settles, by greedy cover, the rare case of more
    needs than seats (the shortfall diagnosis); otherwise one holder per need is asked."""
    need = inst.ent_need[e]
    ok = M.sum(axis=0) >= inst.team_size
    for q in need:
        ok &= (M & holders_of(inst, q)[:, None]).any(axis=0)
    if exact and len(need) > inst.team_size:
        H = np.stack([holders_of(inst, q) for q in need], axis=1)  # I x nq
        for k in np.flatnonzero(ok):
            open_q = np.ones(len(need), bool)
            rows = H[M[:, k]]
            for _ in range(inst.team_size):
                if not open_q.any() or not len(rows):
                    break
                best = int(np.argmax((rows & open_q).sum(axis=1)))
                open_q &= ~rows[best]
            ok[k] = not open_q.any()
    return ok


def eligible_inspectors(inst: Instance, state: State, r: int, d: int, n: int = 1, *,
                        capacity: bool = True, visit: int | None = None) -> np.ndarray | None:
    """Inspectors who may join request r's team on day d (I), rules 1-4 and 6-8; None when the day
    itself is ruled out (window, spacing, tier maximum). Rule 5 is asked of the whole team.

    n: visits the inspector would take that day (rule 3). capacity=False leaves rule 3 out
    (who could go if a slot were freed). visit: r is placed and its team is being changed."""
    e = int(inst.req_ent[r])
    d = int(d)
    if d not in on_working_day_in_window(inst, r):
        return None
    if not tier_visit_maximum(inst, state, e, visit) or not visit_spacing(inst, state, e, d, visit):
        return None
    # rules 2 and 7: compile stores team_of_certified_inspectors & cross_area per subdistrict
    mask = inst.sub_mask[inst.ent_sub[e]] & inspector_not_on_leave(inst, d)
    if capacity:
        if n == 1:
            mask &= inspector_has_room(inst, state, d)
        else:
            mask &= inspector_daily_limit(inst, state, d, n) & inspector_weekly_capacity(inst, state, d, n)
    mask &= no_conflict_of_interest(inst, e)
    mask &= rotate_inspectors(inst, state, e, d, visit)
    return mask


def eligible_matrix(inst: Instance, state: State, r: int, capacity: bool = True,
                    strict_rotation: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`eligible_inspectors` on every day of r's window at once: (days, I x days mask, days on
    which a team is possible). Empty when the window has no day or the tier maximum is reached."""
    days = np.array(on_working_day_in_window(inst, r), dtype=np.int64)
    e = int(inst.req_ent[r])
    if not len(days) or not tier_visit_maximum(inst, state, e):
        return days[:0], np.zeros((inst.I, 0), bool), np.zeros(0, bool)
    M = inst.sub_mask[inst.ent_sub[e]][:, None] & inspector_not_on_leave(inst, days)
    if capacity:
        M &= inspector_has_room(inst, state, days)
    M &= no_conflict_of_interest(inst, e)[:, None]
    M &= rotate_inspectors(inst, state, e, days, strict=strict_rotation)
    ok = visit_spacing(inst, state, e, days) & team_possible(inst, e, M)
    return days, M, ok


def feasible_days(inst: Instance, state: State, r: int, capacity: bool = True) -> np.ndarray:
    """Days of r's window on which the rules leave a team possible (all days evaluated at once).

    capacity=False ignores the day and week limits (the days where freeing a slot could help).
    """
    days, _, ok = eligible_matrix(inst, state, r, capacity)
    return days[ok]

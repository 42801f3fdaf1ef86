"""The second random draw: a random team among the eligible inspectors (rule 11), and placing
one request on one day with it."""

from __future__ import annotations

import numpy as np

from riskplan.solve.instance import Instance
from riskplan.solve.rules import eligible_inspectors, holders_of, inspector_has_room
from riskplan.solve.state import State


def random_assignment(
    inst: Instance,
    rng: np.random.Generator,
    mask: np.ndarray,
    need: tuple[str, ...],
    weights: np.ndarray | None = None,
    preferred: np.ndarray | None = None,
    max_preferred: int | None = None,
    scarcity: dict[str, float] | None = None,
) -> tuple[int, ...] | None:
    """Rule 11: a random team among the eligible (`mask`) that holds every needed qualification.

    Weighted sampling without replacement (Efraimidis-Spirakis keys u^(1/w) from the seeded
    generator): every eligible inspector can be chosen, inspectors behind their load target a
    little more often, holders of scarce qualifications the visit does not need (`scarcity`:
    qualification -> weight factor) less often. `preferred` inspectors (already in the
    subdistrict that day) are taken first, at most `max_preferred` of them, to share the trip.
    Among qualified holders the first one needed is taken, then the rest of the team.
    """
    t = inst.team_size
    cand = np.flatnonzero(mask)
    if len(cand) < t:
        return None
    held = {q: holders_of(inst, q) for q in need}
    for q in need:  # cheap refusal before any random draw
        if not held[q][cand].any():
            return None
    u = rng.random(len(cand))
    if weights is None and not scarcity and (preferred is None or not len(preferred)):
        # uniform among the eligible: the largest of i.i.d. uniform keys, holders first where needed
        keys = u.copy()
        team: list[int] = []
        for q in need:
            if any(held[q][i] for i in team):
                continue
            if len(team) >= t:
                return None
            j = int(np.argmax(np.where(held[q][cand], keys, -1.0)))
            if keys[j] < 0 or not held[q][cand[j]]:
                return None
            team.append(int(cand[j]))
            keys[j] = -1.0
        while len(team) < t:
            j = int(np.argmax(keys))
            if keys[j] < 0:
                return None
            team.append(int(cand[j]))
            keys[j] = -1.0
        return tuple(sorted(team))
    w = weights[cand] if weights is not None else np.ones(len(cand))
    w_fill = w
    if scarcity:
        # holders of a scarce qualification this visit does not need are kept for visits that do;
        # once a needed qualification is covered, further holders of it are not needed either
        for q, factor in scarcity.items():
            pen = np.where(holders_of(inst, q)[cand], factor, 1.0)
            w_fill = w_fill * pen
            if q not in need:
                w = w * pen
    logu = np.log(u + 1e-300)
    key_need = logu / w  # Efraimidis-Spirakis: the largest keys are a weighted sample
    key_fill = key_need if w_fill is w else logu / w_fill
    pref = np.zeros(len(cand), bool)
    budget = 0
    if preferred is not None and len(preferred):
        full = np.zeros(inst.I, bool)
        full[preferred] = True
        pref = full[cand]
        budget = t if max_preferred is None else max_preferred
    taken = np.zeros(len(cand), bool)
    team: list[int] = []

    def pick(filt: np.ndarray | None) -> bool:
        nonlocal budget
        keys = key_need if filt is not None else key_fill
        ok = ~taken if filt is None else (~taken & filt[cand])
        if not ok.any():
            return False
        for c in ((ok & pref) if budget > 0 else None, ok & ~pref, ok):
            if c is not None and c.any():
                j = int(np.argmax(np.where(c, keys, -np.inf)))
                taken[j] = True
                team.append(int(cand[j]))
                if pref[j] and budget > 0:
                    budget -= 1
                return True
        return False

    for q in need:
        holders = held[q]
        if any(holders[i] for i in team):
            continue
        if len(team) >= t or not pick(holders):
            return None
    while len(team) < t:
        if not pick(None):
            return None
    return tuple(sorted(team))


def try_place(
    inst: Instance,
    state: State,
    rng: np.random.Generator,
    r: int,
    d: int,
    weights: np.ndarray | None = None,
    max_preferred: int | None = None,
    scarcity: dict[str, float] | None = None,
) -> bool:
    """Place request r on day d with a random eligible team, sharing the subdistrict's day if possible."""
    if inspector_has_room(inst, state, d).sum() < inst.team_size:  # the day is full: skip the other rules
        return False
    mask = eligible_inspectors(inst, state, r, d)
    if mask is None:
        return False
    e = int(inst.req_ent[r])
    st = state.stops.get((d, int(inst.ent_sub[e])))
    preferred = np.array(sorted(st), dtype=np.int64) if st else None
    team = random_assignment(inst, rng, mask, inst.ent_need[e], weights, preferred, max_preferred, scarcity)
    if team is None:
        return False
    state.place(r, d, team)
    return True


# --------------------------------------------------------------------------------------
# Phase 2: concrete days and teams, week by week.
# --------------------------------------------------------------------------------------


def _load_weights(inst: Instance, state: State, target: np.ndarray, cum_share: np.ndarray) -> np.ndarray:
    """Sampling weight per inspector: > 1 when behind their pro-rated load target, < 1 when ahead."""
    behind = target * cum_share - state.loads()
    return np.clip(np.exp(behind / 2.0), 0.2, 5.0)

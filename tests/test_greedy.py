"""The randomized greedy roster: valid by construction, mandatory first, seeded, quick."""

from __future__ import annotations

import time

from test_solver import entropy_over_seeds, make_problem, violations

from riskplan.solve.greedy import greedy_roster
from riskplan.solve.solve import solve_roster


def test_greedy_roster_is_valid_and_places_mandatory_first():
    p = make_problem(3, n_insp=9, capacity=(1, 2), n_drawn=60, n_red=4, n_orange=6, leave_share=0.0)
    roster = greedy_roster(p, 3)
    assert violations(p, roster) == []
    unplaced = {u.request.visit_id for u in roster.unplaced}
    assert len(roster.visits) + len(unplaced) == len(p.requests)
    drawn_placed = sum(not v.request.mandatory for v in roster.visits)
    mandatory_unplaced = sum(u.request.mandatory for u in roster.unplaced)
    assert mandatory_unplaced <= 2 and drawn_placed < 60
    assert all(u.reason for u in roster.unplaced)


def test_greedy_is_deterministic_by_seed():
    p = make_problem(22)
    key = lambda r: [(v.request.visit_id, v.date, v.inspectors) for v in r.visits]  # noqa: E731
    assert key(greedy_roster(p, 5)) == key(greedy_roster(p, 5))
    assert key(greedy_roster(p, 5)) != key(greedy_roster(p, 6))


def test_greedy_is_quick():
    p = make_problem(23, n_ent=2000, n_insp=40, n_red=40, n_orange=80, n_drawn=300)
    t0 = time.perf_counter()
    roster = greedy_roster(p, 1)
    assert time.perf_counter() - t0 < 2.0
    assert violations(p, roster) == []


def test_greedy_spreads_inspectors_over_seeds():
    p = make_problem(24, n_ent=80, n_insp=12, n_red=0, n_orange=0, n_follow=0, n_pinned=0, n_drawn=20,
                     n_conflicts=0, hazard_share=0.0, leave_share=0.0)
    assert entropy_over_seeds(p, range(20), lambda prob, s: greedy_roster(prob, s)) > 0.85


def test_solver_falls_back_to_greedy_when_interrupted(monkeypatch):
    import riskplan.solve.solve as solver

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(solver, "plan_weeks", interrupted)
    p = make_problem(25)
    t0 = time.perf_counter()
    res = solve_roster(p, seed=1, time_limit=30)
    assert res.status == "GREEDY_FALLBACK"
    assert time.perf_counter() - t0 < 2.0
    assert violations(p, res.roster) == []
    assert len(res.roster.visits) + len(res.roster.unplaced) == len(p.requests)


def test_solver_falls_back_to_greedy_on_timeout():
    p = make_problem(26)
    res = solve_roster(p, seed=1, time_limit=0.0)
    assert res.status == "GREEDY_FALLBACK"
    assert violations(p, res.roster) == []

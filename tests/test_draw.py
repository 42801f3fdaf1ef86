"""The first random draw: exact stratified quotas, eligibility, reproducibility by seed."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskplan.calendar import Quarter
from riskplan.district import District, empty_table
from riskplan.draw import draw_spot_checks, tier_quotas
from riskplan.policy import Policy, PolicyError
from riskplan.roster import Obligation
from riskplan.schema import TABLES_BY_NAME

Q1 = Quarter(2027, 1)


def in_memory_district(strata: dict[str, int], tier: str = "yellow", policy: Policy | None = None,
                       inspections: pd.DataFrame | None = None) -> tuple[District, pd.Series]:
    """A district held in memory (fast enough for property tests): strata name -> enterprises."""
    ids, subs = [], []
    for name, n in strata.items():
        ids += [f"{name}-{i:03d}" for i in range(n)]
        subs += [name] * n
    ent = empty_table(TABLES_BY_NAME["enterprises"]).reindex(range(len(ids)))
    ent["enterprise_id"], ent["name"], ent["subdistrict"] = ids, ids, subs
    tables = {name: empty_table(TABLES_BY_NAME[name]) for name in
              ("accidents", "inspections", "inspectors", "leave", "conflicts", "pinned")}
    if inspections is not None:
        tables["inspections"] = inspections
    district = District(path=Path("."), enterprises=ent, policy=policy or Policy(), **tables)
    return district, pd.Series(tier, index=ids)


def reference_draw(eligible: dict[str, list[str]], share: str, rng: np.random.Generator) -> set[str]:
    """An outsider's re-implementation of the algorithm as the draw module documents it."""
    s = Fraction(share)
    names = sorted(eligible)
    keys = rng.random(len(names))
    exact = [s * len(eligible[n]) for n in names]
    quota = [math.floor(x) for x in exact]
    total = math.floor(s * sum(len(v) for v in eligible.values()) + Fraction(1, 2))
    order = sorted(range(len(names)), key=lambda i: (-(exact[i] - quota[i]), keys[i]))
    for i in order[: total - sum(quota)]:
        quota[i] += 1
    drawn = set()
    for n, q in zip(names, quota):
        members = sorted(eligible[n])
        u = rng.random(len(members))
        drawn |= {members[i] for i in sorted(range(len(members)), key=lambda i: (u[i], i))[:q]}
    return drawn


def test_quotas_use_largest_remainders_with_exact_totals():
    # share 0.2 over 7, 5, 3 eligible: 1.4, 1.0, 0.6 -> floors 1, 1, 0; total round(3.0) = 3;
    # the remaining unit goes to C (0.6)
    quotas = tier_quotas(0.2, {"A": 7, "B": 5, "C": 3}, np.array([0.5, 0.5, 0.5]))
    assert quotas == {"A": 1, "B": 1, "C": 1}
    # round half up: 0.1 × 25 = 2.5 -> 3 (floors 0.5+0.5+1.5 -> 0, 0, 1; two units by remainder)
    assert sum(tier_quotas(0.1, {"A": 5, "B": 5, "C": 15}, np.array([0.1, 0.2, 0.3])).values()) == 3
    # 0.29 × 100 is 28.999… in floating point; exact decimals give 29
    assert tier_quotas(0.29, {"A": 100}, np.array([0.0])) == {"A": 29}


def test_ties_in_remainders_are_broken_by_the_random_keys():
    # 0.5 × 3 = 1.5 in each stratum; total round(0.5 × 9) = round(4.5) = 5: two spare units, three ties
    keys = np.array([0.9, 0.1, 0.5])
    assert tier_quotas(0.5, {"A": 3, "B": 3, "C": 3}, keys) == {"A": 1, "B": 2, "C": 2}


def test_eligibility_and_why_not(tiny_district):
    t = tiny_district(
        enterprises=[{"enterprise_id": e, "tier": "yellow"} for e in ("Y1", "Y2", "Y3", "Y4")]
        + [{"enterprise_id": "R", "tier": "red"}],
        inspections=[{"enterprise_id": "Y2", "date": "2026-10-03", "inspectors": "I01"},   # 90 days before
                     {"enterprise_id": "Y3", "date": "2026-10-02", "inspectors": "I01"}])  # 91 days before
    district = t.load()
    ob = Obligation("Y4", "pinned_2", "pinned", Q1.start, Q1.end)
    result = draw_spot_checks(district, t.tier_series, Q1, [ob], seed=1)
    frame = result.frame.set_index("enterprise_id")
    assert list(frame.index) == ["Y1", "Y2", "Y3", "Y4"]  # red has no sample_share: not in the draw
    assert frame["eligible"].to_dict() == {"Y1": "yes", "Y2": "no", "Y3": "yes", "Y4": "no"}
    assert "2026-10-03" in frame.at["Y2", "why_not"] and "pinned_2" in frame.at["Y4", "why_not"]
    # 0.1 × 2 eligible = 0.2 -> 0 drawn; probabilities are quota / eligible = 0
    assert result.requests == [] and (frame["inclusion_probability"] == 0).all()


def test_draw_matches_an_independent_reimplementation_of_the_documented_algorithm():
    district, tiers = in_memory_district({"南门街道": 37, "西门街道": 12, "Park": 23, "Z": 1})
    blue_ids = [f"B-{i:03d}" for i in range(40)]
    ent = district.enterprises
    extra = ent.iloc[:40].copy()
    extra["enterprise_id"] = blue_ids
    extra["subdistrict"] = ["Park", "南门街道"] * 20
    district.enterprises = pd.concat([ent, extra], ignore_index=True)
    tiers = pd.concat([tiers, pd.Series("blue", index=blue_ids)])
    obligations = [Obligation("Park-000", "follow_up_hazard", "follow_up", Q1.start, Q1.month_end(1))]
    result = draw_spot_checks(district, tiers, Q1, obligations, seed=20270101)

    rng = np.random.Generator(np.random.PCG64(20270101))
    expected = set()
    for tier, share in (("yellow", "0.1"), ("blue", "0.03")):
        eligible: dict[str, list[str]] = {}
        for eid, sub in zip(district.enterprises["enterprise_id"], district.enterprises["subdistrict"]):
            if tiers[eid] == tier and eid != "Park-000":
                eligible.setdefault(sub, []).append(eid)
        expected |= reference_draw(eligible, share, rng)
    assert set(result.drawn_ids) == expected
    assert [r.enterprise_id for r in result.requests] == sorted(expected)
    assert all(r.basis == "drawn" and (r.window_start, r.window_end) == (Q1.start, Q1.end) for r in result.requests)
    # yellow: 72 eligible × 0.1 = 7.2 -> 7; blue: 40 × 0.03 = 1.2 -> 1
    assert Counter(result.frame.loc[result.frame["drawn"] == "yes", "tier"]) == {"yellow": 7, "blue": 1}


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=6),
       share=st.sampled_from([0.03, 0.05, 0.1, 0.125, 0.25, 0.29, 0.5, 1.0]),
       seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_stratified_draw_is_exact_and_reproducible(sizes, share, seed):
    strata = {f"S{i}": n for i, n in enumerate(sizes)}
    policy = Policy.model_validate({"tiers": {"yellow": {"sample_share": share}}})
    district, tiers = in_memory_district(strata, policy=policy)
    a = draw_spot_checks(district, tiers, Q1, [], seed)
    b = draw_spot_checks(district, tiers, Q1, [], seed)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    total = sum(sizes)
    drawn = a.frame[a.frame["drawn"] == "yes"]
    assert len(drawn) == math.floor(Fraction(str(share)) * total + Fraction(1, 2))
    per_stratum = drawn["subdistrict"].value_counts()
    for name, n in strata.items():
        floor = math.floor(Fraction(str(share)) * n)
        assert per_stratum.get(name, 0) in (floor, floor + 1)
        rows = a.frame[a.frame["subdistrict"] == name]
        if n:
            assert rows["inclusion_probability"].nunique() == 1
            assert rows["inclusion_probability"].iloc[0] == pytest.approx(per_stratum.get(name, 0) / n)


def test_different_seeds_give_different_draws():
    district, tiers = in_memory_district({"A": 50, "B": 50})
    draws = {tuple(draw_spot_checks(district, tiers, Q1, [], seed).drawn_ids) for seed in range(5)}
    assert len(draws) == 5  # C(50, 5)^2 possible draws: identical ones would mean a broken seed


def test_every_eligible_enterprise_is_drawn_at_its_inclusion_rate():
    district, tiers = in_memory_district({"A": 10})  # quota round(0.1 × 10) = 1 of 10
    counts = Counter(e for seed in range(200) for e in draw_spot_checks(district, tiers, Q1, [], seed).drawn_ids)
    assert set(counts) == set(tiers.index) and sum(counts.values()) == 200
    assert max(counts.values()) < 40 and min(counts.values()) > 5  # expected 20 each (sd 4.2)


def test_risk_weighted_draw_is_refused_clearly():
    policy = Policy.model_validate({"draw": {"method": "risk_weighted"}})
    district, tiers = in_memory_district({"A": 10}, policy=policy)
    with pytest.raises(PolicyError, match="risk_weighted.*not supported yet.*issue 7"):
        draw_spot_checks(district, tiers, Q1, [], 1)


def test_a_tier_that_allows_no_visits_is_not_drawn():
    policy = Policy.model_validate({"tiers": {"yellow": {"sample_share": 0.5, "max_visits_per_quarter": 0}}})
    district, tiers = in_memory_district({"A": 10}, policy=policy)
    result = draw_spot_checks(district, tiers, Q1, [], 1)
    assert result.requests == [] and set(result.frame["eligible"]) == {"no"}
    assert "max_visits_per_quarter is 0" in result.frame["why_not"].iloc[0]

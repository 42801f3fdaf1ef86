"""The first random draw: exact stratified quotas, eligibility, reproducibility by seed."""

from __future__ import annotations

import math
from collections import Counter
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskplan.domain.calendar import Quarter
from riskplan.domain.policy import Policy, PolicyError
from riskplan.domain.roster import Obligation
from riskplan.domain.schema import TABLES_BY_NAME
from riskplan.load.district import District, empty_table
from riskplan.plan.draw import draw_spot_checks, tier_quotas

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


def test_a_tier_that_allows_no_visits_is_not_drawn():
    policy = Policy.model_validate({"tiers": {"yellow": {"sample_share": 0.5, "max_visits_per_quarter": 0}}})
    district, tiers = in_memory_district({"A": 10}, policy=policy)
    result = draw_spot_checks(district, tiers, Q1, [], 1)
    assert result.requests == [] and set(result.frame["eligible"]) == {"no"}
    assert "max_visits_per_quarter is 0" in result.frame["why_not"].iloc[0]


# ---------------------------------------------------------------- the risk-weighted draw

from riskplan.load.district import DistrictError  # noqa: E402
from riskplan.plan.draw import (  # noqa: E402
    UNITS,
    inclusion_units,
    score_units,
    start_units,
    systematic_selection,
)

RW = {"draw": {"method": "risk_weighted", "min_inclusion": 0.01, "max_inclusion": 1.0}}


def weighted_district(strata: dict[str, int], probs: dict[str, float] | None = None, seed: int = 3,
                      **draw: float) -> tuple[District, pd.DataFrame]:
    """An in-memory yellow district with a tiers frame carrying a skewed `probability` column."""
    policy = Policy.model_validate({"draw": {**RW["draw"], **draw}})
    district, tiers = in_memory_district(strata, policy=policy)
    rng = np.random.default_rng(seed)
    p = probs or dict(zip(tiers.index, np.round(rng.beta(0.4, 6.0, len(tiers)), 6)))
    frame = pd.DataFrame({"enterprise_id": tiers.index, "tier": tiers.to_numpy(),
                          "probability": [p[e] for e in tiers.index]})
    return district, frame


def reference_weighted_units(w: list[int], n: int, floor: int, cap: int) -> list[int]:
    """An outsider's version of step 4's design, by exact search over Fractions: find c with
    Σ clip(c·w, F, K) = n·D by bisection on the breakpoints, then round as documented."""
    total = n * UNITS
    clip = lambda c: [min(max(c * x, floor), cap) for x in w]  # noqa: E731
    points = sorted({Fraction(floor, x) for x in w} | {Fraction(cap, x) for x in w})
    lo = max((b for b in points if sum(clip(b)) <= total), default=Fraction(0))
    hi = min((b for b in points if sum(clip(b)) >= total), default=points[-1])
    if sum(clip(lo)) == total:
        c = lo
    else:  # linear between lo and hi
        c = lo + (hi - lo) * (total - sum(clip(lo))) / (sum(clip(hi)) - sum(clip(lo)))
    exact = clip(c)
    a = [math.floor(x) for x in exact]
    order = sorted(range(len(w)), key=lambda i: (-(exact[i] - a[i]), i))
    for i in order[: total - sum(a)]:
        a[i] += 1
    return a


@settings(max_examples=60, deadline=None)
@given(w=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=30),
       n_frac=st.floats(min_value=0.0, max_value=1.0),
       floor=st.sampled_from([0, 10**7, 5 * 10**7]), cap=st.sampled_from([UNITS, 6 * 10**8, 3 * 10**8]))
def test_inclusion_units_are_the_exact_capped_proportional_design(w, n_frac, floor, cap):
    n = round(n_frac * len(w))
    if n * UNITS < len(w) * floor or n * UNITS > len(w) * cap:
        with pytest.raises(ValueError, match="cannot give every enterprise"):
            inclusion_units(w, n, floor, cap)
        return
    a = inclusion_units(w, n, floor, cap)
    assert sum(a) == n * UNITS and min(a) >= floor and max(a) <= cap
    assert a == reference_weighted_units(w, n, floor, cap)
    # monotone in the weight: a riskier enterprise never gets a smaller probability
    pairs = sorted(zip(w, a))
    assert all(a1 <= a2 + 1 for (w1, a1), (w2, a2) in zip(pairs, pairs[1:]))


@settings(max_examples=40, deadline=None)
@given(w=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=25),
       n_frac=st.floats(min_value=0.0, max_value=1.0), power=st.sampled_from([2, 4]))
def test_a_steeper_power_is_exact_with_weights_far_beyond_64_bits(w, n_frac, power):
    """weight_power raises millionths to the 4th power (up to 10^24): still exact integers."""
    n = round(n_frac * len(w))
    floor, cap = (10**7, UNITS) if n * UNITS >= len(w) * 10**7 else (0, UNITS)
    big = [x**power for x in w]
    a = inclusion_units(big, n, floor, cap)
    assert a == reference_weighted_units(big, n, floor, cap) and sum(a) == n * UNITS


def test_a_steeper_power_moves_chances_toward_the_riskiest_and_keeps_the_floor():
    pis = {}
    for power in (1, 2, 4):
        district, frame = weighted_district({"A": 80}, weight_power=power)
        f = draw_spot_checks(district, frame, Q1, [], 5).frame.set_index("enterprise_id")
        pis[power] = f["inclusion_probability"]
        assert f["inclusion_probability"].min() >= 0.01 and f["drawn"].eq("yes").sum() == 8
    top = frame.set_index("enterprise_id")["probability"].nlargest(8).index
    assert pis[1][top].sum() < pis[2][top].sum() < pis[4][top].sum()
    # unclipped enterprises keep π ∝ w^power exactly (up to the unit rounding)
    w = frame.set_index("enterprise_id")["probability"]
    free = pis[2][(pis[2] > 0.0101) & (pis[2] < 0.999)].index
    ratio = pis[2][free] / (w[free] ** 2)
    assert ratio.max() / ratio.min() < 1.001


@settings(max_examples=100, deadline=None)
@given(p=st.floats(min_value=0.0, max_value=1.0))
def test_a_probability_weighs_the_same_as_a_float_and_as_the_text_written_in_tiers_csv(p):
    assert score_units(p) == score_units("%.6f" % p) == round(Decimal("%.6f" % p) * 10**6)


def test_systematic_selection_takes_exactly_the_quota_and_only_positive_units():
    a = [UNITS, 0, 5 * 10**8, 5 * 10**8, 0, UNITS]  # sum 3
    for seed in range(50):
        r = np.random.default_rng(seed)
        picks = systematic_selection(a, r.random(len(a)), start_units(r.random()))
        assert len(picks) == 3 and 0 in picks and 5 in picks and not {1, 4} & set(picks)
    assert start_units(0.0) == 0 and start_units(np.nextafter(1.0, 0)) == UNITS - 1


def test_risk_weighted_inclusion_frequencies_match_the_stated_probabilities():
    """Over many seeds every enterprise is drawn at its stated rate, the floor included."""
    district, frame = weighted_district({"A": 40, "B": 23})  # quotas 4 and 2 (or 2 and 3 by remainder)
    seeds = 500
    counts = np.zeros(63)
    pi_sum = np.zeros(63)
    for seed in range(seeds):
        result = draw_spot_checks(district, frame, Q1, [], seed)
        f = result.frame
        drawn = (f["drawn"] == "yes").to_numpy()
        counts += drawn
        pi_sum += f["inclusion_probability"].to_numpy()
        assert f["inclusion_probability"].min() >= 0.01  # the floor, every enterprise, every seed
        per = pd.DataFrame({"s": f["subdistrict"], "d": drawn, "u": f["inclusion_units"]}).groupby("s").sum()
        quota = result.quotas.set_index("subdistrict")["quota"]
        assert (per["d"] == quota).all() and (per["u"] == quota * UNITS).all()  # exact per stratum
    pi = pi_sum / seeds  # the quotas (hence π) move with the seed's remainder tie-break
    z = (counts / seeds - pi) / np.sqrt(pi * (1 - pi) / seeds)
    assert np.abs(z).max() < 4.5
    p = frame["probability"].to_numpy()
    assert pi[p.argmax()] > 5 * pi[p.argmin()]  # and the probabilities do rise with risk


def test_systematic_pps_hits_each_stated_probability_over_many_random_starts():
    w = [int(x) for x in np.random.default_rng(1).integers(1, 400_000, 45)] + [1] * 15
    a = inclusion_units(w, 7, 10**7, 9 * 10**8)
    reps = 20000
    counts = np.zeros(len(w))
    rng = np.random.Generator(np.random.PCG64(99))
    for _ in range(reps):
        picks = systematic_selection(a, rng.random(len(w)), start_units(rng.random()))
        assert len(picks) == 7
        counts[picks] += 1
    pi = np.array(a) / UNITS
    z = (counts / reps - pi) / np.sqrt(pi * (1 - pi) / reps)
    assert np.abs(z).max() < 4.5 and abs(np.mean(z**2) - 1) < 0.45  # chi-square per degree of freedom ≈ 1


@pytest.mark.parametrize("power", [1, 3])
def test_risk_weighted_draw_matches_the_documented_algorithm(power):
    district, frame = weighted_district({"南门街道": 30, "Park": 17, "Z": 3}, min_inclusion=0.0, weight_power=power)
    result = draw_spot_checks(district, frame, Q1, [], seed=20270101)
    rng = np.random.Generator(np.random.PCG64(20270101))
    strata: dict[str, list[str]] = {}
    for eid, sub in zip(district.enterprises["enterprise_id"], district.enterprises["subdistrict"]):
        strata.setdefault(sub, []).append(eid)
    names = sorted(strata)
    quotas = tier_quotas(0.1, {k: len(v) for k, v in strata.items()}, rng.random(len(names)))
    weight = {e: max(1, round(Decimal(str(p)) * 10**6)) ** power
              for e, p in zip(frame["enterprise_id"], frame["probability"])}
    expected = set()
    for name in names:
        members = sorted(strata[name])
        keys = rng.random(len(members))
        u = rng.random()
        a = reference_weighted_units([weight[m] for m in members], quotas[name], 0, UNITS)
        order = sorted(range(len(members)), key=lambda i: (keys[i], i))
        start = math.floor(Fraction(u) * UNITS)
        cum = 0
        points = [start + m * UNITS for m in range(quotas[name])]
        for i in order:
            expected |= {members[i] for p in points if cum <= p < cum + a[i]}
            cum += a[i]
    assert set(result.drawn_ids) == expected and len(expected) == sum(quotas.values())


def test_risk_weighted_draw_is_reproducible_and_seed_dependent():
    district, frame = weighted_district({"A": 60, "B": 40})
    a = draw_spot_checks(district, frame, Q1, [], 7)
    pd.testing.assert_frame_equal(a.frame, draw_spot_checks(district, frame, Q1, [], 7).frame)
    assert len({tuple(draw_spot_checks(district, frame, Q1, [], s).drawn_ids) for s in range(5)}) == 5
    assert list(a.frame.columns[-2:]) == ["score", "inclusion_units"] and a.method == "risk_weighted"


def test_impossible_floor_or_cap_is_refused_naming_the_stratum():
    district, frame = weighted_district({"A": 40, "Tiny": 4})  # Tiny: 0.1 × 4 -> quota 0
    with pytest.raises(PolicyError, match="subdistrict Tiny.*quota of 0.*min_inclusion = 0.01"):
        draw_spot_checks(district, frame, Q1, [], 1)
    district, frame = weighted_district({"A": 40}, min_inclusion=0.2)  # 4 draws < 0.2 × 40
    with pytest.raises(PolicyError, match="subdistrict A: 40 eligible with a quota of 4.*at most 4/40"):
        draw_spot_checks(district, frame, Q1, [], 1)
    district, frame = weighted_district({"A": 40}, min_inclusion=0.0, max_inclusion=0.05)  # 4 > 0.05 × 40
    with pytest.raises(PolicyError, match="cap max_inclusion = 0.05"):
        draw_spot_checks(district, frame, Q1, [], 1)


def test_risk_weighted_without_probabilities_names_the_file_and_column():
    district, frame = weighted_district({"A": 20})
    bare = frame.drop(columns="probability")
    bare.attrs["source"] = "my_tiers.csv"
    with pytest.raises(DistrictError, match="my_tiers.csv.*row 1.*probability") as err:
        draw_spot_checks(district, bare, Q1, [], 1)
    assert err.value.problems[0].column == "probability"
    with pytest.raises(DistrictError, match="probability"):  # a bare Series of tiers is not enough either
        draw_spot_checks(district, frame.set_index("enterprise_id")["tier"], Q1, [], 1)
    text = frame.astype(str)
    text.loc[5, "probability"] = "high"
    text.attrs["source"] = "my_tiers.csv"
    with pytest.raises(DistrictError) as err:
        draw_spot_checks(district, text, Q1, [], 1)
    assert (err.value.problems[0].row, err.value.problems[0].column) == (7, "probability")


def test_uniform_method_override_and_quotas_match_the_uniform_draw():
    district, frame = weighted_district({"A": 33, "B": 21, "C": 8}, min_inclusion=0.0)
    uniform = draw_spot_checks(district, frame, Q1, [], 5, method="uniform")
    weighted = draw_spot_checks(district, frame, Q1, [], 5)
    assert uniform.method == "uniform" and "score" not in uniform.frame.columns
    pd.testing.assert_frame_equal(uniform.quotas, weighted.quotas)  # same seed, same quotas (one tier)
    # scores given directly (e.g. the truth, for an oracle) replace the tiers' column
    flat = draw_spot_checks(district, frame, Q1, [], 5, scores=dict.fromkeys(frame["enterprise_id"], 0.2))
    spread = flat.frame.groupby("subdistrict")["inclusion_units"].agg(lambda u: u.max() - u.min())
    assert spread.max() <= 1  # equal weights: n/N each, to the billionth (3/33 is not a whole number of them)

"""The synthetic district generator: determinism, realism of the distributions, validity.

The distribution checks run on one in-memory M district (8,000 enterprises, ~1 s); the
file-level checks on small districts written to tmp folders.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.stats import spearmanr

from riskplan.cli import main
from riskplan.domain import credit_code
from riskplan.domain.calendar import Quarter, WorkCalendar, weekly_limits
from riskplan.domain.policy import DEFAULT_POLICY_TOML, Policy
from riskplan.domain.schema import QUALIFICATIONS, split_list
from riskplan.outputs import OUTPUT_MARKER
from riskplan.load.district import load_district
from riskplan.synth.capacity import estimate_demand, quarter_supply
from riskplan.synth.common import SIZES, true_tiers
from riskplan.synth.district import generate_district, make_district

CJK = re.compile(r"[\u4e00-\u9fff]")
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def m_district():
    return make_district("M", seed=5, simulate_future=True)


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "d"
    generate_district(out, size="S", seed=3, n_enterprises=1500, n_inspectors=24)
    return out


# ----------------------------------------------------------------------------- files


def test_same_seed_gives_byte_identical_files_and_another_seed_differs(tmp_path):
    kwargs = dict(size="S", n_enterprises=400, n_inspectors=8, years=3)
    generate_district(tmp_path / "a", seed=9, **kwargs)
    generate_district(tmp_path / "b", seed=9, **kwargs)
    generate_district(tmp_path / "c", seed=10, **kwargs)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(["enterprises.csv", "accidents.csv", "inspections.csv", "inspectors.csv", "leave.csv",
                            "conflicts.csv", "pinned.csv", "truth.csv", "policy.toml", OUTPUT_MARKER])
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    for name in ("enterprises.csv", "inspections.csv", "truth.csv"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes(), name


def test_output_validates_and_matches_the_in_memory_district(small_dir):
    district = load_district(small_dir)
    assert len(district.enterprises) == 1500
    assert len(district.inspectors) == 24
    assert district.policy == Policy()
    assert (small_dir / "policy.toml").read_text(encoding="utf-8") == DEFAULT_POLICY_TOML
    mem = make_district("S", seed=3, n_enterprises=1500, n_inspectors=24)
    pd.testing.assert_frame_equal(district.inspections[mem.inspections.columns].reset_index(drop=True),
                                  mem.inspections, check_dtype=False)
    truth = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=small_dir / "truth.csv", dtype={"enterprise_id": str})
    assert list(truth.columns) == ["enterprise_id", "p_event_12m"]
    assert truth["enterprise_id"].tolist() == district.enterprises["enterprise_id"].tolist()
    assert truth["p_event_12m"].between(0, 1).all()
    assert "\u4e00" <= district.enterprises["name"].iloc[0][0] <= "\u9fff"  # Chinese survives the round trip


def test_existing_folder_is_refused_without_force_and_nothing_partial_appears(tmp_path):
    out = tmp_path / "d"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate_district(out, size="S", seed=1, n_enterprises=50, n_inspectors=4)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    with pytest.raises(FileExistsError, match="was not written by riskplan"):  # --force replaces only riskplan's
        generate_district(out, size="S", seed=1, n_enterprises=50, n_inspectors=4, force=True)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    (out / "keep.txt").unlink()
    generate_district(out, size="S", seed=2, n_enterprises=50, n_inspectors=4)  # an empty folder is fine
    before = (out / "enterprises.csv").read_bytes()
    generate_district(out, size="S", seed=1, n_enterprises=50, n_inspectors=4, force=True)
    assert (out / "enterprises.csv").read_bytes() != before
    assert [p.name for p in tmp_path.iterdir()] == ["d"]  # no staging folder left behind


def test_cli_synth_writes_a_valid_district_and_refuses_a_full_folder(tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli"
    res = runner.invoke(main, ["synth", "--size", "S", "--seed", "4", "--enterprises", "300", "--inspectors", "6",
                               "--years", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "300 enterprises" in res.output and "load" in res.output
    assert runner.invoke(main, ["validate", str(out)]).exit_code == 0
    again = runner.invoke(main, ["synth", "--seed", "4", "--enterprises", "300", "--out", str(out)])
    assert again.exit_code == 2


def test_years_and_end_move_the_history_window_and_the_planned_quarter():
    d = make_district("S", seed=2, n_enterprises=300, n_inspectors=6, years=2, end=date(2025, 6, 30))
    assert d.inspections["date"].min() >= pd.Timestamp("2023-07-01")
    assert d.inspections["date"].max() <= pd.Timestamp("2025-06-30")
    assert d.accidents["date"].max() <= pd.Timestamp("2025-06-30")
    assert d.quarter == Quarter(2025, 3)
    assert (d.pinned["earliest"] >= pd.Timestamp("2025-07-01")).all()
    assert (d.pinned["latest"] <= pd.Timestamp("2025-09-30")).all()


def test_tiny_districts_still_work():
    d = make_district("S", seed=1, n_enterprises=1, n_inspectors=2, years=1)
    assert len(d.enterprises) == 1 and len(d.inspectors) == 2
    assert d.inspectors["certified"].sum() == 2
    with pytest.raises(ValueError):
        make_district("XXL", seed=1)


# ----------------------------------------------------------------------------- enterprises


def test_credit_codes_are_valid_unique_and_registered_locally(m_district):
    ids = m_district.enterprises["enterprise_id"]
    assert ids.is_unique
    assert all(credit_code.is_valid(c) for c in ids)
    assert ids.str[:2].eq("91").all()
    assert ids.str[2:8].eq("320505").mean() > 0.85


def test_chinese_names_and_geography(m_district):
    ent = m_district.enterprises
    assert ent["name"].str.contains(CJK).all() and ent["name"].is_unique
    assert ent["name"].str.endswith("公司").all()
    assert m_district.inspectors["name"].str.fullmatch(r"[\u4e00-\u9fff]{2,3}").all()
    areas = ent["subdistrict"].unique()
    parks = [a for a in areas if a.endswith("工业园区")]
    assert 1 <= len(parks) <= 3
    assert 8 <= len(areas) - len(parks) <= 20
    assert all(a.endswith("街道") for a in areas if a not in parks)
    assert ent["grid"].str.fullmatch(r"(JD|YQ)\d{2}-G\d{3}").all()
    assert ent.groupby("grid")["subdistrict"].nunique().eq(1).all()  # a grid lies in one area
    assert ent.groupby("subdistrict")["grid"].nunique().min() >= 3
    assert ent["lat"].between(30.9, 31.7).all() and ent["lon"].between(120.1, 121.1).all()
    # clustered: enterprises sit much closer to their own area's centre than to the district's
    centre = ent.groupby("subdistrict")[["lat", "lon"]].transform("mean")
    own = np.hypot(ent["lat"] - centre["lat"], ent["lon"] - centre["lon"]).median()
    overall = np.hypot(ent["lat"] - ent["lat"].mean(), ent["lon"] - ent["lon"].mean()).median()
    assert own < 0.4 * overall
    # parks are denser than subdistricts
    park = ent["subdistrict"].str.endswith("工业园区")
    spread = np.hypot(ent["lat"] - centre["lat"], ent["lon"] - centre["lon"])
    assert spread[park].median() < 0.6 * spread[~park].median()


def test_size_mix_and_headcounts(m_district):
    ent = m_district.enterprises
    share = ent["size_class"].value_counts(normalize=True)
    assert share["micro"] > share["small"] > share["medium"] > share["large"]
    assert share["micro"] + share["small"] >= 0.80
    assert 0.005 <= share["large"] <= 0.05
    bounds = {"micro": (1, 9), "small": (10, 99), "medium": (100, 999), "large": (1000, 10**6)}
    for cls, (lo, hi) in bounds.items():
        assert ent.loc[ent["size_class"] == cls, "employees"].between(lo, hi).all()


def test_hazard_flags_in_believable_proportions_and_clustered(m_district):
    ent = m_district.enterprises
    hazchem = ent["hazchem"] != "none"
    major = ent["major_hazard_level"] > 0
    assert 0.04 <= hazchem.mean() <= 0.12
    assert 0.005 <= major.mean() <= 0.03
    assert 0.02 <= ent["dust_explosion"].mean() <= 0.08
    assert 0.01 <= ent["molten_metal"].mean() <= 0.05
    assert 0.03 <= ent["confined_space"].mean() <= 0.12
    assert set(ent["hazchem"]) == {"none", "produce", "use", "store", "trade"}
    levels = ent.loc[major, "major_hazard_level"].value_counts()
    assert levels.get(1, 0) < levels.get(3, 0) and levels.get(1, 0) < levels.get(4, 0)
    assert (ent.loc[major, "hazchem"] != "none").all()
    by_industry = ent.assign(h=hazchem, d=ent["dust_explosion"], m=ent["molten_metal"]).groupby("industry")[["h", "d", "m"]].mean()
    assert by_industry.loc["化工", "h"] > 5 * hazchem.mean()
    assert by_industry.loc["木材家具", "d"] > 3 * ent["dust_explosion"].mean()
    assert by_industry.loc["冶金", "m"] > 10 * ent["molten_metal"].mean()
    assert by_industry.loc["餐饮住宿", ["d", "m"]].sum() == 0
    park = ent["subdistrict"].str.endswith("工业园区")
    assert hazchem[park].mean() > 2 * hazchem[~park].mean()


def test_standardization_grades_favour_larger_firms(m_district):
    ent = m_district.enterprises
    graded = (ent["standardization_grade"] > 0).groupby(ent["size_class"]).mean()
    assert graded["micro"] < graded["small"] < graded["medium"] < graded["large"]
    assert 0.5 <= (ent["standardization_grade"] == 0).mean() <= 0.9
    counts = ent["standardization_grade"].value_counts()
    assert counts[3] > counts[2] > counts[1] > 0


# ----------------------------------------------------------------------------- history and truth


def test_truth_tier_shares_match_a_plausible_district(m_district):
    shares = m_district.tier_shares()
    assert shares["red"] <= 0.02
    assert 0.03 <= shares["orange"] <= 0.08
    assert 0.20 <= shares["yellow"] <= 0.30
    assert 0.60 <= shares["blue"] <= 0.75
    p = m_district.truth["p_event_12m"]
    assert p.between(0, 1).all() and p.min() > 0


def test_truth_is_the_generators_own_probability(m_district):
    """A simulated next year of the same mechanism realises events at the truth's rates."""
    p = m_district.truth["p_event_12m"].to_numpy()
    event = m_district.future["event"].to_numpy()
    se = np.sqrt(np.sum(p * (1 - p)))
    assert abs(event.sum() - p.sum()) < 3.5 * se
    bins = np.digitize(p, [0.04, 0.12, 0.30])
    for b in range(4):
        mask = bins == b
        expected, seen = p[mask].sum(), event[mask].sum()
        assert abs(seen - expected) < 4 * np.sqrt(np.sum(p[mask] * (1 - p[mask]))) + 2, (b, seen, expected)


def test_accident_severity_pyramid(m_district):
    acc = m_district.accidents
    counts = acc["severity"].value_counts().reindex(["minor", "serious", "major", "extraordinary"], fill_value=0)
    assert counts["minor"] > 5 * counts["serious"] > 0
    assert counts["serious"] > counts["major"] >= counts["extraordinary"]
    assert 0.01 <= len(acc) / len(m_district.enterprises) / m_district.years <= 0.04
    assert (acc["deaths"] == 0).mean() > 0.75
    severe = acc["severity"] != "minor"
    assert (acc.loc[severe, "deaths"] > 0).mean() > (acc.loc[~severe, "deaths"] > 0).mean()
    assert ((acc["deaths"] > 0) | (acc["injuries"] > 0)).all()


def test_inspections_follow_risk_and_reveal_the_hidden_culture(m_district):
    d = m_district
    ins = d.inspections
    teams = ins["inspectors"].map(split_list)
    sizes = teams.map(len)
    assert sizes.isin([2, 3]).all() and 0.01 < (sizes == 3).mean() < 0.12
    assert teams.map(lambda t: len(set(t)) == len(t)).all()
    assert set().union(*teams) <= set(d.inspectors["inspector_id"])
    first_two = teams.map(lambda t: t[:2])
    certified = set(d.inspectors.loc[d.inspectors["certified"] == 1, "inspector_id"])
    assert first_two.map(lambda t: set(t) <= certified).all()
    assert (ins["hazards_found"] >= ins["major_hazards_found"]).all()
    assert ins["date"].dt.day_of_week.lt(5).all()
    assert ins.duplicated(["enterprise_id", "date"]).sum() == 0
    assert ins.loc[ins["major_hazards_found"] > 0, "penalized"].mean() > 3 * ins.loc[ins["hazards_found"] == 0, "penalized"].mean()
    # riskier enterprises are visited more often; most low-risk firms rarely
    per_year = ins.groupby("enterprise_id").size().reindex(d.enterprises["enterprise_id"], fill_value=0) / d.years
    tier = pd.Series(true_tiers(d.truth["p_event_12m"].to_numpy()), index=per_year.index)
    rate = per_year.groupby(tier).mean()
    assert rate["red"] > rate["orange"] > rate["yellow"] > rate["blue"]
    assert (per_year[tier == "blue"] <= 1).mean() > 0.9
    # what inspectors find reflects the latent safety culture
    found = ins.groupby("enterprise_id")["hazards_found"].mean()
    culture = d.latent.set_index("enterprise_id")["safety_culture"].reindex(found.index)
    assert spearmanr(found, culture).statistic > 0.2


# ----------------------------------------------------------------------------- inspectors and capacity


def test_inspector_roster_looks_like_a_bureau(m_district):
    insp = m_district.inspectors
    assert len(insp) == SIZES["M"][1] and insp["inspector_id"].is_unique
    assert 0.88 <= insp["certified"].mean() <= 0.97
    brigade = insp["home_subdistrict"] == ""
    assert 0.25 <= brigade.mean() <= 0.35
    assert insp.loc[brigade, "squad"].str.fullmatch(r"执法.中队").all()
    assert insp.loc[~brigade, "squad"].str.endswith("站").all()
    quals = insp["qualifications"].map(split_list)
    assert set().union(*quals) <= set(QUALIFICATIONS)
    hazchem = quals.map(lambda q: "hazchem" in q)
    assert 0.25 <= hazchem.mean() <= 0.45
    for q in ("dust", "metallurgy"):
        assert quals[insp["certified"] == 1].map(lambda held: q in held).sum() >= 3
    assert insp["weekly_capacity"].ge(1).all()


def test_leave_conflicts_and_pinned_visits(m_district):
    d = m_district
    q = d.quarter
    assert q == Quarter(2027, 1)
    leave = d.leave
    assert (leave["end"] >= leave["start"]).all()
    assert leave["start"].min() >= pd.Timestamp("2027-01-01") and leave["end"].max() <= pd.Timestamp("2027-12-31")
    for _, own in leave.groupby("inspector_id"):  # one inspector's periods do not overlap
        assert (own["start"].iloc[1:].to_numpy() > own["end"].iloc[:-1].to_numpy()).all()
    in_q = (leave["start"] <= pd.Timestamp(q.end)) & (leave["end"] >= pd.Timestamp(q.start))
    assert in_q.sum() >= 5 and (~in_q).sum() >= 5
    assert 3 <= len(d.conflicts) <= 30 and d.conflicts["reason"].str.contains(CJK).all()
    assert set(d.conflicts["enterprise_id"]) <= set(d.enterprises["enterprise_id"])
    pinned = d.pinned
    assert 3 <= len(pinned) <= 40
    assert (pinned["earliest"] >= pd.Timestamp(q.start)).all() and (pinned["latest"] <= pd.Timestamp(q.end)).all()
    assert (pinned["latest"] >= pinned["earliest"]).all()


def _load(district_dir: Path) -> float:
    """Inspector load of the next quarter, supply computed by riskplan.calendar itself."""
    district = load_district(district_dir)
    truth = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=district_dir / "truth.csv", dtype={"enterprise_id": str})
    q = Quarter(2027, 1)
    demand = estimate_demand(truth["p_event_12m"].to_numpy(), truth["enterprise_id"].to_numpy(),
                             district.accidents, district.inspections, district.pinned, q, district.policy)
    cal = WorkCalendar.for_quarter(q, district.policy.roster)
    limits = weekly_limits(district.inspectors, district.leave, cal, district.policy.roster)
    certified = set(district.inspectors.loc[district.inspectors["certified"] == 1, "inspector_id"])
    supply = sum(sum(w.values()) for i, w in limits.items() if i in certified)
    return demand["inspector_visits"] / supply


def test_m_district_load_is_in_range_in_the_quarter_and_its_first_month(m_district):
    assert 0.70 <= m_district.capacity["load"] <= 0.90
    assert m_district.capacity["month1_load"] <= 0.96
    by_month = quarter_supply(m_district.inspectors, m_district.leave, m_district.quarter, by_month=True)
    total = quarter_supply(m_district.inspectors, m_district.leave, m_district.quarter)
    assert np.allclose(by_month.sum(axis=1), total)


def test_capacity_load_is_in_range_and_matches_the_calendar(small_dir):
    load = _load(small_dir)
    assert 0.70 <= load <= 0.90
    d = load_district(small_dir)
    ours = quarter_supply(d.inspectors, d.leave, Quarter(2027, 1))
    cal = WorkCalendar.for_quarter(Quarter(2027, 1), d.policy.roster)
    theirs = weekly_limits(d.inspectors, d.leave, cal, d.policy.roster)
    expected = [sum(theirs[i].values()) * c for i, c in zip(d.inspectors["inspector_id"], d.inspectors["certified"])]
    assert ours.tolist() == expected


def test_fewer_inspectors_starve_the_district():
    full = make_district("S", seed=3, n_enterprises=1500)
    starved = make_district("S", seed=3, n_enterprises=1500, n_inspectors=8)
    assert 0.70 <= full.capacity["load"] <= 0.90
    assert full.capacity["month1_load"] <= 1.0  # the crowded first month fits too
    assert starved.capacity["load"] > 1.5


# ----------------------------------------------------------------------------- the committed sample


def test_committed_sample_district_is_valid_small_and_staffed():
    assert SAMPLE.is_dir(), "data/sample is missing"
    district = load_district(SAMPLE)
    assert 1400 <= len(district.enterprises) <= 1600
    assert len(district.inspectors) == 24
    assert (SAMPLE / "truth.csv").exists()
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) < 3 * 1024 * 1024
    assert 0.70 <= _load(SAMPLE) <= 0.90

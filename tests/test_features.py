"""Features as of T use only the past; labels are the event in the 12 months from T."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskplan.domain.policy import Policy
from riskplan.load.district import District
from riskplan.score.features import (
    FEATURE_GROUPS,
    FEATURE_NAMES,
    HALF_LIFE_DAYS,
    build_features,
    build_labels,
    default_as_of,
    describe_group,
    snapshot_dates,
)


def _empty(cols):
    return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})


def toy_district(enterprises: list[dict], accidents: list[tuple] = (), inspections: list[tuple] = (),
                 policy: Policy | None = None) -> District:
    """A District from hand-made rows. Enterprise dicts override sensible low-risk defaults;
    accidents: (id, 'YYYY-MM-DD', severity, deaths); inspections: (id, date, hazards, majors, penalized)."""
    base = {"name": "x", "subdistrict": "S1", "grid": "G1", "industry": "retail", "size_class": "small",
            "employees": 20, "lat": 31.0, "lon": 120.0, "hazchem": "none", "major_hazard_level": 0,
            "dust_explosion": 0, "molten_metal": 0, "confined_space": 0, "standardization_grade": 2}
    ent = pd.DataFrame([{**base, **e} for e in enterprises])
    for c in ("employees", "major_hazard_level", "dust_explosion", "molten_metal", "confined_space",
              "standardization_grade"):
        ent[c] = ent[c].astype("int64")
    acc = pd.DataFrame(list(accidents), columns=["enterprise_id", "date", "severity", "deaths"])
    acc["date"] = pd.to_datetime(acc["date"]).astype("datetime64[ns]")
    acc["deaths"] = acc["deaths"].astype("int64")
    acc["injuries"] = np.zeros(len(acc), dtype="int64")
    ins = pd.DataFrame(list(inspections), columns=["enterprise_id", "date", "hazards_found",
                                                   "major_hazards_found", "penalized"])
    ins["date"] = pd.to_datetime(ins["date"]).astype("datetime64[ns]")
    for c in ("hazards_found", "major_hazards_found", "penalized"):
        ins[c] = ins[c].astype("int64")
    ins["inspectors"] = "P1;P2"
    return District(path=Path("."), enterprises=ent, accidents=acc, inspections=ins,
                    inspectors=_empty(["inspector_id"]), leave=_empty(["inspector_id", "start", "end"]),
                    conflicts=_empty(["inspector_id", "enterprise_id", "reason"]),
                    pinned=_empty(["enterprise_id", "reason", "earliest", "latest"]),
                    policy=policy or Policy())


def small_history() -> District:
    return toy_district(
        [{"enterprise_id": "A", "hazchem": "produce", "major_hazard_level": 1, "standardization_grade": 0},
         {"enterprise_id": "B"}, {"enterprise_id": "C", "size_class": "large", "employees": 900}],
        accidents=[("A", "2024-03-01", "serious", 3), ("A", "2025-11-20", "minor", 0),
                   ("B", "2022-06-01", "minor", 0), ("C", "2026-06-30", "major", 12)],
        inspections=[("A", "2025-08-01", 4, 1, 1), ("A", "2026-02-01", 6, 2, 0), ("B", "2023-01-10", 1, 0, 0),
                     ("C", "2026-07-15", 3, 0, 1)],
    )


def test_features_count_the_past_windows():
    d = small_history()
    X = build_features(d, "2026-07-01")
    assert list(X.columns) == list(FEATURE_NAMES)
    a, b, c = X.loc["A"], X.loc["B"], X.loc["C"]
    assert a["serious_3y"] == 1 and a["serious_1y"] == 0 and a["minor_1y"] == 1
    assert a["deaths_5y"] == 3
    assert a["visits_1y"] == 2 and a["major_found_1y"] == 3 and a["major_found_last_visit"] == 2
    assert a["hazards_last_visit"] == 6 and a["hazards_per_visit_3y"] == 5.0
    assert a["penalized_1y"] == 1 and a["hazchem_produce"] == 1 and a["major_hazard_1"] == 1 and a["std_none"] == 1
    assert b["minor_5y"] == 1 and b["minor_3y"] == 0 and b["never_visited"] == 0
    assert b["years_since_visit"] == pytest.approx((pd.Timestamp("2026-07-01") - pd.Timestamp("2023-01-10")).days / 365)
    # C's major accident is the day before T: counted; its visit is after T: not.
    assert c["serious_1y"] == 1 and c["never_visited"] == 1 and c["visits_3y"] == 0
    assert c["years_since_serious"] == pytest.approx(1 / 365)


def test_hazard_rates_are_shrunk_and_recent_events_weigh_more():
    d = small_history()
    X = build_features(d, "2026-07-01")
    a, b, c = X.loc["A"], X.loc["B"], X.loc["C"]
    t = pd.Timestamp("2026-07-01")
    w1, w2 = (0.5 ** ((t - pd.Timestamp(x)).days / HALF_LIFE_DAYS) for x in ("2025-08-01", "2026-02-01"))
    assert a["visits_5y"] == 2 and a["hazards_5y"] == 10 and a["hazards_1y"] == 10 and a["major_found_5y"] == 3
    assert a["visits_recent"] == pytest.approx(w1 + w2)
    assert a["hazards_recent"] == pytest.approx(4 * w1 + 6 * w2)
    assert a["major_found_recent"] == pytest.approx(1 * w1 + 2 * w2)
    assert a["hazard_rate_5y"] == pytest.approx(np.log(11 / 3))
    assert a["hazard_rate_recent"] == pytest.approx(np.log((4 * w1 + 6 * w2 + 1) / (w1 + w2 + 1)))
    assert a["hazard_trend"] == pytest.approx(a["hazard_rate_recent"] - a["hazard_rate_5y"])
    # B: one visit with one hazard 3.5 years ago: in the 5-year window, shrunk to exactly one per visit
    assert b["visits_5y"] == 1 and b["hazard_rate_5y"] == pytest.approx(0.0) and b["hazards_1y"] == 0
    # C: never visited before T: rates at the prior (0), nothing recent; its minor-free record
    assert c["visits_5y"] == 0 and c["hazard_rate_5y"] == 0 and c["visits_recent"] == 0 and c["minor_recent"] == 0
    assert a["minor_recent"] == pytest.approx(0.5 ** ((t - pd.Timestamp("2025-11-20")).days / HALF_LIFE_DAYS))


def test_event_on_the_as_of_date_is_future_not_past():
    d = small_history()
    X = build_features(d, "2026-06-30")
    assert X.loc["C", "serious_5y"] == 0          # accident dated T is not a feature
    y = build_labels(d, "2026-06-30")
    assert y.loc["C"] == 1                        # ... it is the label
    assert y.loc["A"] == 0 and y.loc["B"] == 0


def test_label_counts_major_hazard_visits_and_serious_accidents_only():
    d = small_history()
    y = build_labels(d, "2025-06-01")              # A: visit 2026-02-01 finds 2 majors; minor accident ignored
    assert y.to_dict() == {"A": 1, "B": 0, "C": 0}
    y = build_labels(d, "2025-11-01", horizon_days=60)  # only A's minor accident inside: no event
    assert y.loc["A"] == 0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(0, 800),
                          st.sampled_from(["minor", "serious", "major", "extraordinary"]),
                          st.integers(0, 5), st.integers(0, 9), st.integers(0, 3), st.integers(0, 1)),
                max_size=12))
def test_no_leakage_events_on_or_after_t_change_nothing(future):
    """Adding any accidents and visits dated on or after T leaves every feature unchanged."""
    d = small_history()
    t = pd.Timestamp("2026-01-01")
    before = build_features(d, t)
    acc = [(e, (t + pd.Timedelta(days=k)).strftime("%Y-%m-%d"), sev, deaths) for e, k, sev, deaths, *_ in future]
    ins = [(e, (t + pd.Timedelta(days=k)).strftime("%Y-%m-%d"), h, m, p) for e, k, _s, _d, h, m, p in future]
    d2 = toy_district(d.enterprises.to_dict("records"),
                      list(d.accidents[["enterprise_id", "date", "severity", "deaths"]]
                           .assign(date=lambda f: f["date"].dt.strftime("%Y-%m-%d")).itertuples(index=False)) + acc,
                      list(d.inspections[["enterprise_id", "date", "hazards_found", "major_hazards_found", "penalized"]]
                           .assign(date=lambda f: f["date"].dt.strftime("%Y-%m-%d")).itertuples(index=False)) + ins)
    after = build_features(d2, t)
    pd.testing.assert_frame_equal(before, after)


def test_inspector_identity_is_not_a_feature():
    d = small_history()
    X1 = build_features(d, "2026-07-01")
    d.inspections["inspectors"] = ["Q9;Q8", "Z1;Z2", "P1;Q9", "A;B"]
    X2 = build_features(d, "2026-07-01")
    pd.testing.assert_frame_equal(X1, X2)
    assert not any("inspector" in c for c in FEATURE_NAMES)


def test_default_as_of_is_day_after_history_and_snapshots_leave_label_room():
    d = small_history()
    assert str(default_as_of(d)) == "2026-07-16"
    dates = snapshot_dates(d, pd.Timestamp("2026-07-16"), step_months=6)
    assert dates[-1] == pd.Timestamp("2025-07-16")
    assert all(x + pd.Timedelta(days=365) <= pd.Timestamp("2026-07-16") for x in dates)
    assert dates[0] >= pd.Timestamp("2022-06-01") + pd.Timedelta(days=365)


def test_every_group_has_plain_words():
    d = small_history()
    X = build_features(d, "2026-07-01")
    words = {g: describe_group(g, X.loc["A"]) for g in FEATURE_GROUPS}
    assert words["serious_accidents"] == "1 serious-or-worse accident in the past 3 years"
    assert words["major_hazard"] == "major hazard installation, level 1"
    assert words["standardization"] == "no standardization grade"
    assert words["major_hazards_found"] == "2 major hazards found at the last visit"
    assert words["hazchem"] == "hazardous chemicals: produces"
    assert describe_group("visits", X.loc["C"]) == "no inspection on record"


def test_records_older_than_three_years_are_described_over_five():
    """A firm last visited 3.5 years ago is described by its 5-year record, not as '0.0 per visit'."""
    d = small_history()
    X = build_features(d, "2026-07-01")
    b = X.loc["B"]  # one visit (1 hazard) on 2023-01-10, nothing since
    assert b["visits_3y"] == 0 and b["visits_5y"] == 1
    assert describe_group("hazards_found", b) == "1.0 hazards found per visit in the past 5 years, 1 at the last visit"
    row = b.copy()
    row["major_found_5y"] = 2
    assert describe_group("major_hazards_found", row) == "2 major hazards found at visits in the past 5 years"
    row["major_found_5y"] = 0
    assert describe_group("major_hazards_found", row) == "no major hazard found in the past 5 years"

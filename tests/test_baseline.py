"""The rule baseline follows the domain's 100-point deduction table, bands and direct-red rule."""

from __future__ import annotations

import pytest
from test_features import toy_district

from riskplan.domain.schema import Tier
from riskplan.score.baseline import (
    BANDS,
    DEDUCTIONS,
    band,
    deduction_table_markdown,
    rule_grade,
)


def grade_of(enterprise: dict, accidents=(), inspections=(), as_of="2027-01-01"):
    d = toy_district([{"enterprise_id": "E", **enterprise}], accidents, inspections)
    return rule_grade(d, as_of).iloc[0]


def test_clean_small_enterprise_is_blue_with_grade_2_deduction():
    g = grade_of({})
    assert g.score == 98 and g.tier == "blue" and g.override == 0
    assert g.reasons == "standardization grade 2 (−2)"


@pytest.mark.parametrize("attrs, points", [
    ({"major_hazard_level": 1}, 15), ({"major_hazard_level": 2}, 10), ({"major_hazard_level": 3}, 6),
    ({"major_hazard_level": 4}, 3), ({"hazchem": "produce"}, 10), ({"hazchem": "use"}, 6),
    ({"hazchem": "store"}, 6), ({"hazchem": "trade"}, 3), ({"dust_explosion": 1}, 8),
    ({"molten_metal": 1}, 8), ({"confined_space": 1}, 4),
])
def test_attribute_deductions(attrs, points):
    g = grade_of({"standardization_grade": 1, **attrs})
    assert g.score == 100 - points


@pytest.mark.parametrize("grade, points", [(0, 10), (3, 5), (2, 2), (1, 0)])
def test_standardization_deductions(grade, points):
    assert grade_of({"standardization_grade": grade}).score == 100 - points


def test_history_deductions_windows_caps_and_once():
    g = grade_of(
        {"standardization_grade": 1},
        accidents=[("E", "2024-01-03", "serious", 0),   # 1094 days before: counts
                   ("E", "2024-01-01", "serious", 0),   # 1096 days: does not
                   ("E", "2026-05-01", "minor", 0), ("E", "2025-05-01", "minor", 0)],
        inspections=[("E", "2026-03-01", 2, 1, 1), ("E", "2026-08-01", 5, 3, 1),   # last visit: 3 majors -> capped 16
                     ("E", "2027-01-01", 0, 0, 1)])                               # on as-of date: ignored
    assert g.score == 100 - 10 - 3 * 2 - 16 - 5
    assert g.tier == "orange"  # 63
    assert "major hazard found at the last visit ×2 (−16)" in g.reasons


def test_direct_red_overrides_a_good_score():
    for acc in [("E", "2026-06-01", "minor", 1), ("E", "2026-06-01", "major", 0),
                ("E", "2026-06-01", "extraordinary", 0)]:
        g = grade_of({"standardization_grade": 1}, accidents=[acc])
        assert g.tier == "red" and g.override == 1
        assert g.reasons.startswith("direct red:")
    old = grade_of({"standardization_grade": 1}, accidents=[("E", "2025-12-31", "major", 5)])  # 366 days
    assert old.override == 0 and old.tier != "red"
    serious = grade_of({"standardization_grade": 1}, accidents=[("E", "2026-06-01", "serious", 0)])
    assert serious.override == 0


def test_bands_are_exact_at_the_boundaries():
    assert band(59.9) == Tier.RED and band(BANDS["red_below"]) == Tier.ORANGE
    assert band(74.9) == Tier.ORANGE and band(75) == Tier.YELLOW
    assert band(89.9) == Tier.YELLOW and band(90) == Tier.BLUE


def test_table_is_data_and_renders_for_the_readme():
    assert sum(d.points for d in DEDUCTIONS if d.factor.startswith("major_hazard_level")) == 15 + 10 + 6 + 3
    md = deduction_table_markdown()
    assert md.count("\n| ") == len(DEDUCTIONS)  # one row per line after the header
    assert "red < 60" in md


# "In the 365 days before the as-of date" is, in code, 0 < (as_of − accident date) in days ≤ 365:
# day −365 counts, day −366 does not, and an accident on the as-of date itself is not yet history.
# As of 2027-01-01 (2026 is not a leap year): −365 is 2026-01-01, −366 is 2025-12-31.
@pytest.mark.parametrize("accident, red", [
    (("E", "2026-01-01", "minor", 1), True),    # a death, exactly 365 days before
    (("E", "2025-12-31", "minor", 1), False),   # a death, 366 days before
    (("E", "2026-01-01", "major", 0), True),    # major severity, exactly 365 days before
    (("E", "2025-12-31", "major", 0), False),   # major severity, 366 days before
    (("E", "2026-01-01", "extraordinary", 0), True),
    (("E", "2025-12-31", "extraordinary", 0), False),
    (("E", "2027-01-01", "major", 3), False),   # on the as-of date: not before it
    (("E", "2026-12-31", "major", 0), True),    # the day before
])
def test_direct_red_window_is_the_365_days_before_inclusive(accident, red):
    from riskplan.score.baseline import direct_red

    d = toy_district([{"enterprise_id": "E", "standardization_grade": 1}], [accident])
    assert (list(direct_red(d, "2027-01-01")["enterprise_id"]) == ["E"]) is red
    g = rule_grade(d, "2027-01-01").iloc[0]
    assert g.override == int(red)
    assert (g.tier == "red") is red

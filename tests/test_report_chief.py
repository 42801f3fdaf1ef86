"""The report a chief reads: a headline with coverage, shortfall and the decision asked for;
changes since last quarter; inspectors by name; subdistricts outlined and labelled."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from conftest import QUARTER  # noqa: E402

from riskplan.export.report import _subdistrict_outlines, build_report, changes, headline  # noqa: E402
from riskplan.pipeline import run_plan  # noqa: E402


def plan(placed, requested, missing):
    return {"counts": {"placed": sum(placed.values()), "placed_by_basis": placed, "requested_by_basis": requested,
                       "placed_by_tier": {"red": placed.get("mandatory", 0)}},
            "shortfall": {"missing_total": missing}}


def test_headline_says_coverage_shortfall_and_the_decision():
    short = plan({"mandatory": 736, "follow_up": 43, "drawn": 290}, {"mandatory": 745, "follow_up": 43, "drawn": 293}, 9)
    text = headline(short)
    assert text.startswith("779 of 788 required visits placed (98.9%): 9 cannot be placed") and "Decision needed" in text
    assert "290 of 293 drawn spot checks placed" in text
    full = headline(plan({"mandatory": 5, "drawn": 2}, {"mandatory": 5, "drawn": 2}, 0))
    assert "No decision is needed" in full and "5 of 5" in full


def test_changes_against_last_quarter():
    rows = {r[0]: r[1:] for r in changes(plan({"mandatory": 10, "drawn": 4}, {"mandatory": 12, "drawn": 4}, 2),
                                         plan({"mandatory": 8, "drawn": 5}, {"mandatory": 8, "drawn": 5}, 0))}
    assert rows["visits placed"] == ("13", "14", "+1")
    assert rows["required visits not placed"] == ("0", "2", "+2")


def test_each_subdistrict_is_outlined_and_labelled():
    ent = pd.DataFrame({"subdistrict": ["A"] * 4 + ["B"] * 3 + ["C"],
                        "lon": [0, 1, 1, 0, 5, 6, 5.5, 9], "lat": [0, 0, 1, 1, 5, 5, 6, 9]})
    fig, ax = plt.subplots()
    _subdistrict_outlines(ax, ent)
    assert len(ax.patches) == 2  # C has one enterprise: a label, no outline
    assert sorted(t.get_text() for t in ax.texts) == ["A", "B", "C"]
    plt.close(fig)


def test_report_names_inspectors_and_shows_changes(tiny_district, tmp_path):
    district = tiny_district()
    out = tmp_path / "out"
    run_plan(district.path, QUARTER, 5, district.tiers_csv, out_dir=out, time_limit=10)
    html = build_report(district.path, out, lang="en", previous_dir=out)
    assert 'id="headline"' in html and 'id="changes"' in html
    names = district.load().inspectors["name"]
    ids = district.load().inspectors["inspector_id"]
    assert any(f"<td>{n}</td>" in html for n in names)
    assert not any(f"<td>{i}</td>" in html for i in ids)

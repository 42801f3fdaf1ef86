"""The bureau chief's report: one self-contained HTML file from a real plan."""

import base64
import re

import pytest
from conftest import QUARTER

from riskplan.export.report import write_report
from riskplan.pipeline import run_plan


@pytest.fixture()
def planned(tiny_district, tmp_path):
    district = tiny_district()
    out = tmp_path / "out"
    run_plan(district.path, QUARTER, 3, district.tiers_csv, out_dir=out, time_limit=10)
    return district, out


def test_report_is_self_contained_with_charts(planned, tmp_path):
    district, out = planned
    path = write_report(district.path, out, tmp_path / "report.html", lang="en")
    html = path.read_text(encoding="utf-8")
    assert "Inspection roster report, 2027Q1" in html
    # no external resources: nothing to fetch when opened offline
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert len(images) >= 4
    for img in images:
        assert base64.b64decode(img)[:8] == b"\x89PNG\r\n\x1a\n"
    for heading in ("Tier mix by subdistrict", "Tier shares by subdistrict", "Visits per working day",
                    "Inspector load", "Shortfall"):
        assert heading in html


def test_report_shows_whatif_curve_when_present(planned, tmp_path):
    district, out = planned
    whatif = tmp_path / "whatif.csv"
    whatif.write_text("inspectors,tier,mandatory_coverage\n4,red,0.5\n6,red,1.0\n4,orange,0.3\n6,orange,0.9\n")
    html = write_report(district.path, out, tmp_path / "r.html", whatif_csv=whatif).read_text(encoding="utf-8")
    assert "What-if: mandatory coverage against staffing" in html

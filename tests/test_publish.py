"""The public spot-check list: what is published, and what never is."""

import json

import pandas as pd
import pytest
from openpyxl import load_workbook
from public_forger import refingerprint
from test_district import CODE_A, CODE_B, base_tables, write_district

from riskplan.domain.policy import Policy
from riskplan.export.publish import PUBLIC_COLUMNS, publish

INSPECTOR_IDS = ["I01", "I02", "I03"]
INSPECTOR_NAMES = ["张伟", "李娜", "王强"]
VISIT_DATES = ["2027-01-12", "2027-02-03", "2027-03-09"]


@pytest.fixture()
def plan_dir(tmp_path):
    """A plan folder as `riskplan plan` writes it (the parts publish reads)."""
    out = tmp_path / "out"
    out.mkdir()
    pd.DataFrame({
        "visit_id": ["V00001", "V00002", "V00003"], "enterprise_id": [CODE_A, CODE_B, "E-LOCAL-3"],
        "enterprise_name": ["a", "b", "c"], "subdistrict": ["南门街道", "南门街道", "西门街道"],
        "tier": ["red", "yellow", "blue"], "basis": ["mandatory", "drawn", "drawn"],
        "obligations": ["red_month_1", "", ""], "window_start": ["2027-01-01"] * 3,
        "window_end": ["2027-03-31"] * 3, "date": VISIT_DATES, "inspectors": ["I01;I02", "I02;I03", "I01;I03"],
    }).to_csv(out / "roster.csv", index=False)
    pd.DataFrame({
        "enterprise_id": [CODE_B, "E-LOCAL-3"], "name": ["海曙金属制品厂", "Workshop 3"],
        "subdistrict": ["南门街道", "西门街道"], "tier": ["yellow", "blue"], "eligible": ["yes", "yes"],
        "why_not": ["", ""], "inclusion_probability": [0.1, 0.03], "drawn": ["yes", "yes"],
    }).to_csv(out / "draw.csv", index=False)
    (out / "plan.json").write_text(json.dumps({
        "quarter": "2027Q1", "seed": 7, "riskplan_version": "0.1.0", "inputs": {"enterprises.csv": "ab" * 32},
        "policy": Policy().to_dict()}))
    return out


@pytest.fixture()
def district(tmp_path):
    return write_district(tmp_path / "d", base_tables())


def swap_one_drawn(public):
    """Tamper as a forger would: swap one drawn enterprise for an eligible one the seed did not
    draw, consistently in drawn.csv and the manifest."""
    drawn = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=public / "drawn.csv", dtype=str, keep_default_na=False)
    frame = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=public / "sampling_frame.csv", dtype=str)
    undrawn = sorted(set(frame["enterprise_id"]) - set(drawn["credit_code"]))[0]
    swapped = drawn["credit_code"].iloc[0]
    drawn.loc[0, "credit_code"] = undrawn
    drawn.to_csv(public / "drawn.csv", index=False)
    manifest = json.loads((public / "draw_manifest.json").read_text())
    manifest["drawn"] = sorted(undrawn if c == swapped else c for c in manifest["drawn"])
    (public / "draw_manifest.json").write_text(json.dumps(manifest))
    refingerprint(public)


def read_public(path, table):
    """A public CSV as verify-draw reads it: headers and tier names in either language mapped to
    the column names and codes through the one alias table (riskplan.domain.headers)."""
    from riskplan.domain.headers import canonical_headers, canonical_value
    from riskplan.export.publish import HEADER_TABLE

    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = canonical_headers(HEADER_TABLE[table], frame.columns)
    if "tier" in frame.columns:
        frame["tier"] = [canonical_value("tier", t) for t in frame["tier"]]
    return frame


def all_public_text(folder):
    texts = []
    for path in folder.iterdir():
        if path.suffix == ".xlsx":
            wb = load_workbook(path)
            texts += [str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
        else:
            texts.append(path.read_text(encoding="utf-8"))
    return "\n".join(texts)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_plan_stage_lists_drawn_without_dates_or_inspectors(district, plan_dir, tmp_path, lang):
    public = tmp_path / "public"
    written = publish(district, plan_dir, "plan", public, lang=lang)
    names = {p.name for p in written}
    assert {"drawn.csv", "quotas.csv", "sampling_frame.csv", "spot_check_plan.xlsx",
            "spot_check_plan.html", "draw_manifest.json"} <= names
    drawn = read_public(public / "drawn.csv", "drawn")
    assert list(drawn.columns) == list(PUBLIC_COLUMNS["drawn"])
    assert sorted(drawn["credit_code"]) == sorted([CODE_B, "E-LOCAL-3"])
    assert CODE_A not in drawn["credit_code"].tolist()  # mandatory visits are not spot checks
    text = all_public_text(public)
    for secret in INSPECTOR_IDS + INSPECTOR_NAMES + VISIT_DATES + ["2027-01-", "2027-02-", "2027-03-",
                                                                   "inclusion_probability"]:
        assert secret not in text, secret
    html = (public / "spot_check_plan.html").read_text(encoding="utf-8")
    assert ("抽查计划" in html) == (lang == "zh")
    assert "海曙金属制品厂" in html and "粉尘防爆" in html if lang == "zh" else "explosive dust" in html
    manifest = json.loads((public / "draw_manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["method"] == "uniform"
    assert manifest["input_sha256"] == {"enterprises.csv": "ab" * 32}


def test_results_stage_has_outcomes_but_no_inspectors(district, plan_dir, tmp_path):
    results = tmp_path / "results.csv"
    pd.DataFrame({"visit_id": ["V00001", "V00002", "V00003"], "date": VISIT_DATES,
                  "hazards_found": [1, 3, 0], "major_hazards_found": [0, 1, 0], "penalized": [0, 1, 0],
                  "outcome": ["", "已整改", ""]}).to_csv(results, index=False)
    public = tmp_path / "public"
    publish(district, plan_dir, "results", public, results_path=results, lang="zh")
    table = read_public(public / "results.csv", "results")
    assert list(table.columns) == list(PUBLIC_COLUMNS["results"])
    assert len(table) == 2  # the mandatory visit V00001 is not a spot check
    row = table[table["credit_code"] == CODE_B].iloc[0]
    assert "重大事故隐患 1 项" in row["finding"] and "行政处罚" in row["finding"]
    text = all_public_text(public)
    for secret in INSPECTOR_IDS + INSPECTOR_NAMES:
        assert secret not in text, secret


def test_public_output_is_refused_over_an_existing_folder(district, plan_dir, tmp_path):
    public = tmp_path / "public"
    publish(district, plan_dir, "plan", public)
    with pytest.raises(FileExistsError):
        publish(district, plan_dir, "plan", public)


def test_verify_draw_reproduces_and_catches_a_swap(tiny_district, tmp_path):
    from riskplan.export.verify import verify_draw
    from riskplan.pipeline import run_plan

    district = tiny_district()
    out = tmp_path / "plan"
    run_plan(district.path, "2027Q1", 11, district.tiers_csv, out_dir=out, time_limit=10)
    public = tmp_path / "public"
    publish(district.path, out, "plan", public)
    result = verify_draw(public, district.path)
    assert result.ok, result.checks
    assert len(pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=public / "drawn.csv", dtype=str)) >= 1
    swap_one_drawn(public)
    tampered = verify_draw(public, district.path)
    assert not tampered.ok
    failed = {name for name, passed, _ in tampered.checks if not passed}
    assert failed == {"drawn list"}


def test_verify_draw_notices_changed_inputs(tiny_district, tmp_path):
    from click.testing import CliRunner

    from riskplan.cli import main
    from riskplan.pipeline import run_plan

    district = tiny_district()
    out = tmp_path / "plan"
    run_plan(district.path, "2027Q1", 2, district.tiers_csv, out_dir=out, time_limit=10)
    public = tmp_path / "public"
    runner = CliRunner()
    assert runner.invoke(main, ["publish", str(district.path), str(out), "--stage", "plan", "--out",
                                str(public)]).exit_code == 0
    ok = runner.invoke(main, ["verify-draw", str(public), str(district.path)])
    assert ok.exit_code == 0, ok.output
    with open(district.path / "inspections.csv", "a", encoding="utf-8") as fh:
        fh.write("B01,2026-11-02,I01;I02,0,0,0\n")
    changed = runner.invoke(main, ["verify-draw", str(public), str(district.path)])
    assert changed.exit_code == 1 and "inspections.csv" in changed.output


RISK_POLICY = """[draw]
method = "risk_weighted"
min_inclusion = 0.05
max_inclusion = 0.9
weight_power = 2
[tiers.yellow]
sample_share = 0.5
[tiers.blue]
sample_share = 0.4
"""


def risk_weighted_plan(tiny_district, tmp_path, seed=4):
    """A risk-weighted plan of the tiny district, its tiers carrying skewed probabilities."""
    from riskplan.pipeline import run_plan

    district = tiny_district(policy=RISK_POLICY)
    tiers = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=district.tiers_csv, dtype=str)
    tiers["probability"] = [f"{0.002 + 0.31 * ((7 * i) % 11) ** 2 / 121:.6f}" for i in range(len(tiers))]
    tiers.to_csv(district.tiers_csv, index=False)
    out = tmp_path / "plan"
    run_plan(district.path, "2027Q1", seed, district.tiers_csv, out_dir=out, time_limit=10)
    return district, out


def test_risk_weighted_plan_passes_the_checker_and_publishes_method_floor_and_probabilities(tiny_district, tmp_path):
    from riskplan.check.checker import check_roster

    district, out = risk_weighted_plan(tiny_district, tmp_path)
    assert check_roster(district.path, out) == []  # exact_draw re-runs the risk-weighted draw
    draw = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=out / "draw.csv", dtype=str, keep_default_na=False)
    eligible = draw[draw["eligible"] == "yes"]
    assert len(eligible) >= 4 and eligible["inclusion_probability"].astype(float).between(0.05, 0.9).all()
    public = tmp_path / "public"
    publish(district.path, out, "plan", public, lang="en")
    manifest = json.loads((public / "draw_manifest.json").read_text())
    assert (manifest["method"], manifest["min_inclusion"], manifest["max_inclusion"], manifest["weight_power"]) == (
        "risk_weighted", 0.05, 0.9, 2)
    frame = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=public / "sampling_frame.csv", dtype=str)
    assert list(frame.columns) == list(PUBLIC_COLUMNS["sampling_frame_risk_weighted"])
    units = dict(zip(eligible["enterprise_id"], eligible["inclusion_units"].astype(int)))
    assert {e: round(float(p) * 10**9) for e, p in zip(frame["enterprise_id"], frame["inclusion_probability"])} == units
    html = (public / "spot_check_plan.html").read_text(encoding="utf-8")
    assert "risk-weighted stratified draw with a floor" in html and "minimum inclusion probability" in html
    assert "weight power" in html
    assert "systematic sampling with the published inclusion probabilities" in html and "0.9" in html
    # the risk score behind the probabilities stays private
    for col in ("score", "probability", "inclusion_units"):
        assert all(col not in pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=p, nrows=0).columns for p in public.glob("*.csv"))


def test_verify_draw_reproduces_a_risk_weighted_draw_and_catches_a_swap(tiny_district, tmp_path):
    from riskplan.export.verify import verify_draw

    district, out = risk_weighted_plan(tiny_district, tmp_path, seed=9)
    public = tmp_path / "public"
    publish(district.path, out, "plan", public)
    result = verify_draw(public, district.path)
    assert result.ok, result.checks
    assert ("inclusion probabilities", True) in {(n, ok) for n, ok, _ in result.checks}
    swap_one_drawn(public)
    tampered = verify_draw(public, district.path)
    assert {name for name, passed, _ in tampered.checks if not passed} == {"drawn list"}


def test_verify_draw_refuses_doctored_inclusion_probabilities(tiny_district, tmp_path):
    from riskplan.export.verify import verify_draw

    district, out = risk_weighted_plan(tiny_district, tmp_path)
    public = tmp_path / "public"
    publish(district.path, out, "plan", public)
    frame = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=public / "sampling_frame.csv", dtype=str)
    # shift probability inside one stratum: the sum still matches the quota, but one falls below the floor
    p = frame["inclusion_probability"].astype(float)
    stratum = frame.groupby(["tier", "subdistrict"])["enterprise_id"].transform("size") >= 2
    key = frame.loc[stratum, ["tier", "subdistrict"]].iloc[0]
    same = frame[(frame["tier"] == key["tier"]) & (frame["subdistrict"] == key["subdistrict"])]
    first = p.loc[same.index].nsmallest(2).index
    a, b = (round(float(frame.at[i, "inclusion_probability"]) * 10**9) for i in first)
    frame.loc[first[0], "inclusion_probability"] = f"{(a + b - 10**7) / 1e9:.9f}"
    frame.loc[first[1], "inclusion_probability"] = "0.010000000"
    frame.to_csv(public / "sampling_frame.csv", index=False)
    checks = {name: ok for name, ok, _ in verify_draw(public, district.path).checks}
    assert checks["inclusion probabilities"] is False
    # probabilities that no longer add up to the stratum's quota cannot re-run the draw at all
    frame.loc[first[1], "inclusion_probability"] = "0.300000000"
    frame.to_csv(public / "sampling_frame.csv", index=False)
    result = verify_draw(public, district.path)
    assert not result.ok and any("not to the quota" in msg for _, _, msg in result.checks)

"""verify-draw proves the sampling frame, not only the lottery run on it: a frame missing an
eligible enterprise, shifted published chances, inputs edited since publication and malformed
manifests (the tamper helpers use only the published algorithm, as a forger would)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from public_forger import refingerprint

from riskplan.cli import main
from riskplan.export.publish import publish
from riskplan.export.verify import verify_draw
from riskplan.pipeline import run_plan

UNIFORM_POLICY = """[tiers.yellow]
sample_share = 0.5
[tiers.blue]
sample_share = 0.4
"""
RISK_POLICY = """[draw]
method = "risk_weighted"
min_inclusion = 0.05
max_inclusion = 0.9
weight_power = 2
""" + UNIFORM_POLICY


def published_plan(tiny_district, tmp_path, policy, seed=5):
    district = tiny_district(policy=policy)
    if "risk_weighted" in policy:
        tiers = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=district.tiers_csv, dtype=str)
        tiers["probability"] = [f"{0.002 + 0.31 * ((7 * i) % 11) ** 2 / 121:.6f}" for i in range(len(tiers))]
        tiers.to_csv(district.tiers_csv, index=False)
    out = tmp_path / "plan"
    run_plan(district.path, "2027Q1", seed, district.tiers_csv, out_dir=out, time_limit=10)
    public = tmp_path / "public"
    publish(district.path, out, "plan", public, lang="en")
    return district, out, public


def redraw(public, frame):
    """Write `frame` as the published sampling frame and the list the seed draws from it into
    drawn.csv and the manifest, with nothing but the published algorithm."""
    from riskplan.domain.policy import Policy
    from riskplan.domain.schema import INSPECTIONS
    from riskplan.export.publish import inclusion_text_units
    from riskplan.load.district import District
    from riskplan.plan.draw import draw_spot_checks

    manifest = json.loads((public / "draw_manifest.json").read_text(encoding="utf-8"))
    base = Policy()
    tiers = base.tiers.model_copy(update={t: getattr(base.tiers, t).model_copy(
        update={"sample_share": manifest["sample_shares"].get(t)}) for t in ("red", "orange", "yellow", "blue")})
    policy = base.model_copy(update={"tiers": tiers, "draw": base.draw.model_copy(update={"avoid_recent_days": 0})})
    only_frame = District(path=public, enterprises=pd.DataFrame({
        "enterprise_id": frame["enterprise_id"], "name": frame["enterprise_id"], "subdistrict": frame["subdistrict"]}),
        accidents=pd.DataFrame(), inspections=pd.DataFrame(columns=list(INSPECTIONS.column_names)),
        inspectors=pd.DataFrame(), leave=pd.DataFrame(), conflicts=pd.DataFrame(), pinned=pd.DataFrame(),
        policy=policy)
    units = None
    if manifest["method"] == "risk_weighted":
        units = {e: inclusion_text_units(t) for e, t in zip(frame["enterprise_id"], frame["inclusion_probability"])}
    rerun = draw_spot_checks(only_frame, pd.Series(frame["tier"].to_numpy(), index=frame["enterprise_id"]),
                             manifest["quarter"], [], manifest["seed"], method=manifest["method"], units=units)
    drawn = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=public / "drawn.csv", dtype=str, keep_default_na=False)
    new = pd.DataFrame({c: "" for c in drawn.columns}, index=range(len(rerun.drawn_ids)))
    new["credit_code"] = sorted(rerun.drawn_ids)
    frame.to_csv(public / "sampling_frame.csv", index=False)
    new.to_csv(public / "drawn.csv", index=False)
    manifest["drawn"] = sorted(rerun.drawn_ids)
    (public / "draw_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    refingerprint(public)
    return sorted(rerun.drawn_ids)


def omit_a_drawn_enterprise(public):
    """Keep a favoured enterprise out of the lottery: drop a drawn one from the frame, redraw."""
    frame = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=public / "sampling_frame.csv", dtype=str, keep_default_na=False)
    favoured = json.loads((public / "draw_manifest.json").read_text(encoding="utf-8"))["drawn"][0]
    redraw(public, frame[frame["enterprise_id"] != favoured].reset_index(drop=True))
    return favoured


def shift_two_chances(public, by=1000):
    """Move a millionth of chance (1000 billionths) between two enterprises of one stratum,
    the stratum's sum kept, both inside floor and cap; redraw."""
    from riskplan.export.publish import inclusion_text_units

    frame = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=public / "sampling_frame.csv", dtype=str, keep_default_na=False)
    units = frame["inclusion_probability"].map(inclusion_text_units)
    inside = (units > 0.05e9 + by) & (units < 0.9e9 - by)
    stratum = frame[inside].groupby(["tier", "subdistrict"])["enterprise_id"].transform("size") >= 2
    key = frame[inside][stratum].iloc[0]
    same = frame[inside & (frame["tier"] == key["tier"]) & (frame["subdistrict"] == key["subdistrict"])].index[:2]
    for i, d in zip(same, (by, -by)):
        u = int(units[i]) + d
        frame.loc[i, "inclusion_probability"] = f"{u // 10**9}.{u % 10**9:09d}"
    redraw(public, frame)
    return sorted(frame.loc[same, "enterprise_id"])


def failed(result):
    return {name: detail for name, passed, detail in result.checks if not passed}


def test_a_frame_without_a_drawn_enterprise_is_named(tiny_district, tmp_path):
    district, out, public = published_plan(tiny_district, tmp_path, UNIFORM_POLICY)
    assert verify_draw(public, district.path, out / "tiers.csv").ok
    favoured = omit_a_drawn_enterprise(public)
    blind = verify_draw(public, district.path)  # the lottery on the doctored frame still reproduces
    assert "drawn list" not in failed(blind)
    result = verify_draw(public, district.path, out / "tiers.csv")
    bad = failed(result)
    assert set(bad) == {"sampling frame derived from the district"}, result.checks
    assert "missing from the published frame" in bad["sampling frame derived from the district"]
    assert favoured in bad["sampling frame derived from the district"]


def test_an_added_enterprise_is_named_too(tiny_district, tmp_path):
    district, out, public = published_plan(tiny_district, tmp_path, UNIFORM_POLICY)
    frame = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=public / "sampling_frame.csv", dtype=str, keep_default_na=False)
    # O2 is orange: never in a sampled tier's frame; added as blue
    extra = pd.DataFrame([{"tier": "blue", "subdistrict": "A", "enterprise_id": "O2"}])
    known = dict(zip(district.load().enterprises["enterprise_id"], district.load().enterprises["subdistrict"]))
    extra["subdistrict"] = known["O2"]
    redraw(public, pd.concat([frame, extra], ignore_index=True))
    bad = failed(verify_draw(public, district.path, out / "tiers.csv"))
    assert "in the published frame but not eligible: O2" in bad["sampling frame derived from the district"]


def test_shifted_chances_are_named(tiny_district, tmp_path):
    district, out, public = published_plan(tiny_district, tmp_path, RISK_POLICY)
    shifted = shift_two_chances(public)
    assert "drawn list" not in failed(verify_draw(public, district.path))
    bad = failed(verify_draw(public, district.path, out / "tiers.csv"))
    assert set(bad) == {"published chances"}
    assert bad["published chances"].startswith("2 published chance(s) differ")
    assert all(e in bad["published chances"] for e in shifted)


def test_without_the_tiers_the_frame_is_not_claimed_checked(tiny_district, tmp_path):
    district, out, public = published_plan(tiny_district, tmp_path, UNIFORM_POLICY)
    result = verify_draw(public, district.path)  # the plan was tiered from a file, not at hand
    assert result.ok and any("not re-derived" in n and "--tiers" in n for n in result.notes)
    r = CliRunner().invoke(main, ["verify-draw", str(public), str(district.path), "--tiers", str(out / "tiers.csv")])
    assert r.exit_code == 0 and "ok   sampling frame derived from the district" in r.output


def test_recorded_results_are_a_note_not_a_broken_draw(tiny_district, tmp_path):
    from riskplan.export.record import record_results

    district, out, public = published_plan(tiny_district, tmp_path, UNIFORM_POLICY)
    roster = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=out / "roster.csv", dtype=str)
    results = tmp_path / "results.csv"
    pd.DataFrame({"visit_id": roster["visit_id"], "date": roster["date"], "hazards_found": 1,
                  "major_hazards_found": 0, "penalized": 0, "outcome": "ok"}).to_csv(results, index=False)
    assert record_results(district.path, out, results).added == len(roster) >= 1
    r = CliRunner().invoke(main, ["verify-draw", str(public), str(district.path), "--tiers", str(out / "tiers.csv")])
    assert r.exit_code == 0, r.output
    assert "note inspections.csv changed since publication" in r.output
    assert "ok   inputs changed since publication" in r.output


def test_an_edit_to_what_the_frame_derives_from_fails_as_changed_inputs(tiny_district, tmp_path):
    district, out, public = published_plan(tiny_district, tmp_path, UNIFORM_POLICY)
    with open(district.path / "inspections.csv", "a", encoding="utf-8") as fh:
        fh.write("B01,2026-11-02,I01;I02,0,0,0\n")  # before the quarter start: B01 becomes ineligible
    bad = failed(verify_draw(public, district.path, out / "tiers.csv"))
    assert "inspections dated before the quarter start (inspections.csv)" in bad["inputs changed since publication"]
    assert "B01" in bad["sampling frame derived from the district"]


@pytest.mark.parametrize("edit, key", [
    (lambda m: "{not json", "not JSON"),
    (lambda m: json.dumps([1, 2]), "JSON object"),
    (lambda m: json.dumps({k: v for k, v in m.items() if k != "seed"}), "seed"),
    (lambda m: json.dumps({k: v for k, v in m.items() if k != "quarter"}), "quarter"),
    (lambda m: json.dumps({**m, "seed": "five"}), "seed"),
    (lambda m: json.dumps({**m, "quarter": 2027}), "quarter"),
    (lambda m: json.dumps({**m, "quarter": "2027Q5"}), "quarter"),
    (lambda m: json.dumps({**m, "sample_shares": [0.1]}), "sample_shares"),
    (lambda m: json.dumps({**m, "method": "lottery"}), "method"),
    (lambda m: json.dumps({**m, "drawn": "all"}), "drawn"),
], ids=["not-json", "not-object", "no-seed", "no-quarter", "seed-text", "quarter-number", "quarter-bad",
        "shares-list", "method", "drawn-text"])
def test_a_malformed_manifest_is_bad_input_naming_file_and_key(tiny_district, tmp_path, edit, key):
    district, out, public = published_plan(tiny_district, tmp_path, UNIFORM_POLICY)
    path = public / "draw_manifest.json"
    path.write_text(edit(json.loads(path.read_text(encoding="utf-8"))), encoding="utf-8")
    r = CliRunner().invoke(main, ["verify-draw", str(public), str(district.path)])
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit), r.output
    assert "draw_manifest.json" in r.stderr and key in r.stderr and "Traceback" not in r.output


def test_a_published_quota_that_is_not_the_rules_is_named(tiny_district, tmp_path):
    district, out, public = published_plan(tiny_district, tmp_path, UNIFORM_POLICY)
    quotas = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=public / "quotas.csv", dtype=str, keep_default_na=False)
    assert {"quotas": True}.items() <= {n: ok for n, ok, _ in verify_draw(public, district.path, out / "tiers.csv")
                                        .checks}.items()
    quotas.loc[0, "eligible"] = str(int(quotas.loc[0, "eligible"]) + 1)  # a smaller published chance n / N
    quotas.to_csv(public / "quotas.csv", index=False)
    refingerprint(public)
    bad = failed(verify_draw(public, district.path, out / "tiers.csv"))
    assert set(bad) == {"quotas"} and f"subdistrict {quotas.loc[0, 'subdistrict']}" in bad["quotas"]


def test_a_model_tiered_plan_is_re_derived_with_the_model_tiers(tiny_district, tmp_path):
    district = tiny_district(policy=UNIFORM_POLICY)
    out = tmp_path / "plan"
    run_plan(district.path, "2027Q1", 5, None, out_dir=out, time_limit=10)
    public = tmp_path / "public"
    publish(district.path, out, "plan", public, lang="en")
    result = verify_draw(public, district.path)  # the tiers come from the model, as plan's did
    assert result.ok, result.checks
    assert ("sampling frame derived from the district", True) in {(n, ok) for n, ok, _ in result.checks}
    omit_a_drawn_enterprise(public)
    assert "sampling frame derived from the district" in failed(verify_draw(public, district.path))


def test_a_risk_weighted_frame_without_a_drawn_enterprise_is_named(tiny_district, tmp_path):
    """The forger drops a drawn enterprise and hands its chance to a peer of its stratum (so the
    stratum still sums to its quota and the lottery on the doctored frame reproduces)."""
    from riskplan.export.publish import inclusion_text_units

    district, out, public = published_plan(tiny_district, tmp_path, RISK_POLICY)
    assert verify_draw(public, district.path, out / "tiers.csv").ok
    frame = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=public / "sampling_frame.csv", dtype=str, keep_default_na=False)
    units = frame["inclusion_probability"].map(inclusion_text_units)
    drawn = json.loads((public / "draw_manifest.json").read_text(encoding="utf-8"))["drawn"]
    for favoured in drawn:
        i = frame.index[frame["enterprise_id"] == favoured][0]
        peers = frame.index[(frame["tier"] == frame.at[i, "tier"]) & (frame["subdistrict"] == frame.at[i, "subdistrict"])
                            & (frame.index != i) & (units + units[i] <= 0.9e9)]
        if len(peers):
            break
    else:
        pytest.fail("no drawn enterprise has a peer that can take its chance")
    u = int(units[peers[0]] + units[i])
    frame.loc[peers[0], "inclusion_probability"] = f"{u // 10**9}.{u % 10**9:09d}"
    redraw(public, frame.drop(index=i).reset_index(drop=True))
    assert "drawn list" not in failed(verify_draw(public, district.path))
    bad = failed(verify_draw(public, district.path, out / "tiers.csv"))
    assert favoured in bad["sampling frame derived from the district"]
    assert "missing from the published frame" in bad["sampling frame derived from the district"]

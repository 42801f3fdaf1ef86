"""verify-draw from the public folder alone: every tamper a forger could try on the published
draw fails with a message naming what differs; an untouched folder passes with and without the
district, also after the quarter's results are recorded; the seed must open its commitment."""

from __future__ import annotations

import datetime
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from riskplan.cli import main
from riskplan.export.commitment import COMMITMENT_FILE, REVEAL_FILE, hash_commitment
from riskplan.export.publish import publish
from riskplan.export.verify import verify_draw
from riskplan.pipeline import run_plan

POLICY = """[tiers.yellow]
sample_share = 0.5
[tiers.blue]
sample_share = 0.4
"""
RISK_POLICY = """[draw]
method = "risk_weighted"
min_inclusion = 0.05
max_inclusion = 0.9
""" + POLICY
SEED = 123456789012


def committed(tmp_path, seed=SEED):
    folder = tmp_path / "commitment"
    folder.mkdir()
    public, reveal = hash_commitment("2027Q1", datetime.date(2026, 12, 20), seed=seed, salt="9f" * 16)
    (folder / COMMITMENT_FILE).write_text(json.dumps(public), encoding="utf-8")
    (folder / REVEAL_FILE).write_text(json.dumps(reveal), encoding="utf-8")
    return folder


def _publish_once(root, policy):
    from conftest import make_tiny_district

    district = make_tiny_district(root / "district", policy=policy)
    if "risk_weighted" in policy:
        tiers = pd.read_csv(district.tiers_csv, dtype=str, encoding="utf-8-sig")
        tiers["probability"] = [f"{0.002 + 0.31 * ((7 * i) % 11) ** 2 / 121:.6f}" for i in range(len(tiers))]
        tiers.to_csv(district.tiers_csv, index=False)
    out = root / "plan"
    run_plan(district.path, "2027Q1", SEED, district.tiers_csv, out_dir=out, time_limit=10)
    publish(district.path, out, "plan", root / "public", lang="en", commitment_dir=committed(root))
    return district


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """One plan per policy for the module, published once; each test gets its own copies."""
    cache = {}

    def get(policy):
        if policy not in cache:
            root = tmp_path_factory.mktemp("published")
            cache[policy] = (root, _publish_once(root, policy))
        return cache[policy]

    return get


def published(made, tmp_path, policy=POLICY):
    import shutil

    root, district = made(policy)
    for name in ("district", "plan", "public"):
        shutil.copytree(root / name, tmp_path / name)
    import dataclasses

    return dataclasses.replace(district, path=tmp_path / "district"), tmp_path / "plan", tmp_path / "public"


def failed(result):
    return {name: detail for name, passed, detail in result.checks if not passed}


def read(public, name):
    return pd.read_csv(public / name, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def write(public, name, frame):
    from riskplan.io import frame_to_csv_bytes

    (public / name).write_bytes(frame_to_csv_bytes(frame))


def edit_manifest(public, change):
    path = public / "draw_manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def test_untouched_passes_alone_with_the_district_and_after_record(made, tmp_path):
    from riskplan.export.record import record_results

    district, out, public = published(made, tmp_path)
    alone = verify_draw(public)
    assert alone.ok, alone.checks
    names = {n for n, _, _ in alone.checks}
    assert {"published files", "notice", "seed commitment", "quotas", "drawn list", "manifest"} <= names
    assert verify_draw(public, district.path, out / "tiers.csv").ok
    roster = read(out, "roster.csv")
    results = tmp_path / "results.csv"
    pd.DataFrame({"visit_id": roster["visit_id"], "date": roster["date"], "hazards_found": 0,
                  "major_hazards_found": 0, "penalized": 0, "outcome": "no_problem"}).to_csv(results, index=False)
    assert record_results(district.path, out, results).added == len(roster)
    for args in ([str(public)], [str(public), str(district.path), "--tiers", str(out / "tiers.csv")]):
        r = CliRunner().invoke(main, ["verify-draw", *args])
        assert r.exit_code == 0, r.output
        assert "ok   seed commitment" in r.output and "The published draw is reproduced." in r.output


def test_a_changed_seed_fails_the_commitment_and_the_draw(made, tmp_path):
    _d, _o, public = published(made, tmp_path)
    edit_manifest(public, lambda m: m.update(seed=m["seed"] + 1))
    bad = failed(verify_draw(public))
    assert f"the draw used seed {SEED + 1}" in bad["seed commitment"]
    assert "the manifest changed after the notice was issued" in bad["notice"]
    r = CliRunner().invoke(main, ["verify-draw", str(public)])
    assert r.exit_code == 1 and "FAIL seed commitment" in r.output and "does NOT match" in r.output


def test_a_seed_not_matching_its_commitment_fails(made, tmp_path):
    _d, _o, public = published(made, tmp_path)
    edit_manifest(public, lambda m: m["seed_commitment"]["reveal"].update(salt="00" * 16))
    bad = failed(verify_draw(public))
    assert "SHA-256 of quarter, seed" in bad["seed commitment"] and "the commitment published" in bad["seed commitment"]


def test_a_changed_share_fails(made, tmp_path):
    _d, _o, public = published(made, tmp_path)
    edit_manifest(public, lambda m: m["sample_shares"].update(blue=0.9))
    bad = failed(verify_draw(public))
    assert "published sample share 0.4, the manifest's 0.9" in bad["quotas"]
    assert "not what the seed draws from the published frame" in bad["drawn list"]


def test_a_removed_frame_row_fails(made, tmp_path):
    _d, _o, public = published(made, tmp_path)
    frame = read(public, "sampling_frame.csv")
    drawn = set(read(public, "drawn.csv")["credit_code"])
    gone = next(e for e in frame["enterprise_id"] if e not in drawn)
    write(public, "sampling_frame.csv", frame[frame["enterprise_id"] != gone])
    bad = failed(verify_draw(public))
    assert "sampling_frame.csv" in bad["published files"]
    assert "stratum quota(s) differ" in bad["quotas"]


def test_reordered_frame_rows_fail(made, tmp_path):
    _d, _o, public = published(made, tmp_path)
    frame = read(public, "sampling_frame.csv")
    write(public, "sampling_frame.csv", frame.iloc[::-1])
    bad = failed(verify_draw(public))
    assert set(bad) == {"published files"}
    assert "row was changed, added, removed or moved): sampling_frame.csv" in bad["published files"]


def test_a_swapped_drawn_id_fails(made, tmp_path):
    _d, _o, public = published(made, tmp_path)
    drawn, frame = read(public, "drawn.csv"), read(public, "sampling_frame.csv")
    other = sorted(set(frame["enterprise_id"]) - set(drawn["credit_code"]))[0]
    swapped = drawn.loc[0, "credit_code"]
    drawn.loc[0, "credit_code"] = other
    write(public, "drawn.csv", drawn)
    bad = failed(verify_draw(public))
    assert "drawn.csv" in bad["published files"]
    assert swapped in bad["drawn list"] and other in bad["drawn list"]


def test_a_changed_chance_fails(made, tmp_path):
    _d, _o, public = published(made, tmp_path, RISK_POLICY)
    assert verify_draw(public).ok
    frame = read(public, "sampling_frame.csv")
    frame.loc[0, "inclusion_probability"] = "0.500000000"
    write(public, "sampling_frame.csv", frame)
    bad = failed(verify_draw(public))
    assert "sampling_frame.csv" in bad["published files"]
    assert "not to the quota" in bad["drawn list"]


def test_a_forger_who_refingerprints_is_still_caught_by_the_commitment_or_the_draw(made, tmp_path):
    from public_forger import refingerprint

    _d, _o, public = published(made, tmp_path)
    drawn, frame = read(public, "drawn.csv"), read(public, "sampling_frame.csv")
    drawn.loc[0, "credit_code"] = sorted(set(frame["enterprise_id"]) - set(drawn["credit_code"]))[0]
    write(public, "drawn.csv", drawn)
    edit_manifest(public, lambda m: m.update(drawn=sorted(drawn["credit_code"])))
    refingerprint(public)
    assert set(failed(verify_draw(public))) == {"drawn list"}


def test_without_a_commitment_it_says_so(tiny_district, tmp_path):
    district = tiny_district(policy=POLICY)
    out = tmp_path / "plan"
    run_plan(district.path, "2027Q1", 3, district.tiers_csv, out_dir=out, time_limit=10)
    publish(district.path, out, "plan", tmp_path / "public", lang="en")
    result = verify_draw(tmp_path / "public")
    assert result.ok and any("no seed commitment" in n for n in result.notes)


def test_publish_refuses_a_reveal_for_another_seed(tiny_district, tmp_path):
    district = tiny_district(policy=POLICY)
    out = tmp_path / "plan"
    run_plan(district.path, "2027Q1", 3, district.tiers_csv, out_dir=out, time_limit=10)
    r = CliRunner().invoke(main, ["--lang", "en", "publish", str(district.path), str(out), "--stage", "plan",
                                  "--out", str(tmp_path / "public"), "--commitment", str(committed(tmp_path))])
    assert r.exit_code == 2 and "seed_reveal.json" in r.stderr and f"--seed {SEED}" in r.stderr
    assert not (tmp_path / "public").exists()


def test_commit_seed_writes_a_commitment_that_publish_accepts(tiny_district, tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["--lang", "en", "commit-seed", "2027Q1", "--out", str(tmp_path / "c"),
                             "--date", "2026-12-20"])
    assert r.exit_code == 0, r.output
    reveal = json.loads((tmp_path / "c" / REVEAL_FILE).read_text(encoding="utf-8"))
    commitment = json.loads((tmp_path / "c" / COMMITMENT_FILE).read_text(encoding="utf-8"))
    assert "seed" not in commitment and str(reveal["seed"]) not in json.dumps(commitment)
    district = tiny_district(policy=POLICY)
    out = tmp_path / "plan"
    run_plan(district.path, "2027Q1", reveal["seed"], district.tiers_csv, out_dir=out, time_limit=10)
    public = tmp_path / "public"
    assert runner.invoke(main, ["publish", str(district.path), str(out), "--stage", "plan", "--out", str(public),
                                "--commitment", str(tmp_path / "c")]).exit_code == 0
    assert reveal["salt"] in (public / "spot_check_plan.html").read_text(encoding="utf-8")
    assert verify_draw(public).ok


def test_a_beacon_commitment_derives_the_seed(tmp_path):
    from riskplan.export.commitment import beacon_seed, opened_seed

    runner = CliRunner()
    folder = tmp_path / "b"
    assert runner.invoke(main, ["commit-seed", "2027Q1", "--out", str(folder), "--beacon",
                                "福彩双色球 2026150期开奖号码"]).exit_code == 0
    assert not (folder / REVEAL_FILE).exists()
    r = runner.invoke(main, ["--lang", "en", "commit-seed", "2027Q1", "--out", str(folder), "--value",
                             " 03 09 12 20 27 31 + 05 "])
    assert r.exit_code == 0, r.output
    commitment = json.loads((folder / COMMITMENT_FILE).read_text(encoding="utf-8"))
    reveal = json.loads((folder / REVEAL_FILE).read_text(encoding="utf-8"))
    assert reveal["seed"] == beacon_seed("2027Q1", "福彩双色球 2026150期开奖号码", "03 09 12 20 27 31 + 05")
    assert opened_seed(commitment, reveal) == (reveal["seed"], "")
    assert opened_seed(commitment, {**reveal, "value": "03 09 12 20 27 31 + 06"})[0] != reveal["seed"]


def test_the_plan_carries_the_commitment_and_refuses_another_seed(tiny_district, tmp_path):
    """`plan --commitment` draws only with the committed seed, and its plan.json carries the
    commitment and reveal, so `publish` puts them on the notice without being given the folder;
    a carried pair that no longer opens (edited plan.json) is refused, not trusted."""
    runner = CliRunner()
    assert runner.invoke(main, ["commit-seed", "2027Q1", "--out", str(tmp_path / "c"),
                                "--date", "2026-12-20"]).exit_code == 0
    reveal = json.loads((tmp_path / "c" / REVEAL_FILE).read_text(encoding="utf-8"))
    district = tiny_district(policy=POLICY)
    args = ["plan", str(district.path), "--quarter", "2027Q1", "--tiers", str(district.tiers_csv), "--time-limit",
            "10", "--commitment", str(tmp_path / "c")]
    other = runner.invoke(main, args + ["--seed", str(reveal["seed"] + 1), "--out", str(tmp_path / "wrong")])
    assert other.exit_code == 2 and f"make the plan with --seed {reveal['seed']}" in other.output
    assert not (tmp_path / "wrong").exists()
    out = tmp_path / "plan"
    done = runner.invoke(main, args + ["--seed", str(reveal["seed"]), "--out", str(out)])
    assert done.exit_code == 0, done.output
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert plan["seed_commitment"]["reveal"]["salt"] == reveal["salt"]
    public = tmp_path / "public"
    assert runner.invoke(main, ["publish", str(district.path), str(out), "--stage", "plan",
                                "--out", str(public)]).exit_code == 0
    assert reveal["salt"] in (public / "spot_check_plan.html").read_text(encoding="utf-8")
    result = verify_draw(public)
    assert result.ok and ("seed commitment", True) in {(name, passed) for name, passed, _why in result.checks}
    plan["seed_commitment"]["reveal"]["salt"] = "0" * len(reveal["salt"])
    (out / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    forged = runner.invoke(main, ["publish", str(district.path), str(out), "--stage", "plan",
                                  "--out", str(tmp_path / "public2")])
    assert forged.exit_code == 2 and "does not open the seed commitment" in forged.output

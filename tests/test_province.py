"""The province run's parts without a cluster: the seed rule, which districts ROOT holds, a
district task's failures, the summary (Chinese by default) and its what-if columns.
tests/test_province_cluster.py runs the whole on real Dask processes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from province_helpers import QUARTER, TIME_LIMIT, documented_seed, make_district

from riskplan.i18n import language
from riskplan.load.district import DistrictError
from riskplan.province.districts import find_districts, fingerprint
from riskplan.province.seeds import district_seed
from riskplan.province.summary import summary_frame, summary_html, write_summary
from riskplan.province.task import BAD_INPUT, CRASHED, DistrictJob, plan_district, staffing_levels


@pytest.mark.parametrize("name", ["east", "海曙区", "a b", "district-07"])
@pytest.mark.parametrize("province_seed", [0, 1, 2027, 4_294_967_295])
def test_district_seed_follows_the_documented_rule(province_seed, name):
    assert district_seed(province_seed, name) == documented_seed(province_seed, name)
    assert 0 <= district_seed(province_seed, name) < 2**32


def test_district_seeds_differ_by_name_and_by_province_seed():
    names = [f"d{i}" for i in range(200)]
    assert len({district_seed(7, n) for n in names}) == len(names)
    assert district_seed(7, "east") != district_seed(8, "east")


def test_root_lists_district_folders_or_a_districts_csv(tmp_path):
    for name in ("b", "a", ".hidden", "_cache"):
        (tmp_path / "root" / name).mkdir(parents=True)
    assert [e.name for e in find_districts(tmp_path / "root")] == ["a", "b"]
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "root" / "districts.csv").write_text(f"folder,name\nb,north\n{tmp_path / 'elsewhere'},\n",
                                                     encoding="utf-8")
    entries = find_districts(tmp_path / "root")
    assert [(e.name, e.folder) for e in entries] == [("north", (tmp_path / "root" / "b").resolve()),
                                                    ("elsewhere", (tmp_path / "elsewhere").resolve())]


def test_a_districts_csv_naming_a_district_twice_names_the_row(tmp_path):
    (tmp_path / "districts.csv").write_text("文件夹,区县\na,东区\nb,东区\n", encoding="utf-8")
    with pytest.raises(DistrictError) as err:
        find_districts(tmp_path)
    text = str(err.value)
    assert "districts.csv" in text and "3" in text and "东区" in text


def test_the_fingerprint_follows_content_seed_and_options_not_timestamps(tmp_path):
    folder = make_district(tmp_path / "d", 1)
    args = {"quarter": QUARTER, "seed": 5, "options": {"time_limit": 10.0}, "model_sha256": "m"}
    first = fingerprint(folder, **args)
    (folder / "leave.csv").touch()
    assert fingerprint(folder, **args) == first
    assert fingerprint(folder, **{**args, "seed": 6}) != first
    assert fingerprint(folder, **{**args, "options": {"time_limit": 11.0}}) != first
    with (folder / "leave.csv").open("a", encoding="utf-8") as f:
        f.write("\n")
    assert fingerprint(folder, **args) != first


def _job(folder: Path, out: Path, **kw) -> DistrictJob:
    return DistrictJob(folder.name, str(folder), QUARTER, 11, TIME_LIMIT, str(out), False, "en", **kw)


def test_a_task_reports_bad_input_with_the_readers_message_and_writes_nothing(tmp_path):
    folder = make_district(tmp_path / "d", 1)
    (folder / "inspectors.csv").write_text("inspector_id,name\nI1,x\n", encoding="utf-8")
    record = plan_district(_job(folder, tmp_path / "out"))
    assert record["state"] == BAD_INPUT
    assert "inspectors.csv" in record["reason"]
    assert not (tmp_path / "out").exists()


def test_a_task_that_crashes_reports_where_instead_of_raising(tmp_path, monkeypatch):
    import riskplan.pipeline

    def broken(*args, **kwargs):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(riskplan.pipeline, "run_plan", broken)
    record = plan_district(_job(make_district(tmp_path / "d", 1), tmp_path / "out"))
    assert record["state"] == CRASHED
    assert "ZeroDivisionError" in record["reason"] and "planted" in record["reason"]


def test_staffing_levels_start_at_the_current_staffing():
    assert staffing_levels(8, (0.5, 0.75, 1.0, 1.25)) == [8, 4, 6, 10]
    assert staffing_levels(1, (0.1, 2.0)) == [1, 2]


def _manifest(whatif: bool = False) -> dict:
    figures = {"enterprises_red": 1, "enterprises_orange": 2, "enterprises_yellow": 3, "enterprises_blue": 4,
               "enterprises": 10, "visits_requested": 10, "visits_placed": 8, "mandatory_requested": 6,
               "mandatory_placed": 5, "mandatory_coverage": 0.8333, "drawn_requested": 4, "drawn_placed": 3,
               "missing_red_monthly": 1, "missing_orange_due": 0, "missing_follow_up": 0, "missing_pinned": 0,
               "missing_drawn": 1, "missing_total": 2, "inspector_visits": 12, "capacity": 40,
               "utilisation": 0.3, "solver_status": "OPTIMAL"}
    if whatif:
        figures.update({"certified_inspectors": 4, "whatif_levels": "2–6", "minimal_staffing": 5,
                        "extra_inspector_mandatory": 1, "extra_inspector_visits": 2})
    other = dict(figures, visits_placed=2, mandatory_requested=4, mandatory_placed=1, inspector_visits=8, capacity=10)
    if whatif:
        other["minimal_staffing"] = 3
    options = {"whatif": {"levels": [0.5], "qualification": "hazchem"}} if whatif else {}
    return {"quarter": QUARTER, "province_seed": 3, "seed_rule": "rule", "options": options, "districts": {
        "east": {"seed": 1, "state": "done", "reason": "", "figures": figures},
        "west": {"seed": 2, "state": "done", "reason": "", "figures": other},
        "bad": {"seed": 3, "state": "bad input", "reason": "enterprises.csv row 4: employees", "figures": {}}}}


def test_the_total_row_adds_finished_districts_and_takes_the_provinces_ratios():
    frame = summary_frame(_manifest(), ["east", "west", "bad"])
    total = frame.iloc[-1]
    assert total["visits_placed"] == 10 and total["mandatory_requested"] == 10 and total["mandatory_placed"] == 6
    assert total["mandatory_coverage"] == 0.6  # 6 / 10, not the mean of 0.8333 and 0.25
    assert total["utilisation"] == 0.4  # 20 / 50
    assert frame.iloc[2]["visits_placed"] is pd.NA  # the failed district adds nothing
    assert "minimal_staffing" not in frame.columns


def test_the_whatif_columns_and_their_total():
    frame = summary_frame(_manifest(whatif=True), ["east", "west", "bad"])
    assert list(frame["minimal_staffing"][:2]) == [5, 3] and frame.iloc[-1]["minimal_staffing"] == 8
    assert frame.iloc[-1]["extra_inspector_visits"] == 4
    unmet = _manifest(whatif=True)
    unmet["districts"]["west"]["figures"]["minimal_staffing"] = None  # no level met the policy there
    assert summary_frame(unmet, ["east", "west"]).iloc[-1]["minimal_staffing"] is pd.NA


def test_the_summary_is_chinese_by_default_and_english_on_request(tmp_path, monkeypatch):
    monkeypatch.delenv("RISKPLAN_LANG")
    for lang, header, state in (("zh", "必查覆盖率", "输入有误"), ("en", "mandatory_coverage", "bad input")):
        out = tmp_path / lang
        out.mkdir()
        with language(None if lang == "zh" else "en"):
            paths = write_summary(out, _manifest(whatif=True), ["east", "west", "bad"])
        book = pd.read_excel(paths[0], engine="openpyxl")
        assert header in book.columns and state in set(book.iloc[:, 2])
        html = paths[1].read_text(encoding="utf-8")
        assert header in html and "data:image/png;base64," in html
        assert paths[2].read_bytes().startswith(b"\x89PNG")
    with language("zh"):
        html = summary_html(summary_frame(_manifest(), ["east"]), _manifest(), b"")
    assert 'lang="zh-CN"' in html and "全省合计" in html


def test_the_same_manifest_gives_the_same_summary_bytes(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        write_summary(tmp_path / name, _manifest(whatif=True), ["east", "west", "bad"])
    for file in ("province_summary.xlsx", "province_summary.html", "province_summary.png"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_a_province_task_with_whatif_records_staffing_figures(tmp_path):
    folder = make_district(tmp_path / "d", 2)
    record = plan_district(_job(folder, tmp_path / "out", whatif_levels=(0.5, 1.5)))
    assert record["state"] == "done", record["reason"]
    figures = record["figures"]
    assert figures["certified_inspectors"] == 4 and figures["whatif_levels"] == "2–6"
    assert figures["minimal_staffing"] is None or 2 <= figures["minimal_staffing"] <= 6
    from riskplan.analysis.whatif import Scenario, run_whatif

    direct = run_whatif(folder, QUARTER, 11, [Scenario(inspectors=n) for n in (4, 2, 6)],
                        tiers_path=tmp_path / "out" / "plan" / "tiers.csv", time_limit=TIME_LIMIT, workers=1)
    assert figures["minimal_staffing"] == direct.minimal_staffing
    assert figures["extra_inspector_visits"] == direct.extra["visits_gained"]
    json.dumps(record)  # the manifest takes it as it is

"""The changes report of a re-plan (riskplan.export.changes_report): each visit classified from
hand-built old and new rosters, the notices each inspector receives, Chinese by default, and the
same bytes for the same inputs."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from riskplan.export.changes_report import changes_files, classify, notices, visit_changes
from riskplan.io import read_csv_text, read_table_text

COLUMNS = ["visit_id", "enterprise_id", "enterprise_name", "subdistrict", "tier", "basis", "obligations",
           "window_start", "window_end", "date", "inspectors"]
INSPECTORS = pd.DataFrame({"inspector_id": ["A", "B", "C", "D", "E"], "name": ["张三", "李四", "王五", "赵六", "钱七"]})


def visit(vid: str, date: str, team: str, name: str = "") -> dict:
    return {"visit_id": vid, "enterprise_id": f"E{vid}", "enterprise_name": name or f"企业{vid}",
            "subdistrict": "梅园街道", "tier": "red", "basis": "mandatory", "obligations": "red_month_1",
            "window_start": "2027-02-01", "window_end": "2027-02-28", "date": date, "inspectors": team}


OLD = pd.DataFrame([visit("V1", "2027-02-18", "A;B", "甲公司"), visit("V2", "2027-02-18", "A;C"),
                    visit("V3", "2027-02-19", "B;C"), visit("V4", "2027-02-22", "C;D"),
                    visit("V5", "2027-02-23", "D;E")], columns=COLUMNS)
NEW = pd.DataFrame([visit("V1", "2027-02-25", "B;A", "甲公司"),  # moved (the same team, another order)
                    visit("V2", "2027-02-18", "C;D"),  # re-teamed: A out, D in
                    visit("V3", "2027-03-01", "E;C"),  # moved and re-teamed: B out, E in
                    visit("V5", "2027-02-23", "D;E"),  # unchanged; V4 dropped
                    visit("V6", "2027-02-26", "A;E")], columns=COLUMNS)  # added
REASONS = {"V1": "张三请假 2月18日至2月22日", "V4": "企业已关闭。", "V6": "事故后复查 2月20日"}


def test_each_visit_is_classified():
    assert classify(OLD, NEW) == {"V1": "moved", "V2": "reteamed", "V3": "moved_reteamed", "V4": "dropped",
                                  "V6": "added"}
    assert classify(OLD, OLD) == {}


def test_timestamps_and_text_dates_compare_alike():
    typed = NEW.assign(date=pd.to_datetime(NEW["date"]))
    assert classify(OLD, typed) == classify(OLD, NEW)


def test_the_changes_table():
    frame = visit_changes(OLD, NEW, REASONS)
    assert list(frame["visit_id"]) == ["V1", "V2", "V3", "V4", "V6"]  # by the date planned, then id
    v3 = frame.set_index("visit_id").loc["V3"]
    assert (v3["old_date"], v3["new_date"], v3["old_inspectors"], v3["new_inspectors"]) == \
        ("2027-02-19", "2027-03-01", "B;C", "C;E")
    v4 = frame.set_index("visit_id").loc["V4"]
    assert (v4["new_date"], v4["new_inspectors"], v4["reason"]) == ("", "", "企业已关闭。")


def test_each_inspector_is_told_what_changed_for_them():
    told = notices(visit_changes(OLD, NEW, REASONS), INSPECTORS)
    by = {(r.inspector_id, r.visit_id): r.notice for r in told.itertuples()}
    assert set(by) == {("A", "V1"), ("B", "V1"), ("A", "V2"), ("C", "V2"), ("D", "V2"), ("B", "V3"), ("C", "V3"),
                       ("E", "V3"), ("C", "V4"), ("D", "V4"), ("A", "V6"), ("E", "V6")}
    assert by["A", "V1"] == ("Your visit to 甲公司 (V1) planned for Feb 18 is moved to Feb 25. "
                             "Reason: 张三请假 2月18日至2月22日.")
    assert "no longer go" in by["A", "V2"] and "王五, 赵六 will go instead" in by["A", "V2"]
    assert "now go on the visit" in by["D", "V2"] and "with 王五" in by["D", "V2"]
    assert "now goes with 赵六" in by["C", "V2"]
    assert "no longer go" in by["B", "V3"] and "planned for Feb 19" in by["B", "V3"]
    assert "is moved to Mar 1, with 钱七" in by["C", "V3"]
    assert "is cancelled" in by["D", "V4"] and by["D", "V4"].endswith("Reason: 企业已关闭.")
    assert by["E", "V6"].startswith("New visit for you: 企业V6 (V6) on Feb 26, with 张三")
    dates = {(r.inspector_id, r.visit_id): r.date for r in told.itertuples()}
    assert dates["B", "V3"] == "2027-02-19" and dates["E", "V3"] == "2027-03-01"  # the day that concerns them
    assert list(told["inspector_id"]) == sorted(told["inspector_id"])
    assert ("E", "V5") not in by  # unchanged visits are nobody's news


def test_the_files_in_chinese_by_default(chinese):
    files = changes_files(OLD, NEW, REASONS, INSPECTORS)
    assert sorted(files) == ["changes.csv", "changes.xlsx", "notices.csv"]
    assert files["changes.csv"].startswith(b"\xef\xbb\xbf") and files["notices.csv"].startswith(b"\xef\xbb\xbf")
    text = files["changes.csv"].decode("utf-8-sig")
    assert text.splitlines()[0] == ("检查编号,统一社会信用代码,企业名称,所属街道,检查类别,变更情况,原定日期,调整后日期,"
                                    "原执法人员,调整后执法人员,变更原因")
    assert {"改期", "调整人员", "改期并调整人员", "取消", "新增"} <= set(text.replace("\n", ",").split(","))
    notices_text = files["notices.csv"].decode("utf-8-sig")
    assert "您原定于2月18日检查的甲公司（检查编号 V1）改为2月25日。原因：张三请假 2月18日至2月22日。" in notices_text
    assert "您原定于2月22日对企业V4（检查编号 V4）的检查已取消。原因：企业已关闭。" in notices_text
    back = read_csv_text(io.BytesIO(files["changes.csv"]), table="visit_changes")
    assert list(back["change"]) == ["moved", "reteamed", "moved_reteamed", "dropped", "added"]


def test_the_workbook_holds_both_tables(tmp_path):
    files = changes_files(OLD, NEW, REASONS, INSPECTORS)
    path = tmp_path / "changes.xlsx"
    path.write_bytes(files["changes.xlsx"])
    from riskplan.io import workbook_sheets

    assert workbook_sheets(path) == ["changes", "notices"]
    assert list(read_table_text(path, "changes")["visit_id"]) == ["V1", "V2", "V3", "V4", "V6"]
    assert len(read_table_text(path, "notices")) == 12


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_same_inputs_give_the_same_bytes(lang):
    from riskplan.i18n import language

    with language(lang):
        first = changes_files(OLD, NEW, REASONS, INSPECTORS)
        shuffled = changes_files(OLD.sample(frac=1, random_state=1), NEW.sample(frac=1, random_state=2),
                                 dict(reversed(list(REASONS.items()))), INSPECTORS.iloc[::-1])
    assert first == shuffled


def test_no_change_gives_empty_tables():
    files = changes_files(OLD, OLD, {}, INSPECTORS)
    assert files["changes.csv"].decode("utf-8-sig").count("\n") == 1
    assert files["notices.csv"].decode("utf-8-sig").count("\n") == 1

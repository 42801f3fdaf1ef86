"""What changed in a district's own tables since its plan (riskplan.load.changes.detect_changes):
against the snapshot a plan keeps in OUT/inputs/, and by fingerprints for a plan without one."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from riskplan.export.plan_inputs import snapshot_files
from riskplan.load.changes import CHANGE_COLUMNS, SNAPSHOT_FILES, detect_changes
from riskplan.load.district import load_district

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def district():
    return load_district(SAMPLE)


def plan_folder(folder: Path, district, snapshot: bool = True) -> Path:
    """What detection reads of a plan folder: plan.json (quarter, input fingerprints) and inputs/."""
    folder.mkdir()
    (folder / "plan.json").write_text(json.dumps({"quarter": "2027Q1", "inputs": district.fingerprints()}))
    if snapshot:
        for name, data in snapshot_files(district).items():
            (folder / name).parent.mkdir(exist_ok=True)
            (folder / name).write_bytes(data)
    return folder


def rows(frame: pd.DataFrame) -> list[tuple]:
    return [(r.change, r.inspector_id, r.enterprise_id, r.source) for r in frame.itertuples()]


def test_nothing_changed(tmp_path, district):
    found = detect_changes(district, plan_folder(tmp_path / "out", district))
    assert tuple(found.columns) == CHANGE_COLUMNS and len(found) == 0


def test_the_snapshot_is_the_small_tables_as_read(district):
    files = snapshot_files(district)
    assert sorted(files) == sorted(f"inputs/{name}" for name in SNAPSHOT_FILES.values())
    assert "inputs/enterprises.csv" not in files  # a plan folder must not look like a district folder
    assert all(data.startswith(b"\xef\xbb\xbf") for data in files.values())
    assert snapshot_files(district) == files
    head = files["inputs/leave.csv"].decode("utf-8-sig").splitlines()
    assert head[0] == "inspector_id,start,end" and len(head) == len(district.leave) + 1


def test_inspectors_gone_uncertified_and_with_a_new_capacity(tmp_path, district):
    out = plan_folder(tmp_path / "out", district)
    insp = district.inspectors.copy()
    insp.loc[insp["inspector_id"] == "ZF001", "weekly_capacity"] = 7
    insp.loc[insp["inspector_id"] == "ZF002", "certified"] = 0
    insp = insp[insp["inspector_id"] != "ZF003"]
    found = detect_changes(replace(district, inspectors=insp), out)
    assert rows(found) == [("capacity", "ZF001", "", "inspectors"), ("leaves_bureau", "ZF002", "", "inspectors"),
                           ("leaves_bureau", "ZF003", "", "inspectors")]
    assert found.iloc[0]["capacity"] == 7 and pd.isna(found.iloc[1]["capacity"])
    assert "certified" in found.iloc[1]["reason"] and found["row"].isna().all()


def test_leave_added_and_removed(tmp_path, district):
    out = plan_folder(tmp_path / "out", district)
    leave = district.leave.copy()
    in_quarter = leave[(leave["start"] <= "2027-03-31") & (leave["end"] >= "2027-01-01")]
    gone = in_quarter.index[0]
    removed = leave.loc[gone]
    leave = leave.drop(index=gone)
    leave.loc[len(leave) + 100] = ["ZF005", pd.Timestamp("2027-02-15"), pd.Timestamp("2027-03-07")]
    leave.loc[len(leave) + 101] = ["ZF005", pd.Timestamp("2027-05-01"), pd.Timestamp("2027-05-03")]  # next quarter
    found = detect_changes(replace(district, leave=leave), out)
    assert rows(found) == [("leave_cancelled", removed["inspector_id"], "", "leave"), ("leave", "ZF005", "", "leave")]
    assert (found.iloc[1]["start"], found.iloc[1]["end"]) == (pd.Timestamp("2027-02-15"), pd.Timestamp("2027-03-07"))
    assert found.iloc[0]["start"] == removed["start"]


def test_a_conflict_added(tmp_path, district):
    out = plan_folder(tmp_path / "out", district)
    eid = district.enterprises["enterprise_id"].iloc[0]
    conflicts = pd.concat([district.conflicts, pd.DataFrame([{"inspector_id": "ZF004", "enterprise_id": eid,
                                                              "reason": "亲属任职"}])], ignore_index=True)
    conflicts = conflicts.iloc[1:]  # a conflict removed asks nothing of the roster
    found = detect_changes(replace(district, conflicts=conflicts), out)
    assert rows(found) == [("conflict", "ZF004", eid, "conflicts")]
    assert "亲属任职" in found.iloc[0]["reason"]


def test_pinned_visits_added_and_removed(tmp_path, district):
    out = plan_folder(tmp_path / "out", district)
    pinned = district.pinned.copy()
    first = pinned.iloc[0]
    eid = district.enterprises["enterprise_id"].iloc[5]
    pinned = pinned.iloc[1:]
    pinned.loc[999] = [eid, "信访投诉", pd.Timestamp("2027-03-01"), pd.Timestamp("2027-03-10")]
    found = detect_changes(replace(district, pinned=pinned), out)
    assert rows(found) == [("pinned_removed", "", first["enterprise_id"], "pinned"), ("pinned_visit", "", eid, "pinned")]
    assert found.iloc[1]["reason"] == "信访投诉" and found.iloc[1]["end"] == pd.Timestamp("2027-03-10")


def test_an_enterprise_gone_from_the_register_is_closed(tmp_path, district):
    out = plan_folder(tmp_path / "out", district)
    eid, name = district.enterprises[["enterprise_id", "name"]].iloc[3]
    found = detect_changes(replace(district, enterprises=district.enterprises[district.enterprises["enterprise_id"]
                                                                               != eid]), out)
    assert rows(found) == [("enterprise_closed", "", eid, "enterprises")] and name in found.iloc[0]["reason"]


def test_without_a_snapshot_the_changed_tables_are_named(tmp_path, district):
    folder = tmp_path / "d"
    shutil.copytree(SAMPLE, folder)
    before = load_district(folder)
    out = plan_folder(tmp_path / "out", before, snapshot=False)
    assert len(detect_changes(before, out)) == 0
    with open(folder / "leave.csv", "a", encoding="utf-8") as fh:
        fh.write("ZF005,2027-02-15,2027-03-07\n")
    (folder / "pinned.csv").unlink()
    with open(folder / "inspections.csv", "a", encoding="utf-8") as fh:  # history: not a change to the roster
        fh.write(open(folder / "inspections.csv", encoding="utf-8").read().splitlines()[1] + "\n")
    found = detect_changes(load_district(folder), out)
    assert rows(found) == [("table_changed", "", "", "leave"), ("table_changed", "", "", "pinned")]
    assert "leave.csv changed" in found.iloc[0]["reason"] and "cannot be listed" in found.iloc[0]["reason"]
    assert "pinned.csv is gone" in found.iloc[1]["reason"]

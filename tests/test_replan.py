"""`riskplan replan`: the frozen past stays byte for byte, each change kind is applied, the
published draw is kept, and the independent checker passes on every re-planned roster (and
fails when a re-plan is tampered with)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from riskplan.check.checker import check_roster
from riskplan.cli import main
from riskplan.io import frame_to_csv_bytes
from riskplan.pipeline import run_plan
from riskplan.replan import run_replan
from riskplan.synth.district import generate_district

FROM = date(2027, 2, 15)
COLUMNS = ["visit_id", "enterprise_id", "enterprise_name", "subdistrict", "tier", "basis", "obligations",
           "window_start", "window_end", "date", "inspectors"]


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("replan")
    generate_district(root / "d", "S", seed=4, n_enterprises=500, n_inspectors=10)
    run_plan(root / "d", "2027Q1", 5, out_dir=root / "out", time_limit=20)
    assert check_roster(root / "d", root / "out") == []
    return root


def roster(folder: Path) -> pd.DataFrame:
    frame = pd.read_csv(folder / "roster.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    frame.columns = COLUMNS
    return frame


def lines_by_id(folder: Path) -> dict[str, str]:
    text = (folder / "roster.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    return {line.split(",")[0]: line for line in text}


def changes(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    for col in ("start", "end"):
        frame[col] = pd.to_datetime(frame[col]) if col in frame else pd.NaT
    return frame


def after_from(folder: Path) -> pd.DataFrame:
    r = roster(folder)
    return r[r["date"] >= FROM.isoformat()]


def busiest(folder: Path, k: int = 0) -> str:
    c = Counter(i for cell in after_from(folder)["inspectors"] for i in cell.split(";"))
    return sorted(c, key=lambda i: (-c[i], i))[k]


_DONE: dict[tuple[Path, str], tuple] = {}


def replanned(planned: Path, name: str, table: pd.DataFrame | None, district: Path | None = None, **kw):
    """NEW/ for these changes, judged by the checker (once per name: tests share a re-plan)."""
    if (planned, name) in _DONE:
        return _DONE[(planned, name)]
    out = planned / name
    shutil.rmtree(out, ignore_errors=True)
    result = run_replan(district or planned / "d", planned / "out", kw.pop("from_date", FROM), table, out_dir=out,
                        time_limit=20, **kw)
    violations = check_roster(district or planned / "d", out)
    assert violations == [], "\n".join(map(str, violations[:10]))
    _DONE[(planned, name)] = out, result
    return out, result


def assert_frozen_and_draw(planned: Path, out: Path, frozen_ids: set[str] | None = None) -> None:
    old, new = lines_by_id(planned / "out"), lines_by_id(out)
    before = roster(planned / "out")
    frozen = set(before.loc[before["date"] < FROM.isoformat(), "visit_id"]) | (frozen_ids or set())
    assert frozen and all(new[v] == old[v] for v in frozen)  # byte for byte
    assert (out / "draw.csv").read_bytes() == (planned / "out" / "draw.csv").read_bytes()
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    visited = set(roster(out).query("basis in ['drawn', '随机抽查']")["enterprise_id"])
    reported = {r["enterprise_id"] for r in plan["shortfall"]["drawn_not_placed"]}
    old_drawn = set(before.query("basis in ['drawn', '随机抽查']")["enterprise_id"])
    assert old_drawn <= visited | reported  # drawn stays drawn
    assert visited <= old_drawn | reported | {r["enterprise_id"] for r in json.loads(
        (planned / "out" / "plan.json").read_text(encoding="utf-8"))["shortfall"]["drawn_not_placed"]}


def test_no_change_keeps_every_visit(planned):
    out, result = replanned(planned, "none", None)
    assert result.summary["changed"] == 0 and result.summary["lower_bound"] == 0
    assert lines_by_id(out) == lines_by_id(planned / "out")


def test_leave_moves_only_what_it_must(planned):
    who = busiest(planned / "out")
    out, result = replanned(planned, "leave", changes(
        {"change": "leave", "inspector_id": who, "start": "2027-02-15", "end": "2027-03-05", "reason": "sick"}))
    assert_frozen_and_draw(planned, out)
    new = after_from(out)
    on_leave = new[(new["date"] <= "2027-03-05") & new["inspectors"].str.contains(who)]
    assert on_leave.empty
    s = result.summary
    hit = after_from(planned / "out")
    hit = hit[(hit["date"] <= "2027-03-05") & hit["inspectors"].str.contains(who)]
    assert s["lower_bound"] >= len(hit) > 0
    assert s["changed"] >= s["lower_bound"]
    assert len(s["moved"]) + len(s["reteamed"]) + len(s["dropped"]) + len(s["added"]) == s["changed"]
    assert (out / "changes_applied.csv").exists() and (out / "changes.csv").exists()
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert plan["replan"]["revises"]["plan_id"] == json.loads(
        (planned / "out" / "plan.json").read_text(encoding="utf-8"))["plan_id"]


def _kinds(planned: Path) -> dict[str, pd.DataFrame]:
    late = after_from(planned / "out")
    ents = sorted(late["enterprise_id"])
    everyone = set(pd.read_csv(planned / "d" / "enterprises.csv", dtype=str)["enterprise_id"])
    unvisited = sorted(everyone - set(roster(planned / "out")["enterprise_id"]))
    return {
        "leave": changes({"change": "leave", "inspector_id": busiest(planned / "out"), "start": "2027-02-10",
                          "end": "2027-03-10", "reason": "sick"}),
        "leaves_bureau": changes({"change": "leaves_bureau", "inspector_id": busiest(planned / "out", 1),
                                  "start": "2027-03-01", "reason": "seconded"}),
        "capacity": changes({"change": "capacity", "inspector_id": busiest(planned / "out", 2), "start": "2027-02-15",
                             "capacity": 1, "reason": "campaign"}),
        "enterprise_closed": changes({"change": "enterprise_closed", "enterprise_id": ents[-1], "start": "2027-02-20",
                                      "reason": "closed down"}),
        "enterprise_suspended": changes({"change": "enterprise_suspended", "enterprise_id": ents[0],
                                         "start": "2027-02-16", "end": "2027-03-10", "reason": "suspended"}),
        "urgent_visit": changes({"change": "urgent_visit", "enterprise_id": unvisited[0], "start": "2027-02-20",
                                 "end": "2027-02-26", "reason": "accident follow-up 2月20日"}),
        "pinned_visit": changes({"change": "pinned_visit", "enterprise_id": unvisited[1], "start": "2027-03-01",
                                 "end": "2027-03-31", "reason": "ordered by the city"}),
        "cancel_visit": changes({"change": "cancel_visit", "visit_id": late["visit_id"].iloc[2],
                                 "reason": "order from above"}),
    }


@pytest.mark.parametrize("kind", ["leave", "leaves_bureau", "capacity", "enterprise_closed", "enterprise_suspended",
                                  "urgent_visit", "pinned_visit", "cancel_visit"])
def test_each_change_kind(planned, kind):
    table = _kinds(planned)[kind]
    out, result = replanned(planned, f"kind_{kind}", table)
    assert_frozen_and_draw(planned, out)
    row = table.iloc[0]
    new = after_from(out)
    unplaced = pd.read_csv(out / "unplaced.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    if kind in ("enterprise_closed", "enterprise_suspended"):
        end = "2027-03-31" if kind == "enterprise_closed" else "2027-03-10"
        gone = new[(new["enterprise_id"] == row.enterprise_id) & new["date"].between(row.start.date().isoformat(), end)]
        assert gone.empty
        had = after_from(planned / "out")
        if (had["enterprise_id"] == row.enterprise_id).any():
            assert unplaced.iloc[:, -1].str.contains(row.reason).any()
            assert result.summary["dropped"]
    elif kind in ("urgent_visit", "pinned_visit"):
        placed = new[new["enterprise_id"] == row.enterprise_id]
        assert len(placed) == 1 and row.start.date().isoformat() <= placed["date"].iloc[0] <= row.end.date().isoformat()
        assert result.summary["added"] == list(placed["visit_id"])
        assert result.reasons[placed["visit_id"].iloc[0]] == row.reason
    elif kind == "cancel_visit":
        assert row.visit_id not in set(roster(out)["visit_id"])
        assert row.visit_id in result.summary["dropped"] and "order from above" in result.reasons[row.visit_id]
    elif kind in ("leave", "leaves_bureau"):
        end = "2027-03-10" if kind == "leave" else "2027-03-31"
        late = new[new["date"].between(row.start.date().isoformat(), end)]
        assert not late["inspectors"].str.contains(row.inspector_id).any()
    assert result.summary["changed"] >= result.summary["lower_bound"] - len(result.summary["added"]) >= 0


def test_all_changes_together(planned):
    kinds = _kinds(planned)
    table = pd.concat([kinds[k] for k in kinds], ignore_index=True)
    out, result = replanned(planned, "combined", table)
    assert_frozen_and_draw(planned, out)
    assert result.summary["changed"] >= result.summary["lower_bound"] > 0


def test_done_visit_is_frozen_whatever_its_date(planned, tmp_path):
    district = tmp_path / "d"
    shutil.copytree(planned / "d", district)
    late = after_from(planned / "out").sort_values("date")
    done = late.iloc[0]
    ins = pd.read_csv(district / "inspections.csv", dtype=str, keep_default_na=False)
    ins["visit_id"] = ""
    row = {c: "" for c in ins.columns} | {"enterprise_id": done.enterprise_id, "date": done.date,
                                         "inspectors": done.inspectors, "hazards_found": "0",
                                         "major_hazards_found": "0", "penalized": "0", "visit_id": done.visit_id}
    ins = pd.concat([ins, pd.DataFrame([row])], ignore_index=True)
    (district / "inspections.csv").write_bytes(frame_to_csv_bytes(ins))
    who = done.inspectors.split(";")[0]
    out, result = replanned(planned, "done", changes(
        {"change": "leave", "inspector_id": who, "start": "2027-02-15", "end": "2027-03-31", "reason": "sick"}),
        district=district)
    assert lines_by_id(out)[done.visit_id] == lines_by_id(planned / "out")[done.visit_id]
    assert result.summary["frozen"] == len(roster(planned / "out").query("date < '2027-02-15'")) + 1


def test_cancelling_a_frozen_visit_is_refused(planned):
    early = roster(planned / "out").query("date < '2027-02-15'")["visit_id"].iloc[0]
    with pytest.raises(ValueError, match="cannot be cancelled"):
        run_replan(planned / "d", planned / "out", FROM, changes({"change": "cancel_visit", "visit_id": early}),
                   out_dir=planned / "refused")
    assert not (planned / "refused").exists()


# ---------------------------------------------------------------- the checker catches tampering

def _tampered(planned: Path, source: str, name: str, edit) -> list:
    m = planned / f"tampered_{name}"
    shutil.rmtree(m, ignore_errors=True)
    shutil.copytree(planned / source, m)
    frame = pd.read_csv(m / "roster.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    frame.columns = COLUMNS
    edited = edit(frame)
    (m / "roster.csv").write_bytes(frame_to_csv_bytes(frame if edited is None else edited))
    return sorted({v.rule for v in check_roster(planned / "d", m)})


def test_checker_fails_a_moved_frozen_visit(planned):
    replanned(planned, "kind_leave", _kinds(planned)["leave"])

    def edit(f):
        i = f.index[f["date"] < "2027-02-10"][0]
        f.loc[i, "date"] = "2027-02-09" if f.loc[i, "date"] != "2027-02-09" else "2027-02-08"
    assert "replan_respected" in _tampered(planned, "kind_leave", "frozen", edit)


def test_checker_fails_a_silently_dropped_drawn_visit(planned):
    replanned(planned, "kind_leave", _kinds(planned)["leave"])

    def edit(f):
        return f.drop(f.index[(f["basis"].isin(["drawn", "随机抽查"])) & (f["date"] > "2027-02-20")][0])
    assert _tampered(planned, "kind_leave", "drawn", edit) == ["exact_draw"]


def test_checker_fails_a_visit_during_new_leave(planned):
    table = _kinds(planned)["leave"]
    replanned(planned, "kind_leave", table)
    who = table.iloc[0].inspector_id

    def edit(f):
        i = f.index[f["date"].between("2027-02-16", "2027-03-04") & ~f["inspectors"].str.contains(who)][0]
        team = f.loc[i, "inspectors"].split(";")
        f.loc[i, "inspectors"] = ";".join(sorted([who] + team[1:]))
    assert "inspector_not_on_leave" in _tampered(planned, "kind_leave", "leave", edit)


def test_checker_fails_a_closed_enterprise_visited(planned):
    table = _kinds(planned)["enterprise_closed"]
    replanned(planned, "kind_enterprise_closed", table)
    eid = table.iloc[0].enterprise_id

    def edit(f):
        i = f.index[(f["date"] >= "2027-02-22") & (f["enterprise_id"] != eid)][0]
        f.loc[i, ["enterprise_id", "enterprise_name", "subdistrict", "tier"]] = roster(planned / "out").query(
            "enterprise_id == @eid").iloc[0][["enterprise_id", "enterprise_name", "subdistrict", "tier"]].values
    assert "replan_respected" in _tampered(planned, "kind_enterprise_closed", "closed", edit)


def test_checker_fails_a_missing_urgent_visit(planned):
    table = _kinds(planned)["urgent_visit"]
    replanned(planned, "kind_urgent_visit", table)

    def edit(f):
        return f.drop(f.index[f["obligations"].str.startswith("urgent_")])
    assert _tampered(planned, "kind_urgent_visit", "urgent", edit) == ["mandatory_coverage"]


def test_checker_fails_capacity_beyond_a_reduction(planned):
    table = _kinds(planned)["capacity"]
    out, _result = replanned(planned, "kind_capacity", table)
    who = table.iloc[0].inspector_id

    def edit(f):
        late = f.index[(f["date"] >= "2027-03-01") & ~f["inspectors"].str.contains(who)]
        for i in late[:12]:
            team = f.loc[i, "inspectors"].split(";")
            f.loc[i, "inspectors"] = ";".join(sorted([who] + team[1:]))
    assert "inspector_weekly_capacity" in _tampered(planned, "kind_capacity", "capacity", edit)



def test_checker_judges_the_reduced_capacity_not_the_tables(planned):
    """A March week brought to the inspectors table's own limit stays inside that capacity but
    not the changed capacity of 1: only a checker that reads the capacity change flags it."""
    table = _kinds(planned)["capacity"]
    replanned(planned, "kind_capacity", table)
    who = table.iloc[0].inspector_id
    capacity = int(pd.read_csv(planned / "d" / "inspectors.csv", dtype=str).set_index("inspector_id")
                   .loc[who, "weekly_capacity"])
    assert capacity >= 2  # above the changed capacity

    def edit(f):
        in_week = (f["date"] >= "2027-03-08") & (f["date"] <= "2027-03-12")
        mine = f[in_week & f["inspectors"].str.contains(who)]
        assert len(mine) <= 1  # the re-plan kept the reduced capacity
        week = f[in_week & ~f["inspectors"].str.contains(who) & ~f["date"].isin(mine["date"])]
        picked = week.drop_duplicates("date").index[:capacity - len(mine)]
        assert len(picked) == capacity - len(mine)
        for i in picked:
            team = f.loc[i, "inspectors"].split(";")
            f.loc[i, "inspectors"] = ";".join(sorted([who] + team[1:]))
    assert "inspector_weekly_capacity" in _tampered(planned, "kind_capacity", "capacity_two", edit)


# ---------------------------------------------------------------- the command

def test_cli_replan_and_errors(planned, tmp_path):
    changes_csv = tmp_path / "changes.csv"
    pd.DataFrame([{"change": "leave", "inspector_id": busiest(planned / "out"), "start": "2027-02-15",
                   "end": "2027-03-05", "reason": "sick"}]).to_csv(changes_csv, index=False)
    runner = CliRunner()
    r = runner.invoke(main, ["replan", str(planned / "d"), str(planned / "out"), "--from", "2027-02-15",
                             "--changes", str(changes_csv), "--out", str(tmp_path / "new")])
    assert r.exit_code == 0, r.output
    assert "frozen" in r.stdout and "lower bound" in r.stdout
    assert runner.invoke(main, ["check", str(planned / "d"), str(tmp_path / "new")]).exit_code == 0
    r = runner.invoke(main, ["replan", str(planned / "d"), str(planned / "out"), "--from", "2027-05-01",
                             "--out", str(tmp_path / "late")])
    assert r.exit_code == 2 and "outside the plan's quarter" in r.output and not (tmp_path / "late").exists()
    other = tmp_path / "other"
    generate_district(other, "S", seed=9, n_enterprises=200, n_inspectors=6)
    r = runner.invoke(main, ["replan", str(other), str(planned / "out"), "--from", "2027-02-15",
                             "--out", str(tmp_path / "foreign")])
    assert r.exit_code == 2 and "not a plan of this district" in r.output


def test_cli_speaks_chinese_by_default(planned, tmp_path, chinese):
    r = CliRunner().invoke(main, ["replan", str(planned / "d"), str(planned / "out"), "--from", "2027-02-15",
                                  "--out", str(tmp_path / "new")])
    assert r.exit_code == 0, r.output
    assert "冻结" in r.stdout and "下界" in r.stdout and "已公示的抽查名单保持不变" in r.stdout
    r = CliRunner().invoke(main, ["replan", str(planned / "d"), str(planned / "out"), "--from", "2027-07-01",
                                  "--out", str(tmp_path / "late")])
    assert r.exit_code == 2 and "不在计划所属季度" in r.output

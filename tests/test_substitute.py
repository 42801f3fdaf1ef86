"""`riskplan substitute` (issue 13): every suggestion passes the independent checker; inspectors
the rules exclude are never suggested and are counted under the right reason; ranking; whole
teams; other dates; --apply writes a plan `riskplan check` passes. On the sample district and
on a hard generated one (heavy leave, scarce hazchem, cross-area, many conflicts)."""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from riskplan.analysis.substitute import candidate_violations, find_substitutes, load_plan
from riskplan.check.calendar import iso_week_of
from riskplan.check.checker import check_roster
from riskplan.cli import main
from riskplan.domain.schema import split_list
from riskplan.pipeline import run_plan

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
TODAY = date(2026, 12, 1)  # before the planned quarter: no visit is past


def _plan(district: Path, out: Path, seed: int) -> Path:
    run_plan(district, "2027Q1", seed, out_dir=out, time_limit=10)
    assert check_roster(district, out) == []
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    base = tmp_path_factory.mktemp("sample")
    district = base / "district"
    shutil.copytree(SAMPLE, district)
    return district, _plan(district, base / "out", 7)


@pytest.fixture(scope="module")
def hard(tmp_path_factory):
    """A small generated district made hard the way benchmarks/hard_districts.py does, plus
    ten declared conflicts per inspector."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from hard_districts import make_hard
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    from riskplan.synth import generate_district

    base = tmp_path_factory.mktemp("hard")
    generate_district(base / "gen", size="S", seed=5, n_enterprises=500, n_inspectors=14, years=2)
    district = base / "district"
    make_hard(base / "gen", district, 5)
    ent = pd.read_csv(district / "enterprises.csv", dtype=str, encoding="utf-8-sig")["enterprise_id"]
    insp = pd.read_csv(district / "inspectors.csv", dtype=str, encoding="utf-8-sig")["inspector_id"]
    conflicts = pd.read_csv(district / "conflicts.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    rows = [{"inspector_id": i, "enterprise_id": e, "reason": "亲属"}
            for k, i in enumerate(insp) for e in ent.sample(10, random_state=k)]
    extra = pd.DataFrame(rows).reindex(columns=conflicts.columns, fill_value="")
    both = pd.concat([conflicts, extra]).drop_duplicates(["inspector_id", "enterprise_id"])
    both.to_csv(district / "conflicts.csv", index=False, encoding="utf-8-sig")
    return district, _plan(district, base / "out", 3)


def _visits(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "roster.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)


def _all_suggestions(district, out, n_visits):
    view = load_plan(district, out)
    found = []
    for k, row in enumerate(_visits(out).iloc[::7].head(n_visits).itertuples(index=False)):
        for member in [*split_list(row.inspectors), None]:
            found.append(find_substitutes(view.district, out, row.visit_id, member, top=3, today=TODAY,
                                          other_days=k % 2 == 0, view=view))
    return view, found


@pytest.mark.parametrize("which", ["sample", "hard"])
def test_every_suggestion_passes_the_checker_and_none_is_dropped(which, request):
    """The rule functions and the checker agree: no candidate the rules allow is rejected."""
    district, out = request.getfixturevalue(which)
    view, results = _all_suggestions(district, out, 6)
    suggested = [c for r in results for c in r.candidates + r.other_days]
    assert len(suggested) >= 10, "the test must see suggestions to mean anything"
    assert [r.rejected for r in results if r.rejected] == []
    for cand in suggested[::7]:  # again, independently of the search's own bookkeeping
        assert candidate_violations(view, cand) == []
    assert any(r.other_days for r in results) and any(c.date != r.date for r in results for c in r.other_days)
    for r in results:
        team = set(r.team)
        for c in r.candidates:
            assert c.date == r.date and set(c.team) - set(j.inspector_id for j in c.joining) == team - set(r.replacing)
        for c in r.other_days:
            assert c.date != r.date and c.date >= TODAY and not set(c.team) & set(r.replacing)


def test_whole_team_mode_returns_valid_pairs(hard):
    district, out = hard
    view = load_plan(district, out)
    pairs = []
    for row in _visits(out).itertuples(index=False):
        r = find_substitutes(view.district, out, row.visit_id, None, top=3, today=TODAY, view=view)
        assert r.rejected == []
        pairs += [(r, c) for c in r.candidates]
        if len(pairs) >= 6:
            break
    assert len(pairs) >= 6
    for r, c in pairs:
        assert len(set(c.team)) == 2 and not set(c.team) & set(r.team) and c.leaving == r.team


def _one_visit_days(out: Path) -> dict[tuple[str, str], int]:
    v = _visits(out)
    return Counter((i, d) for d, cell in zip(v["date"], v["inspectors"]) for i in split_list(cell))


def test_leave_and_recusal_added_after_the_plan_exclude_for_the_right_reason(hard, tmp_path):
    """The realistic case: leave and a conflict declared after the plan was made. The inspector on
    leave and the recused one are never suggested and are counted under those reasons."""
    district, out = hard
    roster = _visits(out)
    busy = _one_visit_days(out)
    ids = pd.read_csv(district / "inspectors.csv", dtype=str, encoding="utf-8-sig")
    certified = ids.loc[ids["certified"] == "1", "inspector_id"].tolist()
    for row in roster.itertuples(index=False):
        team = split_list(row.inspectors)
        week = iso_week_of(date.fromisoformat(row.date))
        # leave lowers the week's limit (rule 3): the one taken away has no visit that week
        idle = [i for i in certified if i not in team and not any(
            iso_week_of(date.fromisoformat(d)) == week for (j, d), n in busy.items() if j == i and n)]
        free = [i for i in certified if i not in team and busy[(i, row.date)] == 0]
        visited = {i for cell in roster.loc[roster["enterprise_id"] == row.enterprise_id, "inspectors"]
                   for i in split_list(cell)}
        before = find_substitutes(district, out, row.visit_id, team[0], today=TODAY)
        idle = [i for i in idle if any(i in (j.inspector_id for j in c.joining) for c in before.candidates)]
        free = [i for i in free if i not in visited and any(
            i in (j.inspector_id for j in c.joining) for c in before.candidates)]
        if idle and set(free) - {idle[0]}:
            break
    else:
        pytest.fail("no visit with two suggested inspectors to take away")
    away = idle[0]
    recused = next(i for i in free if i != away)
    changed = tmp_path / "district"
    shutil.copytree(district, changed)
    with open(changed / "leave.csv", "a", encoding="utf-8") as f:
        f.write(f"\n{away},{row.date},{row.date}\n")
    with open(changed / "conflicts.csv", "a", encoding="utf-8") as f:
        f.write(f"\n{recused},{row.enterprise_id},亲属在该企业任职\n")
    after = find_substitutes(changed, out, row.visit_id, team[0], today=TODAY)
    assert away not in before.exclusions.get("on_leave", []) and recused not in before.exclusions.get("recused", [])
    assert away in after.exclusions["on_leave"] and recused in after.exclusions["recused"]
    for res in (after,):
        assert res.rejected == [] and res.elsewhere == []  # the new tables break nothing else
        suggested = {j.inspector_id for c in res.candidates + res.other_days for j in c.joining}
        assert away not in suggested and recused not in suggested
    every = [i for ids_ in after.exclusions.values() for i in ids_]
    assert len(every) == len(set(every)), "one reason per inspector"


def test_a_member_holding_the_only_needed_qualification_is_replaced_by_a_holder(hard):
    """Replacing the team's only holder of a required qualification: every suggestion holds it, and
    certified inspectors free that day without it are counted as not qualified."""
    district, out = hard
    view = load_plan(district, out)
    inst = view.inst
    for row in _visits(out).itertuples(index=False):
        team = split_list(row.inspectors)
        e = inst.ent_ids.index(row.enterprise_id)
        for q in inst.ent_need[e]:
            holders = [i for i in team if inst.qual[q][inst.insp_ids.index(i)]]
            if len(holders) == 1:
                res = find_substitutes(view.district, out, row.visit_id, holders[0], today=TODAY, view=view)
                if res.candidates and res.exclusions.get("not_qualified"):
                    for c in res.candidates:
                        assert any(inst.qual[q][inst.insp_ids.index(j.inspector_id)] for j in c.joining)
                    assert not any(inst.qual[q][inst.insp_ids.index(i)] for i in res.exclusions["not_qualified"])
                    return
    pytest.fail("no visit with a single holder of a needed qualification and a substitute")


def test_ranking_lowest_resulting_load_then_travel_and_loads_are_the_rosters_own(sample):
    district, out = sample
    roster = _visits(out)
    view = load_plan(district, out)
    seen = 0
    for row in roster.iloc[::9].itertuples(index=False):
        res = find_substitutes(view.district, out, row.visit_id, split_list(row.inspectors)[0], top=4, today=TODAY,
                               view=view)
        keys = [(round(c.load_share, 9), max(round(j.week_share, 9) for j in c.joining), c.travel_change,
                 c.distance_km) for c in res.candidates]
        shares = [k[0] for k in keys]
        assert shares == sorted(shares)
        for a, b in zip(keys, keys[1:]):  # equal load: the week's share, then less travel first
            if a[0] == b[0]:
                assert a[1:2] <= b[1:2]
                if a[1] == b[1]:
                    assert a[2:] <= b[2:]
        for c in res.candidates:
            (j,) = c.joining
            mine = roster[roster["inspectors"].map(lambda cell, i=j.inspector_id: i in split_list(cell))]
            week = iso_week_of(c.date)
            assert j.quarter_visits == len(mine) + 1
            assert j.week_visits == sum(iso_week_of(date.fromisoformat(d)) == week for d in mine["date"]) + 1
            assert j.week_visits <= j.week_limit
            seen += 1
    assert seen >= 8


def _invoke(*args, env=None):
    return CliRunner().invoke(main, list(map(str, args)), env=env)


def test_apply_writes_a_plan_that_check_passes(sample, tmp_path):
    district, out = sample
    roster = _visits(out)
    view = load_plan(district, out)
    row = next(r for r in roster.itertuples(index=False)
               if find_substitutes(view.district, out, r.visit_id, split_list(r.inspectors)[1], today=TODAY,
                                   view=view).candidates)
    member = split_list(row.inspectors)[1]
    new = tmp_path / "new"
    res = _invoke("substitute", out, row.visit_id, district, "--inspector", member, "--today", TODAY, "--apply", 1,
                  "--out", new, "--lang", "en")
    assert res.exit_code == 0, res.output
    assert check_roster(district, new) == []
    assert _invoke("check", district, new).exit_code == 0
    after = _visits(new)
    assert after["visit_id"].tolist() == roster["visit_id"].tolist()
    changed = after[after["inspectors"] != roster["inspectors"]]
    assert changed["visit_id"].tolist() == [row.visit_id]
    assert member not in split_list(changed["inspectors"].iloc[0])
    assert (after.drop(columns="inspectors") == roster.drop(columns="inspectors")).all().all()
    plan = json.loads((new / "plan.json").read_text(encoding="utf-8"))
    (sub,) = plan["substitutions"]
    assert sub["visit_id"] == row.visit_id and sub["leaving"] == [member] and sub["revises"]["folder"] == out.name
    for name in ("draw.csv", "tiers.csv", "shortfall.csv", "unplaced.csv"):
        assert (new / name).read_bytes() == (out / name).read_bytes()
    # the changes report lists exactly this visit, re-teamed, and both the leaver and the joiner get a notice
    changes = pd.read_csv(new / "changes.csv", dtype=str, encoding="utf-8-sig")
    assert changes.iloc[:, 0].tolist() == [row.visit_id] or row.visit_id in changes.to_string()
    assert len(changes) == 1 and member in changes.to_string()
    notices = pd.read_csv(new / "notices.csv", dtype=str, encoding="utf-8-sig")
    told = set(notices.iloc[:, 0])
    assert member in told and (set(split_list(changed["inspectors"].iloc[0])) - set(split_list(row.inspectors))) <= told
    assert (new / "inputs").is_dir()
    again = _invoke("substitute", out, row.visit_id, district, "--inspector", member, "--today", TODAY, "--apply", 1,
                    "--out", new, "--lang", "en")
    assert again.exit_code == 2 and "exists" in again.output  # the one output guard: no silent overwrite


def test_errors_unknown_visit_member_not_on_it_past_and_recorded(sample, tmp_path):
    district, out = sample
    row = _visits(out).iloc[0]
    team = split_list(row.inspectors)
    other = next(i for i in pd.read_csv(district / "inspectors.csv", dtype=str, encoding="utf-8-sig")["inspector_id"]
                 if i not in team)
    cases = [
        ((out, "2027Q1-NOPE-00001", district), "not in the plan's roster"),
        ((out, row.visit_id, district, "--inspector", other), "is not on visit"),
        ((out, row.visit_id, district, "--today", "2027-03-31"), "before today"),
        ((out, row.visit_id, district, "--apply", 1), "--apply needs --out"),
    ]
    for args, said in cases:
        res = _invoke("substitute", *args, "--lang", "en")
        assert res.exit_code == 2 and said in res.output, (args, res.output)
    recorded = tmp_path / "district"
    shutil.copytree(district, recorded)
    hist = pd.read_csv(recorded / "inspections.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    hist["visit_id"] = ""
    done = {"enterprise_id": row.enterprise_id, "date": row.date, "inspectors": row.inspectors, "hazards_found": "0",
            "major_hazards_found": "0", "penalized": "0", "visit_id": row.visit_id}
    pd.concat([hist, pd.DataFrame([done])]).to_csv(recorded / "inspections.csv", index=False, encoding="utf-8-sig")
    res = _invoke("substitute", out, row.visit_id, recorded, "--today", TODAY, "--lang", "en")
    assert res.exit_code == 2 and "already recorded as done" in res.output, res.output


def test_chinese_by_default_with_a_table(sample, chinese):
    district, out = sample
    row = _visits(out).iloc[3]
    res = _invoke("substitute", out, row.visit_id, district, "--inspector", split_list(row.inspectors)[0],
                  "--today", TODAY, "--other-days")
    assert res.exit_code == 0, res.output
    assert "的替换人选" in res.output and "未推荐的人员" in res.output
    assert "新检查组" in res.output or "没有可行的替换人选" in res.output


def test_the_quick_checker_context_is_the_full_one(sample):
    """The in-memory context a candidate is checked in equals the checker's own, built from scratch."""
    from dataclasses import replace as dc_replace

    from riskplan.analysis.substitute import _context_with
    from riskplan.check.context import CheckContext

    district, out = sample
    view = load_plan(district, out)
    base = view.base
    visits = list(base.visits)
    visits[0] = dc_replace(visits[0], date=visits[1].date, inspectors=visits[1].inspectors)
    frame = base.roster_frame.copy()
    frame.loc[0, "inspectors"] = ";".join(visits[1].inspectors)
    plan = {**base.plan, "shortfall": {"unmet_obligations": [{"enterprise_id": "E", "obligation": "o"}]}}
    quick = _context_with(base, visits, frame, plan)
    full = CheckContext(base.district, base.out_dir, plan, base.quarter, base.seed, base.tiers, visits, frame,
                        base.obligations, base.draw, base.draw_error)
    a, b = vars(quick), vars(full)
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], (pd.DataFrame, pd.Series)):
            assert a[key].equals(b[key]), key
        else:
            assert a[key] == b[key], key

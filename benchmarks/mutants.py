"""Hand-made mutants of the roster rules, the obligations, the draw and the checker.

Each mutant is one realistic planted bug (an off-by-one, a rule left out, a boundary moved).
For every mutant, in a scratch copy of `src/`:

1. **tests**: the relevant test files run against the mutated code (`-x`); the mutant is
   killed when a test fails. `tests/test_roster_bytes.py` is left out: it compares recorded
   bytes and would kill every roster-changing mutant without saying which rule broke.
2. **check** (planner mutants): the mutated code plans the edge-case district
   (`edge_district.py`); when its roster, draw or obligations differ from the unmutated
   plan, the UNmutated `riskplan check` must report a violation (or the plan must fail).
   A mutant that changes nothing on that district is reported as "same plan".

    python benchmarks/mutants.py [--only ID ...] [--jobs N] [--out report.json]

Checker mutants are judged by the tests alone (the checker is what judges rosters).
Mutants whose snippet is not found in the code are reported as "not applicable", so one
list serves the code before and after a refactoring (a mutant may give several spellings).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOLVE_TESTS = ("tests/test_solver.py", "tests/test_greedy.py", "tests/test_shortfall.py", "tests/test_solve_*.py",
               "tests/test_checker.py", "tests/test_check_*.py", "tests/test_plan.py")
OBLIGATION_TESTS = ("tests/test_obligations.py", "tests/test_checker.py", "tests/test_check_*.py", "tests/test_plan.py",
                    "tests/test_draw.py", "tests/test_plan_ahead.py", "tests/test_quarter_to_quarter.py")
DRAW_TESTS = ("tests/test_draw.py", "tests/test_checker.py", "tests/test_check_*.py", "tests/test_publish.py",
              "tests/test_readme.py")
CALENDAR_TESTS = ("tests/test_calendar.py", "tests/test_china_calendar.py", "tests/test_solver.py",
                  "tests/test_checker.py", "tests/test_check_*.py", "tests/test_solve_*.py")
CHECK_TESTS = ("tests/test_checker.py", "tests/test_check_*.py", "tests/test_solver.py", "tests/test_solve_*.py",
               "tests/test_greedy.py", "tests/test_plan.py", "tests/test_plan_ahead.py",
               "tests/test_quarter_to_quarter.py")
VERIFY_TESTS = ("tests/test_verify_frame.py", "tests/test_publish.py")
MODEL_TESTS = ("tests/test_model_card_lies.py",)
FALLBACK_TESTS = ("tests/test_fallback_marked.py", "tests/test_plan.py")


@dataclass(frozen=True)
class Mutant:
    id: str
    kind: str  # "planner" or "checker"
    what: str
    file: str  # under src/riskplan/ (one of `files` for a mutant with spellings in several files)
    spellings: tuple[tuple[str, str], ...]  # (original snippet, mutated snippet): the first found is used
    tests: tuple[str, ...]
    files: tuple[str, ...] = ()


def M(id, kind, what, file, spellings, tests, files=()):  # a table constructor
    return Mutant(id, kind, what, file, tuple(spellings), tuple(tests), tuple(files))


MUTANTS: tuple[Mutant, ...] = (
    # ------------------------------------------------------------------ solver rule functions
    M("spacing_off_by_one", "planner", "visit_spacing accepts min_days_between_visits - 1", "solve/rules.py",
      [("ok = ok & (np.abs(o - inst.day_ord[v[0]]) >= inst.min_gap)", "ok = ok & (np.abs(o - inst.day_ord[v[0]]) >= inst.min_gap - 1)"),
       ("if o - int(inst.ent_last_past[e]) < inst.min_gap:", "if o - int(inst.ent_last_past[e]) < inst.min_gap - 1:"),
       ("< inst.min_gap", "< inst.min_gap - 1")], SOLVE_TESTS),
    M("spacing_ignores_past", "planner", "visit_spacing ignores the last past visit", "solve/rules.py",
      [("ok = o - inst.ent_last_past[e] >= inst.min_gap", "ok = o - inst.ent_last_past[e] >= -10**9"),
       ("    if o - int(inst.ent_last_past[e]) < inst.min_gap:\n        return False\n", ""),
       ("ent_last_past[e]", "ent_last_past[e] * 0 - 10**9")], SOLVE_TESTS),
    M("leave_ignored", "planner", "inspector_not_on_leave lets everyone go", "solve/rules.py",
      [("    return ~inst.on_leave[:, d]", "    return np.ones(inst.I, bool)"),
       ("~inst.on_leave[", "~0 * inst.on_leave[")], SOLVE_TESTS),
    M("balance_pass_leave", "planner", "balance_pass hands a day to an inspector on leave (the reviewer's bug; after the merge: balance_pass skips the rules)",
      "solve/polish.py",
      [("elig = eligible_inspectors(inst, state, r, d, capacity=False, visit=r)", "elig = np.ones(inst.I, bool)"),
       ("cand &= inst.certified & ~inst.on_leave[:, d] & (state.day_load[:, d] == 0)",
        "cand &= inst.certified & (state.day_load[:, d] == 0)"),
       ("inspector_not_on_leave(inst, d)", "np.ones(inst.I, bool)")], SOLVE_TESTS),
    M("weekly_capacity_plus_one", "planner", "inspector_weekly_capacity allows one visit too many", "solve/rules.py",
      [("return state.week_load[:, w] + n <= state.wcap[:, w]", "return state.week_load[:, w] + n <= state.wcap[:, w] + 1"),
       ("<= state.wcap[", "<= 1 + state.wcap[")], SOLVE_TESTS),
    M("daily_limit_plus_one", "planner", "inspector_daily_limit allows one visit too many", "solve/rules.py",
      [("return state.day_load[:, d] + n <= inst.day_limit", "return state.day_load[:, d] + n <= inst.day_limit + 1"),
       ("<= inst.day_limit", "<= inst.day_limit + 1")], SOLVE_TESTS),
    M("conflict_ignored", "planner", "no_conflict_of_interest and its copies let conflicted inspectors go",
      "solve/rules.py",
      [("ok[inst.ent_conflict[e]] = False", "pass"),
       ("inst.ent_conflict[e]", "inst.ent_conflict[e][:0]")], SOLVE_TESTS),
    M("eligible_conflict_copy", "planner", "eligible_inspectors' own copy of the conflict rule dropped",
      "solve/rules.py",
      [("        mask[inst.ent_conflict[e]] = False  # no_conflict_of_interest\n", "        pass\n")], SOLVE_TESTS),
    M("qualification_any", "planner", "required_qualifications_held: one needed qualification is enough",
      "solve/rules.py",
      [("        return all(any(inst.qual[q][i] for i in team) for q in need)", "        return any(any(inst.qual[q][i] for i in team) for q in need) or not need"),
       ("return all(any(inst.qual[q][i] for i in team) for q in inst.ent_need[e])",
        "return any(any(inst.qual[q][i] for i in team) for q in inst.ent_need[e]) or not inst.ent_need[e]")],
      SOLVE_TESTS),
    M("rotation_past_team_ignored", "planner", "rotate_inspectors forgets the previous quarter's team",
      "solve/rules.py",
      [("                    elif prev:\n                        ok[list(prev)] = False\n", ""),
       ("    elif inst.ent_prev_team[e]:\n        ok[list(inst.ent_prev_team[e])] = False\n", "")], SOLVE_TESTS),
    M("rotation_next_ignored", "planner", "rotate_inspectors forgets the team of the visit after",
      "solve/rules.py",
      [("                    if nb + ns < len(visits):\n                        ok[list(visits[nb + ns][1])] = False\n", ""),
       ("    if after:\n        ok[list(after[0][1])] = False\n", "")], SOLVE_TESTS),
    M("cross_area_ignored", "planner", "cross_area lets inspectors visit their home subdistrict", "solve/rules.py",
      [("    return inst.home != s", "    return np.ones(inst.I, bool)")], SOLVE_TESTS),
    M("tier_maximum_plus_one", "planner", "tier_visit_maximum allows one visit too many", "solve/rules.py",
      [("    return n < int(inst.ent_max[e])", "    return n <= int(inst.ent_max[e])"),
       ("return len(state.ent_visits[e]) < int(inst.ent_max[e])", "return len(state.ent_visits[e]) <= int(inst.ent_max[e])")],
      SOLVE_TESTS),
    M("uncertified_allowed", "planner", "team_of_certified_inspectors lets uncertified inspectors go",
      "solve/rules.py",
      [("    return inst.certified.copy()", "    return np.ones(inst.I, bool)")], SOLVE_TESTS),
    M("free_cache_daily_limit", "planner", "the state's free-slot cache lets a full day take one more visit",
      "solve/state.py",
      [("self.free = inspector_daily_limit(self.inst, self, days) & inspector_weekly_capacity(self.inst, self, days)",
        "self.free = inspector_daily_limit(self.inst, self, days, 0) & inspector_weekly_capacity(self.inst, self, days)"),
       ("self.free = (self.day_load < inst.day_limit) & (self.week_load[:, wk] < self.wcap[:, wk])",
        "self.free = (self.day_load <= inst.day_limit) & (self.week_load[:, wk] < self.wcap[:, wk])")], SOLVE_TESTS),
    # ------------------------------------------------------------------ calendar and capacity
    M("weekly_limit_rounds", "planner", "weekly limit rounded to nearest instead of floor", "domain/calendar.py",
      [("return math.floor(weekly_capacity * (1.0 - capacity_reserve) * available_days / 5 + 1e-9)",
        "return round(weekly_capacity * (1.0 - capacity_reserve) * available_days / 5)")], CALENDAR_TESTS),
    M("weekly_limit_ignores_leave", "planner", "weekly limit counts leave days as available", "domain/calendar.py",
      [("* available_days / 5 + 1e-9)", "* 5 / 5 + 1e-9)")], CALENDAR_TESTS),
    M("reserve_ignored", "planner", "capacity_reserve ignored", "domain/calendar.py",
      [("weekly_capacity * (1.0 - capacity_reserve) *", "weekly_capacity * (1.0 - 0 * capacity_reserve) *")],
      CALENDAR_TESTS),
    M("official_holidays_ignored", "planner", "the planner ignores China's statutory holidays (chinesecalendar)",
      "domain/calendar.py", [("        official = official_days(quarter)\n", "        official = None\n")],
      CALENDAR_TESTS),
    M("policy_holidays_added_to_official", "planner", "the policy's holidays are added to the package's, not in its place",
      "domain/calendar.py",
      [("            return cls(quarter, *policy_days, source=\"policy\")",
        "            return cls(quarter, policy_days[0] | (official_days(quarter) or (frozenset(),))[0], policy_days[1],"
        " source=\"policy\")")], CALENDAR_TESTS),
    # ------------------------------------------------------------------ obligations
    M("orange_183", "planner", "orange deadline at last visit + 183 days", "plan/obligations.py",
      [("due = last_visit + timedelta(days=gap)", "due = last_visit + timedelta(days=gap + 1)")], OBLIGATION_TESTS),
    M("orange_not_moved_back", "planner", "orange deadline not moved back to a working day", "plan/obligations.py",
      [("                moved = calendar.last_working_day_on_or_before(due)",
        "                moved = due")], OBLIGATION_TESTS),
    M("orange_overdue_month_2", "planner", "overdue orange due by the end of month 2", "plan/obligations.py",
      [('eid, f"{tier}_due", "mandatory", quarter.start, quarter.month_end(1),\n                    f"{tier}: overdue since',
        'eid, f"{tier}_due", "mandatory", quarter.start, quarter.month_end(2),\n                    f"{tier}: overdue since')],
      OBLIGATION_TESTS),
    M("orange_ahead_whole_quarter", "planner", "an orange deadline just after the quarter planned from the quarter's "
      "start (not its last plan_ahead_days days)", "plan/obligations.py",
      [("start = max(quarter.start, quarter.end - timedelta(days=ahead - 1),", "start = max(quarter.start,")],
      OBLIGATION_TESTS),
    M("orange_ahead_one_day_short", "planner", "plan_ahead_days looks one day less ahead", "plan/obligations.py",
      [("if ahead == 0 or (due - quarter.end).days > ahead:", "if ahead == 0 or (due - quarter.end).days >= ahead:")],
      OBLIGATION_TESTS),
    M("orange_ahead_off", "planner", "orange deadlines just after the quarter left to the next quarter",
      "plan/obligations.py",
      [("    if ahead == 0 or (due - quarter.end).days > ahead:", "    if True:")], OBLIGATION_TESTS),
    M("previous_plan_ignored", "planner", "plan --previous: the previous plan's unrecorded visits are not history",
      "export/previous.py",
      [("    if previous is None or previous.planned.empty:\n        return district",
        "    if True:\n        return district")], OBLIGATION_TESTS),
    M("accident_lookback_30", "planner", "accident follow-up looks back 30 days", "plan/obligations.py",
      [("ACCIDENT_LOOKBACK_DAYS = 31", "ACCIDENT_LOOKBACK_DAYS = 30")], OBLIGATION_TESTS),
    M("accident_same_day_visit", "planner", "a visit on the accident day counts as a visit since", "plan/obligations.py",
      [("if seen is not None and seen > accident_day:", "if seen is not None and seen >= accident_day:")],
      OBLIGATION_TESTS),
    M("major_hazard_two", "planner", "follow-up only after two major hazards", "plan/obligations.py",
      [('found = latest[latest["major_hazards_found"] >= 1]', 'found = latest[latest["major_hazards_found"] >= 2]')],
      OBLIGATION_TESTS),
    M("pinned_not_clipped", "planner", "a pinned window is not clipped at the quarter start", "plan/obligations.py",
      [("start, end = max(earliest, quarter.start), min(latest_day, quarter.end)",
        "start, end = earliest, min(latest_day, quarter.end)")], OBLIGATION_TESTS),
    M("red_month_short", "planner", "a red month's window ends a day early", "plan/obligations.py",
      [('eid, kind, "mandatory", quarter.month_start(k), quarter.month_end(k),',
        'eid, kind, "mandatory", quarter.month_start(k), quarter.month_end(k) - timedelta(days=1),')],
      OBLIGATION_TESTS),
    # ------------------------------------------------------------------ the draw
    M("remainder_to_smallest", "planner", "the remaining quota units go to the smallest fractions", "plan/draw.py",
      [("key=lambda i: (-(exact[strata[i]] - quota[strata[i]]), keys[i]))",
        "key=lambda i: ((exact[strata[i]] - quota[strata[i]]), keys[i]))")], DRAW_TESTS),
    M("tier_total_floor", "planner", "the tier total rounds down instead of half up", "plan/draw.py",
      [("    return math.floor(x + Fraction(1, 2))", "    return math.floor(x)")], DRAW_TESTS),
    M("avoid_recent_off_by_one", "planner", "avoid_recent_days excludes one day more", "plan/draw.py",
      [("lo = pd.Timestamp(quarter.start - timedelta(days=policy.draw.avoid_recent_days))",
        "lo = pd.Timestamp(quarter.start - timedelta(days=policy.draw.avoid_recent_days + 1))")], DRAW_TESTS),
    # ------------------------------------------------------------------ the checker
    M("check_spacing_off_by_one", "checker", "the checker's visit_spacing accepts one day less", "check/checker.py",
      [("if prev is not None and (v.date - prev).days < gap:", "if prev is not None and (v.date - prev).days < gap - 1:"),
       ("< gap", "< gap - 1")], CHECK_TESTS, files=("check/checker.py", "check/rules.py")),
    M("check_plan_ahead_ignored", "checker", "the checker forgets orange deadlines just after the quarter",
      "check/obligations.py", [("    if days < 1 or late_by > days:", "    if True:")], CHECK_TESTS),
    M("check_plan_ahead_window_opens_early", "checker", "the checker's early orange window opens at the quarter start",
      "check/obligations.py", [("max(quarter.end.toordinal() - days + 1, quarter.start.toordinal(),",
                                "max(quarter.start.toordinal(), quarter.start.toordinal(),")], CHECK_TESTS),
    M("check_previous_plan_ignored", "checker", "the checker forgets the visits plan.json counts as planned, not "
      "recorded", "check/obligations.py", [("        if vid not in held:", "        if False:")], CHECK_TESTS),
    M("check_leave_ignored", "checker", "the checker's leave rule is blind", "check/checker.py",
      [("        return any(s <= day <= e for s, e in self.leave.get(iid, ()))", "        return False"),
       ("    return any(s <= day <= e for s, e in spans)", "    return False")], CHECK_TESTS,
      files=("check/checker.py", "check/rules.py", "check/calendar.py", "check/context.py")),
    M("check_capacity_full_week", "checker", "the checker's weekly limit ignores leave-shortened weeks",
      "check/checker.py",
      [("        limit = weekly_limit(int(row[\"weekly_capacity\"]), reserve, available)", "        limit = weekly_limit(int(row[\"weekly_capacity\"]), reserve, 5)"),
       ("* (1 - reserve) * available / 5)", "* (1 - reserve) * 5 / 5)")], CHECK_TESTS,
      files=("check/checker.py", "check/rules.py", "check/calendar.py")),
    M("check_coverage_any_visit", "checker", "the checker lets one visit cover several months' obligations",
      "check/checker.py",
      [("    for i in range(len(obligations)):\n        augment(i, set())\n    return {i: j for j, i in owner.items()}", "    return {i: f[0] for i, f in enumerate(fits) if f}"),
       ("if len(inside) > rank or (eid, ob.kind) in ctx.reported_unmet:",
        "if len(inside) > 0 or (eid, ob.kind) in ctx.reported_unmet:")], CHECK_TESTS,
      files=("check/checker.py", "check/coverage.py")),
    M("check_rotation_no_past", "checker", "the checker forgets the previous quarter's team", "check/checker.py",
      [("        team = set(ctx.past_teams[eid][last]) if last is not None else set()", "        team = set()"),
       ('team, source = previous.get(eid, set()), "the last visit before the quarter"',
        'team, source = set(), "the last visit before the quarter"')], CHECK_TESTS,
      files=("check/checker.py", "check/rules.py")),
    M("check_cross_area_blind", "checker", "the checker's cross_area rule is blind", "check/checker.py",
      [("            if home and home == ent[\"subdistrict\"]:", "            if home and home == ent[\"subdistrict\"] and False:"),
       ('if iid in home.index and home[iid] and home[iid] == ent["subdistrict"]:',
        'if iid in home.index and home[iid] and home[iid] == ent["subdistrict"] and False:')], CHECK_TESTS,
      files=("check/checker.py", "check/rules.py")),
    M("check_draw_membership", "checker", "the checker accepts drawn visits the draw did not select",
      "check/checker.py",
      [("        if v.enterprise_id not in drawn:", "        if False:")], CHECK_TESTS,
      files=("check/checker.py", "check/coverage.py")),
    M("check_working_day_holidays", "checker", "the checker's calendar ignores holidays", "check/checker.py",
      [("        if day in extra or (weekday <= 5 and day not in off):", "        if day in extra or weekday <= 5:"),
       ("if (day.weekday() < 5 and day not in holidays) or day in extra:", "if day.weekday() < 5 or day in extra:")],
      CHECK_TESTS, files=("check/checker.py", "check/calendar.py")),
    M("check_official_holidays_ignored", "checker", "the checker ignores China's statutory holidays (chinesecalendar)",
      "check/calendar.py", [("        official = _official_working_days(days)\n", "        official = None\n")],
      CHECK_TESTS + ("tests/test_china_calendar.py",)),
    # ------------------------------------------------------------------ honest outputs
    M("verify_frame_omission_blind", "checker", "verify-draw does not see an eligible enterprise left out of the frame",
      "export/verify.py", [("same = not (missing or added or moved)", "same = not (added or moved)")], VERIFY_TESTS),
    M("verify_chances_blind", "checker", "verify-draw does not hold published chances against the design",
      "export/verify.py", [("off = sorted(e for e in want if units.get(e) != want[e].inclusion_units)", "off = []")],
      VERIFY_TESTS),
    M("model_card_kind_blind", "checker", "the model loader believes a card's kind and calibration",
      "score/model_files.py", [("if field in claims and claims[field] != facts[field]:", "if False:")], MODEL_TESTS),
    M("fallback_unmarked", "checker", "plan.json calls a fallback roster by the solver's generic status",
      "export/plan_files.py",
      [('"status": FALLBACK_REASONS.get(result.fallback, result.status) if result.fallback else result.status,',
        '"status": result.status,')], FALLBACK_TESTS),
    # ------------------------------------------------------------------ issue 14: plain answers
    M("team_boundary_off_by_one", "checker", "nothing_to_plan refuses a district with exactly team_size certified",
      "solve/degenerate.py", [("if n_cert < t:", "if n_cert <= t:")], ("tests/test_nothing_to_plan.py",)),
    M("capacity_boundary_off_by_one", "checker", "nothing_to_plan asks for team_size + 1 inspectors with room on a day",
      "solve/degenerate.py", [("if not (able.sum(axis=0) >= t).any():", "if not (able.sum(axis=0) > t).any():")],
      ("tests/test_nothing_to_plan.py",)),
    M("spread_off", "checker", "drawn visits are not spread over the quarter",
      "solve/weekplan.py", [("SPREAD_WEIGHT = 3", "SPREAD_WEIGHT = 0")], ("tests/test_spot_check_dates.py",)),
    M("bisection_trusts_the_grid", "checker", "whatif's bisection never probes between grid points",
      "analysis/whatif.py", [("    while hi - lo > 1:", "    while False:")], ("tests/test_whatif_exact.py",)),
)


def _apply(src: Path, m: Mutant) -> str | None:
    """Apply the first spelling found (exactly once) in any of the mutant's files; the file used."""
    for rel in (m.files or (m.file,)):
        path = src / "riskplan" / rel
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        for old, new in m.spellings:
            if text.count(old) >= 1:
                path.write_text(text.replace(old, new, 1), encoding="utf-8")
                return rel
    return None


def _env(src: Path) -> dict:
    return dict(os.environ, PYTHONPATH=str(src), PYTHONHASHSEED="0")


def _riskplan(src: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from riskplan.cli import main; main()", *args],
                          capture_output=True, text=True, env=_env(src), timeout=timeout, cwd=REPO)


def _plan(src: Path, edge: Path, out: Path) -> subprocess.CompletedProcess:
    return _riskplan(src, "plan", str(edge / "district"), "--quarter", "2027Q1", "--seed", "1", "--tiers",
                     str(edge / "tiers.csv"), "--out", str(out), "--force")


PLAN_FILES = ("roster.csv", "draw.csv", "unplaced.csv")


def _same_plan(a: Path, b: Path) -> bool:
    return all((a / f).read_bytes() == (b / f).read_bytes() for f in PLAN_FILES)


def run_mutant(m: Mutant, edge: Path, baseline: Path, work: Path) -> dict:
    t0 = time.perf_counter()
    scratch = work / m.id
    shutil.copytree(REPO / "src", scratch / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    src = scratch / "src"
    used = _apply(src, m)
    row = {"id": m.id, "kind": m.kind, "what": m.what, "file": used}
    if used is None:
        row["result"] = "not applicable"
        return row
    files = sorted({str(p.relative_to(REPO)) for pattern in m.tests for p in REPO.glob(pattern)})
    test = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           *files], capture_output=True, text=True, env=_env(src), cwd=REPO, timeout=1800)
    row["killed_by_tests"] = test.returncode != 0
    failed = [line.split(" ")[1] for line in test.stdout.splitlines() if line.startswith("FAILED ")]
    row["first_failing_test"] = failed[0] if failed else None
    if m.kind == "planner":
        out = scratch / "plan"
        planned = _plan(src, edge, out)
        if planned.returncode != 0:
            row["plan"] = "plan failed"
            row["killed_by_check"] = True
        elif _same_plan(out, baseline):
            row["plan"] = "same plan"
            row["killed_by_check"] = None
        else:
            row["plan"] = "changed"
            checked = _riskplan(REPO / "src", "check", str(edge / "district"), str(out))
            row["killed_by_check"] = checked.returncode == 1
            lines = [x for x in checked.stdout.splitlines() if x.startswith("[")]
            row["check_first_violation"] = lines[0][:160] if lines else None
    row["seconds"] = round(time.perf_counter() - t0, 1)
    shutil.rmtree(scratch, ignore_errors=True)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    chosen = [m for m in MUTANTS if args.only is None or m.id in args.only]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env_src = REPO / "src"
        gen = subprocess.run([sys.executable, str(Path(__file__).with_name("edge_district.py")), str(tmp / "edge")],
                             capture_output=True, text=True, env=_env(env_src), cwd=REPO)
        if gen.returncode != 0:
            print(gen.stderr, file=sys.stderr)
            return 2
        baseline = tmp / "baseline"
        base = _plan(env_src, tmp / "edge", baseline)
        check = _riskplan(env_src, "check", str(tmp / "edge" / "district"), str(baseline))
        if base.returncode != 0 or check.returncode != 0:
            print("the unmutated plan of the edge district does not pass check:", base.stderr, check.stdout,
                  file=sys.stderr)
            return 2
        rows = []
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for row in pool.map(lambda m: run_mutant(m, tmp / "edge", baseline, tmp), chosen):
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
    applicable = [r for r in rows if r.get("result") != "not applicable"]
    killed = [r for r in applicable if r["killed_by_tests"]]
    changed = [r for r in applicable if r.get("plan") in ("changed", "plan failed")]
    caught = [r for r in changed if r["killed_by_check"]]
    summary = {"mutants": len(rows), "applicable": len(applicable), "killed_by_tests": len(killed),
               "planner_changed_plan": len(changed), "changed_and_caught_by_check": len(caught),
               "survivors": [r["id"] for r in applicable if not r["killed_by_tests"]],
               "changed_not_caught_by_check": [r["id"] for r in changed if not r["killed_by_check"]]}
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "mutants": rows}, indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

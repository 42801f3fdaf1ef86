"""What-if capacity analysis: what staffing, capacity or sample shares buy.

A scenario changes one or more of: the number of certified inspectors, every inspector's
weekly capacity (a scale), the tiers' sample shares, or the whole policy (a variant
`policy.toml`, e.g. with `capacity_reserve` or other visit frequencies). Each scenario is planned for real — the
same obligations, draw and solver as `riskplan plan` — and measured: mandatory coverage per
tier, drawn visits achieved, shortfall, utilisation, travel and balance.

Staffing changes are nested so neighbouring scenarios are comparable: the district's
certified inspectors are put in one seeded random order; N inspectors means the first N of
that order, and beyond the roster's size, copies of them in the same order (same
qualifications, capacity and home; new ids `WHATIF-001`…, no leave, no conflicts).

Work is reused between scenarios: tiers are computed once, and obligations and the draw
(which depend on the policy, not on inspectors) once per policy variant and share setting. Scenarios
run as tasks on Dask (`analysis.cluster.run_jobs`: a local cluster on all cores, or a given scheduler),
each through `run_scenario` (a pure top-level function of one picklable `ScenarioJob`).

The answer is exact, not only as fine as the grid: after the grid, the staffing axis is bisected
between the largest level that falls short and the smallest that meets the whole policy
(`exact_minimal_staffing`), each probe solved to completion (a probe that falls back to the
greedy roster is solved again with four times the time; if it still does, the answer is given
as a range). A grid scenario that fell back is left out of the answer: its greedy roster
measures the fallback, not the solver. Unless given, each scenario's time limit follows the
district's size and how many scenarios share a core (`scenario_time_limit`), so the default
does not fall back on a district the solver plans in one `plan`.
"""

from __future__ import annotations

import itertools
import os
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from riskplan.analysis.cluster import run_jobs
from riskplan.domain.calendar import weekly_limits
from riskplan.domain.headers import canonical_value, display_headers, value_label
from riskplan.domain.roster import Roster, RosterProblem, SolveResult, Unplaced
from riskplan.domain.schema import TIERS, split_list
from riskplan.i18n import _, get_language, language, ngettext
from riskplan.io import frame_to_csv_bytes
from riskplan.outputs import atomic_output_dir
from riskplan.load.district import District, DistrictError, Problem, load_district
from riskplan.load.tiers import load_tiers_csv
from riskplan.plan.problem import Prepared, prepare
from riskplan.score.tiering import model_tiers

CLONE_PREFIX = "WHATIF-"
#: status of a scenario on which nothing can be placed (`riskplan.solve.degenerate`)
NOTHING_TO_PLAN = "NOTHING_TO_PLAN"


@dataclass(frozen=True)
class Scenario:
    """One variant of the district: None/1.0/empty means "as it is"."""

    inspectors: int | None = None
    capacity_scale: float = 1.0
    shares: tuple[tuple[str, float], ...] = ()
    extra_qualified: tuple[str, int] | None = None  # add N inspectors holding this qualification
    policy: str | None = None  # a variant policy.toml (path) instead of the district's own

    @property
    def label(self) -> str:
        """The scenario in words, in the current language ("inspectors=30, capacity×1.2")."""
        parts = [_("inspectors={count}").format(count=self.inspectors) if self.inspectors is not None
                 else _("inspectors=as-is")]
        if self.capacity_scale != 1.0:
            parts.append(_("capacity×{scale}").format(scale=f"{self.capacity_scale:g}"))
        parts += [_("{tier}_share={share}").format(tier=value_label("tier", t), share=f"{s:g}") for t, s in self.shares]
        if self.extra_qualified:
            parts.append(_("+{count} {qualification}").format(
                count=self.extra_qualified[1], qualification=value_label("qualification", self.extra_qualified[0])))
        if self.policy:
            parts.append(_("policy={file}").format(file=Path(self.policy).name))
        return ", ".join(parts)


def parse_range(text: str, kind: type = float) -> list:
    """'20:80:5' -> [20, 25, …, 80] (inclusive); a single number is a one-point range."""
    parts = text.split(":")
    try:
        if len(parts) == 1:
            return [kind(parts[0])]
        if len(parts) != 3:
            raise ValueError
        start, stop, step = (kind(p) for p in parts)
    except ValueError:
        raise ValueError(_("'{text}' is not a range START:STOP:STEP").format(text=text)) from None
    if step <= 0 or stop < start:
        raise ValueError(_("'{text}': need STOP >= START and STEP > 0").format(text=text))
    n = int(math.floor((stop - start) / step + 1e-9)) + 1
    values = [start + i * step for i in range(n)]
    return [kind(round(v, 10)) if kind is float else kind(v) for v in values]


def parse_share(text: str) -> tuple[str, list[float]]:
    """'blue=0.01:0.10:0.01' (or '蓝=…') -> ('blue', [0.01, …, 0.10])."""
    written, _sep, rng = text.partition("=")
    tier = canonical_value("tier", written.strip())  # red or 红
    if tier is None or not rng:
        raise ValueError(_("'{text}' is not TIER=START:STOP:STEP (tier one of red, orange, yellow, blue)").format(
            text=text))
    values = parse_range(rng)
    if any(not 0.0 <= v <= 1.0 for v in values):
        raise ValueError(_("'{text}': shares must lie in [0, 1]").format(text=text))
    return tier, values


def scenario_grid(inspectors: list[int] | None = None, capacity_scales: list[float] | None = None,
                  shares: dict[str, list[float]] | None = None,
                  policies: list[str] | None = None) -> list[Scenario]:
    """Every combination of the given axes, in a stable order."""
    share_axes = sorted((shares or {}).items())
    share_combos = list(itertools.product(*[[(t, v) for v in vals] for t, vals in share_axes])) if share_axes else [()]
    return [Scenario(n, c, tuple(s), policy=p)
            for p in (policies or [None])
            for s in share_combos
            for c in (capacity_scales or [1.0])
            for n in (inspectors or [None])]


def staffing_order(district: District, seed: int) -> list[str]:
    """The certified inspectors in the seeded order that nests staffing levels."""
    certified = sorted(district.inspectors.loc[district.inspectors["certified"] == 1, "inspector_id"])
    rng = np.random.Generator(np.random.PCG64(seed))
    return [certified[i] for i in rng.permutation(len(certified))]


def scenario_inspectors(district: District, scenario: Scenario, order: list[str]) -> pd.DataFrame:
    """The inspector table of a scenario (see the module docstring for how N is reached)."""
    table = district.inspectors.set_index("inspector_id", drop=False)
    uncertified = table[table["certified"] != 1]
    n = len(order) if scenario.inspectors is None else scenario.inspectors
    kept = [table.loc[i] for i in order[:n]]
    clones = []
    for k in range(max(0, n - len(order))):
        src = table.loc[order[k % len(order)]].copy() if order else None
        if src is None:
            raise ValueError(_("the district has no certified inspector to copy"))
        src["inspector_id"] = f"{CLONE_PREFIX}{k + 1:03d}"
        src["name"] = src["inspector_id"]
        clones.append(src)
    if scenario.extra_qualified:
        qual, count = scenario.extra_qualified
        template = table.loc[order[0]].copy()
        for k in range(count):
            extra = template.copy()
            extra["inspector_id"] = f"{CLONE_PREFIX}{qual.upper()}-{k + 1:03d}"
            extra["name"] = extra["inspector_id"]
            extra["qualifications"] = ";".join(sorted(set(split_list(template["qualifications"])) | {qual}))
            clones.append(extra)
    rows = pd.DataFrame(kept + clones + [r for _, r in uncertified.iterrows()]).reset_index(drop=True)
    if scenario.capacity_scale != 1.0:
        rows["weekly_capacity"] = np.floor(rows["weekly_capacity"] * scenario.capacity_scale + 0.5).astype("int64")
    return rows


def staffing_variant_table(district: District, n: int, seed: int) -> pd.DataFrame:
    """An inspectors table for a district folder that `plan` reads as the what-if's staffing of n:
    the scenario's inspectors, and the certified ones it leaves out kept as uncertified (the
    history, leave and conflicts still name them; uncertified inspectors are never on a team)."""
    order = staffing_order(district, seed)
    table = scenario_inspectors(district, Scenario(inspectors=n), order)
    left_out = district.inspectors[~district.inspectors["inspector_id"].isin(set(table["inspector_id"]))].copy()
    left_out["certified"] = 0
    return pd.concat([table, left_out], ignore_index=True)


def scenario_problem(base: RosterProblem, district: District, scenario: Scenario, order: list[str]) -> RosterProblem:
    inspectors = scenario_inspectors(district, scenario, order)
    ids = set(inspectors["inspector_id"])
    return replace(base, inspectors=inspectors,
                   leave=district.leave[district.leave["inspector_id"].isin(ids)],
                   conflicts=district.conflicts[district.conflicts["inspector_id"].isin(ids)])


def measure(problem: RosterProblem, result, scenario: Scenario) -> list[dict]:
    """One row per tier (and one 'all' row) of what the scenario achieves."""
    tier_of = dict(zip(problem.enterprises["enterprise_id"], problem.enterprises["tier"]))
    placed_ids = {v.request.visit_id for v in result.roster.visits}
    certified = problem.inspectors[problem.inspectors["certified"] == 1]
    limits = weekly_limits(certified, problem.leave, problem.calendar, problem.policy.roster)
    capacity = sum(sum(w.values()) for w in limits.values())
    inspector_visits = sum(len(v.inspectors) for v in result.roster.visits)
    common = {
        "scenario": scenario.label, "inspectors": int(len(certified)),
        "capacity_scale": scenario.capacity_scale, "policy": Path(scenario.policy).name if scenario.policy else "",
        **{f"{t}_share": s for t, s in scenario.shares},
        "utilisation": round(inspector_visits / capacity, 4) if capacity else 0.0,
        "travel": result.objective.get("travel", float("nan")),
        "balance": round(result.objective.get("balance", float("nan")), 3),
        "status": result.status,
    }
    rows = []
    for tier in [t.value for t in TIERS] + ["all"]:
        reqs = [r for r in problem.requests if tier == "all" or tier_of.get(r.enterprise_id) == tier]
        mandatory = [r for r in reqs if r.mandatory]
        drawn = [r for r in reqs if not r.mandatory]
        m_placed = sum(r.visit_id in placed_ids for r in mandatory)
        d_placed = sum(r.visit_id in placed_ids for r in drawn)
        rows.append({
            **common, "tier": tier,
            "mandatory_requested": len(mandatory), "mandatory_placed": m_placed,
            "mandatory_coverage": round(m_placed / len(mandatory), 4) if mandatory else 1.0,
            "shortfall": len(mandatory) - m_placed,
            "drawn_requested": len(drawn), "drawn_placed": d_placed,
            "drawn_not_placed": len(drawn) - d_placed,
        })
    return rows


@dataclass
class ScenarioJob:
    index: int
    scenario: Scenario
    problem: RosterProblem
    seed: int
    time_limit: float
    lang: str = "en"  # a worker process measures in the caller's language (scenario labels)


def scenario_time_limit(problem: RosterProblem, sharing: float = 1.0) -> float:
    """Seconds for one scenario: `plan`'s default, more for a district with many visit requests,
    times how many scenarios share a core (`sharing`); a safety net, not a budget: a solve that
    finishes early does not wait."""
    from riskplan.pipeline import DEFAULT_TIME_LIMIT

    return max(DEFAULT_TIME_LIMIT, 0.015 * len(problem.requests)) * max(1.0, sharing)


def run_scenario(job: ScenarioJob) -> tuple[int, list[dict]]:
    """Plan one scenario and measure it: the unit of work any executor runs."""
    from riskplan.solve.degenerate import NothingToPlan
    from riskplan.solve.solve import solve_roster

    with language(job.lang):
        try:
            result = solve_roster(job.problem, job.seed, time_limit=job.time_limit)
        except NothingToPlan as exc:  # e.g. fewer inspectors than a team: every request unplaced
            result = _nothing_placed(job.problem, str(exc.problems[0].message))
        return job.index, measure(job.problem, result, job.scenario)


def _nothing_placed(problem: RosterProblem, reason: str) -> SolveResult:
    """The result of a scenario on which no visit can be placed (status NOTHING_TO_PLAN)."""
    roster = Roster(problem.quarter, [], [Unplaced(r, reason) for r in problem.requests])
    return SolveResult(roster, NOTHING_TO_PLAN, {}, None, 0.0, pd.DataFrame())


@dataclass
class WhatIfResult:
    table: pd.DataFrame  # one row per scenario and tier (see `measure`), grid and bisection probes
    minimal_staffing: int | None  # fewest inspectors meeting the whole policy (exact when `exact`)
    marginal: pd.DataFrame  # per staffing step: mandatory visits gained per extra inspector
    extra: dict = field(default_factory=dict)
    current_staffing: int | None = None  # the district's certified inspectors today
    exact: bool = False  # minimal_staffing - 1 was solved and falls short (or is below a team)
    short_of: int | None = None  # the largest staffing known to fall short (below the answer)
    probes: list[int] = field(default_factory=list)  # staffing levels the bisection solved

    @property
    def fallbacks(self) -> list[str]:
        """Scenarios whose solve ran out of --time-limit and used the greedy roster instead: their
        coverage is only a lower estimate, so a curve through them need not be monotone."""
        rows = self.table[(self.table["tier"] == "all") & (self.table["status"] == "GREEDY_FALLBACK")]
        return list(dict.fromkeys(rows["scenario"]))


def meets_policy(rows: pd.DataFrame) -> bool:
    """Every mandatory visit placed and every drawn visit placed."""
    total = rows[rows["tier"] == "all"].iloc[0]
    return bool(total["shortfall"] == 0 and total["drawn_not_placed"] == 0)


def staffing_axis(table: pd.DataFrame) -> pd.DataFrame:
    """The 'all tiers' rows along the staffing axis (base capacity, the district's policy, the
    first share setting), one per staffing level, without scenarios that fell back to the
    greedy roster (they measure the fallback, not the solver)."""
    base = table[(table["capacity_scale"] == 1.0) & (table["tier"] == "all") & (table["policy"] == "")]
    share_cols = [c for c in table.columns if c.endswith("_share")]
    if share_cols and len(base):
        first = base[share_cols].iloc[0]
        base = base[(base[share_cols] == first).all(axis=1)]
    base = base[base["status"] != "GREEDY_FALLBACK"]
    return base.sort_values("inspectors").drop_duplicates("inspectors")


def summarize(table: pd.DataFrame) -> tuple[int | None, pd.DataFrame]:
    """The smallest staffing meeting the policy, and the marginal value of one more inspector,
    along the staffing axis (`staffing_axis`)."""
    base = staffing_axis(table)
    meeting = [int(r.inspectors) for r in base.itertuples() if r.shortfall == 0 and r.drawn_not_placed == 0]
    minimal = min(meeting) if meeting else None
    steps = []
    for a, b in zip(base.itertuples(), base.iloc[1:].itertuples()):
        gain = (b.mandatory_placed + b.drawn_placed) - (a.mandatory_placed + a.drawn_placed)
        steps.append({"from_inspectors": a.inspectors, "to_inspectors": b.inspectors,
                      "mandatory_gained": b.mandatory_placed - a.mandatory_placed,
                      "visits_gained_per_inspector": round(gain / (b.inspectors - a.inspectors), 3)})
    return minimal, pd.DataFrame(steps, columns=["from_inspectors", "to_inspectors", "mandatory_gained",
                                                 "visits_gained_per_inspector"])


def run_whatif(district_dir: Path, quarter: str, seed: int, scenarios: list[Scenario], *,
               tiers_path: Path | None = None, time_limit: float | None = None, workers: int | None = None,
               extra_qualification: str | None = "hazchem", exact: bool = True,
               progress: Callable[[int, int, str], None] | None = None,
               scheduler: str | None = None, status: Callable | None = None) -> WhatIfResult:
    """Plan every scenario and measure it, then make the smallest staffing exact (module doc).

    time_limit: seconds per scenario; None adapts it to the district (`scenario_time_limit`)."""
    district = load_district(district_dir)
    tiers = load_tiers_csv(tiers_path, district) if tiers_path else model_tiers(district, _quarter(quarter))[0]
    order = staffing_order(district, seed)
    if not order:
        raise DistrictError([Problem("inspectors.csv", _("no certified inspector: nothing to vary"))])
    prepared: dict[tuple, Prepared] = {}  # by (policy variant, shares)
    wanted = list(scenarios)
    reference = plus = None
    if extra_qualification:
        # the marginal value of one more qualified inspector, at the first scenario's staffing
        reference = replace(scenarios[0], extra_qualified=None)
        plus = replace(scenarios[0], extra_qualified=(extra_qualification, 1))
        wanted += [s for s in (reference, plus) if s not in wanted]
    workers = workers or os.cpu_count() or 1
    sharing = min(workers, len(wanted)) / (os.cpu_count() or 1)
    lang = get_language()

    def job_of(index: int, scenario: Scenario, sharing: float, factor: float = 1.0) -> ScenarioJob:
        key = (scenario.policy, scenario.shares)
        if key not in prepared:
            variant = _with_shares(_with_policy(district, scenario.policy), scenario.shares)
            prepared[key] = prepare(variant, tiers, quarter, seed)
        problem = scenario_problem(prepared[key].problem, district, scenario, order)
        limit = time_limit if time_limit is not None else scenario_time_limit(problem, sharing)
        return ScenarioJob(index, scenario, problem, seed, limit * factor, lang)

    jobs = [job_of(k, scenario, sharing) for k, scenario in enumerate(wanted)]
    total = len(jobs)

    def done(count: int, i: int) -> None:
        if progress:
            progress(count, total, jobs[i].scenario.label)

    # on Dask (analysis/cluster.py); `status` sees scenarios done, running, failed and the dashboard
    results = dict(run_jobs(run_scenario, jobs, scheduler=scheduler, workers=workers, on_done=done,
                            on_progress=status))
    by_scenario = {j.scenario: results[j.index] for j in jobs}
    table = pd.DataFrame([row for s in scenarios for row in by_scenario[s]])
    probes: list[int] = []
    found = {"exact": False, "short_of": None}
    if exact:
        base = _axis_template(scenarios)
        if base is not None:
            def solve_level(n: int) -> list[dict] | None:
                """One probe, solved to completion: a fallback is solved again with more time."""
                for factor in (1.0, 4.0):
                    _i, rows = run_scenario(job_of(len(jobs) + len(probes), replace(base, inspectors=n), 1.0, factor))
                    if rows[-1]["status"] != "GREEDY_FALLBACK":
                        return rows
                return None

            team = prepared[(base.policy, base.shares)].problem.policy.roster.team_size
            extra_rows, found = exact_minimal_staffing(table, team, solve_level, probes, progress)
            if extra_rows:
                table = pd.concat([table, pd.DataFrame(extra_rows)], ignore_index=True)
    minimal, marginal = summarize(table)
    extra = {}
    if extra_qualification:
        a = next(r for r in by_scenario[reference] if r["tier"] == "all")
        b = next(r for r in by_scenario[plus] if r["tier"] == "all")
        extra = {"qualification": extra_qualification, "at_inspectors": a["inspectors"],
                 "mandatory_gained": b["mandatory_placed"] - a["mandatory_placed"],
                 "visits_gained": (b["mandatory_placed"] + b["drawn_placed"])
                 - (a["mandatory_placed"] + a["drawn_placed"])}
    return WhatIfResult(table, minimal, marginal, extra, current_staffing=len(order), exact=found["exact"],
                        short_of=found["short_of"], probes=probes)


def _axis_template(scenarios: list[Scenario]) -> Scenario | None:
    """The scenario the staffing axis varies: base capacity, the district's policy, the first
    share setting (as `staffing_axis` reads the table); None when no scenario lies on it."""
    on_axis = [s for s in scenarios if s.capacity_scale == 1.0 and s.policy is None and not s.extra_qualified]
    if not on_axis:
        return None
    return replace(on_axis[0], inspectors=None)


def exact_minimal_staffing(table: pd.DataFrame, team_size: int, solve_level: Callable[[int], list[dict] | None],
                           probes: list[int], progress: Callable[[int, int, str], None] | None = None,
                           ) -> tuple[list[dict], dict]:
    """Bisect the staffing axis between the largest level that falls short and the smallest that
    meets the whole policy; returns the probes' rows and {"exact", "short_of"}.

    Below team_size inspectors nothing can be placed, so team_size - 1 falls short when the
    quarter has any visit. `solve_level(n)` plans n inspectors (None: it fell back even with more
    time; the bisection stops and the answer is a range). `probes` receives each level solved.
    """
    axis = staffing_axis(table)
    if not len(axis):
        return [], {"exact": False, "short_of": None}
    meets = {int(r.inspectors): bool(r.shortfall == 0 and r.drawn_not_placed == 0) for r in axis.itertuples()}
    ok = [n for n, m in meets.items() if m]
    if not ok:
        return [], {"exact": False, "short_of": max(meets)}
    hi = min(ok)
    below = [n for n, m in meets.items() if not m and n < hi]
    requested = int(axis.iloc[0]["mandatory_requested"] + axis.iloc[0]["drawn_requested"])
    lo = max(below) if below else (team_size - 1 if requested else -1)
    rows: list[dict] = []
    while hi - lo > 1:
        mid = (lo + hi) // 2
        got = solve_level(mid)
        if got is None:
            return rows, {"exact": False, "short_of": lo}
        probes.append(mid)
        rows += got
        if progress:
            progress(len(probes), len(probes), _("exact staffing: {count} inspectors").format(count=mid))
        total = got[-1]
        if total["shortfall"] == 0 and total["drawn_not_placed"] == 0:
            hi = mid
        else:
            lo = mid
    return rows, {"exact": True, "short_of": lo}


def staffing_sentence(result: WhatIfResult) -> str:
    """The answer in words: how many certified inspectors the whole policy needs, how many the
    district has today, and the gap ("26 needed, 23 today: 3 short")."""
    return staffing_answer(result.minimal_staffing, result.current_staffing, result.exact, result.short_of,
                           _largest_tried(result))


def _largest_tried(result: WhatIfResult) -> int | None:
    axis = staffing_axis(result.table)
    return int(axis["inspectors"].max()) if len(axis) else None


def staffing_answer(need: int | None, today: int, exact: bool, short_of: int | None, top: int | None) -> str:
    """`staffing_sentence` from its figures (as summary.json keeps them), in the current language."""
    if need is None:
        if top is None:
            return _("No scenario on the staffing axis was solved without falling back; no answer.")
        return _("No staffing up to {top} meets the whole policy: more than {top} certified inspectors needed, "
                 "{today} today.").format(top=top, today=today)
    if not exact:
        low = (short_of or 0) + 1
        return _("Between {low} and {need} certified inspectors needed ({today} today): a probe between them "
                 "ran out of time even with more of it.").format(low=low, need=need, today=today)
    if need > today:
        return ngettext("{need} needed, {today} today: {gap} certified inspector short.",
                        "{need} needed, {today} today: {gap} certified inspectors short.",
                        need - today).format(need=need, today=today, gap=need - today)
    if need < today:
        return ngettext("{need} needed, {today} today: {gap} certified inspector to spare.",
                        "{need} needed, {today} today: {gap} certified inspectors to spare.",
                        today - need).format(need=need, today=today, gap=today - need)
    return _("{need} needed, {today} today: exactly enough.").format(need=need, today=today)


def _quarter(text: str):
    from riskplan.domain.calendar import Quarter

    return Quarter.parse(text) if isinstance(text, str) else text


def _with_policy(district: District, policy_path: str | None) -> District:
    if not policy_path:
        return district
    from riskplan.domain.policy import load_policy

    if not Path(policy_path).exists():
        raise DistrictError([Problem(str(policy_path), _("policy variant file not found"))])
    return replace(district, policy=load_policy(policy_path))


def _with_shares(district: District, shares: tuple[tuple[str, float], ...]) -> District:
    if not shares:
        return district
    policy = district.policy
    tiers = policy.tiers.model_copy(update={
        t: getattr(policy.tiers, t).model_copy(update={"sample_share": s}) for t, s in shares})
    return replace(district, policy=policy.model_copy(update={"tiers": tiers}))


def charts(table: pd.DataFrame, current: int | None = None, needed: int | None = None) -> dict[str, bytes]:
    """PNG charts: coverage (in %) and shortfall against staffing, one line per tier, with
    today's staffing (`current`) and the smallest staffing meeting the policy (`needed`) marked."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    from riskplan.export.report import TIER_COLOURS, use_report_fonts

    use_report_fonts()

    base = table[(table["capacity_scale"] == 1.0) & (table["policy"] == "")]
    out = {}
    for metric, ylabel, title, name in (
            ("mandatory_coverage", _("mandatory coverage"), _("Mandatory coverage against staffing"), "coverage.png"),
            ("shortfall", _("mandatory visits missing"), _("Mandatory visits missing against staffing"),
             "shortfall.png")):
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for tier in [t.value for t in TIERS]:
            sel = base[base["tier"] == tier].groupby("inspectors")[metric].mean()
            if len(sel):
                ax.plot(sel.index, sel.values, marker="o", color=TIER_COLOURS[tier], label=value_label("tier", tier))
        fell = base[(base["tier"] != "all") & (base["status"] == "GREEDY_FALLBACK")]
        if len(fell):  # hollow rings: the solver ran out of time there and the greedy roster stands in
            ax.scatter(fell["inspectors"], fell[metric], s=140, facecolors="none", edgecolors="black",
                       linewidths=1.2, zorder=5, label=_("greedy fallback (raise --time-limit)"))
        if metric == "mandatory_coverage":
            drawn = base[base["tier"] == "all"].groupby("inspectors")[["drawn_placed", "drawn_requested"]].sum()
            share = drawn["drawn_placed"] / drawn["drawn_requested"].where(drawn["drawn_requested"] > 0)
            ax.plot(share.index, share.values, linestyle="--", color="grey", label=_("drawn visits placed"))
            ax.set_ylim(0, 1.05)
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(xmax=1.0))
        if current is not None:
            ax.axvline(current, color="black", linewidth=1.2,
                       label=_("today: {count} certified inspectors").format(count=current))
        if needed is not None:
            ax.axvline(needed, color="black", linewidth=1.2, linestyle=":",
                       label=_("needed: {count}").format(count=needed))
        ax.set_xlabel(_("certified inspectors"))
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)
        out[name] = buf.getvalue()
    return out


def display_table(frame: pd.DataFrame, table: str, lang: str | None = None) -> pd.DataFrame:
    """A what-if table as people read it: headers (domain/headers.py, table `whatif` or
    `marginal`) and tier names in the chosen language; the numbers unchanged."""
    with language(lang):
        out = frame.copy()
        if "tier" in out.columns:
            out["tier"] = [_("all tiers") if t == "all" else value_label("tier", t) for t in out["tier"]]
        out.columns = display_headers(table, out.columns)
        return out


def write_whatif(result: WhatIfResult, out_dir: Path, force: bool = False) -> list[Path]:
    """OUT/whatif.csv, marginal.csv (in the current language), summary.json and the charts."""
    import json

    with atomic_output_dir(Path(out_dir), force=force) as staging:
        (staging / "whatif.csv").write_bytes(frame_to_csv_bytes(display_table(result.table, "whatif")))
        (staging / "marginal.csv").write_bytes(frame_to_csv_bytes(display_table(result.marginal, "marginal")))
        (staging / "summary.json").write_text(json.dumps({
            "minimal_staffing": result.minimal_staffing, "exact": result.exact,
            "largest_staffing_short": result.short_of, "current_staffing": result.current_staffing,
            "largest_staffing_tried": _largest_tried(result),
            "answer": staffing_sentence(result), "bisection_probes": result.probes,
            "extra_qualified": result.extra, "greedy_fallback_scenarios": result.fallbacks,
            "excluded_from_answer": result.fallbacks}, indent=2, ensure_ascii=False) + "\n")
        if ((result.table["capacity_scale"] == 1.0) & (result.table["policy"] == "")).any():
            for name, png in charts(result.table, result.current_staffing, result.minimal_staffing).items():
                (staging / name).write_bytes(png)
        names = sorted(p.name for p in staging.iterdir())
    return [Path(out_dir) / n for n in names]

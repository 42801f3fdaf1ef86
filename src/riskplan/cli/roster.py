"""Commands on the quarter's roster: `plan` builds it, `check` verifies a published one."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from riskplan.i18n import N_, _, pgettext

from .base import EXIT_BAD_INPUT, main, reports_bad_input

EXIT_FALLBACK = 3  # plan wrote a complete plan, but its roster is the greedy fallback

#: plan.json's solver status as people read it (an unknown status is shown as written).
SOLVER_STATUS = {
    "OPTIMAL": N_("optimal"),
    "FEASIBLE": N_("feasible"),
    "INTERRUPTED": N_("interrupted (greedy fallback)"),
    "TIME_LIMIT": N_("time limit reached (greedy fallback)"),
    "NO_WEEK_PLAN": N_("no week plan (greedy fallback)"),
}


def _listing(items) -> str:
    """Items of one summary line joined the way the language lists them."""
    return pgettext("summary list separator", ", ").join(items)


def _quarter(ctx, param, value):
    from riskplan.domain.calendar import Quarter

    try:
        return Quarter.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


class _Progress:
    """A status line on stderr the solver updates (phase, best objective, time); on a stderr that
    is not a terminal (a log file, a pipe) one line per update instead, so logs show progress."""

    def __init__(self):
        from rich.console import Console

        self.console = Console(stderr=True)
        self.status = None

    def __enter__(self):
        if self.console.is_terminal:
            self.status = self.console.status(_("planning…"))
            self.status.__enter__()
        return self

    def __exit__(self, *exc):
        if self.status is not None:
            self.status.__exit__(*exc)

    def __call__(self, *args, **kwargs):
        parts = [str(a) for a in args] + [f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                                          for k, v in kwargs.items()]
        text = " ".join(parts) or _("solving…")
        if self.status is not None:
            self.status.update(text)
        else:
            click.echo(text, err=True)


def plan_summary(plan: dict, files: list[str], out_dir: Path) -> list[str]:
    """What `plan` prints when it has written the plan, in the current language."""
    from riskplan.domain.headers import value_label

    counts = plan["counts"]
    status = plan["solver"]["status"]
    lines = [_("Plan for {quarter} (seed {seed}): {placed} visits placed of {requested} requested; solver {status}, "
               "{seconds} s").format(quarter=plan["quarter"], seed=plan["seed"], placed=counts["placed"],
                                     requested=sum(counts["requested_by_basis"].values()),
                                     status=_(SOLVER_STATUS[status]) if status in SOLVER_STATUS else status,
                                     seconds=f"{plan['timing']['total_wall_time_s']:.1f}")]
    by_tier = [pgettext("visits by kind", "{name} {count}").format(name=value_label("tier", k), count=v)
               for k, v in counts["placed_by_tier"].items()]
    lines.append(_("  by tier:  {counts}").format(counts=_listing(by_tier)))
    by_basis = [pgettext("visits by kind", "{name} {count}").format(name=value_label("basis", k), count=v)
                for k, v in counts["placed_by_basis"].items()]
    lines.append(_("  by basis: {counts}").format(counts=_listing(by_basis)))
    drawn = [_("{tier} {drawn} of {eligible} eligible").format(tier=value_label("tier", k),
                                                              drawn=counts["drawn_by_tier"][k],
                                                              eligible=counts["eligible_by_tier"][k])
             for k in counts["drawn_by_tier"] if counts["eligible_by_tier"][k]]
    lines.append(_("  drawn:    {counts}").format(counts=_listing(drawn)))
    short = plan["shortfall"]
    if short["missing_total"]:
        lines.append(_("Shortfall: {missing} visit(s) missing ({unmet} obligation(s), {drawn} drawn, not placed)")
                     .format(missing=short["missing_total"], unmet=len(short["unmet_obligations"]),
                             drawn=len(short["drawn_not_placed"])))
        for row in short["by_rule"]:
            lines.append(_("  {rule}, {tier}, {subdistrict}, month {month}: {missing} missing — {reason}; "
                           "{suggestion}").format(rule=value_label("rule", row["rule"]),
                                                  tier=value_label("tier", row["tier"]),
                                                  subdistrict=row["subdistrict"], month=row["month"],
                                                  missing=row["missing"], reason=row["reason"],
                                                  suggestion=row["suggestion"]))
    else:
        lines.append(_("Shortfall: none — every obligation and every drawn visit is placed"))
    lines.append(_("Wrote {files} to {folder}").format(files=_listing(sorted(files)), folder=out_dir))
    return lines


@main.command()
@click.argument("district_dir", type=click.Path(path_type=Path))
@click.option("--quarter", required=True, callback=_quarter, help="quarter to plan, e.g. 2027Q1")
@click.option("--seed", type=click.IntRange(min=0), required=True,
              help="seed of both random draws (recorded in plan.json)")
@click.option("--tiers", "tiers_path", type=click.Path(path_type=Path), default=None,
              help="tiers file (enterprise_id, tier); default: tier with the scoring model")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="solver time limit in seconds")
@click.option("--force", is_flag=True, help="replace an existing plan in --out")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="folder to write the plan to")
@click.option("--accept-fallback", is_flag=True,
              help="exit 0 even if the solve was interrupted or timed out (the plan is still marked)")
@click.option("--commitment", "commitment_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="the folder commit-seed wrote: --seed must be the seed it commits to; plan.json carries the "
                   "commitment and its reveal, and publish puts them on the notice")
@click.option("--previous", "previous_dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
              default=None,
              help="the previous quarter's plan folder: its visits without a recorded result count as done on their "
                   "planned dates (listed in plan.json as planned, not recorded)")
@click.option("--previous-results", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="with --previous: its results file (workbook or CSV, partly filled in is fine); visits it says "
                   "did not happen are left out, and results not recorded yet are refused")
@reports_bad_input
def plan(district_dir: Path, quarter, seed: int, tiers_path: Path | None, time_limit: float, force: bool,
         out_dir: Path, accept_fallback: bool, commitment_dir: Path | None, previous_dir: Path | None,
         previous_results: Path | None) -> None:
    """Build the quarter's double-random inspection roster for DISTRICT_DIR.

    Exit 3 when the roster is the greedy fallback (interrupt, time limit), unless --accept-fallback."""
    from riskplan.export.plan_files import fallback_notice
    from riskplan.outputs import OUTPUT_MARKER
    from riskplan.pipeline import run_plan
    from riskplan.score.tiering import TieringError

    if previous_results is not None and previous_dir is None:
        raise click.UsageError(_("--previous-results needs --previous"))
    try:
        with _Progress() as progress:
            result = run_plan(district_dir, quarter, seed, tiers_path, out_dir=out_dir, force=force,
                              time_limit=time_limit, progress=progress, commitment_dir=commitment_dir,
                              previous_dir=previous_dir, previous_results=previous_results)
    except TieringError as exc:
        click.echo(_("error: {message}").format(message=exc), err=True)
        sys.exit(EXIT_BAD_INPUT)
    files = [f.name for f in result.out_dir.iterdir() if f.is_file() and f.name != OUTPUT_MARKER]  # not inputs/
    for line in plan_summary(result.plan, files, result.out_dir):
        click.echo(line)
    for line in result.warnings:  # e.g. a year the built-in working calendar does not know
        click.echo(line, err=True)
    notice = fallback_notice(result.plan)
    if notice:
        click.echo(_("warning: {fallback}").format(fallback=notice), err=True)
        if not accept_fallback:
            sys.exit(EXIT_FALLBACK)


@main.command()
@click.argument("district_dir", type=click.Path(path_type=Path))
@click.argument("out_dir", type=click.Path(path_type=Path))
@reports_bad_input
def check(district_dir: Path, out_dir: Path) -> None:
    """Verify the plan in OUT_DIR against every roster rule; exit 1 if any is broken."""
    from riskplan.check.checker import ROSTER_RULES, check_roster
    from riskplan.check.context import rule_label

    violations = check_roster(district_dir, out_dir)
    _warn_if_fallback(out_dir)
    if not violations:
        click.echo(_("{folder}: all {count} roster checks pass").format(folder=out_dir, count=len(ROSTER_RULES)))
        return
    for v in violations:
        click.echo(str(v))
    by_rule: dict[str, int] = {}
    for v in violations:
        by_rule[v.rule] = by_rule.get(v.rule, 0) + 1
    rules = [pgettext("violations by rule", "{name} {count}").format(name=rule_label(k), count=n) for k, n in by_rule.items()]
    click.echo(_("{count} violation(s): {rules}").format(count=len(violations), rules=_listing(rules)), err=True)
    sys.exit(1)


def _warn_if_fallback(out_dir: Path) -> None:
    """A fallback roster can pass every rule and still be far weaker: say so, exit unchanged."""
    import json

    from riskplan.export.plan_files import fallback_notice

    try:
        plan = json.loads((Path(out_dir) / "plan.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # the checker has already judged plan.json
    notice = fallback_notice(plan) if isinstance(plan, dict) else None
    if notice:
        click.echo(_("warning: {folder}: {fallback}").format(folder=out_dir, fallback=notice), err=True)

"""Commands on the quarter's roster: `plan` builds it, `check` verifies a published one."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .base import EXIT_BAD_INPUT, main, reports_bad_input

EXIT_FALLBACK = 3  # plan wrote a complete plan, but its roster is the greedy fallback


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
            self.status = self.console.status("planning…")
            self.status.__enter__()
        return self

    def __exit__(self, *exc):
        if self.status is not None:
            self.status.__exit__(*exc)

    def __call__(self, *args, **kwargs):
        parts = [str(a) for a in args] + [f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                                          for k, v in kwargs.items()]
        text = " ".join(parts) or "solving…"
        if self.status is not None:
            self.status.update(text)
        else:
            click.echo(text, err=True)


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
@reports_bad_input
def plan(district_dir: Path, quarter, seed: int, tiers_path: Path | None, time_limit: float, force: bool,
         out_dir: Path, accept_fallback: bool) -> None:
    """Build the quarter's double-random inspection roster for DISTRICT_DIR.

    Exit 3 when the roster is the greedy fallback (interrupt, time limit), unless --accept-fallback."""
    from riskplan.export.plan_files import fallback_notice
    from riskplan.outputs import OUTPUT_MARKER
    from riskplan.pipeline import run_plan
    from riskplan.score.tiering import TieringError

    try:
        with _Progress() as progress:
            result = run_plan(district_dir, quarter, seed, tiers_path, out_dir=out_dir, force=force,
                              time_limit=time_limit, progress=progress)
    except TieringError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    p = result.plan
    counts = p["counts"]
    click.echo(f"Plan for {p['quarter']} (seed {p['seed']}): {counts['placed']} visits placed "
               f"of {sum(counts['requested_by_basis'].values())} requested; solver {p['solver']['status']}, "
               f"{p['timing']['total_wall_time_s']:.1f} s")
    click.echo("  by tier:  " + ", ".join(f"{k} {v}" for k, v in counts["placed_by_tier"].items()))
    click.echo("  by basis: " + ", ".join(f"{k} {v}" for k, v in counts["placed_by_basis"].items()))
    click.echo("  drawn:    " + ", ".join(f"{k} {counts['drawn_by_tier'][k]} of {counts['eligible_by_tier'][k]} "
                                          "eligible" for k in counts["drawn_by_tier"] if counts["eligible_by_tier"][k]))
    short = p["shortfall"]
    if short["missing_total"]:
        click.echo(f"Shortfall: {short['missing_total']} visit(s) missing "
                   f"({len(short['unmet_obligations'])} obligation(s), {len(short['drawn_not_placed'])} drawn, not placed)")
        for row in short["by_rule"]:
            click.echo(f"  {row['rule']}, {row['tier']}, {row['subdistrict']}, month {row['month']}: "
                       f"{row['missing']} missing — {row['reason']}; {row['suggestion']}")
    else:
        click.echo("Shortfall: none — every obligation and every drawn visit is placed")
    click.echo(f"Wrote {', '.join(sorted(f.name for f in result.out_dir.iterdir() if f.name != OUTPUT_MARKER))} to {result.out_dir}")
    notice = fallback_notice(p)
    if notice:
        click.echo(f"warning: {notice}", err=True)
        if not accept_fallback:
            sys.exit(EXIT_FALLBACK)


@main.command()
@click.argument("district_dir", type=click.Path(path_type=Path))
@click.argument("out_dir", type=click.Path(path_type=Path))
@reports_bad_input
def check(district_dir: Path, out_dir: Path) -> None:
    """Verify the plan in OUT_DIR against every roster rule; exit 1 if any is broken."""
    from riskplan.check.checker import ROSTER_RULES, check_roster

    violations = check_roster(district_dir, out_dir)
    _warn_if_fallback(out_dir)
    if not violations:
        click.echo(f"{out_dir}: all {len(ROSTER_RULES)} roster checks pass")
        return
    for v in violations:
        click.echo(str(v))
    by_rule: dict[str, int] = {}
    for v in violations:
        by_rule[v.rule] = by_rule.get(v.rule, 0) + 1
    click.echo(f"{len(violations)} violation(s): " + ", ".join(f"{k} {n}" for k, n in by_rule.items()), err=True)
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
        click.echo(f"warning: {out_dir}: {notice}", err=True)

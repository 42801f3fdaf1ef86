"""What-if capacity analysis: how many inspectors, how much capacity, which sample shares."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from riskplan.i18n import _

from .base import EXIT_BAD_INPUT, ExistingFolder, main, reports_bad_input


class _EngineStatus:
    """Scenarios done, running and failed in the progress bar's line; the dashboard's address
    once, on stderr, when the cluster serves one."""

    def __init__(self, bar, task):
        self.bar, self.task, self.dashboard_said = bar, task, False

    def __call__(self, progress) -> None:
        if progress.dashboard and not self.dashboard_said:
            self.dashboard_said = True
            self.bar.console.print(_("dashboard: {link}").format(link=progress.dashboard), markup=False)
        self.bar.update(self.task, description=_("scenarios: {done} done, {running} running, {failed} failed").format(
            done=progress.done, running=progress.running, failed=progress.failed))


@main.command()
@click.argument("district_dir", type=ExistingFolder())
@click.option("--quarter", required=True, help="e.g. 2027Q1")
@click.option("--seed", type=int, default=1, show_default=True, help="seed of the draws and the solver")
@click.option("--tiers", "tiers_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="tiers.csv (enterprise_id, tier); default: the scoring model")
@click.option("--inspectors", "inspectors_range", default=None,
              help="certified inspectors, START:STOP:STEP (e.g. 20:80:5); default: as in the district")
@click.option("--capacity-scale", "capacity_range", default=None,
              help="weekly capacity scale, START:STOP:STEP (e.g. 0.6:1.4:0.1)")
@click.option("--share", "share_specs", multiple=True,
              help="a tier's sample share, TIER=START:STOP:STEP (e.g. blue=0.01:0.10:0.01); repeatable")
@click.option("--policy", "policies", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="a variant policy.toml to compare with the district's own; repeatable")
@click.option("--qualification", default="hazchem", show_default=True,
              help="value one more inspector holding this qualification")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              help="seconds per scenario (default: adapted to the district's size and the parallel scenarios)")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="worker processes of the local Dask cluster (default: one per CPU)")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="address of an existing Dask scheduler (tcp://host:8786); default: a local cluster")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True)
@click.option("--force", is_flag=True, help="replace a non-empty --out folder")
@reports_bad_input
def whatif(district_dir: Path, quarter: str, seed: int, tiers_path: Path | None, inspectors_range: str | None,
           capacity_range: str | None, share_specs: tuple[str, ...], policies: tuple[str, ...], qualification: str, time_limit: float | None,
           workers: int | None, scheduler: str | None, out_dir: Path, force: bool) -> None:
    """Plan the quarter under many staffing, capacity and share scenarios and compare them."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from riskplan.analysis.whatif import (
        display_table,
        parse_range,
        parse_share,
        run_whatif,
        scenario_grid,
        staffing_sentence,
        write_whatif,
    )

    from riskplan.analysis.cluster import EngineError, TaskFailed
    from riskplan.domain.headers import value_label
    from riskplan.outputs import refuse_existing

    if scheduler and workers:
        raise click.BadParameter(_("--workers sizes the local cluster; with --scheduler the cluster's own workers run "
                                   "the tasks"), param_hint="--workers")
    refuse_existing(out_dir, force, "folder", inputs=(district_dir, tiers_path, *policies))  # before the scenarios
    try:
        inspectors = parse_range(inspectors_range, int) if inspectors_range else None
        scales = parse_range(capacity_range) if capacity_range else None
        shares = dict(parse_share(s) for s in share_specs)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    scenarios = scenario_grid(inspectors, scales, shares, [None, *policies] if policies else None)
    with Progress(TextColumn("[bold]" + _("what-if")), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), transient=True) as bar:
        task = bar.add_task("", total=len(scenarios) + 2)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        status = _EngineStatus(bar, task)
        try:
            result = run_whatif(district_dir, quarter, seed, scenarios, tiers_path=tiers_path, time_limit=time_limit,
                                workers=workers, extra_qualification=qualification or None, progress=progress,
                                scheduler=scheduler, status=status)
        except (EngineError, TaskFailed) as exc:
            bar.stop()
            click.echo(_("error: {message}").format(message=exc), err=True)
            sys.exit(EXIT_BAD_INPUT if isinstance(exc, EngineError) else 1)
    written = write_whatif(result, out_dir, force=force)
    total = result.table[result.table["tier"] == "all"]
    shown = total[["scenario", "mandatory_coverage", "shortfall", "drawn_placed", "drawn_not_placed", "utilisation"]]
    shown = shown.assign(mandatory_coverage=[f"{100 * v:.1f}%" for v in shown["mandatory_coverage"]],
                         utilisation=[f"{100 * v:.1f}%" for v in shown["utilisation"]])
    click.echo(display_table(shown, "whatif").to_string(index=False))
    click.echo("\n" + staffing_sentence(result))
    if result.probes:
        click.echo(_("Exact between the grid points: also solved {levels} inspectors.").format(
            levels=", ".join(str(n) for n in sorted(result.probes))))
    if result.extra:
        e = result.extra
        click.echo(_("One more {qualification}-qualified inspector (at {inspectors}): +{mandatory} mandatory visits, "
                     "+{visits} visits in all").format(qualification=value_label("qualification", e["qualification"]),
                                                       inspectors=e["at_inspectors"], mandatory=e["mandatory_gained"],
                                                       visits=e["visits_gained"]))
    if result.fallbacks:
        click.echo(_("Warning: {count} scenario(s) ran out of their time limit and used the greedy roster, so their "
                     "coverage is a lower estimate and they are left out of the answer: {scenarios}. Raise "
                     "--time-limit for these.").format(count=len(result.fallbacks),
                                                       scenarios="; ".join(result.fallbacks)), err=True)
    click.echo(_("Wrote {files} to {path}").format(files=", ".join(p.name for p in written), path=out_dir))

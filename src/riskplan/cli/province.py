"""`riskplan province`: every district of a province folder planned on a Dask cluster."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from riskplan.i18n import _

from .base import EXIT_BAD_INPUT, ExistingFolder, main, reports_bad_input

EXIT_DISTRICT_FAILED = 1  # some district failed (bad input, crash, time-out, a broken rule)
EXIT_FALLBACK = 3  # every district finished, some with the greedy fallback roster (as `plan`)


def _quarter(ctx, param, value):
    from riskplan.domain.calendar import Quarter

    try:
        return Quarter.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


class _Status:
    """Districts done, running, failed and waiting on stderr: one updating line on a terminal,
    a line per change elsewhere (a log file shows the run's course)."""

    def __init__(self):
        from rich.console import Console

        self.console = Console(stderr=True)
        self.status = None
        self.dashboard_said = False

    def __enter__(self):
        if self.console.is_terminal:
            self.status = self.console.status(_("starting the cluster…"))
            self.status.__enter__()
        return self

    def __exit__(self, *exc):
        if self.status is not None:
            self.status.__exit__(*exc)

    def __call__(self, progress) -> None:
        if progress.dashboard and not self.dashboard_said:
            self.dashboard_said = True
            click.echo(_("dashboard: {link}").format(link=progress.dashboard), err=True)
        text = _("districts: {done} done, {running} running, {failed} failed, {waiting} waiting of {total}").format(
            done=progress.done, running=progress.running, failed=progress.failed, waiting=progress.waiting,
            total=progress.total)
        if self.status is not None:
            self.status.update(text)
        else:
            click.echo(text, err=True)

    def district(self, name: str, record: dict) -> None:
        from riskplan.domain.headers import value_label

        line = f"{name}: {value_label('district_state', record['state'])}"
        if record.get("reason"):
            line += f" — {record['reason']}"
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)


@main.command()
@click.argument("root", type=ExistingFolder())
@click.option("--quarter", required=True, callback=_quarter, help="quarter to plan in every district, e.g. 2027Q1")
@click.option("--seed", type=click.IntRange(min=0), required=True,
              help="province seed; each district's seed derives from it and the district's name")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="folder for the province's outputs; an earlier run's folder resumes it")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="address of an existing Dask scheduler (tcp://host:8786); default: a local cluster")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="worker processes of the local cluster (default: one per CPU)")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="solver time limit per district in seconds")
@click.option("--task-timeout", type=click.FloatRange(min=0.1), default=None,
              help="seconds a district may run before it is stopped and reported as timed out")
@click.option("--publish", is_flag=True, help="also write each district's public spot-check files")
@click.option("--whatif", is_flag=True,
              help="also sweep each district's staffing: the smallest staffing meeting the policy and the value "
                   "of one more qualified inspector, in the summary")
@click.option("--whatif-levels", default="0.5:1.5:0.125", show_default=True, metavar="START:STOP:STEP",
              help="staffing levels of --whatif, as fractions of each district's certified inspectors")
@click.option("--qualification", default="hazchem", show_default=True,
              help="--whatif values one more inspector holding this qualification")
@click.option("--times-from", type=click.Path(exists=True, path_type=Path), default=None, metavar="PREVIOUS",
              help="an earlier province run (its --out folder or province.json, e.g. last quarter's): its districts' "
                   "recorded times start the longest districts first")
@click.option("--accept-fallback", is_flag=True,
              help="exit 0 even if some district's solve hit the time limit (its plan is still marked)")
@reports_bad_input
def province(root: Path, quarter, seed: int, out_dir: Path, scheduler: str | None, workers: int | None,
             time_limit: float, task_timeout: float | None, publish: bool, whatif: bool, whatif_levels: str,
             qualification: str, times_from: Path | None, accept_fallback: bool) -> None:
    """Plan, check (and publish) every district of ROOT for the quarter, one Dask task each.

    ROOT holds one folder per district, or a districts.csv listing them. Exit 1 when a district
    failed (the others still finish), 3 when some roster is the greedy fallback."""
    from riskplan.domain.headers import value_label
    from riskplan.analysis.cluster import EngineError
    from riskplan.province.runner import run_province
    from riskplan.province.task import FALLBACK, FINISHED

    from riskplan.analysis.whatif import parse_range

    if scheduler and workers:
        raise click.BadParameter(_("--workers sizes the local cluster; with --scheduler the cluster's own workers run "
                                   "the tasks"), param_hint="--workers")
    try:
        levels = tuple(parse_range(whatif_levels)) if whatif else ()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--whatif-levels") from None
    if any(f <= 0 for f in levels):
        raise click.BadParameter(_("staffing fractions must be above 0"), param_hint="--whatif-levels")
    status = _Status()
    try:
        with status:
            result = run_province(root, quarter, seed, out_dir, scheduler=scheduler, workers=workers,
                                  time_limit=time_limit, publish=publish, task_timeout=task_timeout,
                                  whatif_levels=levels, whatif_qualification=qualification,
                                  times_from=times_from, progress=status, on_district=status.district)
    except EngineError as exc:
        click.echo(_("error: {message}").format(message=exc), err=True)
        sys.exit(EXIT_BAD_INPUT)
    if result.resumed:
        click.echo(_("resumed: {count} district(s) already planned with the same inputs and seed: {names}").format(
            count=len(result.resumed), names=", ".join(result.resumed)))
    finished = result.in_state(*FINISHED)
    failed = [n for n in result.order if n not in finished]
    click.echo(_("{finished} of {total} districts finished; summary: {files}").format(
        finished=len(finished), total=len(result.order), files=", ".join(str(p) for p in result.files)))
    for name in failed:
        rec = result.districts[name]
        click.echo(_("failed: {name} ({state}): {reason}").format(name=name, state=value_label("district_state", rec["state"]),
                                                                 reason=rec["reason"]), err=True)
    if failed:
        sys.exit(EXIT_DISTRICT_FAILED)
    if result.in_state(FALLBACK) and not accept_fallback:
        click.echo(_("warning: the roster of {names} is the greedy fallback; re-run with a larger --time-limit")
                   .format(names=", ".join(result.in_state(FALLBACK))), err=True)
        sys.exit(EXIT_FALLBACK)

"""`riskplan value`: the measured targeting value of the draw methods, on a district with truth."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from riskplan.i18n import _

from .base import EXIT_BAD_INPUT, main, reports_bad_input


@main.command("value")
@click.argument("district_dir", type=click.Path(path_type=Path))
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--quarter", default=None, help="quarter to draw, e.g. 2027Q1 (default: the one after the history)")
@click.option("--seeds", type=click.IntRange(min=2), default=50, show_default=True, help="number of seeds")
@click.option("--first-seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--min-inclusion", type=click.FloatRange(0, 1), default=None,
              help="override [draw] min_inclusion (the floor)")
@click.option("--max-inclusion", type=click.FloatRange(0, 1), default=None,
              help="override [draw] max_inclusion (the cap)")
@click.option("--weight-power", type=click.IntRange(1, 4), default=None,
              help="override [draw] weight_power (chance ∝ probability^power) for the weighted designs")
@click.option("--force", is_flag=True, help="replace an existing OUT_DIR")
@reports_bad_input
def value(district_dir: Path, out_dir: Path, quarter: str | None, seeds: int, first_seed: int,
          min_inclusion: float | None, max_inclusion: float | None, weight_power: int | None, force: bool) -> None:
    """Expected serious-risk events reached by the roster's visits (Σ p_event_12m of truth.csv):
    uniform vs risk-weighted vs ceiling vs oracle draws and the rule-baseline tiers, over SEEDS seeds.
    Writes OUT_DIR/value.csv, value_runs.csv, value.json and value.png."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from riskplan.analysis.value import (
        DESIGNS,
        format_table,
        measure_value,
        write_value,
    )
    from riskplan.domain.calendar import Quarter
    from riskplan.outputs import OUTPUT_MARKER, refuse_existing
    from riskplan.score.model import ModelError

    out_dir = Path(out_dir)
    refuse_existing(out_dir, force, "folder", inputs=(district_dir,))  # before the work, not after it
    try:
        q = Quarter.parse(quarter) if quarter else None
    except ValueError as exc:
        click.echo(_("error: {message}").format(message=f"--quarter: {exc}"), err=True)
        sys.exit(EXIT_BAD_INPUT)
    try:
        with Progress(TextColumn("[bold]" + _("value") + "[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(_("preparing"), total=seeds * len(DESIGNS))
            result = measure_value(district_dir, q, seeds=seeds, first_seed=first_seed, min_inclusion=min_inclusion,
                                   max_inclusion=max_inclusion, weight_power=weight_power,
                                   progress=lambda done, total: bar.update(task, completed=done),
                                   stage=lambda text: bar.update(task, description=text))
    except (FileNotFoundError, ModelError) as exc:
        click.echo(_("error: {message}").format(message=exc), err=True)
        sys.exit(EXIT_BAD_INPUT)
    except ValueError as exc:  # truth.csv without the right columns or enterprises
        from riskplan.domain.policy import PolicyError
        from riskplan.load.district import DistrictError

        if isinstance(exc, (DistrictError, PolicyError)):
            raise
        click.echo(_("error: {message}").format(message=exc), err=True)
        sys.exit(EXIT_BAD_INPUT)
    write_value(result, out_dir, force=force)
    click.echo(format_table(result))
    click.echo(_("Wrote {files} to {path}").format(
        files=", ".join(p.name for p in sorted(out_dir.iterdir()) if p.name != OUTPUT_MARKER), path=out_dir))

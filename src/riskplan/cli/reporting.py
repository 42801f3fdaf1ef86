"""The report a bureau chief reads."""

from __future__ import annotations

from pathlib import Path

import click

from .base import ExistingFolder, main, reports_bad_input


@main.command()
@click.argument("district_dir", type=ExistingFolder())
@click.argument("plan_dir", type=ExistingFolder())
@click.option("--whatif", "whatif_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a whatif.csv to chart (default: PLAN_DIR/whatif.csv when present)")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="the HTML file to write")
@click.option("--force", is_flag=True, help="replace an existing --out file")
@reports_bad_input
def report(district_dir: Path, plan_dir: Path, whatif_csv: Path | None, out_path: Path, force: bool) -> None:
    """Write one self-contained HTML report of the plan in PLAN_DIR: tier mix, map, calendar
    heat-map, inspector load, shortfall and the what-if curve."""
    from riskplan.export.report import write_report

    click.echo(str(write_report(district_dir, plan_dir, out_path, whatif_csv, force=force)))

"""The report a bureau chief reads."""

from __future__ import annotations

from pathlib import Path

import click

from riskplan.i18n import _

from .base import ExistingFolder, main, reports_bad_input


@main.command()
@click.argument("district_dir", type=ExistingFolder())
@click.argument("plan_dir", type=ExistingFolder())
@click.option("--whatif", "whatif_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a whatif.csv to chart (default: PLAN_DIR/whatif.csv when present)")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="the HTML file to write")
@click.option("--force", is_flag=True, help="replace an existing --out file")
@click.option("--previous", "previous_dir", type=ExistingFolder(), default=None,
              help="last quarter's plan folder: the report shows what changed since")
@reports_bad_input
def report(district_dir: Path, plan_dir: Path, whatif_csv: Path | None, out_path: Path, force: bool,
           previous_dir: Path | None) -> None:
    """Write one self-contained HTML report of the plan in PLAN_DIR: tier mix, map, calendar
    heat-map, inspector load, shortfall and the what-if curve, in Chinese unless --lang en."""
    import warnings

    from riskplan.export.report import write_report

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        path = write_report(district_dir, plan_dir, out_path, whatif_csv, force=force, previous_dir=previous_dir)
    for warning in caught:  # e.g. no Chinese font installed: said once, in the reader's language
        click.echo(_("warning: {message}").format(message=warning.message), err=True)
    click.echo(str(path))

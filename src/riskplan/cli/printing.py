"""Internal printouts (内部资料) of a plan: per squad, per inspector, or a month calendar."""

from __future__ import annotations

from pathlib import Path

import click

from .base import ExistingFolder, main, reports_bad_input


@main.command("print")
@click.argument("district_dir", type=ExistingFolder())
@click.argument("plan_dir", type=ExistingFolder())
@click.option("--by", type=click.Choice(["squad", "inspector", "month"]), default="squad", show_default=True,
              help="one page set per squad, per inspector, or a calendar per month")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="folder for the pages (never a public folder)")
@click.option("--pdf", is_flag=True, help="also print each page to PDF with the installed Chromium")
@click.option("--force", is_flag=True, help="replace a non-empty --out folder")
@reports_bad_input
def print_(district_dir: Path, plan_dir: Path, by: str, out_dir: Path, pdf: bool, force: bool) -> None:
    """Write A4 internal printouts of the plan in PLAN_DIR (dates, teams by name, addresses,
    check items, a signature line), marked internal."""
    from riskplan.export.printouts import write_printouts

    for path in write_printouts(district_dir, plan_dir, by, out_dir, pdf=pdf, force=force):
        click.echo(str(path))

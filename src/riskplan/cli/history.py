"""Commands that feed a finished quarter back into the district's history."""

from __future__ import annotations

from pathlib import Path

import click

from .base import ExistingFolder, main, reports_bad_input


@main.command()
@click.argument("district_dir", type=ExistingFolder())
@click.argument("plan_dir", type=ExistingFolder())
@click.argument("results", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@reports_bad_input
def record(district_dir: Path, plan_dir: Path, results: Path) -> None:
    """Append the completed visits in RESULTS (visit_id, date, hazards_found,
    major_hazards_found, penalized, outcome) of the plan in PLAN_DIR to DISTRICT_DIR's
    inspections history. Recording the same results twice changes nothing."""
    from riskplan.export.record import record_results

    done = record_results(district_dir, plan_dir, results)
    click.echo(f"{done.added} visit(s) added to {done.inspections_file}; "
               f"{done.already_recorded} already recorded.")

"""Commands that feed a finished quarter back into the district's history."""

from __future__ import annotations

from pathlib import Path

import click

from .base import ExistingFolder, main, reports_bad_input


@main.command()
@click.argument("district_dir", type=ExistingFolder())
@click.argument("plan_dir", type=ExistingFolder())
@click.argument("results", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--correct", is_flag=True,
              help="apply results that change visits already recorded (old values kept in "
                   "inspections_corrections.csv)")
@reports_bad_input
def record(district_dir: Path, plan_dir: Path, results: Path, correct: bool) -> None:
    """Append the completed visits in RESULTS (visit_id, date, hazards_found,
    major_hazards_found, penalized, outcome) of the plan in PLAN_DIR to DISTRICT_DIR's
    inspections history. Recording the same results twice changes nothing; a result that
    changes a recorded visit is refused unless --correct is given. The history file is
    backed up (inspections.bak-N) before it changes."""
    from riskplan.export.record import record_results

    done = record_results(district_dir, plan_dir, results, correct=correct)
    click.echo(f"{done.added} visit(s) added to {done.inspections_file}; "
               f"{done.already_recorded} already recorded.")
    if done.corrected:
        click.echo(f"{done.corrected} visit(s) corrected; the previous values are in {done.corrections_file}.")
    if done.backup_file is not None:
        click.echo(f"The previous history is kept in {done.backup_file}.")

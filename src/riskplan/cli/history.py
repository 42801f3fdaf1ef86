"""Commands that feed a finished quarter back into the district's history: the results
workbook to fill in, and recording it."""

from __future__ import annotations

from pathlib import Path

import click

from riskplan.i18n import _, ngettext

from .base import ExistingFolder, main, reports_bad_input

#: At most this many visit ids are listed in a line; the rest are counted.
LISTED_IDS = 20


def _ids(ids) -> str:
    shown = ", ".join(ids[:LISTED_IDS])
    if len(ids) > LISTED_IDS:
        shown += _(" and {count} more").format(count=len(ids) - LISTED_IDS)
    return shown


@main.command()
@click.argument("district_dir", type=ExistingFolder())
@click.argument("plan_dir", type=ExistingFolder())
@click.argument("results", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--correct", is_flag=True,
              help="apply results that change visits already recorded (old values kept in "
                   "inspections_corrections.csv)")
@reports_bad_input
def record(district_dir: Path, plan_dir: Path, results: Path, correct: bool) -> None:
    """Record the results in RESULTS (the workbook from results-template, or a results.csv) of
    the plan in PLAN_DIR in DISTRICT_DIR's inspections history. Rows are appended to the
    history's own sheet or CSV file, which is backed up first (inspections.bak-<time>);
    recording the same results twice changes nothing; a result that changes a recorded visit
    is refused unless --correct is given; results of another plan are refused."""
    from riskplan.domain.headers import value_label
    from riskplan.export.record import record_results

    done = record_results(district_dir, plan_dir, results, correct=correct)
    click.echo(ngettext("{count} visit added to {file}; {already} already recorded.",
                        "{count} visits added to {file}; {already} already recorded.", done.added).format(
        count=done.added, file=done.inspections_file, already=done.already_recorded))
    if done.corrected:
        click.echo(ngettext("{count} visit corrected; the previous values are in {file}.",
                            "{count} visits corrected; the previous values are in {file}.", done.corrected).format(
            count=done.corrected, file=done.corrections_file))
    for outcome, ids in sorted(done.not_carried_out.items()):
        click.echo(ngettext("{count} visit did not happen ({outcome}), not recorded as an inspection: {ids}",
                            "{count} visits did not happen ({outcome}), not recorded as inspections: {ids}",
                            len(ids)).format(count=len(ids), outcome=value_label("outcome", outcome), ids=_ids(ids)))
    if done.uncategorized:
        click.echo(ngettext("{count} outcome is not one of the categories and was recorded as written: {ids}",
                            "{count} outcomes are not among the categories and were recorded as written: {ids}",
                            len(done.uncategorized)).format(count=len(done.uncategorized),
                                                            ids=_ids(list(done.uncategorized))))
    if done.no_result:
        click.echo(ngettext("{count} planned visit has no result yet: {ids}",
                            "{count} planned visits have no result yet: {ids}", len(done.no_result)).format(
            count=len(done.no_result), ids=_ids(list(done.no_result))))
    if done.backup_file is not None:
        click.echo(_("The history as it was before is kept in {file}.").format(file=done.backup_file))


@main.command("results-template")
@click.argument("plan_dir", type=ExistingFolder())
@click.argument("out_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--district", "district_dir", type=ExistingFolder(),
              help="the district folder, to show the inspectors' names (not only their ids)")
@click.option("--force", is_flag=True, help="replace OUT_FILE if it is a results workbook with nothing filled in")
@reports_bad_input
def results_template(plan_dir: Path, out_file: Path, district_dir: Path | None, force: bool) -> None:
    """Write OUT_FILE (.xlsx), the results workbook of the plan in PLAN_DIR: one row per planned
    visit (id, enterprise, subdistrict, planned date, team) and the columns to fill in after
    the visit (actual date, outcome from a list, hazards found, penalized, substitute
    inspectors). Fill it in and give it to record."""
    from riskplan.export.results_template import is_blank_template, template_bytes
    from riskplan.load.district import load_district
    from riskplan.outputs import atomic_write_bytes, refuse_existing

    if out_file.suffix.lower() != ".xlsx":
        raise click.UsageError(_("OUT_FILE must end in .xlsx"))
    target = refuse_existing(out_file, force, "file", inputs=(plan_dir, district_dir), suffixes=(".xlsx",),
                             own=is_blank_template)
    inspectors = load_district(district_dir).inspectors if district_dir is not None else None
    atomic_write_bytes(target, template_bytes(plan_dir, inspectors))
    click.echo(_("Results workbook written to {file}: fill in the yellow columns, then run record.").format(
        file=out_file))

"""Commands for the one disclosure (一公开): the public spot-check plan and results."""

from __future__ import annotations

from pathlib import Path

import click

from riskplan.i18n import _

from .base import ExistingFolder, main, reports_bad_input


@main.command()
@click.argument("district_dir", type=ExistingFolder())
@click.argument("plan_dir", type=ExistingFolder())
@click.option("--stage", type=click.Choice(["plan", "results"]), required=True,
              help="plan: the spot-check plan (no dates, no inspectors); results: outcomes after the visits")
@click.option("--results", "results_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="results.csv (visit_id, date, hazards_found, major_hazards_found, penalized, outcome); "
                   "needed for --stage results")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="folder for public files")
@click.option("--force", is_flag=True, help="replace a non-empty --out folder")
@reports_bad_input
def publish(district_dir: Path, plan_dir: Path, stage: str, results_path: Path | None,
            out_dir: Path, force: bool) -> None:
    """Write the public spot-check list of the plan in PLAN_DIR as CSV, .xlsx and HTML, in
    Chinese (headers, sheet names, the page) unless --lang en."""
    from riskplan.export.publish import publish as write_public

    for path in write_public(district_dir, plan_dir, stage, out_dir, results_path=results_path,
                             force=force):
        click.echo(str(path))


@main.command("verify-draw")
@click.argument("public_dir", type=ExistingFolder())
@click.argument("district_dir", type=ExistingFolder())
@click.option("--tiers", "tiers_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="the plan's tiers (OUT/tiers.csv), to re-derive the frame and every published chance; "
                   "default: the scoring model's tiers, as plan derives them")
@reports_bad_input
def verify_draw(public_dir: Path, district_dir: Path, tiers_path: Path | None) -> None:
    """Re-run the draw published in PUBLIC_DIR from its sampling frame and seed, re-derive the
    frame from DISTRICT_DIR, and say whether everything matches (exit 0) or not (exit 1)."""
    import sys

    from riskplan.export.verify import verify_draw as verify

    result = verify(public_dir, district_dir, tiers_path)
    for name, passed, detail in result.checks:
        line = _("ok   {check}: {detail}") if passed else _("FAIL {check}: {detail}")
        click.echo(line.format(check=name, detail=detail))
    for note in result.notes:
        click.echo(_("note {note}").format(note=note))
    click.echo(_("The published draw is reproduced.") if result.ok else _("The published draw does NOT match."))
    sys.exit(0 if result.ok else 1)

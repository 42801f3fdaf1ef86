"""Commands for the one disclosure (一公开): the public spot-check plan and results."""

from __future__ import annotations

from pathlib import Path

import click

from .base import ExistingFolder, main, reports_bad_input


@main.command()
@click.argument("district_dir", type=ExistingFolder())
@click.argument("plan_dir", type=ExistingFolder())
@click.option("--stage", type=click.Choice(["plan", "results"]), required=True,
              help="plan: the spot-check plan (no dates, no inspectors); results: outcomes after the visits")
@click.option("--results", "results_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="results.csv (visit_id, date, hazards_found, major_hazards_found, penalized, outcome); "
                   "needed for --stage results")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="folder for public files")
@click.option("--force", is_flag=True, help="replace a non-empty --out folder")
@reports_bad_input
def publish(district_dir: Path, plan_dir: Path, stage: str, results_path: Path | None, lang: str,
            out_dir: Path, force: bool) -> None:
    """Write the public spot-check list of the plan in PLAN_DIR as CSV, .xlsx and HTML."""
    from riskplan.export.publish import publish as write_public

    for path in write_public(district_dir, plan_dir, stage, out_dir, lang=lang, results_path=results_path,
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
        click.echo(f"{'ok  ' if passed else 'FAIL'} {name}: {detail}")
    for note in result.notes:
        click.echo(f"note {note}")
    click.echo("The published draw is reproduced." if result.ok else "The published draw does NOT match.")
    sys.exit(0 if result.ok else 1)

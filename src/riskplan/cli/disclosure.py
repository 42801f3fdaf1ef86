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
@click.option("--commitment", "commitment_dir", type=ExistingFolder(), default=None,
              help="the folder commit-seed wrote (seed_commitment.json and seed_reveal.json): the notice and the "
                   "manifest carry the commitment and its reveal")
@reports_bad_input
def publish(district_dir: Path, plan_dir: Path, stage: str, results_path: Path | None,
            out_dir: Path, force: bool, commitment_dir: Path | None) -> None:
    """Write the public spot-check list of the plan in PLAN_DIR as CSV, .xlsx and HTML, in
    Chinese (headers, sheet names, the page) unless --lang en."""
    from riskplan.export.publish import publish as write_public

    for path in write_public(district_dir, plan_dir, stage, out_dir, results_path=results_path,
                             force=force, commitment_dir=commitment_dir):
        click.echo(str(path))


@main.command("verify-draw")
@click.argument("public_dir", type=ExistingFolder())
@click.argument("district_dir", type=ExistingFolder(), required=False)
@click.option("--tiers", "tiers_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="the plan's tiers (OUT/tiers.csv), to re-derive the frame and every published chance; "
                   "default: the scoring model's tiers, as plan derives them")
@reports_bad_input
def verify_draw(public_dir: Path, district_dir: Path | None, tiers_path: Path | None) -> None:
    """Re-run the draw published in PUBLIC_DIR from its sampling frame and seed, check the seed
    against its commitment and every public file against its fingerprint; with DISTRICT_DIR also
    re-derive the frame; say whether everything matches (exit 0) or not (exit 1)."""
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


@main.command("commit-seed")
@click.argument("quarter")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="folder for seed_commitment.json (publish it now) and seed_reveal.json (keep it until the plan "
                   "is published)")
@click.option("--beacon", "source", default=None,
              help="instead of a secret seed: the name of a future public random value (e.g. a lottery draw and "
                   "its date) the seed will be derived from")
@click.option("--value", "value", default=None,
              help="with an existing --out holding a beacon commitment: the public random value, once it is out")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="the commitment's date (default: today)")
@reports_bad_input
def commit_seed(quarter: str, out_dir: Path, source: str | None, value: str | None, day) -> None:
    """Commit to the draw's seed before the plan is made, so nobody can choose it afterwards."""
    import datetime
    import json

    from riskplan.export import commitment as c
    from riskplan.outputs import atomic_write_text

    def write(name: str, data: dict) -> None:
        atomic_write_text(out_dir / name, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        click.echo(str(out_dir / name))

    from riskplan.domain.calendar import Quarter

    try:
        Quarter.parse(quarter)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}", param_hint="QUARTER") from None
    if source is not None and not source.strip():
        raise click.BadParameter(_("name the future public random value"), param_hint="--beacon")
    if value is not None and not value.strip():
        raise click.BadParameter(_("the public random value is empty"), param_hint="--value")
    today = day.date() if day is not None else datetime.date.today()
    if value is not None:
        commitment = c.read_json(out_dir / c.COMMITMENT_FILE)
        if commitment["kind"] != "beacon" or commitment["quarter"] != quarter:
            raise click.UsageError(_("--value needs a beacon commitment for {quarter} in {folder}").format(
                quarter=quarter, folder=out_dir))
        reveal = c.beacon_reveal(commitment, value)
        write(c.REVEAL_FILE, reveal)
        click.echo(_("The seed is {seed}: make the plan with --seed {seed}, then publish with --commitment "
                     "{folder}.").format(seed=reveal["seed"], folder=out_dir))
        return
    for name in (c.COMMITMENT_FILE, c.REVEAL_FILE):
        if (out_dir / name).exists():
            raise click.UsageError(_("{path} exists: a commitment is made once; use another folder").format(
                path=out_dir / name))
    out_dir.mkdir(parents=True, exist_ok=True)
    if source is not None:
        write(c.COMMITMENT_FILE, c.beacon_commitment(quarter, today, source))
        click.echo(_("Publish seed_commitment.json now. When the value is out, run commit-seed {quarter} --out "
                     "{folder} --value VALUE to get the seed.").format(quarter=quarter, folder=out_dir))
        return
    public, reveal = c.hash_commitment(quarter, today)
    write(c.COMMITMENT_FILE, public)
    write(c.REVEAL_FILE, reveal)
    click.echo(_("Publish seed_commitment.json now and keep seed_reveal.json to yourself. Make the plan with "
                 "--seed {seed}, then publish with --commitment {folder}.").format(seed=reveal["seed"],
                                                                                 folder=out_dir))

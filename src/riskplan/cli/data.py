"""Commands on the district's input data: validate it, or generate a synthetic one."""

from __future__ import annotations

from pathlib import Path

import click

from .base import main, reports_bad_input


@main.command()
@click.argument("district_dir", type=click.Path(path_type=Path))
@reports_bad_input
def validate(district_dir: Path) -> None:
    """Check every file of DISTRICT_DIR and print a summary."""
    from riskplan.load.district import load_district, summarize

    district = load_district(district_dir)
    summary = summarize(district)
    click.echo(f"{district_dir}: valid. Files: {', '.join(p.name for p in district.sources.values())}")
    click.echo("\nEnterprises and tier-relevant hazards by subdistrict:")
    click.echo(summary["by_subdistrict"].to_string())
    click.echo("\nInspectors by qualification:")
    click.echo(summary["inspectors_by_qualification"].to_string())
    click.echo("\nRows per table:")
    click.echo(summary["tables"].to_string())


@main.command()
@click.option("--size", type=click.Choice(["S", "M", "L", "XL"], case_sensitive=False), default="S",
              show_default=True, help="S 2,000 / 30, M 8,000 / 60, L 20,000 / 150, XL 50,000 / 370 "
              "enterprises / inspectors")
@click.option("--seed", type=int, required=True, help="random seed; the same seed gives byte-identical files")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="folder to write")
@click.option("--enterprises", type=click.IntRange(min=1), default=None, help="override the size's enterprise count")
@click.option("--inspectors", type=click.IntRange(min=2), default=None, help="override the size's inspector count")
@click.option("--years", type=click.IntRange(min=1, max=20), default=None, help="years of history (default 5)")
@click.option("--force", is_flag=True, help="replace a non-empty --out folder")
@reports_bad_input
def synth(size: str, seed: int, out_dir: Path, enterprises: int | None, inspectors: int | None,
          years: int | None, force: bool) -> None:
    """Write a realistic synthetic district folder (with truth.csv for evaluation)."""
    from riskplan.synth.district import generate_district

    summary = generate_district(out_dir, size=size.upper(), seed=seed, n_enterprises=enterprises,
                                n_inspectors=inspectors, years=years, force=force)
    click.echo(summary)

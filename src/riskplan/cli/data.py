"""Commands on the district's input data: validate it, write an empty workbook to fill in, or
generate a synthetic one."""

from __future__ import annotations

from pathlib import Path

import click

from riskplan.i18n import N_, _

from .base import main, reports_bad_input


#: What `validate` prints, by the summary's column and row names (translated when shown).
SUMMARY_LABELS = {
    "enterprises": N_("enterprises"), "hazchem": N_("hazardous chemicals"), "major_hazard": N_("major hazard"),
    "dust_explosion": N_("explosive dust"), "molten_metal": N_("molten metal"),
    "confined_space": N_("confined space"), "no_standardization": N_("no standardization grade"),
    "subdistrict": N_("subdistrict"), "TOTAL": N_("total"), "inspectors": N_("inspectors"),
    "certified": N_("certified"), "qualification": N_("qualification"), "(none)": N_("(none)"),
    "rows": N_("rows"), "accidents": N_("accidents"), "inspections": N_("inspections"), "leave": N_("leave"),
    "conflicts": N_("conflicts"), "pinned": N_("pinned visits"),
}


def _labelled(frame, rows_are_qualifications: bool = False):
    """The summary frame with its column, row and index names in the current language."""
    from riskplan.domain import headers

    def label(name):
        return _(SUMMARY_LABELS[name]) if name in SUMMARY_LABELS else name

    def qualification(name):
        code = headers.canonical_value("qualification", str(name))
        return headers.value_label("qualification", code) if code else label(name)

    out = frame.rename(columns=label, index=qualification if rows_are_qualifications else label)
    out.index.name = label(frame.index.name) if frame.index.name else None
    return out


@main.command()
@click.argument("district_dir", type=click.Path(path_type=Path))
@reports_bad_input
def validate(district_dir: Path) -> None:
    """Check every file of DISTRICT_DIR and print a summary."""
    from riskplan.load.district import load_district, summarize

    district = load_district(district_dir)
    summary = summarize(district)
    places = dict.fromkeys(f"{p.name} ({district.sheets[t]})" if t in district.sheets else p.name
                           for t, p in district.sources.items())
    click.echo(_("{folder}: valid. Files: {files}").format(folder=district_dir, files=", ".join(places)))
    click.echo("\n" + _("Enterprises and tier-relevant hazards by subdistrict:"))
    click.echo(_labelled(summary["by_subdistrict"]).to_string())
    click.echo("\n" + _("Inspectors by qualification:"))
    click.echo(_labelled(summary["inspectors_by_qualification"], True).to_string())
    click.echo("\n" + _("Rows per table:"))
    click.echo(_labelled(summary["tables"]).to_string())


@main.command()
@click.option("--size", type=click.Choice(["S", "M", "L", "XL"], case_sensitive=False), default="S",
              show_default=True, help="S 2,000 / 30, M 8,000 / 60, L 20,000 / 150, XL 50,000 / 370 "
              "enterprises / inspectors")
@click.option("--seed", type=int, required=True, help="random seed; the same seed gives byte-identical files")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="folder to write")
@click.option("--enterprises", type=click.IntRange(min=1), default=None, help="override the size's enterprise count")
@click.option("--inspectors", type=click.IntRange(min=2), default=None, help="override the size's inspector count")
@click.option("--years", type=click.IntRange(min=1, max=20), default=None, help="years of history (default 5)")
@click.option("--team-leniency", "team_leniency", type=click.FloatRange(min=0.0, max=2.0), default=0.0,
              show_default=True, help="spread (log-scale standard deviation) of inspectors' finding propensity: "
              "a lenient team finds fewer hazards, major ones included; 0 = none")
@click.option("--force", is_flag=True, help="replace a non-empty --out folder")
@reports_bad_input
def synth(size: str, seed: int, out_dir: Path, enterprises: int | None, inspectors: int | None,
          years: int | None, team_leniency: float, force: bool) -> None:
    """Write a realistic synthetic district folder (with truth.csv for evaluation)."""
    from riskplan.synth.district import generate_district

    summary = generate_district(out_dir, size=size.upper(), seed=seed, n_enterprises=enterprises,
                                n_inspectors=inspectors, years=years, force=force, team_leniency=team_leniency)
    click.echo(summary)


@main.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="replace OUT if it is a template riskplan wrote")
@reports_bad_input
def template(out: Path, force: bool) -> None:
    """Write an empty district workbook OUT.xlsx to fill in: a sheet per table with drop-down lists,
    and an instructions sheet."""
    from riskplan.export.district_template import write_template

    path = write_template(out, force=force)
    click.echo(_("{path}: empty district workbook written; fill it in, put it in a district folder and check it "
                 "with riskplan validate").format(path=path))

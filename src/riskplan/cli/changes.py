"""Commands around a re-plan's changes table (docs/changes.md): the empty workbook to fill in."""

from __future__ import annotations

from pathlib import Path

import click

from riskplan.i18n import _, ngettext, pgettext

from .base import ExistingFolder, main, reports_bad_input


@main.command("changes-template")
@click.argument("out_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace OUT_FILE if it is a changes workbook with nothing filled in")
@reports_bad_input
def changes_template(out_file: Path, force: bool) -> None:
    """Write OUT_FILE (.xlsx), an empty changes workbook for replan --changes: one row per change
    (leave, an inspector leaving, capacity, an enterprise closed or suspended, an urgent or pinned
    visit, a visit cancelled), with a sheet explaining each kind."""
    from riskplan.export.changes_template import is_blank_template, template_bytes
    from riskplan.outputs import atomic_write_bytes, refuse_existing

    if out_file.suffix.lower() != ".xlsx":
        raise click.UsageError(_("OUT_FILE must end in .xlsx: the changes workbook is an Excel workbook"))
    target = refuse_existing(out_file, force, "file", suffixes=(".xlsx",), own=is_blank_template)
    atomic_write_bytes(target, template_bytes())
    click.echo(_("Changes workbook written to {file}: one row per change, then give it to replan --changes.").format(
        file=out_file))


@main.command("changes")
@click.argument("district_dir", type=ExistingFolder())
@click.argument("plan_dir", type=ExistingFolder())
@click.option("--changes", "changes_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a changes workbook or CSV (riskplan changes-template) to check and list too")
@reports_bad_input
def changes(district_dir: Path, plan_dir: Path, changes_file: Path | None) -> None:
    """List what replan would apply to the plan in PLAN_DIR: the changes found in DISTRICT_DIR's own
    tables since the plan was made, and with --changes the rows of that file, checked. Writes
    nothing; exit 2 when the file has problems."""
    import json

    import pandas as pd

    from riskplan.domain.calendar import Quarter
    from riskplan.domain.headers import display_frame
    from riskplan.load.changes import detect_changes, read_changes
    from riskplan.load.district import load_district

    district = load_district(district_dir)
    quarter = Quarter.parse(json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))["quarter"])
    parts = [detect_changes(district, plan_dir)]
    if changes_file is not None:
        parts.append(read_changes(changes_file, quarter=quarter, district=district))
    found = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    if not len(found):
        click.echo(_("No changes since the plan {plan} ({quarter}).").format(plan=plan_dir, quarter=quarter))
        return
    shown = found.drop(columns=["row"]).assign(
        start=found["start"].dt.strftime("%Y-%m-%d").fillna(""), end=found["end"].dt.strftime("%Y-%m-%d").fillna(""),
        capacity=found["capacity"].astype("string").fillna(""))
    from riskplan.domain.headers import TABLE_NAMES, display_table

    shown["source"] = [display_table(s) if s in TABLE_NAMES else pgettext("change source", "file")
                       for s in shown["source"]]
    click.echo(ngettext("{count} change to apply to the plan {plan} ({quarter}):",
                        "{count} changes to apply to the plan {plan} ({quarter}):", len(found)).format(
        count=len(found), plan=plan_dir, quarter=quarter))
    click.echo(display_frame("changes", shown).to_string(index=False))

"""Commands around a re-plan's changes table (docs/changes.md): the empty workbook to fill in."""

from __future__ import annotations

from pathlib import Path

import click

from riskplan.i18n import _

from .base import main, reports_bad_input


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

"""`riskplan substitute`: valid replacements for a planned visit's member or team (docs/substitute.md)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from riskplan.i18n import _, ngettext, pgettext

from .base import EXIT_BAD_INPUT, ExistingFolder, main, reports_bad_input


def _day(ctx, param, value):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(_("'{value}' is not an ISO date (YYYY-MM-DD)").format(value=value)) from None


def _table(title: str, rows, *, show_date: bool):
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column(pgettext("substitute table", "#"), justify="right")
    if show_date:
        table.add_column(pgettext("substitute table", "date"))
    table.add_column(pgettext("substitute table", "new team"))
    table.add_column(pgettext("substitute table", "joining"))
    for name in (pgettext("substitute table", "week load"), pgettext("substitute table", "quarter load"),
                 pgettext("substitute table", "travel change"), pgettext("substitute table", "distance km")):
        table.add_column(name, justify="right")
    for k, c in enumerate(rows, 1):
        week = ", ".join(f"{j.week_visits}/{j.week_limit}" for j in c.joining)
        quarter = ", ".join(f"{j.quarter_visits}/{j.quarter_capacity} ({j.share:.0%})" for j in c.joining)
        cells = [str(k)] + ([c.date.isoformat()] if show_date else [])
        cells += [", ".join(c.team), ", ".join(j.inspector_id for j in c.joining), week, quarter,
                  f"{c.travel_change:+d}", f"{c.distance_km:.1f}"]
        table.add_row(*cells)
    return table


@main.command("substitute")
@click.argument("out_dir", type=ExistingFolder())
@click.argument("visit_id")
@click.argument("district_dir", type=ExistingFolder(), required=False)
@click.option("--inspector", default=None, help="the member to replace (default: the whole team)")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="how many suggestions to show")
@click.option("--other-days", is_flag=True,
              help="also offer the nearest other dates of the visit's window with a valid team")
@click.option("--apply", "apply_n", type=click.IntRange(min=1), default=None,
              help="write the plan with suggestion N (as numbered in the table) to --out")
@click.option("--out", "new_dir", type=click.Path(path_type=Path), default=None,
              help="folder for the plan with the substitution (with --apply)")
@click.option("--force", is_flag=True, help="replace an existing plan in --out")
@click.option("--today", callback=_day, default=None,
              help="the day taken as today (default: the system date); earlier visits are past")
@reports_bad_input
def substitute(out_dir: Path, visit_id: str, district_dir: Path | None, inspector: str | None, top: int,
               other_days: bool, apply_n: int | None, new_dir: Path | None, force: bool, today: date | None) -> None:
    """Valid substitutes for a member (--inspector) or the whole team of VISIT_ID in the plan in
    OUT_DIR, best first (lowest resulting load, then travel), each a roster the checker passes.
    DISTRICT_DIR: the district folder (default: the current folder)."""
    from rich.console import Console

    from riskplan.analysis.substitute import SubstituteError, exclusion_label, find_substitutes, load_plan
    from riskplan.analysis.substitute_apply import SubstitutionRefused, write_substituted_plan

    if apply_n is not None and new_dir is None:
        click.echo(_("error: {message}").format(message=_("--apply needs --out NEW/, the folder to write the plan "
                                                          "with the substitution to")), err=True)
        sys.exit(EXIT_BAD_INPUT)
    view = load_plan(district_dir or Path("."), out_dir)
    try:
        result = find_substitutes(view.district, out_dir, visit_id, inspector, top=top, other_days=other_days,
                                  today=today, view=view)
    except SubstituteError as exc:
        click.echo(_("error: {message}").format(message=exc), err=True)
        sys.exit(EXIT_BAD_INPUT)
    console = Console(width=None if sys.stdout.isatty() else 160, highlight=False)
    who = (_("{inspector} on visit {visit_id}").format(inspector=inspector, visit_id=visit_id) if inspector
           else _("the whole team of visit {visit_id}").format(visit_id=visit_id))
    click.echo(_("Substitutes for {who}: {enterprise}, {date}, team {team}").format(
        who=who, enterprise=result.enterprise_id, date=result.date, team=", ".join(result.team)))
    if result.day_ruled_out:
        click.echo(_("The visit's own date is no longer possible (window, spacing or tier maximum)."))
    for iid, code in result.staying_blocked.items():
        click.echo(_("The other member {inspector} cannot stay either: {reason}; ask for the whole team (no "
                     "--inspector).").format(inspector=iid, reason=exclusion_label(code)))
    shown = list(result.candidates)
    if shown:
        console.print(_table(ngettext("{count} valid substitute on {date} (of {valid}), best first",
                                      "{count} valid substitutes on {date} (of {valid}), best first",
                                      len(shown)).format(count=len(shown), date=result.date, valid=result.valid_count),
                             shown, show_date=False))
    else:
        click.echo(_("No valid substitute on {date}.").format(date=result.date))
    if result.exclusions:
        click.echo(_("Not suggested:"))
        for code, ids in result.exclusions.items():
            click.echo(_("  {reason}: {count} ({inspectors})").format(reason=exclusion_label(code), count=len(ids),
                                                                    inspectors=", ".join(ids)))
    offset = len(shown)
    if result.other_days:
        console.print(_table(_("Other dates of the window with a valid team, nearest first"), result.other_days,
                             show_date=True))
        click.echo(_("(numbered on from {first} for --apply)").format(first=offset + 1))
        shown += result.other_days
    elif not result.candidates or other_days:
        click.echo(_("No other date of the visit's window from {today} on has a valid team.").format(
            today=today or date.today()))
    for cand, violations in result.rejected:
        click.echo(_("warning: the checker rejected {team} on {date}: {violations}").format(
            team=", ".join(cand.team), date=cand.date, violations="; ".join(str(v) for v in violations)), err=True)
    if result.elsewhere:
        click.echo(_("warning: the plan already fails {count} check(s) elsewhere (a substitution neither adds nor "
                     "mends them), e.g. {first}").format(count=len(result.elsewhere), first=result.elsewhere[0]),
                   err=True)
    if apply_n is None:
        return
    if apply_n > len(shown):
        click.echo(_("error: {message}").format(message=_("--apply {n}: there are only {count} suggestion(s)").format(
            n=apply_n, count=len(shown))), err=True)
        sys.exit(EXIT_BAD_INPUT)
    try:
        write_substituted_plan(view, shown[apply_n - 1], new_dir, force=force)
    except SubstitutionRefused as exc:
        click.echo(_("error: {message}").format(message=exc), err=True)
        sys.exit(1)
    chosen = shown[apply_n - 1]
    click.echo(_("Wrote the plan with visit {visit_id} on {date} by {team} to {folder}").format(
        visit_id=visit_id, date=chosen.date, team=", ".join(chosen.team), folder=new_dir))

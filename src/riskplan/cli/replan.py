"""`riskplan replan`: re-plan the rest of a quarter from a date (docs/replan.md)."""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from riskplan.i18n import _, pgettext

from .base import ExistingFolder, main, reports_bad_input


def _date(ctx, param, value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(_("'{value}' is not a date of the form 2027-02-15").format(value=value)) from None


def replan_summary(plan: dict, out_dir: Path) -> list[str]:
    """What `replan` prints when it has written NEW/, in the current language."""
    s = plan["replan"]
    sep = pgettext("replan summary list", ", ")
    lines = [_("Re-plan of {plan} from {date}: {frozen} visits frozen, {kept} kept, {changed} changed "
               "(lower bound {bound})").format(plan=s["revises"]["plan_id"], date=s["from"], frozen=s["frozen"],
                                               kept=s["kept"], changed=s["changed"], bound=s["lower_bound"]),
             _("  moved {moved}, re-teamed {reteamed}, dropped {dropped}, added {added}; {days} inspector-days "
               "changed").format(moved=len(s["moved"]), reteamed=len(s["reteamed"]), dropped=len(s["dropped"]),
                                 added=len(s["added"]), days=s["changed_inspector_days"])]
    if s["displaced_drawn"]:
        lines.append(_("  drawn visits displaced by mandatory work (published commitments, tell the public "
                       "notice's readers): {visits}").format(visits=sep.join(s["displaced_drawn"])))
    else:
        lines.append(_("  no drawn visit displaced: the published draw is kept"))
    unmet = plan["shortfall"]["unmet_obligations"]
    if unmet:
        lines.append(_("  {count} obligation(s) not met, see unplaced.csv").format(count=len(unmet)))
    lines.append(_("Wrote {folder}").format(folder=out_dir))
    return lines


@main.command()
@click.argument("district_dir", type=ExistingFolder())
@click.argument("plan_dir", type=ExistingFolder())
@click.option("--from", "from_date", required=True, callback=_date,
              help="first day to re-plan (YYYY-MM-DD); visits before it, and visits already recorded as done, "
                   "stay as they are")
@click.option("--changes", "changes_path", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              default=None, help="changes table (changes.xlsx or .csv): leave, leaving the bureau, capacity, "
                                 "closed or suspended enterprises, urgent and pinned visits, cancellations")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="folder to write the revised plan to")
@click.option("--force", is_flag=True, help="replace an existing plan in --out")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="time limit in seconds")
@reports_bad_input
def replan(district_dir: Path, plan_dir: Path, from_date: datetime.date, changes_path: Path | None, out_dir: Path,
           force: bool, time_limit: float) -> None:
    """Re-plan the rest of the quarter of the plan in PLAN_DIR from --from, changing as few visits as the
    changes force; the published draw stays as it is."""
    from riskplan.replan import run_replan

    result = run_replan(district_dir, plan_dir, from_date, changes_path, out_dir=out_dir, force=force,
                        time_limit=time_limit, progress=lambda text: click.echo(text, err=True))
    for line in replan_summary(result.plan, result.out_dir):
        click.echo(line)

"""The changes report of a re-plan (docs/changes.md): which visits moved, were re-teamed, dropped
or added, and the notice each inspector whose work changed must receive.

`changes_files(old, new, reasons, inspectors)` compares two roster.csv frames (the plan revised
and the new one) and returns the files replan puts in NEW/:

- changes.csv  one row per visit that changed (moved, re-teamed, moved and re-teamed, dropped,
               added), its old and new date and team, and the reason
- notices.csv  one row per inspector and changed visit: the notice to send, in plain words
- changes.xlsx both tables, a sheet each

In the reader's language (Chinese by default; headers and values through domain.headers), UTF-8
with a BOM, the same inputs giving the same bytes. These files name inspectors and the dates
of visits not yet made: internal, never published before the visits.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from babel.dates import format_skeleton

from riskplan.domain.headers import display_frame
from riskplan.domain.schema import LIST_SEPARATOR, split_list
from riskplan.i18n import _, get_language, pgettext
from riskplan.io import frame_to_csv_bytes, sheets_to_xlsx_bytes

VISIT_CHANGES = ("moved", "reteamed", "moved_reteamed", "dropped", "added")
CHANGES_COLUMNS = ("visit_id", "enterprise_id", "enterprise_name", "subdistrict", "basis", "change", "old_date",
                   "new_date", "old_inspectors", "new_inspectors", "reason")
NOTICE_COLUMNS = ("inspector_id", "inspector_name", "visit_id", "change", "date", "notice")
CHANGES_FILES = ("changes.csv", "changes.xlsx", "notices.csv")


def _day(value) -> str:
    """A roster date cell (ISO text, a Timestamp or a date) as ISO text; '' when empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return ""
    return pd.Timestamp(value).date().isoformat()


def _team(cell) -> tuple[str, ...]:
    return tuple(sorted(split_list("" if cell is None or (not isinstance(cell, str) and pd.isna(cell)) else cell)))


def _by_visit(frame: pd.DataFrame) -> dict[str, dict]:
    return {str(r["visit_id"]): r for r in frame.to_dict("records")}


def classify(old: pd.DataFrame, new: pd.DataFrame) -> dict[str, str]:
    """visit_id -> how it changed (`VISIT_CHANGES`), for the visits that changed; a visit in both
    with the same date and the same team is unchanged and not listed."""
    before, after = _by_visit(old), _by_visit(new)
    found: dict[str, str] = {}
    for vid in sorted(set(before) | set(after)):
        if vid not in after:
            found[vid] = "dropped"
        elif vid not in before:
            found[vid] = "added"
        else:
            moved = _day(before[vid]["date"]) != _day(after[vid]["date"])
            reteamed = _team(before[vid]["inspectors"]) != _team(after[vid]["inspectors"])
            if moved or reteamed:
                found[vid] = "moved_reteamed" if moved and reteamed else "moved" if moved else "reteamed"
    return found


def visit_changes(old: pd.DataFrame, new: pd.DataFrame, reasons: dict[str, str]) -> pd.DataFrame:
    """changes.csv's rows (`CHANGES_COLUMNS`, codes), by date (the old one, or the new for an
    added visit), then visit id."""
    before, after = _by_visit(old), _by_visit(new)
    rows = []
    for vid, change in classify(old, new).items():
        o, n = before.get(vid, {}), after.get(vid, {})
        either = n or o
        rows.append({"visit_id": vid, "enterprise_id": either.get("enterprise_id", ""),
                     "enterprise_name": either.get("enterprise_name", ""), "subdistrict": either.get("subdistrict", ""),
                     "basis": either.get("basis", ""), "change": change, "old_date": _day(o.get("date")),
                     "new_date": _day(n.get("date")), "old_inspectors": LIST_SEPARATOR.join(_team(o.get("inspectors"))),
                     "new_inspectors": LIST_SEPARATOR.join(_team(n.get("inspectors"))),
                     "reason": reasons.get(vid, "")})
    frame = pd.DataFrame(rows, columns=list(CHANGES_COLUMNS))
    if len(frame):
        first = frame["old_date"].where(frame["old_date"] != "", frame["new_date"])
        frame = frame.assign(_first=first).sort_values(["_first", "visit_id"], kind="mergesort").drop(columns="_first")
    return frame.reset_index(drop=True)


def _shown_day(iso: str) -> str:
    """A day as a notice writes it: 2月18日, Feb 18."""
    return format_skeleton("MMMd", dt.date.fromisoformat(iso), locale="zh_CN" if get_language() == "zh" else "en")


def _people(ids, names: dict[str, str]) -> str:
    separator = "、" if get_language() == "zh" else ", "
    return separator.join(names.get(i) or i for i in ids)


def _reason_sentence(reason: str) -> str:
    reason = reason.strip().rstrip("。.；;，, ")
    if not reason:
        return ""
    return ("" if get_language() == "zh" else " ") + _("Reason: {reason}.").format(reason=reason)


def _notice(inspector: str, row: dict, names: dict[str, str]) -> str:
    """The notice one inspector receives about one changed visit (see the module notes)."""
    old_team, new_team = split_list(row["old_inspectors"]), split_list(row["new_inspectors"])
    fields = {"enterprise": row["enterprise_name"] or row["enterprise_id"], "visit": row["visit_id"],
              "old_date": _shown_day(row["old_date"]) if row["old_date"] else "",
              "new_date": _shown_day(row["new_date"]) if row["new_date"] else ""}
    others = [i for i in new_team if i != inspector]
    fields["team"] = _people(others, names)
    change = row["change"]
    if change == "dropped":
        text = _("Your visit to {enterprise} ({visit}) planned for {old_date} is cancelled.")
    elif change == "added":
        text = (_("New visit for you: {enterprise} ({visit}) on {new_date}, with {team}.") if others
                else _("New visit for you: {enterprise} ({visit}) on {new_date}."))
    elif inspector not in new_team:
        fields["team"] = _people(new_team, names)
        text = _("You no longer go on the visit to {enterprise} ({visit}) planned for {old_date}; {team} will go "
                 "instead.")
    elif inspector not in old_team:
        text = (_("You now go on the visit to {enterprise} ({visit}) on {new_date}, with {team}.") if others
                else _("You now go on the visit to {enterprise} ({visit}) on {new_date}."))
    elif change == "moved":
        text = _("Your visit to {enterprise} ({visit}) planned for {old_date} is moved to {new_date}.")
    elif change == "reteamed":
        text = (_("Your visit to {enterprise} ({visit}) on {new_date} now goes with {team}.") if others
                else _("Your visit to {enterprise} ({visit}) on {new_date} now goes without the others planned."))
    else:  # moved and re-teamed, the inspector in both teams
        text = (_("Your visit to {enterprise} ({visit}) planned for {old_date} is moved to {new_date}, with "
                  "{team}.") if others else
                _("Your visit to {enterprise} ({visit}) planned for {old_date} is moved to {new_date}, without "
                  "the others planned."))
    return text.format(**fields) + _reason_sentence(row["reason"])


def notices(changes: pd.DataFrame, inspectors: pd.DataFrame) -> pd.DataFrame:
    """notices.csv's rows (`NOTICE_COLUMNS`): for each inspector in the old or new team of a
    changed visit, the notice to send; by inspector, date, visit."""
    names = dict(zip(inspectors["inspector_id"], inspectors["name"])) if "name" in inspectors.columns else {}
    rows = []
    for row in changes.to_dict("records"):
        members = sorted(set(split_list(row["old_inspectors"])) | set(split_list(row["new_inspectors"])))
        for iid in members:
            rows.append({"inspector_id": iid, "inspector_name": names.get(iid, ""), "visit_id": row["visit_id"],
                         "change": row["change"],
                         "date": row["new_date"] if iid in split_list(row["new_inspectors"]) else row["old_date"],
                         "notice": _notice(iid, row, names)})
    frame = pd.DataFrame(rows, columns=list(NOTICE_COLUMNS))
    return frame.sort_values(["inspector_id", "date", "visit_id"], kind="mergesort").reset_index(drop=True)


def changes_files(old: pd.DataFrame, new: pd.DataFrame, reasons: dict[str, str],
                  inspectors: pd.DataFrame) -> dict[str, bytes]:
    """File name -> bytes of changes.csv, changes.xlsx and notices.csv (see the module notes)."""
    changes = visit_changes(old, new, reasons)
    told = notices(changes, inspectors)
    shown_changes = display_frame("visit_changes", changes)
    shown_notices = display_frame("notices", told)
    sheets = {pgettext("changes sheet", "changes"): shown_changes, pgettext("changes sheet", "notices"): shown_notices}
    return {"changes.csv": frame_to_csv_bytes(shown_changes), "changes.xlsx": sheets_to_xlsx_bytes(sheets),
            "notices.csv": frame_to_csv_bytes(shown_notices)}

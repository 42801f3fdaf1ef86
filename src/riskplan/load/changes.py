"""The changes table of a re-plan (`replan --changes changes.xlsx|csv`), and the changes found in
the district's own tables since a plan was made (docs/changes.md).

One row per change; the kinds (`CHANGE_KINDS`) and the columns each kind uses are in `KIND_COLUMNS`.
The file is read like every district table: Chinese or English headers and kinds through the one
alias table (`riskplan.domain.headers`, table `changes`, value set `change_kind`), dates in the forms
`riskplan.load.cells` reads (date cells, 2027/2/15, 2027年2月15日 …). Every bad cell is a `Problem`
with the file, sheet, spreadsheet row and column; a row whose dates fall wholly outside the quarter
is refused (a change for another quarter is almost always a mistyped year). Nothing is guessed.

`detect_changes` compares the district's current tables with the snapshot the plan kept of the
small tables it used (OUT/inputs/, `SNAPSHOT_TABLES`, files `SNAPSHOT_FILES`); a plan made before snapshots were kept has
only its input fingerprints, so then the tables that changed are named and the details are not.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from riskplan.domain import headers
from riskplan.domain.calendar import Quarter
from riskplan.domain.schema import Column
from riskplan.i18n import _, get_language
from riskplan.io import TableReadError, read_csv_text, read_table_text, workbook_sheets
from riskplan.load.cells import Where, convert
from riskplan.load.district import District, _check_control_characters
from riskplan.load.problems import DistrictError, Problem
from riskplan.load.workbook import choose_sheet

TABLE = "changes"
#: The kinds a changes file may hold (the documented enum).
CHANGE_KINDS: tuple[str, ...] = ("leave", "leaves_bureau", "capacity", "enterprise_closed", "enterprise_suspended",
                                 "urgent_visit", "pinned_visit", "cancel_visit")
#: Kinds only `detect_changes` writes: a conflict added, a leave row or a pinned row removed, and a
#: table that changed when the plan kept no snapshot to say how.
DETECTED_KINDS: tuple[str, ...] = ("conflict", "leave_cancelled", "pinned_removed", "table_changed")
CHANGE_COLUMNS: tuple[str, ...] = ("change", "inspector_id", "enterprise_id", "visit_id", "start", "end", "capacity",
                                   "reason", "source", "row")
#: The columns a person fills in (source and row are riskplan's).
FILE_COLUMNS = CHANGE_COLUMNS[:8]
TEXT_COLUMNS = ("change", "inspector_id", "enterprise_id", "visit_id", "reason", "source")

#: kind -> (the columns it requires, the columns it may use besides `reason`); any other column
#: filled in on its row is refused, so a row never means something else than its writer thought.
KIND_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "leave": (("inspector_id", "start", "end"), ()),
    "leaves_bureau": (("inspector_id", "start"), ()),
    "capacity": (("inspector_id", "start", "capacity"), ("end",)),
    "enterprise_closed": (("enterprise_id", "start"), ()),
    "enterprise_suspended": (("enterprise_id", "start"), ("end",)),
    "urgent_visit": (("enterprise_id", "start", "end", "reason"), ()),
    "pinned_visit": (("enterprise_id", "start", "end", "reason"), ()),
    "cancel_visit": (("visit_id",), ()),
}
_CHECKED = ("inspector_id", "enterprise_id", "visit_id", "start", "end", "capacity")

#: The snapshot a plan keeps of the small tables it used (OUT/inputs/NAME.csv, English columns
#: and codes, ISO dates): table -> its columns.
SNAPSHOT_DIR = "inputs"
SNAPSHOT_TABLES: dict[str, tuple[str, ...]] = {
    "inspectors": ("inspector_id", "name", "certified", "weekly_capacity"),
    "leave": ("inspector_id", "start", "end"),
    "conflicts": ("inspector_id", "enterprise_id", "reason"),
    "pinned": ("enterprise_id", "reason", "earliest", "latest"),
    "enterprises": ("enterprise_id", "name", "subdistrict"),
}
#: The snapshot's file of each table: the enterprises' is not named enterprises.csv, which would
#: make the plan folder look like a district folder to the output guard (riskplan.outputs).
SNAPSHOT_FILES: dict[str, str] = {**{t: f"{t}.csv" for t in SNAPSHOT_TABLES}, "enterprises": "enterprise_ids.csv"}


def empty_changes() -> pd.DataFrame:
    """The changes table with no rows and its columns' types."""
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in CHANGE_COLUMNS})
    frame["start"] = frame["start"].astype("datetime64[ns]")
    frame["end"] = frame["end"].astype("datetime64[ns]")
    frame["capacity"] = frame["capacity"].astype("Int64")
    frame["row"] = frame["row"].astype("Int64")
    return frame


def _typed(rows: list[dict]) -> pd.DataFrame:
    """A changes table from row dicts (missing keys empty), with the columns' types."""
    if not rows:
        return empty_changes()
    frame = pd.DataFrame([{c: r.get(c) for c in CHANGE_COLUMNS} for r in rows], columns=list(CHANGE_COLUMNS))
    for c in TEXT_COLUMNS:
        frame[c] = frame[c].fillna("").astype(str)
    for c in ("start", "end"):
        frame[c] = pd.to_datetime(frame[c]).astype("datetime64[ns]")
    frame["capacity"] = pd.array(frame["capacity"], dtype="Int64")
    frame["row"] = pd.array(frame["row"], dtype="Int64")
    return frame.reset_index(drop=True)


# ---------------------------------------------------------------- reading a changes file

def _read_raw(path: Path) -> tuple[pd.DataFrame, str | None]:
    """(text cells, the sheet named in messages): a CSV, or the changes sheet of a workbook."""
    if path.suffix.lower() == ".xlsx":
        place = choose_sheet(path, TABLE, workbook_sheets(path))
        return read_table_text(path, place.sheet), place.sheet_label
    return read_table_text(path), None


def _kind_of(text: str) -> str | None:
    code = headers.canonical_value("change_kind", text)
    return code if code in CHANGE_KINDS else None


def _nearest_kind(text: str) -> str | None:
    """The kind a mistyped cell most likely means: the closest spelling (code or Chinese word)."""
    spellings = {s: code for code, words in headers.VALUES["change_kind"].items() if code in CHANGE_KINDS
                 for s in (code, *words)}
    close = difflib.get_close_matches(headers.normalize_value(text), [headers.normalize_value(s) for s in spellings],
                                      n=1, cutoff=0.5)
    if not close:
        return None
    return next(code for s, code in spellings.items() if headers.normalize_value(s) == close[0])


def _kind_label(code: str) -> str:
    """A kind as the reader writes it, with the other spelling: 请假（leave） / leave (请假)."""
    chinese = headers.value_label("change_kind", code, "zh")
    return f"{chinese}（{code}）" if get_language() == "zh" else f"{code} ({chinese})"


def _all_kinds() -> str:
    return ", ".join(_kind_label(k) for k in CHANGE_KINDS)


def _unknown_id(value: str, known: dict[str, str], what: str) -> str:
    """The message for an id that is not in the district, with the id it most likely means: the
    one whose name the cell holds, or the closest id."""
    by_name = [i for i, name in known.items() if name and name == value]
    hint = by_name[0] if by_name else next(iter(difflib.get_close_matches(value, list(known), n=1, cutoff=0.75)), None)
    if what == "inspector":
        text = _("unknown inspector '{value}': not in the district's inspectors table").format(value=value)
    else:
        text = _("unknown enterprise '{value}': not in the district's enterprises table").format(value=value)
    if hint is not None:
        shown = f"{hint} ({known[hint]})" if known[hint] else hint
        text += "; " + _("did you mean {id}?").format(id=shown)
    return text


def read_changes(path: Path | str, *, quarter: Quarter, district: District) -> pd.DataFrame:
    """The validated changes table of `path` (.xlsx or .csv; columns `CHANGE_COLUMNS`, `source`
    "file", `row` the spreadsheet row), or `DistrictError` listing every problem found."""
    path = Path(path)
    file = path.name
    if not path.is_file():
        raise DistrictError([Problem(str(path), _("no such file"), cause=True)])
    try:
        raw, sheet = _read_raw(path)
    except TableReadError as exc:
        raise DistrictError([Problem(exc.path.name, exc.message, sheet=exc.sheet, cause=True)]) from None
    problems: list[Problem] = []
    names = [headers.canonical_header(TABLE, h) for h in raw.columns]
    header_of = {n: h for h, n in zip(raw.columns, names) if n is not None and n != h}
    seen: dict[str, str] = {}
    for h, n in zip(raw.columns, names):
        if n is None:
            continue
        if n in seen:
            problems.append(Problem(file, _("the column appears more than once in the header: '{first}', "
                                            "'{second}'").format(first=seen[n], second=h), row=1, column=n,
                                    sheet=sheet, cause=True))
        seen[n] = h
    if "change" not in seen:
        problems.append(Problem(file, _("missing required column: every row says which change it is ({kinds})").format(
            kinds=_all_kinds()), row=1, column="change", sheet=sheet, header=headers.display_header(TABLE, "change", "zh"),
            cause=True))
    if problems:
        raise DistrictError(problems)
    frame = raw.copy()
    frame.columns = [n if n is not None else h for h, n in zip(raw.columns, names)]
    for c in FILE_COLUMNS:
        if c not in frame.columns:
            frame[c] = ""
    flagged = _check_control_characters(frame[list(FILE_COLUMNS)], Where(TABLE, file, sheet), header_of, problems)
    blank = (frame[list(FILE_COLUMNS)] == "").all(axis=1).to_numpy()
    rows = np.flatnonzero(~blank)  # a blank row in the middle of a sheet is nothing to read
    frame = frame.iloc[rows]
    spreadsheet_row = rows + 2

    def where(column: str) -> Where:
        return Where(TABLE, file, sheet, header_of.get(column))

    def problem(i: int, column: str | None, message: str, kind: str) -> None:
        problems.append(Problem(file, message, row=int(spreadsheet_row[i]), column=column, sheet=sheet,
                                header=header_of.get(column) if column else None, kind=kind))

    cells: list[Problem] = []
    values: dict[str, pd.Series] = {}
    for column, kind in (("start", "date"), ("end", "date"), ("capacity", "int")):
        found: list[Problem] = []
        values[column] = convert(frame[column].reset_index(drop=True), Column(column, kind, allow_empty=True),
                                 where(column), found)
        # convert numbers the rows it is given from 2; put back the rows as the sheet shows them
        cells += [Problem(p.file, p.message, row=int(spreadsheet_row[p.row - 2]), column=p.column, sheet=p.sheet,
                          header=p.header, kind=p.kind) for p in found]
    problems.extend(p for p in cells if (p.row, p.column) not in flagged)
    bad_cells = {(p.row, p.column) for p in cells} | flagged
    start, end, capacity = values["start"], values["end"], values["capacity"]

    inspectors = dict(zip(district.inspectors["inspector_id"], district.inspectors["name"]))
    enterprises = dict(zip(district.enterprises["enterprise_id"], district.enterprises["name"]))
    first, last = pd.Timestamp(quarter.start), pd.Timestamp(quarter.end)
    out: list[dict] = []
    text = frame.reset_index(drop=True)
    for i in range(len(text)):
        row = int(spreadsheet_row[i])
        cell = text.iloc[i]
        kind = _kind_of(cell["change"])
        if kind is None:
            if cell["change"] == "":
                problem(i, "change", _("empty cell; say which change the row is: {kinds}").format(kinds=_all_kinds()),
                        "no kind")
            elif headers.canonical_value("change_kind", cell["change"]) in DETECTED_KINDS:
                problem(i, "change", _("'{value}' is a change riskplan finds itself in the district's tables (leave, "
                                       "conflicts, pinned visits); change that table instead").format(
                    value=cell["change"]), "detected kind")
            else:
                near = _nearest_kind(cell["change"])
                message = _("'{value}' is not a change riskplan knows").format(value=cell["change"])
                message += "; " + (_("did you mean {kind}?").format(kind=_kind_label(near)) if near
                                   else _("use one of {kinds}").format(kinds=_all_kinds()))
                problem(i, "change", message, "unknown kind")
            continue
        required, optional = KIND_COLUMNS[kind]
        filled = {c: cell[c] != "" for c in FILE_COLUMNS}
        for c in required:
            if not filled[c]:
                problem(i, c, _("empty cell; a {kind} row needs {columns}").format(
                    kind=_kind_label(kind), columns=", ".join(required)), "missing for kind")
        for c in _CHECKED:
            if filled[c] and c not in required and c not in optional:
                hint = ""
                if kind == "leaves_bureau" and c == "end":
                    hint = " " + _("(an absence with a last day is a leave row)")
                elif kind == "enterprise_closed" and c == "end":
                    hint = " " + _("(a closure with a last day is an enterprise_suspended row)")
                problem(i, c, _("a {kind} row does not use this column; leave it empty{hint}").format(
                    kind=_kind_label(kind), hint=hint), "unused column")
        iid, eid = cell["inspector_id"], cell["enterprise_id"]
        if filled["inspector_id"] and "inspector_id" in required and iid not in inspectors \
                and (row, "inspector_id") not in bad_cells:
            problem(i, "inspector_id", _unknown_id(iid, inspectors, "inspector"), "unknown inspector")
        if filled["enterprise_id"] and "enterprise_id" in required and eid not in enterprises \
                and (row, "enterprise_id") not in bad_cells:
            problem(i, "enterprise_id", _unknown_id(eid, enterprises, "enterprise"), "unknown enterprise")
        s, e = start.iloc[i], end.iloc[i]
        if pd.notna(s) and pd.notna(e) and e < s:
            problem(i, "end", _("end {end} is before start {start}").format(end=e.date(), start=s.date()), "order")
        elif pd.notna(s) and (s > last or (pd.notna(e) and e < first)):
            shown = f"{s.date()}" + (f" – {e.date()}" if pd.notna(e) else "")
            problem(i, "start", _("{dates} is outside the quarter {quarter} ({first} – {last}); a change for another "
                                  "quarter belongs in that quarter's re-plan (is the year right?)").format(
                dates=shown, quarter=quarter, first=first.date(), last=last.date()), "outside the quarter")
        elif pd.isna(s) and pd.notna(e) and e < first and "end" in required + optional:
            problem(i, "end", _("{end} is before the quarter {quarter} begins ({first})").format(
                end=e.date(), quarter=quarter, first=first.date()), "outside the quarter")
        cap = capacity.iloc[i]
        capacity_ok = filled["capacity"] and (row, "capacity") not in bad_cells
        if capacity_ok and cap < 0:
            problem(i, "capacity", _("{value} is negative; the new weekly capacity is 0 or more (0: no visits in "
                                     "those weeks)").format(value=int(cap)), "negative capacity")
        out.append({"change": kind, "inspector_id": iid if "inspector_id" in required else "",
                    "enterprise_id": eid if "enterprise_id" in required else "",
                    "visit_id": cell["visit_id"] if kind == "cancel_visit" else "",
                    "start": s if "start" in required else pd.NaT,
                    "end": e if "end" in required + optional else pd.NaT,
                    "capacity": int(cap) if kind == "capacity" and capacity_ok else pd.NA, "reason": cell["reason"], "source": "file", "row": row})
    _check_capacity_overlaps(out, lambda row, message: problems.append(Problem(
        file, message, row=row, column="start", sheet=sheet, header=header_of.get("start"), kind="overlap")), last)
    if problems:
        raise DistrictError(problems)
    return _typed(out)


def _check_capacity_overlaps(rows: list[dict], report, last: pd.Timestamp) -> None:
    """Two capacity rows of one inspector whose periods overlap say two capacities for the same
    weeks: refused on the later row, naming the earlier one."""
    seen: dict[str, list[dict]] = {}
    for r in rows:
        if r["change"] != "capacity" or pd.isna(r["start"]):
            continue
        end = r["end"] if pd.notna(r["end"]) else last
        for earlier in seen.get(r["inspector_id"], []):
            other_end = earlier["end"] if pd.notna(earlier["end"]) else last
            if r["start"] <= other_end and earlier["start"] <= end:
                report(r["row"], _("overlaps the capacity change of row {row} for the same inspector; give each "
                                   "period its own capacity once").format(row=earlier["row"]))
                break
        seen.setdefault(r["inspector_id"], []).append(r)


# ---------------------------------------------------------------- what changed since the plan

def snapshot_frames(district: District) -> dict[str, pd.DataFrame]:
    """The small tables a plan keeps (`SNAPSHOT_TABLES`), as read, sorted: English columns and
    codes, ISO dates (export writes them as OUT/inputs/NAME.csv)."""
    out: dict[str, pd.DataFrame] = {}
    for table, columns in SNAPSHOT_TABLES.items():
        frame = district.table(table)[list(columns)].copy()
        for c in columns:
            if pd.api.types.is_datetime64_any_dtype(frame[c]):
                frame[c] = frame[c].dt.strftime("%Y-%m-%d")
            frame[c] = frame[c].astype(str)
        out[table] = frame.sort_values(list(columns), kind="mergesort").reset_index(drop=True)
    return out


def _read_snapshot(folder: Path) -> dict[str, pd.DataFrame] | None:
    if not all((folder / SNAPSHOT_FILES[t]).is_file() for t in SNAPSHOT_TABLES):
        return None
    return {t: read_csv_text(folder / SNAPSHOT_FILES[t], table=t)[list(cols)] for t, cols in SNAPSHOT_TABLES.items()}


def _keys(frame: pd.DataFrame, columns: Iterable[str]) -> list[tuple[str, ...]]:
    return [tuple(r) for r in frame[list(columns)].itertuples(index=False)]


def _multiset_minus(a: list[tuple], b: list[tuple]) -> list[tuple]:
    """The rows of `a` not matched by a row of `b` (a row given twice and kept once counts once)."""
    left = list(b)
    out = []
    for row in a:
        if row in left:
            left.remove(row)
        else:
            out.append(row)
    return out


def _date(text: str):
    return pd.Timestamp(text) if text else pd.NaT


def detect_changes(district: District, plan_dir: Path | str) -> pd.DataFrame:
    """What changed in the district's own tables since the plan in `plan_dir` was made, as rows
    of the changes table (`source` the table, `row` <NA>); see the module notes and docs/changes.md."""
    plan_dir = Path(plan_dir)
    old = _read_snapshot(plan_dir / SNAPSHOT_DIR)
    if old is None:
        return _from_fingerprints(district, plan_dir)
    new = snapshot_frames(district)
    quarter = _plan_quarter(plan_dir)
    if quarter is not None:  # leave and pinned rows of other quarters change nothing in this one
        for table, (a, b) in (("leave", ("start", "end")), ("pinned", ("earliest", "latest"))):
            for frames in (old, new):
                f = frames[table]
                frames[table] = f[(f[a] <= quarter.end.isoformat()) & (f[b] >= quarter.start.isoformat())]
    rows: list[dict] = []

    # inspectors: gone or no longer certified (leaves_bureau), weekly capacity changed
    was = old["inspectors"].set_index("inspector_id")
    now = new["inspectors"].set_index("inspector_id")
    for iid in sorted(was.index):
        if iid not in now.index:
            rows.append({"change": "leaves_bureau", "inspector_id": iid, "source": "inspectors",
                         "reason": _("no longer in the inspectors table")})
        elif was.at[iid, "certified"] == "1" and now.at[iid, "certified"] != "1":
            rows.append({"change": "leaves_bureau", "inspector_id": iid, "source": "inspectors",
                         "reason": _("no longer certified (the inspectors table)")})
        elif was.at[iid, "weekly_capacity"] != now.at[iid, "weekly_capacity"]:
            rows.append({"change": "capacity", "inspector_id": iid, "capacity": int(now.at[iid, "weekly_capacity"]),
                         "source": "inspectors", "reason": _("weekly capacity {old} → {new} (the inspectors table)").format(
                             old=was.at[iid, "weekly_capacity"], new=now.at[iid, "weekly_capacity"])})
    # leave: rows added and removed (a changed row is one of each)
    columns = SNAPSHOT_TABLES["leave"]
    for kind, rows_of in (("leave_cancelled", _multiset_minus(_keys(old["leave"], columns), _keys(new["leave"], columns))),
                          ("leave", _multiset_minus(_keys(new["leave"], columns), _keys(old["leave"], columns)))):
        for iid, s, e in rows_of:
            reason = (_("leave {start} – {end} added to the leave table") if kind == "leave"
                      else _("leave {start} – {end} removed from the leave table")).format(start=s, end=e)
            rows.append({"change": kind, "inspector_id": iid, "start": _date(s), "end": _date(e), "source": "leave",
                         "reason": reason})
    # conflicts added (a conflict removed asks nothing of a roster)
    pair = ("inspector_id", "enterprise_id")
    before = set(_keys(old["conflicts"], pair))
    for iid, eid, why in _keys(new["conflicts"], SNAPSHOT_TABLES["conflicts"]):
        if (iid, eid) not in before:
            before.add((iid, eid))
            rows.append({"change": "conflict", "inspector_id": iid, "enterprise_id": eid, "source": "conflicts",
                         "reason": _("conflict added: {reason}").format(reason=why) if why else _("conflict added")})
    # pinned visits added and removed
    columns = SNAPSHOT_TABLES["pinned"]
    for kind, rows_of in (("pinned_removed", _multiset_minus(_keys(old["pinned"], columns), _keys(new["pinned"], columns))),
                          ("pinned_visit", _multiset_minus(_keys(new["pinned"], columns), _keys(old["pinned"], columns)))):
        for eid, why, s, e in rows_of:
            rows.append({"change": kind, "enterprise_id": eid, "start": _date(s), "end": _date(e), "source": "pinned",
                         "reason": why if kind == "pinned_visit" else
                         _("pinned visit removed from the pinned table: {reason}").format(reason=why)})
    # enterprises gone from the register
    kept = set(new["enterprises"]["enterprise_id"])
    for eid, name in zip(old["enterprises"]["enterprise_id"], old["enterprises"]["name"]):
        if eid not in kept:
            rows.append({"change": "enterprise_closed", "enterprise_id": eid, "source": "enterprises",
                         "reason": _("{name} is no longer in the enterprises table").format(name=name or eid)})
    return _typed(rows)


def _plan_quarter(plan_dir: Path) -> Quarter | None:
    try:
        return Quarter.parse(json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))["quarter"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _from_fingerprints(district: District, plan_dir: Path) -> pd.DataFrame:
    """Without a snapshot: a `table_changed` row for each input file whose sha256 differs from
    the one plan.json records (or that appeared or went), naming its tables."""
    plan_file = plan_dir / "plan.json"
    try:
        recorded = json.loads(plan_file.read_text(encoding="utf-8")).get("inputs", {})
    except (OSError, ValueError) as exc:
        raise DistrictError([Problem(str(plan_file), _("cannot read the plan's record: {error}").format(error=exc),
                                     cause=True)]) from None
    current = district.fingerprints()
    tables_of: dict[str, list[str]] = {}
    for table, p in sorted(district.sources.items()):
        if table in SNAPSHOT_TABLES:
            tables_of.setdefault(p.name, []).append(table)
    rows = []
    for name in sorted(set(recorded) | set(current)):
        if recorded.get(name) == current.get(name) or name == "policy.toml":
            continue
        tables = tables_of.get(name) or [headers.table_of_name(Path(name).stem, list(SNAPSHOT_TABLES))]
        tables = [t for t in tables if t]
        if not tables:
            continue  # accidents, inspections: history, not a change to the quarter's roster
        if name not in current:
            state = _("{file} is gone since the plan")
        elif name not in recorded:
            state = _("{file} is new since the plan")
        else:
            state = _("{file} changed since the plan")
        reason = state.format(file=name) + "; " + _("the plan kept no snapshot of its inputs, so what changed "
                                                    "cannot be listed")
        rows += [{"change": "table_changed", "source": t, "reason": reason} for t in tables]
    return _typed(rows)

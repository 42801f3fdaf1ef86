"""Closing the loop: record a quarter's results in the district's inspections history.

After the visits, the bureau fills in the results workbook (`riskplan results-template`) or a
`results.csv` (visit id, actual date, outcome, hazards found, major hazards found, penalized,
substitute inspectors). Recording adds each carried-out visit to the district's inspections
table, with the team from the roster (or the substitutes named), so the next quarter's tiers,
follow-ups, half-year deadlines and rotation see what happened.

- Rows left empty are visits without a result yet: they are skipped and reported.
- A visit whose outcome is 企业已关闭或未找到 or 未检查 did not happen: it is not written to the
  history (an inspection that did not happen must not count as one next quarter) and is
  reported, so the bureau can re-plan it or update its enterprises table.
- Visit ids carry the plan's identity (2027Q1-7F3A9C-00001): results of another plan are
  refused, naming that plan. The history's `visit_id` holds the id itself, which makes
  recording idempotent; a visit of an older plan (V00001) is kept as `<quarter>-V00001`.
- A result that differs from what is already recorded for its visit is a correction: refused
  unless asked for (`correct=True`, `--correct`); only the corrected cells change, and every
  old and new value is kept in `inspections_corrections.csv` beside the history.

The bureau's file is never restructured (export.bureau_table): rows are appended to its own
sheet or CSV lines, after a timestamped backup `inspections.bak-<YYYYMMDDTHHMMSS>.<ext>`.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from riskplan.domain.calendar import Quarter
from riskplan.domain.headers import VALUES, canonical_headers, canonical_value, display_header, value_label
from riskplan.domain.schema import INSPECTIONS, Column, split_list
from riskplan.export.bureau_table import TableEditError, TableFile, edit_table_file, read_table_file
from riskplan.i18n import _
from riskplan.io import find_table, read_csv_text, read_table_text, sha256_file, write_table
from riskplan.load.cells import Where
from riskplan.load.district import District, DistrictError, Problem, _check_control_characters, _convert, load_district
from riskplan.outputs import atomic_write_bytes, backup_path, restore_interrupted
from riskplan.plan.obligations import parse_visit_id

TABLE = "results"
REQUIRED = ("visit_id", "date", "hazards_found", "major_hazards_found", "penalized")
#: What a clerk fills in; a row with none of them is a visit without a result yet.
FILLED = ("date", "outcome", "hazards_found", "major_hazards_found", "penalized", "substitute_inspectors")
NOT_CARRIED_OUT = ("closed_or_not_found", "not_inspected")
HISTORY_KEY = "visit_id"
#: The history fields a correction can change, in the order a message names them.
CORRECTABLE = ("date", "inspectors", "hazards_found", "major_hazards_found", "penalized", "outcome")
CORRECTIONS_FILE = "inspections_corrections.csv"
CORRECTIONS_COLUMNS = ("visit_id", "field", "old", "new", "results_file", "results_sha256")


@dataclass(frozen=True)
class RecordResult:
    added: int
    already_recorded: int
    inspections_file: Path
    corrected: int = 0
    backup_file: Path | None = None
    corrections_file: Path | None = None
    no_result: tuple[str, ...] = ()  # planned visits the results give no result for yet
    not_carried_out: dict[str, tuple[str, ...]] = field(default_factory=dict)  # outcome -> visit ids
    uncategorized: tuple[str, ...] = ()  # visits whose outcome is free text, not a category


@dataclass(frozen=True)
class PlanIdentity:
    """Which plan a results file must belong to: its quarter and plan id (None for a plan
    made before plan ids, whose visits are V00001 ...)."""

    quarter: Quarter
    plan_id: str | None

    def __str__(self) -> str:
        return self.plan_id or _("(made before plan ids)")


def plan_identity(plan: dict, roster: pd.DataFrame) -> PlanIdentity:
    """plan.json's quarter and plan id (an older plan.json without one: read off its visit ids)."""
    quarter = Quarter.parse(plan["quarter"])
    pid = plan.get("plan_id") or None
    if pid is None:
        parsed = [parse_visit_id(v) for v in roster["visit_id"] if v]
        pid = next((p[1] for p in parsed if p), None)
    return PlanIdentity(quarter, pid)


def history_key(visit_id: str, quarter: Quarter) -> str:
    """The history's visit_id for a result: the id itself, or `<quarter>-V00001` for an old id."""
    return visit_id if parse_visit_id(visit_id) else f"{quarter}-{visit_id}"


def _foreign_plans(ids: pd.Series, identity: PlanIdentity, file: str) -> list[Problem]:
    """One problem per other plan the results name (the root cause, before any row's detail)."""
    found: dict[tuple[str, str], list[int]] = {}
    for i, vid in enumerate(ids):
        parsed = parse_visit_id(vid) if vid else None
        if parsed and (parsed[0], parsed[1]) != (str(identity.quarter), identity.plan_id):
            found.setdefault((parsed[1], parsed[0]), []).append(i + 2)
    return [Problem(file, _("these results belong to plan {other} ({other_quarter}), not to this plan {this} "
                            "({quarter}): {count} row(s) name its visits; record them against that plan's folder")
                    .format(other=other, other_quarter=oq, this=identity, quarter=identity.quarter,
                            count=len(rows)), row=rows[0], column="visit_id")
            for (other, oq), rows in sorted(found.items())]


def _sounds_not_carried_out(text: str) -> bool:
    """Free text holding a word of 未检查 / 企业已关闭或未找到 (e.g. 未检查，企业停产): never taken
    for an inspection that happened."""
    words = [w for code in NOT_CARRIED_OUT for w in (code, *VALUES["outcome"][code]) if len(w) >= 2]
    return any(w.casefold() in text.casefold() for w in words)


def is_category(outcome: str) -> bool:
    """An outcome code of headers.VALUES['outcome'] (not free text of an earlier results.csv)."""
    return outcome in VALUES["outcome"]


def _outcome_choices() -> str:
    return "、".join(value_label("outcome", code) for code in VALUES["outcome"])


def read_results(path: Path, roster: pd.DataFrame, identity: PlanIdentity | Quarter,
                 inspectors: pd.DataFrame | None = None) -> pd.DataFrame:
    """The filled-in result rows, typed (visit_id, date, hazards_found, major_hazards_found,
    penalized, outcome code (or free text as written, of an earlier results.csv), substitute_inspectors
    as ids, row); rows left empty are dropped.
    Refuses another plan's visits, unknown visits, dates outside the quarter, repeats, free-text
    outcomes that read like a visit that did not happen, and results that contradict themselves."""
    path = Path(path)
    if not isinstance(identity, PlanIdentity):  # a quarter only: the plan id is read off the roster's ids
        identity = plan_identity({"quarter": str(identity)}, roster)
    quarter = identity.quarter
    raw = read_table_text(path)
    raw.columns = canonical_headers(TABLE, raw.columns)
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise DistrictError([Problem(path.name, _("missing required column (header: {header})").format(
            header=display_header(TABLE, c)), row=1, column=c) for c in missing])
    for optional in ("outcome", "substitute_inspectors"):
        if optional not in raw.columns:
            raw[optional] = ""
    raw["row"] = range(2, len(raw) + 2)
    raw = raw[(raw[list(FILLED)] != "").any(axis=1)].reset_index(drop=True)
    foreign = _foreign_plans(raw["visit_id"], identity, path.name)
    if foreign:
        raise DistrictError(foreign)
    rows = raw["row"].tolist()

    def as_shown(found: list[Problem]) -> list[Problem]:  # rows of the kept frame -> rows of the sheet
        return [Problem(p.file, p.message, rows[p.row - 2], p.column) for p in found]

    control: list[Problem] = []
    _check_control_characters(raw.drop(columns="row"), Where(TABLE, path.name), {}, control)
    problems = as_shown(control)
    flagged = {(p.row, p.column) for p in problems}
    found: list[Problem] = []
    out = raw.copy()
    out["visit_id"] = _convert(raw["visit_id"], Column("visit_id"), path.name, found)
    out["date"] = _convert(raw["date"], Column("date", "date", allow_empty=True), path.name, found)
    for col in ("hazards_found", "major_hazards_found"):  # an empty count is 0
        out[col] = _convert(raw[col].replace("", "0"), Column(col, "int", min=0), path.name, found)
    problems.extend(p for p in as_shown(found) if (p.row, p.column) not in flagged)
    bad = {(p.row, p.column) for p in problems}  # cells already wrong: no follow-on checks on them
    names = _inspector_names(inspectors)
    known = set(roster["visit_id"])
    seen: dict[str, int] = {}
    penalized, outcomes, substitutes = [], [], []
    for i, r in enumerate(raw.itertuples(index=False)):
        row, vid = rows[i], r.visit_id
        flag = canonical_value("flag", r.penalized) if r.penalized else "0"
        if flag is None:
            problems.append(Problem(path.name, _("'{value}' is not 是/否 (or 1/0)").format(value=r.penalized),
                                    row=row, column="penalized"))
        penalized.append(int(flag or 0))
        code = canonical_value("outcome", r.outcome) if r.outcome else ""
        if code is None and _sounds_not_carried_out(r.outcome):
            problems.append(Problem(path.name, _("'{value}' reads like a visit that did not happen but is not an "
                                                 "outcome category; use one of: {choices}").format(
                value=r.outcome, choices=_outcome_choices()), row=row, column="outcome"))
        outcomes.append(r.outcome if code is None else code)  # text of an earlier results.csv: kept as written
        subs = []
        for token in split_list(r.substitute_inspectors.replace("；", ";").replace("、", ";")):
            iid = names.get(token, token if inspectors is None or token in set(inspectors["inspector_id"]) else None)
            if iid is None:
                problems.append(Problem(path.name, _("'{value}' is neither an inspector id nor the name of one "
                                                     "inspector").format(value=token),
                                        row=row, column="substitute_inspectors"))
            subs.append(iid or token)
        substitutes.append(";".join(subs))
        if vid and vid not in known:
            problems.append(Problem(path.name, _("visit '{visit_id}' is not in the roster").format(visit_id=vid),
                                    row=row, column="visit_id"))
        if vid in seen:
            problems.append(Problem(path.name, _("visit '{visit_id}' appears twice (first at row {first})").format(
                visit_id=vid, first=seen[vid]), row=row, column="visit_id"))
        seen.setdefault(vid, row)
        day = out["date"].iloc[i]
        done = code not in NOT_CARRIED_OUT
        if done and pd.isna(day) and r.date == "":
            problems.append(Problem(path.name, _("no actual date; fill in the date of the visit, or choose the "
                                                 "outcome {not_inspected}").format(
                not_inspected=value_label("outcome", "not_inspected")), row=row, column="date"))
        if pd.notna(day) and not (quarter.start <= day.date() <= quarter.end):
            problems.append(Problem(path.name, _("{date} is outside the roster's quarter {quarter}").format(
                date=day.date(), quarter=quarter), row=row, column="date"))
        if {(row, "hazards_found"), (row, "major_hazards_found")} & bad:
            continue
        hazards = out["hazards_found"].iloc[i]
        if code == "no_problem" and hazards > 0:
            problems.append(Problem(path.name, _("outcome {outcome} but {count} hazard(s) found").format(
                outcome=value_label("outcome", code), count=int(hazards)), row=row, column="outcome"))
        if not done and (hazards > 0 or out["major_hazards_found"].iloc[i] > 0 or flag == "1"):
            problems.append(Problem(path.name, _("outcome {outcome} (the visit did not happen) but hazards or a "
                                                 "penalty are filled in").format(outcome=value_label("outcome", code)),
                                    row=row, column="outcome"))
        if out["major_hazards_found"].iloc[i] > hazards:
            problems.append(Problem(path.name, _("more major hazards ({major}) than hazards ({count})").format(
                major=int(out["major_hazards_found"].iloc[i]), count=int(hazards)), row=row,
                column="major_hazards_found"))
    problems = [p for p in problems if p in control or (p.row, p.column) not in flagged]  # one per cell
    if problems:
        raise DistrictError(sorted(problems, key=lambda p: (p.row or 0, p.column or "")))
    out["penalized"], out["outcome"], out["substitute_inspectors"] = penalized, outcomes, substitutes
    return out


def _inspector_names(inspectors: pd.DataFrame | None) -> dict[str, str]:
    """Inspector name -> id for names held by exactly one inspector (the template shows names)."""
    if inspectors is None or "name" not in inspectors.columns:
        return {}
    counts = inspectors["name"].value_counts()
    return {n: i for n, i in zip(inspectors["name"], inspectors["inspector_id"]) if n and counts[n] == 1}


def _as_date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    parsed = pd.to_datetime(str(value or "").replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-"),
                            errors="coerce")
    return None if pd.isna(parsed) else parsed.date()


def _comparable(field_name: str, value):
    """A history cell or a new value in one form, so a correction is found whatever the spelling."""
    if field_name == "date":
        return _as_date(value)
    if field_name in ("hazards_found", "major_hazards_found"):
        number = pd.to_numeric(str(value if value is not None else ""), errors="coerce")
        return None if pd.isna(number) else int(number)
    if field_name == "penalized":
        text = "" if value is None else str(int(value) if isinstance(value, (bool, float)) else value)
        return canonical_value("flag", text) if text.strip() else "0"
    if field_name == "inspectors":
        return tuple(sorted(split_list(str(value or ""))))
    text = str(value or "").strip()
    return canonical_value("outcome", text) or text if text else ""


def _shown(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else str(value)


def history_location(district: District) -> tuple[Path, str | None]:
    """The file (and the sheet, in a workbook holding several tables) the loader read the
    inspections table from."""
    sheets = getattr(district, "sheets", None) or {}
    source = district.sources.get(INSPECTIONS.name) or find_table(district.path, INSPECTIONS.name)
    if source is None:
        raise DistrictError([Problem(f"{INSPECTIONS.name}.csv", _("required table is missing"))])
    if isinstance(source, tuple):  # (file, sheet)
        return Path(source[0]), source[1]
    return Path(getattr(source, "path", source)), getattr(source, "sheet", None) or sheets.get(INSPECTIONS.name)


def _backup(path: Path, data: bytes) -> Path:
    backup = backup_path(path)
    with open(backup, "xb") as fh:  # exclusive: a backup is never overwritten
        fh.write(data)
    return backup


def record_results(district_dir: Path, plan_dir: Path, results_path: Path, correct: bool = False) -> RecordResult:
    """Add the quarter's carried-out visits to the district's inspections history; with
    `correct`, also apply results that change visits already recorded (see the module notes)."""
    district_dir, plan_dir, results_path = Path(district_dir), Path(plan_dir), Path(results_path)
    restore_interrupted(plan_dir)  # a replace a crash cut short: put the old plan back first
    district = load_district(district_dir)  # refuse to extend a history that is itself invalid
    plan = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    roster = read_csv_text(plan_dir / "roster.csv")
    identity = plan_identity(plan, roster)
    quarter = identity.quarter
    results = read_results(results_path, roster, identity, district.inspectors)

    history_path, sheet = history_location(district)
    try:
        history = read_table_file(history_path, INSPECTIONS.name, sheet)
    except TableEditError as exc:
        raise DistrictError([Problem(exc.path.name, exc.message)]) from None
    recorded = {str(r.get(HISTORY_KEY) or "").strip(): i for i, r in enumerate(history.rows)}
    recorded.pop("", None)
    team = dict(zip(roster["visit_id"], roster["inspectors"]))
    enterprise = dict(zip(roster["visit_id"], roster["enterprise_id"]))
    rows: list[dict] = []
    changes: list[tuple[int, str, str, str, object]] = []  # history index, key, field, old, new
    problems: list[Problem] = []
    not_carried: dict[str, list[str]] = {}
    for r in results.itertuples(index=False):
        key = history_key(r.visit_id, quarter)
        if r.outcome in NOT_CARRIED_OUT:
            not_carried.setdefault(r.outcome, []).append(r.visit_id)
            if key in recorded:
                problems.append(Problem(results_path.name, _(
                    "visit '{visit_id}' is already recorded as an inspection ({key}); a result of {outcome} "
                    "cannot remove it: delete that row of the history by hand if the visit did not happen").format(
                    visit_id=r.visit_id, key=key, outcome=value_label("outcome", r.outcome)), row=r.row,
                    column="outcome"))
            continue
        row = {"enterprise_id": enterprise[r.visit_id], "date": r.date.date(),
               "inspectors": r.substitute_inspectors or team[r.visit_id],
               "hazards_found": int(r.hazards_found), "major_hazards_found": int(r.major_hazards_found),
               "penalized": bool(r.penalized), HISTORY_KEY: key}
        if r.outcome:
            row["outcome"] = (value_label("outcome", r.outcome, "zh" if history.chinese else "en")
                              if is_category(r.outcome) else r.outcome)
        if key not in recorded:
            rows.append(row)
            continue
        at = recorded[key]
        old_row = history.rows[at]
        differ = [(f, old_row.get(f), row.get(f, "")) for f in CORRECTABLE
                  if _comparable(f, old_row.get(f)) != _comparable(f, row.get(f, ""))]
        changes += [(at, key, f, _shown(old), new) for f, old, new in differ]
        if differ and not correct:
            listed = "; ".join(f"{history.header_for(f)} '{_shown(old)}' -> '{_shown(new)}'" for f, old, new in differ)
            problems.append(Problem(results_path.name, _(
                "visit '{visit_id}' is already recorded as {key} with other values ({changes}); use --correct "
                "to apply the change").format(visit_id=r.visit_id, key=key, changes=listed),
                row=r.row, column=differ[0][0]))
    if problems:
        raise DistrictError(problems)
    _check_roster_references(rows, district, plan_dir / "roster.csv")
    answered = set(results["visit_id"])
    no_result = tuple(v for v in sorted(roster["visit_id"]) if v not in answered)
    carried = {k: tuple(v) for k, v in not_carried.items()}
    free = tuple(v for v, o in zip(results["visit_id"], results["outcome"]) if o and not is_category(o))
    corrected = len({c[1] for c in changes})
    already = len(results) - len(rows) - corrected - sum(len(v) for v in carried.values())
    if not rows and not changes:
        return RecordResult(0, already, history_path, no_result=no_result, not_carried_out=carried,
                            uncategorized=free)
    try:
        data = history_path.read_bytes()
        new = edit_table_file(history_path, INSPECTIONS.name, rows, [(at, f, v) for at, _k, f, _o, v in changes],
                              sheet=history.sheet)
    except TableEditError as exc:
        raise DistrictError([Problem(exc.path.name, exc.message)]) from None
    backup = _backup(history_path, data)
    atomic_write_bytes(history_path, new)
    corrections_path = None
    if changes:
        corrections_path = history_path.with_name(CORRECTIONS_FILE)
        digest = sha256_file(results_path)
        audit = pd.DataFrame([(key, f, old, _shown(new), results_path.name, digest)
                              for _, key, f, old, new in changes], columns=list(CORRECTIONS_COLUMNS))
        if corrections_path.exists():
            audit = pd.concat([read_csv_text(corrections_path), audit], ignore_index=True)
        write_table(audit, corrections_path)
    return RecordResult(len(rows), already, history_path, corrected, backup, corrections_path, no_result, carried,
                        free)


def _check_roster_references(rows: list[dict], district: District, roster_path: Path) -> None:
    """The roster (and the substitutes) must name enterprises and inspectors the district still has."""
    enterprises = set(district.enterprises["enterprise_id"])
    inspectors = set(district.inspectors["inspector_id"])
    problems = []
    for row in rows:
        if row["enterprise_id"] not in enterprises:
            problems.append(Problem(roster_path.name, _("unknown enterprise '{enterprise_id}'").format(
                enterprise_id=row["enterprise_id"]), column="enterprise_id"))
        for member in split_list(row["inspectors"]):
            if member not in inspectors:
                problems.append(Problem(roster_path.name, _("unknown inspector '{inspector_id}'").format(
                    inspector_id=member), column="inspectors"))
    if problems:
        raise DistrictError(problems)

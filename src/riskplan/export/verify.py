"""Anyone can re-run the published draw: `verify_draw` re-derives it from the public files.

The public folder carries the sampling frame, the quotas and the seed; re-running the
documented algorithm (`plan.draw`) on them must give the published list. That alone proves
only the lottery, not who was let into it, so with the district at hand the frame itself is
re-derived (the checker's independent derivation of obligations and eligibility, `check/`,
so a slip in the planner's code cannot vouch for itself), and so is every published chance
when the tiers are at hand. The manifest's fingerprints of the frame's inputs tell edits made
since publication apart from a draw that does not reproduce."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskplan.domain.calendar import Quarter
from riskplan.domain.headers import canonical_value
from riskplan.export.draw_inputs import FRAME_INPUTS, frame_inputs
from riskplan.i18n import LANGUAGES, _, get_language, language
from riskplan.export.publish import MANIFEST, inclusion_text_units
from riskplan.io import read_csv_text, sha256_file
from riskplan.outputs import restore_interrupted
from riskplan.load.district import District, DistrictError, Problem, load_district

FRAME_FILE = "sampling_frame.csv"
DRAWN_FILE = "drawn.csv"
METHODS = ("uniform", "risk_weighted")
SHOWN = 20  # enterprises named per finding before "and N more"


@dataclass
class DrawVerification:
    """What `verify-draw` found; `ok` only when every check passed. `notes`: input files that
    changed since publication without touching what the frame is derived from."""

    checks: list[tuple[str, bool, str]]
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(passed for _, passed, _ in self.checks)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def read_manifest(public_dir: Path) -> dict[str, Any]:
    """The manifest, or DistrictError naming the file and each key that is missing or wrong."""
    path = Path(public_dir) / MANIFEST
    if not path.exists():
        raise DistrictError([Problem(MANIFEST, _("missing from {folder}: publish the plan stage first").format(
            folder=public_dir))])
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise DistrictError([Problem(MANIFEST, _("not UTF-8 text"))]) from None
    except json.JSONDecodeError as exc:
        raise DistrictError([Problem(MANIFEST, _("not JSON: {error} at line {line}, column {column}").format(
            error=exc.msg, line=exc.lineno, column=exc.colno))]) from None
    if not isinstance(manifest, dict):
        raise DistrictError([Problem(MANIFEST, _("must be a JSON object"))])
    problems = []

    def bad(key: str, what: str) -> None:
        problems.append(Problem(MANIFEST, what, column=key))

    for key in ("quarter", "seed", "sample_shares"):
        if key not in manifest:
            bad(key, _("the key '{key}' is missing").format(key=key))
    if "quarter" in manifest:
        if not isinstance(manifest["quarter"], str):
            bad("quarter", _("must be text like 2027Q1, not {value}").format(value=repr(manifest["quarter"])))
        else:
            try:
                Quarter.parse(manifest["quarter"])
            except ValueError as exc:
                bad("quarter", f"{exc}")
    seed = manifest.get("seed")
    if "seed" in manifest and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        bad("seed", _("must be a non-negative integer, not {value}").format(value=repr(seed)))
    shares = manifest.get("sample_shares")
    if "sample_shares" in manifest and (not isinstance(shares, dict) or not all(
            isinstance(k, str) and (v is None or _is_number(v)) for k, v in shares.items())):
        bad("sample_shares", _("must map tier names to numbers, not {value}").format(value=repr(shares)))
    if manifest.get("method", "uniform") not in METHODS:
        bad("method", _("must be one of {choices}, not {value}").format(choices=", ".join(METHODS),
                                                                       value=repr(manifest.get("method"))))
    for key in ("min_inclusion", "max_inclusion"):
        if manifest.get(key) is not None and not _is_number(manifest[key]):
            bad(key, _("must be a number, not {value}").format(value=repr(manifest[key])))
    for key in ("input_sha256", "frame_inputs"):
        value = manifest.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, (str, type(None))) for v in value.values()):
            bad(key, _("must map names to sha256 text, not {value}").format(value=repr(value)))
    drawn = manifest.get("drawn", [])
    if not isinstance(drawn, list) or not all(isinstance(d, str) for d in drawn):
        bad("drawn", _("must be a list of credit codes, not {value}").format(value=repr(drawn)))
    if problems:
        raise DistrictError(problems)
    return manifest


def _read_public(public_dir: Path, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """A public table in either language, with its column names and tier codes."""
    path = Path(public_dir) / name
    if not path.exists():
        raise DistrictError([Problem(name, _("missing from {folder}").format(folder=public_dir))])
    frame = read_csv_text(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DistrictError([Problem(name, _("the column '{column}' is missing").format(column=c), row=1, column=c)
                             for c in missing])
    if "tier" in frame.columns:  # 红/橙/黄/蓝 as the Chinese page writes them
        frame["tier"] = [canonical_value("tier", t) or t for t in frame["tier"]]
    return frame


def _named(ids: list[str]) -> str:
    more = _(" and {count} more").format(count=len(ids) - SHOWN) if len(ids) > SHOWN else ""
    return _(", ").join(ids[:SHOWN]) + more


def verify_draw(public_dir: Path, district_dir: Path, tiers_path: Path | None = None) -> DrawVerification:
    """Re-run the published draw from the published sampling frame and seed, re-derive the frame
    (and, with the tiers, every published chance) from the district, and compare.

    The draw depends only on the eligible enterprises per tier and subdistrict, the shares and
    the seed, so a district made of just the sampling frame reproduces it exactly. A
    risk-weighted draw also depends on each eligible enterprise's inclusion probability, which
    the frame publishes exactly: they are checked against the published floor and cap and
    against each stratum's quota (they must sum to it), then the draw is re-run from them.
    `tiers_path`: the plan's tiers (OUT/tiers.csv); without it, the scoring model's tiers as
    `plan` derives them by default.
    """
    public_dir, district_dir = Path(public_dir), Path(district_dir)
    restore_interrupted(public_dir)  # a replace a crash cut short: put the old files back first
    manifest = read_manifest(public_dir)
    method = manifest.get("method", "uniform")
    frame_cols = ("tier", "subdistrict", "enterprise_id") + (("inclusion_probability",)
                                                            if method == "risk_weighted" else ())
    frame = _read_public(public_dir, FRAME_FILE, frame_cols)
    published = _read_public(public_dir, DRAWN_FILE, ("credit_code",))
    result = DrawVerification([])
    district = load_district(district_dir)
    quarter = Quarter.parse(manifest["quarter"])

    tiers, tiers_problem = _tiers(district, quarter, tiers_path, manifest.get("tiers_source"))
    _check_inputs(result, manifest, district, district_dir, quarter, tiers_path, tiers)

    known = dict(zip(district.enterprises["enterprise_id"], district.enterprises["subdistrict"]))
    strays = [e for e, s in zip(frame["enterprise_id"], frame["subdistrict"]) if known.get(e) != s]
    result.checks.append((_("sampling frame"), not strays,
                          _("every enterprise is in the district, in its subdistrict") if not strays
                          else _("{count} enterprise(s) not in the district or in another subdistrict: {names}")
                          .format(count=len(strays), names=_named(strays))))
    units = None
    if method == "risk_weighted":
        units, check = _published_units(frame, manifest)
        result.checks.append(check)
    _check_derived_frame(result, public_dir, district, quarter, manifest, frame, units, tiers, tiers_problem)
    _rerun_from_frame(result, public_dir, manifest, frame, published, units)
    return result


def _tiers(district: District, quarter: Quarter, tiers_path: Path | None,
           source: str | None) -> tuple[pd.DataFrame | None, str]:
    """The tiers the plan used, or None and why they are not at hand (they are not public)."""
    from riskplan.load.tiers import load_tiers_csv

    if tiers_path is not None:
        return load_tiers_csv(tiers_path, district), ""
    if source == "file":
        return None, _("the plan was tiered from a file; pass it (or the plan's tiers.csv) with --tiers")
    from riskplan.score.tiering import TieringError, model_tiers

    try:
        return model_tiers(district, quarter)[0], ""
    except TieringError as exc:
        return None, f"{exc}"


def _check_inputs(result: DrawVerification, manifest: dict, district: District, district_dir: Path,
                  quarter: Quarter, tiers_path: Path | None, tiers: pd.DataFrame | None) -> None:
    """Inputs changed since publication: a failure when what the frame derives from changed,
    a note when only a file did (e.g. results recorded after the quarter started)."""
    published = manifest.get("frame_inputs") or {}
    changed_files = []
    for name, digest in sorted(manifest.get("input_sha256", {}).items()):
        path = district_dir / name
        if not path.exists() or sha256_file(path) != digest:
            changed_files.append(name if path.exists() else _("{name} (missing)").format(name=name))
    if not published:  # a manifest from before frame fingerprints: whole files are all there is
        for name in changed_files:
            result.checks.append((_("input {name}").format(name=name), False,
                                  _("differs from the published fingerprint: the inputs changed since publication")))
        return
    tiers_sha = None
    if tiers_path is not None:
        tiers_sha = sha256_file(Path(tiers_path))
        if tiers_sha != published.get("tiers") and tiers is not None:
            tiers_sha = _tiers_sha(tiers, published.get("tiers"))
    elif tiers is not None:
        from riskplan.score.tiering import model_tiers

        tiers_sha = _tiers_sha(tiers, published.get("tiers"), lambda: model_tiers(district, quarter)[0])
    now = frame_inputs(district, quarter.start, district.policy.to_dict(), tiers_sha)
    differ = [k for k in sorted(published) if k in now and published[k] is not None and now[k] is not None
              and published[k] != now[k]]
    files = {k: district.sources[t].name for k, t in _SOURCE_OF.items() if t in district.sources}
    where = [_("{what} ({file})").format(what=_(FRAME_INPUTS[k]), file=files[k]) if k in files
             else _(FRAME_INPUTS[k]) for k in differ]
    result.checks.append((_("inputs changed since publication"), not differ,
                          _("what the frame is derived from matches the published fingerprints") if not differ else
                          _("these differ from the published fingerprints: {inputs}").format(
                              inputs=_("; ").join(where))))
    touched = {files[k] for k in differ if k in files}
    for name in changed_files:
        if name not in touched:
            result.notes.append(_("{name} changed since publication, but not in what the sampling frame is "
                                  "derived from (e.g. results recorded since)").format(name=name))


def _tiers_sha(tiers: pd.DataFrame, published: str | None, remake=None) -> str:
    """sha256 of the tiers as the plan wrote them. The plan's tiers.csv is in the language the
    plan was made in, so a fingerprint that differs in this language is tried in the other
    (`remake`: the tiers made again in that language, when their reasons are the model's words)."""
    import hashlib

    from riskplan.export.plan_files import tiers_output

    first = hashlib.sha256(tiers_output(tiers)).hexdigest()
    if published is None or first == published:
        return first
    for lang in LANGUAGES:
        if lang != get_language():
            with language(lang):
                again = remake() if remake is not None else tiers
                if hashlib.sha256(tiers_output(again)).hexdigest() == published:
                    return published
    return first


#: frame_inputs key -> the district table it fingerprints
_SOURCE_OF = {"enterprises": "enterprises", "accidents": "accidents", "inspections_before_quarter": "inspections",
              "pinned": "pinned", "policy": "policy"}


def _check_derived_frame(result: DrawVerification, public_dir: Path, district: District, quarter: Quarter,
                         manifest: dict, frame: pd.DataFrame, units: dict[str, int] | None, tiers: pd.DataFrame | None,
                         tiers_problem: str) -> None:
    """The frame (and each published chance) as the documented eligibility rule derives it."""
    from riskplan.check.draw import D, DrawRefused, rerun_draw
    from riskplan.check.obligations import derive_obligations

    if tiers is None:
        result.notes.append(_("the sampling frame was not re-derived from the district: {problem}").format(
            problem=tiers_problem))
        return
    series = tiers.set_index("enterprise_id")["tier"]
    try:
        obligations = derive_obligations(district, series, quarter)
        draw = rerun_draw(district, tiers, quarter, obligations, int(manifest["seed"]))
    except DrawRefused as exc:
        result.checks.append((_("sampling frame derived from the district"), False,
                              _("cannot re-run the draw: {error}").format(error=exc)))
        return
    want = {e: r for e, r in draw.rows.items() if r.eligible}
    listed = dict(zip(frame["enterprise_id"], frame["tier"]))
    missing = sorted(set(want) - set(listed))
    added = sorted(set(listed) - set(want))
    moved = sorted(e for e in set(want) & set(listed) if want[e].tier != listed[e])
    same = not (missing or added or moved)
    detail = [_("{count} eligible but missing from the published frame: {names}").format(
                  count=len(missing), names=_named(missing)) if missing else "",
              _("{count} in the published frame but not eligible: {names}").format(
                  count=len(added), names=_named(added)) if added else "",
              _("{count} published under another tier: {names}").format(
                  count=len(moved), names=_named(moved)) if moved else ""]
    result.checks.append((_("sampling frame derived from the district"), same,
                          _("the published frame is exactly the {count} eligible enterprises").format(count=len(want))
                          if same else _("; ").join(d for d in detail if d)))
    if not same:
        return
    sizes = frame.groupby(["tier", "subdistrict"]).size()
    _check_quotas(result, public_dir, draw.quotas, {k: int(v) for k, v in sizes.items()})
    if units is None:
        return
    off = sorted(e for e in want if units.get(e) != want[e].inclusion_units)
    result.checks.append((_("published chances"), not off,
                          _("every published chance is the documented design's ({units} units)").format(units=D)
                          if not off else
                          _("{count} published chance(s) differ from the documented design: {names}").format(
                              count=len(off), names=_named([
                                  _("{enterprise} ({published} instead of {expected})").format(
                                      enterprise=e, published=units.get(e), expected=want[e].inclusion_units)
                                  for e in off]))))


def _check_quotas(result: DrawVerification, public_dir: Path, quotas: dict[tuple[str, str], int],
                  eligible: dict[tuple[str, str], int]) -> None:
    """quotas.csv: each stratum's published n of N (the uniform chance n / N) against the rule."""
    path = public_dir / "quotas.csv"
    if not path.exists():
        return
    table = read_csv_text(path)  # its headers and tiers in either language (domain.headers)
    if not {"tier", "subdistrict", "eligible", "drawn"} <= set(table.columns):
        return  # a labelled (translated) table: the drawn list and the frame are checked above
    published = {(canonical_value("tier", t) or t, s): (e, d) for t, s, e, d in
                 zip(table["tier"], table["subdistrict"], table["eligible"], table["drawn"])}
    wrong = []
    for key, n in sorted(quotas.items()):
        got, size = published.get(key), eligible.get(key, 0)
        if got != (str(size), str(n)):
            shown = _("{drawn} of {eligible}").format(drawn=got[1], eligible=got[0]) if got else _("nothing")
            wrong.append(_("tier {tier}, subdistrict {subdistrict}: published {published}, the rule gives "
                           "{drawn} of {eligible}").format(tier=_tier(key[0]), subdistrict=key[1], published=shown,
                                                           drawn=n, eligible=size))
    wrong += [_("tier {tier}, subdistrict {subdistrict}: published but not a stratum").format(
        tier=_tier(k[0]), subdistrict=k[1]) for k in sorted(set(published) - set(quotas))]
    result.checks.append((_("quotas"), not wrong,
                          _("every stratum's published quota is the rule's ({count} strata)").format(count=len(quotas))
                          if not wrong else _("{count} stratum quota(s) differ: {items}").format(
                              count=len(wrong), items=_named(wrong))))


def _rerun_from_frame(result: DrawVerification, public_dir: Path, manifest: dict, frame: pd.DataFrame,
                      published: pd.DataFrame, units: dict[str, int] | None) -> None:
    """The lottery itself: the documented draw on a district made of just the published frame."""
    from riskplan.domain.policy import Policy
    from riskplan.domain.schema import INSPECTIONS
    from riskplan.plan.draw import draw_spot_checks

    shares = manifest["sample_shares"]
    method = manifest.get("method", "uniform")
    base = Policy()
    tiers = base.tiers.model_copy(update={
        t: getattr(base.tiers, t).model_copy(update={"sample_share": shares.get(t)})
        for t in ("red", "orange", "yellow", "blue")})
    policy = base.model_copy(update={"tiers": tiers, "draw": base.draw.model_copy(update={"avoid_recent_days": 0})})
    frame_district = District(
        path=public_dir,
        enterprises=pd.DataFrame({"enterprise_id": frame["enterprise_id"], "name": frame["enterprise_id"],
                                  "subdistrict": frame["subdistrict"]}),
        accidents=pd.DataFrame(), inspections=pd.DataFrame(columns=list(INSPECTIONS.column_names)),
        inspectors=pd.DataFrame(), leave=pd.DataFrame(), conflicts=pd.DataFrame(), pinned=pd.DataFrame(),
        policy=policy)
    tier_series = pd.Series(frame["tier"].to_numpy(), index=frame["enterprise_id"])
    try:
        rerun = draw_spot_checks(frame_district, tier_series, manifest["quarter"], [], int(manifest["seed"]),
                                 method=method, units=units)
    except ValueError as exc:  # e.g. inclusion probabilities that do not add up to a quota
        result.checks.append((_("drawn list"), False, _("cannot re-run the draw: {error}").format(error=exc)))
        return
    expected = sorted(rerun.drawn_ids)
    listed = sorted(published["credit_code"])
    missing = sorted(set(expected) - set(listed))
    extra = sorted(set(listed) - set(expected))
    same = not missing and not extra
    result.checks.append((_("drawn list"), same,
                          _("all {count} drawn enterprises reproduced from the seed").format(count=len(expected))
                          if same else _("not what the seed draws from the published frame: {missing} missing "
                                         "({missing_names}), {extra} not drawn by the seed ({extra_names})").format(
                              missing=len(missing), missing_names=_named(missing), extra=len(extra),
                              extra_names=_named(extra))))
    consistent = sorted(manifest.get("drawn", [])) == listed
    result.checks.append((_("manifest"), consistent, _("drawn.csv and the manifest agree") if consistent
                          else _("drawn.csv and the manifest's drawn list differ")))


def _published_units(frame: pd.DataFrame, manifest: dict) -> tuple[dict[str, int], tuple[str, bool, str]]:
    """The published inclusion probabilities in billionths, and whether they honour the
    published floor and cap."""
    from riskplan.plan.draw import UNITS

    units: dict[str, int] = {}
    bad: list[str] = []
    for eid, text in zip(frame["enterprise_id"], frame["inclusion_probability"]):
        try:
            units[eid] = inclusion_text_units(text)
        except ValueError:
            bad.append(eid)
    if bad:
        return units, (_("inclusion probabilities"), False, _("{count} unreadable: {names}").format(
            count=len(bad), names=_named(bad)))
    floor = manifest.get("min_inclusion") or 0.0
    cap = manifest.get("max_inclusion") if manifest.get("max_inclusion") is not None else 1.0
    lo, hi = float(floor) * UNITS, float(cap) * UNITS
    outside = [e for e, u in units.items() if u < lo - 0.5 or u > hi + 0.5]
    if outside:
        return units, (_("inclusion probabilities"), False,
                       _("{count} outside the published floor {floor} and cap {cap}: {names}").format(
                           count=len(outside), floor=floor, cap=cap, names=_named(outside)))
    return units, (_("inclusion probabilities"), True,
                   _("every enterprise's probability is within [{floor}, {cap}]").format(floor=floor, cap=cap))


def _tier(code: str) -> str:
    from riskplan.domain.headers import value_label

    return value_label("tier", code)

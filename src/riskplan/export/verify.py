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


def verify_draw(public_dir: Path, district_dir: Path | None = None,
                tiers_path: Path | None = None) -> DrawVerification:
    """Re-run the published draw from the published sampling frame and seed and compare; with the
    district at hand, also re-derive the frame (and, with the tiers, every published chance).

    From the public files alone: each published table is the file the manifest fingerprints
    (a row changed, added, removed or moved fails), the notice pins the manifest, the seed opens
    its commitment, the quotas are the rule's on the published frame, and the lottery re-run on
    the frame with the seed gives the drawn list. The draw depends only on the eligible
    enterprises per tier and subdistrict, the shares and the seed (and, risk-weighted, each
    published inclusion probability), so a district made of just the frame reproduces it.
    `tiers_path`: the plan's tiers (OUT/tiers.csv); without it, the scoring model's tiers as
    `plan` derives them by default.
    """
    public_dir = Path(public_dir)
    restore_interrupted(public_dir)  # a replace a crash cut short: put the old files back first
    manifest = read_manifest(public_dir)
    method = manifest.get("method", "uniform")
    frame_cols = ("tier", "subdistrict", "enterprise_id") + (("inclusion_probability",)
                                                            if method == "risk_weighted" else ())
    frame = _read_public(public_dir, FRAME_FILE, frame_cols)
    published = _read_public(public_dir, DRAWN_FILE, ("credit_code",))
    result = DrawVerification([])
    _check_published_files(result, public_dir, manifest)
    _check_commitment(result, manifest)
    units = None
    if method == "risk_weighted":
        units, check = _published_units(frame, manifest)
        result.checks.append(check)
    if district_dir is None:
        rerun = _rerun_from_frame(result, public_dir, manifest, frame, published, units)
        if rerun is not None:
            sizes = frame.groupby(["tier", "subdistrict"]).size()
            rule = {(t, s): int(q) for t, s, q in zip(rerun.quotas["tier"], rerun.quotas["subdistrict"],
                                                      rerun.quotas["quota"])}
            _check_quotas(result, public_dir, rule, {k: int(v) for k, v in sizes.items()}, manifest)
        result.notes.append(_("checked from the public files alone; who was let into the sampling frame is "
                              "checked only with the district's files (verify-draw PUBLIC/ DISTRICT/)"))
        return result
    district_dir = Path(district_dir)
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
    _check_derived_frame(result, public_dir, district, quarter, manifest, frame, units, tiers, tiers_problem)
    _rerun_from_frame(result, public_dir, manifest, frame, published, units)
    return result


def _check_published_files(result: DrawVerification, public_dir: Path, manifest: dict) -> None:
    """Each public table is byte for byte the file published with the draw (the manifest holds
    their SHA-256), and the notice, when present, names this manifest."""
    import re

    from riskplan.export.publish import manifest_fingerprint

    listed = manifest.get("published_sha256")
    if not listed:
        result.notes.append(_("the manifest holds no fingerprints of the public files (published before they "
                              "were added): the files are checked by re-running the draw only"))
        return
    changed = []
    for name, digest in sorted(listed.items()):
        path = public_dir / name
        if not path.exists():
            changed.append(_("{name} (missing)").format(name=name))
        elif sha256_file(path) != digest:
            changed.append(name)
    result.checks.append((_("published files"), not changed,
                          _("every public table is the file published with the draw ({count} files)").format(
                              count=len(listed)) if not changed else
                          _("not the files published with the draw (their SHA-256 differs from the manifest's, "
                            "so a row was changed, added, removed or moved): {names}").format(
                              names=_(", ").join(changed))))
    notices = sorted(public_dir.glob("*.html"))
    if not notices:
        return
    own = manifest_fingerprint((public_dir / MANIFEST).read_bytes())
    shown = set()
    for path in notices:
        shown |= set(re.findall(r'data-manifest-sha256="([0-9a-f]{64})"', path.read_text(encoding="utf-8")))
    if shown:
        same = own in shown
        result.checks.append((_("notice"), same,
                              _("the notice's verification fingerprint is this manifest's ({digest})").format(
                                  digest=own[:16]) if same else
                              _("the notice's verification fingerprint {shown} is not this manifest's {digest}: "
                                "the manifest changed after the notice was issued").format(
                                  shown=_(", ").join(sorted(d[:16] for d in shown)), digest=own[:16])))


def _check_commitment(result: DrawVerification, manifest: dict) -> None:
    """The seed opens the commitment published before the draw (commit-seed)."""
    from riskplan.export.commitment import opened_seed

    carried = manifest.get("seed_commitment")
    if not carried:
        result.notes.append(_("no seed commitment was published before the draw: the seed reproduces the draw, "
                              "but nothing shows it was fixed before the draw"))
        return
    commitment, reveal = carried.get("commitment") or {}, carried.get("reveal") or {}
    seed, why = opened_seed(commitment, reveal)
    if seed is not None and commitment.get("quarter") != manifest["quarter"]:
        seed, why = None, _("the commitment is for quarter {other}, the draw for {quarter}").format(
            other=commitment.get("quarter"), quarter=manifest["quarter"])
    if seed is not None and seed != manifest["seed"]:
        why = _("the commitment opens to seed {seed}, the draw used seed {used}").format(
            seed=seed, used=manifest["seed"])
        seed = None
    how = (_("SHA-256 of quarter, seed and salt is the commitment published on {date}")
           if commitment.get("kind") == "hash" else
           _("the seed is the one the public random value named on {date} gives"))
    result.checks.append((_("seed commitment"), seed is not None,
                          how.format(date=commitment.get("date")) if seed is not None else why))


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
    _check_quotas(result, public_dir, draw.quotas, {k: int(v) for k, v in sizes.items()}, manifest)
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
                  eligible: dict[tuple[str, str], int], manifest: dict) -> None:
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
    shares = manifest.get("sample_shares", {})
    if "sample_share" in table.columns:
        for t, s, share in sorted(set(zip(table["tier"], table["subdistrict"], table["sample_share"]))):
            code = canonical_value("tier", t) or t
            if _as_share(share) != _as_share(shares.get(code)):
                wrong.append(_("tier {tier}, subdistrict {subdistrict}: published sample share {share}, the "
                               "manifest's {manifest}").format(tier=_tier(code), subdistrict=s, share=share,
                                                               manifest=shares.get(code)))
    wrong += [_("tier {tier}, subdistrict {subdistrict}: published but not a stratum").format(
        tier=_tier(k[0]), subdistrict=k[1]) for k in sorted(set(published) - set(quotas))]
    result.checks.append((_("quotas"), not wrong,
                          _("every stratum's published quota is the rule's ({count} strata)").format(count=len(quotas))
                          if not wrong else _("{count} stratum quota(s) differ: {items}").format(
                              count=len(wrong), items=_named(wrong))))


def _as_share(value) -> float | None:
    """A published share (0.1, "0.1" or "10%") as a number, None when absent or unreadable."""
    try:
        text = str(value).strip()
        return round(float(text[:-1]) / 100 if text.endswith("%") else float(text), 9)
    except (TypeError, ValueError):
        return None


def _rerun_from_frame(result: DrawVerification, public_dir: Path, manifest: dict, frame: pd.DataFrame,
                      published: pd.DataFrame, units: dict[str, int] | None):
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
        return None
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
    return rerun


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

"""The public spot-check list (双随机、一公开): what the bureau must disclose.

Two stages:

- `plan`: the spot-check plan — check items, sample shares per tier, the number drawn per
  subdistrict, the drawn enterprises (name, credit code, subdistrict), and everything needed
  to reproduce the draw: the sampling frame (the eligible enterprises per tier and
  subdistrict), the seed, the method, the input fingerprints and the riskplan version. Visits
  are unannounced (四不两直), so no date and no inspector may appear. A risk-weighted draw
  also publishes its floor and cap and each eligible enterprise's exact inclusion probability
  (the draw is a function of those and the seed), but not the risk score behind them.
- `results`: after the visits, each spot-checked enterprise's outcome in public wording.
  No inspector personal data.

Privacy is by construction: every public table is built from an explicit list of public
columns (`PUBLIC_COLUMNS`), never by dropping private ones from an internal table. One
document model is rendered to CSV, .xlsx and a printable HTML page, in Chinese or English
(the catalogs; headers from riskplan.domain.headers).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from riskplan import __version__
from riskplan.domain.calendar import Quarter
from riskplan.domain.headers import display_header, value_label
from riskplan.export.commitment import checked_commitment, commitment_for_plan
from riskplan.export.draw_inputs import frame_inputs
from riskplan.export.pages import html_lang, template_environment
from riskplan.export.record import is_category, read_results
from riskplan.i18n import LANGUAGES, N_, _, get_language, language, ngettext, pgettext
from riskplan.io import frame_to_csv_bytes, read_csv_text, sheets_to_xlsx_bytes
from riskplan.outputs import atomic_output_dir, atomic_write_text, refuse_existing, restore_interrupted
from riskplan.load.district import DistrictError, Problem, load_district

STAGES = ("plan", "results")
MANIFEST = "draw_manifest.json"

#: The only columns a public table may have, by table.
PUBLIC_COLUMNS = {
    # as provincial double-random platforms publish a spot-check plan (任务名称, 抽查类型,
    # 抽查对象名称, 统一社会信用代码, 抽查事项, 检查实施机关, 抽查时段); the tier only when the
    # bureau's policy discloses it ([publish] disclose_tiers)
    "drawn": ("task_name", "check_type", "name", "credit_code", "subdistrict", "check_items", "authority",
              "period"),
    "drawn_with_tiers": ("task_name", "check_type", "name", "credit_code", "subdistrict", "tier", "check_items",
                         "authority", "period"),
    "quotas": ("tier", "subdistrict", "eligible", "sample_share", "drawn"),
    "sampling_frame": ("tier", "subdistrict", "enterprise_id"),
    # a risk-weighted draw also publishes each eligible enterprise's exact inclusion probability
    # (what the seed's draw needs, and the fairness promise itself); never the risk score behind it
    "sampling_frame_risk_weighted": ("tier", "subdistrict", "enterprise_id", "inclusion_probability"),
    # no visit date: the period only (an inspector could be traced through a date)
    "results": ("task_name", "name", "credit_code", "subdistrict", "period", "finding", "outcome"),
}

#: The alias-table name (riskplan.domain.headers.HEADERS) of each public table, for its headers.
HEADER_TABLE = {"drawn": "drawn", "drawn_with_tiers": "drawn", "quotas": "quotas", "sampling_frame": "sampling_frame",
                "results": "public_results"}
#: The public tables, in the order of the workbook's sheets.
SHEET_NAMES = ("drawn", "quotas", "sampling_frame", "results")


def sheet_name(table: str) -> str:
    """The sheet of a public table in the workbook, in the current language (English: the table's
    name). A context of its own: "drawn" is also a word in other messages."""
    return {"drawn": pgettext("sheet", "drawn"), "quotas": pgettext("sheet", "quotas"),
            "sampling_frame": pgettext("sheet", "sampling_frame"), "results": pgettext("sheet", "results")}[table]

#: Check items (检查事项) by the hazard that calls for them; "general" applies to everyone.
CHECK_ITEMS = {
    "general": N_("safety responsibility, management rules and training"),
    "hazchem": N_("hazardous chemicals: storage, use and trade"),
    "major_hazard": N_("major hazard installation monitoring and management"),
    "dust_explosion": N_("explosive dust: dust removal, cleaning, explosion-proof equipment"),
    "molten_metal": N_("molten-metal operations"),
    "confined_space": N_("confined-space work permits and protection"),
}

TIER_ORDER = {"red": 0, "orange": 1, "yellow": 2, "blue": 3}
#: Tier names by language, from the alias table (export.verify reads published tiers back with it).
TIER_LABEL = {lang: {t: value_label("tier", t, lang) for t in TIER_ORDER} for lang in LANGUAGES}
METHODS = {"uniform": N_("stratified uniform random draw"),
           "risk_weighted": N_("risk-weighted stratified draw with a floor")}
ALGORITHMS = {"uniform": N_("riskplan README, section \"The draw\" (largest-remainder quotas per subdistrict, "
                            "PCG64)"),
              "risk_weighted": N_("riskplan README, section \"The draw\" (largest-remainder quotas per "
                                  "subdistrict; systematic sampling with the published inclusion probabilities "
                                  "in a random order; PCG64)")}


def FRAME_DISCLOSURE_NOTE() -> str:  # noqa: N802 - a sentence, looked up in the reader's language
    """What publishing the frame discloses, said plainly wherever the frame is shown."""
    return _("Note: the sampling frame lists each eligible enterprise with its risk tier, and so also shows which "
             "enterprises were not eligible (red and orange enterprises, and those visited recently). It is "
             "published because without it nobody could re-run the draw.")


def _nowrap() -> tuple[str, ...]:
    return tuple(display_header(t, c) for t, c in (("drawn", "subdistrict"), ("drawn", "credit_code"),
                                                    ("drawn", "period"), ("drawn", "tier")))


def _separator() -> str:
    """Between the parts of one cell: the full-width semicolon in Chinese."""
    return _("; ")


@dataclass
class Section:
    heading: str
    text: str = ""
    pairs: list[tuple[str, str]] = field(default_factory=list)
    table: pd.DataFrame | None = None


@dataclass
class PublicDocument:
    """One public document: rendered to HTML, and its `tables` to CSV and .xlsx sheets."""

    stem: str
    title: str
    subtitle: str
    intro: list[str]
    sections: list[Section]
    footer: str
    tables: dict[str, pd.DataFrame]
    manifest: dict | None = None
    fingerprint: str = ""  # of the manifest as published: the notice's verification footnote
    nowrap: tuple[str, ...] = ()  # headers of columns never wrapped (a subdistrict, a credit code)


def _public(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Keep exactly the public columns of `table`, in order."""
    return frame.loc[:, list(PUBLIC_COLUMNS[table])].reset_index(drop=True)


def _labelled(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """A public table as people read it: headers in the current language (the alias table's
    first Chinese name, or the column name in English) and tier names (红/橙/黄/蓝)."""
    out = frame.copy()
    if "tier" in out.columns:
        out["tier"] = [value_label("tier", t) for t in out["tier"]]
    out.columns = [display_header(HEADER_TABLE[table], c) for c in out.columns]
    return out


def check_items_for(row: pd.Series, lang: str | None = None) -> str:
    """The check items of one enterprise, by its hazards, in `lang` (default: the current language)."""
    keys = ["general"]
    keys += ["hazchem"] if row["hazchem"] != "none" else []
    keys += ["major_hazard"] if int(row["major_hazard_level"]) > 0 else []
    keys += [k for k in ("dust_explosion", "molten_metal", "confined_space") if int(row[k]) == 1]
    with language(lang):
        return pgettext("list separator", "; ").join(_(CHECK_ITEMS[k]) for k in keys)


def _read_plan(plan_dir: Path) -> tuple[dict, pd.DataFrame]:
    restore_interrupted(plan_dir)  # a replace a crash cut short: put the old plan back first
    plan = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    draw = read_csv_text(plan_dir / "draw.csv")
    return plan, draw


def _shares(plan: dict) -> dict[str, float]:
    tiers = plan["policy"]["tiers"]
    return {t: float(r["sample_share"]) for t, r in tiers.items() if r.get("sample_share") is not None}


def long_date(day) -> str:
    """A date as a notice writes it (2027年1月5日; 5 January 2027): never an ISO date, so a scan
    for visit dates cannot confuse the notice's own dates with them."""
    if get_language() == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {day.strftime('%B')} {day.year}"


@dataclass(frozen=True)
class Issuer:
    """Who issues the notice, from the district policy's [publish] section."""

    bureau: str
    task: str
    contact: str
    date: str
    disclose_tiers: bool
    period: str


def _issuer(district, quarter: Quarter) -> Issuer:
    rules = district.policy.publish
    period = _("{start} to {end}").format(start=long_date(quarter.start), end=long_date(quarter.end))
    task = rules.task_name or _("{quarter} work-safety double-random spot check").format(quarter=quarter)
    return Issuer(rules.issuing_bureau, task, rules.contact,
                  long_date(rules.publication_date) if rules.publication_date else "", rules.disclose_tiers, period)


def _subtitle(issuer: Issuer) -> str:
    """Under the title: the issuing bureau and the date (no software name on a notice)."""
    parts = [p for p in (issuer.bureau, issuer.date) if p]
    return "　".join(parts) if get_language() == "zh" else "  ".join(parts)


def build_plan_document(district_dir: Path, plan_dir: Path, lang: str | None = None) -> PublicDocument:
    """The spot-check plan; only drawn enterprises, no dates, no inspectors; in `lang`
    (default: the current language)."""
    with language(lang):
        return _plan_document(Path(district_dir), Path(plan_dir))


def _plan_document(district_dir: Path, plan_dir: Path) -> PublicDocument:
    district = load_district(district_dir)
    plan, draw = _read_plan(plan_dir)
    quarter = plan["quarter"]
    issuer = _issuer(district, Quarter.parse(quarter))
    ent = district.enterprises.set_index("enterprise_id")
    drawn = draw[draw["drawn"] == "yes"].copy()
    drawn["credit_code"] = drawn["enterprise_id"]
    drawn["check_items"] = [check_items_for(ent.loc[e]) for e in drawn["enterprise_id"]]
    drawn = drawn.assign(task_name=issuer.task, check_type=_("targeted random spot check"),
                         authority=issuer.bureau, period=issuer.period)
    drawn_table = "drawn_with_tiers" if issuer.disclose_tiers else "drawn"
    drawn = drawn.sort_values(["subdistrict", "name", "credit_code"]).loc[:, list(PUBLIC_COLUMNS[drawn_table])]
    drawn = drawn.reset_index(drop=True)

    eligible = draw[draw["eligible"] == "yes"]
    shares = _shares(plan)
    quotas = (eligible.assign(is_drawn=eligible["drawn"] == "yes")
              .groupby(["tier", "subdistrict"], sort=True)
              .agg(eligible=("enterprise_id", "size"), drawn=("is_drawn", "sum")).reset_index())
    quotas["sample_share"] = quotas["tier"].map(shares)
    quotas = quotas.sort_values(["tier", "subdistrict"], key=lambda c: c.map(TIER_ORDER) if c.name == "tier" else c,
                                kind="mergesort")
    quotas = _public(quotas, "quotas")
    method = plan["policy"]["draw"]["method"]
    if method == "risk_weighted":
        frame = _public(_with_inclusion_text(eligible).sort_values(["tier", "subdistrict", "enterprise_id"]),
                        "sampling_frame_risk_weighted")
    else:
        frame = _public(eligible.sort_values(["tier", "subdistrict", "enterprise_id"]), "sampling_frame")
    manifest = {
        "quarter": quarter, "seed": plan["seed"], "method": method,
        "min_inclusion": plan["policy"]["draw"]["min_inclusion"] if method == "risk_weighted" else None,
        "sample_shares": shares, "input_sha256": plan.get("inputs", {}),
        "riskplan_version": plan.get("riskplan_version", __version__),
        "drawn": sorted(drawn["credit_code"]),
        # what the frame is derived from, so verify-draw can tell later edits apart from a
        # frame that was tampered with (export.draw_inputs)
        "frame_inputs": frame_inputs(district, Quarter.parse(quarter).start, plan["policy"],
                                     plan.get("tiers", {}).get("tiers_csv_sha256")),
        "tiers_source": plan.get("tiers", {}).get("source"),
    }
    if method == "risk_weighted":
        # the cap, and the fingerprint of the (unpublished) tiers whose probabilities gave the
        # inclusion probabilities, so whoever holds them (the higher authority) can recompute them
        manifest["max_inclusion"] = plan["policy"]["draw"]["max_inclusion"]
        manifest["weight_power"] = plan["policy"]["draw"].get("weight_power", 1)
        manifest["tiers_csv_sha256"] = plan.get("tiers", {}).get("tiers_csv_sha256")
    items = pd.DataFrame({_("item"): [_(text) for text in CHECK_ITEMS.values()]})
    share_table = pd.DataFrame({display_header("quotas", "tier"): [value_label("tier", t) for t in shares],
                                display_header("quotas", "sample_share"):
                                    [f"{s:.0%}" if s * 100 == int(s * 100) else f"{s:.1%}" for s in shares.values()]})
    pairs = [(_("quarter"), quarter), (_("seed"), str(plan["seed"])), (_("method"), _(METHODS[method])),
             (_("algorithm"), _(ALGORITHMS[method])), (_("software version"), manifest["riskplan_version"])]
    if method == "risk_weighted":
        pairs.insert(3, (_("minimum inclusion probability"), str(manifest["min_inclusion"])))
        pairs.insert(4, (_("maximum inclusion probability"), str(manifest["max_inclusion"])))
        pairs.insert(5, (_("weight power (chance proportional to the risk probability to this power)"),
                         str(manifest["weight_power"])))
    pairs += [(_("input files, SHA-256: {file}").format(file=name), digest)
              for name, digest in sorted(manifest["input_sha256"].items())]
    sections = [
        Section(_("Check items"), table=items),
        Section(_("Sample share per risk tier"), table=share_table),
        Section(_("Number drawn per subdistrict"), table=_labelled(quotas, "quotas")),
        Section(_("Enterprises drawn"), table=_labelled(drawn, "drawn")),
        Section(_("How to reproduce the draw"), pairs=pairs),
        Section(_("Sampling frame (eligible enterprises per tier and subdistrict)"),
                text=_("The full sampling frame is in sampling_frame.csv and the “{sheet}” sheet of the Excel "
                       "file.").format(sheet=sheet_name("sampling_frame")) + " " + FRAME_DISCLOSURE_NOTE()),
    ]
    if issuer.contact:
        sections.append(Section(_("Contact"), text=issuer.contact))
    return PublicDocument(
        stem="spot_check_plan", title=_("{quarter} double-random spot-check plan (work safety)").format(quarter=quarter),
        subtitle=_subtitle(issuer),
        intro=[_("Enterprises to check and the inspectors who go are both drawn at random. Visits are unannounced: "
                 "no visit date is published in advance."),
               _("Anyone can reproduce the draw from the sampling frame, the seed and the algorithm below.")],
        sections=sections, footer=_("This document contains no visit schedule and no inspector data."),
        tables={"drawn": drawn, "quotas": quotas, "sampling_frame": frame}, manifest=manifest,
        nowrap=_nowrap())


def _with_inclusion_text(eligible: pd.DataFrame) -> pd.DataFrame:
    """The exact inclusion probability as decimal text (billionths, from draw.csv's
    inclusion_units), so the published number is exactly the one the draw used."""
    from riskplan.plan.draw import UNITS

    if "inclusion_units" not in eligible.columns:
        raise DistrictError([Problem("draw.csv", _("a risk-weighted plan's draw.csv needs its inclusion_units "
                                                   "column"), row=1, column="inclusion_units")])
    units = [int(u) for u in eligible["inclusion_units"]]
    return eligible.assign(inclusion_probability=[f"{u // UNITS}.{u % UNITS:09d}" for u in units])


def inclusion_text_units(text: str) -> int:
    """Published inclusion probability text -> exact billionths (ValueError if not exact)."""
    from decimal import Decimal, InvalidOperation

    from riskplan.plan.draw import UNITS

    try:
        d = Decimal(text) * UNITS
    except InvalidOperation:
        raise ValueError(_("'{text}' is not a number").format(text=text)) from None
    if d != d.to_integral_value() or d < 0 or d > UNITS:
        raise ValueError(_("'{text}' is not a probability in billionths").format(text=text))
    return int(d)


def public_finding(hazards: int, major: int, penalized: int, lang: str | None = None) -> str:
    """Findings in the words a bureau publishes (major hazards are counted among all hazards)."""
    total = max(int(hazards), int(major))
    with language(lang):
        # the finding only: what was done about it is the outcome column's (当场整改 stays 当场整改)
        parts = ([ngettext("{count} hazard found", "{count} hazards found", total).format(count=total)]
                 if total else [_("no hazard found")])
        if major:
            parts.append(ngettext("{count} of them major; a re-inspection will follow",
                                  "{count} of them major; a re-inspection will follow", int(major))
                         .format(count=int(major)))
        if penalized:
            parts.append(_("administrative penalty imposed"))
        return pgettext("list separator", "; ").join(parts)


def build_results_document(district_dir: Path, plan_dir: Path, results_path: Path,
                           lang: str | None = None) -> PublicDocument:
    """Outcomes of the drawn visits in public wording; never an inspector; in `lang`
    (default: the current language)."""
    with language(lang):
        return _results_document(Path(district_dir), Path(plan_dir), Path(results_path))


def _results_document(district_dir: Path, plan_dir: Path, results_path: Path) -> PublicDocument:
    district = load_district(district_dir)
    plan, _draw = _read_plan(plan_dir)
    quarter = Quarter.parse(plan["quarter"])
    roster = read_csv_text(plan_dir / "roster.csv")
    results = read_results(results_path, roster, quarter)
    # the roster says whose visit it was (the results workbook repeats the enterprise: the roster's wins)
    results = results.drop(columns=[c for c in ("enterprise_id", "basis") if c in results.columns])
    merged = results.merge(roster[["visit_id", "enterprise_id", "basis"]], on="visit_id", how="left")
    merged = merged[merged["basis"] == "drawn"]
    if merged.empty:
        raise DistrictError([Problem(results_path.name, _("has no result for a drawn (spot-check) visit"))])
    ent = district.enterprises.set_index("enterprise_id")
    issuer = _issuer(district, quarter)
    found = pd.DataFrame({
        "credit_code": merged["enterprise_id"],
        "finding": [public_finding(h, m, p) for h, m, p in
                    zip(merged["hazards_found"], merged["major_hazards_found"], merged["penalized"])],
        "outcome": [value_label("outcome", o) if is_category(o) else o for o in merged["outcome"]],
    })
    # every drawn enterprise: those without a result yet are marked pending, never left out
    drawn_ids = sorted(_draw.loc[_draw["drawn"] == "yes", "enterprise_id"])
    pending = sorted(set(drawn_ids) - set(found["credit_code"]))
    found = pd.concat([found, pd.DataFrame({"credit_code": pending, "finding": "",
                                            "outcome": pgettext("outcome", "pending")})], ignore_index=True)
    out = found.assign(task_name=issuer.task, period=issuer.period,
                       subdistrict=found["credit_code"].map(ent["subdistrict"]),
                       name=found["credit_code"].map(ent["name"]))
    out = _public(out.sort_values(["subdistrict", "name", "credit_code"], kind="mergesort"), "results")
    intro = [_("Outcomes of this quarter's random spot checks.")]
    if pending:
        intro.append(ngettext("{count} drawn enterprise has not been checked yet: marked pending.",
                              "{count} drawn enterprises have not been checked yet: marked pending.",
                              len(pending)).format(count=len(pending)))
    sections = [Section(_("Results"), table=_labelled(out, "results"))]
    if issuer.contact:
        sections.append(Section(_("Contact"), text=issuer.contact))
    return PublicDocument(
        stem="spot_check_results",
        title=_("{quarter} double-random spot-check results (work safety)").format(quarter=quarter),
        subtitle=_subtitle(issuer), intro=intro, sections=sections,
        footer=_("This document contains no inspector personal data and no visit dates."), tables={"results": out},
        nowrap=_nowrap())


def render_html(doc: PublicDocument, lang: str | None = None) -> str:
    """The printable public page; its `lang` attribute names the language it is in."""
    with language(lang):
        return template_environment().get_template("public.html.j2").render(doc=doc, lang=html_lang())


def publish(district_dir: Path, plan_dir: Path, stage: str, out_dir: Path, lang: str | None = None,
            results_path: Path | None = None, force: bool = False,
            commitment_dir: Path | None = None) -> list[Path]:
    """Write the public files of `stage` (CSV per table, one .xlsx, one HTML page) in `lang`
    (default: the current language): headers, sheet names, tier names and the page's words.
    `commitment_dir`: the folder commit-seed wrote (commitment and reveal), checked against the
    plan's seed and carried by the manifest and the notice."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}")
    inputs = (district_dir, plan_dir, results_path)
    refuse_existing(out_dir, force, "folder", inputs=inputs)
    with language(lang):
        if stage == "plan":
            doc = build_plan_document(district_dir, plan_dir)
        else:
            if results_path is None:
                raise DistrictError([Problem("results.csv", _("the results stage needs a results file (--results)"))])
            doc = build_results_document(district_dir, plan_dir, results_path)
        out_dir = Path(out_dir)
        tables = {f"{name}.csv": frame_to_csv_bytes(_labelled(table, name)) for name, table in doc.tables.items()}
        manifest_text = None
        if doc.manifest is not None:
            carried = None
            if commitment_dir is not None:
                carried = commitment_for_plan(commitment_dir, doc.manifest["seed"], doc.manifest["quarter"])
            else:  # the plan made with `plan --commitment` carries it
                planned = json.loads((Path(plan_dir) / "plan.json").read_text(encoding="utf-8")).get("seed_commitment")
                if planned:
                    carried = checked_commitment(planned["commitment"], planned["reveal"], doc.manifest["seed"],
                                                 doc.manifest["quarter"])
            if carried is not None:
                doc.manifest["seed_commitment"] = carried
                doc.sections.insert(-1, _commitment_section(carried))
            # the files as published: verify-draw tells a file changed afterwards (a row, its order)
            doc.manifest["published_sha256"] = {n: hashlib.sha256(b).hexdigest() for n, b in sorted(tables.items())}
            manifest_text = json.dumps(doc.manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
            doc.fingerprint = manifest_fingerprint(manifest_text.encode("utf-8"))
        with atomic_output_dir(out_dir, force=force, inputs=inputs) as staging:
            for name, data in tables.items():
                (staging / name).write_bytes(data)
            (staging / f"{doc.stem}.xlsx").write_bytes(_workbook(doc))
            atomic_write_text(staging / f"{doc.stem}.html", render_html(doc))
            if manifest_text is not None:
                atomic_write_text(staging / MANIFEST, manifest_text)
            names = sorted(p.name for p in staging.iterdir())
    return [out_dir / n for n in names]


def manifest_fingerprint(data: bytes) -> str:
    """The fingerprint the notice prints: SHA-256 of draw_manifest.json's bytes (which hold the
    SHA-256 of each published table), so the issued notice pins every public file."""
    return hashlib.sha256(data).hexdigest()


def _commitment_section(carried: dict) -> Section:
    """The seed commitment and its reveal, as the notice states them."""
    c, r = carried["commitment"], carried["reveal"]
    pairs = [(_("commitment published on"), c["date"])]
    if c["kind"] == "hash":
        pairs += [(_("commitment (SHA-256 of quarter:seed:salt)"), c["sha256"]), (_("seed"), str(r["seed"])),
                  (_("salt"), r["salt"])]
        text = _("Before the draw the bureau published the SHA-256 fingerprint of the seed and a secret salt. "
                 "Anyone can compute SHA-256 of “{quarter}:{seed}:{salt}” and compare it with the commitment.").format(
            quarter=c["quarter"], seed=r["seed"], salt=r["salt"])
    else:
        pairs += [(_("public random value named in advance"), c["source"]), (_("its value"), r["value"]),
                  (_("seed"), str(r["seed"]))]
        text = _("Before the draw the bureau named a public random value that did not exist yet; the seed is the "
                 "first 15 hexadecimal digits of SHA-256 of “{quarter}:{source}:{value}”, read as a number.").format(
            quarter=c["quarter"], source=c["source"], value=r["value"])
    return Section(_("Seed committed before the draw"), text=text, pairs=pairs)


def _workbook(doc: PublicDocument) -> bytes:
    """The tables as one workbook, sheets and headers in the current language; the same
    document gives the same bytes."""
    return sheets_to_xlsx_bytes({sheet_name(name): _labelled(table, name) for name, table in doc.tables.items()})

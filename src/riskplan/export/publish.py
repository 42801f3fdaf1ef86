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
document model is rendered to CSV, .xlsx and a printable HTML page, in Chinese or English.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd

from riskplan import __version__
from riskplan.domain.calendar import Quarter
from riskplan.export.draw_inputs import frame_inputs
from riskplan.export.record import read_results
from riskplan.io import frame_to_csv_bytes, read_csv_text, sheets_to_xlsx_bytes
from riskplan.outputs import atomic_output_dir, atomic_write_text, refuse_existing, restore_interrupted
from riskplan.load.district import DistrictError, Problem, load_district

STAGES = ("plan", "results")
LANGUAGES = ("zh", "en")
MANIFEST = "draw_manifest.json"

#: The only columns a public table may have, by table.
PUBLIC_COLUMNS = {
    "drawn": ("subdistrict", "name", "credit_code", "tier", "check_items"),
    "quotas": ("tier", "subdistrict", "eligible", "sample_share", "drawn"),
    "sampling_frame": ("tier", "subdistrict", "enterprise_id"),
    # a risk-weighted draw also publishes each eligible enterprise's exact inclusion probability
    # (what the seed's draw needs, and the fairness promise itself); never the risk score behind it
    "sampling_frame_risk_weighted": ("tier", "subdistrict", "enterprise_id", "inclusion_probability"),
    "results": ("subdistrict", "name", "credit_code", "check_date", "finding", "outcome"),
}

#: Check items (检查事项) by the hazard that calls for them; "general" applies to everyone.
CHECK_ITEMS = {
    "general": ("安全生产主体责任落实、安全管理制度与教育培训",
                "safety responsibility, management rules and training"),
    "hazchem": ("危险化学品储存、使用和经营安全", "hazardous chemicals: storage, use and trade"),
    "major_hazard": ("重大危险源监测监控与管理", "major hazard installation monitoring and management"),
    "dust_explosion": ("粉尘防爆：除尘系统、清扫制度、防爆电气", "explosive dust: dust removal, cleaning, "
                                                                "explosion-proof equipment"),
    "molten_metal": ("高温熔融金属作业安全", "molten-metal operations"),
    "confined_space": ("有限空间作业审批与防护", "confined-space work permits and protection"),
}

TIER_ORDER = {"red": 0, "orange": 1, "yellow": 2, "blue": 3}
TIER_LABEL = {"zh": {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝"},
              "en": {"red": "red", "orange": "orange", "yellow": "yellow", "blue": "blue"}}

LABELS = {
    "zh": {
        "plan_title": "{quarter} 安全生产“双随机、一公开”抽查计划",
        "results_title": "{quarter} 安全生产“双随机、一公开”抽查结果",
        "subtitle": "由 riskplan {version} 生成",
        "plan_intro": ["本计划按照“双随机、一公开”要求，随机抽取检查对象，随机选派执法检查人员。"
                       "检查采取“四不两直”方式进行，不预先告知检查时间。",
                       "任何人均可根据下列抽样框、随机种子和算法复现本次抽取结果。"],
        "results_intro": ["以下为本季度随机抽查对象的检查结果。"],
        "items": "检查事项", "shares": "各风险等级抽查比例", "quotas": "各街道抽取数量",
        "drawn": "抽查对象名单", "reproduce": "抽取复现信息", "results": "检查结果",
        "frame": "抽样框（各等级、各街道的可抽取企业）",
        "frame_text": "完整抽样框见 sampling_frame.csv 或 Excel 文件的 sampling_frame 工作表。",
        "col": {"subdistrict": "街道/园区", "name": "企业名称", "credit_code": "统一社会信用代码",
                "tier": "风险等级", "check_items": "检查事项", "eligible": "可抽取企业数",
                "sample_share": "抽查比例", "drawn": "抽取数", "enterprise_id": "企业编号",
                "check_date": "检查日期", "finding": "检查发现", "outcome": "处理结果", "item": "事项",
                "inclusion_probability": "入选概率",
                "key": "项目", "value": "内容"},
        "seed": "随机种子", "method": "抽取方法", "floor": "最低入选概率", "cap": "最高入选概率",
        "power": "风险权重幂次（入选概率与风险概率的该次幂成正比）",
        "version": "软件版本",
        "quarter": "季度", "inputs": "输入文件 SHA-256", "algorithm": "算法",
        "algorithm_text": "riskplan 说明文档“The draw”一节（分层最大余数法配额，PCG64 随机数）",
        "algorithm_text_risk_weighted": "riskplan 说明文档“The draw”一节（分层最大余数法配额；各层按入选概率"
                                        "随机排序后系统抽样；PCG64 随机数）",
        "uniform": "分层等概率随机抽取", "risk_weighted": "按风险加权的分层随机抽取（设最低入选概率）",
        "no_hazard": "未发现安全隐患", "hazards": "发现安全隐患 {n} 项，已责令限期整改",
        "major": "其中重大事故隐患 {n} 项，将组织复查", "penalized": "已依法实施行政处罚",
        "footer": "本文件不含检查时间安排及执法人员信息。",
        "results_footer": "本文件不含执法人员个人信息。",
    },
    "en": {
        "plan_title": "{quarter} double-random spot-check plan (work safety)",
        "results_title": "{quarter} double-random spot-check results (work safety)",
        "subtitle": "generated by riskplan {version}",
        "plan_intro": ["Enterprises to check and the inspectors who go are both drawn at random. Visits are "
                       "unannounced: no visit date is published in advance.",
                       "Anyone can reproduce the draw from the sampling frame, the seed and the algorithm below."],
        "results_intro": ["Outcomes of this quarter's random spot checks."],
        "items": "Check items", "shares": "Sample share per risk tier", "quotas": "Number drawn per subdistrict",
        "drawn": "Enterprises drawn", "reproduce": "How to reproduce the draw", "results": "Results",
        "frame": "Sampling frame (eligible enterprises per tier and subdistrict)",
        "frame_text": "The full sampling frame is in sampling_frame.csv and the sampling_frame sheet of the "
                      "Excel file.",
        "col": {"subdistrict": "subdistrict", "name": "enterprise", "credit_code": "credit code",
                "tier": "risk tier", "check_items": "check items", "eligible": "eligible",
                "sample_share": "sample share", "drawn": "drawn", "enterprise_id": "enterprise id",
                "check_date": "check date", "finding": "finding", "outcome": "outcome", "item": "item",
                "inclusion_probability": "inclusion probability",
                "key": "item", "value": "value"},
        "seed": "seed", "method": "method", "floor": "minimum inclusion probability",
        "cap": "maximum inclusion probability", "version": "software version",
        "power": "weight power (chance proportional to the risk probability to this power)",
        "quarter": "quarter", "inputs": "input files, SHA-256", "algorithm": "algorithm",
        "algorithm_text": "riskplan README, section \"The draw\" (largest-remainder quotas per subdistrict, PCG64)",
        "algorithm_text_risk_weighted": "riskplan README, section \"The draw\" (largest-remainder quotas per "
                                        "subdistrict; systematic sampling with the published inclusion "
                                        "probabilities in a random order; PCG64)",
        "uniform": "stratified uniform random draw", "risk_weighted": "risk-weighted stratified draw with a floor",
        "no_hazard": "no hazard found", "hazards": "{n} hazard(s) found; rectification ordered by a deadline",
        "major": "{n} of them major; a re-inspection will follow",
        "penalized": "administrative penalty imposed",
        "footer": "This document contains no visit schedule and no inspector data.",
        "results_footer": "This document contains no inspector personal data.",
    },
}


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


def _public(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Keep exactly the public columns of `table`, in order."""
    return frame.loc[:, list(PUBLIC_COLUMNS[table])].reset_index(drop=True)


def _labelled(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    return frame.rename(columns=LABELS[lang]["col"])


def check_items_for(row: pd.Series, lang: str) -> str:
    i = 0 if lang == "zh" else 1
    keys = ["general"]
    keys += ["hazchem"] if row["hazchem"] != "none" else []
    keys += ["major_hazard"] if int(row["major_hazard_level"]) > 0 else []
    keys += [k for k in ("dust_explosion", "molten_metal", "confined_space") if int(row[k]) == 1]
    return "；".join(CHECK_ITEMS[k][i] for k in keys) if lang == "zh" else "; ".join(CHECK_ITEMS[k][i] for k in keys)


def _read_plan(plan_dir: Path) -> tuple[dict, pd.DataFrame]:
    restore_interrupted(plan_dir)  # a replace a crash cut short: put the old plan back first
    plan = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    draw = read_csv_text(plan_dir / "draw.csv")
    return plan, draw


def _shares(plan: dict) -> dict[str, float]:
    tiers = plan["policy"]["tiers"]
    return {t: float(r["sample_share"]) for t, r in tiers.items() if r.get("sample_share") is not None}


def build_plan_document(district_dir: Path, plan_dir: Path, lang: str = "zh") -> PublicDocument:
    """The spot-check plan; only drawn enterprises, no dates, no inspectors."""
    district = load_district(district_dir)
    plan, draw = _read_plan(Path(plan_dir))
    L = LABELS[lang]
    quarter = plan["quarter"]
    ent = district.enterprises.set_index("enterprise_id")
    drawn = draw[draw["drawn"] == "yes"].copy()
    drawn["credit_code"] = drawn["enterprise_id"]
    drawn["check_items"] = [check_items_for(ent.loc[e], lang) for e in drawn["enterprise_id"]]
    drawn["tier"] = drawn["tier"].map(TIER_LABEL[lang])
    drawn = _public(drawn.sort_values(["subdistrict", "name", "credit_code"]), "drawn")

    eligible = draw[draw["eligible"] == "yes"]
    shares = _shares(plan)
    quotas = (eligible.assign(is_drawn=eligible["drawn"] == "yes")
              .groupby(["tier", "subdistrict"], sort=True)
              .agg(eligible=("enterprise_id", "size"), drawn=("is_drawn", "sum")).reset_index())
    quotas["sample_share"] = quotas["tier"].map(shares)
    quotas = quotas.sort_values(["tier", "subdistrict"], key=lambda c: c.map(TIER_ORDER) if c.name == "tier" else c,
                                kind="mergesort")
    quotas["tier"] = quotas["tier"].map(TIER_LABEL[lang])
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
    items = pd.DataFrame({L["col"]["item"]: [v[0 if lang == "zh" else 1] for v in CHECK_ITEMS.values()]})
    share_table = pd.DataFrame({L["col"]["tier"]: [TIER_LABEL[lang][t] for t in shares],
                                L["col"]["sample_share"]: [f"{s:.0%}" if s * 100 == int(s * 100) else f"{s:.1%}"
                                                           for s in shares.values()]})
    pairs = [(L["quarter"], quarter), (L["seed"], str(plan["seed"])), (L["method"], L[method]),
             (L["algorithm"], L["algorithm_text_risk_weighted" if method == "risk_weighted" else "algorithm_text"]),
             (L["version"], manifest["riskplan_version"])]
    if method == "risk_weighted":
        pairs.insert(3, (L["floor"], str(manifest["min_inclusion"])))
        pairs.insert(4, (L["cap"], str(manifest["max_inclusion"])))
        pairs.insert(5, (L["power"], str(manifest["weight_power"])))
    pairs += [(f"{L['inputs']}: {name}", digest) for name, digest in sorted(manifest["input_sha256"].items())]
    sections = [
        Section(L["items"], table=items),
        Section(L["shares"], table=share_table),
        Section(L["quotas"], table=_labelled(quotas, lang)),
        Section(L["drawn"], table=_labelled(drawn, lang)),
        Section(L["reproduce"], pairs=pairs),
        Section(L["frame"], text=L["frame_text"]),
    ]
    return PublicDocument(
        stem="spot_check_plan", title=L["plan_title"].format(quarter=quarter),
        subtitle=L["subtitle"].format(version=manifest["riskplan_version"]), intro=L["plan_intro"],
        sections=sections, footer=L["footer"],
        tables={"drawn": drawn, "quotas": quotas, "sampling_frame": frame}, manifest=manifest)


def _with_inclusion_text(eligible: pd.DataFrame) -> pd.DataFrame:
    """The exact inclusion probability as decimal text (billionths, from draw.csv's
    inclusion_units), so the published number is exactly the one the draw used."""
    from riskplan.plan.draw import UNITS

    if "inclusion_units" not in eligible.columns:
        raise DistrictError([Problem("draw.csv", "a risk-weighted plan's draw.csv needs its inclusion_units "
                                                 "column", row=1, column="inclusion_units")])
    units = [int(u) for u in eligible["inclusion_units"]]
    return eligible.assign(inclusion_probability=[f"{u // UNITS}.{u % UNITS:09d}" for u in units])


def inclusion_text_units(text: str) -> int:
    """Published inclusion probability text -> exact billionths (ValueError if not exact)."""
    from decimal import Decimal, InvalidOperation

    from riskplan.plan.draw import UNITS

    try:
        d = Decimal(text) * UNITS
    except InvalidOperation:
        raise ValueError(f"'{text}' is not a number") from None
    if d != d.to_integral_value() or d < 0 or d > UNITS:
        raise ValueError(f"'{text}' is not a probability in billionths")
    return int(d)


def public_finding(hazards: int, major: int, penalized: int, lang: str) -> str:
    """Findings in the words a bureau publishes (major hazards are counted among all hazards)."""
    L = LABELS[lang]
    total = max(int(hazards), int(major))
    parts = [L["hazards"].format(n=total)] if total else [L["no_hazard"]]
    if major:
        parts.append(L["major"].format(n=int(major)))
    if penalized:
        parts.append(L["penalized"])
    return ("；" if lang == "zh" else "; ").join(parts)


def build_results_document(district_dir: Path, plan_dir: Path, results_path: Path,
                           lang: str = "zh") -> PublicDocument:
    """Outcomes of the drawn visits in public wording; never an inspector."""
    plan_dir = Path(plan_dir)
    district = load_district(district_dir)
    plan, _ = _read_plan(plan_dir)
    quarter = Quarter.parse(plan["quarter"])
    roster = read_csv_text(plan_dir / "roster.csv")
    results = read_results(Path(results_path), roster, quarter)
    L = LABELS[lang]
    merged = results.merge(roster[["visit_id", "enterprise_id", "basis"]], on="visit_id", how="left")
    merged = merged[merged["basis"] == "drawn"]
    if merged.empty:
        raise DistrictError([Problem(Path(results_path).name, "has no result for a drawn (spot-check) visit")])
    ent = district.enterprises.set_index("enterprise_id")
    out = pd.DataFrame({
        "subdistrict": merged["enterprise_id"].map(ent["subdistrict"]),
        "name": merged["enterprise_id"].map(ent["name"]),
        "credit_code": merged["enterprise_id"],
        "check_date": merged["date"].dt.strftime("%Y-%m-%d"),
        "finding": [public_finding(h, m, p, lang) for h, m, p in
                    zip(merged["hazards_found"], merged["major_hazards_found"], merged["penalized"])],
        "outcome": merged["outcome"],
    })
    out = _public(out.sort_values(["subdistrict", "name", "credit_code"]), "results")
    return PublicDocument(
        stem="spot_check_results", title=L["results_title"].format(quarter=quarter),
        subtitle=L["subtitle"].format(version=plan.get("riskplan_version", __version__)),
        intro=L["results_intro"], sections=[Section(L["results"], table=_labelled(out, lang))],
        footer=L["results_footer"], tables={"results": out})


def render_html(doc: PublicDocument, lang: str) -> str:
    env = jinja2.Environment(loader=jinja2.PackageLoader("riskplan", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             keep_trailing_newline=True)
    return env.get_template("public.html.j2").render(doc=doc, lang="zh-CN" if lang == "zh" else "en")


def publish(district_dir: Path, plan_dir: Path, stage: str, out_dir: Path, lang: str = "zh",
            results_path: Path | None = None, force: bool = False) -> list[Path]:
    """Write the public files of `stage` (CSV per table, one .xlsx, one HTML page)."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}")
    inputs = (district_dir, plan_dir, results_path)
    refuse_existing(out_dir, force, "folder", inputs=inputs)
    if stage == "plan":
        doc = build_plan_document(district_dir, plan_dir, lang)
    else:
        if results_path is None:
            raise DistrictError([Problem("results.csv", "the results stage needs a results file (--results)")])
        doc = build_results_document(district_dir, plan_dir, results_path, lang)
    out_dir = Path(out_dir)
    with atomic_output_dir(out_dir, force=force, inputs=inputs) as staging:
        for name, table in doc.tables.items():
            (staging / f"{name}.csv").write_bytes(frame_to_csv_bytes(table))
        (staging / f"{doc.stem}.xlsx").write_bytes(_workbook(doc))
        atomic_write_text(staging / f"{doc.stem}.html", render_html(doc, lang))
        if doc.manifest is not None:
            atomic_write_text(staging / MANIFEST, json.dumps(doc.manifest, ensure_ascii=False, indent=2,
                                                             sort_keys=True) + "\n")
        names = sorted(p.name for p in staging.iterdir())
    return [out_dir / n for n in names]


def _workbook(doc: PublicDocument) -> bytes:
    """The tables as one workbook; the same document gives the same bytes."""
    return sheets_to_xlsx_bytes(doc.tables)

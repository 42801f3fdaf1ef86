"""A one-file HTML report a bureau chief can read: tiers, the quarter's visits, load, shortfall.

Self-contained: the charts are PNGs embedded as data URIs, the styles inline, no script and
no network, so the file can be mailed, archived and opened anywhere.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jinja2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from riskplan import __version__  # noqa: E402
from riskplan.domain.calendar import Quarter, WorkCalendar, weekly_limits  # noqa: E402
from riskplan.domain.schema import TIERS  # noqa: E402
from riskplan.export.plan_files import fallback_notice  # noqa: E402
from riskplan.io import read_csv_text  # noqa: E402
from riskplan.load.district import load_district  # noqa: E402
from riskplan.outputs import atomic_write_text, refuse_existing, restore_interrupted  # noqa: E402

GENERATOR_TAG = b'<meta name="generator" content="riskplan">'  # in every report, so --force knows its own
TIER_COLOURS = {"red": "#d62728", "orange": "#ff7f0e", "yellow": "#e8c100", "blue": "#1f77b4"}

#: Fonts tried in order for each glyph, so Chinese subdistrict names render wherever a CJK
#: font is installed (e.g. Debian's fonts-noto-cjk or fonts-wqy-zenhei); DejaVu Sans last.
FONT_FALLBACK = ["DejaVu Sans", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
                 "Microsoft YaHei", "PingFang SC", "SimHei"]


def use_report_fonts() -> None:
    """Fonts that show Chinese, and labels shown as typed: a name holding `$` is text, not
    mathtext that can fail to parse and crash the chart."""
    import logging
    import warnings

    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    plt.rcParams["font.family"] = [f for f in FONT_FALLBACK if f in installed] or ["DejaVu Sans"]
    plt.rcParams["text.parse_math"] = False
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # absent fallbacks are expected
    warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)


@dataclass
class Figure:
    title: str
    png_base64: str
    caption: str = ""


def _png(fig) -> str:
    """A figure as base64 PNG (fonts are set before any figure is made, in `build_report`)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def tier_mix_figure(tiers: pd.DataFrame) -> Figure:
    mix = pd.crosstab(tiers["subdistrict"], tiers["tier"]).reindex(columns=[t.value for t in TIERS], fill_value=0)
    share = mix.div(mix.sum(axis=1), axis=0)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(share) + 1.2))
    left = np.zeros(len(share))
    for tier in share.columns:
        ax.barh(share.index, share[tier], left=left, color=TIER_COLOURS[tier], label=tier)
        left += share[tier].to_numpy()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of enterprises")
    ax.invert_yaxis()
    ax.legend(ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return Figure("Tier shares by subdistrict", _png(fig))


def map_figure(enterprises: pd.DataFrame, visited: set[str]) -> Figure:
    fig, ax = plt.subplots(figsize=(8, 7))
    for tier in reversed([t.value for t in TIERS]):
        sel = enterprises[enterprises["tier"] == tier]
        ax.scatter(sel["lon"], sel["lat"], s=6 if tier in ("blue", "yellow") else 14, c=TIER_COLOURS[tier],
                   alpha=0.6, linewidths=0, label=f"{tier} ({len(sel)})")
    vis = enterprises[enterprises["enterprise_id"].isin(visited)]
    ax.scatter(vis["lon"], vis["lat"], s=28, facecolors="none", edgecolors="black", linewidths=0.7,
               label=f"visited this quarter ({len(vis)})")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_aspect(1 / np.cos(np.deg2rad(enterprises["lat"].mean())))
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, markerscale=1.5, frameon=False)
    return Figure("Enterprises by tier, with this quarter's visits circled", _png(fig))


def calendar_figure(roster: pd.DataFrame, calendar: WorkCalendar) -> Figure:
    counts = roster["date"].value_counts()
    weeks = list(dict.fromkeys(d.isocalendar()[:2] for d in _all_days(calendar.quarter)))
    grid = np.full((7, len(weeks)), np.nan)
    for d in _all_days(calendar.quarter):
        col = weeks.index(d.isocalendar()[:2])
        grid[d.weekday(), col] = counts.get(d.isoformat(), 0) if calendar.is_working_day(d) else np.nan
    fig, ax = plt.subplots(figsize=(10, 3))
    im = ax.imshow(grid, cmap="YlOrRd", aspect="auto")
    ax.set_yticks(range(7), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    ax.set_xticks(range(len(weeks)), [f"W{w}" for _, w in weeks], fontsize=8)
    fig.colorbar(im, ax=ax, label="visits")
    return Figure("Visits per working day (blank: not a working day)", _png(fig))


def _all_days(quarter: Quarter) -> list[date]:
    return list(pd.date_range(quarter.start, quarter.end).date)


def load_figure(roster: pd.DataFrame, limits: dict[str, dict]) -> tuple[Figure, pd.DataFrame]:
    members = roster["inspectors"].str.split(";").explode()
    visits = members.value_counts()
    table = pd.DataFrame({"inspector_id": sorted(limits)})
    table["visits"] = table["inspector_id"].map(visits).fillna(0).astype(int)
    table["capacity"] = table["inspector_id"].map(lambda i: sum(limits[i].values())).astype(int)
    table["utilisation"] = np.where(table["capacity"] > 0, table["visits"] / table["capacity"].clip(lower=1), 0.0)
    table = table.sort_values(["utilisation", "inspector_id"], ascending=[False, True]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.bar(range(len(table)), table["capacity"], color="#dddddd", label="capacity this quarter")
    ax.bar(range(len(table)), table["visits"], color="#4c72b0", label="visits assigned")
    ax.set_xticks([])
    ax.set_xlabel(f"{len(table)} inspectors, busiest first")
    ax.set_ylabel("visits")
    ax.legend(frameon=False)
    return Figure("Inspector load against capacity", _png(fig)), table


def whatif_figure(whatif: pd.DataFrame) -> Figure | None:
    needed = {"inspectors", "tier", "mandatory_coverage"}
    if not needed <= set(whatif.columns):
        return None
    fig, ax = plt.subplots(figsize=(8, 4))
    for tier, sel in whatif.groupby("tier"):
        ax.plot(sel["inspectors"], sel["mandatory_coverage"], marker="o", color=TIER_COLOURS.get(tier), label=tier)
    ax.set_xlabel("certified inspectors")
    ax.set_ylabel("mandatory coverage")
    ax.set_ylim(0, 1.05)
    ax.legend(frameon=False)
    return Figure("What-if: mandatory coverage against staffing", _png(fig))


def build_report(district_dir: Path, plan_dir: Path, whatif_csv: Path | None = None) -> str:
    """The report's HTML text."""
    use_report_fonts()
    plan_dir = Path(plan_dir)
    restore_interrupted(plan_dir)  # a replace a crash cut short: put the old plan back first
    district = load_district(district_dir)
    plan = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    quarter = Quarter.parse(plan["quarter"])
    calendar = WorkCalendar.for_quarter(quarter, district.policy.roster)
    roster = read_csv_text(plan_dir / "roster.csv")
    tiers = read_csv_text(plan_dir / "tiers.csv")[["enterprise_id", "tier"]]
    ent = district.enterprises.merge(tiers, on="enterprise_id", how="left")
    shortfall_path = plan_dir / "shortfall.csv"
    shortfall = (read_csv_text(shortfall_path)
                 if shortfall_path.exists() else pd.DataFrame())
    limits = weekly_limits(district.inspectors[district.inspectors["certified"] == 1], district.leave,
                           calendar, district.policy.roster)
    load_fig, load_table = load_figure(roster, limits)
    figures = [tier_mix_figure(ent), map_figure(ent, set(roster["enterprise_id"])),
               calendar_figure(roster, calendar), load_fig]
    if whatif_csv is None and (plan_dir / "whatif.csv").exists():
        whatif_csv = plan_dir / "whatif.csv"
    if whatif_csv is not None:
        fig = whatif_figure(pd.read_csv(whatif_csv))
        if fig is not None:
            figures.append(fig)
    mix = (pd.crosstab(ent["subdistrict"], ent["tier"], margins=True, margins_name="total")
           .reindex(columns=[t.value for t in TIERS] + ["total"], fill_value=0))
    by_basis = (roster.groupby(["tier", "basis"]).size().unstack(fill_value=0)
                .reindex([t.value for t in TIERS]).dropna(how="all").fillna(0).astype(int))
    util = load_table["utilisation"]
    facts = [
        ("Quarter", str(quarter)), ("Seed", str(plan.get("seed"))),
        ("Enterprises", f"{len(ent):,}"), ("Visits placed", f"{len(roster):,}"),
        ("Solver status", str(plan.get("solver", {}).get("status", plan.get("status", "")))),
        ("Inspector utilisation", f"median {util.median():.0%}, max {util.max():.0%}" if len(util) else "-"),
        ("Generated by", f"riskplan {__version__}"),
    ]
    env = jinja2.Environment(loader=jinja2.PackageLoader("riskplan", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]))
    return env.get_template("report.html.j2").render(
        quarter=str(quarter), facts=facts, fallback=fallback_notice(plan), figures=figures, mix=mix, by_basis=by_basis,
        shortfall=shortfall, load=load_table.head(15))


def is_riskplan_report(path: Path) -> bool:
    """An HTML file riskplan's report wrote (its generator tag near the top)."""
    with open(path, "rb") as fh:
        return GENERATOR_TAG in fh.read(4096)


def write_report(district_dir: Path, plan_dir: Path, out_path: Path, whatif_csv: Path | None = None,
                 force: bool = False) -> Path:
    """Write the report to `out_path` atomically; an existing file is replaced only with `force`."""
    refuse_existing(out_path, force, "file", inputs=(district_dir, plan_dir, whatif_csv), suffixes=(".html", ".htm"),
                    own=is_riskplan_report)
    html = build_report(district_dir, plan_dir, whatif_csv)
    atomic_write_text(Path(out_path), html)
    return Path(out_path)

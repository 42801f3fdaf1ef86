"""A one-file HTML report a bureau chief can read: tiers, the quarter's visits, load, shortfall.

Self-contained: the charts are PNGs embedded as data URIs, the styles inline, no script and
no network, so the file can be mailed, archived and opened anywhere. Every word on it — the
headings, table headers, sentences and the charts' titles, axes and legends — comes from the
catalogs (Chinese by default, English with `--lang en`); tier names are 红/橙/黄/蓝, and
subdistrict and enterprise names appear as the data spells them, in a CJK font when one is
installed (`report_font`).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import json
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from riskplan import __version__  # noqa: E402
from riskplan.domain.calendar import Quarter, WorkCalendar, weekly_limits  # noqa: E402
from riskplan.domain.headers import display_header, value_label  # noqa: E402
from riskplan.domain.schema import TIERS  # noqa: E402
from riskplan.export.pages import html_lang, template_environment  # noqa: E402
from riskplan.export.plan_files import fallback_notice  # noqa: E402
from riskplan.i18n import N_, _, language, ngettext  # noqa: E402
from riskplan.io import read_csv_text  # noqa: E402
from riskplan.load.district import load_district  # noqa: E402
from riskplan.outputs import atomic_write_text, refuse_existing, restore_interrupted  # noqa: E402

GENERATOR_TAG = b'<meta name="generator" content="riskplan">'  # in every report, so --force knows its own
TIER_COLOURS = {"red": "#d62728", "orange": "#ff7f0e", "yellow": "#e8c100", "blue": "#1f77b4"}

#: Fonts that hold the Chinese glyphs (simplified first), in the order tried: Debian's
#: fonts-noto-cjk and fonts-wqy-*, Adobe's Source Han, and those Windows and macOS ship.
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti",
             "Noto Sans CJK TC", "Noto Sans CJK JP", "Source Han Sans CN", "Droid Sans Fallback", "AR PL UMing CN")
NO_CJK_FONT = N_("no Chinese font is installed, so Chinese names in the report's charts show as boxes; "
                 "install one (Debian/Ubuntu: apt-get install fonts-noto-cjk; Windows and macOS have one) "
                 "and write the report again")
#: Solver status words as the report shows them.
SOLVER_STATUS = {"OPTIMAL": N_("optimal"), "FEASIBLE": N_("feasible (not proven optimal)"),
                 "INTERRUPTED": N_("interrupted"), "TIME_LIMIT": N_("time limit reached"),
                 "NO_WEEK_PLAN": N_("no week plan found"), "INFEASIBLE": N_("infeasible")}
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
_warned_no_cjk = False


@functools.cache
def report_font() -> str | None:
    """The first installed CJK font of `CJK_FONTS`, as matplotlib's font manager knows it."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


@contextlib.contextmanager
def report_style():
    """The report's figures only: a CJK font (then DejaVu Sans for what it lacks), labels shown
    as typed (a name holding `$` is text, not mathtext that can fail to parse). Without a CJK
    font, one warning in the reader's language instead of one per missing glyph."""
    global _warned_no_cjk
    font = report_font()
    rc = {"font.family": ([font] if font else []) + ["DejaVu Sans"], "text.parse_math": False,
          "axes.unicode_minus": False}
    with plt.rc_context(rc), warnings.catch_warnings():
        if font is None:
            warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
            if not _warned_no_cjk:
                _warned_no_cjk = True
                warnings.warn(_(NO_CJK_FONT), UserWarning, stacklevel=3)
        yield font


def use_report_fonts() -> None:
    """The report's fonts for the whole process (what-if charts call this); the report itself
    sets them for its own figures only, with `report_style`."""
    font = report_font()
    plt.rcParams["font.family"] = ([font] if font else []) + ["DejaVu Sans"]
    plt.rcParams["text.parse_math"] = False
    plt.rcParams["axes.unicode_minus"] = False


@dataclass
class Figure:
    title: str
    png_base64: str
    caption: str = ""


def _png(fig) -> str:
    """A figure as base64 PNG (made inside `report_style`)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def tier_name(tier: str) -> str:
    return value_label("tier", tier)


def tier_mix_figure(tiers: pd.DataFrame) -> Figure:
    mix = pd.crosstab(tiers["subdistrict"], tiers["tier"]).reindex(columns=[t.value for t in TIERS], fill_value=0)
    share = mix.div(mix.sum(axis=1), axis=0)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(share) + 1.2))
    left = np.zeros(len(share))
    for tier in share.columns:
        ax.barh(share.index, share[tier], left=left, color=TIER_COLOURS[tier], label=tier_name(tier))
        left += share[tier].to_numpy()
    ax.set_xlim(0, 1)
    ax.set_xlabel(_("share of enterprises"))
    ax.invert_yaxis()
    ax.legend(ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return Figure(_("Tier shares by subdistrict"), _png(fig))


def map_figure(enterprises: pd.DataFrame, visited: set[str]) -> Figure:
    fig, ax = plt.subplots(figsize=(8, 7))
    for tier in reversed([t.value for t in TIERS]):
        sel = enterprises[enterprises["tier"] == tier]
        ax.scatter(sel["lon"], sel["lat"], s=6 if tier in ("blue", "yellow") else 14, c=TIER_COLOURS[tier],
                   alpha=0.6, linewidths=0,
                   label=ngettext("{tier}: {count} enterprise", "{tier}: {count} enterprises", len(sel)).format(
                       tier=tier_name(tier), count=len(sel)))
    _subdistrict_outlines(ax, enterprises)
    vis = enterprises[enterprises["enterprise_id"].isin(visited)]
    ax.scatter(vis["lon"], vis["lat"], s=28, facecolors="none", edgecolors="black", linewidths=0.7,
               label=_("visited this quarter ({count})").format(count=len(vis)))
    ax.set_xlabel(_("longitude"))
    ax.set_ylabel(_("latitude"))
    ax.set_aspect(1 / np.cos(np.deg2rad(enterprises["lat"].mean())))
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, markerscale=1.5, frameon=False)
    return Figure(_("Enterprises by tier, with this quarter's visits circled"), _png(fig))


def _subdistrict_outlines(ax, enterprises: pd.DataFrame) -> None:
    """Each subdistrict as the convex hull of its enterprises, labelled at its centre, so the map
    reads by area (the data has no boundaries; the hull is the area its enterprises span)."""
    from scipy.spatial import ConvexHull, QhullError

    for name, sel in enterprises.dropna(subset=["lat", "lon"]).groupby("subdistrict"):
        points = sel[["lon", "lat"]].to_numpy(dtype=float)
        if len(points) >= 3:
            try:
                hull = points[ConvexHull(points).vertices]
            except QhullError:  # all on one line
                hull = None
            if hull is not None:
                ax.fill(hull[:, 0], hull[:, 1], facecolor="none", edgecolor="#555555", linewidth=0.8,
                        linestyle="--")
        cx, cy = np.median(points[:, 0]), np.median(points[:, 1])
        ax.annotate(str(name), (cx, cy), ha="center", va="center", fontsize=9, color="#111111",
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.75, "linewidth": 0})


def _short_date(day: date) -> str:
    """A date on a chart axis: 1月4日 / 4 Jan (not an ISO week number)."""
    return f"{day.month}月{day.day}日" if html_lang() == "zh-CN" else f"{day.day} {day.strftime('%b')}"


def calendar_figure(roster: pd.DataFrame, calendar: WorkCalendar) -> Figure:
    counts = roster["date"].value_counts()
    weeks = list(dict.fromkeys(d.isocalendar()[:2] for d in _all_days(calendar.quarter)))
    grid = np.full((7, len(weeks)), np.nan)
    for d in _all_days(calendar.quarter):
        col = weeks.index(d.isocalendar()[:2])
        grid[d.weekday(), col] = counts.get(d.isoformat(), 0) if calendar.is_working_day(d) else np.nan
    fig, ax = plt.subplots(figsize=(10, 3))
    im = ax.imshow(grid, cmap="YlOrRd", aspect="auto")
    ax.set_yticks(range(7), [_(day) for day in WEEKDAYS])
    mondays = [date.fromisocalendar(y, w, 1) for y, w in weeks]
    ax.set_xticks(range(len(weeks)), [_short_date(m) for m in mondays], fontsize=8)
    ax.set_xlabel(_("week beginning (Monday)"))
    fig.colorbar(im, ax=ax, label=_("visits"))
    return Figure(_("Visits per working day (blank: not a working day)"), _png(fig))


def _all_days(quarter: Quarter) -> list[date]:
    return list(pd.date_range(quarter.start, quarter.end).date)


def load_table(roster: pd.DataFrame, limits: dict[str, dict], names: dict[str, str] | None = None) -> pd.DataFrame:
    """Visits and capacity per certified inspector, busiest first (columns in English); the
    inspector column holds names when `names` is given (ids only for a name that is missing)."""
    members = roster["inspectors"].str.split(";").explode()
    visits = members.value_counts()
    table = pd.DataFrame({"inspector_id": sorted(limits)})
    table["visits"] = table["inspector_id"].map(visits).fillna(0).astype(int)
    table["capacity"] = table["inspector_id"].map(lambda i: sum(limits[i].values())).astype(int)
    table["utilisation"] = np.where(table["capacity"] > 0, table["visits"] / table["capacity"].clip(lower=1), 0.0)
    table = table.sort_values(["utilisation", "inspector_id"], ascending=[False, True]).reset_index(drop=True)
    if names:
        table["inspector_id"] = [names.get(i, i) for i in table["inspector_id"]]
    return table


def load_figure(table: pd.DataFrame) -> Figure:
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.bar(range(len(table)), table["capacity"], color="#dddddd", label=_("capacity this quarter"))
    ax.bar(range(len(table)), table["visits"], color="#4c72b0", label=_("visits assigned"))
    if len(table) <= 80:  # names readable on the axis
        ax.set_xticks(range(len(table)), list(table["inspector_id"]), rotation=90, fontsize=6)
    else:
        ax.set_xticks([])
    ax.set_xlabel(ngettext("{count} inspector, busiest first", "{count} inspectors, busiest first",
                           len(table)).format(count=len(table)))
    ax.set_ylabel(_("visits"))
    ax.legend(frameon=False)
    return Figure(_("Inspector load against capacity"), _png(fig))


def whatif_figure(whatif: pd.DataFrame) -> Figure | None:
    needed = {"inspectors", "tier", "mandatory_coverage"}
    if not needed <= set(whatif.columns):
        return None
    fig, ax = plt.subplots(figsize=(8, 4))
    for tier, sel in whatif.groupby("tier"):
        ax.plot(sel["inspectors"], sel["mandatory_coverage"], marker="o", color=TIER_COLOURS.get(tier),
                label=tier_name(tier))
    ax.set_xlabel(_("certified inspectors"))
    ax.set_ylabel(_("mandatory coverage"))
    ax.set_ylim(0, 1.05)
    ax.legend(frameon=False)
    return Figure(_("What-if: mandatory coverage against staffing"), _png(fig))


def _tables(ent: pd.DataFrame, roster: pd.DataFrame, shortfall: pd.DataFrame,
            load: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The report's tables with headers and coded values in the reader's language; names as in the data."""
    tiers = [t.value for t in TIERS]
    total = _("total")
    mix = (pd.crosstab(ent["subdistrict"], ent["tier"], margins=True, margins_name="\0total")
           .reindex(columns=tiers + ["\0total"], fill_value=0))
    mix = mix.rename(index={"\0total": total}, columns={"\0total": total, **{t: tier_name(t) for t in tiers}})
    mix.index.name, mix.columns.name = display_header("enterprises", "subdistrict"), None
    by_basis = (roster.groupby(["tier", "basis"]).size().unstack(fill_value=0)
                .reindex(tiers).dropna(how="all").fillna(0).astype(int))
    by_basis = by_basis.rename(index=tier_name, columns=lambda b: value_label("basis", b))
    by_basis.index.name, by_basis.columns.name = display_header("roster", "tier"), None
    shortfall = shortfall.copy()
    for column, values in (("tier", "tier"), ("rule", "rule"), ("reason", "shortfall_reason")):
        if column in shortfall.columns:
            shortfall[column] = [value_label(values, v) if v else v for v in shortfall[column]]
    shortfall.columns = [display_header("shortfall", c) for c in shortfall.columns]
    busiest = load.head(15).assign(utilisation=[f"{u:.0%}" for u in load["utilisation"].head(15)])
    busiest.columns = [_("inspector"), _("visits"), _("capacity"), _("utilisation")]
    return {"mix": mix, "by_basis": by_basis, "shortfall": shortfall, "load": busiest}


def _facts(plan: dict, quarter: Quarter, ent: pd.DataFrame, roster: pd.DataFrame,
           load: pd.DataFrame) -> list[tuple[str, str]]:
    status = str(plan.get("solver", {}).get("status", plan.get("status", "")))
    util = load["utilisation"]
    return [
        (_("Quarter"), str(quarter)), (_("Seed"), str(plan.get("seed"))),
        (_("Enterprises"), f"{len(ent):,}"), (_("Visits placed"), f"{len(roster):,}"),
        (_("Solver status"), _(SOLVER_STATUS[status]) if status in SOLVER_STATUS else status),
        (_("Inspector utilisation"),
         _("median {median}, max {max}").format(median=f"{util.median():.0%}", max=f"{util.max():.0%}")
         if len(util) else "-"),
        (_("Generated by"), f"riskplan {__version__}"),
    ]


def headline(plan: dict) -> str:
    """The sentence the chief reads first: mandatory coverage, the shortfall, the decision it asks for."""
    counts = plan.get("counts", {})
    requested = counts.get("requested_by_basis", {})
    placed = counts.get("placed_by_basis", {})
    needed = sum(v for k, v in requested.items() if k != "drawn")
    done = sum(v for k, v in placed.items() if k != "drawn")
    missing = int((plan.get("shortfall") or {}).get("missing_total", needed - done))
    share = f"{done / needed:.1%}" if needed else "100%"
    drawn = _("{placed} of {drawn} drawn spot checks placed").format(placed=placed.get("drawn", 0),
                                                                    drawn=requested.get("drawn", 0))
    if missing <= 0:
        return _("Every required visit this quarter is placed ({done} of {needed}, {share}); {drawn}. No decision is "
                 "needed.").format(done=done, needed=needed, share=share, drawn=drawn)
    return ngettext("{done} of {needed} required visits placed ({share}): {missing} cannot be placed with the present "
                    "staff; {drawn}. Decision needed: add inspectors or qualifications as the shortfall table "
                    "suggests, or accept the shortfall.",
                    "{done} of {needed} required visits placed ({share}): {missing} cannot be placed with the present "
                    "staff; {drawn}. Decision needed: add inspectors or qualifications as the shortfall table "
                    "suggests, or accept the shortfall.", missing).format(
        done=done, needed=needed, share=share, missing=missing, drawn=drawn)


def changes(plan: dict, previous: dict) -> list[tuple[str, str, str, str]]:
    """(what, last quarter, this quarter, change) for the figures a chief compares."""
    def figures(p: dict) -> dict[str, int]:
        c = p.get("counts", {})
        out = {_("visits placed"): int(c.get("placed", 0)),
               _("spot checks drawn"): int(c.get("requested_by_basis", {}).get("drawn", 0)),
               _("required visits not placed"): int((p.get("shortfall") or {}).get("missing_total", 0))}
        for tier, n in (c.get("placed_by_tier") or {}).items():
            out[_("visits to {tier} enterprises").format(tier=tier_name(tier))] = int(n)
        return out

    now, before = figures(plan), figures(previous)
    return [(k, str(before.get(k, 0)), str(now[k]), f"{now[k] - before.get(k, 0):+d}") for k in now]


def build_report(district_dir: Path, plan_dir: Path, whatif_csv: Path | None = None,
                 lang: str | None = None, previous_dir: Path | None = None) -> str:
    """The report's HTML text, in `lang` (default: the current language); with `previous_dir`
    (last quarter's plan folder) a table of what changed."""
    with language(lang), report_style():
        return _build_report(Path(district_dir), Path(plan_dir), whatif_csv, previous_dir)


def _build_report(district_dir: Path, plan_dir: Path, whatif_csv: Path | None,
                  previous_dir: Path | None = None) -> str:
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
    load = load_table(roster, limits, dict(zip(district.inspectors["inspector_id"], district.inspectors["name"])))
    figures = [tier_mix_figure(ent), map_figure(ent, set(roster["enterprise_id"])),
               calendar_figure(roster, calendar), load_figure(load)]
    if whatif_csv is None and (plan_dir / "whatif.csv").exists():
        whatif_csv = plan_dir / "whatif.csv"
    if whatif_csv is not None:
        fig = whatif_figure(pd.read_csv(whatif_csv))
        if fig is not None:
            figures.append(fig)
    previous = None
    if previous_dir is not None:
        last = json.loads((Path(previous_dir) / "plan.json").read_text(encoding="utf-8"))
        previous = {"quarter": last.get("quarter"), "rows": changes(plan, last)}
    return template_environment().get_template("report.html.j2").render(
        lang=html_lang(), quarter=str(quarter), facts=_facts(plan, quarter, ent, roster, load),
        headline=headline(plan), previous=previous, unrecorded=unrecorded_notice(plan),
        fallback=fallback_notice(plan), figures=figures, **_tables(ent, roster, shortfall, load))


def unrecorded_notice(plan: dict) -> str | None:
    """The visits of the previous plan this plan counted as done without a result (`plan
    --previous`), said plainly, with their ids; None when there are none."""
    listed = (plan.get("previous_plan") or {}).get("planned_not_recorded") or []
    if not listed:
        return None
    ids = [str(v.get("visit_id", "")) for v in listed]
    return ngettext("{count} visit of the previous plan {plan} ({quarter}) had no recorded result when this plan "
                    "was made and is counted as done on its planned date (planned, not recorded): {ids}. Record "
                    "its result and plan again if it did not happen as planned.",
                    "{count} visits of the previous plan {plan} ({quarter}) had no recorded result when this plan "
                    "was made and are counted as done on their planned dates (planned, not recorded): {ids}. Record "
                    "their results and plan again if they did not happen as planned.", len(ids)).format(
        count=len(ids), plan=plan["previous_plan"].get("plan_id", ""), quarter=plan["previous_plan"].get("quarter", ""),
        ids=", ".join(ids))


def is_riskplan_report(path: Path) -> bool:
    """An HTML file riskplan's report wrote (its generator tag near the top)."""
    with open(path, "rb") as fh:
        return GENERATOR_TAG in fh.read(4096)


def write_report(district_dir: Path, plan_dir: Path, out_path: Path, whatif_csv: Path | None = None,
                 force: bool = False, lang: str | None = None, previous_dir: Path | None = None) -> Path:
    """Write the report to `out_path` atomically, in `lang` (default: the current language); an
    existing file is replaced only with `force`."""
    refuse_existing(out_path, force, "file", inputs=(district_dir, plan_dir, whatif_csv), suffixes=(".html", ".htm"),
                    own=is_riskplan_report)
    html = build_report(district_dir, plan_dir, whatif_csv, lang, previous_dir)
    atomic_write_text(Path(out_path), html)
    return Path(out_path)

"""The province summary a provincial chief reads: one row per district and the province total,
as a workbook, a self-contained HTML page and a chart (PNG), Chinese by default.

Per district: its state (and why, for a failure), enterprises by tier, visits requested and
placed, mandatory coverage (mandatory, follow-up and pinned visits placed / requested), drawn
visits, the visits missing by rule, utilisation (inspector-visits placed / the certified
inspectors' weekly limits over the quarter). The total row adds up the districts that
finished; its coverage and utilisation are the province's ratios, not averages of ratios.
With a what-if (`riskplan province --whatif`): the certified inspectors, the staffing levels
tried, the smallest staffing meeting the whole policy (empty when no level did; the total is
the sum only when every district has one) and what one more qualified inspector adds
(mandatory visits, all visits).
The files hold no wall times, so the same province run gives the same bytes."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pandas as pd

from riskplan.domain.headers import display_headers, value_label
from riskplan.i18n import _, get_language
from riskplan.io import sheets_to_xlsx_bytes
from riskplan.outputs import atomic_write_bytes, atomic_write_text

from .task import FINISHED, SHORTFALL_RULES

STEM = "province_summary"
TABLE = "province_summary"
COUNT_COLUMNS = (
    "enterprises_red", "enterprises_orange", "enterprises_yellow", "enterprises_blue", "enterprises",
    "visits_requested", "visits_placed", "mandatory_requested", "mandatory_placed", "drawn_requested",
    "drawn_placed", *(f"missing_{r}" for r in SHORTFALL_RULES), "missing_total", "inspector_visits", "capacity")
COLUMNS = ("district", "seed", "state", "reason", *COUNT_COLUMNS[:9], "mandatory_coverage", *COUNT_COLUMNS[9:],
           "utilisation", "solver_status")
WHATIF_COLUMNS = ("certified_inspectors", "whatif_levels", "minimal_staffing", "extra_inspector_mandatory",
                  "extra_inspector_visits")
_WHATIF_COUNTS = ("certified_inspectors", "minimal_staffing", "extra_inspector_mandatory", "extra_inspector_visits")


def summary_frame(manifest: dict[str, Any], order: list[str]) -> pd.DataFrame:
    """Rows by district in `order`, then the province total; columns `COLUMNS` (codes), and
    `WHATIF_COLUMNS` when the run had a what-if."""
    whatif = "whatif" in manifest.get("options", {})
    columns = list(COLUMNS) + (list(WHATIF_COLUMNS) if whatif else [])
    rows = []
    for name in order:
        rec = manifest["districts"][name]
        figures = rec.get("figures") or {}
        row: dict[str, Any] = {"district": name, "seed": rec["seed"], "state": rec["state"],
                               "reason": rec.get("reason", "")}
        for col in COUNT_COLUMNS:
            row[col] = figures.get(col) if figures else None
        row["mandatory_coverage"] = figures.get("mandatory_coverage") if figures else None
        row["utilisation"] = figures.get("utilisation") if figures else None
        row["solver_status"] = figures.get("solver_status", "")
        for col in WHATIF_COLUMNS if whatif else ():
            row[col] = figures.get(col)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=columns)
    done = frame[frame["state"].isin(FINISHED)]
    total: dict[str, Any] = {"district": _("province total"), "seed": None,
                             "state": _("{finished} of {total} districts finished").format(
                                 finished=len(done), total=len(frame)), "reason": "", "solver_status": ""}
    for col in COUNT_COLUMNS:
        total[col] = int(pd.to_numeric(done[col]).sum()) if len(done) else 0
    total["mandatory_coverage"] = (round(total["mandatory_placed"] / total["mandatory_requested"], 4)
                                   if total["mandatory_requested"] else 1.0)
    total["utilisation"] = round(total["inspector_visits"] / total["capacity"], 4) if total["capacity"] else 0.0
    if whatif:
        for col in _WHATIF_COUNTS:
            values = pd.to_numeric(done[col])
            total[col] = int(values.sum()) if len(done) and values.notna().all() else None
        total["whatif_levels"] = ""
    frame = pd.concat([frame, pd.DataFrame([total], columns=columns)], ignore_index=True)
    for col in (*COUNT_COLUMNS, "seed", *(_WHATIF_COUNTS if whatif else ())):
        frame[col] = frame[col].astype("Int64")
    return frame


def labelled(frame: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """The summary as people read it: headers and district states in the language."""
    lang = lang or get_language()
    out = frame.copy()
    out["state"] = [value_label("district_state", s, lang) for s in out["state"]]
    out.columns = display_headers(TABLE, frame.columns, lang)
    return out


def chart_png(frame: pd.DataFrame) -> bytes:
    """Two panels per district: mandatory coverage (%), and visits placed and missing."""
    import matplotlib

    matplotlib.use("Agg")

    from riskplan.export.report import report_style

    with report_style():  # the report's CJK font, one warning when there is none
        return _chart_png(frame)


def _chart_png(frame: pd.DataFrame) -> bytes:
    import matplotlib.pyplot as plt

    rows = frame.iloc[:-1]
    names = list(rows["district"])[::-1]
    y = range(len(names))
    ok = rows["state"].isin(FINISHED).to_numpy()[::-1]
    coverage = (pd.to_numeric(rows["mandatory_coverage"]).fillna(0) * 100).to_numpy()[::-1]
    placed = pd.to_numeric(rows["visits_placed"]).fillna(0).to_numpy()[::-1]
    missing = pd.to_numeric(rows["missing_total"]).fillna(0).to_numpy()[::-1]
    whatif = "minimal_staffing" in rows.columns
    fig, axes = plt.subplots(1, 3 if whatif else 2, figsize=(16 if whatif else 11, 0.32 * len(names) + 1.6),
                             sharey=True)
    left, right = axes[0], axes[1]
    colours = ["#2ca02c" if c >= 100 else "#ff7f0e" for c in coverage]
    left.barh(list(y), coverage, color=colours)
    for i, (good, value) in enumerate(zip(ok, coverage)):
        if good:
            left.text(min(value, 100) - 1, i, f"{value:.0f}%", va="center", ha="right", fontsize=7, color="white")
        else:
            for ax in axes:
                ax.text(0.01, i, _("failed"), va="center", fontsize=8, color="#d62728",
                        transform=ax.get_yaxis_transform())
    left.set_xlim(0, 105)
    left.set_yticks(list(y), names, fontsize=8)
    left.set_title(_("Mandatory coverage (%)"), fontsize=10)
    right.barh(list(y), placed, color="#1f77b4", label=_("visits placed"))
    right.barh(list(y), missing, left=placed, color="#d62728", label=_("visits missing"))
    right.set_title(_("Visits placed and missing"), fontsize=10)
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 if len(names) > 4 else -0.25), ncol=2,
                 fontsize=8, frameon=False)
    if whatif:
        _staffing_panel(axes[2], rows, list(y), len(names))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _staffing_panel(ax, rows: pd.DataFrame, y: list[int], n: int) -> None:
    """--whatif: certified inspectors now (bars) and the smallest staffing meeting the policy (marks)."""
    now = pd.to_numeric(rows["certified_inspectors"]).to_numpy(dtype=float, na_value=0)[::-1]
    least = pd.to_numeric(rows["minimal_staffing"]).to_numpy(dtype=float, na_value=float("nan"))[::-1]
    ax.barh(y, now, color="#9ecae1", label=_("certified inspectors now"))
    ax.scatter(least, y, marker="D", color="#08519c", zorder=3, label=_("smallest staffing meeting the policy"))
    ax.set_title(_("Staffing (what-if)"), fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 if n > 4 else -0.25), ncol=1, fontsize=8,
              frameon=False)


_PAGE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head><meta charset="utf-8"><meta name="generator" content="riskplan">
<title>{{ title }}</title>
<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}td:first-child,th{text-align:left}
tr.total{font-weight:bold;background:#eef}tr.failed td{background:#fee}</style></head>
<body>
<h1>{{ title }}</h1>
<p>{{ intro }}</p>
<img src="data:image/png;base64,{{ chart }}" alt="{{ chart_alt }}" style="max-width:100%">
<table>
<tr>{% for h in headers %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in rows %}<tr class="{{ row.css }}">{% for cell in row.cells %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table>
</body></html>
"""


def _cell(value: Any, column: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    if column in ("mandatory_coverage", "utilisation"):
        return f"{float(value) * 100:.1f}%"
    return str(value)


def summary_html(frame: pd.DataFrame, manifest: dict[str, Any], png: bytes) -> str:
    import jinja2

    lang = get_language()
    shown = labelled(frame, lang)
    rows = []
    for i, (code_row, row) in enumerate(zip(frame.to_dict("records"), shown.itertuples(index=False))):
        total = i == len(frame) - 1
        css = "total" if total else "" if code_row["state"] in FINISHED else "failed"
        rows.append({"css": css, "cells": [_cell(v, c) for v, c in zip(row, frame.columns)]})
    title = _("Province summary, {quarter}").format(quarter=manifest["quarter"])
    intro = _("Province seed {seed}. District seed: {rule} (every seed is recorded in province.json).").format(
        seed=manifest["province_seed"], rule=_(manifest["seed_rule"]))
    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True)
    return env.from_string(_PAGE).render(lang="zh-CN" if lang == "zh" else "en", title=title, intro=intro,
                                         chart=base64.b64encode(png).decode("ascii"),
                                         chart_alt=_("Mandatory coverage and visits by district"),
                                         headers=list(shown.columns), rows=rows)


def write_summary(out: Path, manifest: dict[str, Any], order: list[str]) -> list[Path]:
    """Write the three summary files into OUT (each atomically) and return their paths."""
    frame = summary_frame(manifest, order)
    png = chart_png(frame)
    paths = [out / f"{STEM}.xlsx", out / f"{STEM}.html", out / f"{STEM}.png"]
    atomic_write_bytes(paths[0], sheets_to_xlsx_bytes({_("summary"): labelled(frame)}))
    atomic_write_text(paths[1], summary_html(frame, manifest, png))
    atomic_write_bytes(paths[2], png)
    return paths

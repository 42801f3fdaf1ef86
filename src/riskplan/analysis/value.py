"""The measured targeting value of a roster: how many future serious-risk events its visits reach.

On a district with a known truth (`truth.csv`, `p_event_12m`: the probability of a serious
event in the next 12 months, written by `riskplan synth`), a quarter's visits are worth the
expected number of visited enterprises that will have an event: Σ p_event_12m over the visited
enterprises. Counted two ways: the drawn (spot-check) visits alone, where the draw method is
the only difference, and all visits (mandatory obligations + drawn), what the bureau gets.

Designs compared, each over the same seeds (default 50):
- `uniform`:       the model's tiers, stratified uniform draw (what the rules name);
- `risk_weighted`: the model's tiers, the risk-weighted draw on the model's calibrated
                   probability, under the policy's floor and cap;
- `ceiling`:       the model's tiers and quotas, the risk-weighted draw on a score fitted to the
                   TRUE probability from the model's own features (out of fold: no enterprise's
                   score saw its own truth): the best a score computed from the district's
                   records can be expected to do; the gap from `risk_weighted` to `ceiling` is
                   the model's, the gap from `ceiling` to `oracle` is what the records cannot tell;
- `oracle`:        the model's tiers and quotas, the risk-weighted draw on the TRUE probability,
                   same floor and cap: the best any score could do with this design;
- `baseline`:      the 100-point rule-baseline tiers (riskplan.score.baseline), uniform draw; its
                   mandatory set and quotas differ, so compare it on all visits and per visit.

Per design and seed the value is the realised roster's Σ p over its visited enterprises; the
table gives the mean over seeds, a 90% interval of the seeds (5th–95th percentile), and the
design's exact expectation Σ π_i p_i (π the stated inclusion probabilities). "Visited" is the
plan's requested visits (obligations and the drawn list), before the solver: under a capacity
shortfall some may stay unplaced, alike for every design. The seeds' quotas differ only by the
remainder tie-break.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from riskplan.domain.calendar import Quarter
from riskplan.domain.headers import display_headers, value_label
from riskplan.domain.schema import TIERS
from riskplan.i18n import N_, _, language
from riskplan.load.district import District, load_district
from riskplan.plan.draw import draw_spot_checks
from riskplan.plan.obligations import find_obligations

DESIGNS = ("uniform", "risk_weighted", "ceiling", "oracle", "baseline")
#: Chart labels (translated where shown): the baseline draws from its own tiers (a different,
#: riskier yellow pool), so its drawn-visit bar is not comparable with the others'.
LABELS = {"uniform": N_("uniform"), "risk_weighted": N_("risk-weighted"), "ceiling": N_("ceiling\n(truth fit)"),
          "oracle": N_("oracle\n(true risk)"), "baseline": N_("rule baseline\n(its own tiers)")}
#: Folds of the out-of-fold truth fit behind the `ceiling` design.
CEILING_FOLDS = 5
RUN_COLUMNS = ("design", "seed", "drawn_visits", "drawn_events", "drawn_expected", "all_visits", "all_events",
               "min_inclusion_seen", "max_inclusion_seen", "at_floor")
SUMMARY_COLUMNS = ("design", "seeds", "drawn_visits", "drawn_events", "drawn_lo", "drawn_hi", "drawn_expected",
                   "drawn_per_100", "drawn_ratio_to_uniform", "all_visits", "all_events", "all_lo", "all_hi",
                   "all_per_100", "all_ratio_to_uniform", "min_inclusion_seen", "max_inclusion_seen", "at_floor")
VALUE_FILES = ("value.csv", "value_runs.csv", "value.json", "value.png")
DEFAULT_SEEDS = 50


def default_quarter(district: District) -> Quarter:
    """The first quarter starting on or after the day after the history ends ('next quarter')."""
    from riskplan.score.features import default_as_of

    day = default_as_of(district)
    q = Quarter(day.year, (day.month - 1) // 3 + 1)
    return q if q.start == day else q.next()


@dataclass
class DesignInputs:
    """What one design draws from: tiers (with a probability column for a weighted draw), the
    enterprises its obligations make mandatory, the method and the scores override."""

    tiers: pd.DataFrame
    mandatory: frozenset[str]
    obligations: list
    method: str
    scores: dict[str, float] | None = None


@dataclass
class ValueResult:
    """summary: one row per design (SUMMARY_COLUMNS); runs: one row per design and seed
    (RUN_COLUMNS); info: quarter, seeds, floor and cap, the done-when figures."""

    summary: pd.DataFrame
    runs: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)


def ceiling_scores(district: District, quarter: Quarter, truth: pd.Series, folds: int = CEILING_FOLDS,
                   seed: int = 0) -> pd.Series:
    """Out-of-fold fit of the true probability on the model's features as of the quarter's start.

    A gradient-boosted regression of log p_event_12m, trained on the other folds' truth: a score
    no real model can beat on average from the same records (a real one learns from rare events,
    not from the truth), so it tells a weak model from uninformative records."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.model_selection import KFold
    from threadpoolctl import threadpool_limits

    from riskplan.score.features import CATEGORICAL, build_features

    X = build_features(district, quarter.start)
    for c in CATEGORICAL:
        X[c] = X[c].astype("category")
    y = np.log(np.clip(truth.reindex(X.index).to_numpy(float), 1e-6, 1.0))
    fitted = np.zeros(len(X))
    with threadpool_limits(1):
        for train, test in KFold(folds, shuffle=True, random_state=seed).split(X):
            reg = HistGradientBoostingRegressor(learning_rate=0.05, max_iter=400, min_samples_leaf=40,
                                                categorical_features="from_dtype", random_state=seed)
            fitted[test] = reg.fit(X.iloc[train], y[train]).predict(X.iloc[test])
    return pd.Series(np.exp(fitted), index=X.index)


def design_inputs(district: District, quarter: Quarter, truth: pd.Series) -> dict[str, DesignInputs]:
    """The designs' seed-independent inputs (tiers and obligations computed once)."""
    from riskplan.score.baseline import rule_grade
    from riskplan.score.tiering import tier_district

    model = tier_district(district, as_of=quarter.start)
    model_obs = find_obligations(district, model, quarter)
    model_mand = frozenset(o.enterprise_id for o in model_obs)
    grade = rule_grade(district, quarter.start)[["enterprise_id", "tier"]]
    base_obs = find_obligations(district, grade, quarter)
    return {
        "uniform": DesignInputs(model, model_mand, model_obs, "uniform"),
        "risk_weighted": DesignInputs(model, model_mand, model_obs, "risk_weighted"),
        "ceiling": DesignInputs(model, model_mand, model_obs, "risk_weighted",
                                scores=ceiling_scores(district, quarter, truth).to_dict()),
        "oracle": DesignInputs(model, model_mand, model_obs, "risk_weighted", scores=truth.to_dict()),
        "baseline": DesignInputs(grade, frozenset(o.enterprise_id for o in base_obs), base_obs, "uniform"),
    }


def run_design(district: District, quarter: Quarter, inputs: DesignInputs, truth: pd.Series, seed: int) -> dict:
    """One design, one seed: the drawn list and the roster's expected events."""
    draw = draw_spot_checks(district, inputs.tiers, quarter, inputs.obligations, seed, method=inputs.method,
                            scores=inputs.scores)
    f = draw.frame
    drawn = set(draw.drawn_ids)
    eligible = f["eligible"] == "yes"
    pi = f["inclusion_probability"].to_numpy(float)
    p = truth.reindex(f["enterprise_id"]).to_numpy(float)
    visited = inputs.mandatory | drawn
    chances = pi[eligible.to_numpy()]
    floor = district.policy.draw.min_inclusion
    return {
        "drawn_visits": len(drawn),
        "drawn_events": float(truth.reindex(sorted(drawn)).sum()),
        "drawn_expected": float((pi * p).sum()),
        "all_visits": len(visited),
        "all_events": float(truth.reindex(sorted(visited)).sum()),
        "min_inclusion_seen": float(chances.min()) if len(chances) else float("nan"),
        "max_inclusion_seen": float(chances.max()) if len(chances) else float("nan"),
        # the price of weighting: the share of eligible enterprises left with only the promised minimum
        "at_floor": float((chances <= floor + 1e-12).mean()) if len(chances) else float("nan"),
    }


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    uniform = runs[runs["design"] == "uniform"]
    for design in [d for d in DESIGNS if d in set(runs["design"])]:
        r = runs[runs["design"] == design]
        row: dict[str, Any] = {"design": design, "seeds": len(r)}
        for part in ("drawn", "all"):
            events, visits = r[f"{part}_events"], r[f"{part}_visits"]
            row[f"{part}_visits"] = float(visits.mean())
            row[f"{part}_events"] = float(events.mean())
            row[f"{part}_lo"] = float(events.quantile(0.05))
            row[f"{part}_hi"] = float(events.quantile(0.95))
            row[f"{part}_per_100"] = float(100 * events.sum() / visits.sum()) if visits.sum() else float("nan")
            base = uniform[f"{part}_events"].mean() if len(uniform) else float("nan")
            row[f"{part}_ratio_to_uniform"] = float(events.mean() / base) if base else float("nan")
        row["drawn_expected"] = float(r["drawn_expected"].mean())
        row["min_inclusion_seen"] = float(r["min_inclusion_seen"].min())
        row["max_inclusion_seen"] = float(r["max_inclusion_seen"].max())
        row["at_floor"] = float(r["at_floor"].mean())
        rows.append(row)
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def gain_share(summary: pd.DataFrame, column: str = "drawn_events", design: str = "risk_weighted",
               of: str = "oracle") -> float:
    """(design − uniform) / (of − uniform): the share of `of`'s gain over uniform that `design` captures."""
    v = summary.set_index("design")[column]
    gap = v[of] - v["uniform"]
    return float((v[design] - v["uniform"]) / gap) if gap else float("nan")


def with_draw_rules(district: District, min_inclusion: float | None = None,
                max_inclusion: float | None = None, weight_power: int | None = None) -> District:
    """The district with its policy's [draw] floor, cap and/or weight power replaced (validated
    as in policy.toml)."""
    update = {k: v for k, v in (("min_inclusion", min_inclusion), ("max_inclusion", max_inclusion),
                                ("weight_power", weight_power)) if v is not None}
    if not update:
        return district
    from riskplan.domain.policy import PolicyError

    try:
        rules = district.policy.draw.model_validate({**district.policy.draw.model_dump(), **update})
    except ValueError as exc:
        raise PolicyError("policy.toml", [_("[draw] with {update}: {error}").format(update=update, error=exc)]) from None
    return replace(district, policy=district.policy.model_copy(update={"draw": rules}))


def measure_value(district_dir: Path | str, quarter: Quarter | str | None = None, seeds: int = DEFAULT_SEEDS,
                  first_seed: int = 0, min_inclusion: float | None = None, max_inclusion: float | None = None,
                  weight_power: int | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  stage: Callable[[str], None] | None = None) -> ValueResult:
    """Run the designs over `seeds` seeds (first_seed, first_seed + 1, …) on a district with
    truth.csv. min/max_inclusion and weight_power override the policy's [draw] floor, cap and
    power; the ceiling and the oracle use the same design (the same power) as the model.
    `progress(done, total)` follows the draws, `stage(text)` the steps before them."""
    from riskplan.score.metrics import read_truth

    district = with_draw_rules(load_district(district_dir), min_inclusion, max_inclusion, weight_power)
    quarter = (Quarter.parse(quarter) if isinstance(quarter, str) else quarter) or default_quarter(district)
    ids = district.enterprises["enterprise_id"]
    truth = pd.Series(read_truth(district_dir, ids), index=ids.to_numpy())
    if stage:
        stage(_("tiering (model and rule baseline), obligations, ceiling fit"))
    inputs = design_inputs(district, quarter, truth)
    if stage:
        stage(_("drawing"))
    rows = []
    total = seeds * len(DESIGNS)
    for k, seed in enumerate(range(first_seed, first_seed + seeds)):
        for j, design in enumerate(DESIGNS):
            rows.append({"design": design, "seed": seed, **run_design(district, quarter, inputs[design], truth, seed)})
            if progress:
                progress(k * len(DESIGNS) + j + 1, total)
    runs = pd.DataFrame(rows, columns=list(RUN_COLUMNS))
    summary = summarise(runs)
    mix = {name: {t.value: int((d.tiers["tier"] == t.value).sum()) for t in TIERS}
           for name, d in (("model", inputs["uniform"]), ("baseline", inputs["baseline"]))}
    info = {
        "district": str(Path(district_dir)), "enterprises": int(len(ids)), "quarter": str(quarter),
        "seeds": [first_seed, first_seed + seeds - 1],
        "min_inclusion": district.policy.draw.min_inclusion, "max_inclusion": district.policy.draw.max_inclusion,
        "weight_power": district.policy.draw.weight_power,
        "tier_mix": mix, "gain_share_drawn": gain_share(summary, "drawn_events"),
        "gain_share_all": gain_share(summary, "all_events"),
        "ceiling_share_drawn": gain_share(summary, "drawn_events", design="ceiling"),
        "model_share_of_ceiling_drawn": gain_share(summary, "drawn_events", of="ceiling"),
        "floor_honoured": bool(summary.set_index("design").loc[["risk_weighted", "ceiling", "oracle"],
                                                                "min_inclusion_seen"].min()
                               >= district.policy.draw.min_inclusion - 1e-12),
    }
    return ValueResult(summary, runs, info)


def format_table(result: ValueResult) -> str:
    """The summary as aligned text (what the command prints)."""
    s = result.summary
    columns = [(_("design"), 14, "<"), (_("drawn"), 7, ">"), (_("events (drawn)"), 16, ">"),
               (_("90% of seeds"), 18, ">"), (_("×uniform"), 10, ">"), (_("all"), 7, ">"),
               (_("events (all)"), 14, ">"), (_("90% of seeds"), 18, ">"), (_("×uniform"), 10, ">"),
               (_("min π"), 9, ">"), (_("max π"), 8, ">"), (_("at floor"), 10, ">")]
    head = "".join(_pad(text, width, align) for text, width, align in columns)
    lines = [head, "-" * _width(head)]
    for r in s.itertuples(index=False):
        cells = [_design_name(r.design), f"{r.drawn_visits:.0f}", f"{r.drawn_events:.2f}",
                 f"{r.drawn_lo:.2f}–{r.drawn_hi:.2f}", f"{r.drawn_ratio_to_uniform:.2f}", f"{r.all_visits:.0f}",
                 f"{r.all_events:.2f}", f"{r.all_lo:.2f}–{r.all_hi:.2f}", f"{r.all_ratio_to_uniform:.2f}",
                 f"{r.min_inclusion_seen:.4f}", f"{r.max_inclusion_seen:.3f}", f"{r.at_floor:.1%}"]
        lines.append("".join(_pad(c, width, align) for c, (_t, width, align) in zip(cells, columns)))
    i = result.info
    lines.append("")
    honoured = _("honoured for every enterprise") if i["floor_honoured"] else _("NOT honoured")
    lines.append(_("Risk-weighted draw captures {share_drawn} of the oracle's gain over uniform on the drawn visits "
                   "({share_all} on all visits); weight power {power}, floor {floor} {honoured}.").format(
        share_drawn=f"{i['gain_share_drawn']:.0%}", share_all=f"{i['gain_share_all']:.0%}",
        power=i.get("weight_power", 1), floor=i["min_inclusion"], honoured=honoured))
    lines.append(_("A score fitted to the truth from the same records (ceiling) captures {share}; the model's gain is "
                   "{model_share} of the ceiling's. (The ceiling is fitted out of fold to this district's {count} true "
                   "probabilities: with few enterprises it understates what the records can tell.)").format(
        share=f"{i['ceiling_share_drawn']:.0%}", model_share=f"{i['model_share_of_ceiling_drawn']:.0%}",
        count=f"{i.get('enterprises', 0):,}"))
    return "\n".join(lines)


def _design_name(design: str) -> str:
    """A design as the tables name it: its code in English, its Chinese name in Chinese."""
    return value_label("design", design)


def _width(text: str) -> int:
    """Columns a text takes in a terminal: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, align: str) -> str:
    """`text` padded to `width` terminal columns (wide characters counted twice), as f"{:<w}"."""
    gap = " " * max(0, width - _width(text))
    return text + gap if align == "<" else gap + text


def plot_value(result: ValueResult, path: Path) -> None:
    """Bars: mean expected events reached per design, drawn visits and all visits, with the
    seeds' 90% interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from riskplan.export.report import use_report_fonts

    use_report_fonts()
    s = result.summary
    colours = {"uniform": "#8c8c8c", "risk_weighted": "#d95f02", "ceiling": "#e6ab02", "oracle": "#1b9e77",
               "baseline": "#7570b3"}
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.4))
    for ax, part, title in ((axes[0], "drawn", _("drawn (spot-check) visits")), (axes[1], "all", _("all visits"))):
        mean = s[f"{part}_events"].to_numpy()
        err = np.vstack([mean - s[f"{part}_lo"].to_numpy(), s[f"{part}_hi"].to_numpy() - mean])
        labels = [_(LABELS[d]) if d in LABELS else d for d in s["design"]]
        ax.bar(labels, mean, yerr=err, capsize=4, color=[colours[d] for d in s["design"]])
        for x, (m, n) in enumerate(zip(mean, s[f"{part}_visits"])):
            ax.text(x, m / 2, _("{events}\n{visits} visits").format(events=f"{m:.1f}", visits=f"{n:.0f}"),
                    ha="center", va="center", fontsize=8, color="white")
        ax.set_title(title)
        ax.set_ylabel(_("expected enterprises with a serious event (Σ p)"))
        ax.tick_params(axis="x", labelsize=8)
    i = result.info
    fig.suptitle(_("Targeting value, {quarter}, {seeds} seeds; risk-weighted captures {share} of the oracle's gain "
                   "(floor {floor}, power {power})").format(
        quarter=i["quarter"], seeds=i["seeds"][1] - i["seeds"][0] + 1, share=f"{i['gain_share_drawn']:.0%}",
        floor=i["min_inclusion"], power=i.get("weight_power", 1)), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def display_table(frame: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """A value table as written: headers (domain/headers.py, table `value`) and design names in
    the chosen language; the numbers unchanged."""
    with language(lang):
        out = frame.copy()
        out["design"] = [_design_name(d) for d in out["design"]]
        out.columns = display_headers("value", out.columns)
        return out


def write_value(result: ValueResult, out_dir: Path | str, force: bool = False) -> list[Path]:
    """OUT/value.csv (summary), value_runs.csv (per seed), value.json (info), value.png; the
    tables in the current language."""
    import json

    from riskplan.io import frame_to_csv_bytes
    from riskplan.outputs import atomic_output_dir

    out_dir = Path(out_dir)
    with atomic_output_dir(out_dir, force=force) as staging:
        (staging / "value.csv").write_bytes(frame_to_csv_bytes(display_table(result.summary), "%.6f"))
        (staging / "value_runs.csv").write_bytes(frame_to_csv_bytes(display_table(result.runs), "%.6f"))
        (staging / "value.json").write_text(json.dumps(result.info, indent=2, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
        plot_value(result, staging / "value.png")
    return [out_dir / n for n in VALUE_FILES]


__all__ = ["DESIGNS", "ValueResult", "measure_value", "ceiling_scores", "with_draw_rules", "write_value",
           "display_table", "format_table", "plot_value", "gain_share", "default_quarter"]

"""The rule baseline: the 100-point deduction grading bureaus use today.

Start every enterprise at 100 points and deduct per `DEDUCTIONS` (the table the README
shows); an accident with a death, or of major or extraordinary severity, in the 365
days before the as-of date makes it red directly (`DIRECT_RED`). Bands: red < 60 <=
orange < 75 <= yellow < 90 <= blue. "3 years" is the 1,095 days before the as-of date;
"penalised in the last year" deducts once. This is the yardstick the learned model
must beat over time, so it is kept exactly as docs/tiers.md states it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from riskplan.domain.headers import value_label
from riskplan.domain.schema import SERIOUS_OR_WORSE, Tier
from riskplan.i18n import _, ngettext
from riskplan.load.district import District


@dataclass(frozen=True)
class Deduction:
    """One line of the deduction table.

    factor: the attribute=value or history count it looks at; condition: when it applies
    (words); points: deducted
    each time it applies; per: "once" or "each" (per accident / per major hazard);
    cap: the most this line can deduct in total (None = no cap).
    """

    factor: str
    condition: str
    points: int
    per: str = "once"
    cap: int | None = None


#: The deduction table (docs/tiers.md, README "Risk tiers"). Order = how the README lists it.
DEDUCTIONS: tuple[Deduction, ...] = (
    Deduction("major_hazard_level=1", "major hazard installation, level 1", 15),
    Deduction("major_hazard_level=2", "major hazard installation, level 2", 10),
    Deduction("major_hazard_level=3", "major hazard installation, level 3", 6),
    Deduction("major_hazard_level=4", "major hazard installation, level 4", 3),
    Deduction("hazchem=produce", "hazardous chemicals: produces", 10),
    Deduction("hazchem=use", "hazardous chemicals: uses", 6),
    Deduction("hazchem=store", "hazardous chemicals: stores", 6),
    Deduction("hazchem=trade", "hazardous chemicals: trades", 3),
    Deduction("dust_explosion=1", "explosive dust", 8),
    Deduction("molten_metal=1", "molten metal", 8),
    Deduction("confined_space=1", "confined spaces", 4),
    Deduction("standardization_grade=0", "no standardization grade", 10),
    Deduction("standardization_grade=3", "standardization grade 3", 5),
    Deduction("standardization_grade=2", "standardization grade 2", 2),
    Deduction("serious_accidents_3y", "serious-or-worse accident in the past 3 years (1,095 days)", 10, per="each"),
    Deduction("minor_accidents_3y", "minor accident in the past 3 years (1,095 days)", 3, per="each"),
    Deduction("major_hazards_last_visit", "major hazard found at the last visit", 8, per="each", cap=16),
    Deduction("penalized_1y", "penalised in the past year (365 days)", 5),
)
_LINE = {d.factor: i for i, d in enumerate(DEDUCTIONS)}

#: Direct red: any accident with a death, or of one of these severities, in this many days.
DIRECT_RED_SEVERITIES = ("major", "extraordinary")
DIRECT_RED_DAYS = 365
THREE_YEARS_DAYS = 1095
#: Bands: score < red_below is red, < orange_below orange, < yellow_below yellow, else blue.
BANDS = {"red_below": 60, "orange_below": 75, "yellow_below": 90}



def band(score: float) -> Tier:
    if score < BANDS["red_below"]:
        return Tier.RED
    if score < BANDS["orange_below"]:
        return Tier.ORANGE
    if score < BANDS["yellow_below"]:
        return Tier.YELLOW
    return Tier.BLUE


def direct_red(district: District, as_of: date | pd.Timestamp) -> pd.DataFrame:
    """Enterprises red by rule: an accident with a death, or of major/extraordinary severity,
    in the 365 days before `as_of`. Columns: enterprise_id, reason (the latest such accident)."""
    t = pd.Timestamp(as_of).normalize()
    acc = district.accidents
    days = (t - acc["date"]).dt.days
    hit = acc[(days > 0) & (days <= DIRECT_RED_DAYS)
              & ((acc["deaths"] > 0) | acc["severity"].isin(DIRECT_RED_SEVERITIES))]
    hit = hit.sort_values(["enterprise_id", "date"]).groupby("enterprise_id").tail(1)

    def words(r) -> str:
        fields = {"severity": value_label("severity", r.severity), "date": r.date.date().isoformat()}
        if r.deaths > 0:
            return ngettext("direct red: {severity} accident with {deaths} death on {date}",
                            "direct red: {severity} accident with {deaths} deaths on {date}",
                            int(r.deaths)).format(deaths=r.deaths, **fields)
        return _("direct red: {severity} accident on {date}").format(**fields)

    return pd.DataFrame({"enterprise_id": hit["enterprise_id"].to_numpy(),
                         "reason": [words(r) for r in hit.itertuples()]})


def deduction_matrix(district: District, as_of: date | pd.Timestamp) -> pd.DataFrame:
    """Points deducted per enterprise (rows, in table order) and per DEDUCTIONS line (columns)."""
    t = pd.Timestamp(as_of).normalize()
    ent = district.enterprises
    index = pd.Index(ent["enterprise_id"])
    n = len(index)
    pts = np.zeros((n, len(DEDUCTIONS)))

    def set_line(factor: str, times: np.ndarray) -> None:
        line = _LINE[factor]
        d = DEDUCTIONS[line]
        value = d.points * times
        if d.cap is not None:
            value = np.minimum(value, d.cap)
        pts[:, line] = value

    # Attribute lines "column=value": deduct once when the enterprise's column has that value.
    for d in DEDUCTIONS:
        if "=" in d.factor:
            column, value = d.factor.split("=")
            cells = ent[column].astype(str).to_numpy()
            set_line(d.factor, (cells == value).astype(float))

    acc = district.accidents
    days = (t - acc["date"]).dt.days.to_numpy()
    pos = index.get_indexer(acc["enterprise_id"])
    recent = (days > 0) & (days <= THREE_YEARS_DAYS) & (pos >= 0)
    serious = acc["severity"].isin(SERIOUS_OR_WORSE).to_numpy()
    set_line("serious_accidents_3y", np.bincount(pos[recent & serious], minlength=n).astype(float))
    set_line("minor_accidents_3y", np.bincount(pos[recent & ~serious], minlength=n).astype(float))

    ins = district.inspections
    idays = (t - ins["date"]).dt.days.to_numpy()
    ipos = index.get_indexer(ins["enterprise_id"])
    past = (idays > 0) & (ipos >= 0)
    last = np.full(n, np.inf)
    np.minimum.at(last, ipos[past], idays[past])
    on_last = past & (idays == last[np.clip(ipos, 0, None)])
    majors = ins["major_hazards_found"].to_numpy().astype(float)
    set_line("major_hazards_last_visit", np.bincount(ipos[on_last], weights=majors[on_last], minlength=n))
    pen_year = past & (idays <= 365) & (ins["penalized"].to_numpy() == 1)
    set_line("penalized_1y", (np.bincount(ipos[pen_year], minlength=n) > 0).astype(float))
    return pd.DataFrame(pts, index=index, columns=[d.factor for d in DEDUCTIONS])


def rule_grade(district: District, as_of: date | pd.Timestamp) -> pd.DataFrame:
    """The baseline grade of every enterprise as of `as_of` (events strictly before it count).

    Columns: enterprise_id, score (100 minus deductions; not floored, so
    two very bad records still rank apart), tier, override (1 when
    the direct-red rule applies), reasons (the applied deductions, largest first, '; '-joined,
    the direct-red reason first when it applies).
    """
    pts = deduction_matrix(district, as_of)
    score = 100.0 - pts.sum(axis=1).to_numpy()
    red = direct_red(district, as_of).set_index("enterprise_id")["reason"]
    override = pts.index.isin(red.index)
    tiers = [Tier.RED.value if o else band(s).value for s, o in zip(score, override)]
    labels = [DEDUCTIONS[j] for j in range(len(DEDUCTIONS))]
    values = pts.to_numpy()
    reasons = []
    for i, eid in enumerate(pts.index):
        applied = [(values[i, j], j) for j in np.flatnonzero(values[i] > 0)]
        applied.sort(key=lambda vj: (-vj[0], vj[1]))
        words = []
        for v, j in applied:
            d = labels[j]
            times = "" if d.per == "once" else f" ×{_times(v, d)}"
            words.append(f"{d.condition}{times} (−{v:g})")
        if override[i]:
            words.insert(0, red[eid])
        reasons.append("; ".join(words))
    return pd.DataFrame({
        "enterprise_id": pts.index.to_numpy(),
        "score": score,
        "tier": tiers,
        "override": override.astype(np.int64),
        "reasons": reasons,
    })


def _times(value: float, d: Deduction) -> str:
    n = value / d.points
    return f"{n:g}"


def baseline_risk(grade: pd.DataFrame) -> np.ndarray:
    """Ranking score from the grade (higher = riskier): direct red first, then lower score."""
    return (100.0 - grade["score"].to_numpy()) + 1000.0 * grade["override"].to_numpy()


def deduction_table_markdown() -> str:
    """The deduction table as Markdown (for the README)."""
    lines = ["| factor | condition | points | applies | cap |", "|---|---|---|---|---|"]
    for d in DEDUCTIONS:
        lines.append(f"| {d.factor} | {d.condition} | −{d.points} | {d.per} | {d.cap if d.cap else ''} |")
    lines.append("")
    lines.append(f"Direct red: an accident with a death, or of severity {' or '.join(DIRECT_RED_SEVERITIES)}, "
                 f"in the {DIRECT_RED_DAYS} days before the as-of date. Bands: red < {BANDS['red_below']} ≤ "
                 f"orange < {BANDS['orange_below']} ≤ yellow < {BANDS['yellow_below']} ≤ blue.")
    return "\n".join(lines)

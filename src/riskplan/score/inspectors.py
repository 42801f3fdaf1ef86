"""Inspector effects: past findings made comparable across teams.

What a visit finds depends on who inspects: a lenient team finds less, a strict one more. A
firm checked mostly by lenient teams would look safe on its record. So, as of a date T, each
inspector's finding propensity is estimated from the visits before T, and every past visit's
findings are divided by its team's propensity before they become features.

The estimate: a Poisson regression of the findings of each visit (hazards other than major
ones, and major hazards, separately) on the enterprise visited (one column per enterprise:
its own level) and the team (one column per inspector, 1/team size for each member, so a
team's effect is its members' mean), with an L2 penalty that shrinks every inspector
towards the mean (scikit-learn's `PoissonRegressor`; prior precision `PRIOR_PRECISION` per
coefficient). The double-random draw assigns teams to firms at random, which makes the
inspector effects identifiable; the enterprise columns absorb what remains of station teams
covering their own, riskier or safer, areas. An inspector with few visits stays near the
mean; a visit's factor is exp(team effect), so adjusted findings = findings / factor.

Only visits before T are used for the effects and only visits before T are adjusted, so the
features as of T still depend on nothing on or after T; the score never depends on who will
inspect next (no future team enters anything). Labels stay the observed events.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import PoissonRegressor
from threadpoolctl import threadpool_limits

from riskplan.domain.schema import split_list

#: Prior precision of each coefficient (inspector and enterprise), in units of the summed
#: Poisson deviance: about a standard deviation of 0.3 on the log scale for an inspector with
#: little data; more visits let the data speak.
PRIOR_PRECISION = 10.0
#: Fewer visits than this: no adjustment (every factor 1).
MIN_VISITS = 200


def _design(visits: pd.DataFrame, enterprises: pd.Index) -> tuple[sp.csr_matrix, list[str]]:
    teams = [split_list(t) for t in visits["inspectors"].astype(str)]
    names = sorted({i for t in teams for i in t})
    col = {name: j for j, name in enumerate(names)}
    rows, cols, vals = [], [], []
    for r, team in enumerate(teams):
        for i in team:
            rows.append(r)
            cols.append(col[i])
            vals.append(1.0 / len(team))
    m = len(visits)
    team_part = sp.csr_matrix((vals, (rows, cols)), shape=(m, len(names)))
    ent = enterprises.get_indexer(visits["enterprise_id"])
    ent_part = sp.csr_matrix((np.ones(m), (np.arange(m), np.maximum(ent, 0))), shape=(m, len(enterprises)))
    return sp.hstack([team_part, ent_part], format="csr"), names


def inspector_effects(visits: pd.DataFrame, enterprises: pd.Index, column: str) -> pd.Series:
    """Log-multiplicative effect of each inspector on `column` (0 = the mean), shrunk (module doc)."""
    X, names = _design(visits, enterprises)
    y = visits[column].to_numpy(float)
    if len(y) < MIN_VISITS or y.sum() == 0 or not names:
        return pd.Series(0.0, index=pd.Index(names, name="inspector_id"), dtype=float)
    model = PoissonRegressor(alpha=PRIOR_PRECISION / len(y), max_iter=300, tol=1e-6)
    with threadpool_limits(1):   # native threads only fight each other on a small sparse fit
        model.fit(X, y)
    effect = model.coef_[: len(names)]
    return pd.Series(effect - effect.mean(), index=pd.Index(names, name="inspector_id"))


def team_factor(visits: pd.DataFrame, effects: pd.Series) -> np.ndarray:
    """exp(mean effect of the team's members) per visit; unknown inspectors count as the mean."""
    out = np.ones(len(visits))
    lookup = effects.to_dict()
    for r, team in enumerate(visits["inspectors"].astype(str)):
        members = split_list(team)
        if members:
            out[r] = np.exp(np.mean([lookup.get(i, 0.0) for i in members]))
    return out


def adjusted_inspections(inspections: pd.DataFrame, enterprises: pd.Index, as_of, factors: bool = False) -> pd.DataFrame:
    """The inspections with the findings of visits before `as_of` divided by their team's factor
    (other hazards and major hazards each by their own); later visits unchanged. Counts become
    floats; `hazards_found` stays other + major. With `factors`, the findings stay as recorded
    and the factors are added as `factor_other` and `factor_major` (1 on and after `as_of`)."""
    t = pd.Timestamp(as_of).normalize()
    out = inspections.copy()
    before = (out["date"] < t).to_numpy()
    if factors:
        out["factor_other"] = 1.0
        out["factor_major"] = 1.0
    past = out.loc[before]
    if len(past) == 0:
        return out
    other = (past["hazards_found"] - past["major_hazards_found"]).clip(lower=0).rename("other")
    frame = past.assign(other=other)
    f_other = team_factor(past, inspector_effects(frame, enterprises, "other"))
    f_major = team_factor(past, inspector_effects(frame, enterprises, "major_hazards_found"))
    if factors:
        out.loc[before, "factor_other"] = f_other
        out.loc[before, "factor_major"] = f_major
        return out
    major = past["major_hazards_found"].to_numpy(float) / f_major
    out["hazards_found"] = out["hazards_found"].astype(float)
    out["major_hazards_found"] = out["major_hazards_found"].astype(float)
    out.loc[before, "major_hazards_found"] = major
    out.loc[before, "hazards_found"] = other.to_numpy(float) / f_other + major
    return out


__all__ = ["inspector_effects", "team_factor", "adjusted_inspections", "PRIOR_PRECISION"]

"""Generator speed (pytest-benchmark) and a learnability check of the synthetic districts.

    python -m pytest benchmarks/bench_synth.py -m "not slow"   # S and M generation
    python -m pytest benchmarks/bench_synth.py -m slow         # L, XL (target: XL < 60 s), learnability

Generation is timed end to end (`generate_district`: build, serialise, write atomically).
The learnability check trains a quick HistGradientBoostingClassifier on simple features,
the way the scoring model will learn, and compares its average precision with the oracle
(ranking by `truth.csv`) and with the 100-point deduction rule (docs/tiers.md).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from riskplan.synth.district import generate_district, make_district

SEVERE = ("serious", "major", "extraordinary")


def _generate(tmp_path, size):
    return generate_district(tmp_path / f"{size}", size=size, seed=1, force=True)


@pytest.mark.parametrize("size", ["S", "M"])
def test_generate(benchmark, tmp_path, size):
    summary = benchmark.pedantic(_generate, args=(tmp_path, size), rounds=3, iterations=1)
    assert "enterprises" in summary


@pytest.mark.slow
@pytest.mark.parametrize("size", ["L", "XL"])
def test_generate_large(benchmark, tmp_path, size):
    start = time.perf_counter()
    benchmark.pedantic(_generate, args=(tmp_path, size), rounds=2, iterations=1)
    assert (time.perf_counter() - start) / 2 < 60.0


# ----------------------------------------------------------------------------- learnability


def features(d, as_of) -> pd.DataFrame:
    """Attributes and history strictly before `as_of` (simple, as a first model would use)."""
    T = pd.Timestamp(as_of)
    e = d.enterprises
    ids = pd.Index(e["enterprise_id"])
    X = pd.DataFrame(index=ids)
    X["industry"] = pd.Categorical(e["industry"]).codes
    X["size"] = e["size_class"].map({"micro": 0, "small": 1, "medium": 2, "large": 3}).to_numpy()
    X["employees"] = np.log1p(e["employees"].to_numpy())
    X["hazchem"] = e["hazchem"].map({"none": 0, "produce": 1, "use": 2, "store": 3, "trade": 4}).to_numpy()
    for c in ("major_hazard_level", "dust_explosion", "molten_metal", "confined_space", "standardization_grade"):
        X[c] = e[c].to_numpy()
    X["park"] = e["subdistrict"].str.endswith("工业园区").to_numpy().astype(int)
    acc = d.accidents[d.accidents["date"] < T]
    vis = d.inspections[d.inspections["date"] < T]
    for years in (1, 3, 5):
        lo = T - pd.Timedelta(days=365 * years)
        a = acc[acc["date"] >= lo]
        v = vis[vis["date"] >= lo]
        X[f"minor_{years}"] = a[a["severity"] == "minor"].groupby("enterprise_id").size().reindex(ids, fill_value=0).to_numpy()
        X[f"severe_{years}"] = a[a["severity"].isin(SEVERE)].groupby("enterprise_id").size().reindex(ids, fill_value=0).to_numpy()
        g = v.groupby("enterprise_id")
        X[f"visits_{years}"] = g.size().reindex(ids, fill_value=0).to_numpy()
        for col, name in (("hazards_found", "hazards"), ("major_hazards_found", "majors"), ("penalized", "penalties")):
            X[f"{name}_{years}"] = g[col].sum().reindex(ids, fill_value=0).to_numpy()
        visits = X[f"visits_{years}"].replace(0, np.nan)
        X[f"hazards_per_visit_{years}"] = X[f"hazards_{years}"] / visits
        X[f"majors_per_visit_{years}"] = X[f"majors_{years}"] / visits
    last = vis.sort_values("date", kind="stable").groupby("enterprise_id").tail(1).set_index("enterprise_id")
    X["last_majors"] = last["major_hazards_found"].reindex(ids).to_numpy()
    X["last_hazards"] = last["hazards_found"].reindex(ids).to_numpy()
    X["days_since_visit"] = (T - last["date"].reindex(ids)).dt.days.to_numpy()
    X["days_since_accident"] = (T - acc.groupby("enterprise_id")["date"].max().reindex(ids)).dt.days.to_numpy()
    return X


def event_labels(d, as_of) -> np.ndarray:
    """The event in [as_of, as_of + 365 days): serious-or-worse accident or a major hazard found."""
    T = pd.Timestamp(as_of)
    U = T + pd.Timedelta(days=365)
    a = d.accidents
    v = d.inspections
    hit = set(a.loc[(a["date"] >= T) & (a["date"] < U) & a["severity"].isin(SEVERE), "enterprise_id"])
    hit |= set(v.loc[(v["date"] >= T) & (v["date"] < U) & (v["major_hazards_found"] > 0), "enterprise_id"])
    return d.enterprises["enterprise_id"].isin(hit).to_numpy().astype(int)


def rule_risk(d, as_of) -> np.ndarray:
    """The 100-point deduction table (docs/tiers.md) (higher = riskier; direct red on top)."""
    T = pd.Timestamp(as_of)
    e = d.enterprises.set_index("enterprise_id")
    s = pd.Series(100.0, index=e.index)
    s -= e["major_hazard_level"].map({0: 0, 1: 15, 2: 10, 3: 6, 4: 3})
    s -= e["hazchem"].map({"none": 0, "produce": 10, "use": 6, "store": 6, "trade": 3})
    s -= 8 * e["dust_explosion"] + 8 * e["molten_metal"] + 4 * e["confined_space"]
    s -= e["standardization_grade"].map({0: 10, 3: 5, 2: 2, 1: 0})
    a = d.accidents[(d.accidents["date"] < T) & (d.accidents["date"] >= T - pd.Timedelta(days=1095))]
    s -= 10 * a[a["severity"].isin(SEVERE)].groupby("enterprise_id").size().reindex(s.index, fill_value=0)
    s -= 3 * a[a["severity"] == "minor"].groupby("enterprise_id").size().reindex(s.index, fill_value=0)
    v = d.inspections[d.inspections["date"] < T]
    last_date = v.groupby("enterprise_id")["date"].max()
    last = v[v["date"].to_numpy() == last_date.reindex(v["enterprise_id"]).to_numpy()]
    s -= np.minimum(16, 8 * last.groupby("enterprise_id")["major_hazards_found"].sum().reindex(s.index, fill_value=0))
    penalised = v[(v["date"] >= T - pd.Timedelta(days=365)) & (v["penalized"] == 1)]["enterprise_id"].unique()
    s -= 5 * s.index.isin(penalised)
    a1 = a[a["date"] >= T - pd.Timedelta(days=365)]
    direct = a1[(a1["deaths"] > 0) | a1["severity"].isin(["major", "extraordinary"])]["enterprise_id"].unique()
    s[s.index.isin(direct)] -= 1000
    return -s.to_numpy()


def _linear_inputs(X: pd.DataFrame) -> pd.DataFrame:
    """Log counts, one-hot industry, missing gaps filled: inputs for a logistic regression."""
    X = pd.concat([X.drop(columns=["industry"]), pd.get_dummies(X["industry"], prefix="industry").astype(float)], axis=1)
    counts = [c for c in X.columns if c.split("_")[0] in ("visits", "hazards", "majors", "penalties", "minor", "severe")]
    X[counts] = np.log1p(X[counts])
    X["never_visited"] = X["days_since_visit"].isna().astype(float)
    X = X.fillna(X.median()).fillna(0)
    X[["days_since_visit", "days_since_accident"]] = np.log1p(X[["days_since_visit", "days_since_accident"]])
    return X


def learnability(d, windows: int = 3, draws: int = 200, seed: int = 0) -> dict[str, float]:
    """Expected average precision over the 12 months after `end` (labels drawn from the truth)
    for: gradient boosting ("model") and a regularised logistic regression trained on `windows`
    yearly as-of dates before `end`, the oracle (truth ranking) and the deduction rule."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    as_of = pd.Timestamp(d.end) + pd.Timedelta(days=1)
    train = [as_of - pd.Timedelta(days=365 * k) for k in range(1, windows + 1)]
    X = pd.concat([features(d, t) for t in train])
    y = np.concatenate([event_labels(d, t) for t in train])
    X_next = features(d, as_of)
    hgb = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40,
                                         l2_regularization=1.0, categorical_features=[X.columns.get_loc("industry")],
                                         random_state=0)
    hgb.fit(X, y)
    both = _linear_inputs(pd.concat([X, X_next]))
    logistic = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=5000))
    logistic.fit(both.iloc[:len(X)], y)
    scores = {"model": hgb.predict_proba(X_next)[:, 1], "logistic": logistic.predict_proba(both.iloc[len(X):])[:, 1],
              "rule": rule_risk(d, as_of), "oracle": d.truth["p_event_12m"].to_numpy()}
    rng = np.random.Generator(np.random.PCG64(seed))
    ap = {k: [] for k in scores}
    for _ in range(draws):
        outcome = rng.random(len(scores["oracle"])) < scores["oracle"]
        for k, s in scores.items():
            ap[k].append(average_precision_score(outcome, s))
    out = {k: float(np.mean(v)) for k, v in ap.items()}
    out["model/oracle"] = out["model"] / out["oracle"]
    out["logistic/oracle"] = out["logistic"] / out["oracle"]
    out["rule/oracle"] = out["rule"] / out["oracle"]
    if d.future is not None:  # one realised next year of the same mechanism
        for k, s in scores.items():
            out[f"realised_{k}"] = float(average_precision_score(d.future["event"], s))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_learnability_M(seed):
    d = make_district("M", seed=seed, simulate_future=True)
    single = learnability(d, windows=1)
    stacked = learnability(d, windows=3)
    print(f"\nM seed {seed}: one training year {single}\nthree training years {stacked}")
    assert stacked["model/oracle"] >= 0.85
    assert single["logistic/oracle"] >= 0.80
    assert stacked["model"] > stacked["rule"] * 1.15
    assert single["model"] > single["rule"]

"""Tests for helpers.analyse.regression: VIF, backward elimination path, collinearity, split fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analyse.regression import (
    backward_eliminate,
    build_design,
    split_regressions,
    tree_thresholds,
    vif,
)
from helpers.analyse.tree import fit_tree
from helpers.analyse.verdicts import planted_example
from helpers.core.errors import AnalysisError
from helpers.core.params import Regression, Tree

SCORE = Regression(target="score", log_skew=None)


def _known(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=(3, n))
    t = pd.DataFrame({"x1": x1, "x2": x2, "x3": x3,
                      "x4": x1 + rng.normal(0, 0.05, n),       # nearly a copy of x1
                      "cat": rng.choice(["a", "b", "c"], n)})  # noise, 3 levels
    t["score"] = 2 * x1 - 3 * x2 + rng.normal(0, 1, n)
    return t


def test_vif_matches_one_over_one_minus_r2():
    t = _known()
    X = t[["x1", "x2", "x4"]].assign(const=1.0)[["const", "x1", "x2", "x4"]]
    v = vif(X)
    assert list(v.index) == ["x1", "x2", "x4"]               # constant's own VIF skipped
    A = np.c_[np.ones(len(t)), t[["x2", "x4"]].to_numpy()]
    resid = t["x1"] - A @ np.linalg.lstsq(A, t["x1"], rcond=None)[0]
    r2 = 1 - (resid ** 2).sum() / ((t["x1"] - t["x1"].mean()) ** 2).sum()
    assert v["x1"] == pytest.approx(1 / (1 - r2), rel=1e-6)
    assert v["x2"] == pytest.approx(1.0, abs=0.1) and v["x4"] > 100
    assert vif(t[["x1", "x2"]]).to_dict() == pytest.approx(vif(X[["const", "x1", "x2"]]).to_dict())


def test_backward_elimination_known_answer():
    t = _known()
    res = backward_eliminate(t, ["x1", "x2", "x3", "x4", "cat"],
                             ["numeric"] * 4 + ["categorical"], SCORE)
    st = res.steps
    vif_drop = st[st["reason"].str.contains("VIF")]
    assert len(vif_drop) == 1 and vif_drop["variable"].item() in ("x1", "x4")
    assert vif_drop["vif"].item() > 5
    ns = st[st["reason"].str.startswith("not significant")]
    assert set(ns["variable"]) == {"x3", "cat"}
    assert "joint Wald test" in ns.loc[ns["variable"] == "cat", "reason"].item()
    kept = set(res.variables)
    assert kept == {"x2", ({"x1", "x4"} - set(vif_drop["variable"])).pop()}
    c = res.coefs.set_index("term")
    assert c.at["x2", "coef"] == pytest.approx(-3, abs=0.2)
    assert (c["ci_low"] <= c["coef"]).all() and "x2" in res.summary()
    assert st["step"].tolist() == list(range(1, len(st) + 1))
    assert (st.loc[st["action"] == "keep", "p_value"] < 0.05).all()


def test_perfect_collinearity_is_a_step_not_an_error():
    t = _known()
    t["x5"] = 2 * t["x1"] + t["x2"]
    t["const_col"] = 3.0
    res = backward_eliminate(t, ["x1", "x2", "x5", "const_col"], ["numeric"] * 4, SCORE)
    reasons = dict(zip(res.steps["variable"], res.steps["reason"], strict=False))
    assert "constant" in reasons["const_col"]
    col = [v for v, r in reasons.items() if r.startswith("perfectly collinear")]
    assert len(col) == 1 and all(o in reasons[col[0]] for o in {"x1", "x2", "x5"} - set(col))
    assert len(res.variables) == 2


def test_missing_values_are_reported_not_silent():
    t = _known()
    t.loc[:9, "x2"] = np.nan
    res = backward_eliminate(t, ["x1", "x2"], ["numeric", "numeric"], SCORE)
    first = res.steps.iloc[0]
    assert first["action"] == "complete cases" and "dropped 10 of 400" in first["reason"]
    assert res.n == 390 and res.n_dropped == 10


def test_rank_target_and_log_transform():
    t = _known()
    t["emp"] = np.exp(t["x1"] * 1.5 + 5)                   # skewed, positive
    res = backward_eliminate(t, ["emp", "x2"], ["numeric", "numeric"], Regression())
    assert res.target == "rank" and res.terms["emp"] == "log(1 + emp)"
    design = build_design(t, ["emp", "x2"], ["numeric", "numeric"], Regression())
    assert 0 < design.y.max() <= 100 and res.n == len(design.y)
    # the kept fit carries its statistics, not the n x terms data (memory at 1M accounts)
    assert res.fit.model.endog is None and np.isfinite(res.fit.rsquared_adj)
    assert np.isfinite(res.fit.predict(design.X[res.fit.model.exog_names])).all()


def test_too_few_accounts_raise():
    with pytest.raises(AnalysisError, match="fewer than 30"):
        backward_eliminate(_known(20), ["x1"], ["numeric"], SCORE)


def test_nothing_significant_stops_cleanly():
    t = _known()
    t["score"] = np.random.default_rng(1).normal(size=len(t))   # independent of x3
    res = backward_eliminate(t, ["x3"], ["numeric"], SCORE)
    assert res.variables == [] and res.fit is None and res.steps["action"].iloc[-1] == "stop"


def test_split_regressions_on_planted_data():
    t, hyp = planted_example(1500, 7)
    variables = [*hyp["variable"], "business_model"]
    kinds = {**dict(zip(hyp["variable"], hyp["kind"], strict=True)), "business_model": "categorical"}
    tree = fit_tree(t, variables, kinds, Tree(), forced_root="business_model")
    gt = tree_thresholds(tree)
    assert 400 <= gt["B2B"]["employees"] <= 600 and 70 <= gt["B2C"]["employees"] <= 150
    res = split_regressions(t, variables, kinds, by="business_model", group_thresholds=gt)
    assert set(res.groups) == {"B2B", "B2C"}
    for g in ("B2B", "B2C"):
        assert "employees" in res.groups[g].variables
        assert res.groups[g].terms["employees"].startswith("employees ≥")
    assert res.split_worth_it and res.interaction_p < 0.05
    comp = res.comparison.set_index("model")
    assert comp.at["interaction (group-specific terms)", "aic"] < comp.at[
        "pooled (common slopes + group)", "aic"]
    assert comp.at["interaction (group-specific terms)", "adj_r2"] > comp.at[
        "pooled (common slopes + group)", "adj_r2"]
    assert "worth it" in res.verdict and "employees" in res.kept


def test_a_room_where_hc3_is_undefined_completes(tmp_path, monkeypatch):
    # Calibration room 2360434982 (300 accounts): an account alone on a dummy has leverage 1,
    # HC3's covariance turned NaN and statsmodels' Wald test raised "r_matrix performs f_test
    # ... asymptotically non-normal" out of Step 4. The fit now falls back to HC1 there.
    monkeypatch.setenv("WORKBOOK_JOBS", "1")
    from helpers.synthetic.calibrate import run_room

    out = run_room(2360434982, 300, tmp_path)
    assert out["status"] == "ok", out.get("error")

"""Tests for helpers.analyse.verdicts: the verdict rule, the planted-truth run, the explorer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analyse.regression import split_regressions, tree_thresholds
from helpers.analyse.tree import fit_tree
from helpers.analyse.verdicts import VERDICT_COLUMNS, explore, planted_example, verdicts
from helpers.core.params import Analysis, Tree

PLANTED = {"employees": "+", "industry": "-", "multinational": "-", "ad_budget_usd": "+",
           "it_team_size": "-"}
NOISE = ["social_media_followers", "hq_region", "founded_year", "glassdoor_rating"]


def _fake_tests() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hand-made test results: one per branch of the verdict rule."""
    rows = [  # id, testable, reason, p_adj, effect, sign, power
        ("V", True, "", 0.001, 0.40, "+", 0.9),     # validated
        ("C", True, "", 0.001, -0.40, "-", 0.9),    # contradicts "+"
        ("S", True, "", 0.001, 0.05, "+", 0.9),     # effect too small
        ("R", True, "", 0.60, 0.02, "+", 0.9),      # not significant, powered
        ("P", True, "", 0.60, 0.20, "+", 0.3),      # not significant, underpowered
        ("U", False, "constant column (every account has 1)", np.nan, np.nan, "", np.nan),
    ]
    tests = pd.DataFrame([{
        "hypothesis_id": i, "variable": i.lower(), "kind": "numeric", "testable": ok,
        "reason": why, "note": "", "n": 500, "n_missing": 0, "test": "Mann-Whitney U A vs D",
        "p_value": p, "p_value_adjusted": p, "effect_size": e,
        "effect_measure": "Cliff's delta A vs D", "effect_direction": s, "category": "",
        "power": pw, "spearman_rho": np.nan, "cramers_v": np.nan}
        for i, ok, why, p, e, s, pw in rows])
    hyp = pd.DataFrame({"id": [*tests["hypothesis_id"], "N"],
                        "variable": [*tests["variable"], "n"], "kind": "numeric",
                        "direction": "+", "statement": "", "selected": [True] * 6 + [False]})
    return tests, hyp


def test_verdict_rule_every_branch():
    tests, hyp = _fake_tests()
    table = pd.DataFrame({"score": [1.0]})
    v = verdicts(table, hyp, Analysis(), tests=tests).set_index("hypothesis_id")
    assert list(v.reset_index().columns) == VERDICT_COLUMNS
    assert v.at["V", "verdict"] == "validated" and v.at["V", "direction"] == "+"
    assert v.at["C", "verdict"] == "rejected" and "contradicts expected direction" in v.at["C", "reason"]
    assert v.at["C", "direction"] == ""
    assert v.at["S", "verdict"] == "inconclusive" and "too small to act on" in v.at["S", "reason"]
    assert v.at["R", "verdict"] == "rejected" and "not significant" in v.at["R", "reason"]
    assert v.at["P", "verdict"] == "inconclusive" and "too sparse" in v.at["P", "reason"]
    assert v.at["U", "verdict"] == "inconclusive" and "constant column" in v.at["U", "reason"]
    assert v.at["N", "verdict"] == "inconclusive" and "not selected" in v.at["N", "reason"]
    assert not v["in_tree"].any() and not v["in_regression"].any()


def _run(n: int, seed: int, with_models: bool) -> pd.DataFrame:
    t, hyp = planted_example(n, seed)
    params = Analysis()
    tree = reg = None
    if with_models:
        variables = [*hyp["variable"], "business_model"]
        kinds = {**dict(zip(hyp["variable"], hyp["kind"], strict=True)),
                 "business_model": "categorical"}
        tree = fit_tree(t, variables, kinds, Tree(), forced_root="business_model")
        reg = split_regressions(t, variables, kinds, group_thresholds=tree_thresholds(tree))
    return verdicts(t, hyp, params, tree, reg, seed=seed).set_index("variable")


@pytest.mark.parametrize("n, seed, with_models", [(1500, 7, True), (300, 7, False),
                                                  (300, 11, True), (300, 23, False)])
def test_planted_truths_come_out(n, seed, with_models):
    v = _run(n, seed, with_models)
    for var, sign in PLANTED.items():
        assert v.at[var, "verdict"] == "validated", (var, v.at[var, "reason"])
        assert v.at[var, "direction"] == sign
        assert np.sign(v.at[var, "effect_size"]) == (1 if sign == "+" else -1)
    assert v.at["industry", "category"] == "Hospital"
    for var in NOISE:
        assert v.at[var, "verdict"] in ("rejected", "inconclusive"), (var, v.at[var, "reason"])
    if n >= 1500:
        assert (v.loc[NOISE, "verdict"] == "rejected").all()   # enough power to reject
        assert v.at["employees", "in_tree"] and v.at["employees", "in_regression"]
        assert "tree: split employees" in v.at["employees", "evidence"]
    assert v["p_value_adjusted"].between(0, 1).all()


def test_untestable_and_collinear_hypotheses_get_reasons():
    t, hyp = planted_example(300, 3)
    t["const"] = 1.0
    t["empty"] = np.nan
    t["emp_copy"] = t["employees"] * 2
    extra = pd.DataFrame({"id": ["X1", "X2", "X3"], "variable": ["const", "empty", "emp_copy"],
                          "kind": "numeric", "direction": "+", "statement": "", "selected": True,
                          "category": None})
    hyp = pd.concat([hyp, extra], ignore_index=True)
    variables = ["employees", "emp_copy", "ad_budget_usd"]
    from helpers.analyse.regression import backward_eliminate

    reg = backward_eliminate(t, variables, ["numeric"] * 3)
    v = verdicts(t, hyp, Analysis(), None, reg).set_index("variable")
    assert v.at["const", "verdict"] == "inconclusive" and "constant" in v.at["const", "reason"]
    assert v.at["empty", "verdict"] == "inconclusive" and "all values missing" in v.at["empty", "reason"]
    dropped = "emp_copy" if "collinear" in v.at["emp_copy", "reason"] else "employees"
    other = ({"emp_copy", "employees"} - {dropped}).pop()
    assert f"collinear with {other}" in v.at[dropped, "reason"]
    assert "in the regression" in v.at[dropped, "reason"]
    assert np.isnan(v.at["const", "p_value_adjusted"])


def test_explore_numeric_and_categorical():
    t, _ = planted_example(2000, 5)
    e = explore(t, "employees")
    assert e["kind"] == "numeric" and e["n"] == 2000 and e["best_split"]["cut"] > 0
    prof = e["profile"].set_index("group")
    assert prof.at["A", "mean"] > prof.at["D", "mean"]
    c = explore(t, "industry")
    assert c["best_split"]["worse"] == ["Hospital"]
    assert c["distribution"]["count"].sum() == 2000
    b = explore(t, "multinational")
    assert b["kind"] == "boolean" and b["best_split"]["better"] == ["no"]

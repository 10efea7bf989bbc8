"""Tests for helpers.analyse.tree: rules in words, readable thresholds, forced root, planted interaction."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers.analyse.tree import fit_tree  # noqa: E402
from helpers.analyse.verdicts import planted_example  # noqa: E402
from helpers.core.errors import AnalysisError, InputDataError  # noqa: E402
from helpers.core.params import Tree  # noqa: E402


@pytest.fixture(scope="module")
def planted():
    t, hyp = planted_example(1500, 7)
    variables = [*hyp["variable"], "business_model"]
    kinds = {**dict(zip(hyp["variable"], hyp["kind"], strict=True)), "business_model": "categorical"}
    return t, variables, kinds


def _employee_cuts(res, rule_contains: str | None = None) -> list[float]:
    nd = res.nodes
    m = nd["split_variable"] == "employees"
    if rule_contains:
        m &= nd["rule"].str.contains(rule_contains, regex=False)
    return nd.loc[m, "threshold"].tolist()


def test_single_split_hand_computed():
    t = pd.DataFrame({"account_id": [f"A{i:03d}" for i in range(100)], "x": np.arange(1.0, 101),
                      "score": (np.arange(1, 101) > 50).astype(float)})
    res = fit_tree(t, ["x"], {"x": "numeric"}, Tree(max_depth=1, min_samples_leaf=5))
    nd = res.nodes.set_index("node_id")
    assert nd.at[0, "split_variable"] == "x" and nd.at[0, "threshold"] == 51
    assert nd.at[1, "rule"] == "x < 51" and nd.at[2, "rule"] == "x ≥ 51"
    assert nd.at[1, "n"] == 50 and nd.at[2, "mean_score"] == 1.0 and nd.at[1, "mean_score"] == 0.0
    assert nd.at[2, "share_A"] == pytest.approx(0.5)   # top 25 of 100 all sit in the right leaf
    new = pd.DataFrame({"x": [0, 50.9, 51, 1e6, np.nan]})
    assert res.leaf_of(new).tolist()[:4] == [1, 1, 2, 2]
    assert res.predict(new).tolist()[:4] == [0.0, 0.0, 1.0, 1.0]


def test_threshold_rounded_when_it_costs_little():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 1000, 400)).round(1)
    t = pd.DataFrame({"x": x, "score": (x > 503.7) * 10 + rng.normal(0, 1, 400)})
    res = fit_tree(t, ["x"], ["numeric"], Tree(max_depth=1, min_samples_leaf=10))
    assert res.nodes.at[0, "threshold"] == 500


def test_forced_root_finds_planted_interaction(planted):
    t, variables, kinds = planted
    res = fit_tree(t, variables, kinds, Tree(), forced_root="business_model")
    root = res.nodes.set_index("node_id").loc[0]
    assert root["split_variable"] == "business_model"
    b2b = _employee_cuts(res, "business model = B2B")
    b2c = _employee_cuts(res, "business model = B2C")
    assert b2b and 400 <= b2b[0] <= 600, b2b
    assert b2c and 70 <= b2c[0] <= 150, b2c
    rules = " | ".join(res.nodes["rule"])
    assert "business model = B2B and employees ≥" in rules
    assert "X[" not in rules and "feature" not in rules


def test_unforced_tree_finds_both_thresholds(planted):
    # without a forced root the B2C cut sits one level deeper (hospitals split first here)
    t, variables, kinds = planted
    res = fit_tree(t, variables, kinds, Tree(max_depth=4))
    cuts = _employee_cuts(res)
    assert any(400 <= c <= 600 for c in cuts) and any(70 <= c <= 150 for c in cuts), cuts
    assert "business_model" in res.split_variables


def test_rules_apply_out_of_sample_and_stats_match(planted):
    t, variables, kinds = planted
    res = fit_tree(t, variables, kinds, Tree(), forced_root="business_model")
    leaves = res.leaf_of(t)
    nd = res.nodes.set_index("node_id")
    assert (leaves >= 0).all() and set(leaves) == set(nd.index[nd["is_leaf"]])
    counts = leaves.value_counts()
    assert all(counts[k] == nd.at[k, "n"] for k in counts.index)
    means = t.groupby(leaves)["score"].mean()
    assert np.allclose(means.to_numpy(), nd.loc[means.index, "mean_score"].to_numpy())
    other, _ = planted_example(200, 99)                    # a fresh frame, e.g. a test fold
    assert (res.leaf_of(other) >= 0).all()
    assert res.predict(other).notna().all()
    assert "leaves" in res.summary()


def test_plot_draws_readable_boxes(planted):
    import matplotlib.pyplot as plt

    t, variables, kinds = planted
    res = fit_tree(t, variables, kinds, Tree(max_depth=2), forced_root="business_model")
    ax = res.plot()
    texts = [x.get_text() for x in ax.texts]
    assert len(texts) == len(res.nodes)
    assert any("business model = B2B" in s for s in texts)
    assert all("n = " in s and "in A" in s for s in texts)
    plt.close("all")


def test_sparse_categories_merged_and_missing_numeric_routed():
    rng = np.random.default_rng(3)
    n = 400
    ind = rng.choice(["Retail", "Health"], n)
    ind[:3] = "Mining"
    x = rng.uniform(0, 100, n)
    score = (ind == "Health") * -5 + (x > 60) * 5 + rng.normal(0, 1, n)
    x[:40] = np.nan
    t = pd.DataFrame({"industry": ind, "x": x, "score": score})
    res = fit_tree(t, ["industry", "x"], {"industry": "categorical", "x": "numeric"},
                   Tree(max_depth=2, min_samples_leaf=20))
    assert res.merged == {"industry": ["Mining"]}
    assert res.leaf_of(pd.DataFrame({"industry": ["Mining", "Unseen", None],
                                     "x": [np.nan, 70, 10]})).ge(0).all()
    assert res.nodes["rule"].str.contains("(or unknown)", regex=False).any()


def test_bad_inputs_raise_clear_errors():
    t = pd.DataFrame({"x": np.arange(10.0), "score": np.arange(10.0)})
    with pytest.raises(AnalysisError, match="fewer than"):
        fit_tree(t, ["x"], ["numeric"], Tree())
    with pytest.raises(InputDataError):
        fit_tree(t, ["nope"], ["numeric"], Tree(min_samples_leaf=2))
    with pytest.raises(InputDataError):
        fit_tree(t, ["x"], ["numeric"], Tree(min_samples_leaf=2), forced_root="y")

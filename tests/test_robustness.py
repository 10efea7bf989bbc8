"""Score-weight perturbation and segment stability (helpers.analyse.robustness)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from helpers.analyse import robustness as rb


def _components(n: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"account_id": [f"A{i:04d}" for i in range(n)],
                         "acv": rng.gamma(2, 5000, n), "cost": rng.gamma(2, 500, n),
                         "churn": (rng.random(n) < 0.2).astype(float)})


W = {"acv": 1.0, "cost": -1.0, "churn": -5000.0}


def test_identical_weights_give_rho_one_and_full_retention():
    comp = _components()
    single = rb.weight_perturbation(comp, {"acv": 1.0}, draws=20, seed=1)
    assert np.allclose(single.draws["spearman"], 1.0)
    assert np.allclose(single.draws["kendall"], 1.0)
    assert np.allclose(single.draws["top_retention"], 1.0)
    assert single.accounts["robust_top"].equals(single.accounts["base_top"])
    tight = rb.weight_perturbation(comp, W, draws=20, concentration=1e9, seed=1)
    assert tight.draws["spearman"].min() > 0.999
    assert tight.draws["top_retention"].min() == 1.0


def test_perturbation_invariants_and_spearman_matches_scipy():
    comp = _components()
    res = rb.weight_perturbation(comp, W, draws=30, concentration=5, seed=2)
    d = res.draws
    assert ((d["top_retention"] >= 0) & (d["top_retention"] <= 1)).all()
    assert res.accounts["base_top"].sum() == 125
    # signs kept, mean factor about 1
    assert (d["w_acv"] > 0).all() and (d["w_churn"] < 0).all()
    # draw 0 recomputed by hand
    w = d.loc[0, ["w_acv", "w_cost", "w_churn"]].to_numpy(dtype=float)
    c = comp[["acv", "cost", "churn"]].to_numpy()
    rho = spearmanr(c @ np.array(list(W.values())), c @ w).statistic
    assert d.loc[0, "spearman"] == pytest.approx(rho)
    # robust top: share of draws >= robust_share
    acc = res.accounts
    assert (acc["robust_top"] == (acc["top_share_of_draws"] >= 0.8)).all()
    again = rb.weight_perturbation(comp, W, draws=30, concentration=5, seed=2)
    pd.testing.assert_frame_equal(res.draws, again.draws)
    assert "Spearman" in rb.weights_sentence(res)


def test_ties_in_ranks_match_scipy():
    from scipy.stats import rankdata

    s = np.array([[3.0, 1, 1, 2, 3, 0], [0, 0, 0, 0, 1, 1]])
    _, r = rb._order_and_ranks(s)
    assert np.allclose(r, rankdata(-s, axis=1))


def test_jaccard_known_case():
    a = np.array(["x", "x", "x", "y", "y", "y"])
    b = np.array(["p", "p", "q", "q", "q", "q"])
    j = rb.jaccard_matrix(a, b)
    assert j.loc["x", "p"] == pytest.approx(2 / 3)   # {1,2} vs {1,2,3}
    assert j.loc["x", "q"] == pytest.approx(1 / 6)   # {3} vs {1..6}
    assert j.loc["y", "q"] == pytest.approx(3 / 4)


def test_segment_stability_stable_vs_random():
    rng = np.random.default_rng(0)
    n = 300
    table = pd.DataFrame({"account_id": [f"A{i:03d}" for i in range(n)],
                          "x": np.r_[rng.normal(0, 1, n // 2), rng.normal(10, 1, n // 2)]})
    stable = rb.segment_stability(table, lambda f: np.where(f["x"] > 5, "hi", "lo"),
                                  n_boot=10, seed=1)
    assert (stable["mean_jaccard"] == 1.0).all() and (stable["verdict"] == "stable").all()

    def noisy(f: pd.DataFrame):
        r = np.random.default_rng(len(f) + int(f["x"].sum() * 1000) % 97)
        return r.choice(["a", "b", "c", "d"], len(f))

    rand = rb.segment_stability(table, noisy, n_boot=10, seed=1)
    assert (rand["mean_jaccard"] < 0.5).all() and (rand["verdict"] == "dissolves").all()
    assert rb.stability_verdict(0.7) == "pattern" and rb.stability_verdict(0.55) == "weak"
    assert "2 of 2" in rb.stability_sentence(stable)

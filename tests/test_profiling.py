"""Tests for helpers.analyse.profiling: groups, sorted table, threshold finder, profiles, tests, BH."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.analyse import profiling as pf
from helpers.analyse.verdicts import explore, planted_example
from helpers.core.params import Analysis


def _table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = pd.DataFrame({"account_id": [f"A{i:03d}" for i in range(n)],
                      "score": rng.normal(size=n)})
    t["quartile"] = pf.score_groups(t["score"], 4, t["account_id"]).astype(str)
    return t


# --------------------------------------------------------------------------- groups
def test_score_groups_hand_computed_with_ties():
    s = pd.Series([10, 10, 5, 1, 1, 0, 3, 8], index=list("abcdefgh"))
    # descending, ties in row order: a(1) b(2) h(3) c(4) g(5) d(6) e(7) f(8); 2 per quartile
    got = pf.score_groups(s, 4).astype(str).tolist()
    assert got == ["A", "A", "B", "C", "D", "D", "C", "B"]


def test_score_groups_tiebreak_by_account_id_is_order_free():
    t = pd.DataFrame({"account_id": ["z", "y", "x", "w"], "score": [1.0, 1.0, 1.0, 1.0]})
    g1 = pf.score_groups(t["score"], 4, t["account_id"])
    rev = t.iloc[::-1]
    g2 = pf.score_groups(rev["score"], 4, rev["account_id"])
    assert g1.astype(str).tolist() == ["D", "C", "B", "A"]   # w best (first by id)
    assert g2.reindex(t.index).astype(str).tolist() == g1.astype(str).tolist()


def test_deciles_and_groups_for():
    s = pd.Series(np.arange(20, dtype=float))
    g = pf.score_groups(s, 10)
    assert g.value_counts().to_dict() == {f"D{i}": 2 for i in range(1, 11)}
    assert g.iloc[19] == "D1" and g.iloc[0] == "D10"
    assert pf.groups_for(999, 1000) == 4 and pf.groups_for(1000, 1000) == 10
    with pytest.raises(ValueError):
        pf.score_groups(s, 5)


def test_score_groups_missing_score_gets_no_group():
    g = pf.score_groups(pd.Series([3.0, np.nan, 1.0, 2.0, 4.0]), 4)
    assert pd.isna(g.iloc[1]) and g.iloc[4] == "A" and g.iloc[2] == "D"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=4, max_size=60))
def test_score_groups_balanced_and_monotone(values):
    s = pd.Series(values, dtype=float)
    g = pf.score_groups(s, 4)
    counts = g.value_counts()
    assert counts.max() - counts.min() <= 1
    codes = g.cat.codes.to_numpy()
    for a in range(3):  # every score in a better group >= every score in a worse group
        if (codes == a).any() and (codes > a).any():
            assert s[codes == a].min() >= s[codes > a].max()


def test_sorted_table_orders_by_score_then_account_id():
    t = pd.DataFrame({"account_id": ["b", "a", "c"], "score": [1.0, 1.0, 2.0],
                      "x": [1, 2, 3], "other": [0, 0, 0]})
    out = pf.sorted_table(t, ["x"])
    assert out["account_id"].tolist() == ["c", "a", "b"]
    assert out["position"].tolist() == [1, 2, 3]
    assert "other" not in out.columns and "x" in out.columns


# --------------------------------------------------------------------------- thresholds
def test_readable_cut_and_format():
    assert pf.readable_cut(480, 503) == 500
    assert pf.readable_cut(101, 103) == 102
    assert pf.readable_cut(0.31, 0.36) == 0.35
    assert pf.fmt_measure(5000) == "5,000" and pf.fmt_measure(2.5) == "2.5"


def test_threshold_finder_clean_cut_sentence():
    t = pd.DataFrame({"account_id": [f"A{i:02d}" for i in range(20)],
                      "score": np.arange(20, 0, -1, dtype=float)})
    emp = np.r_[[9000, 8000, 7000, 6000], np.linspace(1500, 100, 16)]
    t["employees"] = emp
    res = pf.threshold_finder(t, "employees", top_share=0.2, min_group=2)
    assert res["clean"] and res["cut"] == 5000 and res["n_above"] == 4
    assert res["sentence"] == ("every account with employees of 5,000 or more is in the top 20 %, "
                               "every one below is in the bottom 80 %")


def test_threshold_finder_soft_sentence_hand_computed():
    # 40 accounts, top 25 % = 10; 20 with x = 1,000 hold 8 of the top, 20 with x = 10 hold 2
    score = np.arange(40, 0, -1, dtype=float)           # row i has position i + 1
    x = np.full(40, 10.0)
    x[[0, 1, 2, 3, 4, 5, 6, 7]] = 1000                   # 8 top accounts
    x[np.arange(10, 22)] = 1000                          # 12 non-top accounts
    t = pd.DataFrame({"account_id": [f"A{i:02d}" for i in range(40)], "score": score, "x": x})
    res = pf.threshold_finder(t, "x")
    assert res["rate_above"] == pytest.approx(0.4) and res["rate_below"] == pytest.approx(0.1)
    assert res["ratio"] == pytest.approx(4.0) and res["lift"] == pytest.approx(1.6)
    assert not res["clean"] and res["cut"] == 1000
    assert "4.0x as likely to be in the top 25 %" in res["sentence"]


def test_threshold_finder_none_when_impossible():
    t = pd.DataFrame({"score": np.arange(30.0), "x": np.ones(30)})
    assert pf.threshold_finder(t, "x") is None
    t["x"] = np.nan
    assert pf.threshold_finder(t, "x") is None


# --------------------------------------------------------------------------- profile
def test_quartile_profile_hand_computed():
    t = pd.DataFrame({"account_id": list("abcdefgh"), "score": [8, 7, 6, 5, 4, 3, 2, 1.0],
                      "x": [10, 20, 1, 3, 5, np.nan, 0, 0],
                      "bm": ["B2B", "B2C", "B2B", "B2B", "B2C", "B2C", "B2C", "B2C"]})
    t["quartile"] = pf.score_groups(t["score"], 4).astype(str)
    hyp = pd.DataFrame({"id": ["H1", "H2"], "variable": ["x", "bm"],
                        "kind": ["numeric", "categorical"], "selected": [True, True]})
    p = pf.quartile_profile(t, hyp)
    num = p[(p["variable"] == "x") & (p["stat"] == "mean")].set_index("group")["value"]
    assert num.to_dict() == pytest.approx({"A": 15.0, "B": 2.0, "C": 5.0, "D": 0.0, "all": 39 / 7})
    assert p[(p["variable"] == "x") & (p["stat"] == "missing") & (p["group"] == "C")]["value"].item() == 1
    share = p[(p["variable"] == "bm") & (p["stat"] == "share") & (p["category"] == "B2B")]
    assert share.set_index("group")["value"].to_dict() == pytest.approx(
        {"A": 0.5, "B": 1.0, "C": 0.0, "D": 0.0, "all": 3 / 8})


# --------------------------------------------------------------------------- effect sizes
def test_effect_sizes_hand_computed():
    assert pf.cliffs_delta(np.array([1, 2, 3]), np.array([0, 0, 5])) == pytest.approx(1 / 3)
    v, chi2, dof = pf.cramers_v_corrected(np.array([[500, 0], [0, 500]]))
    assert v == pytest.approx(1.0, abs=1e-3) and dof == 1
    v0, _, _ = pf.cramers_v_corrected(np.array([[250, 250], [250, 250]]))
    assert v0 == pytest.approx(0.0)
    assert pf.epsilon_squared(9.0, 10) == pytest.approx(9 * 11 / 99)


def test_bh_adjust_against_hand_table_with_nan():
    p = pd.Series([0.01, 0.04, 0.03, np.nan, 0.005], index=list("abcde"))
    adj = pf.bh_adjust(p)
    assert adj.index.tolist() == list("abcde")
    assert adj["a"] == pytest.approx(0.02) and adj["e"] == pytest.approx(0.02)
    assert adj["b"] == pytest.approx(0.04) and adj["c"] == pytest.approx(0.04)
    assert np.isnan(adj["d"])
    assert pf.bh_adjust(pd.Series([np.nan, np.nan])).isna().all()


# --------------------------------------------------------------------------- test_variable
def test_numeric_test_finds_planted_effect_and_direction():
    t = _table(400, 1)
    t["x"] = t["score"] * 2 + np.random.default_rng(2).normal(size=400)
    t["y"] = -t["score"] + np.random.default_rng(3).normal(size=400)
    rx = pf.test_variable(t, "x", "numeric")
    ry = pf.test_variable(t, "y", "numeric")
    assert rx["testable"] and rx["effect_direction"] == "+" and rx["p_value"] < 1e-6
    assert rx["cliffs_delta"] > 0.5 and rx["spearman_rho"] > 0.5 and rx["kw_p"] < 1e-6
    assert ry["effect_direction"] == "-" and ry["effect_size"] < -0.3


def test_small_base_uses_seeded_permutations():
    t = _table(80, 4)
    t["x"] = t["score"] + np.random.default_rng(5).normal(size=80)
    prm = Analysis(permutations=500)
    r1 = pf.test_variable(t, "x", "numeric", prm, seed=3)
    r2 = pf.test_variable(t, "x", "numeric", prm, seed=3)
    assert "permutation" in r1["test"] and r1["p_value"] == r2["p_value"]
    assert r1["p_value"] >= 1 / 501


@pytest.mark.parametrize("values, kind, reason", [
    (lambda n: np.full(n, 7.0), "numeric", "constant column"),
    (lambda n: np.full(n, np.nan), "numeric", "all values missing"),
    (lambda n: np.r_[np.arange(20.0), np.full(n - 20, np.nan)], "numeric", "fewer than 30"),
    (lambda n: np.array(["B2B"] * n), "categorical", "single category"),
])
def test_untestable_cases_return_a_reason(values, kind, reason):
    t = _table(100)
    t["v"] = values(100)
    r = pf.test_variable(t, "v", kind)
    assert r["testable"] is False and reason in r["reason"]


def test_missing_column_and_strings_in_numeric():
    t = _table(100)
    assert "not in the analysis table" in pf.test_variable(t, "nope", "numeric")["reason"]
    t["v"] = np.arange(100.0).astype(str)
    t.loc[:4, "v"] = "n/a"
    r = pf.test_variable(t, "v", "numeric")
    assert r["testable"] and "5 non-numeric" in r["note"] and r["n_missing"] == 5


def test_category_with_one_account_is_merged_and_flagged():
    t = _table(300, 6)
    rng = np.random.default_rng(7)
    t["ind"] = rng.choice(["Retail", "Software"], 300)
    t.loc[0, "ind"] = "Mining"
    r = pf.test_variable(t, "ind", "categorical")
    assert r["testable"] and "Mining" in r["note"] and "other" in r["note"]


def test_boolean_named_category_and_sparse_boolean():
    t = _table(400, 8)
    rng = np.random.default_rng(9)
    t["multi"] = (rng.random(400) < 0.3) | (t["quartile"] == "D") & (rng.random(400) < 0.5)
    r = pf.test_variable(t, "multi", "boolean")
    assert r["category"] == "yes" and r["effect_direction"] == "-" and r["p_value"] < 0.01
    assert 0 < r["cramers_v"] < 1 and r["a_vs_rest_test"] in ("chi-square 2x2", "Fisher exact")
    t["rare"] = False
    t.loc[:5, "rare"] = True          # 6 accounts: below min_category_size -> merged away
    r2 = pf.test_variable(t, "rare", "boolean")
    assert r2["testable"] is False and "sparse" in r2["reason"]


def test_test_hypotheses_adjusts_only_tested_rows():
    t = _table(200, 10)
    t["x"] = t["score"] + np.random.default_rng(1).normal(size=200)
    t["c"] = 1.0
    hyp = pd.DataFrame({"id": ["H1", "H2", "H3"], "variable": ["x", "c", "x"],
                        "kind": ["numeric", "numeric", "numeric"],
                        "selected": [True, True, False]})
    out = pf.test_hypotheses(t, hyp)
    assert out["hypothesis_id"].tolist() == ["H1", "H2"]
    assert out["p_value_adjusted"].notna().tolist() == [True, False]


def test_thresholds_table_and_explore():
    t, hyp = planted_example(100_000, 1)
    th = pf.thresholds_table(t.head(3000), hyp)
    assert set(th["variable"]) == {"employees", "ad_budget_usd", "it_team_size",
                                   "social_media_followers", "founded_year", "glassdoor_rating"}
    # the explorer's speed is measured by benchmarks/bench.py (explorer ms), never asserted here
    e = explore(t, "employees")
    assert explore(t, "industry")["distribution"]["count"].sum() == 100_000
    assert e["best_split"]["cut"] == 500 and set(e["profile"]["group"].astype(str)) == set("ABCD")
    assert int(e["distribution"]["count"].sum()) == 100_000

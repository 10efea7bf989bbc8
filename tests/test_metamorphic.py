"""Metamorphic tests and independent cross-checks of the analysis helpers (issue 14).

Metamorphic: the same verdicts (and tree rules up to renaming) when the rows are shuffled,
the columns renamed, the category labels renamed consistently (Yes/No -> Y/N -> 1/0), all money
scaled by a constant or an unused column added; the direction flips when ``positive_category``
is switched or the expected direction reversed. Cross-checks against independent code: Cliff's
delta vs brute force, Benjamini-Hochberg vs ``scipy.stats.false_discovery_control``, regression
coefficients vs the statsmodels formula API, accuracy ratio vs 2 AUC - 1.

Small random tables built here (seeded by hypothesis, derandomised) keep the module fast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import false_discovery_control
from sklearn.metrics import roc_auc_score

from helpers.analyse import lift
from helpers.analyse import profiling as pf
from helpers.analyse.regression import backward_eliminate
from helpers.analyse.tree import fit_tree
from helpers.analyse.verdicts import verdicts
from helpers.core.params import Analysis, Regression, Tree

SETTINGS = settings(max_examples=5, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
TREE = Tree(max_depth=2, min_samples_leaf=20, min_category_size=10, round_tolerance=0)
KINDS = {"seats": "numeric", "plan": "categorical", "annual": "boolean", "revenue": "numeric",
         "noise": "numeric"}
TREE_VARS = ["seats", "plan", "annual", "revenue"]
MONEY = ["score", "revenue"]


def room(seed: int, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small account table with planted effects of random sign (seats, plan 'Pro', annual
    billing 'Yes', revenue) and a noise column, and its hypotheses."""
    rng = np.random.default_rng(seed)
    sign = rng.choice([-1.0, 1.0], 4)
    seats = np.round(np.exp(rng.normal(3, 1, n))).clip(1, None)
    plan = rng.choice(["Basic", "Pro", "Enterprise"], n, p=[0.4, 0.35, 0.25])
    annual = rng.random(n) < 0.5
    revenue = np.round(np.exp(rng.normal(13, 1, n)), 2)
    latent = (sign[0] * 0.8 * (np.log(seats) - 3) + sign[1] * 0.9 * (plan == "Pro")
              + sign[2] * 0.9 * annual + sign[3] * 0.5 * (np.log(revenue) - 13)
              + rng.normal(0, 1, n))
    t = pd.DataFrame({
        "account_id": [f"A{i:04d}" for i in rng.permutation(n)],
        "score": np.round(20000 + 5000 * latent, 2), "seats": seats, "plan": plan,
        "annual": np.where(annual, "Yes", "No"), "revenue": revenue,
        "noise": np.round(rng.normal(0, 1, n), 3)})
    hyp = pd.DataFrame({
        "id": ["H1", "H2", "H3", "H4", "H5"],
        "variable": ["seats", "plan", "annual", "revenue", "noise"],
        "kind": ["numeric", "categorical", "boolean", "numeric", "numeric"],
        "direction": ["+", "+", "+", "-", "+"],
        "positive_category": [None, "Pro", "Yes", None, None],
        "statement": ["", "", "", "", ""], "selected": True})
    return t, hyp


def outcome(t: pd.DataFrame, hyp: pd.DataFrame) -> pd.DataFrame:
    tests = pf.test_hypotheses(t, hyp, Analysis())
    return verdicts(t, hyp, Analysis(), tests=tests).set_index("hypothesis_id")


def same_verdicts(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a["verdict"].to_dict() == b["verdict"].to_dict()
    assert a["direction"].to_dict() == b["direction"].to_dict()
    np.testing.assert_allclose(a["effect_size"], b["effect_size"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a["p_value_adjusted"], b["p_value_adjusted"], rtol=1e-6,
                               atol=1e-15)


def tree_shape(t: pd.DataFrame, variables=TREE_VARS, kinds=KINDS, rename=None) -> list[tuple]:
    """The tree as (node, split variable, accounts, mean score) with variables renamed back."""
    res = fit_tree(t, variables, {v: kinds[v] for v in variables}, TREE)
    back = {v: k for k, v in (rename or {}).items()}
    return [(r.node_id, back.get(r.split_variable, r.split_variable), r.n,
             round(r.mean_score, 6)) for r in res.nodes.itertuples()]


seeds = st.integers(0, 2**31 - 1)
sizes = st.integers(220, 360)   # above analysis.small_base: no permutation p-values


def _shuffled(t: pd.DataFrame, seed: int) -> pd.DataFrame:
    return t.sample(frac=1.0, random_state=seed % 1000).reset_index(drop=True)


def _with_unused_column(t: pd.DataFrame, seed: int) -> pd.DataFrame:
    t2 = t.assign(unused=np.random.default_rng(seed).normal(size=len(t)))
    return t2[["unused", *t.columns]]     # first, so nothing depends on column positions


@pytest.mark.parametrize("change", [_shuffled, _with_unused_column],
                         ids=["rows shuffled", "unused column added"])
@SETTINGS
@given(seeds, sizes)
def test_shuffled_rows_or_an_unused_column_change_nothing(change, seed, n):
    t, hyp = room(seed, n)
    t2 = change(t, seed)
    same_verdicts(outcome(t, hyp), outcome(t2, hyp))
    assert tree_shape(t) == tree_shape(t2)


@SETTINGS
@given(seeds, sizes)
def test_renamed_columns_give_the_same_verdicts_and_tree(seed, n):
    t, hyp = room(seed, n)
    mapping = {"seats": "Licensed Seats", "plan": "tier_x", "annual": "bill_yearly",
               "revenue": "rev_usd", "noise": "zz_extra"}
    t2 = t.rename(columns=mapping)
    hyp2 = hyp.assign(variable=hyp["variable"].map(mapping))
    a, b = outcome(t, hyp), outcome(t2, hyp2)
    same_verdicts(a, b)
    assert (b["variable"] == a["variable"].map(mapping)).all()
    kinds2 = {mapping[k]: v for k, v in KINDS.items()}
    assert tree_shape(t) == tree_shape(t2, [mapping[v] for v in TREE_VARS], kinds2, mapping)


@SETTINGS
@given(seeds, sizes, st.sampled_from([("Y", "N"), ("1", "0"), ("TRUE", "FALSE"), (1.0, 0.0)]),
       st.sampled_from([{"Basic": "b", "Pro": "p", "Enterprise": "e"},
                        {"Basic": "Zeta", "Pro": "Alpha", "Enterprise": "Mid"}]))
def test_consistently_renamed_labels_give_the_same_verdicts(seed, n, yes_no, plan_map):
    t, hyp = room(seed, n)
    t2 = t.assign(annual=np.where(t["annual"] == "Yes", yes_no[0], yes_no[1]),
                  plan=t["plan"].map(plan_map))
    hyp2 = hyp.assign(positive_category=hyp["positive_category"].replace(
        {"Pro": plan_map["Pro"], "Yes": str(yes_no[0])}))
    same_verdicts(outcome(t, hyp), outcome(t2, hyp2))
    # the tree's partitions do not depend on the labels (categories ordered by mean score)
    assert [s[1:] for s in tree_shape(t)] == [s[1:] for s in tree_shape(t2)]


@SETTINGS
@given(seeds, sizes, st.sampled_from([1000.0, 1.08, 0.01]))
def test_money_scaled_by_a_constant_gives_the_same_verdicts_and_tree(seed, n, c):
    t, hyp = room(seed, n)
    t2 = t.assign(**{m: t[m] * c for m in MONEY})
    same_verdicts(outcome(t, hyp), outcome(t2, hyp))
    a, b = tree_shape(t), tree_shape(t2)
    assert [s[:3] for s in a] == [s[:3] for s in b]
    np.testing.assert_allclose([s[3] * c for s in a], [s[3] for s in b], rtol=1e-6)


@SETTINGS
@given(seeds, sizes)
def test_switching_the_category_or_the_expected_direction_flips_the_result(seed, n):
    t, hyp = room(seed, n)
    base = outcome(t, hyp)
    other = outcome(t, hyp.assign(positive_category=[None, None, "No", None, None]))
    np.testing.assert_allclose(other.at["H3", "effect_size"], -base.at["H3", "effect_size"])
    flipped = outcome(t, hyp.assign(direction=hyp["direction"].map({"+": "-", "-": "+"})))
    for hid in base.index:
        np.testing.assert_allclose(flipped.at[hid, "effect_size"], base.at[hid, "effect_size"])
        if base.at[hid, "verdict"] == "validated":
            assert flipped.at[hid, "verdict"] == "rejected"
            assert flipped.at[hid, "reason"].startswith("contradicts expected direction")
        if base.at[hid, "reason"].startswith("contradicts expected direction") and \
                abs(base.at[hid, "effect_size"]) >= Analysis().min_effect:
            assert flipped.at[hid, "verdict"] == "validated"
        if not base.at[hid, "reason"].startswith(("contradicts", "significant after")):
            assert flipped.at[hid, "verdict"] == base.at[hid, "verdict"]
    for hid, sign in (("H3", -1.0),):   # annual: "No" instead of "Yes" -> the opposite verdict
        if base.at[hid, "verdict"] == "validated":
            assert other.at[hid, "verdict"] == "rejected"
        assert np.sign(other.at[hid, "effect_size"]) == sign * np.sign(base.at[hid,
                                                                                "effect_size"])


# ----------------------------------------------------------------------------- cross-checks
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=30),
       st.lists(st.integers(0, 6), min_size=1, max_size=30))
def test_cliffs_delta_matches_brute_force(x, y):
    a, b = np.array(x, dtype=float), np.array(y, dtype=float)
    brute = np.mean(np.sign(a[:, None] - b[None, :]))
    assert pf.cliffs_delta(a, b) == pytest.approx(brute, abs=1e-12)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.lists(st.one_of(st.floats(0, 1), st.just(float("nan"))), min_size=1, max_size=40))
def test_bh_matches_scipy_false_discovery_control(p):
    p = pd.Series(p, dtype=float)
    got = pf.bh_adjust(p)
    ok = p.notna()
    assert got[~ok].isna().all()
    if ok.any():
        want = false_discovery_control(p[ok].to_numpy(), method="bh")
        np.testing.assert_allclose(got[ok].to_numpy(), want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_regression_coefficients_match_the_statsmodels_formula_api(seed):
    t, _ = room(seed, 400)
    t["log_seats"] = np.log(t["seats"])
    params = Regression(target="score", log_skew=None, split_by=None, alpha=0.999, vif_max=50)
    variables = ["log_seats", "plan", "noise"]
    res = backward_eliminate(t, variables, {"log_seats": "numeric", "plan": "categorical",
                                            "noise": "numeric"}, params)
    assert res.kept == variables              # nothing dropped at alpha 0.999
    ref = t["plan"].value_counts().idxmax()   # the workbook's reference: the largest category
    fit = smf.ols(f"score ~ log_seats + C(plan, Treatment(reference='{ref}')) + noise",
                  data=t).fit(cov_type="HC3")
    coefs = res.coefs.set_index("term")
    name = {"Intercept": "const", "log_seats": "log seats", "noise": "noise"}
    for term, value in fit.params.items():
        mine = name.get(term) or f"plan = {term.split('[T.')[1].rstrip(']')}"
        assert coefs.at[mine, "coef"] == pytest.approx(value, rel=1e-8, abs=1e-8)
        assert coefs.at[mine, "se"] == pytest.approx(fit.bse[term], rel=1e-8)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(st.integers(0, 2**31 - 1), st.integers(20, 200), st.integers(2, 50))
def test_accuracy_ratio_is_two_auc_minus_one(seed, n, levels):
    rng = np.random.default_rng(seed)
    target = rng.random(n) < 0.3
    if target.all() or not target.any():
        target[0], target[-1] = True, False
    score = rng.integers(0, levels, n) + target * rng.integers(0, 3, n)   # ties on purpose
    want = 2 * roc_auc_score(target, score) - 1
    assert lift.accuracy_ratio(score.astype(float), target) == pytest.approx(want, abs=1e-9)

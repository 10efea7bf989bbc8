"""Gains curves, accuracy ratio, decile table, out-of-sample evaluation (helpers.analyse.lift)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from helpers.analyse import lift
from helpers.core.errors import AnalysisError

TOP = np.array([1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)  # 2 top of 8: pi = 0.25


def _y(curve: pd.DataFrame, x: float) -> float:
    return lift.capture_at(curve, x)


# --------------------------------------------------------------------------- top label
def test_top_label_count_and_tie_break_by_id_not_row_order():
    score = pd.Series([5.0, 3.0, 3.0, 3.0, 1.0, 0.0, 0.0, 0.0], index=list("abcdefgh"))
    top = lift.top_label(score, 0.25)
    assert top.sum() == 2  # ceil(0.25 * 8)
    assert list(top[top].index) == ["a", "b"]  # tie 3.0 broken by id ascending
    shuffled = score.iloc[[3, 7, 1, 0, 5, 2, 6, 4]]
    top2 = lift.top_label(shuffled, 0.25)
    assert top2.reindex(top.index).equals(top)
    assert lift.top_count(10, 0.25) == 3


# --------------------------------------------------------------------------- curves
def test_gains_perfect_random_reversed_tied():
    perfect = lift.gains_curve(np.arange(8, 0, -1), TOP)
    assert _y(perfect, 0.125) == pytest.approx(0.5)
    assert _y(perfect, 0.25) == pytest.approx(1.0)
    assert _y(perfect, 0.5) == pytest.approx(1.0)
    reversed_ = lift.gains_curve(np.arange(8), TOP)
    assert _y(reversed_, 0.75) == pytest.approx(0.0)
    assert _y(reversed_, 0.875) == pytest.approx(0.5)
    tied = lift.gains_curve(np.zeros(8), TOP)
    assert np.allclose(tied["y"], tied["x"])  # all tied -> diagonal
    # one block of 4 holding both tops: linear credit 0 -> 1 across x in [0, 0.5]
    step = lift.gains_curve([1, 1, 1, 1, 0, 0, 0, 0], TOP)
    assert _y(step, 0.25) == pytest.approx(0.5)
    assert _y(step, 0.5) == pytest.approx(1.0)


def test_row_order_never_matters_with_ties():
    rng = np.random.default_rng(0)
    s = rng.integers(0, 3, 200).astype(float)
    t = rng.random(200) < 0.25
    base = lift.gains_curve(s, t)
    perm = rng.permutation(200)
    again = lift.gains_curve(s[perm], t[perm])
    assert np.allclose(base["y"], again["y"])


def test_accuracy_ratio_reference_values():
    assert lift.accuracy_ratio(np.arange(8, 0, -1), TOP) == pytest.approx(1.0)
    assert lift.accuracy_ratio(np.zeros(8), TOP) == pytest.approx(0.0)
    assert lift.accuracy_ratio(np.arange(8), TOP) == pytest.approx(-1.0)
    # AUGC* = 1 - pi/2
    assert lift.augc(np.arange(8, 0, -1), TOP) == pytest.approx(1 - 0.25 / 2)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.booleans()), min_size=4, max_size=60))
def test_ar_equals_two_auc_minus_one_with_ties(pairs):
    s = np.array([p[0] for p in pairs], dtype=float)
    t = np.array([p[1] for p in pairs])
    if t.all() or not t.any():
        return
    assert lift.accuracy_ratio(s, t) == pytest.approx(2 * roc_auc_score(t, s) - 1, abs=1e-9)


def test_value_weighted_capture():
    value = np.array([10.0, 0, 0, 0, 30, 0, 0, 60])
    curve = lift.gains_curve(np.arange(8, 0, -1), weights=value, grid=np.linspace(0, 1, 9))
    assert _y(curve, 0.125) == pytest.approx(0.1)
    assert _y(curve, 0.625) == pytest.approx(0.4)
    assert lift.accuracy_ratio(-value, weights=value) == pytest.approx(-1.0)


def test_decile_table_with_ties():
    s = np.r_[np.full(5, 2.0), np.zeros(15)]  # a block of 5 = 25 % of accounts
    t = np.r_[True, True, False, False, False, True, np.zeros(14, bool)]
    d = lift.decile_table(s, t)
    assert d["accounts"].sum() == pytest.approx(20)
    assert d["top_accounts"].sum() == pytest.approx(3)
    # decile 1 = 2 of the 5 tied accounts: 2/5 of the block's 2 tops
    assert d.loc[0, "top_accounts"] == pytest.approx(0.8)
    assert d.loc[0, "lift"] == pytest.approx((0.8 / 2) / 0.15)
    assert d["cum_capture"].iloc[-1] == pytest.approx(1.0)


# --------------------------------------------------------------------------- schemes
def _table(n: int = 400, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    emp = rng.lognormal(5, 1, n)
    b2b = rng.random(n) < 0.5
    score = np.log(emp) + 1.5 * b2b + rng.normal(0, 1, n)
    return pd.DataFrame({"account_id": [f"A{i:04d}" for i in range(n)], "score": score,
                         "quartile": "A", "employees": emp,
                         "business_model": np.where(b2b, "B2B", "B2C"),
                         "noise": rng.random(n)})


def test_kfold_isolation_scheme_never_sees_held_out():
    table = _table(200)
    calls: list[tuple[set, set]] = []  # (trained on, scored): folds may run side by side

    def fit(train: pd.DataFrame):
        train_ids = set(train["account_id"])

        def scorer(df: pd.DataFrame):
            assert "score" not in df.columns and "quartile" not in df.columns
            calls.append((train_ids, set(df["account_id"])))
            return df["employees"]
        return scorer

    scheme = lift.Scheme("spy", fit)
    is_top = lift.top_label(table["score"].set_axis(table["account_id"]))
    oof = lift.out_of_fold_scores(table, scheme, is_top.to_numpy(), folds=4, repeats=2, seed=3)
    assert oof.shape == (2, 200) and np.isfinite(oof).all()
    assert len(calls) == 8
    for train_ids, test_ids in calls:
        assert not train_ids & test_ids
        assert train_ids | test_ids == set(table["account_id"])
    # each repeat scores every account exactly once: twice in all
    counts = pd.Series([x for _, s in calls for x in s]).value_counts()
    assert set(counts.index) == set(table["account_id"]) and (counts == 2).all()


@pytest.mark.parametrize("jobs", ["1", "2", "3"])
def test_parallel_folds_and_bootstrap_match_serial(monkeypatch, jobs):
    """helpers.core.parallel: the same numbers whatever the number of workers."""
    table = _table(400)
    schemes = [lift.column_scheme("Employees", "employees"),
               lift.group_mean_scheme("Business model", ["business_model"])]
    monkeypatch.setenv("WORKBOOK_JOBS", "1")
    serial = lift.evaluate_schemes(table, schemes, folds=3, repeats=2, bootstrap=30, seed=5)
    monkeypatch.setenv("WORKBOOK_JOBS", jobs)
    par = lift.evaluate_schemes(table, schemes, folds=3, repeats=2, bootstrap=30, seed=5)
    for a, b in zip(serial, par, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_evaluate_schemes_shapes_and_ordering():
    table = _table()
    schemes = [lift.column_scheme("Employees", "employees"),
               lift.group_mean_scheme("Business model", ["business_model"]),
               lift.column_scheme("Noise", "noise")]
    lift_long, summary = lift.evaluate_schemes(table, schemes, folds=4, repeats=2,
                                               bootstrap=30, seed=5)
    assert set(lift_long["sample"]) == {"in_sample", "out_of_sample", "reference"}
    assert {"scheme", "x", "y"} <= set(lift_long.columns)
    assert len(summary) == 6
    for col in ("accuracy_ratio", "capture_25", "capture_50", "accuracy_ratio_ci_low",
                "accuracy_ratio_ci_high", "capture_25_ci_low", "capture_50_ci_high"):
        assert col in summary.columns
    s = summary.set_index(["scheme", "sample"])
    # unlearned column scheme: in- and out-of-sample identical
    assert s.loc[("Employees", "in_sample"), "accuracy_ratio"] == pytest.approx(
        s.loc[("Employees", "out_of_sample"), "accuracy_ratio"])
    assert s.loc[("Employees", "in_sample"), "accuracy_ratio"] > \
        s.loc[("Noise", "in_sample"), "accuracy_ratio"] + 0.2
    row = s.loc[("Employees", "in_sample")]
    assert row["accuracy_ratio_ci_low"] <= row["accuracy_ratio"] <= row["accuracy_ratio_ci_high"]
    ar = lift.accuracy_ratio(table["employees"],
                             lift.top_label(table["score"].set_axis(table["account_id"])))
    assert row["accuracy_ratio"] == pytest.approx(ar)
    # deterministic
    _, again = lift.evaluate_schemes(table, schemes, folds=4, repeats=2, bootstrap=30, seed=5)
    pd.testing.assert_frame_equal(summary, again)


def test_compare_schemes_paired():
    table = _table()
    top = lift.top_label(table["score"].set_axis(table["account_id"]))
    res = lift.compare_schemes(table["employees"], table["noise"], top, bootstrap=50,
                               names=("Employees", "Noise"))
    assert res["ci_low"] > 0 and res["verdict"] == "Employees beats Noise"
    same = lift.compare_schemes(table["noise"], table["noise"], top, bootstrap=20)
    assert same["diff"] == 0 and same["ci_low"] == same["ci_high"] == 0


def test_scheme_with_missing_scores_raises():
    table = _table(80)
    bad = lift.Scheme("bad", lambda tr: (lambda df: pd.Series(np.nan, index=df.index)))
    with pytest.raises(AnalysisError, match="gave no score"):
        lift.evaluate_schemes(table, [bad], folds=2, repeats=1, bootstrap=0)


def test_plot_gains_runs():
    import matplotlib

    matplotlib.use("Agg")
    table = _table(120)
    lift_long, _ = lift.evaluate_schemes(table, [lift.column_scheme("Employees", "employees")],
                                         folds=3, repeats=1, bootstrap=0)
    ax = lift.plot_gains(lift_long)
    assert "Employees finds" in ax.get_title()
    assert len(ax.lines) == 4


def test_resample_counts_packed_equal_one_bincount_per_ranking():
    """Few-block rankings share one joint code; every ranking's counts are exactly what one
    bincount of its own (block, top) codes gives, whatever the packing."""
    rng = np.random.default_rng(8)
    n = 3000
    t = (rng.random(n) < 0.25).astype(float)
    scores = [rng.integers(0, k, n).astype(float) for k in (2, 3, 12, 7, 2000, 5)]
    scores.append(rng.normal(size=n))  # ~n blocks: a pack of its own
    preps = [lift._Prepared.build(s, t) for s in scores]
    pick = rng.integers(0, n, n)
    for joint_max in (2, 64, 1 << 16):
        got = lift._ResampleCounts(preps, t, joint_max=joint_max).counts(pick)
        for prep, cnt in zip(preps, got, strict=True):
            codes = 2 * prep.block_index() + t.astype(int)
            want = np.bincount(codes[pick], minlength=2 * len(prep.starts)).reshape(-1, 2)
            np.testing.assert_array_equal(cnt, want)
        # and the curve equals the weighted one (resample counts as weights)
        w = np.bincount(pick, minlength=n).astype(float)
        for prep, cnt in zip(preps, got, strict=True):
            for a, b in zip(lift._points_from_counts(cnt), prep.points(w), strict=True):
                np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert len(lift._ResampleCounts(preps, t).packs) < len(preps)


def test_scheme_gains_one_colour_per_scheme_winner_first():
    """The report's gains chart: one out-of-sample curve per scheme, each its own colour; the
    winner (largest out-of-sample area) first, thickest, and the only in-sample curve."""
    import matplotlib

    matplotlib.use("Agg")
    from helpers.present import plots

    table = _table()
    schemes = [lift.column_scheme("Noise", "noise"),
               lift.column_scheme("Employees", "employees"),
               lift.group_mean_scheme("Business model", ["business_model"])]
    lift_long, summary = lift.evaluate_schemes(table, schemes, folds=3, repeats=2,
                                               bootstrap=0, seed=2)
    ranking = plots.scheme_ranking(lift_long)
    oos = summary[summary["sample"] == "out_of_sample"].sort_values(
        "accuracy_ratio", ascending=False)
    assert ranking == oos["scheme"].tolist()  # area order = accuracy-ratio order
    assert ranking[0] == "Employees"
    colours = plots.scheme_colours(lift_long)
    assert list(colours) == ranking and len(set(colours.values())) == len(ranking)
    fig = plots.scheme_gains(lift_long)
    ax = fig.axes[0]
    labels = [ln.get_label() for ln in ax.lines]
    assert len(ax.lines) == len(ranking) + 1 + 2  # + winner in-sample + random + perfect
    assert sum("in-sample" in lab for lab in labels) == 1
    by_label = {ln.get_label(): ln for ln in ax.lines}
    best = by_label["1. Employees (best)"]
    assert all(best.get_linewidth() > ln.get_linewidth() for ln in ax.lines if ln is not best)
    for k, name in enumerate(ranking, start=1):
        line = next(ln for lab, ln in by_label.items() if lab.startswith(f"{k}. {name}"))
        assert matplotlib.colors.to_hex(line.get_color()) == colours[name].lower()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [f"{k}. {n}" + (" (best)" if k == 1 else "")
                      for k, n in enumerate(ranking, start=1)] + [
        "Employees, in-sample (fitted on all accounts)", "Baseline (random)", "Perfect"]
    assert ax.get_title(loc="left").startswith("Employees finds")
    matplotlib.pyplot.close(fig)

"""Gower distance, needs clusters, diamonds in the rough (helpers.analyse.needs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analyse import needs


def test_gower_hand_computed():
    df = pd.DataFrame({"onboarding": [1.0, 5.0, 3.0], "outcome": ["hire", "hire", "retain"],
                       "self_serve": [True, False, np.nan]})
    d = needs.gower_distance(df)
    # pair 0-1: |1-5|/4 = 1, same outcome 0, different yes/no 1 -> 2/3
    assert d[0, 1] == pytest.approx(2 / 3)
    # pair 0-2: |1-3|/4 = .5, outcome 1, self_serve missing -> (.5 + 1) / 2
    assert d[0, 2] == pytest.approx(0.75)
    assert d[1, 2] == pytest.approx((0.5 + 1) / 2)
    assert np.allclose(np.diag(d), 0) and np.allclose(d, d.T)


def _survey(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    grp = np.arange(n) % 2
    return pd.DataFrame({
        "account_id": [f"A{i:03d}" for i in range(n)],
        "primary_outcome": np.where(grp == 0, "campus hiring", "experienced hiring"),
        "onboarding_help": np.where(grp == 0, 4.5, 1.5) + rng.normal(0, 0.5, n),
        "self_serve_preference": np.where(grp == 0, "no", "yes"),
    })


def test_cluster_needs_finds_two_groups_deterministically():
    s = _survey()
    cols = ["primary_outcome", "onboarding_help", "self_serve_preference"]
    res = needs.cluster_needs(s, cols, k_range=(2, 5))
    assert res.k == 2
    assert set(res.silhouettes["k"]) == {2, 3, 4, 5}
    grp = (np.arange(60) % 2)
    lab = res.labels.reindex(s["account_id"]).to_numpy()
    assert len(set(zip(lab, grp, strict=True))) == 2  # clusters == planted groups
    again = needs.cluster_needs(s.sample(frac=1, random_state=1), cols, k_range=(2, 5))
    assert again.labels.sort_index().equals(res.labels.sort_index())
    desc = needs.describe_clusters(s, res.labels, cols)
    assert len(desc) == 2 and desc["required_outcome"].str.contains("hiring").all()
    assert desc["appropriate_experience"].str.len().gt(0).all()


def test_diamonds_and_cross():
    s = _survey(8)
    labels = pd.Series([1, 2, 1, 2, 1, 2, 1, 2], index=s["account_id"], name="needs_cluster")
    table = pd.DataFrame({"account_id": s["account_id"],
                          "score": [10.0, 1, 9, 2, 1.5, 3, 0.5, 4]})
    out = needs.diamonds(table, labels, diamond_value_share=0.8)
    # cluster 1 mean score (10+9+1.5+.5)/4 = 5.25 > cluster 2 -> best fit
    # bottom 80 % by score: percentile <= .8 -> excludes A000 (1.0) and A002 (.875)
    assert set(out.loc[out["diamond"], "account_id"]) == {"A004", "A006"}
    cross = needs.cross_with_value(labels, table, pd.Series(["S1"] * 4 + ["S2"] * 4))
    assert cross.loc[1, "S1"] == 2 and cross.to_numpy().sum() == 8


def test_large_survey_clusters_a_seeded_sample_and_assigns_the_rest():
    s = _survey(600, seed=3)
    cols = ["primary_outcome", "onboarding_help", "self_serve_preference"]
    full = needs.cluster_needs(s, cols, k_range=(2, 4))
    samp = needs.cluster_needs(s, cols, k_range=(2, 4), max_rows=100, seed=1)
    assert samp.sampled == 100 and samp.distance.shape == (100, 100)
    assert samp.labels.index.is_unique and len(samp.labels) == 600
    # the planted two groups are recovered for every respondent, sampled or not
    assert samp.k == full.k == 2
    assert samp.labels.sort_index().equals(full.labels.sort_index())
    again = needs.cluster_needs(s.sample(frac=1, random_state=2), cols, k_range=(2, 4),
                                max_rows=100, seed=1)
    assert again.labels.sort_index().equals(samp.labels.sort_index())

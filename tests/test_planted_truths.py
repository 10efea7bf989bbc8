"""Issue: the analysis finds the demo's planted truths from the files alone.

The whole chain runs in one process (``helpers.pipeline.run_in_process``, the same functions
the notebooks call) on the committed demo data room (1,500 accounts) and on two freshly
generated data rooms with other seeds and sizes (300 and 20,000 accounts). The analysis sees
only the files, the parameter file and the hypothesis register, as it would a user's export.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import scratch_project, use_project

from helpers.pipeline import run_in_process

PLANTED = {"employees": "+", "is_hospital": "-", "is_multinational": "-",
           "ad_budget_usd": "+", "it_team_size": "-"}
NULLS = ["social_media_followers", "hq_region", "founded_year", "glassdoor_rating"]
# Resampling counts do not change any verdict; keep the suite fast.
FAST = ("extends: demo.yaml\nanalysis: {bootstrap: 40, cv_repeats: 2}\n"
        "robustness: {draws: 40, segment_bootstrap: 8}\n")


def _run(tmp_path_factory, n_accounts, seed, extra=""):
    root = scratch_project(tmp_path_factory.mktemp("planted") / "project",
                           demo="copy" if n_accounts is None else n_accounts, seed=seed)
    (root / "params" / "fast.yaml").write_text(FAST + extra)
    with use_project(root):
        return run_in_process("planted", "params/fast.yaml", report=False).step4


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return _run(tmp_path_factory, None, 20260930)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return _run(tmp_path_factory, 300, 11)


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    # 20,000 accounts cost more to enrich: the collection budget is raised accordingly
    return _run(tmp_path_factory, 20_000, 23, "hypotheses: {max_cost_usd: 50000}\n")


def _verdicts(step4) -> pd.DataFrame:
    return step4.verdicts.set_index("variable")


@pytest.mark.parametrize("size", ["demo", "large"])
def test_every_planted_effect_is_validated_with_its_direction(size, request):
    v = _verdicts(request.getfixturevalue(size))
    for variable, sign in PLANTED.items():
        assert v.loc[variable, "verdict"] == "validated", (variable, v.loc[variable, "reason"])
        assert v.loc[variable, "direction"] == sign, variable


@pytest.mark.parametrize("size", ["demo", "small", "large"])
def test_null_and_noise_fields_are_never_validated(size, request):
    v = _verdicts(request.getfixturevalue(size))
    for variable in NULLS:
        assert v.loc[variable, "verdict"] in ("rejected", "inconclusive"), variable


def test_small_base_never_reverses_a_planted_effect(small):
    v = _verdicts(small)
    for variable, sign in PLANTED.items():
        if v.loc[variable, "verdict"] == "validated":
            assert v.loc[variable, "direction"] == sign, variable
    assert (v.loc[list(PLANTED), "verdict"] == "validated").sum() >= 3


@pytest.mark.parametrize("size", ["demo", "large"])
def test_the_b2b_b2c_interaction_is_found_by_tree_and_split_regression(size, request):
    step4 = request.getfixturevalue(size)
    split = step4.regression.split
    assert split is not None and split.split_worth_it, split.verdict if split else None
    nodes = step4.tree.tree.nodes
    rules = " | ".join(nodes["rule"].astype(str))
    assert "business model" in rules and "employees" in rules
    # forced-root tree per branch: B2B needs a higher employee cut than B2C
    from helpers.analyse.regression import tree_thresholds
    from helpers.analyse.tree import fit_tree

    ctx = step4.ctx
    forced = fit_tree(ctx.table, ctx.seg_vars, ctx.kinds, forced_root="business_model")
    cuts = tree_thresholds(forced)
    b2b = cuts.get("B2B", {}).get("employees")
    b2c = cuts.get("B2C", {}).get("employees")
    assert b2b is not None and b2c is not None, cuts
    assert 300 <= b2b <= 800 and 50 <= b2c <= 200 and b2b > b2c


def test_recommended_segments_beat_the_base_and_the_composite_beats_single_variables(demo):
    seg = demo.segments.segments.set_index("segment")
    rec = demo.segments.priorities.recommended
    assert 2 <= len(rec) <= 3
    top = seg.loc[rec, "top_accounts"].sum() / seg.loc[rec, "accounts"].sum()
    assert top >= 2 * 0.25, "the targets hold at least 2x the base rate of top accounts"
    summary = demo.schemes.summary
    ins = summary[summary["sample"] == "in_sample"].set_index("scheme")["accuracy_ratio"]
    singles = [s for s in ins.index if s in PLANTED or s == "business_model"]
    assert ins["composite segments"] > 0
    assert ins["composite segments"] > max(ins[s] for s in singles)
    assert set(summary["sample"]) >= {"in_sample", "out_of_sample"}

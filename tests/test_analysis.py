"""Step 4 glue (helpers.analyse.analysis): what is tested, on which variables, and the core set."""

from __future__ import annotations

import pandas as pd

from helpers.analyse import analysis as A


def _hyps():
    return pd.DataFrame({
        "id": ["H1", "H2", "H3", "H4", "H5"],
        "variable": ["employees", "usage", "region", "is_hospital", "missing_col"],
        "kind": ["numeric", "numeric", "categorical", "boolean", "numeric"],
        "lens": ["firmographic", "behavioural", "geographic", "firmographic", "firmographic"],
        "selected": [True, True, True, False, True],
    })


def test_tested_hypotheses_give_a_reason_for_each_untested_one():
    table = pd.DataFrame({"employees": [1], "usage": [1], "region": ["x"], "is_hospital": [True]})
    quality = pd.DataFrame({"id": ["H3"], "send_back": [True], "reason": ["completeness 10% < 60%"]})
    out = A.tested_hypotheses(_hyps(), quality, table).set_index("id")
    assert out["tested"].to_dict() == {"H1": True, "H2": True, "H3": False, "H4": False, "H5": False}
    assert out.loc["H3", "not_tested_reason"] == "sent back to Step 2: completeness 10% < 60%"
    assert out.loc["H4", "not_tested_reason"] == "deprioritised in Step 2"
    assert out.loc["H5", "not_tested_reason"] == "measure not in the analysis table"


def test_segmentation_variables_are_observable_ones():
    tested = _hyps()
    assert A.segmentation_variables(tested, ["employees", "region"]) == ["employees", "region"]
    # without a prospect list, every variable but behavioural ones
    assert "usage" not in A.segmentation_variables(tested, None)
    assert "employees" in A.segmentation_variables(tested, None)


def test_observable_fields_are_the_prospect_columns_with_values():
    prospects = pd.DataFrame({"employees": [10, None], "is_hospital": [True, False],
                              "industry": [None, None]})
    assert A.observable_fields(prospects) == ["employees", "is_hospital"]
    assert A.observable_fields(None) is None


def test_prepared_prospects_carry_derived_measures(root):
    from helpers.core.params import load

    p = load(root / "params" / "demo.yaml")
    from helpers.collect.hypotheses import load_register

    prepared = A.prepare_prospects(p, load_register(p.hypotheses.register_file))
    fields = A.observable_fields(prepared)
    for derived in ("is_hospital", "is_multinational", "employees", "business_model"):
        assert derived in fields
    assert "avg_feature_adoption" not in fields  # usage is only known after the sale


def test_core_variables_order_tree_first_and_keep_real_effects_only():
    v = pd.DataFrame({
        "variable": ["employees", "business_model", "ad_budget", "noise", "usage"],
        "verdict": ["validated", "rejected", "validated", "rejected", "validated"],
        "reason": ["significant", "contradicts expected direction (significant effect)",
                   "significant", "not significant", "significant"],
        "effect_size": [0.7, -0.3, 0.5, 0.01, 0.99],
    })
    core = A.core_variables(v, regression_kept=["ad_budget"],
                            tree_variables=["business_model", "employees"],
                            observable=["employees", "business_model", "ad_budget", "noise"])
    assert core == ["business_model", "employees", "ad_budget"]
    assert A.core_variables(v, max_variables=1, observable=["noise"]) == []


def test_profile_wide_orders_groups_best_first():
    long = pd.DataFrame({
        "variable": ["x"] * 3, "kind": ["numeric"] * 3, "group": ["A", "B", "all"],
        "category": [None] * 3, "stat": ["mean"] * 3, "value": [3.0, 1.0, 2.0]})
    wide = A.profile_wide(long, "mean")
    assert list(wide.columns) == ["A", "B", "all"] and wide.loc["x", "A"] == 3.0


def test_variable_explorer_static_and_interactive():
    from helpers.analyse.verdicts import planted_example

    table, hyps = planted_example(400, seed=3)
    tested = hyps.assign(lens="firmographic")
    static = A.variable_explorer(table, tested, interactive=False)
    assert set(static["variable"]) == set(tested["variable"])
    widget = A.variable_explorer(table, tested, interactive=True)
    bar, view = widget.children
    picker = bar.children[0]
    first = view.value
    assert "<table" in first and "<img" in first and "data:image/png;base64," in first
    picker.value = picker.options[-1]  # the view re-renders on change
    assert picker.value == tested["variable"].iloc[-1] and view.value != first
    # not a Dropdown: a collapsed dropdown's arrow keys move JupyterLab's active cell
    assert type(picker).__name__ == "SelectionSlider"


def test_variable_explorer_uses_the_step4_score_groups():
    from helpers.analyse.verdicts import planted_example

    table, hyps = planted_example(400, seed=3)
    tested = hyps.assign(lens="firmographic")
    static = A.variable_explorer(table, tested, interactive=False, n_groups=10)
    assert "decile" in static.columns and "quartile" not in static.columns
    assert set(static["decile"].dropna().astype(str)) == {f"D{i}" for i in range(1, 11)}
    widget = A.variable_explorer(table, tested, interactive=True, n_groups=10)
    html = widget.children[1].value
    assert ">D10<" in html and "decile" in html

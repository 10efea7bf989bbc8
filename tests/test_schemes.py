"""The core variables and candidate schemes of Step 4b (helpers.analyse.schemes)."""

from __future__ import annotations

import pandas as pd

from helpers.analyse.schemes import core_variables


def test_core_variables_order_tree_first_and_keep_real_effects_only():
    v = pd.DataFrame({
        "variable": ["employees", "business_model", "ad_budget", "noise", "usage"],
        "verdict": ["validated", "rejected", "validated", "rejected", "validated"],
        "reason": ["significant", "contradicts expected direction (significant effect)",
                   "significant", "not significant", "significant"],
        "effect_size": [0.7, -0.3, 0.5, 0.01, 0.99],
    })
    core = core_variables(v, regression_kept=["ad_budget"],
                            tree_variables=["business_model", "employees"],
                            observable=["employees", "business_model", "ad_budget", "noise"])
    assert core == ["business_model", "employees", "ad_budget"]
    assert core_variables(v, max_variables=1, observable=["noise"]) == []

"""The category a hypothesis names (``positive_category``) is the one tested: its sign, verdict,
evidence and report wording are that category's; one not in the data is an error, never a
silent substitute (issue 14, defect 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analyse import profiling as pf
from helpers.analyse.regression import backward_eliminate
from helpers.analyse.tree import fit_tree
from helpers.analyse.verdicts import verdicts
from helpers.collect import hypotheses
from helpers.collect.labels import resolve_category
from helpers.core.errors import InputDataError, ParameterError
from helpers.core.params import Analysis, Tree


def billing_table(n: int = 400, seed: int = 3, labels: tuple[str, str] = ("Yes", "No")
                  ) -> pd.DataFrame:
    """Accounts on annual billing ("Yes") are truly better."""
    rng = np.random.default_rng(seed)
    annual = rng.random(n) < 0.45
    return pd.DataFrame({
        "account_id": [f"A{i:04d}" for i in range(n)],
        "score": np.round(1000 + 600 * annual + rng.normal(0, 400, n), 2),
        "annual_billing": np.where(annual, labels[0], labels[1]),
        "size": rng.normal(0, 1, n)})


def billing_hypotheses(kind: str = "categorical") -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["H1", "H2"], "variable": ["annual_billing", "annual_billing"], "kind": kind,
        "direction": ["+", "+"], "positive_category": ["Yes", "No"], "selected": True,
        "statement": ["Customers on annual billing are better",
                      "Customers on monthly billing are better"]})


@pytest.mark.parametrize("kind", ["categorical", "boolean"])
def test_positive_category_sets_the_sign_and_the_verdict(kind):
    t, hyp = billing_table(), billing_hypotheses(kind)
    tests = pf.test_hypotheses(t, hyp).set_index("hypothesis_id")
    want = "Yes" if kind == "categorical" else "yes"
    assert tests.at["H1", "category"] == want and tests.at["H1", "effect_direction"] == "+"
    assert tests.at["H1", "effect_size"] > 0.2
    assert tests.at["H2", "effect_direction"] == "-"
    assert tests.at["H2", "effect_size"] == pytest.approx(-tests.at["H1", "effect_size"])
    v = verdicts(t, hyp, Analysis(), tests=tests.reset_index()).set_index("hypothesis_id")
    assert v.at["H1", "verdict"] == "validated" and v.at["H1", "direction"] == "+"
    assert v.at["H2", "verdict"] == "rejected"
    assert "contradicts expected direction" in v.at["H2", "reason"]
    assert "'No'" in v.at["H2", "reason"] or "'no'" in v.at["H2", "reason"]


def test_labels_are_matched_after_normalisation():
    assert resolve_category("Yes", "boolean", ["no", "yes"]) == "yes"
    assert resolve_category("TRUE", "boolean", ["no", "yes"]) == "yes"
    assert resolve_category("0", "boolean", ["no", "yes"]) == "no"
    assert resolve_category("maybe", "boolean", ["no", "yes"]) is None
    assert resolve_category(" b2b ", "categorical", ["B2B", "B2C"]) == "B2B"
    assert resolve_category("Retail", "categorical", ["Software"]) is None
    # Y/N in the data, "Yes" in the register: the same category for a boolean
    t = billing_table(labels=("Y", "N"))
    hyp = billing_hypotheses("boolean")
    tests = pf.test_hypotheses(t, hyp).set_index("hypothesis_id")
    assert tests.at["H1", "effect_direction"] == "+" and tests.at["H1", "category"] == "yes"


def test_category_not_in_the_data_is_an_error_naming_hypothesis_and_values():
    t = billing_table()
    hyp = billing_hypotheses().assign(positive_category=["Annual", "No"])
    with pytest.raises(InputDataError) as exc:
        pf.test_hypotheses(t, hyp)
    msg = str(exc.value)
    assert "H1" in msg and "'Annual'" in msg and "No, Yes" in msg and "H2" not in msg
    # direct calls of test_variable never substitute another category either
    r = pf.test_variable(t, "annual_billing", "categorical", category="Annual")
    assert r["testable"] is False and "not among the values" in r["reason"]


def test_check_positive_categories_derives_measures_from_an_earlier_table():
    register = hypotheses.validate_register([
        {"id": "H1", "statement": "B2B is better", "direction": "+", "lens": "firmographic",
         "variable": "business_model", "kind": "categorical", "positive_category": "b2b",
         "measure": {"column": "bm"}, "expected_coverage": 0.9, "data_quality": 3,
         "actionability": 4},
        {"id": "H2", "statement": "Hospitals are worse", "direction": "-",
         "lens": "firmographic", "variable": "is_hosp", "kind": "boolean",
         "positive_category": "TRUE", "measure": {"helper": "is_hospital"},
         "expected_coverage": 0.9, "data_quality": 3, "actionability": 4},
        {"id": "H3", "statement": "Mining is better", "direction": "+", "lens": "firmographic",
         "variable": "vertical", "kind": "categorical", "positive_category": "Mining",
         "measure": {"column": "vertical_src"}, "expected_coverage": 0.9, "data_quality": 3,
         "actionability": 4}])
    raw = pd.DataFrame({"bm": ["B2B", "B2C", None], "industry": ["healthcare", "retail", "x"]})
    assert hypotheses.check_positive_categories(register, raw) == []  # H3's column absent: skipped
    raw["vertical_src"] = ["Retail", "Software", "Retail"]
    problems = hypotheses.check_positive_categories(register, raw, strict=False)
    assert len(problems) == 1 and "H3" in problems[0] and "Retail, Software" in problems[0]
    with pytest.raises(InputDataError, match="H3.*'Mining'"):
        hypotheses.check_positive_categories(register, raw)


def test_register_rejects_a_positive_category_the_kind_cannot_use():
    base = {"id": "H1", "statement": "s", "direction": "+", "lens": "firmographic",
            "variable": "v", "measure": {"column": "v"}, "expected_coverage": 0.9,
            "data_quality": 3, "actionability": 4}
    with pytest.raises(ParameterError, match="only used with a categorical or boolean"):
        hypotheses.validate_register([{**base, "kind": "numeric", "positive_category": "x"}])
    with pytest.raises(ParameterError, match="yes/no word"):
        hypotheses.validate_register([{**base, "kind": "boolean", "positive_category": "annual"}])


def test_tree_and_regression_evidence_speak_of_the_named_category():
    t, hyp = billing_table(600, 5), billing_hypotheses()
    kinds = {"annual_billing": "categorical", "size": "numeric"}
    tree = fit_tree(t, ["annual_billing", "size"], kinds, Tree(max_depth=1))
    reg = backward_eliminate(t, ["annual_billing", "size"], kinds)
    v = verdicts(t, hyp, Analysis(), tree, reg).set_index("hypothesis_id")
    assert "'Yes' on the better side" in v.at["H1", "evidence"]
    assert "'No' on the worse side" in v.at["H2", "evidence"]
    # the regression's reference level is the larger group ("No"): its coefficient is Yes vs No
    assert "'Yes' vs rest +" in v.at["H1", "evidence"]
    assert "'No' vs 'Yes' -" in v.at["H2", "evidence"]

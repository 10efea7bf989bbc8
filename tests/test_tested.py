"""What Step 4 tests and on which variables (helpers.analyse.tested)."""

from __future__ import annotations

import pandas as pd

from helpers.analyse import tested as scope


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
    quality = pd.DataFrame({"id": ["H3"], "send_back": [True],
                            "reason": ["completeness 10% < 60%"]})
    out = scope.tested_hypotheses(_hyps(), quality, table).set_index("id")
    assert out["tested"].to_dict() == {"H1": True, "H2": True, "H3": False, "H4": False,
                                       "H5": False}
    assert out.loc["H3", "not_tested_reason"] == "sent back to Step 2: completeness 10% < 60%"
    assert out.loc["H4", "not_tested_reason"] == "deprioritised in Step 2"
    assert out.loc["H5", "not_tested_reason"] == "measure not in the analysis table"


def test_segmentation_variables_are_observable_ones():
    tested = _hyps()
    assert scope.segmentation_variables(tested, ["employees", "region"]) == ["employees", "region"]
    # without a prospect list, every variable but behavioural ones
    assert "usage" not in scope.segmentation_variables(tested, None)
    assert "employees" in scope.segmentation_variables(tested, None)


def test_kinds_of_maps_each_variable_to_its_kind():
    assert scope.kinds_of(_hyps()) == {"employees": "numeric", "usage": "numeric",
                                 "region": "categorical", "is_hospital": "boolean",
                                 "missing_col": "numeric"}

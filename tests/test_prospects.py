"""Prospect scoring with the segment rules (helpers.analyse.prospects)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analyse import segments as sg
from helpers.analyse.prospects import score_prospects
from helpers.core.errors import InputDataError

DEFS = [
    {"id": "S1", "name": "Big B2B", "conditions": [
        {"variable": "business_model", "op": "==", "value": "B2B"},
        {"variable": "employees", "op": ">=", "value": 500}]},
    {"id": "S2", "conditions": [{"variable": "business_model", "op": "==", "value": "B2C"},
                                {"variable": "employees", "op": ">=", "value": 100}]},
]
SEG_TABLE = pd.DataFrame({"segment": ["S1", "S2", sg.REST], "score_band": ["A", "B", "D"],
                          "share_top": [0.6, 0.3, 0.05], "lift": [2.4, 1.2, 0.2],
                          "score_mean": [9.0, 5.0, 1.0]})


def test_score_prospects_tiny_list():
    p = pd.DataFrame({"company": ["x", "y", "z", "w"],
                      "business_model": ["B2B", "B2C", "B2B", "B2C"],
                      "employees": [800, 150, 100, np.nan]})
    out = score_prospects(p, DEFS, SEG_TABLE)
    assert out["segment"].tolist() == ["S1", "S2", sg.REST, sg.REST]
    assert out["segment_name"].tolist()[:2] == ["Big B2B", "business model: B2C, employees 100+"]
    assert out.loc[0, "matched_rule"] == "business model = B2B and employees ≥ 500"
    assert out["quality_band"].tolist() == ["A", "B", "D", "D"]
    assert out.loc[1, "expected_share_top"] == pytest.approx(0.3)
    assert out["missing_fields"].tolist() == ["", "", "", "employees"]
    assert out["company"].tolist() == ["x", "y", "z", "w"]


def test_missing_rule_field_raises():
    with pytest.raises(InputDataError, match="employees"):
        score_prospects(pd.DataFrame({"business_model": ["B2B"]}), DEFS, SEG_TABLE)

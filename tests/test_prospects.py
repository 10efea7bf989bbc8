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


def test_observable_fields_are_the_prospect_columns_with_values():
    from helpers.analyse.prospects import observable_fields

    prospects = pd.DataFrame({"employees": [10, None], "is_hospital": [True, False],
                              "industry": [None, None]})
    assert observable_fields(prospects) == ["employees", "is_hospital"]
    assert observable_fields(None) is None


def test_prepare_prospects_takes_frames_and_standardises_like_the_customers(root):
    """No file is read: the prospect list, the register and the industry map are frames;
    domains, industries and numbers come out as for the customers, the input untouched."""
    from helpers.analyse.prospects import prepare_prospects
    from helpers.collect.read import read_register
    from helpers.core.params import load

    register = read_register(load(root / "params" / "demo.yaml").hypotheses.register_file)
    raw = pd.DataFrame({"domain": ["https://www.Acme.com/", "beta.io"],
                        "industry": ["SaaS", "Bakery"], "employees": ["1,200", "80"]})
    before = raw.copy()
    out = prepare_prospects(raw, register, industry_map={"saas": "Software"},
                            numeric_columns=["employees"])
    pd.testing.assert_frame_equal(raw, before)
    assert out["domain"].tolist() == ["acme.com", "beta.io"]
    assert out["industry"].tolist() == ["Software", "Bakery"]  # unmapped labels kept
    assert out["employees"].tolist() == [1200, 80]
    unmapped = prepare_prospects(raw, register, numeric_columns=[])
    assert unmapped["industry"].tolist() == ["SaaS", "Bakery"]


def test_the_step4_edge_reads_the_prospect_file_with_derived_measures(root):
    from helpers.analyse.prospects import observable_fields
    from helpers.collect.read import read_register
    from helpers.core.params import load
    from helpers.pipeline.step4 import _read_prospects

    p = load(root / "params" / "demo.yaml")
    prepared = _read_prospects(p, read_register(p.hypotheses.register_file))
    fields = observable_fields(prepared)
    for derived in ("is_hospital", "is_multinational", "employees", "business_model"):
        assert derived in fields
    assert "avg_feature_adoption" not in fields  # usage is only known after the sale

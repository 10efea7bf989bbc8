"""Step 2: hypothesis register, costs, prioritisation and measure derivation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers.collect import hypotheses
from helpers.collect.read import read_register
from helpers.core.errors import ParameterError
from helpers.core.params import Hypotheses
from helpers.core.paths import project_root


def entry(**kw) -> dict:
    base = {"id": "H1", "statement": "Bigger is better", "direction": "+",
            "lens": "firmographic", "variable": "employees", "kind": "numeric",
            "measure": {"column": "employees"}, "source": "vendor",
            "collection": "public lookup", "expected_coverage": 0.9, "data_quality": 4,
            "actionability": 5}
    base.update(kw)
    return base


def reg(*entries) -> pd.DataFrame:
    return hypotheses.validate_register(list(entries))


# --------------------------------------------------------------------------- validation
def test_load_demo_and_template_registers():
    root = project_root()
    demo = read_register(root / "params/hypotheses/demo.yaml")
    assert len(demo) >= 12
    assert demo["id"].is_unique
    assert set(demo["lens"]) >= {"firmographic", "geographic", "psychographic", "technographic",
                                 "behavioural", "needs-based", "demographic"}
    tmpl = read_register(root / "params/hypotheses/template.yaml")
    assert len(tmpl) >= 6


def test_register_from_yaml_file(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text(yaml.safe_dump([entry(), entry(id="H2", variable="x", measure={"expr": "a+b"})]))
    r = read_register(p)
    assert r["measure_type"].tolist() == ["column", "expr"]
    assert r["measure"].tolist() == ["employees", "a+b"]


@pytest.mark.parametrize("bad, words", [
    (entry(colour="red"), ["H1", "unknown key 'colour'"]),
    (entry(direction="up"), ["H1", "direction"]),
    (entry(lens="astrological"), ["H1", "lens"]),
    (entry(kind="ordinal"), ["H1", "kind"]),
    (entry(measure={"column": "a", "expr": "b"}), ["H1", "measure", "exactly one"]),
    (entry(measure={}), ["H1", "measure", "exactly one"]),
    (entry(measure={"helper": "nope"}), ["H1", "unknown helper 'nope'"]),
    (entry(cost={"minutes": 3}), ["H1", "unknown key 'cost.minutes'"]),
    (entry(data_quality=7), ["H1", "data_quality"]),
])
def test_register_validation_errors_name_entry_and_key(bad, words):
    with pytest.raises(ParameterError) as exc:
        reg(bad)
    for w in words:
        assert w in str(exc.value)


def test_duplicate_ids_rejected():
    with pytest.raises(ParameterError, match="H1: duplicate id"):
        reg(entry(), entry(variable="other"))


def test_missing_file_and_empty_register(tmp_path):
    with pytest.raises(ParameterError, match="not found"):
        read_register(tmp_path / "none.yaml")
    (tmp_path / "e.yaml").write_text("[]")
    with pytest.raises(ParameterError, match="non-empty list"):
        read_register(tmp_path / "e.yaml")


# --------------------------------------------------------------------------- costs
def test_collection_cost_method_worked_example():
    r = reg(
        entry(id="EMP", variable="employees", cost={"minutes_per_point": 3, "hourly_rate": 15}),
        entry(id="REV", variable="revenue", measure={"column": "revenue"},
              cost={"minutes_per_point": 4, "hourly_rate": 20}),
        entry(id="TECH", variable="stack", measure={"column": "stack"}, collection="paid source",
              cost={"price_per_record": 6}),
        entry(id="BOTH", variable="b", measure={"column": "b"},
              cost={"minutes_per_point": 3, "hourly_rate": 20, "price_per_record": 0.5}),
        entry(id="INT", variable="t", measure={"column": "t"}, collection="internal system",
              cost={"effort": 1}),
        entry(id="NONE", variable="n", measure={"column": "n"}, source=None, collection="none"),
    )
    c = hypotheses.collection_cost(r, 100).set_index("id")
    # 3 min x 100 accounts = 5 h; at $15/h = $75.  4 min ~ 6.7 h; at $20/h ~ $133.
    assert c.loc["EMP", "collection_hours"] == pytest.approx(5.0)
    assert c.loc["EMP", "cost_manual_usd"] == pytest.approx(75.0)
    assert c.loc["REV", "collection_hours"] == pytest.approx(400 / 60)
    assert 6.5 <= c.loc["REV", "collection_hours"] <= 6.7
    assert c.loc["REV", "cost_manual_usd"] == pytest.approx(400 / 60 * 20)
    assert 75 <= c.loc["REV", "cost_manual_usd"] <= 135
    # $6/record x 100 = $600
    assert c.loc["TECH", "cost_bought_usd"] == pytest.approx(600.0)
    assert c.loc["TECH", "cost_usd"] == pytest.approx(600.0)
    assert c.loc["TECH", "cheaper_option"] == "bought"
    assert math.isnan(c.loc["TECH", "cost_manual_usd"])
    # cheaper of manual ($100) and bought ($50)
    assert c.loc["BOTH", "cost_manual_usd"] == pytest.approx(100.0)
    assert c.loc["BOTH", "cost_usd"] == pytest.approx(50.0)
    assert c.loc["BOTH", "cheaper_option"] == "bought"
    assert c.loc["EMP", "cheaper_option"] == "manual"
    assert c.loc["INT", "cheaper_option"] == "effort" and math.isnan(c.loc["INT", "cost_usd"])
    assert c.loc["NONE", "cheaper_option"] == "none"


def test_shared_sources():
    r = reg(entry(), entry(id="H2", variable="x", measure={"column": "x"}),
            entry(id="H3", variable="y", measure={"column": "y"}, source="survey",
                  collection="survey"),
            entry(id="H4", variable="z", measure={"column": "z"}, source=None, collection="none"))
    s = hypotheses.shared_sources(r)
    assert s["source"].tolist() == ["vendor", "survey"]
    assert s["n_hypotheses"].tolist() == [2, 1]
    assert s["shared"].tolist() == [True, False]
    assert s.loc[0, "ids"] == "H1, H2"


# --------------------------------------------------------------------------- prioritisation
def _prio_register() -> pd.DataFrame:
    return reg(
        entry(id="A", variable="a", measure={"column": "a"}, actionability=5, data_quality=5,
              expected_coverage=1.0, cost={"minutes_per_point": 3, "hourly_rate": 20}),
        entry(id="B", variable="b", measure={"column": "b"}, actionability=5, data_quality=5,
              expected_coverage=1.0, cost={"minutes_per_point": 30, "hourly_rate": 20}),
        entry(id="COSTLY", variable="c", measure={"column": "c"}, collection="paid source",
              cost={"price_per_record": 6}),
        entry(id="EFFORT", variable="d", measure={"column": "d"}, collection="survey",
              cost={"effort": 5}),
        entry(id="THIN", variable="e", measure={"column": "e"}, expected_coverage=0.2),
        entry(id="USELESS", variable="f", measure={"column": "f"}, actionability=1),
        entry(id="NOSRC", variable="g", measure={"column": "g"}, source=None, collection="none"),
        entry(id="INT", variable="h", measure={"column": "h"}, collection="internal system",
              actionability=4, data_quality=3, expected_coverage=0.9, cost={"effort": 2}),
    )


def test_prioritise_rule_scores_and_reasons():
    rules = Hypotheses(max_cost_usd=1000, max_effort=4, min_expected_coverage=0.5,
                         min_actionability=2)
    out = hypotheses.prioritise(hypotheses.collection_cost(_prio_register(), 200), rules,
                       max_hypotheses=10).set_index("id")
    # A: 3 min x 200 / 60 x $20 = $200; score (1 + 1 + 1)/3 = 1; value per cost 1/(1+0.2)
    assert out.loc["A", "cost_usd"] == pytest.approx(200.0)
    assert out.loc["A", "priority_score"] == pytest.approx(1.0)
    assert out.loc["A", "value_per_cost"] == pytest.approx(1 / 1.2)
    # B: $2000 > $1000
    assert not out.loc["B", "selected"]
    assert "too costly" in out.loc["B", "deprioritised_reason"]
    assert "$2,000" in out.loc["B", "deprioritised_reason"]
    assert "too costly" in out.loc["COSTLY", "deprioritised_reason"]  # 6 x 200 = 1200
    assert "effort" in out.loc["EFFORT", "deprioritised_reason"]
    assert "coverage" in out.loc["THIN", "deprioritised_reason"]
    assert "acted on" in out.loc["USELESS", "deprioritised_reason"]
    assert "no data source" in out.loc["NOSRC", "deprioritised_reason"]
    # INT: score (0.8 + 0.9 + 0.6)/3, cost by effort 2/5
    assert out.loc["INT", "priority_score"] == pytest.approx(2.3 / 3)
    assert out.loc["INT", "value_per_cost"] == pytest.approx(2.3 / 3 / 1.4)
    assert out["selected"].sum() == 2 and set(out.index[out["selected"]]) == {"A", "INT"}
    assert out.loc[out["selected"], "deprioritised_reason"].isna().all()
    # ranked: selected first, by value per cost
    ranks = out["priority_rank"]
    assert ranks["A"] == 1 and ranks["INT"] == 2
    assert sorted(ranks) == list(range(1, len(out) + 1))


def test_prioritise_several_reasons_and_cap():
    r = _prio_register()
    out = hypotheses.prioritise(hypotheses.collection_cost(r, 200), Hypotheses(max_cost_usd=1000),
                       max_hypotheses=1).set_index("id")
    assert out.loc["A", "selected"] and not out.loc["INT", "selected"]
    assert "cap of 1" in out.loc["INT", "deprioritised_reason"]
    costs = hypotheses.collection_cost(reg(entry(source=None, collection="none",
                                                 expected_coverage=0.1, actionability=0)), 10)
    multi = hypotheses.prioritise(costs).iloc[0]["deprioritised_reason"]
    assert "no data source" in multi and "coverage" in multi and "acted on" in multi


def test_prioritise_weights_change_score():
    r = reg(entry(actionability=5, expected_coverage=0.0, data_quality=0))
    c = hypotheses.collection_cost(r, 10)
    only_action = hypotheses.prioritise(c, Hypotheses(
        value_weights={"actionability": 1, "coverage": 0, "quality": 0}))
    assert only_action.loc[0, "priority_score"] == pytest.approx(1.0)
    with pytest.raises(ParameterError, match="unknown key"):
        hypotheses.prioritise(c, Hypotheses(value_weights={"fun": 1}))


def test_demo_register_selection():
    demo = read_register(project_root() / "params/hypotheses/demo.yaml")
    out = hypotheses.prioritise(hypotheses.collection_cost(demo, 800), Hypotheses()).set_index("id")
    dropped = out.loc[~out["selected"]]
    assert len(dropped) == 2
    reasons = " | ".join(dropped["deprioritised_reason"])
    assert "too costly" in reasons and "no data source" in reasons
    assert out["selected"].sum() >= 12
    cols = {"cost_manual_usd", "cost_bought_usd", "cost_usd", "cheaper_option",
            "priority_score", "selected", "deprioritised_reason"}
    assert cols <= set(out.columns)


# --------------------------------------------------------------------------- measures
def test_safe_expr_rejects_code():
    for bad in ("__import__('os').system('x')", "employees.sum()", "abs(employees)",
                "employees[0]", "'a' + 'b'", "lambda: 1", "(x for x in y)", "_secret + 1",
                "True + employees"):
        with pytest.raises(ParameterError):
            hypotheses.expr_columns(bad)
    with pytest.raises(ParameterError, match="not a valid expression"):
        hypotheses.expr_columns("1 +")
    assert hypotheses.expr_columns("tickets / employees * 100 + tickets") == [
        "tickets", "employees"]


def test_derive_measures_column_expr_helper():
    t = pd.DataFrame({
        "account_id": ["a", "b", "c", "d"],
        "employees": [100, 0, 50, None],
        "tickets": [5, 3, 0, 2],
        "countries_of_operation": [1, 3, 7, None],
        "industry": ["Healthcare", "software", None, " healthcare "],
        "it_team_size": [2, 10, 5, None],
        "business_model": ["B2B", "B2C", " b2b", None],
        "flag": ["yes", "no", None, "1"],
    })
    r = reg(
        entry(id="E", variable="employees_n", measure={"column": "employees"}),
        entry(id="X", variable="t_per_emp", measure={"expr": "tickets / employees * 100"}),
        entry(id="M", variable="is_multinational", kind="boolean",
              measure={"helper": "is_multinational"}),
        entry(id="M5", variable="multi5", kind="boolean",
              measure={"helper": "is_multinational", "args": {"threshold": 5}}),
        entry(id="HOS", variable="is_hospital", kind="boolean", measure={"helper": "is_hospital"}),
        entry(id="IT", variable="small_it", kind="boolean",
              measure={"helper": "small_it_team", "args": {"threshold": 5}}),
        entry(id="TPE", variable="tp100", measure={"helper": "tickets_per_100_employees"}),
        entry(id="BM", variable="bm", kind="categorical", measure={"column": "business_model"}),
        entry(id="F", variable="flag_b", kind="boolean", measure={"column": "flag"}),
        entry(id="MISS", variable="ghost", measure={"column": "not_there"}),
        entry(id="MX", variable="ghost2", measure={"expr": "nope * 2"}),
    )
    out, log = hypotheses.derive_measures(t, r)
    assert len(out) == 4
    np.testing.assert_allclose(out["employees_n"], [100, 0, 50, np.nan])
    # 0 employees -> division by zero -> missing, not inf
    np.testing.assert_allclose(out["t_per_emp"], [5.0, np.nan, 0.0, np.nan])
    np.testing.assert_allclose(out["tp100"], [5.0, np.nan, 0.0, np.nan])
    assert out["is_multinational"].tolist() == [False, True, True, pd.NA]
    assert out["multi5"].tolist() == [False, False, True, pd.NA]
    assert out["is_hospital"].tolist() == [True, False, pd.NA, True]
    assert out["small_it"].tolist() == [True, False, True, pd.NA]
    assert out["bm"].tolist()[:3] == ["B2B", "B2C", "b2b"] and pd.isna(out["bm"][3])
    assert out["flag_b"].tolist() == [True, False, pd.NA, True]
    lg = log.set_index("id")
    assert lg.loc["MISS", "status"] == "missing source column" and lg.loc["MISS", "flagged"]
    assert lg.loc["MISS", "missing_columns"] == "not_there"
    assert lg.loc["MX", "flagged"] and "ghost" not in out.columns
    assert lg.loc["E", "non_missing"] == 3 and not lg.loc["E", "flagged"]


def test_derive_measures_text_numbers_logged():
    t = pd.DataFrame({"employees": ["1,200", "5k", "many", None]})
    out, log = hypotheses.derive_measures(t, reg(entry()))
    np.testing.assert_allclose(out["employees"], [1200, 5000, np.nan, np.nan])
    assert "1 value(s) not readable as numeric" in log.loc[0, "status"]


def test_derive_measures_helper_bad_args():
    t = pd.DataFrame({"founded_year": [2000]})
    r = reg(entry(variable="age", measure={"helper": "company_age_years"}))
    with pytest.raises(ParameterError, match="does not accept"):
        hypotheses.derive_measures(t, r)
    r2 = reg(entry(variable="age", measure={"helper": "company_age_years",
                                            "args": {"as_of_year": 2026}}))
    assert hypotheses.derive_measures(t, r2)[0]["age"].tolist() == [26.0]


def test_helper_catalogue_lists_helpers():
    cat = hypotheses.helper_catalogue()
    assert {"is_multinational", "is_hospital", "tickets_per_100_employees",
            "small_it_team"} <= set(cat["helper"])

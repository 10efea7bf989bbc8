"""Segment rules, synthesis, segment table, prioritisation, coverage model (helpers.analyse.segments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers.analyse import lift
from helpers.analyse import segments as sg
from helpers.core.errors import InputDataError
from helpers.core.params import Coverage, Segments


def _table(n: int = 2000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    emp = np.exp(rng.normal(5.5, 1.2, n))
    b2b = rng.random(n) < 0.5
    hosp = rng.random(n) < 0.15
    score = np.where(b2b, emp >= 500, emp >= 100) * 2.0 - hosp * 1.5 + rng.normal(0, 1, n)
    return pd.DataFrame({"account_id": [f"A{i:05d}" for i in range(n)], "score": score,
                         "employees": emp, "business_model": np.where(b2b, "B2B", "B2C"),
                         "is_hospital": hosp, "mrr": rng.gamma(2, 500, n),
                         "mrr_prev": rng.gamma(2, 450, n)})


TINY = pd.DataFrame({
    "account_id": ["a", "b", "c", "d", "e", "f", "g", "h"],
    "score": [10.0, 9, 8, 7, 4, 3, 2, 1],
    "business_model": ["B2B", "B2B", "B2B", "B2C", "B2C", "B2B", None, "B2C"],
    "employees": [900, 600, 550, 50, 40, 100, 700, np.nan],
    "is_hospital": [False, False, True, False, True, False, False, False],
    "mrr": [100.0, 100, 100, 100, 100, 100, 100, 100],
    "mrr_prev": [50.0, 100, 100, 100, 100, 100, 100, 100],
})

DEFS = [
    {"id": "S1", "conditions": [{"variable": "business_model", "op": "==", "value": "B2B"},
                                {"variable": "employees", "op": ">=", "value": 500},
                                {"variable": "is_hospital", "op": "==", "value": False}]},
    {"id": "S2", "conditions": [{"variable": "business_model", "op": "in",
                                 "value": ["B2B", "B2C"]}]},
]


def test_assign_priority_order_and_missing_values():
    lab = sg.assign(TINY, DEFS)
    assert lab.tolist() == ["S1", "S1", "S2", "S2", "S2", "S2", sg.REST, "S2"]


def test_rule_text_and_names():
    seg = sg.as_segments(DEFS)[0]
    assert sg.rule_text(seg.conditions) == \
        "business model = B2B and employees ≥ 500 and not hospital"
    assert sg.segment_name(seg.conditions) == "business model: B2B, employees 500+, non-hospital"
    assert sg.nice_number(487) == 500 and sg.nice_number(137) == 150


def test_json_round_trip_reproduces_assignment():
    table = _table()
    defs = sg.synthesise(table, ["business_model", "employees", "is_hospital"])
    again = sg.from_json(sg.to_json(defs))
    assert again == defs
    pd.testing.assert_series_equal(sg.assign(table, again), sg.assign(table, defs))
    shuffled = table.sample(frac=1, random_state=3)
    assert sg.assign(shuffled, again).reindex(table.index).equals(sg.assign(table, defs))


def test_synthesise_finds_planted_structure_and_respects_min_share():
    table = _table()
    defs = sg.synthesise(table, ["business_model", "employees", "is_hospital"],
                         min_share=0.05, max_segments=6)
    assert 2 <= len(defs) <= 6
    lab = sg.assign(table, defs)
    shares = lab.value_counts(normalize=True)
    assert (shares.drop(sg.REST, errors="ignore") >= 0.05).all()
    tab = sg.segment_table(table, lab, segment_defs=defs)
    best = sg.as_segments(defs)[0]
    text = sg.rule_text(best.conditions)
    assert "employees ≥" in text  # the planted size threshold is part of the best rule
    # segments come in priority order: lift decreasing
    lifts = tab.loc[~tab["is_rest"], "lift"].to_numpy()
    assert (np.diff(lifts) <= 1e-12).all()


def test_condition_on_missing_column_raises():
    with pytest.raises(InputDataError, match="employees"):
        sg.assign(TINY.drop(columns="employees"), DEFS)


def test_segment_table_hand_computed():
    lab = sg.assign(TINY, DEFS)
    tab = sg.segment_table(TINY, lab, top_share=0.25, segment_defs=DEFS,
                           prospect_fields=["business_model", "employees"], min_share=0.2)
    t = tab.set_index("segment")
    # top = best 2 of 8 by score: a, b (both S1)
    assert t.loc["S1", "accounts"] == 2 and t.loc["S1", "top_accounts"] == 2
    assert t.loc["S1", "share_top"] == 1.0 and t.loc["S1", "lift"] == pytest.approx(4.0)
    assert t.loc["S1", "score_mean"] == pytest.approx(9.5)
    assert t.loc["S2", "accounts"] == 5 and t.loc["S2", "lift"] == 0
    assert t.loc["S1", "revenue"] == pytest.approx(2400)
    # growth: S1 mrr 200 vs prev 150 -> +33 %; base 800 / 750 - 1
    assert t.loc["S1", "growth"] == pytest.approx(200 / 150 - 1)
    assert bool(t.loc["S1", "durable"]) and not bool(t.loc["S2", "durable"])
    assert not bool(t.loc["S1", "observable"])  # uses is_hospital, not a prospect field
    assert bool(t.loc["S2", "observable"])
    assert not bool(t.loc[sg.REST, "substantial"])  # 1/8 < 0.2
    assert tab["segment"].iloc[-1] == sg.REST
    assert t.loc["S1", "score_band"] == "A"


def _seg_table(shares, lifts):
    ids = [f"S{i + 1}" for i in range(len(shares))]
    return pd.DataFrame({"segment": ids, "name": ids, "share_of_base": shares, "lift": lifts,
                         "score_mean": [1.0] * len(ids),
                         "top_capture": [s * lf * 0.25 / 0.25 for s, lf in
                                         zip(shares, lifts, strict=True)],
                         "is_rest": False})


def test_prioritise_within_band():
    t = _seg_table([0.2, 0.15, 0.3, 0.35], [2.5, 2.0, 1.5, 0.2])
    res = sg.prioritise(t, Segments(n_recommended=3, names={"S1": "Scale-ups"}))
    assert res.recommended == ["S1", "S2"]  # S3 would push coverage to 65 % > 50 %
    assert res.coverage == pytest.approx(0.35) and res.feasible
    assert "Scale-ups" in res.message
    assert res.table.loc[res.table["segment"] == "S1", "display_name"].item() == "Scale-ups"


def test_prioritise_says_when_impossible():
    t = _seg_table([0.06, 0.07, 0.87], [3.0, 2.0, 0.8])
    res = sg.prioritise(t, Segments())
    assert not res.feasible and "not reachable" in res.message
    assert res.coverage == pytest.approx(0.13)


def test_coverage_model_arithmetic():
    p = Coverage()  # dedicated from 50k ACV: 100 accounts/manager, down to 10 at 500k
    t = pd.DataFrame({"segment": ["S1", "S2", "S3", "S4"], "name": ["a", "b", "c", "d"],
                      "accounts": [120, 45, 2500, 4000],
                      "mean_acv": [50_000.0, 275_000.0, 6_000.0, 600.0],
                      "value_concentration": [0.6, 0.3, 0.2, 0.1]})
    t["revenue"] = t["accounts"] * t["mean_acv"]
    cov = sg.coverage_model(t, p).set_index("segment")
    assert cov.loc["S1", "model"] == "dedicated" and cov.loc["S1", "accounts_per_manager"] == 100
    assert cov.loc["S1", "managers"] == math.ceil(120 / 100) == 2
    # 275k is halfway between 50k and 500k -> 100 - 0.5 * 90 = 55 accounts per manager
    assert cov.loc["S2", "accounts_per_manager"] == 55 and cov.loc["S2", "managers"] == 1
    assert cov.loc["S3", "model"] == "pooled" and cov.loc["S3", "managers"] == 3
    assert cov.loc["S4", "model"] == "tech-touch" and cov.loc["S4", "managers"] == 0
    assert cov.loc["S1", "churn_kpi"].startswith("revenue churn")
    assert cov.loc["S3", "churn_kpi"].startswith("logo churn")
    assert cov.loc["Total", "managers"] == 6
    assert cov.loc["Total", "high_touch_share_of_accounts"] == pytest.approx(165 / 6665)


def test_representative_accounts_deterministic():
    lab = sg.assign(TINY, DEFS)
    ex = sg.representative_accounts(TINY, lab, n=2)
    s2 = ex[ex["segment"] == "S2"]
    # S2 scores c=8, d=7, e=4, f=3, h=1: median 4 -> e (0), then f (|3-4| = 1)
    assert s2["account_id"].tolist() == ["e", "f"]
    assert ex.equals(sg.representative_accounts(TINY.iloc[::-1], lab.iloc[::-1], n=2))


def test_composite_scheme_in_lift():
    table = _table(1200)
    scheme = sg.composite_scheme("Composite", ["business_model", "employees", "is_hospital"])
    _, summary = lift.evaluate_schemes(table, [scheme, lift.column_scheme("Emp", "employees")],
                                       folds=3, repeats=1, bootstrap=0)
    s = summary.set_index(["scheme", "sample"])["accuracy_ratio"]
    assert s[("Composite", "out_of_sample")] > s[("Emp", "out_of_sample")]


def _defs(*rules: list[tuple[str, str, object]]) -> list[sg.Segment]:
    return sg.as_segments([{"id": f"S{k + 1}", "conditions": [
        {"variable": v, "op": op, "value": val} for v, op, val in rule]}
        for k, rule in enumerate(rules)])


def test_short_names_name_the_variable_and_stay_short():
    defs = _defs([("industry", "==", "Retail"), ("tech_stack_score", ">=", 7)],
                 [("industry", "==", "Retail"), ("tech_stack_score", "<", 7)],
                 [("industry", "in", ["Media", "Software", "Banking"]),
                  ("uses_competitor", "==", "No")],
                 [("industry", "in", ["Media", "Software", "Banking"]),
                  ("uses_competitor", "==", "Yes")])
    names = sg.short_names(defs)
    assert names == {"S1": "industry: Retail, tech stack 7+",
                     "S2": "industry: Retail, tech stack <7",
                     # "uses competitor: No" alone would also describe Retail accounts
                     "S3": "industry: Banking/Media +1, uses competitor: No",
                     "S4": "industry: Banking/Media +1, uses competitor: Yes"}
    assert all(len(names[k].replace("/", " ").split()) <= sg.NAME_WORDS for k in ("S1", "S2"))
    # the full rule stays available beside the name
    assert sg.rule_text(defs[2].conditions) == \
        "industry in {Banking, Media, Software} and uses competitor = No"


def test_short_names_never_a_bare_category_value():
    defs = _defs([("uses_competitor", "==", "No")], [("uses_competitor", "==", "Yes")])
    names = sg.short_names(defs)
    assert names == {"S1": "uses competitor: No", "S2": "uses competitor: Yes"}
    tiers = sg.short_names(_defs([("segment_tier", "in", ["Gold", "Silver", "Bronze", "Tin"])],
                                 [("segment_tier", "==", "Lead")]))
    assert tiers == {"S1": "segment tier: Bronze/Gold +2", "S2": "segment tier: Lead"}


def test_names_overrides_by_id_or_rule_text():
    defs = _defs([("industry", "==", "Retail")], [("industry", "==", "Media")])
    names = sg.segment_names(defs, {"S1": "Shopkeepers", "industry = Media": "Publishers",
                                    "S9": "gone"})
    assert names == {"S1": "Shopkeepers", "S2": "Publishers", sg.REST: sg.REST}


def test_synthesised_segments_carry_short_unique_names():
    table = _table()
    defs = sg.synthesise(table, ["business_model", "employees", "is_hospital"])
    names = [d.name for d in defs]
    assert len(set(names)) == len(names)
    assert all(n == sg.short_names(defs)[d.id] for d, n in zip(defs, names, strict=True))


def test_short_names_never_describe_accounts_of_another_segment():
    """'employees 500+, non-multinational' is not a name for the B2B branch when B2C
    companies of 500+ employees form their own segment (found on the demo run)."""
    defs = _defs([("employees", ">=", 500), ("business_model", "==", "B2B"),
                  ("multinational", "==", False)],
                 [("employees", ">=", 500), ("business_model", "==", "B2C")],
                 [("employees", ">=", 500), ("business_model", "==", "B2B"),
                  ("multinational", "==", True)],
                 [("employees", "<", 500), ("business_model", "==", "B2B")])
    names = sg.short_names(defs)
    assert names["S1"] == "employees 500+, business model: B2B, multinational: no"
    assert names["S2"] == "employees 500+, business model: B2C"
    assert names["S4"] == "employees <500, business model: B2B"
    assert len(set(names.values())) == len(names)


@pytest.mark.parametrize(("a", "b", "apart"), [
    (("x", ">=", 500), ("x", "<", 500), True), (("x", ">", 5), ("x", "<=", 5), True),
    (("x", ">=", 5), ("x", "<=", 5), False), (("x", ">=", 5), ("x", ">=", 9), False),
    (("c", "==", "A"), ("c", "==", "B"), True), (("c", "in", ["A", "B"]), ("c", "==", "B"), False),
    (("c", "in", ["A", "B"]), ("c", "not in", ["A", "B"]), True),
    (("c", "==", "A"), ("c", "!=", "A"), True), (("c", "==", "A"), ("d", "==", "B"), False),
    (("f", "==", True), ("f", "==", False), True)])
def test_contradicting_conditions(a, b, apart):
    assert sg._contradict(sg.Condition(*a), sg.Condition(*b)) is apart
    assert sg._contradict(sg.Condition(*b), sg.Condition(*a)) is apart


def test_stakeholder_names_reach_the_crm_export_and_categories_keep_their_variable():
    """segments.names (by rule text) flows into segment_assignments and the CRM 'Segment
    Name'; a generated name never shows a bare category value ('No')."""
    from helpers.analyse.quarterly import crm_export
    from helpers.analyse.segments import assignment_table

    table = pd.DataFrame({"account_id": ["a1", "a2", "a3", "a4"],
                          "uses_competitor": ["No", "Yes", "No", "Yes"],
                          "quartile": list("ABCD"), "score": [4.0, 3.0, 2.0, 1.0]})
    defs = _defs([("uses_competitor", "==", "No")], [("uses_competitor", "==", "Yes")])
    names = sg.segment_names(defs, {"uses competitor = Yes": "Switchers"})
    crm = crm_export(assignment_table(table, sg.assign(table, defs), names), "r1")
    assert crm["Segment Name"].tolist() == ["uses competitor: No", "Switchers",
                                            "uses competitor: No", "Switchers"]

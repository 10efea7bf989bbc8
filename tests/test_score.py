"""helpers.setup.score: each component by hand, ranking, quantiles under ties, rescore, widgets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.core.params import Score
from helpers.setup.score import (
    COMPONENTS,
    component_summary,
    quality_score,
    rescore,
    score_formula,
    top_bottom,
)
from helpers.setup.widgets import save_weights, score_weights_panel


def _accounts() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": ["a", "b", "c", "d"],
        "mrr": [1000.0, 500.0, 100.0, 200.0],
        "mrr_prev": [800.0, 100.0, 0.0, 400.0],
        "status": ["current", "former", "current", "current"],
        "employees": [6000.0, 10.0, np.nan, 5000.0],
        "success_hours": [2.0, np.nan, 0.0, 0.0],
        "acquisition_cost": [9000.0, np.nan, 0.0, 0.0],
    })


TICKETS = pd.DataFrame({"account_id": ["a", "zz"], "tickets": [10, 99]})


def test_components_by_hand():
    s = quality_score(_accounts(), Score(), TICKETS).set_index("account_id")
    a, b, c, d = (s.loc[k] for k in "abcd")
    # a: ACV 12,000; 10 tickets x 30; 2 h x 75; 9,000 / 3 years; growth 25 % x 0.5 x ACV; logo
    assert (a.c_acv, a.c_tickets, a.c_success, a.c_acquisition) == (12000, -300, -150, -3000)
    assert (a.c_growth, a.c_churn, a.c_large_logo) == (1500, 0, 5000)
    assert a.score == 15050
    # b: growth +400 % capped at +100 %; former -> churn penalty; small -> no logo
    assert (b.c_growth, b.c_churn, b.c_large_logo, b.score) == (3000, -5000, 0, 4000)
    assert b.c_tickets == 0 and b.c_success == 0 and b.c_acquisition == 0
    # c: mrr_prev 0 -> growth 0, flagged
    assert c.c_growth == 0 and bool(c.growth_missing) and c.score == 1200
    # d: -50 % growth; exactly 5,000 employees gets the logo bonus
    assert d.c_growth == -600 and d.c_large_logo == 5000 and d.score == 6800
    np.testing.assert_allclose(s[list(COMPONENTS)].sum(axis=1), s["score"])
    assert s["score_rank"].to_dict() == {"a": 1, "d": 2, "b": 3, "c": 4}
    assert s["quartile"].astype(str).to_dict() == {"a": "A", "d": "B", "b": "C", "c": "D"}
    assert s.loc["a", "score_pct"] == 1.0 and s.loc["c", "score_pct"] == 0.25


def test_weights_are_used():
    w = Score(acv_weight=2, cost_per_ticket=1, success_hour_cost=10, acquisition_cost_weight=0.5,
              acquisition_amortisation_years=1, growth_bonus_weight=1, growth_cap=0.1,
              churn_penalty=7, large_logo_bonus=1, large_logo_min_employees=6001)
    a = quality_score(_accounts(), w, TICKETS).set_index("account_id").loc["a"]
    assert (a.c_acv, a.c_tickets, a.c_success, a.c_acquisition) == (24000, -10, -20, -4500)
    assert a.c_growth == pytest.approx(1200) and a.c_large_logo == 0


def test_missing_optional_inputs_warn():
    acc = pd.DataFrame({"account_id": ["x", "y"], "mrr": [10.0, np.nan],
                        "status": ["current", "former"]})
    s = quality_score(acc, Score())
    w = "\n".join(s.attrs["warnings"])
    for needle in ("no tickets", "no success_hours", "no acquisition_cost", "no mrr_prev",
                   "no employees", "without MRR"):
        assert needle in w
    assert s.set_index("account_id")["score"].to_dict() == {"x": 120.0, "y": -5000.0}


def test_ties_broken_by_account_id_and_quartiles():
    ids = ["j", "c", "a", "h", "e", "b", "i", "d", "g", "f"]
    acc = pd.DataFrame({"account_id": ids, "mrr": 100.0})
    s = quality_score(acc, Score())
    assert s["account_id"].tolist() == sorted(ids)
    assert s["score_rank"].tolist() == list(range(1, 11))
    assert s["quartile"].astype(str).tolist() == list("AAABBCCCDD")
    assert (s["score_pct"] == s["score_pct"].iloc[0]).all()  # ties share a percentile


def test_deciles():
    acc = pd.DataFrame({"account_id": [f"{i:02d}" for i in range(20)], "mrr": range(20)})
    s = quality_score(acc, Score(quantiles=10))
    assert s["quartile"].value_counts().to_dict() == {f"D{i}": 2 for i in range(1, 11)}
    assert s.iloc[0]["quartile"] == "D1" and s.iloc[0]["account_id"] == "19"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=60), st.sampled_from([4, 10]))
def test_quantiles_heavy_ties(values, q):
    acc = pd.DataFrame({"account_id": [f"id{i}" for i in range(len(values))],
                        "mrr": np.array(values, dtype=float)})
    s = quality_score(acc, Score(quantiles=q))
    sizes = s["quartile"].value_counts().to_numpy()
    assert sizes.max() - sizes.min() <= 1 and sizes.sum() == len(values)
    assert sorted(s["score_rank"]) == list(range(1, len(values) + 1))
    assert s["score"].is_monotonic_decreasing
    codes = s["quartile"].cat.codes.to_numpy()
    assert (np.diff(codes) >= 0).all()  # better rank never in a worse bucket


def test_rescore_equals_quality_score():
    rng = np.random.default_rng(7)
    n = 200
    acc = pd.DataFrame({"account_id": [f"a{i}" for i in range(n)],
                        "mrr": rng.gamma(2, 300, n), "mrr_prev": rng.gamma(2, 300, n),
                        "status": rng.choice(["current", "former"], n),
                        "employees": rng.integers(1, 9000, n).astype(float),
                        "success_hours": rng.random(n) * 5, "acquisition_cost": rng.random(n) * 1e4,
                        "tickets": rng.integers(0, 20, n)})
    base = quality_score(acc, Score())
    w2 = Score(acv_weight=0.7, churn_penalty=100, growth_cap=0.3, large_logo_min_employees=100,
               quantiles=10)
    direct = quality_score(acc, w2).set_index("account_id").sort_index()
    fast = rescore(base, w2).set_index("account_id").sort_index()
    cols = [*COMPONENTS, "score", "score_rank", "score_pct", "growth_rate"]
    pd.testing.assert_frame_equal(direct[cols], fast[cols])
    assert (direct["quartile"].astype(str) == fast["quartile"].astype(str)).all()


def test_rescore_at_100k_matches_a_full_rescore():
    # the widget's speed is measured by benchmarks/bench.py (widget ms), never asserted here
    n = 100_000
    rng = np.random.default_rng(1)
    acc = pd.DataFrame({"account_id": [f"a{i}" for i in range(n)], "mrr": rng.random(n) * 1e3,
                        "status": "current"})
    base = quality_score(acc, Score())
    fast = rescore(base, Score(acv_weight=2))
    direct = quality_score(acc, Score(acv_weight=2))
    assert np.allclose(fast["score"].to_numpy(), direct["score"].to_numpy())


def test_top_bottom_why_and_summary():
    s = quality_score(_accounts(), Score(), TICKETS)
    top, bottom = top_bottom(s, n=2)
    assert top["account_id"].tolist() == ["a", "d"] and bottom["account_id"].tolist() == ["c", "b"]
    assert top["why"][0] == "contract value (+12,000), large-logo bonus (+5,000)"
    assert bottom["why"][1] == "contract value (+6,000), churn penalty (-5,000)"
    summ = component_summary(s).set_index("component")
    assert summ.loc["c_churn", "total"] == -5000 and summ.loc["c_churn", "nonzero_accounts"] == 1
    assert summ.loc["c_acv", "mean_A"] == 12000
    assert summ["share_of_abs"].sum() == pytest.approx(1.0)


def test_formula_mentions_weights():
    f = score_formula(Score(cost_per_ticket=42, large_logo_min_employees=1234))
    assert "42.00 per support ticket" in f and "1,234 or more employees" in f


def test_static_panel_and_save(tmp_path):
    s = quality_score(_accounts(), Score(), TICKETS)
    tables = score_weights_panel(s, Score(churn_penalty=0), interactive=False)
    assert isinstance(tables, dict) and tables["quantile_sizes"]["accounts"].sum() == 4
    assert tables["ranking"]["account_id"].tolist()[0] == "a"
    assert tables["top_quarter_retained"] == 1.0
    p = save_weights(Score(churn_penalty=123), tmp_path / "w" / "score.yaml")
    import yaml

    assert yaml.safe_load(p.read_text())["score"]["churn_penalty"] == 123
    Score.model_validate(yaml.safe_load(p.read_text())["score"])  # a valid params block


def test_interactive_panel_builds(tmp_path):
    pytest.importorskip("ipywidgets")
    from helpers.setup.widgets import find_widget

    s = quality_score(_accounts(), Score(), TICKETS)
    panel = score_weights_panel(s, Score(), interactive=True, save_to=tmp_path / "s.yaml")
    # controls first, results after: the boxes can never be drawn under the tables
    assert "wb-weights-controls" in panel.children[0]._dom_classes
    assert "wb-weights-results" in panel.children[-1]._dom_classes
    top = find_widget(panel, "wb-weights-top")
    before = top.value
    box = find_widget(panel, "wb-weight-acv_weight")
    assert box.continuous_update and box.min <= box.value <= box.max
    box.value = 3.0  # no event loop here: the refresh runs at once
    assert top.value != before and "<table" in top.value and "Top 10" in top.value
    save = [c for c in panel.children[1].children
            if getattr(c, "description", "") == "save weights"][0]
    save.click()
    assert "acv_weight: 3.0" in (tmp_path / "s.yaml").read_text()


def test_panel_rejects_bad_weights_in_one_sentence():
    pytest.importorskip("ipywidgets")
    from helpers.setup.widgets import find_widget

    s = quality_score(_accounts(), Score(), TICKETS)
    panel = score_weights_panel(s, Score(), interactive=True)
    top = find_widget(panel, "wb-weights-top")
    before = top.value
    find_widget(panel, "wb-weight-growth_cap").value = 0.0  # must be > 0
    status = find_widget(panel, "wb-weights-status").value
    assert "growth_cap must be greater than 0" in status
    assert "pydantic" not in status and "http" not in status and "\n" not in status
    assert top.value == before  # the tables keep the last valid weights


def test_panel_names_the_groups_deciles_or_quartiles():
    s = quality_score(_accounts(), Score(), TICKETS)
    quart = score_weights_panel(s, Score(), interactive=False)
    dec = score_weights_panel(s, Score(quantiles=10), interactive=False)
    assert "quartile" in quart["quantile_sizes"].columns and "quartile" in quart["top"].columns
    assert "decile" in dec["quantile_sizes"].columns and "decile" in dec["top"].columns
    assert "quartile" not in dec["top"].columns


def test_panel_debounces_typing_in_the_kernel_loop():
    """In a kernel (a running event loop) a burst of edits recomputes once, after the pause."""
    pytest.importorskip("ipywidgets")
    import asyncio

    from helpers.setup import widgets

    s = quality_score(_accounts(), Score(), TICKETS)
    calls = []
    real = widgets.weight_tables

    async def scenario():
        panel = widgets.score_weights_panel(s, Score(), interactive=True, debounce_s=0.05)
        box = widgets.find_widget(panel, "wb-weight-churn_penalty")
        widgets.weight_tables = lambda *a, **k: calls.append(1) or real(*a, **k)
        try:
            for v in (1.0, 10.0, 100.0, 1000.0):  # typing "1000"
                box.value = v
            assert not calls  # nothing yet: still typing
            await asyncio.sleep(0.2)
        finally:
            widgets.weight_tables = real
        return widgets.find_widget(panel, "wb-weights-top").value

    asyncio.run(scenario())
    assert len(calls) == 1

"""Issue 18: the lightweight analysis for small bases (helpers.analyse.lightweight), label typo
suggestions (helpers.collect.labels) and expr measures on an export's own column names."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, use_project

from helpers.analyse import lightweight
from helpers.collect.hypotheses import derive_measures, resolve_column
from helpers.collect.labels import field_suggestions, industry_suggestions
from helpers.core.errors import AnalysisError
from helpers.core.params import Analysis, Params
from helpers.setup import customers


def _params(**analysis) -> Params:
    return Params.model_validate({"as_of": "2026-09-30", "inputs": {"accounts": {"path": "x.csv"}},
                                  "analysis": analysis})


# --------------------------------------------------------------------------- path choice
def test_mode_auto_picks_lightweight_below_the_threshold_and_explicit_modes_win():
    a = Analysis()
    assert lightweight.path_for(a, 85) == lightweight.path_for(a, 199) == "lightweight"
    assert lightweight.path_for(a, 200) == "full"
    assert lightweight.path_for(Analysis(mode="full"), 50) == "full"
    assert lightweight.path_for(Analysis(mode="lightweight"), 5000) == "lightweight"
    assert lightweight.path_for(Analysis(lightweight={"below": 60}), 85) == "full"


def test_scaled_parameters_follow_the_base_and_never_exceed_the_full_path():
    a = Analysis()
    assert [lightweight.min_leaf(a, n) for n in (20, 85, 1000)] == [5, 9, 40]
    assert lightweight.min_category(a, 20) == 3 and lightweight.min_category(a, 85) == 5
    s = lightweight.scaled(a, 85)
    assert s.tree.min_samples_leaf == 9 and s.min_accounts == 10 and s.tree.min_category_size == 1
    assert a.tree.min_samples_leaf == 40  # the run's parameters are untouched


def _flagged(n_kept: int, n_excluded: int = 3) -> pd.DataFrame:
    n = n_kept + n_excluded
    return pd.DataFrame({"account_id": [f"A{i}" for i in range(n)],
                         "excluded": [False] * n_kept + [True] * n_excluded,
                         "exclusion_rule": ["kept"] * n_kept + ["test"] * n_excluded})


def test_an_85_account_base_is_no_longer_refused():
    # before issue 18: "only 85 account(s) are kept ... needs at least 100"
    customers.check_enough_accounts(_flagged(85), _params())
    with pytest.raises(AnalysisError, match="needs at least 100 kept accounts"):
        customers.check_enough_accounts(_flagged(85), _params(mode="full"))


@pytest.mark.parametrize("kept", [19, 0])
def test_below_20_accounts_a_clear_message(kept):
    with pytest.raises(AnalysisError, match="Even the lightweight analysis needs at least 20"):
        customers.check_enough_accounts(_flagged(kept), _params())
    customers.check_enough_accounts(_flagged(20), _params())


# --------------------------------------------------------------------------- categories
def test_category_merging_never_collapses_a_field_into_one_other():
    # 60 accounts over 12 sectors of 5: every one is below a min size of 6
    sectors = np.repeat([f"S{i:02d}" for i in range(12)], 5)
    sectors[:3] = "S11"  # S11 the largest (8), then S01... (5 each), S00 has 2 left
    table = pd.DataFrame({"account_id": range(60), "sector": sectors})
    merged, log = lightweight.merge_categories(table, {"sector": "categorical"}, min_size=6, keep=2)
    left = merged["sector"].value_counts()
    assert len(left) == 3 and "other" in left.index  # two largest + other
    assert left["S11"] == 8 and left["S01"] == 5  # the two largest (ties by label)
    assert log["accounts"].sum() == left["other"] and set(log["merged_into"]) == {"other"}
    # a single rare category is not merged (it would only be renamed)
    t2 = pd.DataFrame({"sector": ["a"] * 30 + ["b"] * 30 + ["c"] * 2})
    same, log2 = lightweight.merge_categories(t2, {"sector": "categorical"}, min_size=6)
    assert log2.empty and same["sector"].equals(t2["sector"])


def test_separation_table_counts_every_account_once_per_field():
    rng = np.random.default_rng(3)
    n = 40
    table = pd.DataFrame({"account_id": [f"A{i:02d}" for i in range(n)],
                          "score": rng.normal(size=n), "size": rng.integers(1, 100, n),
                          "sector": rng.choice(["x", "y"], n)})
    th = pd.DataFrame({"variable": ["size"], "cut": [50.0]})
    sep = lightweight.separation(table, th, {"size": "numeric", "sector": "categorical"}, 0.25)
    for _, g in sep.groupby("variable"):
        assert g["accounts"].sum() == n and g["top_accounts"].sum() == 10
    low = sep[(sep["variable"] == "size") & (sep["group"] == "below 50")]
    assert int(low["accounts"].iloc[0]) == int((table["size"] < 50).sum())


# --------------------------------------------------------------------------- labels, expr
def test_label_typos_are_suggested_with_the_line_to_add():
    unmapped = pd.DataFrame({"label": ["technolgy", "Technolgy", "Widgets"], "rows": [2, 1, 4]})
    imap = {"technology": "Technology", "software": "Software"}
    found = industry_suggestions(unmapped, imap, similarity=0.8, map_path="data/raw/m.yaml")
    assert len(found) == 1  # the map ignores case: one line for both spellings
    row = found.iloc[0]
    assert row["suggestion"] == "Technology" and row["rows"] == 3
    assert "technolgy: Technology" in row["fix"] and "data/raw/m.yaml" in row["fix"]
    table = pd.DataFrame({"segment": ["Software"] * 6 + ["Sofware"] + ["Retail"] * 4})
    f2 = field_suggestions(table, ["segment"], similarity=0.8)
    assert f2[["label", "suggestion"]].values.tolist() == [["Sofware", "Software"]]


def test_expr_measure_may_use_the_export_own_column_names():
    # before issue 18: "revenue / employees" on an export's "Revenue" column was "missing
    # source column" (the preset renames Revenue to annual_revenue on reading)
    reg = pd.DataFrame({"id": ["H1", "H2"], "variable": ["rev_per_head", "head"],
                        "kind": ["numeric", "numeric"], "measure_type": ["expr", "column"],
                        "measure": ["revenue / employees", "Head Count"],
                        "measure_args": [None, None]})
    table = pd.DataFrame({"annual_revenue": [100.0, 300.0], "employees": [10.0, 20.0],
                          "head count": [1.0, 2.0]})
    out, log = derive_measures(table, reg)
    assert log["status"].tolist() == ["ok", "ok"]
    assert out["rev_per_head"].tolist() == [10.0, 15.0] and out["head"].tolist() == [1.0, 2.0]
    assert "revenue" not in out.columns  # the alias is not added to the table
    assert resolve_column("nothing_like_it", table.columns) is None


# --------------------------------------------------------------------------- end to end
def _example_project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(ROOT / "params", root / "params")
    (root / "data" / "raw").mkdir(parents=True)
    shutil.copytree(ROOT / "data" / "raw" / "examples", root / "data" / "raw" / "examples")
    return root


def test_85_account_salesforce_example_runs_the_lightweight_path_to_a_report(tmp_path):
    from helpers.pipeline import run_in_process

    root = _example_project(tmp_path)
    with use_project(root):
        out = run_in_process("sf", "params/examples/salesforce-deals.yaml")
    run = root / "data" / "processed" / "sf"
    # the account list: 85 accounts from the deals, every deal row accounted for
    rec = pd.read_parquet(run / "account_list_reconciliation.parquet")
    total = rec[rec["used"].isna()]
    opps = pd.read_csv(root / "data/raw/examples/sf_opportunities.csv")
    assert int(total["rows"].iloc[0]) == len(opps) == int(rec.loc[rec["used"].notna(), "rows"].sum())
    assert len(pd.read_parquet(run / "scored_accounts.parquet")) == 85
    # the lightweight path: tables, no regression, no cross-validated lift
    import json

    path = json.loads((run / "analysis_path.json").read_text())
    assert path["path"] == "lightweight" and path["n_accounts"] == 85
    assert len(pd.read_parquet(run / "lightweight_table.parquet")) == 85
    assert set(pd.read_parquet(run / "scheme_summary.parquet")["sample"]) == {"in_sample"}
    assert pd.read_parquet(run / "regression_coefs.parquet").empty
    # the sector hypothesis is tested (not "a single category after merging")
    tests = pd.read_parquet(run / "hypothesis_tests.parquet").set_index("variable")
    assert bool(tests.loc["sector", "testable"]) and bool(tests.loc["revenue_per_employee",
                                                                    "testable"])
    typos = pd.read_parquet(run / "label_suggestions.parquet")
    assert {"technolgy", "sofware"} <= set(typos["label"].str.casefold())
    html = Path(out.report.html).read_text(encoding="utf-8")
    assert "The lightweight analysis ran" in html and "What a larger base" not in html
    assert "With a larger base" in html and "Labels that look like typos" in html
    assert "The account list from the deals / subscriptions" in html
    # the recap describes the path that ran: no regression, no out-of-sample lift
    assert "tested against the score the lightweight way" in html
    assert "(in- and out-of-sample)" not in html

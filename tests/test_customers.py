"""helpers.setup.customers: loading the customer list, exclusion rules, reconciliation."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from readers import load_accounts

from helpers.core.errors import InputDataError
from helpers.core.params import Exclusions, Params
from helpers.setup.customers import RULES, apply_exclusions, reconciliation

AS_OF = dt.date(2026, 9, 30)
HEADER = ["Account ID", "Account Name", "Website", "Type", "Customer Since", "Churn Date", "MRR",
          "Currency", "MRR 12 Months Ago", "Employees"]


def _params(path, **extra) -> Params:
    return Params.model_validate({"as_of": AS_OF.isoformat(),
                                  "inputs": {"accounts": {"path": str(path), **extra}},
                                  "currency": {"rates": {"USD": 1.0, "EUR": 1.1}}})


def _csv(tmp_path, rows, header=HEADER):
    p = tmp_path / "accounts.csv"
    with p.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return p


ROWS = [
    ["A1", "Acme Inc.", "https://www.acme.com/", "Customer", "2024-01-05", "", "1,000", "EUR",
     "800", "5,200"],
    ["A2", "Beta LLC", "beta.io", "Former Customer", "2023-02-01", "2025-06-30", "$900", "USD",
     "", "120"],
    ["A3", "Test Co", "", "Proof of Concept", "2026-01-01", "", "50", "USD", "", ""],
    ["A4", "Delta", "delta.com", "Customer", "2022-03-01", "2027-01-31", "2000", "USD", "2000",
     "10"],
]


def test_load_accounts_canonical(tmp_path):
    acc, warnings = load_accounts(_params(_csv(tmp_path, ROWS)))
    assert list(acc["account_id"]) == ["A1", "A2", "A3", "A4"]
    assert acc["mrr"].tolist() == pytest.approx([1100.0, 900.0, 50.0, 2000.0])
    assert acc["mrr_local"][0] == 1000 and acc["currency"][0] == "EUR"
    assert acc["mrr_prev"][0] == pytest.approx(880.0)  # converted with the row's currency
    # churn in the future (A4) is still current
    assert acc["status"].tolist() == ["current", "former", "current", "current"]
    assert acc["is_test"].tolist() == [False, False, True, False]
    assert acc["domain"].tolist()[:2] == ["acme.com", "beta.io"]
    assert acc["employees"][0] == 5200
    assert acc["start_date"][0] == pd.Timestamp("2024-01-05")
    assert pd.api.types.is_string_dtype(acc["account_id"])
    assert warnings == ["accounts: 1 account(s) with churn_date after as_of 2026-09-30 (still "
                        "current at as_of): A4 (row 5)"]


def test_load_accounts_arr_only_and_status_from_type(tmp_path):
    p = _csv(tmp_path, [["X", "Customer", "2024-01-01", "12,000"],
                        ["Y", "Churned", "2024-01-01", "24000"]],
             header=["account_id", "account_type", "start_date", "arr"])
    acc, _ = load_accounts(_params(p))
    assert acc["mrr"].tolist() == [1000.0, 2000.0]
    assert acc["status"].tolist() == ["current", "former"]


def test_load_accounts_status_column_contradiction_warns(tmp_path):
    p = _csv(tmp_path, [["X", "2024-01-01", "", "10", "churned"],
                        ["Y", "2024-01-01", "", "10", "active"],
                        ["Z", "2024-01-01", "2025-01-01", "10", "active"]],
             header=["account_id", "start_date", "churn_date", "mrr", "status"])
    acc, warnings = load_accounts(_params(p))
    assert acc["status"].tolist() == ["former", "current", "current"]
    assert any("contradict" in w and "Z (row 4)" in w and "X (row" not in w for w in warnings)
    # a former status without a churn date is former, churn date unknown (not a contradiction)
    assert "accounts: 1 former customer(s) without a churn date (a former status or type, " \
        "blank churn date): former, churn date unknown: X (row 2)" in warnings


@pytest.mark.parametrize("ids, match", [(["A1", "A1"], "duplicate account ids"),
                                        (["A1", ""], "blank account ids")])
def test_load_accounts_bad_ids(tmp_path, ids, match):
    rows = [[i, *r[1:]] for i, r in zip(ids, ROWS[:2], strict=True)]
    with pytest.raises(InputDataError, match=match) as err:
        load_accounts(_params(_csv(tmp_path, rows)))
    assert err.value.rows  # rows are named


def test_load_accounts_missing_columns(tmp_path):
    p = _csv(tmp_path, [["X", "2024-01-01", "Customer"]],
             header=["account_id", "start_date", "account_type"])
    with pytest.raises(InputDataError, match="no MRR or ARR"):
        load_accounts(_params(p))
    p = _csv(tmp_path, [["X", "2024-01-01", "5"]], header=["account_id", "start_date", "mrr"])
    with pytest.raises(InputDataError, match="current from former"):
        load_accounts(_params(p))
    p = _csv(tmp_path, [["X", "2024-01-01", "5", ""]],
             header=["account_id", "Started", "mrr", "churn_date"])
    with pytest.raises(InputDataError, match="start_date"):
        load_accounts(_params(p, preset="generic"))


def test_load_accounts_bad_values(tmp_path):
    bad_date = [[*ROWS[0][:4], "sometime", *ROWS[0][5:]]]
    with pytest.raises(InputDataError, match="unreadable start_date") as err:
        load_accounts(_params(_csv(tmp_path, bad_date)))
    assert err.value.rows == [2]
    bad_mrr = [[*ROWS[0][:6], "lots", *ROWS[0][7:]]]
    with pytest.raises(InputDataError, match="unreadable MRR"):
        load_accounts(_params(_csv(tmp_path, bad_mrr)))
    bad_cur = [[*ROWS[0][:7], "JPY", *ROWS[0][8:]]]
    with pytest.raises(InputDataError, match="JPY"):
        load_accounts(_params(_csv(tmp_path, bad_cur)))


def test_load_accounts_warnings_not_changes(tmp_path):
    rows = [
        ["W1", "n", "", "Customer", "2025-01-01", "2024-01-01", "10", "USD", "", ""],  # churn<start
        ["W2", "n", "", "Customer", "2027-01-01", "", "10", "USD", "", ""],  # future start
        ["W3", "n", "", "Customer", "2024-01-01", "", "-5", "USD", "", ""],  # negative MRR
        ["W4", "n", "", "Customer", "2024-01-01", "", "", "USD", "", ""],  # blank MRR
    ]
    acc, warnings = load_accounts(_params(_csv(tmp_path, rows)))
    assert len(acc) == 4 and acc["mrr"][2] == -5 and np.isnan(acc["mrr"][3])
    text = "\n".join(warnings)
    for needle in ("churn_date before start_date: W1", "start_date after as_of", "W2 (row 3)",
                   "zero or negative MRR: W3", "blank MRR"):
        assert needle in text


# --------------------------------------------------------------------------- exclusions
def _accounts(**cols) -> pd.DataFrame:
    n = len(cols["account_id"])
    base = {"start_date": [pd.Timestamp("2020-01-01")] * n, "status": ["current"] * n,
            "is_test": [False] * n, "mrr": [100.0] * n}
    base.update(cols)
    return pd.DataFrame(base)


NONE = dict(outlier_mrr_ratio=None, min_tenure_days=None)


def test_rule_manual():
    acc = _accounts(account_id=["a", "b"])
    f = apply_exclusions(acc, Exclusions(manual_exclude=["b"], manual_reason="reseller", **NONE),
                         AS_OF)
    assert f["exclusion_rule"].tolist() == ["kept", "manual"]
    assert f["exclusion_reason"][1] == "reseller"


def test_rule_test_accounts():
    acc = _accounts(account_id=["a", "b"], is_test=[False, True],
                    account_type=["Customer", "POC"])
    f = apply_exclusions(acc, Exclusions(**NONE), AS_OF)
    assert f["exclusion_rule"].tolist() == ["kept", "test"] and "POC" in f["exclusion_reason"][1]
    f2 = apply_exclusions(acc, Exclusions(drop_test_accounts=False, **NONE), AS_OF)
    assert not f2["excluded"].any()


def test_rule_won_window():
    acc = _accounts(account_id=["a", "b", "c"], start_date=pd.to_datetime(
        ["2018-12-31", "2019-01-01", "2026-01-02"]))
    f = apply_exclusions(acc, Exclusions(won_after=dt.date(2019, 1, 1),
                                         won_before=dt.date(2026, 1, 1), **NONE), AS_OF)
    assert f["exclusion_rule"].tolist() == ["won_window", "kept", "won_window"]
    assert "before won_after" in f["exclusion_reason"][0]
    assert "after won_before" in f["exclusion_reason"][2]


def test_rule_too_new_current_only():
    start = pd.to_datetime(["2026-07-02", "2026-07-03", "2026-07-03"])  # tenure 90, 89, 89 days
    acc = _accounts(account_id=["a", "b", "c"], start_date=start,
                    status=["current", "current", "former"])
    f = apply_exclusions(acc, Exclusions(min_tenure_days=90, outlier_mrr_ratio=None), AS_OF)
    assert f["exclusion_rule"].tolist() == ["kept", "too_new", "kept"]
    assert f["exclusion_reason"][1].startswith("tenure 89 days < 90")


def test_rule_mrr_floor():
    acc = _accounts(account_id=["a", "b", "c"], mrr=[99.99, 100.0, np.nan])
    f = apply_exclusions(acc, Exclusions(mrr_floor=100, **NONE), AS_OF)
    assert f["exclusion_rule"].tolist() == ["mrr_floor", "kept", "kept"]


def test_rule_outlier_once_on_kept_accounts():
    # z is a test account (excluded first); among the rest, 'a' has 4.5x the next (b)
    acc = _accounts(account_id=["a", "b", "c", "z"], mrr=[4500.0, 1000.0, 10.0, 1e9],
                    is_test=[False, False, False, True])
    f = apply_exclusions(acc, Exclusions(min_tenure_days=None), AS_OF)
    assert f["exclusion_rule"].tolist() == ["outlier", "kept", "kept", "test"]
    assert "4.5x" in f["exclusion_reason"][0]
    # exactly 4x is not "more than 4x"; and b (1000 = 100x c) is not removed in a second pass
    acc2 = _accounts(account_id=["a", "b", "c"], mrr=[4000.0, 1000.0, 10.0])
    assert not apply_exclusions(acc2, Exclusions(min_tenure_days=None), AS_OF)["excluded"].any()


def test_first_rule_wins_and_rules_fired():
    acc = _accounts(account_id=["a", "b"], is_test=[True, False], mrr=[1.0, 100.0])
    f = apply_exclusions(acc, Exclusions(manual_exclude=["a"], mrr_floor=50, **NONE), AS_OF)
    assert f["exclusion_rule"][0] == "manual"
    assert f["rules_fired"][0] == "manual|test|mrr_floor"


def test_reconciliation_table():
    acc = _accounts(account_id=["a", "b", "c", "d"], is_test=[True, False, False, False],
                    mrr=[10.0, 20.0, 30.0, 40.0])
    f = apply_exclusions(acc, Exclusions(manual_exclude=["b"], **NONE), AS_OF)
    r = reconciliation(f).set_index("rule")
    assert r.loc["raw", "accounts"] == 4 and r.loc["excluded", "accounts"] == 2
    assert r.loc["kept", "accounts"] == 2 and r.loc["kept", "share"] == 0.5
    assert r.loc["test", "accounts"] == 1 and r.loc["kept", "mrr"] == 70.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.floats(0, 1e5), st.just(float("nan"))), st.booleans(),
                          st.integers(0, 4000), st.booleans()), min_size=0, max_size=30),
       st.sampled_from([None, 2.0, 4.0]), st.sampled_from([None, 90, 365]),
       st.sampled_from([None, 50.0]), st.integers(0, 3))
def test_reconciliation_property(rows, ratio, tenure, floor, n_manual):
    n = len(rows)
    acc = pd.DataFrame({
        "account_id": [f"id{i}" for i in range(n)],
        "mrr": [r[0] for r in rows],
        "is_test": [r[1] for r in rows],
        "start_date": [pd.Timestamp(AS_OF) - pd.Timedelta(days=r[2]) for r in rows],
        "status": ["former" if r[3] else "current" for r in rows],
    })
    rules = Exclusions(outlier_mrr_ratio=ratio, min_tenure_days=tenure, mrr_floor=floor,
                       manual_exclude=[f"id{i}" for i in range(n_manual)])
    f = apply_exclusions(acc, rules, AS_OF)
    assert len(f) == n and f["account_id"].tolist() == acc["account_id"].tolist()
    assert f["exclusion_rule"].isin([*RULES, "kept"]).all()
    assert (f["exclusion_reason"].str.len() > 0).all()
    assert (f["excluded"] == (f["exclusion_rule"] != "kept")).all()
    assert (f["exclusion_rule"] == "outlier").sum() <= 1
    r = reconciliation(f).set_index("rule")["accounts"]
    assert r["raw"] == n == r["kept"] + r["excluded"]
    assert r["excluded"] == r[list(RULES)].sum()

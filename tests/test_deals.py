"""Issue 18: account lists built from deals (Salesforce opportunities, HubSpot deals) and
Stripe subscriptions (helpers.setup.deals): values, churn, growth, and the reconciliation of every
input row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from readers import build_account_list

from helpers.core.errors import InputDataError
from helpers.core.params import Params

AS_OF = "2026-09-30"


def _params(tmp_path: Path, **inputs) -> Params:
    return Params.model_validate({"as_of": AS_OF, "inputs": inputs,
                                  "currency": {"rates": {"USD": 1.0, "EUR": 1.1}}})


def _csv(tmp_path: Path, name: str, rows: list[dict]) -> str:
    p = tmp_path / name
    pd.DataFrame(rows).to_csv(p, index=False)
    return str(p)


def _opp(i, acc, stage, amount, close, created="", kind="New Business", **extra) -> dict:
    return {"Opportunity ID": f"O{i}", "Account ID": acc, "Account Name": acc and f"Name {acc}",
            "Stage": stage, "Amount": amount, "Close Date": close, "Created Date": created,
            "Type": kind, **extra}


OPPS = [
    # A: two consecutive yearly deals, in force at as_of; grew from 12k to 18k a year
    _opp(1, "A", "Closed Won", 12000, "2024-11-01", "2024-09-01"),
    _opp(2, "A", "Closed Won", 18000, "2025-11-01", "2025-10-02", "Renewal"),
    _opp(3, "A", "Closed Won", 3000, "2026-01-15", "2026-01-01", "Professional Services"),
    # B: one deal that ended before as_of -> churned at its end
    _opp(4, "B", "Closed Won", 6000, "2024-03-01", "2024-01-01"),
    # C: a 24-month deal, EUR, total over the term
    {**_opp(5, "C", "Closed Won", "EUR 24000", "2026-02-01", "2025-12-01"),
     "Contract Term (months)": 24},
    # ignored rows, each with its reason
    _opp(6, "A", "Closed Lost", 9000, "2026-05-01"),
    _opp(7, "D", "Prospecting", 5000, "2026-12-01"),
    _opp(8, "", "Closed Won", 1000, "2026-04-01"),
    _opp(9, "E", "Closed Won", 1000, "2026-12-01"),
    _opp(10, "F", "Closed Won", "n/a", "2026-04-01"),
]


def test_salesforce_opportunities_give_value_start_churn_growth_and_cycle(tmp_path):
    p = _params(tmp_path, deals={"path": _csv(tmp_path, "opps.csv", OPPS),
                                 "preset": "salesforce"})
    built = build_account_list(p)
    acc = built.accounts.set_index("account_id")
    assert list(acc.index) == ["A", "B", "C"]
    a, b, c = acc.loc["A"], acc.loc["B"], acc.loc["C"]
    assert a["mrr"] == pytest.approx(1500) and a["mrr_prev"] == pytest.approx(1000)
    assert a["arr"] == pytest.approx(18000) and a["status"] == "current"
    assert a["start_date"] == pd.Timestamp("2024-11-01")  # first won close date
    assert a["one_off_amount"] == pytest.approx(3000) and a["deal_count"] == 3
    assert a["sales_cycle_days"] == pytest.approx(30)  # median of 61, 30, 14
    assert b["status"] == "former" and b["mrr"] == 0
    assert b["churn_date"] == pd.Timestamp("2025-03-01")  # end of its last deal
    assert c["mrr"] == pytest.approx(24000 * 1.1 / 24) and c["status"] == "current"
    # every row accounted for
    rows = built.tables["account_list_rows"].set_index("record_id")
    assert len(rows) == len(OPPS)
    assert rows.loc["O6", "reason"] == "not won (stage Closed Lost)"
    assert rows.loc["O8", "reason"] == "no account id or name"
    assert rows.loc["O9", "reason"].startswith("closes after as_of")
    assert rows.loc["O10", "reason"] == "no readable amount"
    assert rows.loc["O3", "role"] == "one-off amount"
    assert rows.loc["O4", "role"] == "recurring, ended before as_of"
    rec = built.tables["account_list_reconciliation"]
    assert int(rec.loc[rec["used"].notna(), "rows"].sum()) == len(OPPS)
    assert int(rec.loc[rec["used"].isna(), "rows"].iloc[0]) == len(OPPS)


def test_deals_join_an_account_export_by_name_with_a_match_report(tmp_path):
    export = [{"Account ID": "001A", "Account Name": "Name A, Inc.", "Industry": "Software",
               "Employees": 120},
              {"Account ID": "001B", "Account Name": "Name B", "Industry": "Retail",
               "Employees": 30, "MRR": 99},
              {"Account ID": "001Z", "Account Name": "Never Bought", "Industry": "Retail",
               "Employees": 5}]
    p = _params(tmp_path, deals={"path": _csv(tmp_path, "opps.csv", OPPS[:5]),
                                 "preset": "salesforce", "join_on": "name"},
                accounts={"path": _csv(tmp_path, "acc.csv", export), "preset": "salesforce"})
    built = build_account_list(p)
    acc = built.accounts.set_index("account_id")
    assert set(acc.index) == {"001A", "001B", "C"}  # the export's ids where names match
    assert acc.loc["001A", "industry"] == "Software" and acc.loc["001A", "employees"] == 120
    assert acc.loc["001B", "mrr"] == 0  # the deals decide the value, not the export's MRR
    match = built.tables["account_list_match"].set_index("outcome")["accounts"]
    assert match.tolist() == [2, 1, 1]
    assert any("no deals (not customers" in w and "001Z" in w for w in built.warnings)


def test_hubspot_deals_preset_and_a_missing_column_names_what_to_map(tmp_path):
    rows = [{"Record ID": 1, "Associated Company IDs": "77", "Deal Stage": "closedwon",
             "Amount": 1200, "Close Date": "2026-01-10", "Create Date": "2025-12-01"}]
    p = _params(tmp_path, deals={"path": _csv(tmp_path, "hs.csv", rows), "preset": "hubspot",
                                 "amount_basis": "annual"})
    acc = build_account_list(p).accounts
    assert acc["account_id"].tolist() == ["77"] and acc["mrr"].iloc[0] == pytest.approx(100)
    bad = _params(tmp_path, deals={"path": _csv(tmp_path, "hs2.csv", [{"Record ID": 1}]),
                                   "preset": "hubspot"})
    with pytest.raises(InputDataError, match="no column for 'account_id' or 'account_name'"
                       ) as err:
        build_account_list(bad)
    assert "inputs.deals.mapping.account_id" in err.value.hint


SUBS = [
    {"id": "s1", "Customer ID": "cus_1", "Plan": "Team", "Quantity": 2, "Interval": "month",
     "Amount": 100, "Status": "active", "Start (UTC)": "2025-01-01 10:00",
     "Canceled At (UTC)": "", "Ended At (UTC)": ""},
    {"id": "s2", "Customer ID": "cus_1", "Plan": "Annual add-on", "Quantity": 1,
     "Interval": "year", "Amount": 1200, "Status": "active", "Start (UTC)": "2026-01-01",
     "Canceled At (UTC)": "", "Ended At (UTC)": ""},
    {"id": "s3", "Customer ID": "cus_2", "Plan": "Starter", "Quantity": 1, "Interval": "week",
     "Amount": 52, "Status": "canceled", "Start (UTC)": "2024-06-01",
     "Canceled At (UTC)": "2026-03-01", "Ended At (UTC)": "2026-03-15"},
    {"id": "s4", "Customer ID": "cus_3", "Plan": "Team", "Quantity": 1, "Interval": "month",
     "Amount": 100, "Status": "incomplete_expired", "Start (UTC)": "2026-08-01",
     "Canceled At (UTC)": "", "Ended At (UTC)": "2026-08-02"},
    {"id": "s5", "Customer ID": "cus_4", "Plan": "Team", "Quantity": 1, "Interval": "fortnight",
     "Amount": 100, "Status": "active", "Start (UTC)": "2026-01-01",
     "Canceled At (UTC)": "", "Ended At (UTC)": ""},
]


def test_stripe_subscriptions_give_mrr_with_intervals_normalised(tmp_path):
    p = _params(tmp_path, subscriptions={"path": _csv(tmp_path, "subs.csv", SUBS)})
    built = build_account_list(p)
    acc = built.accounts.set_index("account_id")
    assert list(acc.index) == ["cus_1", "cus_2"]
    one, two = acc.loc["cus_1"], acc.loc["cus_2"]
    assert one["mrr"] == pytest.approx(200 + 100)  # 2 x 100 a month + 1200 a year
    assert one["mrr_prev"] == pytest.approx(200) and one["status"] == "current"
    assert one["start_date"] == pd.Timestamp("2025-01-01")
    assert two["status"] == "former" and two["churn_date"] == pd.Timestamp("2026-03-15")
    assert two["mrr_prev"] == pytest.approx(52 * 52 / 12)  # weekly, 12 months before as_of
    rows = built.tables["account_list_rows"].set_index("record_id")
    assert rows.loc["s4", "reason"] == "never started (status incomplete_expired)"
    assert rows.loc["s5", "reason"].startswith("unknown interval fortnight")
    assert rows["used"].sum() == 3 and len(rows) == len(SUBS)


def test_params_need_an_account_list_and_only_one_revenue_source(tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="name the account list"):
        Params.model_validate({"as_of": AS_OF, "inputs": {}})
    with pytest.raises(ValidationError, match="not both"):
        Params.model_validate({"as_of": AS_OF, "inputs": {"deals": {"path": "a.csv"},
                                                          "subscriptions": {"path": "b.csv"}}})

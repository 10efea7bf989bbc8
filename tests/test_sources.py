"""helpers.collect.sources: DuckDB ticket and usage summaries, window edges, attach."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from helpers.collect.sources import attach, ticket_summary, usage_summary
from helpers.core.errors import InputDataError
from helpers.core.params import Source

AS_OF = dt.date(2026, 9, 30)

TICKETS = pd.DataFrame({
    "ticket_id": range(1, 8),
    "account_id": ["007", "007", "007", "007", "B", "B", "B"],
    "created_at": ["2026-09-30 23:59:00",   # as_of day: in
                   "2025-09-30 23:59:59",   # as_of - 365 days: out (window is open on the left)
                   "2025-10-01 00:00:00",   # first day in
                   "2026-10-01 00:00:00",   # after as_of: out
                   "2026-01-15", "garbage", None],
    "priority": "low",
    "minutes_spent": [10, 5, 7, 3, 20, 1, 1],
})


@pytest.fixture(params=["csv", "parquet", "df"])
def tickets_input(request, tmp_path):
    if request.param == "df":
        return TICKETS.astype({"created_at": "str"})
    p = tmp_path / f"t.{request.param}"
    if request.param == "csv":
        TICKETS.to_csv(p, index=False)
    else:
        TICKETS.to_parquet(p, index=False)
    return str(p)


def test_ticket_window_edges(tickets_input):
    out = ticket_summary(tickets_input, AS_OF, 365)
    assert out.to_dict("list") == {"account_id": ["007", "B"], "tickets": [2, 1],
                                   "ticket_minutes": [17.0, 20.0]}
    assert any("unreadable created_at" in w for w in out.attrs["warnings"])


def test_ticket_account_ids_fill_zero():
    out = ticket_summary(TICKETS, AS_OF, 30, account_ids=["B", "007", "C"])
    assert out.to_dict("list") == {"account_id": ["B", "007", "C"], "tickets": [0, 1, 0],
                                   "ticket_minutes": [0.0, 10.0, 0.0]}
    assert out["tickets"].dtype == "int64"


def test_ticket_mapping_and_missing_column(tmp_path):
    df = TICKETS.rename(columns={"created_at": "Opened", "account_id": "Org"})
    p = tmp_path / "t.csv"
    df.to_csv(p, index=False)
    src = Source(path=str(p), mapping={"created_at": "Opened", "account_id": "Org"})
    assert ticket_summary(src, AS_OF, 365)["tickets"].tolist() == [2, 1]
    with pytest.raises(InputDataError, match="closest column: 'Opened'"):
        ticket_summary(str(p), AS_OF, 365, mapping={"account_id": "Org", "created_at": "Opend"})


def test_usage_summary_by_hand(tmp_path):
    usage = pd.DataFrame({
        "account_id": ["A", "A", "A", "A", "B", "C"],
        "month": ["2026-09", "2026-08", "2025-10", "2025-09", "2026-09", "2026-10"],
        "active_users": [10, 8, 6, 100, 0, 5],
        "sessions": [100, 80, 60, 1, 0, 5],
        "feature_adoption": [0.5, 0.4, 0.3, 0.1, 0.0, 0.2],
    })
    p = tmp_path / "u.csv"
    usage.to_csv(p, index=False)
    out = usage_summary(str(p), AS_OF, 12).set_index("account_id")
    assert list(out.index) == ["A", "B"]  # 2025-09 and C's 2026-10 are outside the window
    a = out.loc["A"]
    assert a.months_active == 3 and out.loc["B", "months_active"] == 0
    assert a.avg_active_users == pytest.approx(8) and a.avg_sessions == pytest.approx(80)
    assert a.avg_feature_adoption == pytest.approx(0.4)
    # month index 1, 11, 12 with users 6, 8, 10: least-squares slope over the mean (8)
    x, y = np.array([1, 11, 12.0]), np.array([6, 8, 10.0])
    slope = np.polyfit(x, y, 1)[0]
    assert a.usage_trend == pytest.approx(slope / 8)
    assert np.isnan(out.loc["B", "usage_trend"])


def test_attach_fills_absent_accounts():
    accounts = pd.DataFrame({"account_id": ["x", "y", "z"], "mrr": [1.0, 2.0, 3.0],
                             "tickets": [9, 9, 9]})
    summary = pd.DataFrame({"account_id": ["y"], "tickets": [4], "ticket_minutes": [30.0]})
    out = attach(accounts, summary)
    assert out["account_id"].tolist() == ["x", "y", "z"]
    assert out["tickets"].tolist() == [0, 4, 0] and out["ticket_minutes"].tolist() == [0, 30, 0]
    kept_nan = attach(accounts, summary, fill=None)
    assert kept_nan["ticket_minutes"].isna().sum() == 2
    with pytest.raises(InputDataError, match="duplicate"):
        attach(accounts, pd.concat([summary, summary]))

"""Write the small "your own export" examples under data/raw/examples/ (deterministic).

- ``sf_accounts.csv`` + ``sf_opportunities.csv``: a Salesforce-style account export of 85
  accounts and its opportunities (won / lost / open, recurring and one-off), the recurring
  value living only in the won opportunities; industry labels with two typos.
- ``stripe_subscriptions.csv`` + ``stripe_customers.csv``: a Stripe-style subscriptions export
  (monthly and yearly prices, cancellations, an incomplete one) and its customers' metadata.

Planted truths (what the examples' reports should find): software and technology companies
buy more and churn less; larger companies (employees) buy more.

    python tools/make_examples.py            # rewrites data/raw/examples/
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "data" / "raw" / "examples"
AS_OF = pd.Timestamp("2026-09-30")
INDUSTRIES = [("Technology", 22, 1.8), ("Software", 18, 1.7), ("Financial Services", 14, 1.0),
              ("Healthcare", 11, 0.6), ("Manufacturing", 9, 0.7), ("Retail", 7, 0.5),
              ("Education", 4, 0.5)]
TYPOS = {3: "technolgy", 30: "Sofware", 11: "Technolgy"}  # account index -> raw label


def _date(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d")


def salesforce(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """85 accounts and their opportunities."""
    labels = [name for name, n, _ in INDUSTRIES for _ in range(n)]
    fit = {name: f for name, _, f in INDUSTRIES}
    rng.shuffle(labels)
    n = len(labels)
    employees = np.round(np.exp(rng.normal(5.5, 1.2, n))).astype(int) + 5
    accounts, opps = [], []
    for i in range(n):
        acc_id = f"0015g00000A{i:04d}"
        name = f"Example Co {i + 1:02d}"
        industry = TYPOS.get(i, labels[i])
        quality = fit[labels[i]] * (employees[i] / 250) ** 0.4 * np.exp(rng.normal(0, 0.35))
        accounts.append({"Account ID": acc_id, "Account Name": name, "Type": "Customer",
                         "Industry": industry, "Employees": int(employees[i]),
                         "Annual Revenue": int(employees[i] * rng.uniform(80, 220) * 1000),
                         "Billing Country": rng.choice(["United States", "United Kingdom",
                                                        "Germany", "Canada"])})
        start = AS_OF - pd.Timedelta(days=int(rng.integers(200, 1400)))
        created = start - pd.Timedelta(days=int(rng.integers(20, 160)))
        value = float(np.round(12000 * quality, -2))
        churn_p = 0.12 if fit[labels[i]] > 1.2 else 0.35
        k, close = 0, start
        while close <= AS_OF:
            kind = "New Business" if k == 0 else "Renewal"
            opps.append({"Opportunity ID": f"0065g00000O{i:04d}{k:02d}", "Account ID": acc_id,
                         "Account Name": name, "Opportunity Name": f"{name} {kind} {k + 1}",
                         "Type": kind, "Stage": "Closed Won", "Amount": value,
                         "Close Date": _date(close), "Created Date": _date(created),
                         "Contract Term (months)": 12})
            if k and rng.random() < 0.5:  # an implementation / services deal now and then
                opps.append({"Opportunity ID": f"0065g00000S{i:04d}{k:02d}", "Account ID": acc_id,
                             "Account Name": name, "Opportunity Name": f"{name} services",
                             "Type": "Professional Services", "Stage": "Closed Won",
                             "Amount": float(np.round(value * 0.2, -2)),
                             "Close Date": _date(close + pd.Timedelta(days=20)),
                             "Created Date": _date(close), "Contract Term (months)": ""})
            k += 1
            created = close + pd.Timedelta(days=300)
            close = close + pd.DateOffset(years=1)
            value = float(np.round(value * rng.uniform(0.95, 1.3), -2))
            if close <= AS_OF and rng.random() < churn_p:
                opps.append({"Opportunity ID": f"0065g00000L{i:04d}{k:02d}", "Account ID": acc_id,
                             "Account Name": name, "Opportunity Name": f"{name} Renewal {k + 1}",
                             "Type": "Renewal", "Stage": "Closed Lost", "Amount": value,
                             "Close Date": _date(close), "Created Date": _date(created),
                             "Contract Term (months)": 12})
                break
    for j in range(40):  # pipeline that never closed, and deals of accounts not yet customers
        i = int(rng.integers(0, n))
        opps.append({"Opportunity ID": f"0065g00000P{j:04d}", "Account ID": f"0015g00000A{i:04d}",
                     "Account Name": f"Example Co {i + 1:02d}", "Opportunity Name": "Upsell",
                     "Type": "Upsell", "Stage": rng.choice(["Prospecting", "Negotiation",
                                                            "Closed Lost"]),
                     "Amount": float(np.round(rng.uniform(2000, 30000), -2)),
                     "Close Date": _date(AS_OF + pd.Timedelta(days=int(rng.integers(-200, 120)))),
                     "Created Date": _date(AS_OF - pd.Timedelta(days=240)),
                     "Contract Term (months)": 12})
    opps.append({"Opportunity ID": "0065g00000X0001", "Account ID": "", "Account Name": "",
                 "Opportunity Name": "orphan", "Type": "New Business", "Stage": "Closed Won",
                 "Amount": 5000.0, "Close Date": "2026-03-01", "Created Date": "2026-01-10",
                 "Contract Term (months)": 12})
    return pd.DataFrame(accounts), pd.DataFrame(opps)


def stripe(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """60 Stripe customers: their subscriptions and customer metadata."""
    labels = [name for name, n, _ in INDUSTRIES for _ in range(max(2, n * 60 // 85))][:60]
    fit = {name: f for name, _, f in INDUSTRIES}
    rng.shuffle(labels)
    subs, customers = [], []
    plans = [("Starter", 49.0), ("Team", 199.0), ("Business", 499.0)]
    for i, ind in enumerate(labels):
        cus = f"cus_Ex{i:04d}"
        employees = int(np.exp(rng.normal(4.5, 1.0))) + 3
        customers.append({"id": cus, "Name": f"Stripe Example {i + 1:02d}",
                          "Email": f"billing@example{i + 1:02d}.com",
                          "industry (metadata)": ind, "employees (metadata)": employees,
                          "revenue (metadata)": int(employees * rng.uniform(60, 200) * 1000)})
        tier = min(2, int(fit[ind] * (employees / 100) ** 0.3 * rng.uniform(0.6, 1.4)))
        plan, price = plans[tier]
        yearly = rng.random() < 0.3
        start = AS_OF - pd.Timedelta(days=int(rng.integers(120, 1100)))
        status, canceled, ended = "active", "", ""
        if rng.random() < (0.12 if fit[ind] > 1.2 else 0.4):
            end = start + pd.Timedelta(days=int(rng.integers(90, 700)))
            if end < AS_OF:
                status, canceled, ended = "canceled", _date(end - pd.Timedelta(days=14)), _date(end)
        subs.append({"id": f"sub_Ex{i:04d}", "Customer ID": cus,
                     "Customer Name": f"Stripe Example {i + 1:02d}", "Plan": plan,
                     "Quantity": int(rng.integers(1, 6)),
                     "Interval": "year" if yearly else "month",
                     "Amount": price * (10 if yearly else 1), "Currency": "usd",
                     "Status": status, "Start (UTC)": _date(start) + " 10:00",
                     "Canceled At (UTC)": canceled, "Ended At (UTC)": ended})
        if rng.random() < 0.2:  # an add-on subscription
            subs.append({"id": f"sub_Ex{i:04d}b", "Customer ID": cus,
                         "Customer Name": f"Stripe Example {i + 1:02d}", "Plan": "Add-on seats",
                         "Quantity": int(rng.integers(1, 10)), "Interval": "month",
                         "Amount": 15.0, "Currency": "usd", "Status": "active",
                         "Start (UTC)": _date(start + pd.Timedelta(days=60)) + " 10:00",
                         "Canceled At (UTC)": "", "Ended At (UTC)": ""})
    subs.append({"id": "sub_ExIncomplete", "Customer ID": "cus_Ex0000",
                 "Customer Name": "Stripe Example 01", "Plan": "Team", "Quantity": 1,
                 "Interval": "month", "Amount": 199.0, "Currency": "usd",
                 "Status": "incomplete_expired", "Start (UTC)": "2026-08-01 10:00",
                 "Canceled At (UTC)": "", "Ended At (UTC)": "2026-08-02 10:00"})
    return pd.DataFrame(subs), pd.DataFrame(customers)


def main(argv: list[str] | None = None) -> int:
    out = Path(argv[0]) if argv else OUT
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261203)
    accounts, opps = salesforce(rng)
    accounts.to_csv(out / "sf_accounts.csv", index=False)
    opps.to_csv(out / "sf_opportunities.csv", index=False)
    subs, customers = stripe(rng)
    subs.to_csv(out / "stripe_subscriptions.csv", index=False)
    customers.to_csv(out / "stripe_customers.csv", index=False)
    (out / "industry_map.yaml").write_text(
        "# raw industry label -> canonical industry (the examples' map; typos left out on "
        "purpose)\n" + "".join(f"{name.lower()}: {name}\n" for name, _, _ in INDUSTRIES),
        encoding="utf-8")
    for f in sorted(out.iterdir()):
        print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""README "Run it on your own export": a newcomer with an unseen, minimal export gets a report
without editing code — only a parameter file copied from the template and a column mapping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from conftest import scratch_project, use_project

from helpers.pipeline import run_in_process


def _minimal_export(n: int = 400, seed: int = 5) -> pd.DataFrame:
    """A HubSpot-style company export with only the required fields plus two optional ones."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 1200, n), unit="D")
    churned = rng.random(n) < 0.25
    churn = [(s + pd.Timedelta(days=int(d))).date().isoformat() if c else ""
             for s, c, d in zip(start, churned, rng.integers(100, 500, n), strict=True)]
    employees = np.round(np.exp(rng.normal(5, 1.2, n))).astype(int)
    mrr = np.round(50 * employees ** 0.6 * np.exp(rng.normal(0, 0.4, n)), 2)
    return pd.DataFrame({
        "Record ID": [f"9{100000 + i}" for i in range(n)],
        "Company name": [f"Company {i}" for i in range(n)],
        "Create Date": start.strftime("%Y-%m-%d"),
        "Close Date": start.strftime("%m/%d/%Y"),
        "Churned On": churn,
        "Monthly Revenue": [f"${v:,.2f}" for v in mrr],
        "Number of Employees": employees,
        "Industry": rng.choice(["Software", "Retail", "Healthcare"], n),
    })


def test_template_with_a_minimal_export_reaches_a_report(tmp_path):
    root = scratch_project(tmp_path / "newcomer", demo=None)
    raw = root / "data" / "raw" / "my-company"
    raw.mkdir(parents=True)
    _minimal_export().to_csv(raw / "companies.csv", index=False)
    template = (root / "params" / "template.yaml").read_text()
    mine = template.replace("data/raw/my-company/accounts.csv", "data/raw/my-company/companies.csv")
    mine = mine.replace("preset: salesforce", "preset: hubspot")
    mine = mine.replace("start_date: Customer Since", "start_date: Close Date")
    mine = mine.replace("mrr: MRR", "mrr: Monthly Revenue")
    mine = mine.replace("churn_date: Churn Date", "churn_date: Churned On")
    (root / "params" / "mine.yaml").write_text(
        mine + "analysis: {bootstrap: 30, cv_repeats: 1}\nrobustness: {draws: 30, segment_bootstrap: 5}\n")
    with use_project(root):
        out = run_in_process("mine", "params/mine.yaml", report=True)
    html = Path(out.report.html).read_text(encoding="utf-8")
    assert "Company " in html and "<script" not in html.lower()
    recon = pd.read_parquet(root / "data/processed/mine/reconciliation.parquet")
    assert recon.set_index("rule").loc["raw", "accounts"] == 400
    verdicts = pd.read_parquet(root / "data/processed/mine/hypothesis_verdicts.parquet")
    assert set(verdicts["verdict"]) <= {"validated", "rejected", "inconclusive"}

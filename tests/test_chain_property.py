"""Property: on any account table within the schema, and on random corruptions of a valid one,
the chain (Steps 1-4 in one process, ``run_in_process(..., report=False)``) either completes
with full reconciliation or stops with one of the catalogued errors (docs/bad-input.md); never
a library traceback, never a silently dropped or altered row.

Bounded and derandomised so CI is fast and repeatable (about 30-60 s).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from helpers.core import paths
from helpers.core.errors import AnalysisError, InputDataError, WorkbookError
from helpers.core.store import STAGING_ENV

sys.path.insert(0, str(Path(__file__).parent))
from test_bad_input import scratch_project  # noqa: E402

# The messages of the catalogue (docs/bad-input.md); any other error fails the property.
CATALOGUED = [
    r"the file is empty", r"header but no data rows", r"looks separated by",
    r"cannot parse the CSV", r"not valid utf-8", r"duplicate account ids", r"blank account ids",
    r"no column for '\w+'", r"no MRR or ARR column", r"cannot tell current from former",
    r"unreadable (MRR/ARR|start_date|churn_date) values", r"blank start_date",
    r"without an exchange rate", r"unknown status labels", r"header is not on the first row",
    r"every account is excluded by the rules", r"only \d+ account\(s\) are kept",
    r"in scientific notation", r"duplicate column names",
    r"positive_category value\(s\) match no value in the data",
]
SETTINGS = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
INDUSTRIES = ["Software", "Retail", "Health", "Banking", "Zürich Maschinen & Co"]
NASTY = ["=HYPERLINK(\"x\")", "<script>alert(1)</script>", "Ørsted A/S", "O'Brien; Ltd",
         "tab\there", "  spaced  ", "数据公司", "+1 Corp", "-minus", "@at"]


@st.composite
def account_tables(draw) -> pd.DataFrame:
    """A valid export: unique ids, won dates, optional churn dates after them, MRR in mixed
    text formats and two currencies, optional employees, hostile names."""
    n = draw(st.integers(120, 200))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    start = pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.integers(0, 3600, n), "D")
    churned = rng.random(n) < draw(st.floats(0, 0.4))
    churn = start + pd.to_timedelta(rng.integers(30, 900, n), "D")
    mrr = np.round(rng.lognormal(7, 1.2, n), 2)
    style = draw(st.sampled_from(["plain", "thousands", "symbol", "mixed"]))
    text = pd.Series([f"{v:.2f}" for v in mrr])
    if style in ("thousands", "mixed"):
        text = text.where(rng.random(n) < 0.5, pd.Series([f"{v:,.2f}" for v in mrr]))
    currency = np.where(rng.random(n) < draw(st.floats(0, 0.5)), "EUR", "USD")
    if style in ("symbol", "mixed"):
        sym = pd.Series(np.where(currency == "EUR", "€", "$"))
        text = text.where(rng.random(n) < 0.5, sym + text)
    employees = pd.Series(rng.integers(1, 20000, n).astype(str))
    employees = employees.where(rng.random(n) > draw(st.floats(0, 0.3)), "")
    names = [NASTY[i % len(NASTY)] if rng.random() < 0.1 else f"Company {i}" for i in range(n)]
    ids = [f"{draw(st.sampled_from(['A', 'acc-', '00']))}{i}" for i in rng.permutation(n)]
    return pd.DataFrame({
        "account_id": ids, "account_name": names,
        "start_date": start.strftime("%Y-%m-%d"),
        "churn_date": np.where(churned, churn.strftime("%Y-%m-%d"), ""),
        "mrr": text, "currency": currency, "employees": employees,
        "industry": rng.choice(INDUSTRIES, n), "country": rng.choice(["US", "DE", "FR", "GB"], n)})


def _corrupt(df: pd.DataFrame, kind: str, row: int) -> tuple[pd.DataFrame | None, bytes | None]:
    """(table to write as CSV, or raw bytes) for one corruption of a valid table."""
    df = df.copy()
    row = row % len(df)
    if kind == "duplicate_id":
        df.loc[row, "account_id"] = df.loc[(row + 1) % len(df), "account_id"]
    elif kind == "blank_id":
        df.loc[row, "account_id"] = "  "
    elif kind == "drop_start":
        df = df.drop(columns="start_date")
    elif kind == "typo_mrr_header":
        df = df.rename(columns={"mrr": "mmr"})
    elif kind == "bad_mrr":
        df.loc[row, "mrr"] = "call Bob"
    elif kind == "percent_mrr":
        df.loc[row, "mrr"] = "12%"
    elif kind == "negative_mrr":
        df.loc[row, "mrr"] = "(1,200.00)"
    elif kind == "zero_mrr":
        df.loc[row, "mrr"] = "0"
    elif kind == "unknown_currency":
        df.loc[row, ["mrr", "currency"]] = ["100", "CHF"]
    elif kind == "bad_date":
        df.loc[row, "start_date"] = "last spring"
    elif kind == "us_dates":
        df["start_date"] = pd.to_datetime(df["start_date"]).dt.strftime("%m/%d/%Y")
    elif kind == "mixed_dates":
        d = pd.to_datetime(df["start_date"])
        df["start_date"] = d.dt.strftime("%d/%m/%Y")
        df.loc[row, "start_date"] = "12/31/2020"
    elif kind == "future_start":
        df.loc[row, "start_date"] = "2027-05-01"
    elif kind == "churn_before_start":
        df.loc[row, "churn_date"] = "2010-01-01"
    elif kind == "header_only":
        df = df.iloc[:0]
    elif kind == "empty":
        return None, b""
    elif kind == "few_rows":
        df = df.iloc[:15]  # below analysis.lightweight.min_accounts (20)
    elif kind == "all_new":
        df["start_date"], df["churn_date"] = "2026-09-20", ""
    elif kind == "constant_employees":
        df["employees"] = "250"
    elif kind == "single_industry":
        df["industry"] = "Software"
    elif kind in ("latin1", "utf16", "bom", "semicolon"):
        df["account_name"] = df["account_name"].where(df.index % 7 != 0, "Société Zürich")
        if kind == "latin1":  # Excel on Windows writes cp1252: latin-1 plus the € sign
            df["account_name"] = df["account_name"].str.encode("cp1252", "replace") \
                .str.decode("cp1252")
            return None, df.to_csv(index=False).encode("cp1252")
        if kind == "utf16":
            return None, df.to_csv(index=False, sep="\t").encode("utf-16")
        if kind == "bom":
            return None, df.to_csv(index=False).encode("utf-8-sig")
        return None, df.to_csv(index=False, sep=";").encode("utf-8")
    return df, None


CORRUPTIONS = ["duplicate_id", "blank_id", "drop_start", "typo_mrr_header", "bad_mrr",
               "percent_mrr", "negative_mrr", "zero_mrr", "unknown_currency", "bad_date",
               "us_dates", "mixed_dates", "future_start", "churn_before_start", "header_only",
               "empty", "few_rows", "all_new", "constant_employees", "single_industry",
               "latin1", "utf16", "bom", "semicolon"]


# What each corruption must give: "error", or "ok" plus a phrase the warnings must carry.
EXPECTED = {
    "duplicate_id": "error", "drop_start": "error",
    "typo_mrr_header": "error", "bad_mrr": "error", "percent_mrr": "error",
    "unknown_currency": "error", "mixed_dates": "error",
    # one unusable row of 120-200 (under exclusions.max_invalid_share): excluded, reasoned
    "blank_id": ("ok", "unusable row(s) excluded"), "bad_date": ("ok", "unusable row(s) excluded"),
    "header_only": "error", "empty": "error", "few_rows": "error", "all_new": "error",
    "negative_mrr": ("ok", "zero or negative MRR"), "zero_mrr": ("ok", "zero or negative MRR"),
    "future_start": ("ok", "start_date after as_of"),
    "churn_before_start": ("ok", "churn_date before start_date"),
    "constant_employees": ("ok", "H01 (employees) sent back to Step 2: constant"),
    "single_industry": ("ok", "sent back to Step 2: a single category"),
    "us_dates": ("ok", ""), "latin1": ("ok", ""), "utf16": ("ok", ""), "bom": ("ok", ""),
    "semicolon": ("ok", ""),
}


def _chain(df: pd.DataFrame | None, raw: bytes | None) -> tuple[str, object]:
    """Run Steps 1-4 in a fresh scratch project; ('ok', (written ids, outputs)) or
    ('error', exception). Anything but a WorkbookError propagates (fails the property)."""
    from helpers.pipeline import run_in_process

    with tempfile.TemporaryDirectory(prefix="prop-") as tmp:
        root = scratch_project(Path(tmp) / "project", None)
        csv = root / "data" / "raw" / "accounts.csv"
        if raw is not None:
            csv.write_bytes(raw)
        else:
            df.to_csv(csv, index=False)
        try:
            with paths.project_at(root, {STAGING_ENV: None}):
                out = run_in_process("r-prop", "params/p.yaml", report=False)
        except WorkbookError as exc:
            return "error", exc
        run = root / "data" / "processed" / "r-prop"
        tables = {n: pd.read_parquet(run / f"{n}.parquet")
                  for n in ("accounts_raw", "exclusions", "reconciliation",
                            "scored_accounts", "analysis_table")}
        tables["warnings"] = json.loads((run / "warnings.json").read_text("utf-8"))
        return "ok", (out, tables)


def _assert_reconciles(written: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> None:
    ids = written["account_id"].astype(str).str.strip().reset_index(drop=True)
    ids = ids.mask(ids == "", pd.Series([f"(blank id, row {i + 2})" for i in range(len(ids))]))
    excl, scored = tables["exclusions"], tables["scored_accounts"]
    assert sorted(excl["account_id"]) == sorted(ids)  # every row of the file, once
    recon = tables["reconciliation"].set_index("rule")["accounts"]
    assert recon["raw"] == len(written) == recon["kept"] + recon["excluded"]
    kept = set(excl.loc[~excl["excluded"], "account_id"])
    assert set(scored["account_id"]) == kept and len(scored) == len(kept)
    assert len(tables["analysis_table"]) == len(scored)
    assert excl.loc[excl["excluded"], "exclusion_reason"].notna().all()


def _assert_catalogued(exc: Exception) -> None:
    msg = str(exc)
    assert any(re.search(p, msg) for p in CATALOGUED), f"uncatalogued error: {msg}"
    assert "Traceback" not in msg
    if isinstance(exc, InputDataError):
        assert exc.file or exc.column, msg  # says where
        assert exc.hint, msg  # says what to do
    if isinstance(exc, AnalysisError) and "kept" in msg:
        assert "needs at least" in msg


@pytest.fixture(autouse=True)
def _no_staging(monkeypatch):
    monkeypatch.delenv(STAGING_ENV, raising=False)


@SETTINGS
@given(df=account_tables())
def test_valid_tables_complete_with_full_reconciliation(df):
    status, result = _chain(df, None)
    event(f"valid: {status}")
    if status == "error":
        _assert_catalogued(result)
        return
    out, tables = result
    _assert_reconciles(df, tables)
    raw = tables["accounts_raw"].set_index("account_id")
    # amounts are read, never altered: the file's number, in its currency
    local = pd.to_numeric(df["mrr"].str.replace(r"[$€,]", "", regex=True))
    assert np.allclose(raw.loc[df["account_id"], "mrr_local"].to_numpy(), local.to_numpy())
    assert raw.loc[df["account_id"], "account_name"].tolist() == \
        df["account_name"].str.strip().tolist()


@pytest.mark.parametrize("kind", CORRUPTIONS)
@settings(SETTINGS, max_examples=2)
@given(df=account_tables(), row=st.integers(0, 10**6))
def test_corrupted_tables_complete_or_stop_with_a_catalogued_error(kind, df, row):
    bad, raw = _corrupt(df, kind, row)
    status, result = _chain(bad, raw)
    event(f"{kind}: {status}")
    expected = EXPECTED[kind]
    if status == "error":
        assert expected == "error", f"{kind}: {result}"
        _assert_catalogued(result)
        return
    assert expected != "error", f"{kind} was not caught"
    text = json.dumps(result[1]["warnings"], ensure_ascii=False)
    assert expected[1] in text, (kind, text)
    written = bad if bad is not None else df
    if kind == "few_rows":
        written = df.iloc[:15]
    _assert_reconciles(written, result[1])

"""Real account exports (issue 20, docs/bad-input.md "Real CRM exports"): the account list
means what the CRM meant. Clean minimal exports run end to end; account types, status,
dates, numbers, ids, footers, title lines and unusable rows are read as the CRM meant them,
and every guess is a warning carried into the report."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from readers import load_accounts

from helpers.core import paths
from helpers.core.errors import InputDataError
from helpers.core.io import parse_number
from helpers.core.params import Params, with_overrides
from helpers.setup.customers import (
    account_type_labels,
    apply_exclusions,
    parse_flag,
    reconciliation,
    status_mix_warnings,
)

AS_OF = dt.date(2026, 9, 30)
HEADER = ["Account ID", "Account Name", "Type", "Customer Since", "Churn Date", "MRR"]


def _params(path, exclusions=None, **src) -> Params:
    return Params.model_validate({"as_of": AS_OF.isoformat(),
                                  "inputs": {"accounts": {"path": str(path), **src}},
                                  "exclusions": exclusions or {},
                                  "currency": {"rates": {"USD": 1.0, "EUR": 1.1, "GBP": 1.25}}})


def _write(tmp_path, rows, header=HEADER, name="accounts.csv", lines_after=()) -> Path:
    p = tmp_path / name
    with p.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows, *lines_after])
    return p


def _rows(n: int, start="2023-01-15", mrr="100") -> list[list[str]]:
    return [[f"A{i:03d}", f"Company {i}", "Customer", start, "", mrr] for i in range(n)]


# --------------------------------------------------------------------------- clean exports
def telco_export(n: int = 260, seed: int = 7) -> pd.DataFrame:
    """A clean, minimal subscriber export modelled on the public 7,043-row telco file
    (customerID, tenure, MonthlyCharges, Churn Yes/No, ...) plus a sign-up date and a few
    account types: nothing in it needs a standardisation fix."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(4, 72, n)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.5, 0.25, 0.25])
    charges = np.round(rng.uniform(20, 110, n) + np.where(contract == "Two year", 40, 0), 2)
    churn = np.where(rng.random(n) < np.where(contract == "Month-to-month", 0.45, 0.1),
                     "Yes", "No")
    signup = pd.Timestamp(AS_OF) - pd.to_timedelta(tenure * 30, unit="D")
    types = np.array(["Customer"] * n, dtype=object)
    types[:4] = ["Partner", "Test / POC", "Free Trial", "<b>Strategic</b>"]
    return pd.DataFrame({
        "customerID": [f"{1000 + i}-{'ABCDEFGH'[i % 8]}X" for i in range(n)],
        "SignupDate": signup.strftime("%Y-%m-%d"), "tenure": tenure,
        "MonthlyCharges": [f"{v:.2f}" for v in charges], "Churn": churn, "Contract": contract,
        "PaymentMethod": rng.choice(["Electronic check", "Mailed check",
                                     "Credit card (automatic)"], n),
        "AccountType": types})


def _categorical(hid: str, statement: str, column: str, positive: str) -> str:
    """One categorical entry of a hypothesis register (CRM column, free, well covered)."""
    return f"""
- id: {hid}
  statement: {statement}
  direction: "+"
  lens: behavioural
  variable: {column}
  kind: categorical
  positive_category: {positive}
  measure: {{column: {column}}}
  source: CRM
  collection: internal system
  cost: {{minutes_per_point: 0, hourly_rate: 0}}
  expected_coverage: 0.9
  data_quality: 4
  actionability: 5"""


TELCO_REGISTER = (
    _categorical("H01", "Two-year contracts make better customers", "Contract", "Two year")
    + _categorical("H02", "Customers paying by credit card make better customers",
                   "PaymentMethod", "Credit card (automatic)") + "\n")
TELCO_PARAMS = """as_of: 2026-09-30
inputs:
  accounts:
    path: data/raw/telco.csv
    preset: generic
    mapping: {account_id: customerID, account_name: customerID, start_date: SignupDate,
              mrr: MonthlyCharges, churned: Churn, account_type: AccountType}
hypotheses: {register_file: params/hypotheses/telco.yaml}
analysis: {bootstrap: 20, cv_repeats: 1, permutations: 200}
robustness: {draws: 20, segment_bootstrap: 5}
"""


def _telco_project(root: Path) -> Path:
    (root / "params" / "hypotheses").mkdir(parents=True)
    (root / "data" / "raw").mkdir(parents=True)
    (root / "params" / "hypotheses" / "telco.yaml").write_text(TELCO_REGISTER, encoding="utf-8")
    (root / "params" / "telco.yaml").write_text(TELCO_PARAMS, encoding="utf-8")
    telco_export().to_csv(root / "data" / "raw" / "telco.csv", index=False)
    return root


@pytest.fixture
def telco(tmp_path):
    root = _telco_project(tmp_path / "telco")
    with paths.project_at(root):
        yield root


def test_clean_minimal_export_runs_end_to_end(telco):
    """No name column of its own, one column mapped to two names, a yes/no churn flag and
    nothing to standardise: Steps 1-5 run in process and the report shows the type table."""
    from helpers.pipeline import run_in_process

    (telco / "notebooks").mkdir()
    out = run_in_process("telco", "params/telco.yaml", report=True)
    run = telco / "data" / "processed" / "telco"
    accounts = pd.read_parquet(run / "accounts_raw.parquet")
    assert (accounts["account_name"] == accounts["account_id"]).all()
    assert accounts["account_id"].iloc[0] == "1000-AX"
    churn = telco_export()["Churn"].eq("Yes").to_numpy()
    assert (accounts["status"].eq("former").to_numpy() == churn).all()
    recon = pd.read_parquet(run / "reconciliation.parquet").set_index("rule")["accounts"]
    assert recon["raw"] == 260 and recon["raw"] == recon["kept"] + recon["excluded"]
    assert recon["not_customer"] == 1 and recon["test"] == 1 and recon["trial"] == 1
    labels = pd.read_parquet(run / "account_type_labels.parquet")
    assert labels.set_index("label")["treatment"].to_dict() == {
        "Customer": "customer", "Partner": "not a customer", "Test / POC": "test account",
        "Free Trial": "trial / free", "<b>Strategic</b>": "unrecognised: kept as a customer"}
    html = Path(out.report.html).read_text(encoding="utf-8")
    assert "Account types in the export and how each was treated" in html
    assert "&lt;b&gt;Strategic&lt;/b&gt;" in html and "<b>Strategic</b>" not in html
    warnings = json.loads((run / "warnings.json").read_text())
    assert any("not recognised: ['<b>Strategic</b>']" in w
               for w in warnings["01_setup:accounts"])


@pytest.mark.e2e
def test_clean_minimal_export_runs_through_workbook_run(tmp_path):
    """The same clean export through the papermill chain (`workbook run`)."""
    import shutil

    root = _telco_project(tmp_path / "telco")
    shutil.copytree(Path(__file__).resolve().parents[1] / "notebooks", root / "notebooks")
    env = {**os.environ, "WORKBOOK_ROOT": str(root), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-m", "helpers", "run", "--params",
                           "params/telco.yaml", "--run-id", "telco"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run = root / "data" / "processed" / "telco"
    assert (run / "analysis_table.parquet").exists()
    recon = pd.read_parquet(run / "reconciliation.parquet").set_index("rule")["accounts"]
    assert recon["raw"] == recon["kept"] + recon["excluded"] == 260


def test_export_without_an_account_name_column(tmp_path):
    p = _write(tmp_path, [["A1", "2024-01-05", "100", "active"]],
               header=["Account ID", "Customer Since", "MRR", "Status"])
    acc, _ = load_accounts(_params(p))
    assert acc["account_name"].tolist() == ["A1"] and acc["name_key"].tolist() == ["a1"]


def test_one_column_mapped_to_two_names(tmp_path):
    p = _write(tmp_path, [["C-7590", "2024-01-05", "29.85", "No"]],
               header=["customerID", "SignupDate", "MonthlyCharges", "Churn"])
    acc, _ = load_accounts(_params(p, mapping={"account_id": "customerID",
                                               "account_name": "customerID",
                                               "start_date": "SignupDate",
                                               "churned": "Churn"}))
    assert acc["account_id"].tolist() == ["C-7590"] == acc["account_name"].tolist()
    assert acc["mrr"].tolist() == [29.85] and acc["status"].tolist() == ["current"]


# --------------------------------------------------------------------------- types and status
def test_account_type_labels_are_matched_by_meaning(tmp_path):
    types = ["Test / POC", "test account", "Pilot", "Sandbox", "Internal", "Demo", "Prospect",
             "Channel Partner / Reseller", "Competitor", "Reseller", "Customer - Direct",
             "Free Trial", "Industrial Customer", "Strategic"]
    rows = [[f"A{i}", f"C{i}", t, "2023-01-15", "", "100"] for i, t in enumerate(types)]
    acc, warnings = load_accounts(_params(_write(tmp_path, rows)))
    got = dict(zip(acc["account_type"], acc["type_treatment"], strict=True))
    assert [got[t] for t in types[:6]] == ["test account"] * 6
    assert [got[t] for t in types[6:10]] == ["not a customer"] * 4
    assert got["Customer - Direct"] == got["Industrial Customer"] == "customer"
    assert got["Free Trial"] == "trial / free"
    assert got["Strategic"] == "unrecognised: kept as a customer"
    assert any("account_type label(s) not recognised: ['Strategic']" in w and "A13 (row 15)" in w
               for w in warnings)
    flagged = apply_exclusions(acc, _params("x").exclusions, AS_OF)
    rule = dict(zip(acc["account_type"], flagged["exclusion_rule"], strict=True))
    assert rule["Prospect"] == "not_customer" and rule["Sandbox"] == "test"
    assert rule["Free Trial"] == "trial" and rule["Strategic"] == "kept"
    reason = flagged.set_index("account_id").loc["A7", "exclusion_reason"]
    assert reason == "not a customer (type 'Channel Partner / Reseller')"
    table = account_type_labels(acc)
    assert list(table.columns) == ["label", "accounts", "treatment"] and len(table) == 14
    # the lists are parameters
    custom = _params(_write(tmp_path, rows), {"customer_type_labels": ["Customer", "Strategic"]})
    acc2, warnings2 = load_accounts(custom)
    assert not any("not recognised" in w for w in warnings2)


def test_former_label_without_churn_date_is_former(tmp_path):
    rows = [["A1", "C1", "Former Customer", "2023-01-15", "", "100"],
            ["A2", "C2", "Customer", "2023-01-15", "", "100"]]
    acc, warnings = load_accounts(_params(_write(tmp_path, rows)))
    assert acc["status"].tolist() == ["former", "current"]
    assert ("accounts: 1 former customer(s) without a churn date (a former status or type, "
            "blank churn date): former, churn date unknown: A1 (row 2)") in warnings


def test_no_current_or_no_former_customers_is_warned(tmp_path):
    acc, _ = load_accounts(_params(_write(tmp_path, _rows(5))))
    flagged = apply_exclusions(acc, _params("x").exclusions, AS_OF)
    (w,) = status_mix_warnings(flagged)
    assert w.startswith("accounts: the kept accounts include no former customers")
    rows = [[*r[:2], "Churned", *r[3:]] for r in _rows(5)]
    acc, _ = load_accounts(_params(_write(tmp_path, rows)))
    (w,) = status_mix_warnings(apply_exclusions(acc, _params("x").exclusions, AS_OF))
    assert w.startswith("accounts: the kept accounts include no current customers")


def test_trial_and_free_accounts_are_excluded_unless_kept(tmp_path):
    rows = [["A1", "C1", "Trial", "2023-01-15", "", "100"],
            ["A2", "C2", "Customer", "2023-01-15", "", "0"],
            ["A3", "C3", "Customer", "2023-01-15", "", "100"]]
    p = _write(tmp_path, rows)
    acc, _ = load_accounts(_params(p))
    flagged = apply_exclusions(acc, _params(p).exclusions, AS_OF)
    assert flagged["exclusion_rule"].tolist() == ["trial", "trial", "kept"]
    assert flagged["exclusion_reason"].tolist()[:2] == [
        "trial / free account (type 'Trial'; exclusions.keep_trials: true keeps it)",
        "trial / free account (MRR 0; exclusions.keep_trials: true keeps it)"]
    keep = _params(p, {"keep_trials": True}).exclusions
    assert apply_exclusions(acc, keep, AS_OF)["exclusion_rule"].tolist() == ["kept"] * 3


# --------------------------------------------------------------------------- dates
def test_time_zone_stamps_keep_the_local_date(tmp_path):
    rows = _rows(3)
    for r, v in zip(rows, ["2025-09-30T18:00:00-07:00", "2025-09-30T23:30:00+05:30",
                           "2025-09-30 22:00:00Z"], strict=True):
        r[3] = v
    acc, _ = load_accounts(_params(_write(tmp_path, rows)))
    assert acc["start_date"].tolist() == [pd.Timestamp("2025-09-30")] * 3


def test_salesforce_date_times_and_two_digit_years(tmp_path):
    rows = _rows(3)
    for r, v in zip(rows, ["3/15/2024 10:00 AM", "3/15/24", "12/1/2023 4:30 PM"], strict=True):
        r[3] = v
    p = _write(tmp_path, rows)
    want = [pd.Timestamp("2024-03-15"), pd.Timestamp("2024-03-15"), pd.Timestamp("2023-12-01")]
    assert load_accounts(_params(p))[0]["start_date"].tolist() == want
    # the hint the workbook gives for US exports works when followed
    assert load_accounts(_params(p, date_format="%m/%d/%Y"))[0]["start_date"].tolist() == want


def test_day_number_dates(tmp_path):
    rows = _rows(2)
    rows[0][3], rows[1][3] = "45566", "45000"
    p = _write(tmp_path, rows)
    with pytest.raises(InputDataError, match="unreadable start_date values") as err:
        load_accounts(_params(p))
    assert "date_format: excel" in err.value.hint and "days since 1960-01-01" in err.value.hint
    acc, _ = load_accounts(_params(p, date_format="excel"))
    assert acc["start_date"].tolist() == [pd.Timestamp("2024-10-01"), pd.Timestamp("2023-03-15")]
    rows[0][3], rows[1][3] = "23000", "0"
    acc, _ = load_accounts(_params(_write(tmp_path, rows), date_format="days since 1960-01-01"))
    assert acc["start_date"].tolist() == [pd.Timestamp("2022-12-21"), pd.Timestamp("1960-01-01")]


def test_placeholder_far_future_dates_mean_no_end(tmp_path):
    rows = _rows(3)
    rows[0][4], rows[1][4], rows[2][4] = "9999-12-31", "2999-12-31", "2025-06-30"
    acc, warnings = load_accounts(_params(_write(tmp_path, rows)))
    assert acc["churn_date"].isna().tolist() == [True, True, False]
    assert acc["status"].tolist() == ["current", "current", "former"]
    assert ("accounts: 2 churn_date value(s) are placeholder far-future dates (such as "
            "9999-12-31), read as 'no date' (no churn: still a customer): A000 (row 2), "
            "A001 (row 3)") in warnings


def test_as_of_after_today_and_dates_after_as_of_are_warned(tmp_path):
    rows = _rows(2)
    rows[0][4] = "2026-12-31"
    params = with_overrides(_params(_write(tmp_path, rows)),
                            {"as_of": dt.date.today() + dt.timedelta(days=30)})
    _, warnings = load_accounts(params)
    assert any(w.startswith(f"accounts: as_of {params.as_of} is after today") for w in warnings)
    _, warnings = load_accounts(_params(_write(tmp_path, rows)))
    assert ("accounts: 1 account(s) with churn_date after as_of 2026-09-30 (still current at "
            "as_of): A000 (row 2)") in warnings


# --------------------------------------------------------------------------- numbers, ids
def test_decimal_separator_is_decided_per_column():
    assert parse_number(pd.Series(["0.125", "1.5"]))[0].tolist() == [0.125, 1.5]
    assert parse_number(pd.Series(["0.125"]))[0].tolist() == [0.125]
    assert parse_number(pd.Series(["1.234,56", "1.234", "12,5"]))[0].tolist() == \
        [1234.56, 1234.0, 12.5]
    assert parse_number(pd.Series(["1,234.56", "1.234", "12.500"]))[0].tolist() == \
        [1234.56, 1.234, 12.5]


def test_arr_prev_gives_growth_and_an_annual_mrr_prev_is_warned(tmp_path):
    header = [*HEADER, "ARR 12 Months Ago"]
    rows = [[*r, "960"] for r in _rows(6)]
    acc, _ = load_accounts(_params(_write(tmp_path, rows, header), preset="salesforce"))
    assert acc["mrr_prev"].tolist() == [80.0] * 6
    header = [*HEADER, "ARR"]
    rows = [[*r, "1200"] for r in _rows(6)]
    acc, warnings = load_accounts(_params(_write(tmp_path, rows, header),
                                          mapping={"mrr_prev": "ARR"}))
    assert acc["mrr_prev"].tolist() == [1200.0] * 6  # used as it is, with the warning
    assert any("mrr_prev ('ARR') is typically 12.0 x MRR: it looks like an annual (ARR) figure"
               in w and "inputs.accounts.mapping.arr_prev: 'ARR'" in w for w in warnings)


def test_ids_in_scientific_notation_are_refused(tmp_path):
    rows = _rows(2)
    rows[0][0], rows[1][0] = "1.23E+11", "1.24E+11"
    with pytest.raises(InputDataError, match="in scientific notation") as err:
        load_accounts(_params(_write(tmp_path, rows)))
    assert err.value.rows == [2, 3] and "as text" in err.value.hint


def test_text_ids_with_a_trailing_point_zero(tmp_path):
    rows = _rows(2)
    rows[0][0], rows[1][0] = "1001.0", "1002"
    acc, _ = load_accounts(_params(_write(tmp_path, rows)))
    assert acc["account_id"].tolist() == ["1001", "1002"]


def test_repeated_column_names_in_csv_and_xlsx(tmp_path):
    header = [*HEADER, "MRR"]
    p = _write(tmp_path, [[*r, "5"] for r in _rows(2)], header)
    with pytest.raises(InputDataError, match=r"duplicate column names \['MRR'\]"):
        load_accounts(_params(p))
    x = tmp_path / "accounts.xlsx"
    pd.DataFrame([[*r, "5"] for r in _rows(2)]).to_excel(x, index=False, header=header)
    with pytest.raises(InputDataError, match=r"duplicate column names \['MRR'\]"):
        load_accounts(_params(x))


def test_flags_and_currency_symbols(tmp_path):
    flags = pd.Series(["1.0", "0.0", "YES", "no", "Y", "n", "True", ""])
    assert parse_flag(flags).tolist() == [True, False, True, False, True, False, True, False]
    header = [*HEADER, "Currency", "Is Test"]
    rows = [[*r, cur, flag] for r, cur, flag in zip(_rows(3), ["$", "€", "£"],
                                                     ["0.0", "1.0", "no"], strict=True)]
    acc, _ = load_accounts(_params(_write(tmp_path, rows, header), preset="salesforce"))
    assert acc["currency"].tolist() == ["USD", "EUR", "GBP"]
    assert acc["mrr"].tolist() == pytest.approx([100.0, 110.0, 125.0])
    assert acc["is_test"].tolist() == [False, True, False]


# --------------------------------------------------------------------------- rows and headers
def test_report_footer_is_not_data(tmp_path):
    footer = [[""] * 6, ["Grand Totals (3 records)", "", "", "", "", "300"], [""] * 6,
              ["Confidential Information - Do Not Distribute"],
              ["Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."],
              ["Generated By: Dana Whitfield 9/30/2026 10:00 AM"], ["Acme Corp"]]
    p = tmp_path / "accounts.csv"
    with p.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerows([HEADER, *_rows(3)])
        for line in footer:
            w.writerow(line)
    acc, warnings = load_accounts(_params(p))
    assert acc["account_id"].tolist() == ["A000", "A001", "A002"]
    assert any(w.startswith("accounts: 7 row(s) at the end of the file are not data (a report "
                            "footer or blank lines) and were not read: row 5 (blank); row 6 "
                            "'Grand Totals (3 records)'") for w in warnings)
    recon = reconciliation(apply_exclusions(acc, _params(p).exclusions, AS_OF))
    got = recon.set_index("rule")["accounts"]
    assert got["raw"] == 3 and got["not_data"] == 7 and got["kept"] + got["excluded"] == 3


def test_title_lines_above_the_header_and_header_row(tmp_path):
    p = tmp_path / "accounts.csv"
    body = "\n".join(",".join(r) for r in [HEADER, *_rows(3)])
    p.write_text("Accounts report Q3 2026\nRun by Dana\n" + body + "\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"row\(s\) \[1, 2\] are title lines") as err:
        load_accounts(_params(p))
    assert "header_row: 3" in err.value.hint
    acc, _ = load_accounts(_params(p, header_row=3))
    assert acc["account_id"].tolist() == ["A000", "A001", "A002"]
    # XLSX with a title row: the hint names header_row, and following it works
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Account export, Q3 2026"])
    ws.append(HEADER)
    for r in _rows(3):
        ws.append(r)
    x = tmp_path / "accounts.xlsx"
    wb.save(x)
    with pytest.raises(InputDataError, match="header is not on the first row") as err:
        load_accounts(_params(x))
    assert "header_row: 2" in err.value.hint
    acc, _ = load_accounts(_params(x, header_row=2))
    assert acc["account_id"].tolist() == ["A000", "A001", "A002"]


def test_a_few_unusable_rows_are_excluded_with_their_reason(tmp_path):
    rows = _rows(100)
    rows[3][0] = ""
    rows[7][3] = ""
    rows[9][3] = "someday"
    p = _write(tmp_path, rows)
    with pytest.raises(InputDataError, match="blank account ids") as err:  # 3 % > 2 %
        load_accounts(_params(p))
    assert "3 of 100 rows (3.0%) are unusable" in err.value.hint
    acc, warnings = load_accounts(_params(p, {"max_invalid_share": 0.05}))
    flagged = apply_exclusions(acc, _params(p).exclusions, AS_OF)
    bad = flagged[flagged["exclusion_rule"] == "invalid"].set_index("account_id")
    assert bad["exclusion_reason"].to_dict() == {
        "(blank id, row 5)": "unusable row: blank account id",
        "A007": "unusable row: blank start_date",
        "A009": "unusable row: unreadable start_date someday"}
    assert any(w.startswith("accounts: 3 unusable row(s) excluded") for w in warnings)
    recon = reconciliation(flagged).set_index("rule")["accounts"]
    assert recon["invalid"] == 3 and recon["kept"] == 97


def test_prospects_and_trials_are_not_customers_in_the_migration(tmp_path):
    from helpers.analyse.quarterly import account_states

    rows = _rows(4)
    rows[0][2], rows[1][2] = "Prospect", "Free Trial"
    acc, _ = load_accounts(_params(_write(tmp_path, rows), {"min_tenure_days": None}))
    flagged = apply_exclusions(acc, _params("x", {"min_tenure_days": None}).exclusions, AS_OF)
    seg = pd.DataFrame({"account_id": ["A002", "A003"], "segment": ["S1", "S1"]})
    states = account_states(acc, flagged, seg).set_index("account_id")["state"]
    assert states.to_dict() == {"A000": "not a customer", "A001": "not a customer",
                                "A002": "S1", "A003": "S1"}

"""The bad-input catalogue (docs/bad-input.md): one test per row, named in the table.

Each bad input gets a specific error (file, column, rows, what to do) or a warning carried
into the run's ``warnings`` document (and so into the report); no row is dropped or altered
silently and no library traceback reaches the user.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from readers import load_accounts

from helpers.core import paths
from helpers.core.errors import AnalysisError, InputDataError, ParameterError, RunError
from helpers.core.params import Params, load
from helpers.run.chain import check_injectable_path, run_chain

AS_OF = dt.date(2026, 9, 30)
HEADER = ["Account ID", "Account Name", "Customer Since", "Churn Date", "MRR", "Currency",
          "Employees", "Industry", "Country"]
ROWS = [
    ["A1", "Acme Inc.", "2024-01-05", "", "1,000", "EUR", "5200", "Software", "US"],
    ["A2", "Beta LLC", "2023-02-01", "2025-06-30", "$900", "USD", "120", "Retail", "DE"],
    ["A3", "Gamma SA", "2022-03-01", "", "2000", "USD", "10", "Health", "FR"],
]
REGISTER = """
- id: H01
  statement: Larger companies make better customers
  direction: "+"
  lens: firmographic
  variable: employees
  kind: numeric
  measure: {column: employees}
  source: CRM
  collection: internal system
  cost: {minutes_per_point: 0, hourly_rate: 0}
  expected_coverage: 0.9
  data_quality: 4
  actionability: 5
- id: H02
  statement: Software companies make better customers
  direction: "+"
  lens: firmographic
  variable: industry
  kind: categorical
  positive_category: Software
  measure: {column: industry}
  source: CRM
  collection: internal system
  cost: {minutes_per_point: 0, hourly_rate: 0}
  expected_coverage: 0.9
  data_quality: 4
  actionability: 5
- id: H03
  statement: US companies make better customers
  direction: "+"
  lens: geographic
  variable: country
  kind: categorical
  positive_category: US
  measure: {column: country}
  source: CRM
  collection: internal system
  cost: {minutes_per_point: 0, hourly_rate: 0}
  expected_coverage: 0.9
  data_quality: 4
  actionability: 5
"""
# Accounts-only parameters for in-process runs; resampling counts kept small (fast).
PARAMS = """as_of: 2026-09-30
inputs:
  accounts: {path: data/raw/accounts.csv}
currency: {base: USD, rates: {USD: 1.0, EUR: 1.1}}
hypotheses: {register_file: params/hypotheses/h.yaml}
analysis: {bootstrap: 20, cv_repeats: 1, permutations: 200}
robustness: {draws: 20, segment_bootstrap: 5}
"""


# --------------------------------------------------------------------------- helpers
def _params(path, **src) -> Params:
    return Params.model_validate({"as_of": AS_OF.isoformat(),
                                  "inputs": {"accounts": {"path": str(path), **src}},
                                  "currency": {"rates": {"USD": 1.0, "EUR": 1.1, "GBP": 1.25}}})


def _csv_text(rows, header=HEADER, delimiter=",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows([header, *rows])
    return buf.getvalue()


def _write(tmp_path, rows=ROWS, header=HEADER, *, delimiter=",", encoding="utf-8",
           name="accounts.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(_csv_text(rows, header, delimiter).encode(encoding))
    return p


def _column(rows, i, values):
    return [[*r[:i], v, *r[i + 1:]] for r, v in zip(rows, values, strict=True)]


def accounts_frame(n: int, seed: int = 1) -> pd.DataFrame:
    """A valid accounts-only export (generic column names) of ``n`` accounts."""
    rng = np.random.default_rng(seed)
    emp = rng.integers(5, 5000, n)
    start = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 2000, n), "D")
    return pd.DataFrame({
        "account_id": [f"A{i:04d}" for i in range(n)],
        "account_name": [f"Company {i}" for i in range(n)],
        "start_date": start.strftime("%Y-%m-%d"), "churn_date": "",
        "mrr": (emp * rng.uniform(0.5, 2, n)).round(2).astype(str), "currency": "USD",
        "employees": emp.astype(str), "industry": rng.choice(["Software", "Retail", "Health"], n),
        "country": rng.choice(["US", "DE", "FR"], n)})


def scratch_project(root: Path, accounts: pd.DataFrame | None, params: str = PARAMS) -> Path:
    """A minimal project: params/p.yaml, a three-hypothesis register, data/raw/accounts.csv."""
    (root / "params" / "hypotheses").mkdir(parents=True, exist_ok=True)
    (root / "data" / "raw").mkdir(parents=True, exist_ok=True)
    (root / "notebooks").mkdir(exist_ok=True)
    (root / "params" / "hypotheses" / "h.yaml").write_text(REGISTER, encoding="utf-8")
    (root / "params" / "p.yaml").write_text(params, encoding="utf-8")
    if accounts is not None:
        accounts.to_csv(root / "data" / "raw" / "accounts.csv", index=False)
    return root


@pytest.fixture
def project(tmp_path):
    """A scratch project the helpers resolve paths in (WORKBOOK_ROOT)."""
    root = scratch_project(tmp_path / "project", None)
    with paths.project_at(root):
        yield root


def _in_process(run_id: str, report: bool = False) -> dict:
    from helpers.pipeline import run_in_process

    return run_in_process(run_id, "params/p.yaml", report=report)


# --------------------------------------------------------------------------- files
def test_empty_file(tmp_path):
    p = tmp_path / "accounts.csv"
    p.write_bytes(b"")
    with pytest.raises(InputDataError, match="the file is empty") as err:
        load_accounts(_params(p))
    assert err.value.file == str(p) and err.value.hint


def test_whitespace_only_file(tmp_path):
    p = tmp_path / "accounts.csv"
    p.write_text("\n \n\n")
    with pytest.raises(InputDataError, match="the file is empty"):
        load_accounts(_params(p))


def test_header_only(tmp_path):
    p = _write(tmp_path, rows=[])
    with pytest.raises(InputDataError, match="header but no data rows") as err:
        load_accounts(_params(p))
    assert "Account ID" in err.value.hint  # the columns found are listed


def test_missing_file(tmp_path):
    with pytest.raises(InputDataError, match="input file not found") as err:
        load_accounts(_params(tmp_path / "nope.csv"))
    assert "nope.csv" in str(err.value)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters_are_detected(tmp_path, delimiter):
    acc, warnings = load_accounts(_params(_write(tmp_path, delimiter=delimiter)))
    assert acc["account_id"].tolist() == ["A1", "A2", "A3"]
    assert acc["mrr"].tolist() == pytest.approx([1100.0, 900.0, 2000.0])


def test_declared_delimiter_is_wrong(tmp_path):
    p = _write(tmp_path, delimiter=";")
    with pytest.raises(InputDataError, match="looks separated by ';', not ','") as err:
        load_accounts(_params(p, delimiter=","))
    assert "delimiter: ';'" in err.value.hint


def test_ragged_csv_row(tmp_path):
    p = tmp_path / "accounts.csv"
    p.write_text(_csv_text(ROWS) + "A4,Extra,2022-01-01,,5,USD,1,Retail,US,surplus,cells\n")
    with pytest.raises(InputDataError, match="cannot parse the CSV") as err:
        load_accounts(_params(p))
    assert "delimiter" in err.value.hint


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8-sig", "cp1252"])
def test_encodings_latin1_and_bom(tmp_path, encoding):
    rows = _column(ROWS, 1, ["Zürich Maschinen AG", "Société Générale", "Ørsted A/S"])
    acc, _ = load_accounts(_params(_write(tmp_path, rows, encoding=encoding)))
    assert acc["account_name"].tolist() == ["Zürich Maschinen AG", "Société Générale",
                                            "Ørsted A/S"]
    assert acc["account_id"].tolist() == ["A1", "A2", "A3"]  # no BOM glued to the header


def test_utf16_excel_unicode_text(tmp_path):
    # Excel's "Unicode Text" export: UTF-16 with BOM, tab-separated, .txt
    rows = _column(ROWS, 1, ["Zürich Maschinen AG", "Beta", "Gamma"])
    p = _write(tmp_path, rows, delimiter="\t", encoding="utf-16", name="accounts.txt")
    assert p.read_bytes().startswith(codecs.BOM_UTF16_LE)
    acc, _ = load_accounts(_params(p))
    assert acc["account_name"][0] == "Zürich Maschinen AG" and len(acc) == 3


def test_declared_encoding_is_wrong(tmp_path):
    rows = _column(ROWS, 1, ["Zürich", "Beta", "Gamma"])
    p = _write(tmp_path, rows, encoding="latin-1")
    with pytest.raises(InputDataError, match="not valid utf-8") as err:
        load_accounts(_params(p, encoding="utf-8"))
    assert "encoding" in err.value.hint


# --------------------------------------------------------------------------- ids, columns
@pytest.mark.parametrize("ids, rows", [(["A1", "A2", "A1"], [2, 4]),
                                       (["A1", " A2", "A2 "], [3, 4])])
def test_duplicated_account_ids(tmp_path, ids, rows):
    with pytest.raises(InputDataError, match="duplicate account ids") as err:
        load_accounts(_params(_write(tmp_path, _column(ROWS, 0, ids))))
    assert err.value.rows == rows and err.value.column == "account_id"
    assert "de-duplicate" in err.value.hint


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_account_ids(tmp_path, blank):
    with pytest.raises(InputDataError, match="blank account ids") as err:
        load_accounts(_params(_write(tmp_path, _column(ROWS, 0, ["A1", blank, "A3"]))))
    assert err.value.rows == [3]


def test_excel_numeric_ids_keep_their_text(tmp_path):
    p = tmp_path / "accounts.xlsx"
    df = pd.DataFrame(ROWS, columns=HEADER)
    df["Account ID"] = [1001, 1002, 1003]
    df.to_excel(p, index=False)
    acc, _ = load_accounts(_params(p))
    assert acc["account_id"].tolist() == ["1001", "1002", "1003"]


def test_required_column_missing_suggests_closest(tmp_path):
    header = ["Acount ID", *HEADER[1:]]
    with pytest.raises(InputDataError) as err:
        load_accounts(_params(_write(tmp_path, header=header), preset="salesforce"))
    msg = str(err.value)
    assert "no column for 'account_id'" in msg and "closest column in the file: 'Acount ID'" \
        in msg
    assert "mapping.account_id: 'Acount ID'" in err.value.hint


def test_mapping_names_a_misspelled_column(tmp_path):
    with pytest.raises(InputDataError, match="closest column in the file: 'Customer Since'"):
        load_accounts(_params(_write(tmp_path), mapping={"start_date": "Customer Snice"}))


def test_no_mrr_and_no_status_columns(tmp_path):
    p = _write(tmp_path, [r[:3] for r in ROWS], header=HEADER[:3])
    with pytest.raises(InputDataError, match="no MRR or ARR column") as err:
        load_accounts(_params(p))
    assert "mapping.mrr" in err.value.hint


# --------------------------------------------------------------------------- numbers
def test_numbers_with_separators_symbols_and_parentheses(tmp_path):
    rows = _column(ROWS * 2, 0, ["A1", "A2", "A3", "A4", "A5", "A6"])
    rows = _column(rows, 5, ["USD"] * 6)
    rows = _column(rows, 4, ["1,234,567.50", "$2,500", "€1.234,50", "(1,200)", "£99", "1 200"])
    rows = _column(rows, 6, ["5,200", "1.200", "12 000", "", "n/a", "7"])
    acc, warnings = load_accounts(_params(_write(tmp_path, rows)))
    assert acc["mrr_local"].tolist() == pytest.approx([1234567.5, 2500, 1234.5, -1200, 99, 1200])
    assert acc["currency"].tolist() == ["USD", "USD", "EUR", "USD", "GBP", "USD"]
    assert acc["mrr"][2] == pytest.approx(1234.5 * 1.1)
    assert acc["employees"].tolist()[:3] == [5200, 1200, 12000]
    assert np.isnan(acc["employees"][3]) and len(acc) == 6  # blank stays blank, row kept
    assert any("zero or negative MRR: A4 (row 5)" in w for w in warnings)


def test_percent_sign_in_mrr_is_refused(tmp_path):
    rows = _column(ROWS, 4, ["1000", "15%", "2000"])
    with pytest.raises(InputDataError, match="unreadable MRR") as err:
        load_accounts(_params(_write(tmp_path, rows)))
    assert err.value.rows == [3] and "percentage" in err.value.hint


def test_unreadable_mrr(tmp_path):
    rows = _column(ROWS, 4, ["1000", "about 900", "2000"])
    with pytest.raises(InputDataError, match=r"unreadable MRR/ARR values: A2 \(row 3\)") as err:
        load_accounts(_params(_write(tmp_path, rows)))
    assert err.value.column == "MRR"


def test_negative_or_zero_mrr_is_kept_and_reported(project):
    df = accounts_frame(120)
    df.loc[3, "mrr"], df.loc[7, "mrr"] = "-50", "0"
    df.to_csv(project / "data/raw/accounts.csv", index=False)
    out = _in_process("r-negative")
    scored = out.scored
    assert "A0003" in set(scored["account_id"])  # not dropped
    assert scored.set_index("account_id").loc["A0003", "mrr"] == -50  # not altered
    # zero MRR is a free account: excluded with its reason (exclusions.keep_trials keeps it)
    exclusions = pd.read_parquet(project / "data/processed/r-negative/exclusions.parquet")
    assert exclusions.set_index("account_id").loc["A0007", "exclusion_rule"] == "trial"
    warnings = json.loads((project / "data/processed/r-negative/warnings.json").read_text())
    text = " ".join(warnings["01_setup:accounts"])
    assert "2 account(s) with zero or negative MRR: A0003 (row 5), A0007 (row 9)" in text


def test_mixed_currencies_without_a_rate(tmp_path):
    rows = _column(_column(ROWS, 5, ["EUR", "CHF", "SEK"]), 4, ["1000", "900", "2000"])
    with pytest.raises(InputDataError, match=r"without an exchange rate: \['CHF', 'SEK'\]") as err:
        load_accounts(_params(_write(tmp_path, rows)))
    assert err.value.file and err.value.column == "MRR" and err.value.rows == [3, 4]
    assert "currency.rates" in err.value.hint


# --------------------------------------------------------------------------- dates
def test_dates_in_several_formats(tmp_path):
    rows = _column(ROWS * 2, 0, ["A1", "A2", "A3", "A4", "A5", "A6"])
    rows = _column(rows, 3, [""] * 6)
    rows = _column(rows, 2, ["2024-01-05", "05/01/2024", "13.02.2024", "5 Jan 2024",
                             "Jan 5, 2024", "2024-01-05T10:30:00Z"])
    acc, warnings = load_accounts(_params(_write(tmp_path, rows)))
    assert acc["start_date"].tolist() == [pd.Timestamp("2024-01-05")] * 2 + [
        pd.Timestamp("2024-02-13")] + [pd.Timestamp("2024-01-05")] * 3
    assert any("could be day-first or month-first" in w and "A2 (row 3)" in w for w in warnings)


def test_us_dates_are_read_month_first_for_the_whole_column(tmp_path):
    rows = _column(ROWS, 2, ["12/31/2023", "03/04/2024", "01/15/2022"])
    acc, warnings = load_accounts(_params(_write(tmp_path, rows)))
    assert acc["start_date"].tolist() == [pd.Timestamp("2023-12-31"), pd.Timestamp("2024-03-04"),
                                          pd.Timestamp("2022-01-15")]
    assert not any("day-first" in w for w in warnings)


def test_mixed_day_and_month_first_dates(tmp_path):
    rows = _column(ROWS, 2, ["31/12/2023", "03/04/2024", "12/31/2022"])
    with pytest.raises(InputDataError, match="mixes day-first and month-first") as err:
        load_accounts(_params(_write(tmp_path, rows)))
    assert err.value.rows == [3] and "date_format" in err.value.hint


def test_date_format_parameter(tmp_path):
    rows = _column(ROWS, 2, ["03/04/2024", "01/02/2023", "05/06/2022"])
    acc, warnings = load_accounts(_params(_write(tmp_path, rows), date_format="%m/%d/%Y"))
    assert acc["start_date"][0] == pd.Timestamp("2024-03-04") and warnings == []


def test_unreadable_and_blank_dates(tmp_path):
    rows = _column(ROWS, 2, ["2024-01-05", "someday", "2022-03-01"])
    with pytest.raises(InputDataError, match="unreadable start_date") as err:
        load_accounts(_params(_write(tmp_path, rows)))
    assert err.value.rows == [3] and err.value.column == "Customer Since"
    rows = _column(ROWS, 2, ["2024-01-05", "", "2022-03-01"])
    with pytest.raises(InputDataError, match="blank start_date: A2"):
        load_accounts(_params(_write(tmp_path, rows)))


def test_future_dates_and_churn_before_win(tmp_path):
    rows = _column(ROWS, 2, ["2027-01-05", "2023-02-01", "2022-03-01"])
    rows = _column(rows, 3, ["", "2022-06-30", "2027-03-01"])
    acc, warnings = load_accounts(_params(_write(tmp_path, rows)))
    assert len(acc) == 3 and acc["start_date"][0] == pd.Timestamp("2027-01-05")  # unchanged
    text = "\n".join(warnings)
    assert "start_date after as_of 2026-09-30: A1 (row 2)" in text
    assert "churn_date before start_date: A2 (row 3)" in text
    assert acc["status"].tolist() == ["current", "former", "current"]  # churn after as_of


def test_unknown_status_labels(tmp_path):
    header = [*HEADER, "Status"]
    rows = [[*r, s] for r, s in zip(ROWS, ["Active", "Paused", "Churned"], strict=True)]
    with pytest.raises(InputDataError, match=r"unknown status labels \['paused'\]") as err:
        load_accounts(_params(_write(tmp_path, rows, header=header),
                              mapping={"status": "Status"}))
    assert err.value.rows == [3]


# --------------------------------------------------------------------------- the analysis
def test_all_accounts_excluded(project):
    df = accounts_frame(50)
    df["start_date"] = "2026-09-01"  # every current account is too new (90-day rule)
    df.to_csv(project / "data/raw/accounts.csv", index=False)
    with pytest.raises(AnalysisError, match="every account is excluded by the rules") as err:
        _in_process("r-allout")
    msg = str(err.value)
    assert "50 in the export; excluded: too_new 50" in msg and "What to do" in msg
    excl = pd.read_parquet(project / "data/processed/r-allout/exclusions.parquet")
    assert len(excl) == 50 and excl["exclusion_reason"].str.contains("tenure").all()


def test_fewer_accounts_than_the_analysis_needs(project):
    accounts_frame(45).to_csv(project / "data/raw/accounts.csv", index=False)
    p = project / "params/p.yaml"
    p.write_text(p.read_text().replace("analysis: {", "analysis: {mode: full, "))
    with pytest.raises(AnalysisError, match="only 45 account") as err:
        _in_process("r-few")
    assert "needs at least 100 kept accounts" in str(err.value)  # 2 x 40 x 5/4
    assert "analysis.tree.min_samples_leaf = 40" in str(err.value)
    assert "analysis.mode: auto" in str(err.value)


def test_fewer_accounts_than_even_the_lightweight_analysis_needs(project):
    accounts_frame(15).to_csv(project / "data/raw/accounts.csv", index=False)
    with pytest.raises(AnalysisError, match="only 15 account") as err:
        _in_process("r-tiny")
    msg = str(err.value)
    assert "Even the lightweight analysis needs at least 20 kept accounts" in msg
    assert "analysis.lightweight.min_accounts" in msg and "What to do" in msg
    # the tables that show why are written before the stop
    assert len(pd.read_parquet(project / "data/processed/r-tiny/exclusions.parquet")) == 15


def test_degenerate_hypothesis_columns_are_sent_back(project):
    df = accounts_frame(200)
    df["employees"] = "100"  # constant
    df["industry"] = "Software"  # a single category
    df["country"] = ""  # all missing
    df.to_csv(project / "data/raw/accounts.csv", index=False)
    out = _in_process("r-degenerate")
    warnings = json.loads((project / "data/processed/r-degenerate/warnings.json").read_text())
    quality = " ".join(warnings["03_data_collection:quality"])
    assert "H01 (employees) sent back to Step 2: constant: every account with a value has " \
        "'100'" in quality
    assert "H02 (industry) sent back to Step 2: a single category" in quality
    assert "H03 (country) sent back to Step 2" in quality and "all missing" in quality
    hyps = out.step4.ctx.hyps.set_index("id")
    assert not hyps["tested"].any()
    assert hyps["not_tested_reason"].str.startswith("sent back to Step 2").all()


# --------------------------------------------------------------------------- XLSX
def test_xlsx_with_several_sheets(tmp_path):
    p = tmp_path / "accounts.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame(ROWS, columns=HEADER).to_excel(xw, sheet_name="Accounts", index=False)
        pd.DataFrame({"note": ["x"]}).to_excel(xw, sheet_name="Notes", index=False)
    with pytest.raises(InputDataError, match=r"2 sheets.*'Accounts', 'Notes'") as err:
        load_accounts(_params(p))
    assert "sheet: Accounts" in err.value.hint
    with pytest.raises(InputDataError, match="did you mean 'Accounts'"):
        load_accounts(_params(p, sheet="Acounts"))
    acc, _ = load_accounts(_params(p, sheet="Accounts"))
    assert acc["account_id"].tolist() == ["A1", "A2", "A3"]


def test_xlsx_with_title_and_merged_header_rows(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Account export, Q3 2026"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.append(["Account", None, "Dates", None, "Billing", None, "Firmographics", None, None])
    ws.merge_cells("A2:B2")
    ws.merge_cells("C2:D2")
    ws.append(HEADER)
    for r in ROWS:
        ws.append(r)
    p = tmp_path / "accounts.xlsx"
    wb.save(p)
    with pytest.raises(InputDataError, match="the header is not on the first row") as err:
        load_accounts(_params(p))
    assert "row 3 looks like the header" in str(err.value)
    assert err.value.rows == [1, 2] and "delete rows 1-2" in err.value.hint


# --------------------------------------------------------------------------- parameters
def _chain_must_not_start(root: Path, params_text: str, match: str):
    (root / "params" / "bad.yaml").write_text(params_text, encoding="utf-8")
    with pytest.raises(ParameterError, match=match):
        run_chain("params/bad.yaml", "r-bad", echo=lambda _: None)
    assert not (root / "data" / "processed").exists()  # no notebook ran, nothing staged


def test_parameter_unknown_key_or_typo(project):
    _chain_must_not_start(project, PARAMS + "exclusions: {mrr_flor: 5}\n",
                          r"unknown key 'exclusions.mrr_flor' \(did you mean 'mrr_floor'\?\)")
    _chain_must_not_start(project, PARAMS + "sede: 3\n", "unknown key 'sede'")


def test_parameter_wrong_type(project):
    _chain_must_not_start(project, PARAMS + "exclusions: {min_tenure_days: ninety}\n",
                          "'exclusions.min_tenure_days': Input should be a valid integer")


def test_parameter_value_cannot_inject_code(project, tmp_path):
    # only run_id, params_path and interactive are injected, and both strings are checked
    for bad in ['x"; import os; os.system("id") #', "a\nb", "r'1"]:
        with pytest.raises(RunError):
            run_chain("params/p.yaml", bad, echo=lambda _: None)
    for bad in ['params/p".yaml', "params/p'.yaml", "params\\p.yaml", "p\n.yaml"]:
        with pytest.raises(RunError, match="quotes, backslashes or control characters"):
            check_injectable_path(bad, "parameter file path")
    # YAML tags that would construct Python objects are refused by the safe loader
    (project / "params" / "evil.yaml").write_text(
        "as_of: 2026-09-30\ninputs: {accounts: {path: !!python/object/apply:os.system [id]}}\n")
    with pytest.raises(ParameterError, match="not valid YAML"):
        load("params/evil.yaml")
    # any other value is data: it reaches the notebooks through the validated file only
    (project / "params" / "text.yaml").write_text(
        PARAMS + "charter: {project: \"'); import os; os.system('id'); ('\"}\n")
    p = load("params/text.yaml")
    assert p.charter.project.startswith("');")
    assert not (project / "data" / "processed").exists()


def test_windows_cp1252_export_with_euro_signs(tmp_path):
    rows = _column(_column(ROWS, 4, ["€1.000,50", "€900", "€2,000"]), 5, ["EUR"] * 3)
    rows = _column(rows, 1, ["Société Générale", "“Quoted” Ltd", "Gamma"])
    acc, _ = load_accounts(_params(_write(tmp_path, rows, encoding="cp1252")))
    assert acc["mrr_local"].tolist() == pytest.approx([1000.5, 900, 2000])
    assert acc["account_name"][:2].tolist() == ["Société Générale", "“Quoted” Ltd"]


def test_every_catalogue_row_names_an_existing_test():
    import re

    root = Path(__file__).resolve().parents[1]
    doc = (root / "docs" / "bad-input.md").read_text(encoding="utf-8")
    rows = [ln for ln in doc.splitlines() if ln.startswith("| ") and not ln.startswith("| input")
            and not ln.startswith("| situation") and "---" not in ln]
    assert len(rows) >= 40
    sources = {p.name: p.read_text(encoding="utf-8") for p in (root / "tests").glob("test_*.py")}
    for row in rows:
        names = re.findall(r"`(?:(test_\w+\.py)::)?(test_\w+)`", row.rsplit("|", 2)[-2])
        assert names, f"catalogue row without a test: {row[:80]}"
        for file, name in names:
            haystack = sources[file] if file else sources["test_bad_input.py"] + \
                sources["test_reliability.py"]
            assert f"def {name}(" in haystack, (file, name)

"""Issue 15, I/O at the edges: the domain functions of Steps 1-3 take DataFrames and read no
file. The readers (customers.read_account_export, deals.read_account_records,
helpers.collect.read) run first; then every way to open or read a file is made to fail and
the domain functions must still give the same result."""

from __future__ import annotations

import builtins
import io
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_collection import _tiny_project
from test_customers import ROWS, _csv
from test_customers import _params as _account_params
from test_deals import OPPS
from test_deals import _csv as _deal_csv
from test_deals import _params as _deal_params

from helpers.collect import collection, hypotheses, read
from helpers.core.errors import InputDataError
from helpers.setup import customers, deals


@pytest.fixture
def no_file_io(monkeypatch):
    """After this, opening or reading any file raises (builtins.open, io.open, Path reads,
    pandas readers, DuckDB)."""
    import duckdb

    def refuse(*args, **kwargs):
        raise AssertionError(f"a domain function read a file: {args[:1]}")

    def install() -> None:
        monkeypatch.setattr(builtins, "open", refuse)
        monkeypatch.setattr(io, "open", refuse)
        for name in ("read_text", "read_bytes", "open"):
            monkeypatch.setattr(Path, name, refuse)
        for name in ("read_csv", "read_excel", "read_parquet", "read_table", "read_json"):
            monkeypatch.setattr(pd, name, refuse)
        monkeypatch.setattr(duckdb, "connect", refuse)

    return install


def test_the_guard_catches_a_read(tmp_path, no_file_io):
    p = _csv(tmp_path, ROWS)
    no_file_io()
    with pytest.raises(AssertionError, match="read a file"):
        customers.read_account_export(_account_params(p).inputs.accounts)


def test_prepare_accounts_reads_no_file(tmp_path, no_file_io):
    params = _account_params(_csv(tmp_path, ROWS))
    src = params.inputs.accounts
    export = customers.read_account_export(src)
    want, want_warnings = customers.prepare_accounts(export, src, params.exclusions,
                                                     params.currency, params.as_of)
    no_file_io()
    got, warnings = customers.prepare_accounts(export, src, params.exclusions,
                                               params.currency, params.as_of)
    pd.testing.assert_frame_equal(got, want)
    assert warnings == want_warnings and len(got) == len(ROWS)


def test_prepare_accounts_errors_name_the_file_from_the_frame(tmp_path, no_file_io):
    rows = [list(r) for r in ROWS]
    rows[1][6] = "lots"  # an unreadable MRR
    params = _account_params(_csv(tmp_path, rows))
    export = customers.read_account_export(params.inputs.accounts)
    export.attrs["source"] = "/exports/crm-2026.csv"  # the file travels with the frame
    no_file_io()
    with pytest.raises(InputDataError, match="unreadable MRR") as info:
        customers.prepare_accounts(export, params.inputs.accounts, params.exclusions,
                                   params.currency, params.as_of)
    assert info.value.file == "/exports/crm-2026.csv"
    assert info.value.column == "MRR" and info.value.rows == [3]


def test_build_account_list_reads_no_file(tmp_path, no_file_io):
    params = _deal_params(tmp_path, deals={"path": _deal_csv(tmp_path, "opps.csv", OPPS),
                                           "preset": "salesforce"})
    records = deals.read_account_records(params.inputs)
    want = deals.build_account_list(records, params.exclusions, params.currency, params.as_of)
    no_file_io()
    got = deals.build_account_list(records, params.exclusions, params.currency, params.as_of)
    pd.testing.assert_frame_equal(got.accounts, want.accounts)
    assert sorted(got.tables) == sorted(want.tables)


def test_build_analysis_table_and_register_read_no_file(tmp_path, no_file_io):
    params = _tiny_project(tmp_path)
    entries = yaml.safe_load(Path(params.hypotheses.register_file).read_text())
    register = read.read_register(params.hypotheses.register_file)
    sources = read.read_sources(params.inputs, params.as_of, params.collection,
                                params.aggregation)
    scored = pd.DataFrame({"account_id": ["A1", "A2", "A3"],
                           "account_name": ["Acme Inc", "Beta", "Gamma"],
                           "domain": ["acme.com", "beta.io", "gamma.com"],
                           "industry": [None, "Retail", "Software"],
                           "employees": [1000.0, float("nan"), 25.0], "score": [3.0, 2.0, 1.0]})

    def build() -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        return collection.build_analysis_table(sources, scored, register,
                                               rules=params.collection,
                                               currency=params.currency, as_of=params.as_of)

    want, want_reports = build()
    no_file_io()
    pd.testing.assert_frame_equal(hypotheses.validate_register(entries), register)
    got, reports = build()
    pd.testing.assert_frame_equal(got, want)
    pd.testing.assert_frame_equal(reports["join_report"], want_reports["join_report"])
    assert got["tickets"].tolist() == [2, 0, 0]  # the ticket summary came in the Sources


def test_worksheet_errors_name_the_file_from_the_frame(no_file_io):
    table = pd.DataFrame({"account_id": ["A1"], "employees": [float("nan")]})
    sheet = pd.DataFrame({"account_id": ["ZZ"], "field": ["employees"], "value": ["3"]})
    sheet.attrs["source"] = "/research/collection_worksheet.xlsx"
    no_file_io()
    with pytest.raises(InputDataError, match="account ids not in") as info:
        collection.fill_from_worksheet(table, sheet)
    assert info.value.file == "/research/collection_worksheet.xlsx"
    assert info.value.column == "account_id" and info.value.rows == [2]

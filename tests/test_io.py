"""helpers.core.io: readers, encodings, delimiters, presets, mapping, parsing, normalisation."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from helpers.core.errors import InputDataError
from helpers.core.io import (
    column_mapping,
    normalise_domain,
    normalise_name,
    parse_dates,
    parse_money,
    parse_number,
    read_table,
)
from helpers.core.params import Source

SF_HEADER = ["Account ID", "Account Name", "Website", "Type", "Customer Since", "MRR"]
SF_ROWS = [["A1", "Zürich Maschinen AG", "https://www.zm.ch/", "Customer", "2024-01-05", "1,200"],
           ["A2", "Beta LLC", "beta.io", "Test", "2025-02-01", "900"]]


def _write_csv(path, header, rows, delimiter=",", encoding="utf-8"):
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows([header, *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


# --------------------------------------------------------------------------- reading
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters(tmp_path, delimiter):
    p = _write_csv(tmp_path / "a.csv", SF_HEADER, SF_ROWS, delimiter)
    df = read_table(Source(path=str(p), preset="salesforce"), required=["account_id"])
    assert list(df["account_id"]) == ["A1", "A2"]
    assert df.loc[0, "mrr"] == "1,200"  # not numeric-parsed unless asked
    assert df.loc[0, "account_name"] == "Zürich Maschinen AG"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "latin-1"])
def test_csv_encodings(tmp_path, encoding):
    p = _write_csv(tmp_path / "a.csv", SF_HEADER, SF_ROWS, ";", encoding)
    df = read_table(Source(path=str(p)), required=["account_id", "start_date"])
    assert list(df.columns[:2]) == ["account_id", "account_name"]
    assert df.loc[0, "account_name"] == "Zürich Maschinen AG"


def test_utf16_excel_tab_export(tmp_path):
    # Excel "Unicode text": UTF-16 with BOM, tab separated
    p = _write_csv(tmp_path / "a.txt", SF_HEADER, SF_ROWS, "\t", "utf-16")
    df = read_table(Source(path=str(p)), required=["account_id"])
    assert df.shape == (2, 6)


def test_xlsx_sheet_selection(tmp_path):
    p = tmp_path / "a.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame(SF_ROWS, columns=SF_HEADER).to_excel(xw, sheet_name="Accounts", index=False)
        pd.DataFrame({"x": [1]}).to_excel(xw, sheet_name="Notes", index=False)
    with pytest.raises(InputDataError, match=r"2 sheets.*Accounts.*Notes"):
        read_table(Source(path=str(p)))
    with pytest.raises(InputDataError, match="did you mean 'Accounts'"):
        read_table(Source(path=str(p), sheet="Acounts"))
    df = read_table(Source(path=str(p), sheet="Accounts"), required=["account_id"])
    assert list(df["account_id"]) == ["A1", "A2"]


def test_parquet(tmp_path):
    p = tmp_path / "a.parquet"
    pd.DataFrame(SF_ROWS, columns=SF_HEADER).to_parquet(p)
    df = read_table(Source(path=str(p), preset="salesforce"), required=["domain"])
    assert list(df["domain"]) == ["https://www.zm.ch/", "beta.io"]


def test_empty_and_header_only(tmp_path):
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(InputDataError, match="empty"):
        read_table(Source(path=str(empty)))
    header = tmp_path / "h.csv"
    header.write_text("Account ID,MRR\n")
    with pytest.raises(InputDataError, match="header but no data rows"):
        read_table(Source(path=str(header)))
    with pytest.raises(InputDataError, match="not found"):
        read_table(Source(path=str(tmp_path / "missing.csv")))


# --------------------------------------------------------------------------- mapping
def test_hubspot_preset():
    cols = ["Record ID", "Company name", "Company Domain Name", "Website URL", "Lifecycle Stage",
            "Number of Employees", "Country/Region", "Create Date", "Company owner"]
    m = column_mapping(cols, Source(path="x.csv", preset="hubspot"))
    assert m["account_id"] == "Record ID"
    assert m["domain"] == "Company Domain Name"  # first accepted name wins
    assert m["account_type"] == "Lifecycle Stage"
    assert m["employees"] == "Number of Employees"
    assert m["country"] == "Country/Region"
    assert m["owner"] == "Company owner"
    assert m["created_date"] == "Create Date"
    assert "start_date" not in m  # a record date is not a won date


def test_auto_preset_and_generic_case_insensitive():
    m = column_mapping(["ACCOUNT_ID", "Start Date", "mrr"], Source(path="x.csv"))
    assert m == {"account_id": "ACCOUNT_ID", "start_date": "Start Date", "mrr": "mrr"}
    sf = column_mapping(SF_HEADER, Source(path="x.csv"))
    assert sf["start_date"] == "Customer Since"


def test_explicit_mapping_wins(tmp_path):
    p = _write_csv(tmp_path / "a.csv", [*SF_HEADER, "Go-live"], [r + ["2024-02-01"] for r in SF_ROWS])
    df = read_table(Source(path=str(p), mapping={"start_date": "Go-live"}),
                    required=["start_date"])
    assert list(df["start_date"]) == ["2024-02-01", "2024-02-01"]
    assert "Customer Since" in df.columns  # the preset's column stays, unmapped


def test_missing_required_names_closest(tmp_path):
    p = _write_csv(tmp_path / "a.csv", ["Acount ID", "MRR"], [["A1", "5"]])
    with pytest.raises(InputDataError) as err:
        read_table(Source(path=str(p), preset="salesforce"), what="accounts",
                   required=["account_id"])
    msg = str(err.value)
    assert "account_id" in msg and "'Account ID'" in msg and "closest column in the file: " \
        "'Acount ID'" in msg and str(p) in msg
    with pytest.raises(InputDataError, match="closest column in the file: 'MRR'"):
        read_table(Source(path=str(p), mapping={"mrr": "MRRR"}))


def test_numeric_and_dates_reported_not_dropped(tmp_path):
    p = _write_csv(tmp_path / "a.csv", ["account_id", "employees", "start_date"],
                   [["A", "1,200", "2024-01-05"], ["B", "lots", "someday"], ["C", "", ""]])
    df = read_table(Source(path=str(p)), numeric=["employees"], dates=["start_date"])
    assert len(df) == 3
    assert df["employees"].tolist()[0] == 1200 and np.isnan(df["employees"][1])
    assert df["start_date"][0] == pd.Timestamp("2024-01-05") and pd.isna(df["start_date"][1])
    w = df.attrs["warnings"]
    assert len(w) == 2 and "File rows: [3]" in w[0] and "File rows: [3]" in w[1]


# --------------------------------------------------------------------------- numbers
def test_parse_number_cases():
    s = pd.Series(["1,234", "$5M", "4.2k", "1.5bn", "(1,200)", "12%", "1.234.567,89", "3,5",
                   "€ 2 000", "£3.1m", "abc", "", None, "n/a", "-7"])
    values, bad = parse_number(s)
    expected = [1234, 5e6, 4200, 1.5e9, -1200, 0.12, 1234567.89, 3.5, 2000, 3.1e6]
    np.testing.assert_allclose(values[:10].to_numpy(), expected)
    assert list(bad) == [10]  # only 'abc': missing tokens are missing, not bad
    assert values[14] == -7
    assert values[11:14].isna().all()


def test_parse_number_numeric_passthrough():
    values, bad = parse_number(pd.Series([1, 2, None]))
    assert values.dtype == "float64" and len(bad) == 0 and values[1] == 2


def test_parse_money_mixed():
    s = pd.Series(["$5M", "5,000,000", "EUR 4.2M", "£3.1m", "", "900 EUR", "junk"])
    out = parse_money(s, None, {"EUR": 1.1, "GBP": 1.25}, "USD")
    assert list(out["currency"]) == ["USD", "USD", "EUR", "GBP", "USD", "EUR", "USD"]
    np.testing.assert_allclose(out["value_base"][:4], [5e6, 5e6, 4.62e6, 3.875e6])
    assert out["value_local"][2] == 4.2e6 and out["value_base"][5] == pytest.approx(990)
    assert out["parsed_ok"].tolist() == [True] * 6 + [False]
    assert np.isnan(out["value_base"][4])


def test_parse_money_row_currency_and_unknown():
    s = pd.Series(["100", "200", "300", ""])
    cur = pd.Series(["EUR", "usd", "CHF", "SEK"])
    with pytest.raises(InputDataError) as err:
        parse_money(s, cur, {"EUR": 2.0}, "USD")
    assert "['CHF']" in str(err.value) and "currency.rates" in str(err.value)
    assert err.value.rows == [4]  # file row of the CHF amount; the empty SEK row is no problem
    out = parse_money(s, cur, {"EUR": 2.0, "CHF": 1.5}, "USD")
    np.testing.assert_allclose(out["value_base"][:3], [200, 200, 450])


def test_parse_dates_formats_and_bad_rows():
    s = pd.Series(["2024-01-05", "2024-01-05T10:00:00Z", "05/01/2024", "13.02.2024", "bad", "",
                   "2024-03"])
    values, bad = parse_dates(s)
    assert values[0] == pd.Timestamp("2024-01-05")
    assert values[1] == pd.Timestamp("2024-01-05 10:00")
    assert values[2] == pd.Timestamp("2024-01-05")  # day-first by default
    assert values[3] == pd.Timestamp("2024-02-13")
    assert values[6] == pd.Timestamp("2024-03-01")
    assert list(bad) == [4]
    us, _ = parse_dates(pd.Series(["05/01/2024"]), formats=["%m/%d/%Y"])
    assert us[0] == pd.Timestamp("2024-05-01")


def test_normalise_domain():
    s = pd.Series(["https://WWW.Acme.com:443/about/", "acme.com.", "bob@acme.io", "",
                   "http://www2.foo.co.uk?x=1", " Beta.IO/ ", None])
    out = normalise_domain(s)
    assert out[:3].tolist() == ["acme.com", "acme.com", "acme.io"]
    assert out[4] == "foo.co.uk" and out[5] == "beta.io"
    assert out[[3, 6]].isna().all()


def test_normalise_name():
    s = pd.Series(["ACME, Inc.", "Müller GmbH & Co. KG", "Foo S.A.", "Bar Holdings Ltd", "Inc",
                   "Acme Corporation", "Smith & Sons plc"])
    assert normalise_name(s).tolist() == ["acme", "muller", "foo", "bar", "inc", "acme",
                                          "smith sons"]

"""helpers.collect.aggregate: the one aggregation written for five dialects by SQLGlot. Golden files per
dialect (``UPDATE_GOLDEN=1`` rewrites them); DuckDB's executed, the others parsed back, and
parsed back *and* run: each dialect's text, read by SQLGlot and written as DuckDB, gives the
same summaries as the workbook's own scan of the demo files."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlglot
from sqlglot.errors import UnsupportedError

from helpers.collect import aggregate
from helpers.run.cli import main

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "sql"
PARAMS = "tests/golden/sql/params.yaml"
DEMO = ROOT / "data" / "raw" / "demo"
AS_OF = dt.date(2026, 9, 30)


def _printed(dialect: str, capsys) -> str:
    assert main(["sql", "--params", PARAMS, "--dialect", dialect,
                 "--tickets-table", "crm.support_tickets"]) == 0
    return capsys.readouterr().out


def _queries(text: str) -> dict[str, str]:
    """The printed script split back into its named queries."""
    out, name, lines = {}, None, []
    for line in text.splitlines():
        if line.startswith("-- ") and ":" in line and not line.startswith("-- segmentation") \
                and not line.startswith("-- generated"):
            name, lines = line[3:].split(":", 1)[0], []
        elif name is not None:
            lines.append(line)
            if line.endswith(";"):
                out[name] = "\n".join(lines).rstrip(";")
                name = None
    return out


@pytest.mark.parametrize("dialect", aggregate.DIALECTS)
def test_golden_sql_per_dialect(dialect, capsys):
    text = _printed(dialect, capsys)
    path = GOLDEN / f"{dialect}.sql"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"regenerate with UPDATE_GOLDEN=1 ({path})"
    q = _queries(text)
    assert set(q) == {"tickets", "ticket_checks", "usage"}
    # the user's column names, quoted the dialect's way; no DuckDB-only construct left
    quote = "`" if dialect in ("spark", "bigquery") else '"'
    assert f"{quote}Opened At{quote}" in q["tickets"] and f"{quote}usage_month{quote}" in q["usage"]
    for construct in ("FILTER (", "REGR_SLOPE", "TRY_CAST", "STRPTIME", "read_csv", "$as_of",
                      "YEAR(", "MONTH("):
        assert construct not in text, (dialect, construct)


def _demo_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The demo files as typed warehouse tables with the golden parameters' column names."""
    con.execute("CREATE SCHEMA crm")
    con.execute(f"""CREATE TABLE crm.support_tickets AS SELECT account_id AS "Account ID",
        CAST(created_at AS TIMESTAMP) AS "Opened At", minutes_spent AS minutes
        FROM read_csv('{DEMO / 'support_tickets.csv'}', types = {{'account_id': 'VARCHAR'}})""")
    con.execute(f"""CREATE TABLE usage AS SELECT account_id,
        CAST(strptime(month, '%Y-%m') AS DATE) AS usage_month, active_users, sessions,
        feature_adoption FROM read_csv('{DEMO / 'product_usage_monthly.csv'}',
        types = {{'account_id': 'VARCHAR', 'month': 'VARCHAR'}})""")


@pytest.fixture(scope="module")
def expected():
    w = aggregate.Window(AS_OF, 365, 12)
    return {"tickets": aggregate.run_duckdb("tickets", DEMO / "support_tickets.csv", w),
            "usage": aggregate.run_duckdb("usage", DEMO / "product_usage_monthly.csv", w)}


@pytest.mark.parametrize("dialect", aggregate.DIALECTS)
def test_each_dialect_parses_back_and_computes_the_same_summaries(dialect, expected):
    """DuckDB's text is executed as printed; every other dialect's text is parsed back with its
    own reader (it is valid SQL of that dialect) and, written as DuckDB by SQLGlot, run on the
    demo tables: the same summaries as the workbook's scan of the files."""
    q = _queries((GOLDEN / f"{dialect}.sql").read_text(encoding="utf-8"))
    con = duckdb.connect(config={"threads": 1})
    _demo_tables(con)
    got = {}
    for name, sql in q.items():
        tree = sqlglot.parse_one(sql, read=dialect)
        runnable = sql if dialect == "duckdb" else tree.sql(dialect="duckdb")
        got[name] = con.execute(runnable).df()
    tickets = aggregate.ticket_result(got["tickets"].assign(bad_dates=0, no_account=0))
    pd.testing.assert_frame_equal(tickets, expected["tickets"], check_exact=False, rtol=1e-12)
    assert got["ticket_checks"].fillna(0).iloc[0].tolist() == [0, 0]
    pd.testing.assert_frame_equal(aggregate.usage_result(got["usage"]), expected["usage"],
                                  check_exact=False, rtol=1e-9)


def test_a_function_sqlglot_cannot_map_fails_generation():
    # DuckDB-only functions (unknown to SQLGlot, it would copy them unchanged) and constructs a
    # dialect lacks both raise instead of printing SQL that is wrong there
    with pytest.raises(UnsupportedError, match="TRY_STRPTIME"):
        aggregate.transpile("SELECT TRY_STRPTIME(m, '%Y-%m') FROM t", "bigquery")
    with pytest.raises(UnsupportedError, match="IGNORE NULLS"):
        aggregate.transpile("SELECT FIRST_VALUE(x IGNORE NULLS) OVER (ORDER BY y) FROM t",
                            "postgres")
    with pytest.raises(ValueError, match="unknown dialect"):
        aggregate.transpile("SELECT 1", "oracle-ish")


def test_window_literals_follow_the_parameters():
    w = aggregate.Window(dt.date(2026, 3, 31), days=30, months=3)
    assert w.values("tickets") == {"start": "2026-03-01", "as_of": "2026-03-31"}
    # months Jan..Mar 2026 are indexes 1..3: base = 2026 * 12 + 3 - 3
    assert w.values("usage") == {"base": 2026 * 12, "months": 3}

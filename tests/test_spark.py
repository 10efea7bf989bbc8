"""The shared aggregation really run on Spark (local[2]) over the demo's ticket and usage files
written as hive-partitioned Parquet datasets: the same per-account summaries as DuckDB (exact
counts, 1e-9 relative for averages), through the library, the printed Spark SQL and the CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from helpers.collect import aggregate
from helpers.run.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "raw" / "demo"
WINDOW = aggregate.Window(dt.date(2026, 9, 30), 365, 12)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict[str, Path]:
    """The demo files as Parquet datasets: tickets with a typed timestamp, partitioned by year,
    plus a row without an account; usage with the month as text ('2025-04'), by year."""
    root = tmp_path_factory.mktemp("lake")
    tickets = pd.read_csv(DEMO / "support_tickets.csv", dtype={"account_id": str})
    tickets["created_at"] = pd.to_datetime(tickets["created_at"]).astype("datetime64[us]")
    orphan = tickets.iloc[[0]].assign(account_id=None, ticket_id="TCK-ORPHAN")
    tickets = pd.concat([tickets, orphan], ignore_index=True)
    tickets["year"] = tickets["created_at"].dt.year
    usage = pd.read_csv(DEMO / "product_usage_monthly.csv", dtype={"account_id": str,
                                                                    "month": str})
    usage["year"] = usage["month"].str[:4]
    out = {"tickets": root / "tickets", "usage": root / "usage"}
    tickets.to_parquet(out["tickets"], partition_cols=["year"], index=False)
    usage.to_parquet(out["usage"], partition_cols=["year"], index=False)
    assert len(list(out["tickets"].glob("year=*"))) > 1
    return out


def _same(spark_out: pd.DataFrame, duck_out: pd.DataFrame) -> None:
    assert spark_out["account_id"].tolist() == duck_out["account_id"].tolist()
    for col in duck_out.columns[1:]:
        if pd.api.types.is_integer_dtype(duck_out[col]):
            assert spark_out[col].tolist() == duck_out[col].tolist(), col
        else:
            # averages: 1e-9 relative. The trend is a difference of sums over a mean: where the
            # true slope is 0, each engine's rounding leaves +-1e-17, so it gets an absolute floor
            atol = 1e-12 if col == "usage_trend" else 0
            pd.testing.assert_series_equal(spark_out[col], duck_out[col], check_exact=False,
                                           rtol=1e-9, atol=atol)


@pytest.mark.parametrize("kind", ["tickets", "usage"])
def test_spark_summaries_equal_duckdb_on_a_partitioned_dataset(kind, spark, datasets):
    duck = aggregate.run_duckdb(kind, datasets[kind], WINDOW)
    got = aggregate.run_spark(spark, kind, datasets[kind], WINDOW)
    assert len(duck) > 1000
    _same(got, duck)
    assert got.attrs.get("warnings", []) == duck.attrs.get("warnings", [])
    if kind == "tickets":
        assert duck.attrs["warnings"] == ["tickets: 1 row(s) without account_id not counted"]
    # the dataset holds the demo's rows: DuckDB over the CSV gives the same summary
    csv = DEMO / ("support_tickets.csv" if kind == "tickets" else "product_usage_monthly.csv")
    _same(duck, aggregate.run_duckdb(kind, csv, WINDOW))


def test_spark_runs_the_printed_spark_sql(spark, datasets):
    """The `workbook sql --dialect spark` text, executed by Spark over typed tables with the
    warehouse's column names, equals the DuckDB summaries."""
    from pyspark.sql import functions as F

    t = spark.read.parquet(str(datasets["tickets"]))
    t.select(F.col("account_id").alias("Account ID"), F.col("created_at").alias("Opened At"),
             F.col("minutes_spent").alias("minutes")).createOrReplaceTempView("support_tickets")
    u = spark.read.parquet(str(datasets["usage"]))
    u.withColumn("usage_month", F.to_date("month", "yyyy-MM")).createOrReplaceTempView("usage")
    q = aggregate.warehouse_sql(WINDOW, "spark", tables={"tickets": "support_tickets"}, mappings={
        "tickets": {"account_id": "Account ID", "created_at": "Opened At",
                    "minutes_spent": "minutes"}, "usage": {"month": "usage_month"}})
    tickets = spark.sql(q["tickets"]).toArrow().to_pandas()
    _same(aggregate.ticket_result(tickets.assign(bad_dates=0, no_account=0)),
          aggregate.run_duckdb("tickets", datasets["tickets"], WINDOW))
    assert spark.sql(q["ticket_checks"]).collect()[0]["rows_without_account"] == 1
    _same(aggregate.usage_result(spark.sql(q["usage"]).toArrow().to_pandas()),
          aggregate.run_duckdb("usage", datasets["usage"], WINDOW))


def test_cli_aggregate_on_spark_writes_the_summary_the_workbook_reads(spark, datasets, tmp_path,
                                                                      capsys):
    from helpers.collect.sources import read_summary
    from helpers.core.params import Source

    out = tmp_path / "usage_summary.parquet"
    assert main(["aggregate", "--engine", "spark", "--kind", "usage", "--input",
                 str(datasets["usage"]), "--as-of", "2026-09-30", "--out", str(out)]) == 0
    assert "account(s) ->" in capsys.readouterr().out
    _same(read_summary(Source(path=str(out)), "usage"),
          aggregate.run_duckdb("usage", datasets["usage"], WINDOW))

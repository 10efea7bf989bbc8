"""Per-account summaries as an input (inputs.ticket_summary / inputs.usage_summary) and large
local inputs (a directory or glob of hive-partitioned Parquet files, DuckDB's memory limit and
temp directory from the parameters)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from conftest import scratch_project, use_project

from helpers.collect import aggregate
from helpers.collect.sources import duckdb_config, read_summary, ticket_counts, usage_summary
from helpers.core.errors import InputDataError, ParameterError
from helpers.core.params import Aggregation, Source

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "raw" / "demo"
AS_OF = dt.date(2026, 9, 30)
FAST = ("extends: demo.yaml\nanalysis: {bootstrap: 40, cv_repeats: 2}\n"
        "robustness: {draws: 40, segment_bootstrap: 8}\n")


def _write(tmp_path, frame: pd.DataFrame, name="summary.csv") -> Source:
    p = tmp_path / name
    frame.to_csv(p, index=False)
    return Source(path=str(p))


TICKETS = pd.DataFrame({"account_id": ["007", "B", "C"], "tickets": [2, 0, 5],
                        "ticket_minutes": [17.0, 0.0, 60.5]})


def test_summary_input_reads_like_the_computed_summary(tmp_path):
    out = read_summary(_write(tmp_path, TICKETS), "tickets")
    # ids keep their leading zeros; an account with 0 tickets is what an absent one gets
    assert out.to_dict("list") == {"account_id": ["007", "C"], "tickets": [2, 5],
                                   "ticket_minutes": [17.0, 60.5]}
    assert out.dtypes.astype(str).tolist() == ["str", "int64", "float64"]
    mapped = TICKETS.rename(columns={"account_id": "Org", "tickets": "n"})
    src = _write(tmp_path, mapped, "mapped.csv").model_copy(
        update={"mapping": {"account_id": "Org", "tickets": "n"}})
    assert read_summary(src, "tickets")["tickets"].tolist() == [2, 5]


def test_summary_input_missing_column_names_the_closest(tmp_path):
    src = _write(tmp_path, TICKETS.rename(columns={"ticket_minutes": "ticket_minute"}))
    with pytest.raises(InputDataError, match="no column 'ticket_minutes'.*closest column: "
                                             "'ticket_minute'"):
        read_summary(src, "tickets")


def test_summary_input_duplicate_account_ids(tmp_path):
    src = _write(tmp_path, pd.concat([TICKETS, TICKETS.iloc[[2]]]))
    with pytest.raises(InputDataError, match="several rows per account") as err:
        read_summary(src, "tickets")
    assert err.value.rows == [4, 5]  # file rows, header = row 1


def test_summary_input_bad_numbers(tmp_path):
    bad = TICKETS.astype({"tickets": object})
    bad.loc[1, "tickets"] = "many"
    with pytest.raises(InputDataError, match="tickets is not a number") as err:
        read_summary(_write(tmp_path, bad, "a.csv"), "tickets")
    assert err.value.rows == [3]
    with pytest.raises(InputDataError, match="ticket_minutes is negative"):
        read_summary(_write(tmp_path, TICKETS.assign(ticket_minutes=[1, -2, 3]), "b.csv"),
                     "tickets")
    with pytest.raises(InputDataError, match="tickets is not a whole number"):
        read_summary(_write(tmp_path, TICKETS.assign(tickets=[1, 2.5, 3]), "c.csv"), "tickets")
    usage = pd.DataFrame({"account_id": ["A", "B"], "months_active": [3, None],
                          "avg_active_users": [1, 2], "avg_sessions": [1, 2],
                          "avg_feature_adoption": [0.1, 0.2], "usage_trend": [None, -0.5]})
    with pytest.raises(InputDataError, match="months_active is missing"):
        read_summary(_write(tmp_path, usage, "u.csv"), "usage")
    ok = read_summary(_write(tmp_path, usage.assign(months_active=[3, 0]), "v.csv"), "usage")
    assert ok["usage_trend"].isna().tolist() == [True, False]  # a trend may be missing


def test_rows_and_summary_for_one_source_is_a_parameter_error(tmp_path):
    from helpers.core.params import load

    p = tmp_path / "p.yaml"
    p.write_text(f"extends: {ROOT / 'params' / 'demo.yaml'}\n"
                 "inputs: {ticket_summary: {path: t.csv}}\n")
    with pytest.raises(ParameterError, match="inputs.tickets .* or inputs.ticket_summary"):
        load(p)


def _dataset(tmp_path) -> Path:
    usage = pd.read_csv(DEMO / "product_usage_monthly.csv", dtype={"account_id": str,
                                                                    "month": str})
    usage["year"] = usage["month"].str[:4]
    out = tmp_path / "usage"
    usage.to_parquet(out, partition_cols=["year"], index=False)
    return out


def test_dataset_inputs_directory_and_glob_equal_the_file(tmp_path):
    ds = _dataset(tmp_path)
    csv = usage_summary(str(DEMO / "product_usage_monthly.csv"), AS_OF, 12)
    for path in (ds, ds / "year=*" / "*.parquet"):
        got = usage_summary(Source(path=str(path)), AS_OF, 12)
        pd.testing.assert_frame_equal(got, csv, check_exact=False, rtol=1e-12)
    # a typed month (a date column, as in a lake) is cast, not parsed as text: same summary
    typed = pd.read_parquet(ds).assign(month=lambda d: pd.to_datetime(d["month"]).dt.date)
    typed.to_parquet(tmp_path / "typed.parquet", index=False)
    got = usage_summary(str(tmp_path / "typed.parquet"), AS_OF, 12)
    pd.testing.assert_frame_equal(got, csv, check_exact=False, rtol=1e-12)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputDataError, match="no Parquet files in the dataset"):
        ticket_counts(Source(path=str(empty)), AS_OF, 365)


def test_duckdb_memory_limit_and_temp_directory_come_from_the_parameters(tmp_path):
    cfg = duckdb_config(Aggregation(duckdb_memory_limit="300MB",
                                    duckdb_temp_directory=str(tmp_path / "spill")))
    con, _ = aggregate.duckdb_connect(pd.DataFrame({"a": [1]}), [], cfg)
    try:
        limit, temp, threads = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory'), "
            "current_setting('threads')").fetchone()
    finally:
        con.close()
    assert limit in ("286.1 MiB", "300.0 MB") and temp == str(tmp_path / "spill")
    assert threads == 1 and (tmp_path / "spill").is_dir()


def _frames(result):
    step4 = result.step4
    verdicts = step4.verdicts[["variable", "verdict", "direction"]].reset_index(drop=True)
    assignment = pd.DataFrame(step4.segments.assignment).reset_index(drop=True)
    assert assignment.iloc[:, -1].nunique() > 1  # accounts fall in several segments
    return verdicts, assignment


def test_demo_run_fed_by_summaries_equals_the_run_fed_by_rows(tmp_path):
    """A user who runs the aggregation elsewhere (here `workbook aggregate`; in the warehouse,
    `workbook sql`) and hands the workbook the two small summary files gets the same analysis
    table, verdicts and segments; the report says which path the figures took."""
    from helpers.core.store import RunStore
    from helpers.pipeline import run_in_process
    from helpers.run.cli import main

    root = scratch_project(tmp_path / "project")
    (root / "params" / "fast.yaml").write_text(FAST)
    for kind in ("tickets", "usage"):
        assert main(["aggregate", "--params", str(root / "params" / "fast.yaml"), "--kind",
                     kind, "--input", str(root / "data" / "raw" / "demo" / (
                         "support_tickets.csv" if kind == "tickets"
                         else "product_usage_monthly.csv")),
                     "--out", str(root / "data" / "raw" / "summaries" / f"{kind}.csv")]) == 0
    (root / "params" / "summaries.yaml").write_text(
        "extends: fast.yaml\ninputs:\n  tickets: null\n  usage: null\n"
        "  ticket_summary: {path: data/raw/summaries/tickets.csv}\n"
        "  usage_summary: {path: data/raw/summaries/usage.csv}\n")
    with use_project(root):
        rows = run_in_process("rows", "params/fast.yaml", report=False)
        summ = run_in_process("summ", "params/summaries.yaml", report=True)
        tables = {run: RunStore(run).read("analysis_table") for run in ("rows", "summ")}
    for a, b in zip(_frames(rows), _frames(summ), strict=True):
        pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(tables["rows"], tables["summ"])
    html = Path(summ.report.html).read_text(encoding="utf-8")
    assert "Where the ticket and usage figures come from" in html
    assert "per-account summary file data/raw/summaries/usage.csv" in html


def test_a_dataset_input_gets_a_manifest_row_and_a_fingerprint(tmp_path):
    from helpers.collect.read import data_manifest

    ds = _dataset(tmp_path)
    man = data_manifest([str(ds), str(ds / "year=*" / "*.parquet")])
    n = len(pd.read_csv(DEMO / "product_usage_monthly.csv"))
    assert man["rows"].tolist() == [n, n]
    assert man["sha256"].str.startswith("files:").all()
    before = man["sha256"].iloc[0]
    extra = pd.read_parquet(ds).head(1).drop(columns="year")
    extra.to_parquet(ds / "year=2026" / "late.parquet", index=False)
    assert data_manifest([str(ds)])["sha256"].iloc[0] != before  # a new file is a change

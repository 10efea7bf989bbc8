"""Step 3 collection loop: the worksheet of missing values goes to researchers and comes back
through ``inputs.worksheet``; filled values reach the analysis table with their provenance."""

from __future__ import annotations

import pandas as pd
from conftest import scratch_project, use_project

from helpers.pipeline import step1, step2, step3
from helpers.run.session import start


def _steps_1_to_3(run_id: str, params: str) -> tuple[step3.Collected, pd.DataFrame]:
    s1 = start(run_id, params, step="01_setup")
    step1.scored_accounts(s1, flagged=step1.customer_list(s1).flagged)
    step2.hypotheses(start(run_id, params, step="02_hypotheses"))
    s3 = start(run_id, params, step="03_data_collection")
    out = step3.collect(s3)
    missing = step3.worksheet(s3, table=out.table, register=out.reports["hypotheses"])
    return out, missing


def test_filled_worksheet_fills_gaps_with_provenance(tmp_path):
    root = scratch_project(tmp_path / "project", demo=300, seed=4)
    with use_project(root):
        first, missing = _steps_1_to_3("ws-1", "params/demo.yaml")
        todo = missing[missing["field"] == "employees"].head(5)
        assert len(todo) == 5, "the demo leaves some employee counts to collect"
        filled = todo.assign(value=[120, 450, 800, 1500, 3000])
        sheet = root / "data" / "raw" / "worksheet-filled.csv"
        filled.to_csv(sheet, index=False)
        (root / "params" / "with-sheet.yaml").write_text(
            "extends: demo.yaml\ninputs:\n  worksheet: {path: data/raw/worksheet-filled.csv}\n")
        second, _ = _steps_1_to_3("ws-2", "params/with-sheet.yaml")
    table = second.table.set_index("account_id")
    for acc, value in zip(filled["account_id"], filled["value"], strict=True):
        assert table.loc[acc, "employees"] == value
    prov = second.reports["worksheet_provenance"]
    assert sorted(prov["account_id"]) == sorted(filled["account_id"])
    assert set(prov["source"]) == {"worksheet:worksheet-filled.csv"}
    stored = pd.read_parquet(root / "data/processed/ws-2/worksheet_provenance.parquet")
    assert len(stored) == 5
    q1 = first.reports["quality_report"].set_index("variable")["completeness"]
    q2 = second.reports["quality_report"].set_index("variable")["completeness"]
    assert q2["employees"] > q1["employees"]

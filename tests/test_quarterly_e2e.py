"""Quarter to quarter on the demo's two snapshots, in one process (helpers.pipeline), in a
scratch project: 2026Q2, then 2026Q3 (finds 2026Q2 and migrates), then a feedback run
2026Q3-v2 (finds 2026Q3 and shows its diff); the CRM export re-imports with the same values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import scratch_project, use_project

from helpers.core.io import read_table
from helpers.core.params import Source
from helpers.core.store import RunStore
from helpers.pipeline import run_in_process

FAST = "analysis: {bootstrap: 20, cv_repeats: 1}\nrobustness: {draws: 20, segment_bootstrap: 5}\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = scratch_project(tmp_path_factory.mktemp("quarterly") / "project")
    for q in ("2026Q2", "2026Q3"):
        (root / "params" / f"f{q}.yaml").write_text(f"extends: {q}.yaml\n{FAST}")
    (root / "params" / "f2026Q3-v2.yaml").write_text(
        "extends: f2026Q3.yaml\nscore: {churn_penalty: 20000, cost_per_ticket: 60}\n")
    out = {}
    with use_project(root):
        for rid in ("2026Q2", "2026Q3", "2026Q3-v2"):
            out[rid] = run_in_process(rid, f"params/f{rid}.yaml")
            RunStore(rid).update_manifest(status="complete")  # what the chain stamps
        yield {"root": root, "out": out}


def _snap(root: Path, q: str) -> pd.DataFrame:
    return pd.read_csv(root / "data/raw/demo" / f"crm_accounts_{q}.csv", dtype=str)


def test_q3_finds_q2_and_the_migration_reconciles_with_the_snapshots(project):
    root = project["root"]
    doc = project["out"]["2026Q3"].step4.since_previous.doc
    assert doc["previous_run"] == "2026Q2" and doc["previous_quarter_run"] == "2026Q2"
    q2, q3 = _snap(root, "2026Q2"), _snap(root, "2026Q3")
    ids2, ids3 = set(q2["Account ID"]), set(q3["Account ID"])
    store = RunStore("2026Q3", root / "data/processed/2026Q3")
    mig = store.read("migration_accounts")
    assert len(mig) == len(ids2 | ids3) and mig["account_id"].is_unique
    assert set(mig["account_id"]) == ids2 | ids3
    assert store.read("migration_matrix")["accounts"].sum() == len(ids2 | ids3)
    # won: new in the Q3 export and a current (non-test) customer; churned: current in Q2,
    # former in Q3 (the demo plants 20)
    cur3 = q3[q3["Churn Date"].isna() & ~q3["Type"].isin(["Test", "Proof of Concept"])]
    cur2 = q2[q2["Churn Date"].isna() & ~q2["Type"].isin(["Test", "Proof of Concept"])]
    won = set(cur3["Account ID"]) - ids2
    churned = set(cur2["Account ID"]) - set(cur3["Account ID"])
    summ = store.read("migration_summary").set_index("measure")["value"]
    assert summ["reconciles"] == 1
    assert summ["movement: won"] == len(won) == (mig["movement"] == "won").sum()
    assert summ["churned (customer before, not now)"] == len(churned) == 20
    assert set(mig.loc[(mig["column"] == "churned") & (mig["row"] != "new"),
                       "account_id"]) == churned
    ret = store.read("retention").set_index("segment").loc["Total"]
    assert 0 < ret["grr"] <= 1 <= ret["nrr"] + ret["churned_arr"] / ret["start_arr"]
    html = (root / "reports/2026Q3/report.html").read_text(encoding="utf-8")
    assert "What changed since the previous run" in html and "(reconciled)" in html


def test_feedback_iteration_shows_its_diff(project):
    root = project["root"]
    doc = project["out"]["2026Q3-v2"].step4.since_previous.doc
    assert doc["previous_run"] == "2026Q3" and doc["previous_quarter_run"] == "2026Q2"
    store = RunStore("2026Q3-v2", root / "data/processed/2026Q3-v2")
    params = store.read("change_params").set_index("parameter")
    assert {"score.churn_penalty", "score.cost_per_ticket"} <= set(params.index)
    assert params.loc["score.churn_penalty", "current"] == "20000.0"
    assert (store.read("change_inputs")["change"] == "same").all()
    rk = store.read("change_ranking").iloc[0]
    assert rk["accounts"] == len(store.read("segment_assignments"))
    assert 0.5 < rk["spearman"] < 1.0
    assert rk["changed_quartile"] == len(store.read("change_quartiles")) > 0


def test_crm_export_reimports_through_the_step3_reader(project):
    root = project["root"]
    assign = RunStore("2026Q3", root / "data/processed/2026Q3").read("segment_assignments")
    mapping = {"segment": "Segment", "segment_name": "Segment Name", "quartile": "Quartile",
               "score": "Quality Score"}
    for fmt in ("salesforce", "hubspot"):
        path = root / "reports/2026Q3" / f"crm_{fmt}.csv"
        back = read_table(Source(path=str(path), preset=fmt, mapping=mapping),
                          numeric=("score",))
        j = assign.merge(back, on="account_id", suffixes=("", "_crm"), validate="one_to_one")
        assert len(j) == len(assign) == len(back)
        for col in ("segment", "segment_name", "quartile", "score"):
            assert (j[col].astype(str) == j[f"{col}_crm"].astype(str)).all(), col
        assert (back["Segmentation Run"] == "2026Q3").all()


def test_runs_list_and_index(project):
    from helpers.run.runs import list_runs, write_index

    df = list_runs(project["root"] / "data/processed")
    assert df["run_id"].tolist() == ["2026Q3-v2", "2026Q3", "2026Q2"]
    html = write_index(project["root"] / "reports/index.html",
                       root=project["root"] / "data/processed").read_text(encoding="utf-8")
    assert '<a href="2026Q3/report.html">' in html

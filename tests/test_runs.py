"""helpers.run.runs: the list of runs and reports/index.html, from fake run folders."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.run import runs


def _run(root: Path, run_id: str, as_of: str, status: str, *, failed: str | None = None,
         accounts: int | None = None, names: dict | None = None, rec=()) -> None:
    d = root / run_id
    d.mkdir(parents=True)
    m = {"run_id": run_id, "as_of": as_of, "status": status, "failed_notebook": failed,
         "tables": {"scored_accounts": {"rows": accounts}} if accounts else {}}
    (d / "manifest.json").write_text(json.dumps(m))
    if names:
        (d / "segment_defs.json").write_text(json.dumps({"names": names,
                                                         "recommended": list(rec)}))


def _fake(tmp_path: Path) -> Path:
    root = tmp_path / "processed"
    _run(root, "2026Q2", "2026-06-30", "complete", accounts=1326,
         names={"S1": "Big", "S2": "<script>alert(1)</script>"}, rec=["S2", "S1"])
    _run(root, "2026Q3", "2026-09-30", "complete", accounts=1399, names={"S1": "Big"},
         rec=["S1"])
    _run(root, "2026Q3-v2", "2026-09-30", "failed", failed="04_analysis")
    (root / "not-a-run").mkdir()
    return root


def test_list_runs_newest_first_with_status_accounts_and_segments(tmp_path):
    df = runs.list_runs(_fake(tmp_path))
    assert df["run_id"].tolist() == ["2026Q3-v2", "2026Q3", "2026Q2"]
    r = df.set_index("run_id")
    assert r.loc["2026Q3-v2", "status"] == "failed at notebook 4 (04_analysis)"
    assert not r.loc["2026Q3-v2", "complete"] and r.loc["2026Q3", "complete"]
    assert r.loc["2026Q2", "accounts"] == 1326
    assert r.loc["2026Q2", "recommended"] == "<script>alert(1)</script>; Big"
    text = runs.format_runs(df)
    assert "failed at notebook 4" in text and "1,399" in text


def test_index_html_is_escaped_self_contained_and_ordered(tmp_path):
    out = runs.write_index(tmp_path / "reports" / "index.html", root=_fake(tmp_path))
    html = out.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "http://" not in html and "https://" not in html and "<link" not in html
    assert "default-src 'none'" in html
    assert html.index("<td>2026Q3-v2 ") < html.index("<td>2026Q3 ") < html.index("<td>2026Q2 ")
    # no report.html in the fake runs: listed without a link
    assert "(no report)" in html


def test_empty_project(tmp_path):
    df = runs.list_runs(tmp_path / "missing")
    assert df.empty and "no runs yet" in runs.format_runs(df)
    assert "no runs yet" in runs.index_html(df)

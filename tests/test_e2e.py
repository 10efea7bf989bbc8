"""End-to-end: the whole papermill chain on a reduced demo data room, in a scratch project.

The scratch project holds copies of notebooks/ and params/ and a freshly generated, smaller
demo data room; WORKBOOK_ROOT points the chain (and its kernels) at it, and the command runs
from an unrelated working directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers.core.paths import NOTEBOOKS
from helpers.core.store import sha256_file
from helpers.synthetic.demo import write_demo

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]
E2E_ACCOUNTS = 600
SECRET = "s3cr3t-e2e-token-7f1c"  # an environment variable no stakeholder output may contain


def run_cli(root: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "WORKBOOK_ROOT": str(root), "MPLBACKEND": "Agg",
           "WORKBOOK_E2E_SECRET": SECRET}
    return subprocess.run([sys.executable, "-m", "helpers", *args], env=env, cwd=root.parent,
                          capture_output=True, text=True, timeout=timeout)


def raw_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): sha256_file(p)
            for p in sorted((root / "data" / "raw").rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("e2e") / "project"
    root.mkdir()
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "params", root / "params")
    write_demo(root / "data" / "raw" / "demo", n_accounts=E2E_ACCOUNTS, seed=20260930)
    return root


@pytest.fixture(scope="session")
def demo_run(project):
    before = raw_hashes(project)
    proc = run_cli(project, "run", "--params", "params/demo.yaml", "--run-id", "e2e-2026Q3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"proc": proc, "raw_before": before, "root": project}


def test_chain_completes_and_prints_the_report_path(demo_run):
    out = demo_run["proc"].stdout
    assert "report: reports/e2e-2026Q3/report.html" in out
    for i, name in enumerate(NOTEBOOKS, start=1):
        assert f"[{i}/5] {name}" in out  # progress names each notebook


def test_outputs_are_where_the_layout_says(demo_run):
    root = demo_run["root"]
    report_dir = root / "reports" / "e2e-2026Q3"
    assert (report_dir / "report.html").is_file()
    for name in NOTEBOOKS:
        assert (report_dir / "notebooks" / f"{name}.ipynb").is_file()
        assert (report_dir / "notebooks" / f"{name}.html").is_file()
    manifest = json.loads((root / "data/processed/e2e-2026Q3/manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["run_id"] == "e2e-2026Q3" and manifest["as_of"] == "2026-09-30"
    assert len(manifest["params_hash"]) == 64
    assert manifest["inputs"]["accounts"]["sha256"]
    assert manifest["versions"]["pandas"]
    assert set(manifest["notebooks"]) == set(NOTEBOOKS)
    for table in ("scored_accounts", "reconciliation", "hypotheses", "analysis_table"):
        assert table in manifest["tables"]


def test_every_account_is_accounted_for(demo_run):
    root = demo_run["root"]
    run = root / "data/processed/e2e-2026Q3"
    raw = pd.read_csv(root / "data/raw/demo/crm_accounts_2026Q3.csv", dtype=str)
    excl = pd.read_parquet(run / "exclusions.parquet")
    scored = pd.read_parquet(run / "scored_accounts.parquet")
    assert sorted(excl["account_id"]) == sorted(raw["Account ID"])
    kept = set(excl.loc[~excl["excluded"], "account_id"])
    assert kept == set(scored["account_id"])
    assert excl.loc[excl["excluded"], "exclusion_reason"].notna().all()
    recon = pd.read_parquet(run / "reconciliation.parquet").set_index("rule")["accounts"]
    assert recon["raw"] == len(raw) == recon["kept"] + recon["excluded"]


def test_raw_data_is_never_written(demo_run):
    assert raw_hashes(demo_run["root"]) == demo_run["raw_before"]


def test_executed_notebooks_ran_in_batch_mode(demo_run):
    nb = json.loads((demo_run["root"] / "reports/e2e-2026Q3/notebooks/01_setup.ipynb").read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert injected and "interactive = False" in "".join(injected[0]["source"])
    text = json.dumps(nb)
    assert "application/vnd.jupyter.widget-view+json" not in text  # no dead widgets


def test_executed_notebooks_hold_their_charts(demo_run):
    """The analyst appendix shows every chart as an image, not "<Figure size ...>" (the kernel
    ran with MPLBACKEND=Agg in its environment: the session switches it to inline)."""
    from conftest import chart_cells

    folder = demo_run["root"] / "reports/e2e-2026Q3/notebooks"
    for name in ("01_setup", "04_analysis"):
        nb = json.loads((folder / f"{name}.ipynb").read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        charts = chart_cells(folder / f"{name}.ipynb")
        assert charts, name
        for i, n in charts.items():
            outs = code[i]["outputs"]
            assert sum("image/png" in o.get("data", {}) for o in outs) == n, (name, i)
            assert not any(o.get("data", {}).keys() == {"text/plain"}
                           and "<Figure size" in "".join(o["data"]["text/plain"])
                           for o in outs), (name, i)


def test_rerun_of_a_complete_run_is_a_no_op(demo_run):
    proc = run_cli(demo_run["root"], "run", "--params", "params/demo.yaml", "--run-id", "e2e-2026Q3")
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout and "[1/5]" not in proc.stdout


def test_existing_run_is_not_overwritten_when_parameters_change(demo_run, tmp_path):
    root = demo_run["root"]
    (root / "params" / "changed.yaml").write_text("extends: demo.yaml\nseed: 7\n")
    proc = run_cli(root, "run", "--params", "params/changed.yaml", "--run-id", "e2e-2026Q3")
    assert proc.returncode == 2
    assert "already exists" in proc.stderr and "--force" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_failing_notebook_is_named_and_kept(demo_run):
    root = demo_run["root"]
    (root / "params" / "broken.yaml").write_text(
        "extends: demo.yaml\ninputs:\n  accounts: {path: data/raw/demo/nope.csv}\n")
    proc = run_cli(root, "run", "--params", "params/broken.yaml", "--run-id", "e2e-broken")
    assert proc.returncode == 2
    assert "notebook 01_setup failed in cell" in proc.stderr
    assert "nope.csv" in proc.stderr and "Traceback" not in proc.stderr
    assert (root / "reports/e2e-broken/notebooks/01_setup.ipynb").is_file()
    listing = run_cli(root, "runs").stdout
    assert "failed at notebook 1 (01_setup)" in listing and "complete" in listing
    index = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert "e2e-2026Q3/report.html" in index and "e2e-broken" in index


def test_bad_parameter_file_fails_before_any_notebook(demo_run):
    root = demo_run["root"]
    (root / "params" / "typo.yaml").write_text("extends: demo.yaml\nexclusions:\n  mrr_flor: 5\n")
    proc = run_cli(root, "run", "--params", "params/typo.yaml", "--run-id", "e2e-typo")
    assert proc.returncode == 2
    assert "exclusions.mrr_flor" in proc.stderr and "did you mean 'mrr_floor'" in proc.stderr
    assert not (root / "data/processed/e2e-typo").exists()


def test_report_headline_figures_match_the_run_tables(demo_run):
    """Three headline figures recomputed from data/processed/<run>/ appear in the report."""
    import re

    root = demo_run["root"]
    run = root / "data/processed/e2e-2026Q3"
    html = (root / "reports/e2e-2026Q3/report.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", " ", html)
    segs = pd.read_parquet(run / "segments.parquet")
    scored = pd.read_parquet(run / "scored_accounts.parquet")
    rec = segs[segs["recommended"]]
    assert len(rec) >= 1
    coverage = rec["accounts"].sum() / segs["accounts"].sum()
    capture = rec["top_accounts"].sum() / segs["top_accounts"].sum()
    lift = capture / coverage
    assert f"{coverage * 100:.0f} %" in text
    assert f"{capture * 100:.0f} %" in text
    assert f"{lift:.1f}x" in text
    assert f"{len(scored):,}" in text  # accounts analysed
    assert "<script" not in html.lower()


def test_resume_from_a_notebook_skips_the_earlier_ones(demo_run):
    root = demo_run["root"]
    proc = run_cli(root, "run", "--params", "params/demo.yaml", "--run-id", "e2e-2026Q3",
                   "--from", "04_analysis")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[4/5] 04_analysis" in proc.stdout and "[5/5] 05_presentation" in proc.stdout
    assert "[1/5]" not in proc.stdout and "[3/5]" not in proc.stdout
    manifest = json.loads((root / "data/processed/e2e-2026Q3/manifest.json").read_text())
    assert manifest["status"] == "complete" and set(manifest["notebooks"]) == set(NOTEBOOKS)
    (root / "params" / "seed7.yaml").write_text("extends: demo.yaml\nseed: 7\n")
    refused = run_cli(root, "run", "--params", "params/seed7.yaml", "--run-id", "e2e-2026Q3",
                      "--from", "04_analysis")
    assert refused.returncode == 2 and "parameters changed" in refused.stderr


def test_stakeholder_outputs_embed_no_environment_or_raw_file(demo_run):
    import zipfile

    root = demo_run["root"]
    out = root / "reports/e2e-2026Q3"
    texts = {"report.html": (out / "report.html").read_text(encoding="utf-8")}
    with zipfile.ZipFile(out / "report.xlsx") as z:
        texts["report.xlsx"] = "".join(z.read(n).decode("utf-8", "ignore") for n in z.namelist())
    for csv in out.glob("crm_*.csv"):
        texts[csv.name] = csv.read_text(encoding="utf-8-sig")
    raw_lines = (root / "data/raw/demo/crm_accounts_2026Q3.csv").read_text().splitlines()[1:40]
    for name, text in texts.items():
        assert SECRET not in text, name
        assert not any(line in text for line in raw_lines), f"{name} embeds raw export rows"

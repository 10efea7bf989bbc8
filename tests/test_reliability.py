"""Nothing lost: atomic runs (staging, commit, recovery), a chain killed mid-way, byte-identical
re-runs and untouched raw data.

The staging logic is tested fast with papermill replaced by a stand-in that writes what a
notebook writes (through ``RunStore`` / ``Session``, so through the staging variable); the
kill-and-recover test runs the real CLI in a scratch project and SIGKILLs it (and its
kernel) while notebook 03 / 04 runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from helpers.core import paths
from helpers.core.errors import RunError
from helpers.core.paths import NOTEBOOKS
from helpers.core.store import (
    STAGING_ENV,
    RunStore,
    report_path,
    run_path,
    sha256_file,
    staging_dir,
)
from helpers.run import chain

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from test_bad_input import accounts_frame, scratch_project  # noqa: E402


def tree_hashes(*folders: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under the folders."""
    out = {}
    for folder in folders:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                out[str(p.relative_to(folder.parent.parent))] = sha256_file(p)
    return out


@pytest.fixture
def project(tmp_path):
    root = scratch_project(tmp_path / "project", accounts_frame(200))
    for name in NOTEBOOKS:
        (root / "notebooks" / f"{name}.ipynb").write_text("{}")
    with paths.project_at(root, {STAGING_ENV: None}):
        yield root


#: the catalog table each fake notebook writes (helpers.core.catalog: no ad-hoc names)
FAKE_TABLE = {"01_setup": "accounts_raw", "02_hypotheses": "hypotheses",
              "03_data_collection": "analysis_table", "04_analysis": "segments",
              "05_presentation": "coverage"}


class FakePapermill:
    """Stands in for papermill.execute_notebook: writes a table and the output notebook
    where a kernel would (RunStore / report_path, i.e. the staging folder), or fails."""

    def __init__(self, fail_at: str | None = None, kill_at: str | None = None):
        self.fail_at, self.kill_at, self.seen = fail_at, kill_at, []

    def __call__(self, src, dst, parameters, **kwargs):
        from papermill.exceptions import PapermillExecutionError

        name = Path(src).stem
        run_id = parameters["run_id"]
        self.seen.append((name, os.environ.get(STAGING_ENV), str(run_path(run_id))))
        Path(dst).write_text(json.dumps({"cells": [], "name": name}))
        if name == self.kill_at:
            raise KeyboardInterrupt
        if name == self.fail_at:
            raise PapermillExecutionError(0, 3, "boom", "ValueError", "bad cell", [])
        RunStore(run_id).write(FAKE_TABLE[name], pd.DataFrame({"x": [len(name), 2]}), step=name)
        if name == NOTEBOOKS[-1]:
            (report_path(run_id) / "report.html").write_text(f"<p>{parameters['params_path']}</p>")


@pytest.fixture
def fake(monkeypatch):
    import papermill

    def install(**kw) -> FakePapermill:
        f = FakePapermill(**kw)
        monkeypatch.setattr(papermill, "execute_notebook", f)
        return f

    monkeypatch.setattr(chain, "ensure_kernel", lambda: "fake")
    monkeypatch.setattr(chain, "render_html", lambda src, out, **kw: out.write_text("html"))
    return install


def _run(run_id="r-a", **kw):
    return chain.run_chain("params/p.yaml", run_id, echo=lambda _: None, **kw)


# --------------------------------------------------------------------------- staging
def test_store_and_session_paths_follow_the_staging_variable(project, monkeypatch):
    assert run_path("r-a") == project / "data/processed/r-a"
    assert report_path("r-a") == project / "reports/r-a"
    monkeypatch.setenv(STAGING_ENV, "r-a")
    assert RunStore("r-a").path == project / "data/processed/.staging/r-a/data"
    assert report_path("r-a") == project / "data/processed/.staging/r-a/reports"
    assert RunStore("r-other").path == project / "data/processed/r-other"  # only that run


def test_run_is_built_in_staging_and_moved_into_place(project, fake):
    f = fake()
    report = _run()
    assert report == project / "reports/r-a/report.html" and report.is_file()
    staging = str(project / "data/processed/.staging/r-a/data")
    assert all(env == "r-a" and where == staging for _, env, where in f.seen)
    assert not staging_dir("r-a").exists()
    m = json.loads((project / "data/processed/r-a/manifest.json").read_text())
    assert m["status"] == "complete" and set(m["notebooks"]) == set(NOTEBOOKS)
    assert sorted(m["tables"]) == sorted(FAKE_TABLE[n] for n in NOTEBOOKS)
    assert os.environ.get(STAGING_ENV) is None  # restored


def test_failed_force_rerun_leaves_the_complete_run_intact(project, fake):
    fake()
    _run()
    before = tree_hashes(project / "data/processed/r-a", project / "reports/r-a")
    fake(fail_at="03_data_collection")
    with pytest.raises(RunError, match="notebook 03_data_collection failed in cell 3") as err:
        _run(force=True)
    assert ".staging/r-a/reports/notebooks/03_data_collection.ipynb" in str(err.value)
    assert tree_hashes(project / "data/processed/r-a", project / "reports/r-a") == before
    staged = chain.staged_status("r-a")
    assert staged["status"] == "failed" and staged["failed_notebook"] == "03_data_collection"


def test_failed_new_run_is_moved_into_place_marked_failed(project, fake):
    fake(fail_at="02_hypotheses")
    with pytest.raises(RunError, match="kept at reports/r-new/notebooks/02_hypotheses.ipynb"):
        _run("r-new")
    m = json.loads((project / "data/processed/r-new/manifest.json").read_text())
    assert m["status"] == "failed" and m["failed_notebook"] == "02_hypotheses"
    assert (project / "reports/r-new/notebooks/02_hypotheses.ipynb").is_file()
    assert not staging_dir("r-new").exists()
    # resume from the failed notebook: earlier outputs reused, the run completes
    f = fake()
    _run("r-new", start_from="02_hypotheses")
    assert [n for n, *_ in f.seen] == list(NOTEBOOKS[1:])
    m = json.loads((project / "data/processed/r-new/manifest.json").read_text())
    assert m["status"] == "complete" and FAKE_TABLE["01_setup"] in m["tables"]


def test_interrupt_marks_the_attempt_failed_and_keeps_earlier_runs(project, fake):
    fake()
    _run()
    before = tree_hashes(project / "data/processed/r-a", project / "reports/r-a")
    fake(kill_at="04_analysis")
    with pytest.raises(KeyboardInterrupt):
        _run(force=True)
    assert tree_hashes(project / "data/processed/r-a", project / "reports/r-a") == before
    staged = chain.staged_status("r-a")
    assert staged["status"] == "failed" and staged["interrupted"] is True
    # resume from the interrupted attempt (01-03 finished there), then it replaces r-a
    f = fake()
    _run(start_from="04_analysis")
    assert [n for n, *_ in f.seen] == ["04_analysis", "05_presentation"]
    assert not staging_dir("r-a").exists()
    assert json.loads((project / "data/processed/r-a/manifest.json").read_text())["status"] \
        == "complete"


def test_recover_marks_a_dead_running_attempt_failed(project):
    store = RunStore("r-k", root=staging_dir("r-k") / "data")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store.update_manifest(status="running", pid=dead.pid, current_notebook="03_data_collection")
    messages = []
    info = chain.recover("r-k", echo=messages.append)
    assert info["status"] == "failed" and info["failed_notebook"] == "03_data_collection"
    assert info["interrupted"] is True and "interrupted during 03_data_collection" in messages[0]
    assert not (project / "data/processed/r-k").exists()  # never presented as a run


def test_recover_refuses_a_live_chain(project):
    RunStore("r-live", root=staging_dir("r-live") / "data").update_manifest(
        status="running", pid=os.getpid())
    with pytest.raises(RunError, match="is being built by process"):
        chain.recover("r-live")


def test_recover_finishes_a_swap_cut_short(project, fake):
    fake()
    _run()
    old = tree_hashes(project / "data/processed/r-a")
    # a completed attempt whose swap stopped after setting the old data folder aside
    stage = staging_dir("r-a")
    shutil.copytree(project / "data/processed/r-a", stage / "data")
    shutil.copytree(project / "reports/r-a", stage / "reports")
    RunStore("r-a", root=stage / "data").update_manifest(status="complete", marker="new")
    (stage / chain.COMMIT_MARK).write_text("now")
    (stage / "old").mkdir()
    os.replace(project / "data/processed/r-a", stage / "old" / "data")
    chain.recover("r-a", echo=lambda _: None)
    m = json.loads((project / "data/processed/r-a/manifest.json").read_text())
    assert m["marker"] == "new" and m["status"] == "complete"
    assert not stage.exists() and tree_hashes(project / "data/processed/r-a") != old


# --------------------------------------------------------------------------- byte-identical
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(\+00:00|Z| UTC)?")


def test_rerun_reproduces_byte_identical_tables(project, monkeypatch):
    from helpers.pipeline import run_in_process

    monkeypatch.setenv("CRM_API_TOKEN", "tok-5up3r-s3cr3t")
    run_in_process("r-one", "params/p.yaml", report=True)
    run_in_process("r-two", "params/p.yaml", report=True)
    one, two = project / "data/processed/r-one", project / "data/processed/r-two"
    m1 = json.loads((one / "manifest.json").read_text())
    m2 = json.loads((two / "manifest.json").read_text())
    assert len(m1["tables"]) >= 20 and m1["tables"].keys() == m2["tables"].keys()
    for name, entry in m1["tables"].items():
        assert entry["sha256"] == m2["tables"][name]["sha256"], name
        assert sha256_file(one / entry["file"]) == sha256_file(two / entry["file"]), name
    for name in m1["documents"]:
        doc1 = (one / f"{name}.json").read_bytes().replace(b"r-one", b"<run>")
        assert doc1 == (two / f"{name}.json").read_bytes().replace(b"r-two", b"<run>"), name
    # the report differs only in its run id and stamped times
    h1 = (project / "reports/r-one/report.html").read_text(encoding="utf-8")
    h2 = (project / "reports/r-two/report.html").read_text(encoding="utf-8")
    assert STAMP.sub("<time>", h1).replace("r-one", "<run>") == \
        STAMP.sub("<time>", h2).replace("r-two", "<run>")
    # nothing leaks: no environment variable, no raw file embedded
    raw_lines = (project / "data/raw/accounts.csv").read_text().splitlines()
    for out in (project / "reports/r-one").rglob("*"):
        if out.is_file() and out.suffix in (".html", ".xlsx", ".csv", ".json"):
            data = out.read_bytes()
            assert b"tok-5up3r-s3cr3t" not in data, out
            assert raw_lines[0].encode() not in data and raw_lines[5].encode() not in data, out


def test_gitignore_keeps_run_outputs_out_of_version_control():
    def ignored(path: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0

    if subprocess.run(["git", "rev-parse"], cwd=ROOT, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    for path in ("data/processed/2026Q4/scored_accounts.parquet",
                 "data/processed/.staging/2026Q4/data/manifest.json",
                 "reports/2026Q4/report.html", "reports/2026Q4/notebooks/01_setup.ipynb"):
        assert ignored(path), path
    for path in ("data/raw/demo/crm_accounts_2026Q3.csv", "notebooks/01_setup.ipynb",
                 "src/helpers/run/chain.py"):
        assert not ignored(path), path


# --------------------------------------------------------------------------- kill and recover
FAST = ("extends: demo.yaml\nanalysis: {bootstrap: 40, cv_repeats: 2}\n"
        "robustness: {draws: 40, segment_bootstrap: 8}\n")


def _cli(root: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "WORKBOOK_ROOT": str(root), "MPLBACKEND": "Agg"}
    env.pop(STAGING_ENV, None)
    return subprocess.run([sys.executable, "-m", "helpers", *args], env=env, cwd=root.parent,
                          capture_output=True, text=True, timeout=timeout)


def _run_and_kill(root: Path, args: list[str], during: str, delay: float = 2.0) -> str:
    """Start the CLI, wait until it announces ``during``, then SIGKILL it, its process group
    and every descendant (the kernel runs in its own session)."""
    import psutil

    env = {**os.environ, "WORKBOOK_ROOT": str(root), "MPLBACKEND": "Agg",
           "PYTHONUNBUFFERED": "1"}
    env.pop(STAGING_ENV, None)
    proc = subprocess.Popen([sys.executable, "-m", "helpers", *args], env=env, cwd=root.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    seen = []
    deadline = time.monotonic() + 300
    try:
        for line in proc.stdout:
            seen.append(line)
            if during in line:
                break
            assert time.monotonic() < deadline, "".join(seen)
        else:
            pytest.fail("the chain ended before " + during + ":\n" + "".join(seen))
        time.sleep(delay)  # the kernel is now inside the notebook
        victims = psutil.Process(proc.pid).children(recursive=True)
        os.killpg(proc.pid, signal.SIGKILL)
        for child in victims:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        psutil.wait_procs(victims, timeout=10)
    finally:
        proc.kill()
        proc.wait()
    return "".join(seen)


def _raw_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): sha256_file(p)
            for p in sorted((root / "data" / "raw").rglob("*")) if p.is_file()}


@pytest.mark.e2e
def test_killed_chain_leaves_earlier_runs_intact_and_recovers(tmp_path):
    from helpers.synthetic.demo import write_demo

    root = tmp_path / "project"
    root.mkdir()
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "params", root / "params")
    write_demo(root / "data" / "raw" / "demo", n_accounts=300, seed=11)
    (root / "params" / "fast.yaml").write_text(FAST)
    raw_before = _raw_hashes(root)
    args = ["run", "--params", "params/fast.yaml"]

    done = _cli(root, *args, "--run-id", "r-done")
    assert done.returncode == 0, done.stdout + done.stderr
    run_a, rep_a = root / "data/processed/r-done", root / "reports/r-done"
    before = tree_hashes(run_a, rep_a)

    # 1. a --force re-run of the complete run, killed during notebook 03
    out = _run_and_kill(root, [*args, "--run-id", "r-done", "--force"], "[3/5] 03_data_collection")
    assert "[3/5]" in out and "complete" not in out
    assert tree_hashes(run_a, rep_a) == before  # byte-identical, untouched
    assert json.loads((run_a / "manifest.json").read_text())["status"] == "complete"

    # 2. a new run killed during notebook 04: not presented as a run, let alone complete
    _run_and_kill(root, [*args, "--run-id", "r-killed"], "[4/5] 04_analysis", delay=1.0)
    assert not (root / "data/processed/r-killed").exists()
    assert not (root / "reports/r-killed").exists()
    staged = json.loads((root / "data/processed/.staging/r-killed/data/manifest.json").read_text())
    assert staged["status"] == "running" and staged["current_notebook"] == "04_analysis"
    listing = _cli(root, "runs").stdout
    assert "r-killed" not in listing and "r-done" in listing

    # 3. resume: the interrupted attempt is marked failed, notebooks 01-03 are reused
    resumed = _cli(root, *args, "--run-id", "r-killed", "--from", "04_analysis")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "interrupted during 04_analysis" in resumed.stdout
    assert "[1/5]" not in resumed.stdout and "[4/5] 04_analysis" in resumed.stdout
    m = json.loads((root / "data/processed/r-killed/manifest.json").read_text())
    assert m["status"] == "complete" and set(m["notebooks"]) == set(NOTEBOOKS)
    assert (root / "reports/r-killed/report.html").is_file()
    assert not (root / "data/processed/.staging/r-killed").exists()
    # same parameters and inputs: the killed-and-resumed run's tables equal the clean run's
    # (r-killed also compares itself with r-done, the run before it: change_* tables)
    clean = json.loads((run_a / "manifest.json").read_text())["tables"]
    common = sorted(set(clean) & set(m["tables"]))
    assert len(common) >= 20
    for name in common:
        assert m["tables"][name]["sha256"] == clean[name]["sha256"], name

    # 4. the complete run is still up to date and untouched
    again = _cli(root, *args, "--run-id", "r-done")
    assert again.returncode == 0 and "up to date" in again.stdout
    assert tree_hashes(run_a, rep_a) == before
    assert _raw_hashes(root) == raw_before  # data/raw/ never written

"""The list of runs: status, as-of date, accounts and recommended segments, and the
``reports/index.html`` page linking every run's report, newest first.

Everything comes from each run's ``manifest.json`` and ``segment_defs.json`` (no table is
read). "Newest" means the latest as-of date, then the greatest run id: the same order
:func:`helpers.analyse.quarterly.previous_run` uses to find the run before another.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.core.paths import NOTEBOOKS, processed_root, report_dir, reports_root

RUN_COLUMNS = ["run_id", "as_of", "status", "complete", "failed_notebook", "accounts",
               "recommended", "params_file", "started_at", "ended_at", "report", "lineage"]


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def status_text(manifest: dict[str, Any]) -> str:
    """'complete', 'failed at notebook 4 (04_analysis)', 'running', 'interactive' ...

    Parameters
    ----------
    manifest
        A run's manifest.

    Returns
    -------
    str
        Its status in words.
    """
    status = str(manifest.get("status") or "unknown")
    if status == "failed":
        nb = manifest.get("failed_notebook")
        if nb in NOTEBOOKS:
            return f"failed at notebook {NOTEBOOKS.index(nb) + 1} ({nb})"
        return f"failed at {nb}" if nb else "failed"
    return status


def run_lineage(manifest: dict[str, Any]) -> str:
    """The lineage of a run: its ``lineage`` parameter, else its charter's project name
    (from the effective parameters in its manifest; '' when the manifest has neither).

    Parameters
    ----------
    manifest
        A run's manifest.

    Returns
    -------
    str
        The lineage.
    """
    eff = manifest.get("effective_params") or {}
    if not isinstance(eff, dict):
        return ""
    charter = eff.get("charter") if isinstance(eff.get("charter"), dict) else {}
    return str(eff.get("lineage") or charter.get("project") or "")


def recommended_segments(segment_defs: dict[str, Any] | None) -> list[str]:
    """Display names of a run's recommended segments (ids when unnamed), in priority order.

    Parameters
    ----------
    segment_defs
        A run's ``segment_defs.json`` (None: none).

    Returns
    -------
    list of str
        The names.
    """
    if not segment_defs:
        return []
    names = segment_defs.get("names") or {}
    return [str(names.get(s, s)) for s in segment_defs.get("recommended") or []]


def run_row(run_path: Path) -> dict[str, Any] | None:
    """One row of :func:`list_runs` for the run folder ``run_path`` (None without manifest).

    Parameters
    ----------
    run_path
        The run's folder under ``data/processed/``.

    Returns
    -------
    dict or None
        The row (:data:`RUN_COLUMNS`).
    """
    m = _read_json(run_path / "manifest.json")
    if m is None:
        return None
    run_id = run_path.name
    tables = m.get("tables") or {}
    rows = (tables.get("scored_accounts") or {}).get("rows")
    report = report_dir(run_id) / "report.html"
    return {
        "run_id": run_id,
        "as_of": str(m.get("as_of") or ""),
        "status": status_text(m),
        "complete": m.get("status") == "complete",
        "failed_notebook": m.get("failed_notebook"),
        "accounts": int(rows) if isinstance(rows, int) else pd.NA,
        "recommended": "; ".join(recommended_segments(_read_json(run_path / "segment_defs.json"))),
        "params_file": str(m.get("params_file") or ""),
        "started_at": str(m.get("started_at") or ""),
        "ended_at": str(m.get("ended_at") or ""),
        "report": report if report.is_file() else None,
        "lineage": run_lineage(m),
    }


def list_runs(root: Path | None = None) -> pd.DataFrame:
    """Every run under ``data/processed/`` (or ``root``), newest first: by as-of date
    descending, then run id descending. Columns: :data:`RUN_COLUMNS`.

    Parameters
    ----------
    root
        The folder holding the runs (None: ``data/processed/``).

    Returns
    -------
    DataFrame
        One row per run.
    """
    base = Path(root) if root is not None else processed_root()
    rows = [r for d in (sorted(base.iterdir()) if base.is_dir() else [])
            if d.is_dir() and (r := run_row(d)) is not None]
    df = pd.DataFrame(rows, columns=RUN_COLUMNS)
    if df.empty:
        return df
    df["accounts"] = df["accounts"].astype("Int64")
    return df.sort_values(["as_of", "run_id"], ascending=False, kind="stable").reset_index(
        drop=True)


def format_runs(runs: pd.DataFrame) -> str:
    """The table ``workbook runs`` prints.

    Parameters
    ----------
    runs
        :func:`list_runs`.

    Returns
    -------
    str
        The text table (or how to start a first run).
    """
    if runs.empty:
        return ("no runs yet: try `workbook run --params params/demo.yaml --run-id "
                "demo-2026Q3`")
    head = f"{'run id':<22} {'as of':<11} {'accounts':>8}  {'status':<34} recommended segments"
    lines = [head, "-" * len(head)]
    for r in runs.itertuples():
        acc = "" if pd.isna(r.accounts) else f"{int(r.accounts):,}"
        lines.append(f"{r.run_id:<22} {r.as_of:<11} {acc:>8}  {r.status:<34} "
                     f"{r.recommended or '–'}")
    return "\n".join(lines)


def index_rows(runs: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``reports/index.html`` as plain text values (the template escapes them).

    Parameters
    ----------
    runs
        :func:`list_runs`.

    Returns
    -------
    list of dict
        One dict per run (run_id, as_of, status, complete, href, accounts, recommended).
    """
    return [{"run_id": str(r.run_id), "as_of": str(r.as_of), "status": str(r.status),
             "complete": bool(r.complete),
             "href": (f"{Path(str(r.run_id)).as_posix()}/report.html"
                      if r.report is not None else None),
             "accounts": "" if pd.isna(r.accounts) else f"{int(r.accounts):,}",
             "recommended": str(r.recommended or "–")} for r in runs.itertuples()]


def index_html(runs: pd.DataFrame, *, title: str = "Segmentation workbook: runs") -> str:
    """A self-contained page (no script, no external resource) linking each run's report,
    rendered with the report's template machinery (``runs_index.html.j2``, every value
    autoescaped). Links are relative to ``reports/``.

    Parameters
    ----------
    runs
        :func:`list_runs`.
    title
        The page title.

    Returns
    -------
    str
        The HTML page.
    """
    from helpers.present.report import template_env

    return template_env().get_template("runs_index.html.j2").render(
        title=title, rows=index_rows(runs))


def write_index(out: Path | None = None, *, root: Path | None = None) -> Path:
    """Write ``reports/index.html`` (atomically) from :func:`list_runs`; returns its path.
    Meant to be called by the chain at the end of every run (complete or failed).

    Parameters
    ----------
    out
        The page to write (None: ``reports/index.html``).
    root
        The folder holding the runs (None: ``data/processed/``).

    Returns
    -------
    Path
        The page written.
    """
    path = Path(out) if out is not None else reports_root() / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(index_html(list_runs(root)), encoding="utf-8")
    tmp.replace(path)
    return path

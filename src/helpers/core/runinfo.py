"""Run metadata: what went into a run (parameters, input files and their hashes, versions)."""

from __future__ import annotations

import datetime as dt
import importlib.metadata as md
import platform
from pathlib import Path
from typing import Any

from helpers.core.params import Params, effective, params_hash
from helpers.core.paths import project_root, resolve
from helpers.core.store import sha256_file

PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "scikit-learn", "seaborn", "matplotlib",
            "duckdb", "sqlglot", "pyarrow", "papermill", "nbconvert", "ipywidgets", "pydantic",
            "segmentation-workbook")


def input_files(params: Params) -> dict[str, str]:
    """Every input file a run reads, by role (accounts, firmographics, ..., register), as
    written in the parameters."""
    out: dict[str, str] = {}
    for role, src in params.inputs:
        if src is not None:
            out[role] = src if isinstance(src, str) else src.path
    out["hypothesis_register"] = params.hypotheses.register_file
    return out


def input_paths(params: Params) -> dict[str, Path]:
    """:func:`input_files` resolved against the project root."""
    return {role: resolve(path) for role, path in input_files(params).items()}


def input_hashes(params: Params) -> dict[str, dict[str, Any]]:
    """Role -> {path, size_bytes, sha256} for every input that exists (missing: sha256 None)."""
    root = project_root()
    res: dict[str, dict[str, Any]] = {}
    for role, p in input_paths(params).items():
        try:
            shown = str(p.relative_to(root))
        except ValueError:
            shown = str(p)
        from helpers.collect.aggregate import dataset_fingerprint, is_dataset

        if is_dataset(p):  # a Parquet dataset: its file list is hashed
            fp = dataset_fingerprint(p)
            res[role] = {"path": shown, "size_bytes": fp["size_bytes"], "sha256": fp["sha256"]}
        elif p.is_file():
            res[role] = {"path": shown, "size_bytes": p.stat().st_size, "sha256": sha256_file(p)}
        else:
            res[role] = {"path": shown, "size_bytes": None, "sha256": None}
    return res


def versions() -> dict[str, str]:
    """Installed versions of the packages that shape the numbers."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def now() -> str:
    """UTC wall-clock, used only for the stamped run metadata."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def run_record(params: Params, run_id: str, params_file: str | Path) -> dict[str, Any]:
    """The metadata stamped at the start of a run (written to run.json)."""
    return {
        "run_id": run_id,
        "as_of": params.as_of.isoformat(),
        "params_file": str(params_file),
        "params_hash": params_hash(params),
        "inputs": input_hashes(params),
        "versions": versions(),
        "effective_params": effective(params),
    }

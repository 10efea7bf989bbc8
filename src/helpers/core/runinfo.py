"""Run metadata: what went into a run (parameters, input files and their hashes, versions)."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata as md
import json
import platform
from collections.abc import Mapping
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
    written in the parameters.

    Parameters
    ----------
    params
        The run's parameters.

    Returns
    -------
    dict
        Input role -> path as written.
    """
    out: dict[str, str] = {}
    for role, src in params.inputs:
        if src is not None:
            out[role] = src if isinstance(src, str) else src.path
    out["hypothesis_register"] = params.hypotheses.register_file
    return out


def resolved_input_paths(params: Params) -> dict[str, Path]:
    """:func:`input_files` resolved against the project root.

    Parameters
    ----------
    params
        The run's parameters.

    Returns
    -------
    dict
        Input role -> absolute path.
    """
    return {role: resolve(path) for role, path in input_files(params).items()}


def input_hashes(params: Params) -> dict[str, dict[str, Any]]:
    """Role -> {path, size_bytes, sha256} for every input that exists (missing: sha256 None).

    Parameters
    ----------
    params
        The run's parameters.

    Returns
    -------
    dict
        Input role -> {path (relative to the project root when inside it), size_bytes, sha256};
        a Parquet dataset's file list is hashed.
    """
    root = project_root()
    res: dict[str, dict[str, Any]] = {}
    for role, p in resolved_input_paths(params).items():
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
    """Installed versions of the packages that shape the numbers.

    Returns
    -------
    dict
        Package -> version (``not installed`` when absent), with ``python``.
    """
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def now() -> str:
    """UTC wall-clock, used only for the stamped run metadata.

    Returns
    -------
    str
        ISO 8601 time, to the second.
    """
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def run_record(params: Params, run_id: str, params_file: str | Path) -> dict[str, Any]:
    """The metadata stamped at the start of a run (written to run.json).

    Parameters
    ----------
    params
        The run's parameters.
    run_id
        The run.
    params_file
        The parameter file, as given.

    Returns
    -------
    dict
        ``run_id``, ``as_of``, ``params_file``, ``params_hash``, ``inputs`` (:func:`input_hashes`),
        ``versions`` and ``effective_params``.
    """
    return {
        "run_id": run_id,
        "as_of": params.as_of.isoformat(),
        "params_file": str(params_file),
        "params_hash": params_hash(params),
        "inputs": input_hashes(params),
        "versions": versions(),
        "effective_params": effective(params),
    }


def effective_params_hash(base_hash: str | None, step_hashes: Mapping[str, str]) -> str | None:
    """The hash of what a run really used: the parameter file's hash when no notebook
    overrode a value, else the SHA-256 of that hash and each overriding notebook's hash.

    Parameters
    ----------
    base_hash
        :func:`helpers.core.params.params_hash` of the parameter file's parameters.
    step_hashes
        Notebook -> hash of its effective parameters, for the notebooks whose overrides
        changed a value.

    Returns
    -------
    str or None
        The effective parameters hash (``base_hash`` when ``step_hashes`` is empty).
    """
    if not step_hashes:
        return base_hash
    blob = json.dumps({"params_hash": base_hash, "steps": dict(step_hashes)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def overrides_record(manifest: Mapping[str, Any], step: str, overrides: Mapping[str, Any],
                     params: Params) -> dict[str, Any]:
    """The manifest fields that record notebook ``step``'s parameter overrides
    (``Session.with_params``), replacing what that notebook recorded before.

    Parameters
    ----------
    manifest
        The run's manifest as it is (its ``params_hash``, ``overrides``, ``step_params_hash``).
    step
        The notebook that overrides (e.g. ``04_analysis``).
    overrides
        Its dotted key -> value overrides, JSON-able (empty: the notebook overrides nothing).
    params
        The notebook's parameters with the overrides applied.

    Returns
    -------
    dict
        ``overrides`` (notebook -> dotted key -> value), ``step_params_hash`` (notebook ->
        hash of its parameters, only where an override changed a value) and
        ``effective_params_hash`` (:func:`effective_params_hash`).
    """
    base = manifest.get("params_hash")
    by_step = {k: v for k, v in (manifest.get("overrides") or {}).items() if k != step}
    hashes = {k: v for k, v in (manifest.get("step_params_hash") or {}).items() if k != step}
    if overrides:
        by_step[step] = dict(overrides)
        step_hash = params_hash(params)
        if step_hash != base:
            hashes[step] = step_hash
    return {"overrides": by_step, "step_params_hash": hashes,
            "effective_params_hash": effective_params_hash(base, hashes)}


def overrides_text(manifest: Mapping[str, Any]) -> str:
    """The parameter overrides a run's notebooks made, as one line for the report
    ("04_analysis: analysis.tree.forced_root = 'industry'"); "none" without any.

    Parameters
    ----------
    manifest
        The run's manifest.

    Returns
    -------
    str
        One ``notebook: key = value`` item per override, separated by "; ".
    """
    by_step = manifest.get("overrides") or {}
    items = [f"{step}: {key} = {value!r}" for step, keys in sorted(by_step.items())
             for key, value in keys.items()]
    return "; ".join(items) or "none"

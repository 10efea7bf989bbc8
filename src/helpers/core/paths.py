"""Where everything lives. Notebooks and helpers take paths from here, never from '../..'."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

KERNEL_NAME = "segmentation-workbook"
NOTEBOOKS = (
    "01_setup",
    "02_hypotheses",
    "03_data_collection",
    "04_analysis",
    "05_presentation",
)


@cache
def project_root() -> Path:
    """The repository root: $WORKBOOK_ROOT, else the nearest parent with notebooks/ and params/."""
    env = os.environ.get("WORKBOOK_ROOT")
    if env:
        return Path(env).resolve()
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for candidate in (start, *start.parents):
            if (candidate / "notebooks").is_dir() and (candidate / "params").is_dir():
                return candidate
    return Path(__file__).resolve().parents[3]


def resolve(path: str | os.PathLike) -> Path:
    """A path from a parameter file: absolute as given, relative to the project root otherwise."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else project_root() / p


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def params_dir() -> Path:
    return project_root() / "params"


def raw_dir() -> Path:
    return project_root() / "data" / "raw"


def processed_root() -> Path:
    return project_root() / "data" / "processed"


def reports_root() -> Path:
    return project_root() / "reports"


def run_dir(run_id: str) -> Path:
    """Intermediate tables of one run: data/processed/<run_id>/."""
    return processed_root() / run_id


def report_dir(run_id: str) -> Path:
    """Executed notebooks and HTML of one run: reports/<run_id>/."""
    return reports_root() / run_id

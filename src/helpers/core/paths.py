"""Where everything lives. Notebooks and helpers take paths from here, never from '../..'."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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
    """The repository root: $WORKBOOK_ROOT, else the nearest parent with notebooks/ and params/.

    Returns
    -------
    Path
        The project root (cached; ``project_root.cache_clear()`` after changing $WORKBOOK_ROOT).
    """
    env = os.environ.get("WORKBOOK_ROOT")
    if env:
        return Path(env).resolve()
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for candidate in (start, *start.parents):
            if (candidate / "notebooks").is_dir() and (candidate / "params").is_dir():
                return candidate
    return Path(__file__).resolve().parents[3]


@contextmanager
def project_at(root: str | os.PathLike,
               env: Mapping[str, str | None] | None = None) -> Iterator[Path]:
    """Resolve every project path (params, data, reports) inside ``root`` for the block.

    Sets ``WORKBOOK_ROOT`` to ``root`` and the variables in ``env`` (None = unset), and clears
    the cache of :func:`project_root`; on leaving the block, also by an exception, every one
    of these variables is back as it was (set to its old value, or unset) and the cache is
    cleared again. Not thread-safe (the process environment is global).

    Parameters
    ----------
    root : str or os.PathLike
        The project folder (with ``notebooks/``, ``params/``, ``data/``).
    env : Mapping[str, str or None], optional
        Further environment variables for the block, e.g. ``{"WORKBOOK_JOBS": "1"}``.

    Returns
    -------
    Iterator[Path]
        Yields :func:`project_root` inside the block (``root``, resolved).
    """
    wanted = {"WORKBOOK_ROOT": str(root), **(env or {})}
    saved = {name: os.environ.get(name) for name in wanted}
    try:
        for name, value in wanted.items():
            _set_env(name, value)
        project_root.cache_clear()
        yield project_root()
    finally:
        for name, value in saved.items():
            _set_env(name, value)
        project_root.cache_clear()


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def resolve(path: str | os.PathLike) -> Path:
    """A path from a parameter file: absolute as given, relative to the project root otherwise.

    Parameters
    ----------
    path
        The path as written.

    Returns
    -------
    Path
        The absolute path.
    """
    p = Path(path).expanduser()
    return p if p.is_absolute() else project_root() / p


def notebooks_dir() -> Path:
    """The notebooks folder: <root>/notebooks/.

    Returns
    -------
    Path
        The folder.
    """
    return project_root() / "notebooks"


def params_dir() -> Path:
    """The parameter files folder: <root>/params/.

    Returns
    -------
    Path
        The folder.
    """
    return project_root() / "params"


def raw_dir() -> Path:
    """The input files folder (never written): <root>/data/raw/.

    Returns
    -------
    Path
        The folder.
    """
    return project_root() / "data" / "raw"


def processed_root() -> Path:
    """The runs' tables: <root>/data/processed/.

    Returns
    -------
    Path
        The folder.
    """
    return project_root() / "data" / "processed"


def reports_root() -> Path:
    """The runs' reports: <root>/reports/.

    Returns
    -------
    Path
        The folder.
    """
    return project_root() / "reports"


def run_dir(run_id: str) -> Path:
    """Intermediate tables of one run: data/processed/<run_id>/.

    Parameters
    ----------
    run_id
        The run.

    Returns
    -------
    Path
        The run's table folder (in place, never its staging folder).
    """
    return processed_root() / run_id


def report_dir(run_id: str) -> Path:
    """Executed notebooks and HTML of one run: reports/<run_id>/.

    Parameters
    ----------
    run_id
        The run.

    Returns
    -------
    Path
        The run's report folder (in place, never its staging folder).
    """
    return reports_root() / run_id

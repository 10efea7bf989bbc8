"""Shared fixtures and helpers. Tests never write under data/raw/ of the repository: runs go
to scratch projects (copies of params/ and notebooks/ plus a data room) under tmp dirs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("WORKBOOK_ROOT", str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def demo_dir() -> Path:
    return ROOT / "data" / "raw" / "demo"


def scratch_project(root: Path, *, demo: str | int | None = "copy", seed: int = 20260930) -> Path:
    """A project folder with the repository's params/ and notebooks/ and a demo data room:
    ``demo="copy"`` copies the committed one, an int generates that many accounts, None none."""
    from helpers.synthetic.demo import write_demo

    shutil.copytree(ROOT / "params", root / "params")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    raw = root / "data" / "raw" / "demo"
    if demo == "copy":
        shutil.copytree(ROOT / "data" / "raw" / "demo", raw)
    elif isinstance(demo, int):
        write_demo(raw, n_accounts=demo, seed=seed)
    return root


def chart_cells(notebook: Path) -> dict[int, int]:
    """Code-cell index -> number of charts, for a notebook's cells that draw: each
    ``display(plots.…)`` and each ``plt.show()`` is one chart."""
    import json

    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    counts = {i: src.count("display(plots.") + src.count("plt.show()")
              for i, src in enumerate(code)}
    return {i: n for i, n in counts.items() if n}


@contextmanager
def use_project(root: Path) -> Iterator[Path]:
    """Resolve every helpers path (params, data, reports) inside ``root`` for the block
    (:func:`helpers.core.paths.project_at`)."""
    from helpers.core.paths import project_at

    with project_at(root):
        yield root


@pytest.fixture(scope="session")
def spark():
    """One local Spark (2 cores, UI off, 2 shuffle partitions) for the whole test session."""
    from helpers.collect.aggregate import spark_session

    session = spark_session("local[2]", app="workbook-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()

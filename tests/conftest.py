"""Shared fixtures. Tests never write under data/raw/ and use tmp dirs for run outputs."""

from __future__ import annotations

import os
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

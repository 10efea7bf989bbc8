"""helpers.core.paths.project_at: a scratch project for a block, the environment restored."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers.core import paths


class Boom(Exception):
    pass


def test_project_at_points_every_path_inside_the_root(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBOOK_JOBS", raising=False)
    with paths.project_at(tmp_path, {"WORKBOOK_JOBS": "1"}) as root:
        assert root == tmp_path.resolve() == paths.project_root()
        assert paths.params_dir() == root / "params"
        assert paths.run_dir("r1") == root / "data" / "processed" / "r1"
        assert os.environ["WORKBOOK_JOBS"] == "1"
    assert "WORKBOOK_JOBS" not in os.environ
    assert paths.project_root() != tmp_path.resolve()


def test_project_at_restores_on_exception(tmp_path, monkeypatch):
    """Set variables get their old value back, unset ones are unset again, and the cached
    project root is the outer one, although the block raised."""
    outer = tmp_path / "outer"
    monkeypatch.setenv("WORKBOOK_ROOT", str(outer))
    monkeypatch.setenv("WORKBOOK_JOBS", "7")
    monkeypatch.delenv("WORKBOOK_STAGING_TEST", raising=False)
    paths.project_root.cache_clear()
    try:
        assert paths.project_root() == outer.resolve()
        inner = {"WORKBOOK_JOBS": None, "WORKBOOK_STAGING_TEST": "x"}
        with pytest.raises(Boom), paths.project_at(tmp_path / "inner", inner):
            assert paths.project_root() == (tmp_path / "inner").resolve()
            assert "WORKBOOK_JOBS" not in os.environ
            assert os.environ["WORKBOOK_STAGING_TEST"] == "x"
            raise Boom
        assert os.environ["WORKBOOK_ROOT"] == str(outer)
        assert os.environ["WORKBOOK_JOBS"] == "7"
        assert "WORKBOOK_STAGING_TEST" not in os.environ
        assert paths.project_root() == outer.resolve()  # not the inner root, cached
    finally:
        monkeypatch.undo()
        paths.project_root.cache_clear()


def test_project_at_nests(tmp_path):
    with paths.project_at(tmp_path / "a") as a:
        with paths.project_at(tmp_path / "b") as b:
            assert paths.project_root() == b != a
        assert paths.project_root() == a == Path(os.environ["WORKBOOK_ROOT"]).resolve()

"""Notebook 04's tree-root picker (helpers.analyse.rootpicker)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from helpers.analyse import rootpicker as rp
from helpers.analyse import verdicts
from helpers.core.params import Tree


@pytest.fixture(scope="module")
def planted():
    table, hyp = verdicts.planted_example(n_accounts=800, seed=5)
    table["industry"] = table["industry"].replace("Hospital", "<b>Evil & Co</b>")  # in a rule
    kinds = dict(zip(hyp["variable"], hyp["kind"], strict=True))
    return table, [v for v in hyp["variable"] if v in table.columns], kinds


def test_root_view_forces_the_root_and_fits_once(planted):
    table, variables, kinds = planted
    fitted: dict = {}
    view = rp.root_view(table, variables, kinds, Tree(), "multinational", fitted=fitted)
    tree = view["tree"]
    first = tree.nodes[tree.nodes["depth"] == 1]
    assert set(first["condition"].str.split().str[0]) == {"multinational"}
    assert list(fitted) == ["multinational"]
    again = rp.root_view(table, variables, kinds, Tree(), "multinational", fitted=fitted)
    assert again["tree"] is tree  # not refitted
    leaves = view["leaves"]
    assert leaves["mean_score"].is_monotonic_decreasing
    assert leaves["n"].sum() == len(table)
    g = view["gains"]
    assert g["y"].iloc[0] == 0 and g["y"].iloc[-1] == pytest.approx(1.0)
    assert np.all(np.diff(g["y"]) >= -1e-12)
    assert 0 < view["accuracy_ratio"] <= 1
    assert "root multinational" in view["summary"]


def test_static_picker_is_the_parameters_root(planted):
    table, variables, kinds = planted
    out = rp.root_picker(table, variables, kinds, Tree(forced_root="industry"), False)
    assert out["root"] == "industry" and not out["leaves"].empty


def test_drawings_are_svg_with_escaped_labels(planted):
    table, variables, kinds = planted
    view = rp.root_view(table, variables, kinds, Tree(), "industry")
    assert view["leaves"]["rule"].str.contains("<b>Evil", regex=False).any()
    svg = rp.tree_svg(view, max_label=200)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == len(view["tree"].nodes)
    assert "<b>Evil" not in svg and "&lt;b&gt;Evil &amp; Co&lt;/b&gt;" in svg
    table_html = rp.leaves_html(view)
    assert "<b>Evil" not in table_html and "&lt;b&gt;Evil" in table_html
    assert rp.gains_svg(view).count("<polyline") == 3
    assert rp.share_colour(0.0) == "#f46d43" and rp.share_colour(0.5) == "#66bd63"


def test_interactive_picker_redraws_and_saves(planted, tmp_path):
    pytest.importorskip("ipywidgets")
    table, variables, kinds = planted
    target = tmp_path / "params" / "tree-root-r1.yaml"
    panel = rp.root_picker(table, variables, kinds, Tree(), True, save_to=target)
    (pick, hint, save, status), tree_view, (gains_view, leaves) = (
        panel.children[0].children, panel.children[1], panel.children[2].children)
    assert pick.value == rp.AUTO and pick.options == tuple(rp.root_options(variables, kinds))
    assert f"{len(pick.options)} roots" in hint.value
    before = (tree_view.value, gains_view.value, leaves.value)
    pick.value = "multinational"
    assert tree_view.value != before[0] and "multinational" in gains_view.value
    assert "root multinational" in leaves.value
    save.click()
    assert target.exists() and str(target) in status.value
    chosen = yaml.safe_load(target.read_text())["analysis"]["tree"]
    assert Tree(**chosen).forced_root == "multinational"
    pick.value = rp.AUTO
    assert (tree_view.value, gains_view.value, leaves.value) == before  # kept drawing
    save.click()
    assert yaml.safe_load(target.read_text())["analysis"]["tree"]["forced_root"] is None


def test_interactive_picker_is_a_slider_starting_at_the_parameters_root(planted):
    """A slider, not a dropdown: in JupyterLab the arrow keys on a focused dropdown also move
    the notebook's active cell (the browser half of this is in tests/test_lab_browser.py)."""
    pytest.importorskip("ipywidgets")
    table, variables, kinds = planted
    fitted: dict = {}
    panel = rp.root_picker(table, variables, kinds, Tree(forced_root="industry"), True,
                           fitted=fitted)
    pick, *_, save, _status = panel.children[0].children
    assert type(pick).__name__ == "SelectionSlider"
    assert "wb-root-picker" in pick._dom_classes and pick.continuous_update
    assert pick.value == "industry" and list(fitted) == ["industry"]
    assert save.disabled  # nowhere to save to
    numeric = next(v for v in variables if kinds[v] == "numeric")
    panel = rp.root_picker(table, variables, kinds, Tree(forced_root=numeric), True,
                           fitted=fitted)
    assert panel.children[0].children[0].value == rp.AUTO  # a root the slider cannot show

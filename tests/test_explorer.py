"""The analysis notebook's views (helpers.analyse.explorer): the variable explorer and the
wide profile."""

from __future__ import annotations

import pandas as pd

from helpers.analyse.explorer import profile_wide, variable_explorer


def test_profile_wide_orders_groups_best_first():
    long = pd.DataFrame({
        "variable": ["x"] * 3, "kind": ["numeric"] * 3, "group": ["A", "B", "all"],
        "category": [None] * 3, "stat": ["mean"] * 3, "value": [3.0, 1.0, 2.0]})
    wide = profile_wide(long, "mean")
    assert list(wide.columns) == ["A", "B", "all"] and wide.loc["x", "A"] == 3.0


def test_variable_explorer_static_and_interactive():
    from helpers.analyse.verdicts import planted_example

    table, hyps = planted_example(400, seed=3)
    tested = hyps.assign(lens="firmographic")
    static = variable_explorer(table, tested, interactive=False)
    assert set(static["variable"]) == set(tested["variable"])
    widget = variable_explorer(table, tested, interactive=True)
    bar, view = widget.children
    picker = bar.children[0]
    first = view.value
    assert "<table" in first and "<img" in first and "data:image/png;base64," in first
    picker.value = picker.options[-1]  # the view re-renders on change
    assert picker.value == tested["variable"].iloc[-1] and view.value != first
    # not a Dropdown: a collapsed dropdown's arrow keys move JupyterLab's active cell
    assert type(picker).__name__ == "SelectionSlider"


def test_variable_explorer_uses_the_step4_score_groups():
    from helpers.analyse.verdicts import planted_example

    table, hyps = planted_example(400, seed=3)
    tested = hyps.assign(lens="firmographic")
    static = variable_explorer(table, tested, interactive=False, n_groups=10)
    assert "decile" in static.columns and "quartile" not in static.columns
    assert set(static["decile"].dropna().astype(str)) == {f"D{i}" for i in range(1, 11)}
    widget = variable_explorer(table, tested, interactive=True, n_groups=10)
    html = widget.children[1].value
    assert ">D10<" in html and "decile" in html

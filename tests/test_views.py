"""Readable notebook output: compact tables, named score groups, collapsed warnings, years
without separators, charts that show inline (plain Figures, inline switched on in a kernel)."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.analyse.profiling import fmt_measure, threshold_finder
from helpers.present import views


def test_compact_puts_the_columns_that_matter_first_and_cuts_the_rest():
    wide = pd.DataFrame({f"c_{i}": [i] for i in range(12)}
                        | {"why": ["x"], "score": [1.0], "account_name": ["A"], "decile": ["D1"]})
    out = views.compact(wide, max_columns=6)
    assert list(out.columns) == ["account_name", "score", "decile", "why", "c_0", "c_1"]
    assert len(out) == 1


def test_group_names():
    assert views.group_name(4) == "quartile" and views.group_name(10) == "decile"
    frame = pd.DataFrame({"quartile": ["D1"], "score": [1.0]})
    assert list(views.name_groups(frame, 10).columns) == ["decile", "score"]
    assert views.name_groups(frame, 4) is frame


def test_collapse_ids_counts_from_the_message():
    ids = ", ".join(f"acc{i}" for i in range(10))
    msg = f"score: 333 account(s) without a positive mrr_prev: {ids}"
    out = views.collapse_ids(msg, keep=3)
    assert out == "score: 333 account(s) without a positive mrr_prev: acc0, acc1, acc2 and 330 more"
    rows = "accounts: 9 account(s) with zero MRR: " + ", ".join(f"a{i} (row {i})" for i in range(9))
    assert views.collapse_ids(rows, keep=5).endswith("a4 (row 4) and 4 more")
    plain = "score: 694 account(s) without employees get no large-logo bonus"
    assert views.collapse_ids(plain) == plain
    assert views.collapse_ids("x: a, b") == "x: a, b"


def test_warning_lines_count_and_name_the_file(capsys):
    lines = views.warning_lines(["one", "two"], where="data/processed/r/warnings.json")
    assert lines[0] == "2 warnings (full text in data/processed/r/warnings.json):"
    assert lines[1:] == ["  - one", "  - two"]
    views.print_warnings([])
    assert capsys.readouterr().out == ""


def test_html_table_escapes():
    out = views.html_table(pd.DataFrame({"name": ["<script>x</script>"]}))
    assert "<script>" not in out and "&lt;script&gt;" in out and "jp-RenderedHTMLCommon" in out


def test_years_have_no_thousands_separator():
    assert fmt_measure(2013.0, "founded_year") == "2013"
    assert fmt_measure(2013.5, "founded_year") == "2013.5"
    assert fmt_measure(2013.0, "employees") == "2,013"
    assert fmt_measure(2013.0) == "2,013"
    n = 400
    table = pd.DataFrame({"account_id": [f"a{i}" for i in range(n)],
                          "founded_year": [1990 + i % 30 for i in range(n)]})
    table["score"] = table["founded_year"] * 10.0 + [i % 7 for i in range(n)]
    res = threshold_finder(table, "founded_year")
    assert res is not None and "founded year" in res["sentence"]
    assert not any(f"{y // 1000},{y % 1000:03d}" in res["sentence"] for y in range(1990, 2021))


def test_charts_are_plain_figures_outside_pyplot():
    """Helpers' charts never join pyplot's figure list: a notebook shows each once (display),
    the inline backend never shows it again at the end of the cell."""
    import matplotlib
    import matplotlib.pyplot as plt

    from helpers.present import plots

    backend = matplotlib.get_backend()
    before = plt.get_fignums()
    recon = pd.DataFrame({"rule": ["raw", "test", "excluded", "kept"],
                          "accounts": [10, 2, 2, 8]})
    fig = plots.reconciliation_bars(recon)
    assert plt.get_fignums() == before and fig.canvas.manager is None
    assert matplotlib.get_backend() == backend  # importing helpers.present.plots picked no backend
    from helpers.present.report import figure

    assert figure(fig, caption="c", alt="a")["src"].startswith("data:image/png;base64,")


def test_inline_charts_only_inside_a_kernel():
    from helpers.run.session import inline_charts

    assert inline_charts() is False  # plain Python (pytest): nothing switched


@pytest.mark.parametrize("n_groups,label", [(4, "quartile"), (10, "decile")])
def test_explorer_view_names_its_groups(n_groups, label):
    from helpers.analyse import explorer
    from helpers.analyse.verdicts import explore, planted_example

    table, hyps = planted_example(400, seed=3)
    var = hyps["variable"].iloc[0]
    res = explore(table, var, hyps["kind"].iloc[0], n_groups=n_groups)
    html = explorer.explorer_html(res, label)
    assert f"{label} (best first)" not in html  # the label is in the chart, not the text
    assert f" by {label}" in html and html.count("<table") == 1
    assert len(explorer.explorer_profile(res).columns) == n_groups  # one column per score group

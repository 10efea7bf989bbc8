"""The report framework (helpers.present.report): escaping, CSP, blocks, formatting."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from helpers.present import report as R

EVIL = '<script>alert(1)</script>"\'&'


def _render(*blocks: dict) -> str:
    sec = R.Section("s1", EVIL).add(*blocks)
    return R.render(EVIL, [EVIL], [sec], footer=[EVIL])


def test_every_block_kind_escapes_user_text():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    html = _render(R.p(EVIL), R.lead(EVIL), R.h3(EVIL), R.note(EVIL), R.warning(EVIL),
                   R.pre(EVIL), R.bullets([EVIL]), R.cards([(EVIL, EVIL, "#0072B2")]),
                   R.legend([(EVIL, "#BBBBBB")]), R.links([(EVIL, "notebooks/a.html")]),
                   R.table(pd.DataFrame({EVIL: [EVIL]}), caption=EVIL),
                   R.figure(fig, caption=EVIL, alt=EVIL))
    assert "<script" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 15
    assert "default-src 'none'" in html


def test_links_and_colours_are_validated():
    for bad in ("http://x.example", "https://x.example", "//x.example", "javascript:alert(1)",
                " data:text/html,hi"):
        with pytest.raises(ValueError):
            R.links([("x", bad)])
    with pytest.raises(ValueError):
        R.cards([("a", "b", "red; background:url(http://x)")])
    with pytest.raises(ValueError):
        R.legend([("a", "#12345")])


def test_table_formats_and_truncation():
    df = pd.DataFrame({"share": [0.25, 0.5, 0.125], "n": [1000, 2, 3], "name": ["a", "b", "c"]})
    b = R.table(df, max_rows=2, formats={"share": R.fmt_pct})
    assert b["rows"][0] == [("25 %", True), ("1,000", True), ("a", False)]
    assert "first 2 of 3 rows" in b["caption"]


def test_figure_is_a_png_data_uri():
    fig, ax = plt.subplots()
    ax.bar([1, 2], [3, 4])
    b = R.figure(fig, caption="c", alt="a")
    assert re.match(r"^data:image/png;base64,[A-Za-z0-9+/=]+$", b["src"])


def test_formatters():
    assert R.fmt_money(1_234_567) == "$1.2M"
    assert R.fmt_money(45_168, "EUR") == "€45k"
    assert R.fmt_money(-950) == "-$950"
    assert R.fmt_pct(0.2166) == "22 %"
    assert R.fmt_pct(float("nan")) == "–"
    assert R.fmt_num(1399) == "1,399"

"""The report framework (helpers.present.report): escaping, CSP, blocks, formatting."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from helpers.present import report

EVIL = '<script>alert(1)</script>"\'&'


def _render(*blocks: dict) -> str:
    sec = report.Section("s1", EVIL).add(*blocks)
    return report.render(EVIL, [EVIL], [sec], footer=[EVIL])


def test_every_block_kind_escapes_user_text():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    html = _render(report.p(EVIL), report.lead(EVIL), report.h3(EVIL), report.note(EVIL),
                   report.warning(EVIL), report.pre(EVIL), report.bullets([EVIL]),
                   report.cards([(EVIL, EVIL, "#0072B2")]),
                   report.legend([(EVIL, "#BBBBBB")]), report.links([(EVIL, "notebooks/a.html")]),
                   report.table(pd.DataFrame({EVIL: [EVIL]}), caption=EVIL),
                   report.figure(fig, caption=EVIL, alt=EVIL))
    assert "<script" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 15
    assert "default-src 'none'" in html


def test_links_and_colours_are_validated():
    for bad in ("http://x.example", "https://x.example", "//x.example", "javascript:alert(1)",
                " data:text/html,hi"):
        with pytest.raises(ValueError):
            report.links([("x", bad)])
    with pytest.raises(ValueError):
        report.cards([("a", "b", "red; background:url(http://x)")])
    with pytest.raises(ValueError):
        report.legend([("a", "#12345")])


def test_table_formats_and_truncation():
    df = pd.DataFrame({"share": [0.25, 0.5, 0.125], "n": [1000, 2, 3], "name": ["a", "b", "c"]})
    b = report.table(df, max_rows=2, formats={"share": report.fmt_pct})
    assert b["rows"][0] == [("25 %", True), ("1,000", True), ("a", False)]
    assert "first 2 of 3 rows" in b["caption"]


def test_figure_is_a_png_data_uri():
    fig, ax = plt.subplots()
    ax.bar([1, 2], [3, 4])
    b = report.figure(fig, caption="c", alt="a")
    assert re.match(r"^data:image/png;base64,[A-Za-z0-9+/=]+$", b["src"])


def test_formatters():
    assert report.fmt_money(1_234_567) == "$1.2M"
    assert report.fmt_money(45_168, "EUR") == "€45k"
    assert report.fmt_money(-950) == "-$950"
    assert report.fmt_pct(0.2166) == "22 %"
    assert report.fmt_pct(float("nan")) == "–"
    assert report.fmt_num(1399) == "1,399"

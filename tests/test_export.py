"""The formula guard of spreadsheet exports: user text that could execute is neutralised, the
workbook's own codes (direction "+" / "-") and signed numbers come out as written."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.core.export import neutralise, neutralise_frame, safe_csv

KEPT = ["+", "-", "-12.5", "+3", "-0.001", "+1e5", "Acme", "", "a=b", "x-y"]
NEUTRALISED = ["=1+1", "+A1", "-A1", "-cmd|' /C calc'!A0", "@SUM(A1:A9)", "\t=1+1", "\r=1+1",
               "+-", "--1", "-2+3", "+ ", "=HYPERLINK(\"http://x\")"]


@pytest.mark.parametrize("value", KEPT)
def test_codes_and_signed_numbers_come_out_as_written(value):
    assert neutralise(value) == value


@pytest.mark.parametrize("value", NEUTRALISED)
def test_text_that_could_execute_is_prefixed(value):
    assert neutralise(value) == "'" + value


def test_direction_codes_survive_the_csv_round_trip(tmp_path):
    df = pd.DataFrame({"expected_direction": ["+", "-", "+"], "direction": ["+", "", "-"],
                       "statement": ["=cmd|' /C calc'!A0", "ok", "-12.5"]})
    out = neutralise_frame(df)
    assert out["expected_direction"].tolist() == ["+", "-", "+"]
    assert out["direction"].tolist() == ["+", "", "-"]
    assert out["statement"].tolist() == ["'=cmd|' /C calc'!A0", "ok", "-12.5"]
    back = pd.read_csv(safe_csv(df, tmp_path / "v.csv"), encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)
    assert back["expected_direction"].tolist() == ["+", "-", "+"]
    assert back["direction"].tolist() == ["+", "", "-"]

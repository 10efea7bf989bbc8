"""Exports meant for spreadsheets: safe against formula injection (CSV and XLSX)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix a text cell that a spreadsheet would read as a formula with a single quote.

    Numbers stay numbers; only strings starting with = + - @ TAB or CR are changed
    (OWASP's CSV-injection guidance). A negative number stored as text ("-5") is left alone.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            float(value)
            return value
        except ValueError:
            return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell neutralised (column names too)."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        try:  # one vectorised prefix test; the Python check only on the (few) matches
            hit = s.str.startswith(_FORMULA_START).fillna(False).to_numpy(dtype=bool)
        except (AttributeError, TypeError):  # an object column without text
            out[col] = s.map(neutralise, na_action="ignore")
            continue
        if hit.any():
            fixed = s.astype(object)
            fixed.iloc[hit] = [neutralise(v) for v in fixed.iloc[hit]]
            out[col] = fixed
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def safe_csv(df: pd.DataFrame, path: str | os.PathLike, **kwargs) -> Path:
    """Write a formula-injection-safe CSV (UTF-8 with BOM so Excel reads accents)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    neutralise_frame(df).to_csv(path, index=False, encoding="utf-8-sig", **kwargs)
    return path


def safe_xlsx(sheets: dict[str, pd.DataFrame], path: str | os.PathLike) -> Path:
    """Write several tables to one XLSX workbook, every text cell neutralised."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # XlsxWriter: ~1.5x faster than openpyxl for the 20k-row sheets; told never to turn text
    # into formulas, links or numbers (text is also neutralised above)
    options = {"strings_to_formulas": False, "strings_to_urls": False,
               "strings_to_numbers": False}
    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": options}) as writer:
        for name, df in sheets.items():
            neutralise_frame(df).to_excel(writer, sheet_name=name[:31], index=False)
    return path

"""Exports meant for spreadsheets: safe against formula injection (CSV and XLSX)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SIGNS = ("+", "-")  # a cell that is just a sign is a code (direction), never a formula


def neutralise(value: object) -> object:
    """Prefix a text cell that a spreadsheet would read as a formula with a single quote.

    Numbers stay numbers; only strings starting with = + - @ TAB or CR are changed
    (OWASP's CSV-injection guidance). A signed number stored as text ("-5", "+3") and a lone
    sign ("+" / "-", the workbook's direction codes) are not formulas and are left alone.

    Parameters
    ----------
    value
        One cell.

    Returns
    -------
    object
        The cell, a formula-like text prefixed with ``'``.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        if value in _SIGNS:
            return value
        try:
            float(value)
            return value
        except ValueError:
            return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell neutralised (column names too).

    Parameters
    ----------
    df
        Any table.

    Returns
    -------
    DataFrame
        The neutralised copy (``df`` is unchanged).
    """
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
    """Write a formula-injection-safe CSV (UTF-8 with BOM so Excel reads accents).

    Parameters
    ----------
    df
        The table.
    path
        The CSV file to write.
    **kwargs
        Passed to :meth:`pandas.DataFrame.to_csv`.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    neutralise_frame(df).to_csv(path, index=False, encoding="utf-8-sig", **kwargs)
    return path


#: words in a column name that mark a share (formatted as a percentage) or an amount of money
PERCENT_WORDS = frozenset({"share", "capture", "rate", "growth", "pct", "percent",
                           "concentration"})
MONEY_WORDS = frozenset({"mrr", "arr", "revenue", "acv", "value", "score", "money", "amount",
                         "price", "usd"})
_NOT_MONEY = frozenset({"rank", "ratio", "count", "n", "accounts", "band"})


def column_kind(name: object, dtype: object) -> str:
    """How a spreadsheet column is formatted: "percent", "money", "integer", "number" or
    "text", from its dtype and the words of its name ("share_top" -> percent, "mean_acv" ->
    money, "score_rank" -> integer).

    Parameters
    ----------
    name
        The column name.
    dtype
        Its dtype.

    Returns
    -------
    str
        One of the five kinds.
    """
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        return "text"
    words = set(re.split(r"[^a-z0-9]+", str(name).lower()))
    if words & PERCENT_WORDS:
        return "percent"
    if words & MONEY_WORDS and not words & _NOT_MONEY:
        return "money"
    return "integer" if pd.api.types.is_integer_dtype(dtype) else "number"


def _number_formats(currency: str) -> dict[str, str]:
    money = f'#,##0 "{currency}"' if currency else "#,##0"
    return {"percent": "0.0%", "money": money, "integer": "#,##0", "number": "#,##0.00##"}


def _width(df: pd.DataFrame, col: object, sample: int = 500) -> float:
    """A column width (characters) that fits the header and the first ``sample`` values."""
    head = df[col].head(sample)
    cells = head.astype("string").fillna("").str.len()
    longest = int(cells.max()) if len(cells) else 0
    return float(min(60, max(8, len(str(col)) + 2, longest + 2)))


def safe_xlsx(sheets: dict[str, pd.DataFrame], path: str | os.PathLike, *,
              contents: dict[str, str] | None = None, currency: str = "") -> Path:
    """Write several tables to one XLSX workbook, every text cell neutralised.

    Every sheet has a frozen header row, filters on its columns, widths fitted to its
    content and number formats by :func:`column_kind` (money with ``currency``, percent,
    integer). ``contents`` (sheet name -> description) adds a first sheet "contents" that
    lists and links every sheet with its row count.

    Parameters
    ----------
    sheets
        Sheet name -> table, in order.
    path
        The XLSX file to write.
    contents
        Sheet name -> description, for the "contents" sheet (None: no such sheet).
    currency
        The currency code shown in money formats.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # XlsxWriter: ~1.5x faster than openpyxl for the 20k-row sheets; told never to turn text
    # into formulas, links or numbers (text is also neutralised above)
    options = {"strings_to_formulas": False, "strings_to_urls": False,
               "strings_to_numbers": False}
    tables = {name[:31]: neutralise_frame(df) for name, df in sheets.items()}
    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": options}) as writer:
        book = writer.book
        fmts = {k: book.add_format({"num_format": v})
                for k, v in _number_formats(currency).items()}
        if contents is not None:
            toc = pd.DataFrame({"sheet": list(tables),
                                "what it holds": [neutralise(contents.get(n, "")) for n in
                                                  tables],
                                "rows": [len(df) for df in tables.values()]})
            toc.to_excel(writer, sheet_name="contents", index=False)
            ws = writer.sheets["contents"]
            link = book.add_format({"font_color": "blue", "underline": 1})
            for i, name in enumerate(tables, start=1):
                ws.write_url(i, 0, f"internal:'{name}'!A1", link, string=name)
            _dress(ws, toc, fmts)
        for name, df in tables.items():
            df.to_excel(writer, sheet_name=name, index=False)
            _dress(writer.sheets[name], df, fmts)
    return path


def _dress(ws, df: pd.DataFrame, fmts: dict) -> None:
    """Frozen header, filters, column widths and number formats on one written sheet."""
    ws.freeze_panes(1, 0)
    if len(df.columns):
        ws.autofilter(0, 0, max(len(df), 1), len(df.columns) - 1)
    for j, col in enumerate(df.columns):
        kind = column_kind(col, df[col].dtype)
        ws.set_column(j, j, _width(df, col), fmts.get(kind))

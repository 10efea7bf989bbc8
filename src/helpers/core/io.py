"""Reading input files (method Step 1 customer list, Step 3 data sources) into canonical columns.

``read_table`` reads CSV / XLSX / Parquet, finds the encoding and delimiter of a CSV, and
renames the file's columns to the workbook's canonical names (docs/architecture.md) with a
preset (``presets/*.yaml``: Salesforce, HubSpot, generic) plus the explicit ``mapping`` of
the parameter file. The ``parse_*`` and ``normalise_*`` functions turn messy CRM text into
numbers, money in the base currency, dates, web domains and name keys, vectorised, and
report every value they could not read instead of dropping it.

Row numbers in errors and warnings are *file* row numbers: the header is row 1, the first
data row is row 2 (as a spreadsheet shows them).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io as _io
import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from helpers.core.errors import InputDataError
from helpers.core.params import Source
from helpers.core.paths import resolve

PRESETS = ("generic", "salesforce", "hubspot")
PRESET_DIR = Path(__file__).with_name("presets")
DELIMITERS = (",", ";", "\t", "|")
SNIFF_BYTES = 1 << 16
FIRST_DATA_ROW = 2  # file row number of the first data row (header = row 1)

# Default date formats, tried in order: ISO first (strict, any ISO 8601 variant), then the
# common export formats. Day-first before month-first: ambiguous dates like 03/04/2026 are
# read as 3 April; pass ``formats`` explicitly for a US (month-first) export.
DEFAULT_DATE_FORMATS: tuple[str, ...] = (
    "ISO8601", "%Y/%m/%d", "%Y-%m", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y",
    "%d %b %Y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y", "%d/%m/%y", "%m/%d/%y",
)
_MONTH_FIRST_DROPS = ("%d/%m/%Y", "%d/%m/%y")  # formats skipped for a month-first column
# A time of day after a date ("3/15/2024 10:00 AM", "2024-03-15 10:00:00+02:00"): dates are
# read as written, so the time (and any zone) is dropped before a strftime format is tried.
_TIME_TAIL = (r"(?i)[ T]+\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[ap]\.?m\.?)?"
              r"\s*(?:z|utc|gmt|[+-]\d{2}:?\d{2}|[a-z]{2,5})?$")
# A zone designator after an ISO time: removed so the date stays the local date as written.
_ZONE_TAIL = r"(?i)(\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?:z|utc|gmt|[+-]\d{2}(?::?\d{2})?)$"
# Day-number dates: spreadsheet serials and "days since <epoch>" (SAS, Stata, exports).
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_DAYS_SINCE = re.compile(r"^\s*days\s+since\s+(\d{4}-\d{2}-\d{2})\s*$", re.IGNORECASE)
DAY_NUMBER_HINT = ("for day numbers set `date_format: excel` (spreadsheet serial numbers, "
                   "e.g. 45566 = 2024-10-01) or `date_format: \"days since 1960-01-01\"` "
                   "(any epoch) on this input")

MISSING_TOKENS = ("", "nan", "none", "null", "n/a", "na", "-", "--", "#n/a")
CURRENCY_SYMBOLS = {"US$": "USD", "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR",
                    "CHF": "CHF"}
SUFFIX_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "mio": 1e6,
                      "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
LEGAL_SUFFIXES = (
    "inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "gmbh", "ag", "kg", "sa", "sas",
    "sarl", "srl", "spa", "bv", "nv", "plc", "corp", "corporation", "co", "company", "pty",
    "pte", "oy", "ab", "as", "aps", "kk", "se", "sl", "sro", "ug", "holding", "holdings",
)


def file_rows(index: pd.Index | Sequence[int]) -> list[int]:
    """File row numbers (header = 1) of positional row labels of a table read by read_table.

    Parameters
    ----------
    index
        Positional row labels (0 = the first data row).

    Returns
    -------
    list of int
        The file row numbers (0 -> 2).
    """
    return [int(i) + FIRST_DATA_ROW for i in index]


# --------------------------------------------------------------------------- presets
def _key(name: object) -> str:
    """Comparison key of a column name: casefolded, letters and digits only."""
    return re.sub(r"[^0-9a-z]+", "", str(name).casefold())


@cache
def load_preset(name: str) -> dict[str, tuple[str, ...]]:
    """The preset ``name``: canonical column -> accepted file column names (first wins).

    Parameters
    ----------
    name
        A preset of ``core/presets/`` (``generic``, ``salesforce``, ``hubspot``).

    Returns
    -------
    dict
        Canonical column -> accepted file column names.
    """
    if name not in PRESETS:
        raise InputDataError(f"unknown column preset '{name}'", hint=f"use one of {PRESETS}")
    raw = yaml.safe_load((PRESET_DIR / f"{name}.yaml").read_text(encoding="utf-8")) or {}
    return {str(k): tuple(str(v) for v in vals) for k, vals in raw.items()}


def _match_preset(columns: Sequence[str], preset: dict[str, tuple[str, ...]],
                  taken: set[str]) -> dict[str, str]:
    """canonical -> file column for every canonical name the file has (first accepted wins)."""
    by_key: dict[str, str] = {}
    for col in columns:
        by_key.setdefault(_key(col), col)
    out: dict[str, str] = {}
    for canonical, accepted in preset.items():
        if canonical in taken:
            continue
        for name in (canonical, *accepted):
            col = by_key.get(_key(name))
            if col is not None and col not in out.values():
                out[canonical] = col
                break
    return out


def column_mapping(columns: Sequence[str], source: Source, *,
                   what: str = "table") -> dict[str, str]:
    """canonical -> file column: the explicit ``mapping`` first, then the preset.

    ``preset: null`` picks the preset that recognises the most columns (generic on a tie).
    A mapping entry naming a column the file lacks is an error (with the closest name).

    Parameters
    ----------
    columns
        The file's column names.
    source
        The input (its ``mapping`` and ``preset``).
    what
        The input's name in error messages.

    Returns
    -------
    dict
        Canonical name -> file column, for the columns found.

    Raises
    ------
    InputDataError
        A mapping entry names a column the file lacks.
    """
    explicit: dict[str, str] = {}
    by_key = {_key(c): c for c in columns}
    for canonical, col in source.mapping.items():
        found = col if col in columns else by_key.get(_key(col))
        if found is None:
            raise _missing_error(source, what, canonical, [col], columns, explicit=True)
        explicit[canonical] = found
    names = [source.preset] if source.preset else list(PRESETS)
    best: dict[str, str] = {}
    for name in names:
        matched = _match_preset([c for c in columns if c not in explicit.values()],
                                load_preset(name), set(explicit))
        if len(matched) > len(best):
            best = matched
    return {**best, **explicit}


def _missing_error(source: Source, what: str, canonical: str, expected: Sequence[str],
                   columns: Sequence[str], explicit: bool = False) -> InputDataError:
    keys = {_key(c): c for c in columns}
    close = None
    for name in expected:
        hit = difflib.get_close_matches(_key(name), list(keys), n=1, cutoff=0.5)
        if hit:
            close = keys[hit[0]]
            break
    if close is None:
        hit = difflib.get_close_matches(_key(canonical), list(keys), n=1, cutoff=0.5)
        close = keys[hit[0]] if hit else None
    exp = ", ".join(f"'{e}'" for e in expected[:6])
    how = "the mapping names" if explicit else "expected a column like"
    msg = (f"{what}: no column for '{canonical}' ({how} {exp})"
           + (f"; closest column in the file: '{close}'" if close else ""))
    hint = (f"set inputs.{what}.mapping.{canonical}: '{close or '<column in the file>'}' in the "
            f"parameter file (columns in the file: {', '.join(map(str, columns[:30]))})")
    return InputDataError(msg, file=str(source.path), column=canonical, hint=hint)


# --------------------------------------------------------------------------- raw reading
def _detect_encoding(path: Path) -> str:
    head = path.open("rb").read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # a multi-byte character may be cut at the end of the sample
        head.decode("utf-8") if len(head) < SNIFF_BYTES else head[:-4].decode("utf-8")
    except UnicodeDecodeError:
        try:  # Excel on Windows: cp1252 (latin-1 plus €, curly quotes, ...)
            head.decode("cp1252")
        except UnicodeDecodeError:
            return "latin-1"
        return "cp1252"
    return "utf-8"


def _sniff_delimiter(text: str) -> str:
    """The candidate delimiter giving the most columns consistently over the first lines
    (title lines above the header, shorter than the table, are not counted)."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if len(text) >= SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # last line may be cut
    best, best_cols = ",", 1
    for delim in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(lines, delimiter=delim)]
        except csv.Error:
            continue
        if not widths:
            continue
        width = max(sorted(set(widths)), key=widths.count)
        lead = next((i for i, w in enumerate(widths) if w >= width), 0)
        rest = widths[lead:]
        if width < 2 or lead > 10:
            continue
        consistent = sum(w == width for w in rest) / len(rest)
        if consistent >= 0.9 and width > best_cols:
            best, best_cols = delim, width
    return best


def _title_lines(text: str, delimiter: str) -> tuple[list[int], int, list[str]] | None:
    """(file rows of title lines above the header, file row of the header, its names) when
    the first lines of a CSV are shorter than the table below them; None otherwise."""
    raw = text.splitlines()[:60]
    numbered = [(i + 1, ln) for i, ln in enumerate(raw) if ln.strip()]
    if len(numbered) < 3:
        return None
    try:
        rows = list(csv.reader([ln for _, ln in numbered], delimiter=delimiter))
    except csv.Error:
        return None
    lengths = [len(r) for r in rows]
    width = max(sorted(set(lengths)), key=lengths.count)  # the table's width
    header = next((k for k, n in enumerate(lengths) if n >= width), None)
    if header is None or header == 0 or header > 10 or width < 2:
        return None
    return [n for n, _ in numbered[:header]], numbered[header][0], rows[header]


def _header_names(path: Path, fmt: str, *, encoding: str = "utf-8", sep: str = ",",
                  sheet: str | int = 0, skip: int = 0) -> list[str]:
    """The column names of the header row exactly as written (pandas renames a repeated
    name 'MRR' to 'MRR.1'; this does not)."""
    try:
        if fmt == "csv":
            head = pd.read_csv(path, header=None, nrows=1, skiprows=skip, dtype=str, sep=sep,
                               encoding=encoding, keep_default_na=False,
                               encoding_errors="replace")
        else:
            head = pd.read_excel(path, header=None, nrows=1, skiprows=skip, sheet_name=sheet)
    except Exception:  # noqa: BLE001 - the main read reports any problem with the file
        return []
    return [str(c).strip().lstrip("\ufeff") for c in head.iloc[0].tolist()
            if not (isinstance(c, float) and np.isnan(c))] if len(head) else []


def _refuse_repeated_names(names: Sequence[str], path: Path) -> None:
    dupes = sorted({c for c in names if c and list(names).count(c) > 1})
    if dupes:
        raise InputDataError(f"duplicate column names {dupes}", file=str(path),
                             hint="rename the columns so each name appears once")


def _read_csv(path: Path, source: Source) -> pd.DataFrame:
    encoding = source.encoding or _detect_encoding(path)
    with path.open("rb") as fh:
        sample = fh.read(SNIFF_BYTES)
    try:
        text = sample.decode(encoding, errors="ignore")
    except LookupError:
        raise InputDataError(f"unknown encoding '{encoding}'", file=str(path),
                             hint="use e.g. utf-8, utf-8-sig, utf-16 or latin-1") from None
    if not text.strip():
        raise InputDataError("the file is empty", file=str(path),
                             hint="export the table again with its header row and data")
    skip = (source.header_row or 1) - 1
    body = "\n".join(text.lstrip("\ufeff").splitlines()[skip:])
    delimiter = source.delimiter or _sniff_delimiter(body)
    if source.header_row is None:
        title = _title_lines(body, delimiter)
        if title is not None:
            rows, header, names = title
            raise InputDataError(
                f"the header is not on the first row: row(s) {rows} are title lines above "
                f"the table and row {header} looks like the header "
                f"({', '.join(n for n in names[:8])})", file=str(path), rows=rows,
                hint=f"set `header_row: {header}` on this input in the parameter file (or "
                     f"delete {'row 1' if header == 2 else f'rows 1-{header - 1}'} and save "
                     "the export again)")
    _refuse_repeated_names(_header_names(path, "csv", encoding=encoding, sep=delimiter,
                                         skip=skip), path)
    kwargs = dict(sep=delimiter, dtype=str, keep_default_na=False, skipinitialspace=False,
                  skiprows=skip)
    try:
        df = pd.read_csv(path, encoding=encoding, **kwargs)
    except UnicodeDecodeError:
        if source.encoding:
            raise InputDataError(f"the file is not valid {encoding}", file=str(path),
                                 hint="fix `encoding` in the parameter file or remove it "
                                      "to auto-detect") from None
        df = pd.read_csv(path, encoding="latin-1", **kwargs)
    except pd.errors.EmptyDataError:
        raise InputDataError("the file is empty", file=str(path),
                             hint="export the table again with its header row") from None
    except pd.errors.ParserError as exc:
        raise InputDataError(f"cannot parse the CSV: {exc}", file=str(path),
                             hint="check the delimiter and quoting; set `delimiter` in the "
                                  "parameter file") from None
    if df.shape[1] == 1:
        header = str(df.columns[0])
        other = [d for d in DELIMITERS if d != delimiter and d in header]
        if other:
            names = {"\t": "tab"}
            found, used = names.get(other[0], other[0]), names.get(delimiter, delimiter)
            raise InputDataError(
                f"the file reads as one column: its header '{header[:80]}' looks separated by "
                f"'{found}', not '{used}'", file=str(path),
                hint=f"set `delimiter: {other[0]!r}` on this input in the parameter file, or "
                     "remove `delimiter` to detect it")
    return df


def _read_xlsx(path: Path, source: Source) -> pd.DataFrame:
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001 - any reader failure becomes an input error
        raise InputDataError(f"cannot open the workbook: {exc}", file=str(path)) from None
    sheets = book.sheet_names
    sheet = source.sheet
    if sheet is None:
        if len(sheets) != 1:
            raise InputDataError(f"the workbook has {len(sheets)} sheets and none was chosen: "
                                 f"{sheets}", file=str(path),
                                 hint=f"set `sheet: {sheets[0] if sheets else '<name>'}` on "
                                      "this input in the parameter file")
        sheet = sheets[0]
    elif isinstance(sheet, str) and sheet not in sheets:
        close = difflib.get_close_matches(sheet, sheets, n=1)
        raise InputDataError(f"no sheet '{sheet}' in the workbook (sheets: {sheets})",
                             file=str(path), hint=f"did you mean '{close[0]}'?" if close
                             else "set `sheet` to one of the sheets listed")
    elif isinstance(sheet, int) and not 0 <= sheet < len(sheets):
        raise InputDataError(f"sheet index {sheet} out of range (sheets: {sheets})",
                             file=str(path))
    skip = (source.header_row or 1) - 1
    _refuse_repeated_names(_header_names(path, "xlsx", sheet=sheet, skip=skip), path)
    df = pd.read_excel(book, sheet_name=sheet, skiprows=skip)
    return df


_UNNAMED = re.compile(r"^Unnamed: \d+(_level_\d+)?$")


def _check_header_row(df: pd.DataFrame, path: Path, scan: int = 10, skip: int = 0) -> None:
    """Refuse a table whose header is not on its first row (a title row or merged header
    cells above it): blank header cells, and a data row below that looks like a header."""
    unnamed = [c for c in df.columns if _UNNAMED.match(str(c))]
    if not unnamed or df.shape[1] < 2:
        return
    head = df.head(scan).astype("string").apply(lambda col: col.str.strip())
    filled = head.notna() & (head != "")
    numeric = head.apply(lambda col: pd.to_numeric(col, errors="coerce")).notna()
    looks = filled.all(axis=1) & ~numeric.any(axis=1) & (head.nunique(axis=1) == df.shape[1])
    if looks.any():
        pos = int(np.flatnonzero(looks.to_numpy())[0])
        row = pos + FIRST_DATA_ROW + skip
        raise InputDataError(
            f"the header is not on the first row: row {skip + 1} has {len(unnamed)} blank "
            f"header cell(s) (a title or merged header cells) and row {row} looks like the "
            f"header ({', '.join(map(str, head.iloc[pos].tolist()[:8]))})",
            file=str(path), rows=list(range(1, row)),
            hint=f"set `header_row: {row}` on this input in the parameter file, or delete "
                 f"rows 1-{row - 1} (or unmerge the header cells) so that the column names "
                 "are on row 1, and save the export again")


def read_source_frame(source: Source) -> pd.DataFrame:
    """The file of ``source`` as it is (file column names, CSV cells as text).

    Parameters
    ----------
    source
        The input (path, format, sheet, encoding, delimiter, header row).

    Returns
    -------
    DataFrame
        The file's table, columns as in the file.

    Raises
    ------
    InputDataError
        The file is missing, empty, unreadable or mis-encoded (naming the file).
    """
    path = resolve(source.path)
    if not path.is_file():
        raise InputDataError("input file not found", file=str(path),
                             hint="check `path` in the parameter file (relative paths start "
                                  "at the project root)")
    fmt = source.format
    if fmt == "auto":
        suffix = path.suffix.lower()
        fmt = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
               ".parquet": "parquet", ".pq": "parquet"}.get(suffix)
        if fmt is None:
            raise InputDataError(f"cannot tell the format from the suffix '{suffix}'",
                                 file=str(path), hint="set `format: csv|xlsx|parquet`")
    if path.stat().st_size == 0:
        raise InputDataError("the file is empty", file=str(path),
                             hint="export the table again with its header row and data")
    if fmt == "csv":
        df = _read_csv(path, source)
    elif fmt == "xlsx":
        df = _read_xlsx(path, source)
    else:
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001
            raise InputDataError(f"cannot read the Parquet file: {exc}", file=str(path)) from None
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    _check_header_row(df, path, skip=(source.header_row or 1) - 1)
    _refuse_repeated_names(list(df.columns), path)
    if df.shape[1] == 0:
        raise InputDataError("the file has no columns", file=str(path))
    df = df.reset_index(drop=True)
    df, footer = split_footer(df)
    footer = [(row + (source.header_row or 1) - 1, text) for row, text in footer]
    if len(df) == 0:
        raise InputDataError("the file has a header but no data rows", file=str(path),
                             hint=f"columns found: {list(df.columns)}; export the data again")
    df.attrs["not_data_rows"] = footer
    return df


# A report footer's first cell: Salesforce "Grand Totals (300 records)", "Confidential
# Information - Do Not Distribute", "Copyright (c) 2000-2026 salesforce.com, inc.",
# "Generated By: ...", HubSpot / spreadsheet "Total", "Report generated on ...".
_FOOTER = re.compile(
    r"^\s*(?:grand\s+totals?|sub-?totals?|totals?\b|copyright\b|©|\(c\)\s*\d{4}|"
    r"generated\s+(?:by|on|at)\b|report\s+(?:generated|run|created)|confidential\b|"
    r"filtered\s+by\b|\d[\d,]*\s+records?\b|records?\s*:|end\s+of\s+report)",
    re.IGNORECASE)


def split_footer(df: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """(the table without its trailing report footer, [(file row, first text) of each
    footer row]). The footer is the block of rows at the end that are blank, or whose first
    non-blank cell reads like a footer (:data:`_FOOTER`) with at most half the cells filled,
    with any one-cell lines below one of those (a company name under "Generated By"). Rows
    above it are never touched.

    Parameters
    ----------
    df
        A table as read (text cells).

    Returns
    -------
    tuple
        The table without the footer, and the footer rows as (file row, first text).
    """
    if not len(df):
        return df, []
    tail = df.tail(60).astype("string").apply(lambda col: col.str.strip())
    filled = (tail.notna() & (tail != "")).fillna(False).to_numpy(dtype=bool)
    n_filled = filled.sum(axis=1)
    first = [str(r[f][0]) if f.any() else "" for r, f in
             zip(tail.to_numpy(dtype=object), filled, strict=True)]
    sparse = n_filled <= max(2, df.shape[1] // 2)  # a full row is data ("Total Wine & More")
    footer_like = np.array([bool(_FOOTER.match(x)) for x in first]) & sparse
    run = 0  # rows at the end that are blank, footer-like or one-cell lines
    for k in range(len(tail) - 1, -1, -1):
        if n_filled[k] == 0 or footer_like[k] or n_filled[k] == 1:
            run += 1
        else:
            break
    start = len(tail) - run
    while start < len(tail) and not (n_filled[start] == 0 or footer_like[start]):
        start += 1  # a one-cell line at the top of the run is data (reported elsewhere)
    block = range(start, len(tail))
    if not len(block) or not (footer_like[start:].any() or (n_filled[start:] == 0).all()):
        return df, []
    cut = len(df) - len(block)
    rows = [(cut + i + FIRST_DATA_ROW, first[start + i]) for i in range(len(block))]
    return df.iloc[:cut].copy(), rows


def read_table(source: Source, *, what: str = "table", required: Sequence[str] = (),
               numeric: Sequence[str] = (), dates: Sequence[str] = (),
               date_formats: Sequence[str] | None = None) -> pd.DataFrame:
    """Read ``source`` and rename its columns to canonical names (preset + explicit mapping).

    ``required`` canonical columns must exist (else InputDataError naming the file, the missing
    name, the expected file column and the closest existing one). ``numeric`` / ``dates``
    canonical columns, where present, are parsed with :func:`parse_number` /
    :func:`parse_dates`; values that cannot be read become NaN/NaT and are listed in
    ``df.attrs["warnings"]`` (never dropped). Unmapped columns keep their file names.

    Parameters
    ----------
    source
        The input.
    what
        Its name in error messages (``accounts``, ``survey`` ...).
    required
        Canonical columns that must exist.
    numeric
        Canonical columns parsed as numbers, where present.
    dates
        Canonical columns parsed as dates, where present.
    date_formats
        The formats tried for ``dates`` (None: :func:`parse_dates`' defaults).

    Returns
    -------
    DataFrame
        The table with canonical column names; ``attrs`` hold its ``warnings`` (unreadable
        values, footer rows not read), ``not_data_rows``, ``source`` and ``mapping``.
    """
    df = read_source_frame(source)
    cols = list(df.columns)
    mapping = column_mapping(cols, source, what=what)
    preset = load_preset(source.preset or "generic")
    for canonical in required:
        if canonical not in mapping:
            expected = [source.mapping[canonical]] if canonical in source.mapping else \
                list(preset.get(canonical, (canonical,)))
            raise _missing_error(source, what, canonical, expected, cols)
    renamed: dict[str, str] = {}
    shared: dict[str, str] = {}  # a second canonical name served by the same column
    for canonical, col in mapping.items():
        if col in renamed:
            shared[canonical] = renamed[col]
        else:
            renamed[col] = canonical
    # an unmapped column whose name is already a canonical name in use keeps a suffix
    taken = set(renamed.values()) | set(shared)
    for col in cols:
        if col not in renamed and col in taken:
            renamed[col] = f"{col}__file"
    footer = df.attrs.get("not_data_rows", [])
    df = df.rename(columns=renamed)
    for canonical, first in shared.items():
        df[canonical] = df[first]
    warnings: list[str] = []
    if footer:
        shown = "; ".join(f"row {row} '{text[:60]}{'…' if len(text) > 60 else ''}'"
                          if text else f"row {row} (blank)"
                          for row, text in footer[:6])
        more = f" (+{len(footer) - 6} more)" if len(footer) > 6 else ""
        warnings.append(f"{what}: {len(footer)} row(s) at the end of the file are not data (a "
                        f"report footer or blank lines) and were not read: {shown}{more}")
    for col in numeric:
        if col in df.columns:
            df[col], bad = parse_number(df[col])
            if len(bad):
                warnings.append(_bad_msg(what, col, mapping.get(col, col), bad, df, "number"))
    for col in dates:
        if col in df.columns:
            df[col], bad = parse_dates(df[col], date_formats)
            if len(bad):
                warnings.append(_bad_msg(what, col, mapping.get(col, col), bad, df, "date"))
    df.attrs["warnings"] = warnings
    df.attrs["not_data_rows"] = footer
    df.attrs["source"] = str(resolve(source.path))
    df.attrs["mapping"] = mapping
    return df


def _bad_msg(what: str, col: str, file_col: str, bad: pd.Index, df: pd.DataFrame,
             kind: str) -> str:
    rows = file_rows(bad[:10])
    more = f" (+{len(bad) - 10} more)" if len(bad) > 10 else ""
    return (f"{what}: {len(bad)} value(s) of '{file_col}' ({col}) are not a readable {kind}; "
            f"left empty. File rows: {rows}{more}")


def isin_text(values: pd.Series, allowed: pd.Series | pd.Index | Sequence[str]) -> pd.Series:
    """``values.isin(allowed)`` for text (e.g. account ids), hashed by Arrow: pandas'
    ``isin`` against a large set of strings takes ~5 s per million ids, Arrow ~0.3 s.
    Missing values are never in; same index as ``values``.

    Parameters
    ----------
    values
        The text values to look up.
    allowed
        The allowed values.

    Returns
    -------
    Series
        Boolean, same index as ``values``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    left = pa.array(pd.Series(values).astype("str").array, type=pa.large_string())
    right = pa.array(pd.Series(allowed, dtype="str").dropna().array, type=pa.large_string())
    hit = pc.fill_null(pc.is_in(left, value_set=right), False)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=pd.Series(values).index,
                     name=getattr(values, "name", None))


# --------------------------------------------------------------------------- numbers
def _as_text(series: pd.Series) -> pd.Series:
    """Text of each cell, stripped; missing tokens ('', 'n/a', ...) become NA."""
    s = series.astype("string").str.strip()
    s = s.str.replace("\u00a0", " ", regex=False)
    return s.mask(s.str.casefold().isin(MISSING_TOKENS))


# Evidence of a column's decimal separator, from cells that can only be read one way.
# (no look-around: the patterns run in Arrow's RE2, ~20x faster than Python's re)
_DOT_DECIMAL = (r"\d,\d{3}\.\d|\d\.(?:\d{1,2}|\d{4,})(?:\D|$)|^\D*\d{1,3}(?:,\d{3}){2,}(?:[^\d,]|$)"
                r"|(?:^|[^\d.,])0\.\d")
_COMMA_DECIMAL = (r"\d\.\d{3},\d|\d,(?:\d{1,2}|\d{4,})(?:\D|$)"
                  r"|^\D*\d{1,3}(?:\.\d{3}){2,}(?:[^\d.]|$)"
                  r"|(?:^|[^\d.,])0,\d")


def decimal_style(text: pd.Series) -> str | None:
    """The decimal separator of a number column, decided from all its cells: ``"dot"``
    (1,234.56; 0.125), ``"comma"`` (1.234,56; 0,5) or None when no cell tells (only
    cells like 1.234 or 1,234) or cells contradict each other. Only a dot column changes
    how a cell is read (1.234 is then 1.234, else 1234); each other cell is read on its
    own (1.234,56 and 12,5 are European, 2,000 is two thousand).

    Parameters
    ----------
    text
        The column's cells as stripped text.

    Returns
    -------
    str or None
        ``"dot"``, ``"comma"`` or None.
    """
    s = text.dropna().astype("string")
    s = s[s.str.contains(r"[.,]", regex=True, na=False)]
    if not len(s):
        return None
    dot = bool(s.str.contains(_DOT_DECIMAL, regex=True, na=False).any())
    comma = bool(s.str.contains(_COMMA_DECIMAL, regex=True, na=False).any())
    if dot != comma:
        return "dot" if dot else "comma"
    return None


def _clean_numeric_text(s: pd.Series, style: str | None = None
                        ) -> tuple[pd.Series, pd.Series]:
    """(numeric text ready for to_numeric, multiplier) from stripped number text; ``style``
    is the column's decimal separator (:func:`decimal_style`; only "dot" changes a cell)."""
    neg = s.str.match(r"^\(.*\)$", na=False)
    s = s.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    s = s.str.replace(r"[$€£¥₹]|US\$", "", regex=True).str.strip()
    pct = s.str.endswith("%", na=False)
    s = s.str.rstrip("%").str.strip()
    # scale suffix: 5M, 4.2k, 1.5bn, 3 million
    suffix = s.str.extract(r"(?i)^[-+]?[\d.,' ]*\d\s*(k|thousand|mm|mn|mio|m|million|bn|b|"
                           r"billion)\.?$", expand=False).str.casefold()
    mult = suffix.map(SUFFIX_MULTIPLIERS).astype("float64").fillna(1.0)
    s = s.str.replace(r"(?i)\s*(k|thousand|mm|mn|mio|m|million|bn|b|billion)\.?$", "",
                      regex=True).where(suffix.notna(), s)
    s = s.str.replace(r"[ '\u2009\u202f]", "", regex=True)
    # decimal comma vs thousands separators
    # "1.234" is a thousands separator (1234) unless the column's decimal point is a dot
    dotted = r"^[-+]?[1-9]\d{0,2}(\.\d{3})+(,\d+)?$" if style != "dot" else \
        r"^[-+]?[1-9]\d{0,2}(\.\d{3})+,\d+$|^[-+]?[1-9]\d{0,2}(\.\d{3}){2,}$"
    euro = s.str.match(dotted, na=False) | \
        s.str.match(r"^[-+]?\d+,\d{1,2}$", na=False) | \
        s.str.match(r"^[-+]?\d+,\d{4,}$", na=False)
    s = s.where(~euro, s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    s = s.where(euro, s.str.replace(",", "", regex=False))
    mult = mult * np.where(pct, 0.01, 1.0) * np.where(neg, -1.0, 1.0)
    return s, mult


_EURO_THOUSANDS = r"[-+]?[1-9]\d{0,2}(\.\d{3})+"


def _plain_numbers(s: pd.Series, style: str | None = None) -> np.ndarray:
    """Values of the cells of stripped text ``s`` that are already plain finite numbers
    ("1234.5", "-3", "1e6"), NaN elsewhere: one C-level ``to_numeric`` pass instead of the
    regex chain.
    A cell like "1.234" (a European thousands separator for the clean-up) is left to it,
    unless the column's ``style`` is ``"dot"``."""
    values = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    values[np.isinf(values)] = np.nan  # "inf", "Infinity", "1e999": left to the clean-up
    if style == "dot":
        return values
    dotted = ~np.isnan(values) & s.str.contains(".", regex=False, na=False).to_numpy(bool)
    if dotted.any():
        euro = s[dotted].str.fullmatch(_EURO_THOUSANDS, na=False).to_numpy(dtype=bool)
        values[np.flatnonzero(dotted)[euro]] = np.nan
    return values


def parse_number(series: pd.Series, style: str | None = "auto"
                 ) -> tuple[pd.Series, pd.Index]:
    """Numbers from messy text: ``(values as float, index of unreadable rows)``.

    Handles thousands separators (1,234,567 / 1.234.567,8 / 1 234), currency symbols
    ($ € £ ¥), percent signs (12 % -> 0.12), parentheses for negatives ((1,200) -> -1200)
    and scale suffixes (4.2k, 5M, 1.5bn). The decimal separator is decided for the whole
    column (:func:`decimal_style`, ``style="auto"``), so 0.125 stays 0.125 and 1.234 in a
    column of 1.234,56 values is 1234. Empty cells and 'n/a' are missing (NaN, not
    reported); anything else that is not a number is NaN and reported in the index.

    Parameters
    ----------
    series
        The cells (any dtype; numbers pass through).
    style
        The decimal separator: ``"auto"`` (decided for the column), ``"dot"``, ``"comma"``
        or None (each cell on its own).

    Returns
    -------
    tuple of (Series, Index)
        The values as float (NaN where unreadable) and the index of the unreadable, non-empty cells.
    """
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype("float64"), series.index[:0]
    s = _as_text(series)
    if style == "auto":
        style = decimal_style(s)
    arr = _plain_numbers(s, style)  # fast path; the regex clean-up only for the other cells
    rest = np.isnan(arr) & s.notna().to_numpy(dtype=bool)
    if rest.any():
        text, mult = _clean_numeric_text(s[rest], style)
        arr[rest] = np.asarray(pd.to_numeric(text, errors="coerce").astype("float64") * mult,
                               dtype="float64")
    values = pd.Series(arr, index=series.index, name=series.name)
    bad = series.index[(s.notna().to_numpy(dtype=bool) & np.isnan(arr))]
    return values, bad


_CODE_RE = r"([A-Za-z]{3})"


def currency_codes(series: pd.Series) -> pd.Series:
    """ISO currency codes of a currency column: upper-cased, symbols mapped ($ -> USD,
    € -> EUR, £ -> GBP, see :data:`CURRENCY_SYMBOLS`); empty cells NA.

    Parameters
    ----------
    series
        The currency column.

    Returns
    -------
    Series
        ISO codes (string dtype), same index.
    """
    s = _as_text(series)
    symbols = {k.upper(): v for k, v in CURRENCY_SYMBOLS.items()}
    up = s.str.upper()
    hit = up.isin(list(symbols)).fillna(False)
    if not hit.any():
        return up
    return up.mask(hit, up[hit].map(symbols)).astype("string")


def parse_money(series: pd.Series, currency: pd.Series | str | None,
                rates: Mapping[str, float], base: str) -> pd.DataFrame:
    """Money in the base currency from mixed text ("$5M", "5,000,000", "EUR 4.2M", "£3.1m").

    The currency of a cell is its own symbol or ISO code if it has one ($ = USD, € = EUR,
    £ = GBP), else the row's ``currency`` (Series) or the default (str; None = base).
    ``rates`` are units of base currency per unit of currency (the base is 1 if not given).
    Returns ``value_base``, ``value_local`` (as written), ``currency`` and ``parsed_ok``
    (False only where a non-empty cell is not a readable amount; empty cells are NaN with
    parsed_ok True). A currency without a rate raises InputDataError listing the currencies
    and rows (hint: add it to ``currency.rates``).

    Parameters
    ----------
    series
        The money cells.
    currency
        Each row's currency (Series), one currency for all (str), or None (the base).
    rates
        Units of base currency per unit of currency.
    base
        The base currency.

    Returns
    -------
    DataFrame
        One row per cell, same index (columns described above).
    """
    idx = series.index
    if isinstance(currency, pd.Series):
        row_cur = currency_codes(currency).reindex(idx)
    else:
        row_cur = pd.Series(currency or base, index=idx, dtype="string")
    row_cur = row_cur.fillna(base)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        local = series.astype("float64")
        cur = row_cur
        ok = pd.Series(True, index=idx)
    else:
        s_all = _as_text(series)
        style = decimal_style(s_all)
        plain = _plain_numbers(s_all, style)  # plain numbers carry no code, symbol or %
        fast = ~np.isnan(plain)
        s = s_all[~fast]
        code = s.str.extract(rf"^{_CODE_RE}\s*[-+(\d$€£¥]", expand=False)
        code = code.fillna(s.str.extract(rf"[\d)kKmMbBn.]\s*{_CODE_RE}$", expand=False))
        code = code.str.upper()
        code = code.where(~code.isin(["MIO", "MLN", "BLN"]))
        sym = pd.Series(pd.NA, index=s.index, dtype="string")
        for symbol, iso in CURRENCY_SYMBOLS.items():
            if len(symbol) == 1 or symbol == "US$":
                sym = sym.mask(sym.isna() & s.str.contains(symbol, regex=False, na=False), iso)
        cur = row_cur.astype("string")
        cur.iloc[np.flatnonzero(~fast)] = code.fillna(sym).fillna(row_cur[~fast]) \
            .astype("string").to_numpy()
        stripped = s.str.replace(rf"^{_CODE_RE}\s*(?=[-+(\d$€£¥])", "", regex=True)
        stripped = stripped.str.replace(rf"(?<=[\d)kKmMbBn.])\s*{_CODE_RE}$", "", regex=True)
        stripped = stripped.where(code.notna(), s)
        slow, bad = parse_number(stripped, style)
        local = pd.Series(plain, index=idx, name=series.name)
        local[~fast] = slow.to_numpy(dtype="float64")
        ok = pd.Series(True, index=idx)
        ok.loc[bad] = False
        pct = np.zeros(len(idx), dtype=bool)  # a share is not money
        pct[~fast] = s.str.contains("%", regex=False, na=False).to_numpy(dtype=bool)
        local = local.mask(pct)
        ok.loc[pct] = False
    rate_map = {str(k).upper(): float(v) for k, v in rates.items()}
    rate_map.setdefault(base.upper(), 1.0)
    rate = cur.map(rate_map).astype("float64")
    unknown = local.notna() & rate.isna()
    if unknown.any():
        missing = sorted(cur[unknown].dropna().unique().tolist())
        raise InputDataError(
            f"amounts in currencies without an exchange rate: {missing}",
            column=str(series.name), rows=file_rows(idx[unknown.to_numpy()]),
            hint=f"add them to currency.rates in the parameter file (units of {base} per unit, "
                 f"e.g. rates: {{{missing[0]}: 1.1}})")
    return pd.DataFrame({"value_base": (local * rate).astype("float64"),
                         "value_local": local.astype("float64"),
                         "currency": cur.astype(str), "parsed_ok": ok.astype(bool)},
                        index=idx)


# --------------------------------------------------------------------------- dates
def day_number_origin(fmt: str | None) -> pd.Timestamp | None:
    """The epoch of a day-number ``date_format`` (``excel`` or ``days since YYYY-MM-DD``),
    None for a strftime format. A malformed ``days since`` epoch is an InputDataError.

    Parameters
    ----------
    fmt
        A ``date_format`` value.

    Returns
    -------
    Timestamp or None
        Day 0 of the day numbers, or None.
    """
    if fmt is None:
        return None
    if fmt.strip().casefold() == "excel":
        return EXCEL_EPOCH
    m = _DAYS_SINCE.match(fmt)
    if m:
        try:
            return pd.Timestamp(m.group(1))
        except ValueError:
            raise InputDataError(f"date_format '{fmt}': the epoch is not a date",
                                 hint="write it as \"days since YYYY-MM-DD\"") from None
    if fmt.strip().casefold().startswith("days since"):
        raise InputDataError(f"date_format '{fmt}' is not understood",
                             hint="write it as \"days since YYYY-MM-DD\", e.g. "
                                  "\"days since 1960-01-01\"")
    return None


def all_day_numbers(series: pd.Series) -> bool:
    """True when every non-empty cell of a date column is a whole number (day numbers, not
    dates); such a column needs ``date_format: excel`` or ``days since ...``.

    Parameters
    ----------
    series
        The date column as read.

    Returns
    -------
    bool
        Whether it holds day numbers only (False when it has no value).
    """
    s = _as_text(series).dropna()
    return bool(len(s)) and bool(s.str.fullmatch(r"[-+]?\d{1,6}(?:\.0+)?").all())


def _from_day_numbers(s: pd.Series, origin: pd.Timestamp) -> pd.Series:
    days = pd.to_numeric(s, errors="coerce")
    days = days.where(days.abs() < 200_000)  # beyond ~500 years: not a day number
    return (origin + pd.to_timedelta(days.round(), unit="D")).astype("datetime64[ns]")


def parse_dates(series: pd.Series, formats: Sequence[str] | None = None
                ) -> tuple[pd.Series, pd.Index]:
    """Dates from text, trying ``formats`` in order (default: ISO 8601 first, then
    :data:`DEFAULT_DATE_FORMATS`); each cell takes the first format that reads it.

    Dates are read as written: a time zone (``2026-09-30T18:00:00-07:00``) is dropped, not
    converted, so the date is the local one; a time of day after a date (Salesforce
    ``3/15/2024 10:00 AM``) is ignored by the strftime formats. ``excel`` and
    ``days since YYYY-MM-DD`` in ``formats`` read day numbers from that epoch.

    Returns ``(datetime64 Series (timezone-naive, local time), index of unreadable
    non-empty rows)``; empty cells are NaT and not reported.

    Parameters
    ----------
    series
        The date cells.
    formats
        strftime formats, ``excel`` or ``days since YYYY-MM-DD``, tried in order.

    Returns
    -------
    tuple of (Series, Index)
        The dates (NaT where unreadable) and the index of the unreadable, non-empty cells.
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        out = series
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_localize(None)  # the wall time as written, not UTC
        return out.astype("datetime64[ns]"), series.index[:0]
    s = _as_text(series)
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]", name=series.name)
    todo = s.notna()
    unresolved = pd.Series(False, index=series.index)
    if formats is None:
        order, ambiguous = day_month_order(s)
        if order == "month-first":  # a US export: 12/31/2025 proves it, 03/04/2026 follows
            formats = tuple(f for f in DEFAULT_DATE_FORMATS if f not in _MONTH_FIRST_DROPS)
        elif order == "mixed":  # both 31/12 and 12/31 cells: 03/04 cannot be read safely
            unresolved = ambiguous
            todo &= ~ambiguous
    local, dated = s, s
    timed = s.str.contains(":", regex=False).fillna(False).to_numpy(dtype=bool)
    if timed.any():  # the regexes only on cells with a time of day
        local = s.mask(timed, s[timed].str.replace(_ZONE_TAIL, r"\1", regex=True))
        dated = s.mask(timed, s[timed].str.replace(_TIME_TAIL, "", regex=True))
    for fmt in formats or DEFAULT_DATE_FORMATS:
        if not todo.any():
            break
        origin = day_number_origin(fmt)
        if origin is not None:
            got = _from_day_numbers(s[todo], origin)
        else:
            part = (local if fmt == "ISO8601" else dated)[todo]
            try:
                got = pd.to_datetime(part, format=fmt, errors="coerce", utc=True)
            except (ValueError, TypeError, OverflowError):
                continue
            got = got.dt.tz_localize(None)
            # outside what a datetime64[ns] holds (9999-12-31): unreadable, never a crash
            got = got.where((got.dt.year > 1677) & (got.dt.year < 2262)).astype("datetime64[ns]")
        hit = got.notna()
        out.loc[hit.index[hit]] = got[hit]
        todo.loc[hit.index[hit]] = False
    return out, series.index[(todo | unresolved).to_numpy()]


_SLASH_DATE = r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?:[ T].*)?$"


def day_month_order(text: pd.Series) -> tuple[str, pd.Series]:
    """How the d/m/Y-or-m/d/Y cells of a date column are ordered: ``("day-first" |
    "month-first" | "mixed" | "unknown", mask of ambiguous cells like 03/04/2026)``.

    A cell with a first number above 12 proves day-first, one with a second number above 12
    proves month-first; a column with both is "mixed"; a column whose slash dates are all
    ambiguous is "unknown" (read day-first by default, see :data:`DEFAULT_DATE_FORMATS`).

    Parameters
    ----------
    text
        The date cells as text.

    Returns
    -------
    tuple of (str, Series)
        The order found and the boolean mask of ambiguous cells.
    """
    t = text.astype("string").str.strip()
    first, second = np.full(len(t), np.nan), np.full(len(t), np.nan)
    slash = t.str.contains("/", regex=False).fillna(False).to_numpy(dtype=bool)
    if slash.any():  # the regex runs only on cells with a slash (none in an ISO column)
        parts = t[slash].str.extract(_SLASH_DATE)
        first[slash] = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float)
        second[slash] = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype=float)
    a, b = pd.Series(first, index=text.index), pd.Series(second, index=text.index)
    day_first = ((a > 12) & (b <= 12)).fillna(False).astype(bool)
    month_first = ((b > 12) & (a <= 12)).fillna(False).astype(bool)
    ambiguous = ((a <= 12) & (b <= 12) & (a != b)).fillna(False).astype(bool)
    if day_first.any() and month_first.any():
        return "mixed", ambiguous
    if month_first.any():
        return "month-first", ambiguous
    if day_first.any():
        return "day-first", ambiguous
    return ("unknown" if ambiguous.any() else "day-first"), ambiguous


# --------------------------------------------------------------------------- keys
def normalise_domain(series: pd.Series) -> pd.Series:
    """Web domains as join keys: 'https://WWW.Acme.com:443/about/' -> 'acme.com'.

    Lowercases, strips scheme, user/e-mail part, 'www.', port, path, query and trailing dots
    or slashes. Empty results are NA.

    Parameters
    ----------
    series
        Web addresses or domains.

    Returns
    -------
    Series
        Domains (string dtype), same index.
    """
    s = _as_text(series).str.casefold()
    s = s.str.replace(r"^[a-z][a-z0-9+.\-]*://", "", regex=True)
    s = s.str.replace(r"^[^/]*@", "", regex=True)
    s = s.str.replace(r"[/?#].*$", "", regex=True)
    s = s.str.replace(r":\d*$", "", regex=True)
    s = s.str.replace(r"^www\d*\.", "", regex=True)
    s = s.str.strip().str.strip(".").str.replace(r"\s+", "", regex=True)
    return s.mask(s == "").astype(str).rename(series.name)


_LEGAL_RE = r"(?:\s+(?:" + "|".join(LEGAL_SUFFIXES) + r"))+$"


def normalise_name(series: pd.Series) -> pd.Series:
    """Company names as match keys: 'ACME, Inc.' -> 'acme', 'Müller GmbH & Co. KG' -> 'muller'.

    Casefolds, removes accents and punctuation, collapses spaces and strips trailing legal
    suffixes (Inc, LLC, Ltd, GmbH, SA, plc, Corp, ... see LEGAL_SUFFIXES). Empty -> NA.

    Parameters
    ----------
    series
        Company names.

    Returns
    -------
    Series
        Match keys (string dtype), same index.
    """
    s = _as_text(series)
    # accents (only non-ASCII names need it) and dots between single letters (only names
    # with a dot): the slow per-cell passes run on the cells that can change
    wide = ~s.str.isascii().fillna(True).to_numpy(dtype=bool)
    if wide.any():
        s = s.mask(wide, s[wide].str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "",
                                                                   regex=True))
    s = s.str.casefold().str.replace("&", " ", regex=False)
    dots = s.str.contains(".", regex=False).fillna(False).to_numpy(dtype=bool)
    if dots.any():  # s.a. -> sa, l.l.c -> llc
        s = s.mask(dots, s[dots].str.replace(r"(?<=\b[a-z])\.(?=[a-z]\b)", "", regex=True))
    s = s.str.replace(r"[^\w\s]", " ", regex=True).str.replace("_", " ", regex=False)
    s = s.str.replace(r"\s+", " ", regex=True).str.strip()
    stripped = s.str.replace(_LEGAL_RE, "", regex=True).str.strip()
    s = stripped.where(stripped != "", s)  # a name that is only a suffix keeps it
    return s.mask(s == "").astype(str).rename(series.name)


def read_text_table(text: str, **kwargs) -> pd.DataFrame:
    """Small helper for tests and notebooks: a CSV string as a text DataFrame.

    Parameters
    ----------
    text
        CSV text with a header row.
    **kwargs
        Passed to :func:`pandas.read_csv`.

    Returns
    -------
    DataFrame
        Every cell as text.
    """
    return pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False, **kwargs)

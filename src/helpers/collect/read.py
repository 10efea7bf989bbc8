"""The file reading of Steps 2 and 3 (the edge): the hypothesis register, the enrichment
sources and summaries, the industry map, the filled collection worksheet and the data
manifest. The pipeline (``helpers.pipeline.step2`` / ``step3``) calls these, then hands the
frames to the pure functions of :mod:`helpers.collect.hypotheses` and
:mod:`helpers.collect.collection`, which read no file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import yaml

from helpers.collect import sources
from helpers.collect.collection import WORKSHEET_SHEET, Sources
from helpers.collect.hypotheses import validate_register
from helpers.core.errors import InputDataError, ParameterError
from helpers.core.io import read_table
from helpers.core.params import Aggregation, Collection, Inputs, Params
from helpers.core.paths import resolve
from helpers.core.store import sha256_file


def read_register(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a hypothesis register YAML.

    Parameters
    ----------
    path : str or os.PathLike
        The register file (``hypotheses.register_file``), relative to the project root.

    Returns
    -------
    pandas.DataFrame
        One row per hypothesis (columns ``hypotheses.REGISTER_COLUMNS``). A missing file,
        invalid YAML or an invalid entry raise ParameterError naming the file, the entry id
        and the key (:func:`helpers.collect.hypotheses.validate_register`).
    """
    p = resolve(path)
    if not p.is_file():
        raise ParameterError(f"hypothesis register not found: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParameterError(f"{p} is not valid YAML: {exc}") from None
    return validate_register(data, str(p))


def read_industry_map(path: str | os.PathLike | None) -> dict[str, str]:
    """Read ``raw label -> canonical industry`` from a YAML file.

    Parameters
    ----------
    path : str, os.PathLike or None
        ``inputs.industry_map``: a flat mapping, a mapping under ``industries:``, or
        canonical -> [raw labels]. None: no map.

    Returns
    -------
    dict[str, str]
        Raw label -> canonical industry ({} without a file).
    """
    if not path:
        return {}
    p = resolve(path)
    if not p.is_file():
        raise InputDataError("industry map not found", file=str(p),
                             hint="set inputs.industry_map to an existing YAML file or null")
    data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    if isinstance(data, dict) and isinstance(data.get("industries", None), dict):
        data = data["industries"]
    if not isinstance(data, dict):
        raise InputDataError("industry map must be a mapping raw label -> canonical industry",
                             file=str(p))
    if all(isinstance(v, list) for v in data.values()):  # canonical -> [raw labels]
        data = {raw: canon for canon, raws in data.items() for raw in raws} | \
            {canon: canon for canon in data}
    return {str(k): str(v) for k, v in data.items()}


def read_worksheet(path: str | os.PathLike) -> pd.DataFrame:
    """Read a filled collection worksheet (the XLSX of ``make_worksheet``, or the full CSV
    written next to a capped XLSX) as text.

    Parameters
    ----------
    path : str or os.PathLike
        The worksheet file, relative to the project root.

    Returns
    -------
    pandas.DataFrame
        Its rows, every cell text; ``attrs["source"]``: the file, ``attrs["path"]``: the
        path as given. An unreadable file raises InputDataError naming it.
    """
    p = resolve(path)
    try:
        if p.suffix.lower() == ".csv":
            ws = pd.read_csv(p, dtype="str", encoding="utf-8-sig", keep_default_na=False,
                             na_values=[""])
        else:
            ws = pd.read_excel(p, sheet_name=WORKSHEET_SHEET, dtype="str")
    except (ValueError, FileNotFoundError, OSError, pd.errors.ParserError) as exc:
        raise InputDataError(f"cannot read the worksheet: {exc}", file=str(p),
                             hint=f"use the file written by make_worksheet (sheet "
                                  f"'{WORKSHEET_SHEET}')") from None
    ws.attrs["source"] = str(p)
    ws.attrs["path"] = str(path)
    return ws


def read_sources(inputs: Inputs, as_of: dt.date, rules: Collection,
                 engine: Aggregation | None = None) -> Sources:
    """Read every Step 3 source the parameters name.

    The row-level ticket and usage files are summarised for the as-of window by DuckDB
    (or Spark) in the background while pandas reads the firmographics and the survey
    (``helpers.core.parallel``).

    Parameters
    ----------
    inputs : Inputs
        The parameter file's ``inputs``.
    as_of : datetime.date
        The analysis date (ticket and usage windows end here).
    rules : Collection
        ``collection`` parameters (``ticket_window_days``, ``usage_window_months``).
    engine : Aggregation or None
        The aggregation engine settings.

    Returns
    -------
    Sources
        Every source read (None where not given), with the join keys and the industry map.
    """
    from helpers.core.parallel import in_background

    tickets = (in_background(sources.ticket_input, inputs, pd.Timestamp(as_of),
                             rules.ticket_window_days, engine)
               if sources.has_tickets(inputs) else None)
    usage = (in_background(sources.usage_input, inputs, pd.Timestamp(as_of),
                           rules.usage_window_months, engine)
             if sources.has_usage(inputs) else None)
    firm, survey = inputs.firmographics, inputs.survey
    return Sources(
        firmographics=read_table(firm, what="firmographics") if firm is not None else None,
        firmographics_on=firm.join_on if firm is not None else "account_id",
        survey=read_table(survey, what="survey") if survey is not None else None,
        survey_on=survey.join_on if survey is not None else "account_id",
        worksheet=(read_worksheet(inputs.worksheet.path) if inputs.worksheet is not None
                   else None),
        industry_map=read_industry_map(inputs.industry_map),
        tickets=tickets.result() if tickets is not None else None,
        usage=usage.result() if usage is not None else None,
    )


# --------------------------------------------------------------------------- manifest
def _count_rows(p: Path) -> int | None:
    suffix = p.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(p).metadata.num_rows)
        if suffix in (".csv", ".tsv", ".txt"):
            import duckdb

            con = duckdb.connect()
            try:
                return int(con.execute("select count(*) from read_csv_auto(?, header=true)",
                                       [str(p)]).fetchone()[0])
            finally:
                con.close()
        if suffix in (".xlsx", ".xlsm"):
            from openpyxl import load_workbook

            wb = load_workbook(p, read_only=True)
            try:
                return max(int(wb.worksheets[0].max_row or 0) - 1, 0)
            finally:
                wb.close()
        if suffix in (".yaml", ".yml", ".json"):
            text = p.read_text(encoding="utf-8")
            data = yaml.safe_load(text) if suffix != ".json" else json.loads(text)
            return len(data) if isinstance(data, list | dict) else None
    except Exception:  # noqa: BLE001 - an unreadable file still gets its hash
        return None
    return None


def data_manifest(paths: Iterable[str | os.PathLike | None]) -> pd.DataFrame:
    """Hash and count every input file.

    Parameters
    ----------
    paths : iterable of str, os.PathLike or None
        Input files or Parquet datasets (None entries are skipped).

    Returns
    -------
    pandas.DataFrame
        One row per input: file, size_bytes, rows (header excluded; None if unknown),
        sha256 (``helpers.core.store.sha256_file``). A missing file raises InputDataError.
    """
    rows = []
    for raw in paths:
        if raw is None:
            continue
        p = resolve(raw)
        from helpers.collect.aggregate import dataset_fingerprint, is_dataset

        if is_dataset(p):  # a Parquet dataset (directory or glob) of row-level data
            rows.append({"file": str(raw), **dataset_fingerprint(p)})
            continue
        if not p.is_file():
            raise InputDataError("file listed for the data manifest does not exist", file=str(p))
        rows.append({"file": str(raw), "size_bytes": int(p.stat().st_size),
                     "rows": _count_rows(p), "sha256": sha256_file(p)})
    out = pd.DataFrame(rows, columns=["file", "size_bytes", "rows", "sha256"])
    out["rows"] = out["rows"].astype("Int64")
    return out


def manifest_files(params: Params) -> list[str]:
    """Every input file named in the parameters (for :func:`data_manifest`).

    Parameters
    ----------
    params : Params
        The run's parameters.

    Returns
    -------
    list[str]
        The input files, in the order of ``helpers.core.runinfo.input_files``.
    """
    from helpers.core.runinfo import input_files

    return list(input_files(params).values())

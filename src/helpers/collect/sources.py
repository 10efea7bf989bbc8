"""Row-level internal sources (support tickets, monthly product usage) aggregated per account.

The aggregation is defined once in :mod:`helpers.collect.aggregate` (plain SQL over typed rows,
written per engine by SQLGlot); here DuckDB runs it straight over the CSV / Parquet file, a
hive-partitioned Parquet dataset (directory or glob, out of core) or a DataFrame, so tens of
millions of ticket rows never pass through pandas. A warehouse or Spark runs the same
definition (``workbook sql``, ``workbook aggregate``; docs/warehouse.md) and the run reads the
per-account result (:func:`read_summary`). Method: Step 1 cost to serve (tickets) and Step 3
behavioural hypotheses (usage).

Windows are on calendar days: a ticket counts when ``date(created_at)`` is in
``(as_of - window_days, as_of]``, i.e. the as_of day is included in full. Usage counts the
``window_months`` calendar months ending with the month of as_of (included).
Accounts with no rows get no summary row; join with :func:`attach`, which fills them
(0 tickets, not NaN).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from helpers.collect import aggregate
from helpers.core.errors import InputDataError
from helpers.core.io import isin_text
from helpers.core.params import Aggregation, Inputs, Source

TICKET_COLUMNS = aggregate.TICKET_COLUMNS
USAGE_COLUMNS = aggregate.USAGE_COLUMNS

SourceLike = str | Path | Source | pd.DataFrame


def _split(data: SourceLike, mapping: Mapping[str, str] | None
           ) -> tuple[str | Path | pd.DataFrame, dict[str, str]]:
    """The path (or DataFrame) and the column mapping of an input."""
    if isinstance(data, Source):
        return data.path, dict(data.mapping if mapping is None else mapping)
    return data, dict(mapping or {})


def duckdb_config(engine: Aggregation | None) -> aggregate.DuckDBConfig:
    """The DuckDB settings of the ``aggregation`` parameters (defaults without them).

    Parameters
    ----------
    engine : Aggregation or None
        The ``aggregation`` parameters, or None.

    Returns
    -------
    aggregate.DuckDBConfig
        The DuckDB settings.
    """
    if engine is None:
        return aggregate.DuckDBConfig()
    return aggregate.DuckDBConfig(memory_limit=engine.duckdb_memory_limit,
                          temp_directory=engine.duckdb_temp_directory,
                          threads=engine.duckdb_threads)


def ticket_summary(path_or_df: SourceLike, as_of: dt.date, window_days: int,
                   account_ids: Sequence[str] | pd.Series | None = None, *,
                   mapping: Mapping[str, str] | None = None,
                   engine: Aggregation | None = None) -> pd.DataFrame:
    """Tickets per account: ``account_id, tickets, ticket_minutes`` over
    ``date(created_at)`` in ``(as_of - window_days, as_of]``.

    With ``account_ids`` the result has exactly those accounts (0 where none). Unreadable
    timestamps are not counted and are reported in ``attrs["warnings"]``.

    Parameters
    ----------
    path_or_df : SourceLike
        The ticket rows (a file, dataset or DataFrame).
    as_of : dt.date
        The window's last day.
    window_days : int
        The window's length.
    account_ids : Sequence[str] or pd.Series or None
        The accounts to report (None: those with tickets).
    mapping : Mapping[str, str] or None
        Canonical -> file column names.
    engine : Aggregation or None
        The ``aggregation`` parameters.

    Returns
    -------
    pd.DataFrame
        Columns ``account_id, tickets, ticket_minutes``.
    """
    out = ticket_counts(path_or_df, as_of, window_days, mapping=mapping, engine=engine)
    return out if account_ids is None else ticket_attach(out, account_ids)


def ticket_counts(path_or_df: SourceLike, as_of: dt.date, window_days: int, *,
                  mapping: Mapping[str, str] | None = None,
                  engine: Aggregation | None = None) -> pd.DataFrame:
    """:func:`ticket_summary` of the accounts with tickets in the window (one scan of the
    file, no account list): ``account_id, tickets, ticket_minutes`` sorted by id, warnings
    in ``attrs["warnings"]``. The shared aggregation (``helpers.collect.aggregate``) on DuckDB.

    Parameters
    ----------
    path_or_df : SourceLike
        The ticket rows.
    as_of : dt.date
        The window's last day.
    window_days : int
        The window's length.
    mapping : Mapping[str, str] or None
        Canonical -> file column names.
    engine : Aggregation or None
        The ``aggregation`` parameters.

    Returns
    -------
    pd.DataFrame
        Columns ``account_id, tickets, ticket_minutes``.
    """
    data, mapping = _split(path_or_df, mapping)
    window = aggregate.Window(pd.Timestamp(as_of).date(), days=window_days)
    return aggregate.run_duckdb("tickets", data, window, mapping=mapping,
                                config=duckdb_config(engine))


def ticket_attach(counts: pd.DataFrame, account_ids: Sequence[str] | pd.Series) -> pd.DataFrame:
    """:func:`ticket_counts` for exactly ``account_ids`` (0 where none), in their order; ticket
    holders missing from the list are counted in a warning.

    Parameters
    ----------
    counts : pd.DataFrame
        :func:`ticket_counts` output.
    account_ids : Sequence[str] or pd.Series
        The accounts, in order.

    Returns
    -------
    pd.DataFrame
        One row per account id.
    """
    warnings = list(counts.attrs.get("warnings", []))
    ids = pd.Series(pd.unique(pd.Series(account_ids, dtype=str)), name="account_id")
    unknown = int((~isin_text(counts["account_id"], ids)).sum())
    out = attach(ids.to_frame(), counts, {"tickets": 0, "ticket_minutes": 0.0})
    out["tickets"] = out["tickets"].astype("int64")
    if unknown:
        warnings.append(f"tickets: {unknown} account(s) with tickets in the window are not "
                        "in the account list (ignored here)")
    out = out.reset_index(drop=True)
    out.attrs["warnings"] = warnings
    return out


def usage_summary(path_or_df: SourceLike, as_of: dt.date, window_months: int, *,
                  mapping: Mapping[str, str] | None = None,
                  engine: Aggregation | None = None) -> pd.DataFrame:
    """Monthly usage per account over the ``window_months`` months ending with as_of's month.

    Columns: ``account_id, months_active`` (months with active users > 0),
    ``avg_active_users, avg_sessions, avg_feature_adoption`` (means over the months with a
    row), ``usage_trend`` (least-squares slope of active users per month divided by their
    mean: relative change per month; NaN with one month or zero users).

    Parameters
    ----------
    path_or_df : SourceLike
        The monthly usage rows.
    as_of : dt.date
        The analysis date.
    window_months : int
        The window's length in months.
    mapping : Mapping[str, str] or None
        Canonical -> file column names.
    engine : Aggregation or None
        The ``aggregation`` parameters.

    Returns
    -------
    pd.DataFrame
        One row per account with usage in the window.
    """
    data, mapping = _split(path_or_df, mapping)
    window = aggregate.Window(pd.Timestamp(as_of).date(), months=window_months)
    return aggregate.run_duckdb("usage", data, window, mapping=mapping,
                                config=duckdb_config(engine))


# ----------------------------------------------------------------- per-account summaries as input
#: summary column -> (whole number, may be missing); every summary column must be >= 0 but the
#: trend (a relative change per month)
_SUMMARY_RULES = {
    "tickets": {"tickets": (True, False), "ticket_minutes": (False, False)},
    "usage": {"months_active": (True, False), "avg_active_users": (False, True),
              "avg_sessions": (False, True), "avg_feature_adoption": (False, True),
              "usage_trend": (False, True)},
}


def read_summary(src: Source | str | Path, kind: aggregate.Kind) -> pd.DataFrame:
    """A per-account summary file (CSV / Parquet / Parquet dataset; e.g. what ``workbook sql``
    computes in the warehouse, or ``workbook aggregate``) validated like any input: every
    column present (mapping applied), one row per account, numbers that are numbers, counts
    whole and >= 0. Same columns and dtypes as the summary computed from the rows; a ticket
    summary keeps the accounts with at least one ticket (0 is what an absent account gets).

    Parameters
    ----------
    src : Source or str or Path
        The summary file (or its ``Source``).
    kind : aggregate.Kind
        ``tickets`` or ``usage``.

    Returns
    -------
    pd.DataFrame
        The validated summary.
    """
    path, mapping = _split(src, None)
    needed = (aggregate.TICKET_SUMMARY_COLUMNS if kind == "tickets"
              else aggregate.USAGE_SUMMARY_COLUMNS)
    con, label = aggregate.duckdb_connect(path, [mapping.get("account_id", "account_id")])
    try:
        cols = aggregate.match_columns(aggregate.duckdb_columns(con, label), needed, mapping,
                                       label, "duckdb")
        raw = con.execute("SELECT " + ", ".join(f"{q} AS {c}" for c, q in cols.items())
                          + " FROM src").df()
    finally:
        con.close()
    file_rows = (raw.index + 2).tolist()  # row 1 = header
    ids = raw["account_id"]
    bad = ids.isna() | (ids.astype("string").str.strip() == "")
    if bad.any():
        raise InputDataError(f"{kind} summary: rows without an account_id", file=label,
                             column="account_id", rows=[file_rows[i] for i in
                                                         bad.to_numpy().nonzero()[0]],
                             hint="every row must name the account it summarises")
    ids = ids.astype(str)
    dup = ids.duplicated(keep=False)
    if dup.any():
        raise InputDataError(f"{kind} summary has several rows per account", file=label,
                             column="account_id",
                             rows=[file_rows[i] for i in dup.to_numpy().nonzero()[0]],
                             hint="aggregate to one row per account_id (GROUP BY account_id)")
    out = pd.DataFrame({"account_id": ids})
    for col, (whole, nullable) in _SUMMARY_RULES[kind].items():
        values = pd.to_numeric(raw[col], errors="coerce").astype("float64")
        problems = [
            (values.isna() & raw[col].notna(), "is not a number"),
            (values.isna() & raw[col].isna() & (not nullable), "is missing"),
            ((values < 0) & (col != "usage_trend"), "is negative"),
            ((values % 1 != 0) & values.notna() & whole, "is not a whole number"),
        ]
        for mask, what in problems:
            mask = mask.to_numpy(dtype=bool)
            if mask.any():
                raise InputDataError(f"{kind} summary: {col} {what}", file=label, column=col,
                                     rows=[file_rows[i] for i in mask.nonzero()[0]],
                                     hint=f"{col} must hold the query's number for the account")
        out[col] = values.astype("int64") if whole else values
    if kind == "tickets":
        out = out.loc[out["tickets"].to_numpy() > 0].sort_values("account_id", kind="stable")
        out = out.reset_index(drop=True)
        out.attrs["warnings"] = []
        return out
    return aggregate.usage_result(out)


def ticket_input(inputs: Inputs, as_of: dt.date, window_days: int,
                 engine: Aggregation | None = None) -> pd.DataFrame | None:
    """The ticket counts of a run: from the per-account summary when one is given, else
    aggregated from the rows (None without either).

    Parameters
    ----------
    inputs : Inputs
        The ``inputs`` parameters.
    as_of : dt.date
        The analysis date.
    window_days : int
        The ticket window.
    engine : Aggregation or None
        The ``aggregation`` parameters.

    Returns
    -------
    pd.DataFrame | None
        The ticket counts, or None.
    """
    if inputs.ticket_summary is not None:
        return read_summary(inputs.ticket_summary, "tickets")
    if inputs.tickets is None:
        return None
    return ticket_counts(inputs.tickets, as_of, window_days, engine=engine)


def usage_input(inputs: Inputs, as_of: dt.date, window_months: int,
                engine: Aggregation | None = None) -> pd.DataFrame | None:
    """The usage summary of a run: the summary input, or aggregated from the rows.

    Parameters
    ----------
    inputs : Inputs
        The ``inputs`` parameters.
    as_of : dt.date
        The analysis date.
    window_months : int
        The usage window.
    engine : Aggregation or None
        The ``aggregation`` parameters.

    Returns
    -------
    pd.DataFrame | None
        The usage summary, or None.
    """
    if inputs.usage_summary is not None:
        return read_summary(inputs.usage_summary, "usage")
    if inputs.usage is None:
        return None
    return usage_summary(inputs.usage, as_of, window_months, engine=engine)


def has_tickets(inputs: Inputs) -> bool:
    """A ticket source (rows or summary) is given.

    Parameters
    ----------
    inputs : Inputs
        The ``inputs`` parameters.

    Returns
    -------
    bool
        Whether tickets are given.
    """
    return inputs.tickets is not None or inputs.ticket_summary is not None


def has_usage(inputs: Inputs) -> bool:
    """A usage source (rows or summary) is given.

    Parameters
    ----------
    inputs : Inputs
        The ``inputs`` parameters.

    Returns
    -------
    bool
        Whether usage is given.
    """
    return inputs.usage is not None or inputs.usage_summary is not None


def source_paths(inputs: Inputs, engine: Aggregation | None = None) -> list[str]:
    """One sentence per row-level source of a run: which path its per-account numbers took
    (summary file, or rows aggregated here, dataset or file).

    Parameters
    ----------
    inputs : Inputs
        The ``inputs`` parameters.
    engine : Aggregation or None
        The ``aggregation`` parameters.

    Returns
    -------
    list[str]
        The sentences.
    """
    out = []
    for label, rows, summary in (("Support tickets", inputs.tickets, inputs.ticket_summary),
                                 ("Product usage", inputs.usage, inputs.usage_summary)):
        if summary is not None:
            out.append(f"{label}: per-account summary file {summary.path} (aggregated outside "
                       "the workbook, e.g. in the warehouse), read as given.")
        elif rows is not None:
            what = "Parquet dataset" if aggregate.is_dataset(rows.path) else "file"
            limit = (f", memory limit {engine.duckdb_memory_limit}"
                     if engine is not None and engine.duckdb_memory_limit else "")
            out.append(f"{label}: row-level {what} {rows.path}, aggregated per account by "
                       f"DuckDB on this machine{limit}.")
    return out


def attach(accounts: pd.DataFrame, summary: pd.DataFrame,
           fill: Mapping[str, float] | float | None = 0) -> pd.DataFrame:
    """Left-join a per-account summary onto the accounts (one row per account, order kept).

    ``fill``: value for accounts absent from the summary, per column (mapping) or for every
    summary column (scalar); ``None`` leaves NaN (e.g. usage averages of accounts without
    usage). Raises InputDataError if the summary has duplicate account ids.

    Parameters
    ----------
    accounts : pd.DataFrame
        The accounts.
    summary : pd.DataFrame
        One row per account_id.
    fill : Mapping[str, float] or float or None
        The value for accounts absent from the summary.

    Returns
    -------
    pd.DataFrame
        The accounts with the summary's columns.
    """
    if summary["account_id"].duplicated().any():
        raise InputDataError("summary has duplicate account ids", column="account_id",
                             rows=summary.loc[summary["account_id"].duplicated(),
                                              "account_id"].tolist())
    right = summary.astype({"account_id": str})
    clash = [c for c in right.columns if c != "account_id" and c in accounts.columns]
    left = accounts.drop(columns=clash).astype({"account_id": str})
    present = isin_text(left["account_id"], right["account_id"])
    out = left.merge(right, on="account_id", how="left", validate="many_to_one", sort=False)
    cols = [c for c in right.columns if c != "account_id"]
    if fill is not None:
        values = dict(fill) if isinstance(fill, Mapping) else dict.fromkeys(cols, fill)
        for col, val in values.items():
            if col in out:
                out[col] = out[col].where(present.to_numpy(), val)
                if pd.api.types.is_integer_dtype(right[col]) and float(val).is_integer():
                    out[col] = out[col].astype(right[col].dtype)
    return out

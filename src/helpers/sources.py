"""Row-level internal sources (support tickets, monthly product usage) aggregated per account.

The aggregation is plain SQL run by DuckDB straight over the CSV / Parquet file (or over a
DataFrame), so tens of millions of ticket rows never pass through pandas, and the same SQL
runs unchanged in a warehouse (replace the ``src`` view by the table). Method: Step 1 cost
to serve (tickets) and Step 3 behavioural hypotheses (usage).

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

import duckdb
import pandas as pd

from .errors import InputDataError
from .io import isin_text
from .params import Source
from .paths import resolve

TICKET_COLUMNS = ("account_id", "created_at", "minutes_spent")
USAGE_COLUMNS = ("account_id", "month", "active_users", "sessions", "feature_adoption")

# One row per ticket, typed (the part every ticket query shares).
TICKET_ROWS_CTE = """WITH t AS (
    SELECT CAST({account_id} AS VARCHAR)                    AS account_id,
           {created_at}                                     AS created_raw,
           TRY_CAST({created_at} AS TIMESTAMP)              AS created_at,
           TRY_CAST({minutes_spent} AS DOUBLE)              AS minutes_spent
    FROM src
)"""

TICKET_SQL = TICKET_ROWS_CTE + """
SELECT account_id,
       COUNT(*)                                             AS tickets,
       COALESCE(SUM(minutes_spent), 0)                      AS ticket_minutes
FROM t
WHERE CAST(created_at AS DATE) >  CAST($start AS DATE)
  AND CAST(created_at AS DATE) <= CAST($as_of AS DATE)
  AND account_id IS NOT NULL
GROUP BY account_id
ORDER BY account_id
"""

TICKET_BAD_SQL = """
SELECT COUNT(*) FILTER (WHERE {created_at} IS NOT NULL
                          AND TRY_CAST({created_at} AS TIMESTAMP) IS NULL) AS bad_dates,
       COUNT(*) FILTER (WHERE {account_id} IS NULL)                          AS no_account
FROM src
"""

# TICKET_SQL and TICKET_BAD_SQL in one scan of the file (what ticket_summary runs): every
# account_id group carries its in-window count and minutes and its bad-row counts; groups with
# no in-window ticket and the NULL account are dropped after the totals are taken
TICKET_ONE_SCAN_SQL = TICKET_ROWS_CTE + """, f AS (
    SELECT *,
           (CAST(created_at AS DATE) >  CAST($start AS DATE)
            AND CAST(created_at AS DATE) <= CAST($as_of AS DATE)
            AND account_id IS NOT NULL)                     AS in_window
    FROM t
)
SELECT account_id,
       COUNT(*) FILTER (WHERE in_window)                    AS tickets,
       COALESCE(SUM(minutes_spent) FILTER (WHERE in_window), 0) AS ticket_minutes,
       COUNT(*) FILTER (WHERE created_raw IS NOT NULL AND created_at IS NULL) AS bad_dates,
       COUNT(*) FILTER (WHERE account_id IS NULL)           AS no_account
FROM f
GROUP BY account_id
"""

USAGE_SQL = """
WITH u AS (
    SELECT CAST({account_id} AS VARCHAR) AS account_id,
           COALESCE(TRY_STRPTIME(CAST({month} AS VARCHAR), '%Y-%m'),
                    TRY_CAST(CAST({month} AS VARCHAR) AS TIMESTAMP)) AS month_ts,
           TRY_CAST({active_users} AS DOUBLE)     AS active_users,
           TRY_CAST({sessions} AS DOUBLE)         AS sessions,
           TRY_CAST({feature_adoption} AS DOUBLE) AS feature_adoption
    FROM src
), w AS (
    SELECT *,
           (YEAR(month_ts) * 12 + MONTH(month_ts)) - (YEAR(CAST($as_of AS DATE)) * 12
             + MONTH(CAST($as_of AS DATE))) + $months AS month_index
    FROM u
    WHERE month_ts IS NOT NULL AND account_id IS NOT NULL
)
SELECT account_id,
       COUNT(DISTINCT month_index) FILTER (WHERE active_users > 0) AS months_active,
       AVG(active_users)                                          AS avg_active_users,
       AVG(sessions)                                              AS avg_sessions,
       AVG(feature_adoption)                                      AS avg_feature_adoption,
       REGR_SLOPE(active_users, month_index) / NULLIF(AVG(active_users), 0) AS usage_trend
FROM w
WHERE month_index >= 1 AND month_index <= $months
GROUP BY account_id
ORDER BY account_id
"""


def _connect(data: str | Path | Source | pd.DataFrame, text_columns: Sequence[str]
             ) -> tuple[duckdb.DuckDBPyConnection, str]:
    """A DuckDB connection with a view ``src`` over the file or DataFrame; its label.

    One DuckDB thread: a parallel aggregate adds each account's partial sums in whatever
    order the threads finish, so AVG / REGR_SLOPE of decimals could differ in the last bit
    between two runs of the same input. The scans run in the background of pandas work
    (helpers.parallel), where the second core is busy anyway."""
    con = duckdb.connect(config={"threads": 1})
    if isinstance(data, pd.DataFrame):
        con.register("src_df", data)
        con.execute("CREATE VIEW src AS SELECT * FROM src_df")
        return con, "DataFrame"
    path = resolve(data.path if isinstance(data, Source) else data)
    if not path.is_file():
        raise InputDataError("input file not found", file=str(path),
                             hint="check the path in the parameter file")
    suffix = path.suffix.lower()
    p = str(path).replace("'", "''")
    if suffix in (".parquet", ".pq"):
        con.execute(f"CREATE VIEW src AS SELECT * FROM read_parquet('{p}')")
    elif suffix in (".csv", ".txt", ".tsv", ".gz"):
        types = ", ".join(f"'{c}': 'VARCHAR'" for c in text_columns)
        try:  # ids as text (leading zeros survive); without the typing if a column is absent
            con.execute(f"CREATE VIEW src AS SELECT * FROM read_csv('{p}', header = true, "
                        f"types = {{{types}}})")
            con.execute("DESCRIBE src")
        except duckdb.Error:
            con.execute("DROP VIEW IF EXISTS src")
            con.execute(f"CREATE VIEW src AS SELECT * FROM read_csv('{p}', header = true)")
    else:
        raise InputDataError(f"row-level sources must be CSV or Parquet, not '{suffix}'",
                             file=str(path), hint="export the table as CSV or Parquet")
    return con, str(path)


def _columns(con: duckdb.DuckDBPyConnection, label: str, needed: Sequence[str],
             mapping: Mapping[str, str] | None) -> dict[str, str]:
    """canonical -> quoted SQL column, checking every needed column exists."""
    try:
        have = [r[0] for r in con.execute("DESCRIBE src").fetchall()]
    except duckdb.Error as exc:
        raise InputDataError(f"cannot read the table: {exc}", file=label) from None
    mapping = dict(mapping or {})
    out = {}
    lower = {h.casefold(): h for h in have}
    for canonical in needed:
        col = mapping.get(canonical, canonical)
        found = col if col in have else lower.get(col.casefold())
        if found is None:
            import difflib

            close = difflib.get_close_matches(col, have, n=1, cutoff=0.5)
            raise InputDataError(
                f"no column '{col}' for '{canonical}'"
                + (f"; closest column: '{close[0]}'" if close else ""),
                file=label, column=canonical,
                hint=f"map it (mapping: {{{canonical}: '<column>'}}); columns: {have[:30]}")
        out[canonical] = '"' + found.replace('"', '""') + '"'
    return out


def _text_ids(mapping: Mapping[str, str] | None) -> list[str]:
    return [dict(mapping or {}).get("account_id", "account_id")]


def ticket_summary(path_or_df: str | Path | Source | pd.DataFrame, as_of: dt.date,
                   window_days: int, account_ids: Sequence[str] | pd.Series | None = None,
                   *, mapping: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Tickets per account: ``account_id, tickets, ticket_minutes`` over
    ``date(created_at)`` in ``(as_of - window_days, as_of]``.

    With ``account_ids`` the result has exactly those accounts (0 where none). Unreadable
    timestamps are not counted and are reported in ``attrs["warnings"]``.
    """
    out = ticket_counts(path_or_df, as_of, window_days, mapping=mapping)
    return out if account_ids is None else ticket_attach(out, account_ids)


def ticket_counts(path_or_df: str | Path | Source | pd.DataFrame, as_of: dt.date,
                  window_days: int, *, mapping: Mapping[str, str] | None = None
                  ) -> pd.DataFrame:
    """:func:`ticket_summary` of the accounts with tickets in the window (one scan of the
    file, no account list): ``account_id, tickets, ticket_minutes`` sorted by id, warnings
    in ``attrs["warnings"]``."""
    if isinstance(path_or_df, Source) and mapping is None:
        mapping = path_or_df.mapping
    con, label = _connect(path_or_df, _text_ids(mapping))
    try:
        cols = _columns(con, label, ("account_id", "created_at"), mapping)
        has_minutes = True
        try:
            cols.update(_columns(con, label, ("minutes_spent",), mapping))
        except InputDataError:
            has_minutes = False
            cols["minutes_spent"] = "NULL"
        as_of = pd.Timestamp(as_of).date()
        start = as_of - dt.timedelta(days=int(window_days))
        both = con.execute(TICKET_ONE_SCAN_SQL.format(**cols),
                           {"start": start, "as_of": as_of}).df()
    finally:
        con.close()
    bad_dates, no_account = int(both["bad_dates"].sum()), int(both["no_account"].sum())
    keep = (both["tickets"].to_numpy() > 0) & both["account_id"].notna().to_numpy()
    out = both.loc[keep, ["account_id", "tickets", "ticket_minutes"]] \
        .sort_values("account_id", kind="stable").reset_index(drop=True)
    out = out.astype({"account_id": str, "tickets": "int64", "ticket_minutes": "float64"})
    warnings = []
    if bad_dates:
        warnings.append(f"tickets: {bad_dates} row(s) with an unreadable created_at not counted")
    if no_account:
        warnings.append(f"tickets: {no_account} row(s) without account_id not counted")
    if not has_minutes:
        warnings.append("tickets: no minutes_spent column; ticket_minutes = 0")
    out = out.reset_index(drop=True)
    out.attrs["warnings"] = warnings
    return out


def ticket_attach(counts: pd.DataFrame, account_ids: Sequence[str] | pd.Series) -> pd.DataFrame:
    """:func:`ticket_counts` for exactly ``account_ids`` (0 where none), in their order; ticket
    holders missing from the list are counted in a warning."""
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


def usage_summary(path_or_df: str | Path | Source | pd.DataFrame, as_of: dt.date,
                  window_months: int, *, mapping: Mapping[str, str] | None = None
                  ) -> pd.DataFrame:
    """Monthly usage per account over the ``window_months`` months ending with as_of's month.

    Columns: ``account_id, months_active`` (months with active users > 0),
    ``avg_active_users, avg_sessions, avg_feature_adoption`` (means over the months with a
    row), ``usage_trend`` (least-squares slope of active users per month divided by their
    mean: relative change per month; NaN with one month or zero users).
    """
    if isinstance(path_or_df, Source) and mapping is None:
        mapping = path_or_df.mapping
    con, label = _connect(path_or_df, [*_text_ids(mapping), dict(mapping or {}).get(
        "month", "month")])
    try:
        cols = _columns(con, label, USAGE_COLUMNS, mapping)
        out = con.execute(USAGE_SQL.format(**cols),
                          {"as_of": pd.Timestamp(as_of).date(),
                           "months": int(window_months)}).df()
    finally:
        con.close()
    return out.astype({"account_id": str, "months_active": "int64",
                       "avg_active_users": "float64", "avg_sessions": "float64",
                       "avg_feature_adoption": "float64", "usage_trend": "float64"})


def attach(accounts: pd.DataFrame, summary: pd.DataFrame,
           fill: Mapping[str, float] | float | None = 0) -> pd.DataFrame:
    """Left-join a per-account summary onto the accounts (one row per account, order kept).

    ``fill``: value for accounts absent from the summary, per column (mapping) or for every
    summary column (scalar); ``None`` leaves NaN (e.g. usage averages of accounts without
    usage). Raises InputDataError if the summary has duplicate account ids.
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

"""The row-level aggregation (support tickets, monthly usage -> one row per account), defined
once and run where the data lives: DuckDB on this machine, Spark on a cluster, the warehouse
through SQL that SQLGlot writes for its dialect.

Three layers:

* **Shared definition** (:data:`TICKET_GROUPS_SQL`, :data:`USAGE_SQL`): plain SQL over *typed*
  rows (``ticket_rows``: ``account_id`` text, ``created_at`` timestamp, ``minutes_spent``
  double, ``created_unreadable`` 0/1; ``usage_rows``: ``account_id``, ``month_date`` a date,
  ``active_users``, ``sessions``, ``feature_adoption`` doubles). Only constructs every target
  has: ``CAST``, ``CASE``, ``SUM``/``COUNT``/``AVG``, ``COVAR_POP``/``VAR_POP`` (the slope),
  ``EXTRACT(YEAR|MONTH FROM ...)``, ``NULLIF``, ``COALESCE``, the window dates as literals.
  It is parsed once by SQLGlot (generic dialect) and written for each engine with
  ``unsupported_level=RAISE``: a construct a dialect cannot express fails, it is never
  silently dropped.
* **Typing** (engine-specific, thin): DuckDB and Spark read CSV / Parquet files whose columns
  may be text, so they type them with their own ``TRY_CAST`` / date parsing and count the
  unreadable dates; a warehouse table is already typed, so its rows are plain ``CAST``\\ s of
  the user's mapped columns (:func:`warehouse_sql`).
* **Reading**: DuckDB ``read_csv`` / ``read_parquet`` (a file, a directory or a glob of a
  hive-partitioned Parquet dataset, scanned out of core), Spark ``spark.read``.

Why SQL text and not an Ibis expression: the deliverable for a warehouse user *is* SQL they
paste or schedule; SQLGlot gives it for every dialect from one parse with an error on any
construct it cannot map, and adds one small pure-Python dependency (Ibis would add a backend
per engine and still go through SQLGlot).
"""

from __future__ import annotations

import datetime as dt
import difflib
import glob as _glob
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from helpers.core.errors import InputDataError

DIALECTS = ("duckdb", "spark", "snowflake", "bigquery", "postgres")
Kind = Literal["tickets", "usage"]

TICKET_COLUMNS = ("account_id", "created_at", "minutes_spent")
USAGE_COLUMNS = ("account_id", "month", "active_users", "sessions", "feature_adoption")
#: columns of the per-account summaries (what the queries produce, what a summary input holds)
TICKET_SUMMARY_COLUMNS = ("account_id", "tickets", "ticket_minutes")
USAGE_SUMMARY_COLUMNS = ("account_id", "months_active", "avg_active_users", "avg_sessions",
                         "avg_feature_adoption", "usage_trend")

# ------------------------------------------------------------------ the shared definition
# Tickets: one group per account_id (NULL included) with its in-window count and minutes and
# its bad-row counts, so one scan gives the summary and the data-quality warnings. A ticket is
# in the window when date(created_at) is in (start, as_of].
TICKET_GROUPS_SQL = """
SELECT account_id,
       SUM(in_window)                                            AS tickets,
       COALESCE(SUM(CASE WHEN in_window = 1 THEN minutes_spent END), 0) AS ticket_minutes,
       SUM(created_unreadable)                                   AS bad_dates,
       SUM(CASE WHEN account_id IS NULL THEN 1 ELSE 0 END)       AS no_account
FROM (
    SELECT account_id, minutes_spent, created_unreadable,
           CASE WHEN CAST(created_at AS DATE) > CAST('{start}' AS DATE)
                 AND CAST(created_at AS DATE) <= CAST('{as_of}' AS DATE)
                 AND account_id IS NOT NULL THEN 1 ELSE 0 END    AS in_window
    FROM ticket_rows
) AS f
GROUP BY account_id
"""

# Usage over the `months` calendar months ending with as_of's month: month_index 1..months
# (`base` = as_of's year * 12 + month - months). Slope of active users on month_index by least
# squares = COVAR_POP / VAR_POP over the pairs where both are present, over the mean.
USAGE_SQL = """
SELECT account_id,
       COUNT(DISTINCT CASE WHEN active_users > 0 THEN month_index END) AS months_active,
       AVG(active_users)                                         AS avg_active_users,
       AVG(sessions)                                             AS avg_sessions,
       AVG(feature_adoption)                                     AS avg_feature_adoption,
       COVAR_POP(active_users, month_index)
         / NULLIF(VAR_POP(CASE WHEN active_users IS NOT NULL THEN month_index END), 0)
         / NULLIF(AVG(active_users), 0)                          AS usage_trend
FROM (
    SELECT account_id, active_users, sessions, feature_adoption,
           CAST(EXTRACT(YEAR FROM month_date) * 12 + EXTRACT(MONTH FROM month_date) - {base}
                AS DOUBLE)                                       AS month_index
    FROM usage_rows
    WHERE month_date IS NOT NULL AND account_id IS NOT NULL
) AS w
WHERE month_index >= 1 AND month_index <= {months}
GROUP BY account_id
ORDER BY account_id
"""

# the warehouse's typed rows: the user's table and mapped columns, already typed there
_WAREHOUSE_ROWS = {
    "tickets": """SELECT CAST({account_id} AS VARCHAR) AS account_id,
       CAST({created_at} AS TIMESTAMP) AS created_at,
       CAST({minutes_spent} AS DOUBLE) AS minutes_spent,
       0 AS created_unreadable
FROM {table}""",
    "usage": """SELECT CAST({account_id} AS VARCHAR) AS account_id,
       CAST({month} AS DATE) AS month_date,
       CAST({active_users} AS DOUBLE) AS active_users,
       CAST({sessions} AS DOUBLE) AS sessions,
       CAST({feature_adoption} AS DOUBLE) AS feature_adoption
FROM {table}""",
}

# the engines' typed rows over a view `src` of the file(s): text columns parsed, bad dates kept
# as NULL and counted; <TEXT> and <PARSE_MONTH> are the engine's text type and month parser
_ENGINE_ROWS_TEMPLATE = {
    "tickets": """SELECT CAST({account_id} AS <TEXT>) AS account_id,
       TRY_CAST({created_at} AS TIMESTAMP) AS created_at,
       TRY_CAST({minutes_spent} AS DOUBLE) AS minutes_spent,
       CASE WHEN {created_at} IS NOT NULL AND TRY_CAST({created_at} AS TIMESTAMP) IS NULL
            THEN 1 ELSE 0 END AS created_unreadable
FROM src""",
    "usage": """SELECT CAST({account_id} AS <TEXT>) AS account_id,
       CAST(COALESCE(<PARSE_MONTH>,
                     TRY_CAST(CAST({month} AS <TEXT>) AS TIMESTAMP)) AS DATE) AS month_date,
       TRY_CAST({active_users} AS DOUBLE) AS active_users,
       TRY_CAST({sessions} AS DOUBLE) AS sessions,
       TRY_CAST({feature_adoption} AS DOUBLE) AS feature_adoption
FROM src""",
}
_ENGINE_DIALECT = {
    "duckdb": {"<TEXT>": "VARCHAR",
               "<PARSE_MONTH>": "TRY_STRPTIME(CAST({month} AS VARCHAR), '%Y-%m')"},
    "spark": {"<TEXT>": "STRING",
              "<PARSE_MONTH>": "try_to_timestamp(CAST({month} AS STRING), 'yyyy-MM')"},
}


def _engine_rows(engine: str, kind: str) -> str:
    sql = _ENGINE_ROWS_TEMPLATE[kind]
    for marker, word in _ENGINE_DIALECT[engine].items():
        sql = sql.replace(marker, word)
    return sql


_ENGINE_ROWS = {(e, k): _engine_rows(e, k) for e in _ENGINE_DIALECT for k in _ENGINE_ROWS_TEMPLATE}


@dataclass(frozen=True)
class Window:
    """The as-of window of one aggregation (literals in the generated SQL)."""

    as_of: dt.date
    days: int = 365     # tickets: date(created_at) in (as_of - days, as_of]
    months: int = 12    # usage: the `months` calendar months ending with as_of's month

    def values(self, kind: Kind) -> dict[str, Any]:
        """The SQL parameters of the window: ``start`` / ``as_of`` dates (tickets) or the
        first month number ``base`` and ``months`` (usage).

        Parameters
        ----------
        kind : Kind
            ``tickets`` or ``usage``.

        Returns
        -------
        dict[str, Any]
            The parameters by name.
        """
        as_of = pd.Timestamp(self.as_of).date()
        if kind == "tickets":
            return {"start": (as_of - dt.timedelta(days=int(self.days))).isoformat(),
                    "as_of": as_of.isoformat()}
        return {"base": as_of.year * 12 + as_of.month - int(self.months),
                "months": int(self.months)}


def _sqlglot():
    import sqlglot
    from sqlglot.errors import ErrorLevel

    return sqlglot, ErrorLevel


def transpile(sql: str, dialect: str, *, read: str | None = None, pretty: bool = True) -> str:
    """``sql`` (generic SQL, or ``read``'s dialect) written for ``dialect``; raises
    ``sqlglot.errors.UnsupportedError`` on any construct the dialect cannot express and on any
    function SQLGlot does not know (which it would copy through unmapped).

    Parameters
    ----------
    sql : str
        The SQL.
    dialect : str
        The target dialect.
    read : str or None
        The dialect ``sql`` is written in (None: generic).
    pretty : bool
        Format the output.

    Returns
    -------
    str
        The SQL in ``dialect``.
    """
    sqlglot, level = _sqlglot()
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect '{dialect}'; one of {', '.join(DIALECTS)}")
    from sqlglot import exp
    from sqlglot.errors import UnsupportedError

    tree = sqlglot.parse_one(sql, read=read)
    unknown = sorted({node.name for node in tree.find_all(exp.Anonymous)})
    if unknown:  # SQLGlot would pass an unknown function through unchanged, unmapped
        raise UnsupportedError(f"function(s) SQLGlot cannot map between dialects: {unknown}")
    return tree.sql(dialect=dialect, pretty=pretty, unsupported_level=level.RAISE)


def quote(name: str, dialect: str | None = None) -> str:
    """A column name as a quoted identifier of ``dialect`` (generic: double quotes).

    Parameters
    ----------
    name : str
        The column name.
    dialect : str or None
        The dialect (None: generic).

    Returns
    -------
    str
        The quoted identifier.
    """
    from sqlglot import exp

    return exp.to_identifier(name, quoted=True).sql(dialect=dialect)


def shared_sql(kind: Kind, window: Window, dialect: str) -> str:
    """The shared aggregation over ``ticket_rows`` / ``usage_rows`` for ``dialect``.

    Parameters
    ----------
    kind : Kind
        ``tickets`` or ``usage``.
    window : Window
        The as-of window.
    dialect : str
        The target dialect.

    Returns
    -------
    str
        The query.
    """
    text = TICKET_GROUPS_SQL if kind == "tickets" else USAGE_SQL
    return transpile(text.format(**window.values(kind)), dialect)


def warehouse_sql(window: Window, dialect: str, *, tables: Mapping[str, str] | None = None,
                  mappings: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, str]:
    """The queries to run in a warehouse, for ``dialect``: ``tickets`` (the ticket summary,
    one row per account with a ticket in the window), ``ticket_checks`` (rows without an
    account) and ``usage`` (the usage summary). ``tables``: kind -> table name (default
    ``tickets`` / ``usage``); ``mappings``: kind -> {canonical: column in the table}.

    Parameters
    ----------
    window : Window
        The as-of window.
    dialect : str
        The warehouse's dialect.
    tables : Mapping[str, str] or None
        Role -> the warehouse table.
    mappings : Mapping[str, Mapping[str, str]] or None
        Role -> canonical -> warehouse column names.

    Returns
    -------
    dict[str, str]
        Query name -> SQL.
    """
    from sqlglot import exp

    tables = {"tickets": "tickets", "usage": "usage", **dict(tables or {})}
    mappings = dict(mappings or {})
    out: dict[str, str] = {}
    for kind, cols in (("tickets", TICKET_COLUMNS), ("usage", USAGE_COLUMNS)):
        mapping = dict(mappings.get(kind) or {})
        qcols = {c: quote(mapping.get(c, c)) for c in cols}
        rows = _WAREHOUSE_ROWS[kind].format(table=exp.to_table(tables[kind]).sql(), **qcols)
        body = (TICKET_GROUPS_SQL if kind == "tickets" else USAGE_SQL).format(
            **Window.values(window, kind))
        if kind == "tickets":
            head = f"WITH ticket_rows AS ({rows}), ticket_groups AS ({body})\n"
            out["tickets"] = transpile(
                head + "SELECT account_id, tickets, ticket_minutes FROM ticket_groups "
                "WHERE tickets > 0 AND account_id IS NOT NULL ORDER BY account_id", dialect)
            out["ticket_checks"] = transpile(
                head + "SELECT SUM(no_account) AS rows_without_account, "
                "SUM(bad_dates) AS unreadable_created_at FROM ticket_groups", dialect)
        else:
            out["usage"] = transpile(f"WITH usage_rows AS ({rows})\n{body}", dialect)
    return out


def render_queries(queries: Mapping[str, str], dialect: str, params_file: str = "") -> str:
    """The queries of :func:`warehouse_sql` as one script with a header per query.

    Parameters
    ----------
    queries : Mapping[str, str]
        Query name -> SQL.
    dialect : str
        The dialect (in the header).
    params_file : str
        The parameter file (in the header).

    Returns
    -------
    str
        The script.
    """
    notes = {
        "tickets": "ticket summary: one row per account with a ticket in the window -> "
                   "inputs.ticket_summary",
        "ticket_checks": "rows not counted (no account; a warehouse column is typed, so no "
                         "unreadable dates)",
        "usage": "usage summary: one row per account with usage in the window -> "
                 "inputs.usage_summary",
    }
    head = (f"-- segmentation-workbook aggregation, dialect {dialect}"
            + (f", parameters {params_file}" if params_file else "")
            + "\n-- generated by `workbook sql` (helpers.collect.aggregate); do not edit by hand\n")
    return head + "".join(f"\n-- {name}: {notes[name]}\n{sql};\n"
                          for name, sql in queries.items())


def write_summary(summary: pd.DataFrame, out: str | Path) -> Path:
    """Write a per-account summary as Parquet (or CSV by suffix, formula-injection safe).

    Parameters
    ----------
    summary : pd.DataFrame
        The per-account summary.
    out : str or Path
        The file (``.parquet`` or ``.csv``).

    Returns
    -------
    Path
        The path written.
    """
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        from helpers.core.export import safe_csv

        return safe_csv(summary, path)
    summary.to_parquet(path, index=False)
    return path


# ------------------------------------------------------------------ inputs: files and columns
def is_dataset(path: str | Path) -> bool:
    """A directory or a glob (a Parquet dataset), not one file.

    Parameters
    ----------
    path : str or Path
        The input path.

    Returns
    -------
    bool
        Whether it is a dataset.
    """
    return any(ch in str(path) for ch in "*?[") or Path(path).is_dir()


def dataset_files(path: str | Path) -> list[Path]:
    """The files of a single-file input, a directory (every ``*.parquet`` under it, hive
    partition folders included) or a glob, sorted.

    Parameters
    ----------
    path : str or Path
        The input path.

    Returns
    -------
    list[Path]
        The files.
    """
    p = str(path)
    if any(ch in p for ch in "*?["):
        files = [Path(f) for f in _glob.glob(p, recursive=True) if Path(f).is_file()]
    elif Path(p).is_dir():
        files = [f for f in Path(p).rglob("*") if f.is_file() and f.suffix.lower() in
                 (".parquet", ".pq")]
    else:
        files = [Path(p)] if Path(p).is_file() else []
    return sorted(files)


def dataset_fingerprint(path: str | Path) -> dict[str, Any]:
    """``size_bytes``, ``rows`` (from the Parquet footers) and ``sha256`` of a dataset input:
    the SHA-256 of its file list (names relative to the dataset and sizes), since a dataset of
    billions of rows is too large to hash whole at every run.

    Parameters
    ----------
    path : str or Path
        The dataset path.

    Returns
    -------
    dict[str, Any]
        ``size_bytes``, ``rows``, ``sha256``.
    """
    import hashlib

    import pyarrow.parquet as pq

    files = dataset_files(path)
    base = Path(str(path).split("*")[0])
    digest = hashlib.sha256()
    rows = 0
    for f in files:
        rel = f.relative_to(base) if f.is_relative_to(base) else f
        digest.update(f"{rel.as_posix()}\t{f.stat().st_size}\n".encode())
        rows += pq.ParquetFile(f).metadata.num_rows
    return {"size_bytes": sum(f.stat().st_size for f in files), "rows": rows,
            "sha256": "files:" + digest.hexdigest()}


def parquet_glob(path: str | Path) -> str:
    """The glob DuckDB / Spark read for a dataset input.

    Parameters
    ----------
    path : str or Path
        The dataset path.

    Returns
    -------
    str
        The glob.
    """
    p = str(path)
    if any(ch in p for ch in "*?["):
        return p
    return str(Path(p) / "**" / "*.parquet")


def match_columns(have: Sequence[str], needed: Sequence[str], mapping: Mapping[str, str] | None,
                  label: str, dialect: str) -> dict[str, str]:
    """canonical -> quoted column of ``have`` (exact name, else case-insensitive), checking
    every needed column exists (InputDataError naming the closest column otherwise).

    Parameters
    ----------
    have : Sequence[str]
        The columns present.
    needed : Sequence[str]
        The canonical columns needed.
    mapping : Mapping[str, str] or None
        Canonical -> file column names.
    label : str
        Names the input in errors.
    dialect : str
        Quoting dialect.

    Returns
    -------
    dict[str, str]
        Canonical -> quoted column.
    """
    mapping = dict(mapping or {})
    lower = {h.casefold(): h for h in have}
    out = {}
    for canonical in needed:
        col = mapping.get(canonical, canonical)
        found = col if col in have else lower.get(col.casefold())
        if found is None:
            close = difflib.get_close_matches(col, list(have), n=1, cutoff=0.5)
            raise InputDataError(
                f"no column '{col}' for '{canonical}'"
                + (f"; closest column: '{close[0]}'" if close else ""),
                file=label, column=canonical,
                hint=f"map it (mapping: {{{canonical}: '<column>'}}); columns: {list(have)[:30]}")
        out[canonical] = quote(found, dialect)
    return out


def _typed_columns(have: Sequence[str], kind: Kind, mapping: Mapping[str, str] | None,
                   label: str, dialect: str) -> tuple[dict[str, str], list[str]]:
    """Quoted source columns for the engine's typing layer; warnings (no minutes_spent)."""
    if kind == "usage":
        return match_columns(have, USAGE_COLUMNS, mapping, label, dialect), []
    cols = match_columns(have, ("account_id", "created_at"), mapping, label, dialect)
    try:
        cols.update(match_columns(have, ("minutes_spent",), mapping, label, dialect))
        return cols, []
    except InputDataError:
        cols["minutes_spent"] = "NULL"
        return cols, ["tickets: no minutes_spent column; ticket_minutes = 0"]


# ------------------------------------------------------------------ results (both engines)
def ticket_result(groups: pd.DataFrame, warnings: Sequence[str] = ()) -> pd.DataFrame:
    """The ticket summary from the per-group query result: accounts with a ticket in the window,
    sorted by id; bad-row counts as ``attrs["warnings"]``.

    Parameters
    ----------
    groups : pd.DataFrame
        The per-group query result.
    warnings : Sequence[str]
        Bad-row messages.

    Returns
    -------
    pd.DataFrame
        The ticket summary.
    """
    bad_dates, no_account = int(groups["bad_dates"].sum()), int(groups["no_account"].sum())
    keep = (groups["tickets"].to_numpy() > 0) & groups["account_id"].notna().to_numpy()
    out = groups.loc[keep, list(TICKET_SUMMARY_COLUMNS)] \
        .sort_values("account_id", kind="stable").reset_index(drop=True)
    out = out.astype({"account_id": str, "tickets": "int64", "ticket_minutes": "float64"})
    notes = []
    if bad_dates:
        notes.append(f"tickets: {bad_dates} row(s) with an unreadable created_at not counted")
    if no_account:
        notes.append(f"tickets: {no_account} row(s) without account_id not counted")
    out.attrs["warnings"] = notes + list(warnings)
    return out


def usage_result(frame: pd.DataFrame) -> pd.DataFrame:
    """The usage summary with its dtypes, sorted by id.

    Parameters
    ----------
    frame : pd.DataFrame
        The query result.

    Returns
    -------
    pd.DataFrame
        The usage summary.
    """
    out = frame.astype({"account_id": str, "months_active": "int64",
                        "avg_active_users": "float64", "avg_sessions": "float64",
                        "avg_feature_adoption": "float64", "usage_trend": "float64"})
    return out.sort_values("account_id", kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------ DuckDB engine
@dataclass(frozen=True)
class DuckDBConfig:
    """DuckDB settings: ``memory_limit`` (e.g. ``"3GB"``; None = DuckDB's default, 80 % of RAM),
    ``temp_directory`` (where a scan larger than memory spills; None = DuckDB's default),
    ``threads`` (1: the same sums in the same order on every run)."""

    memory_limit: str | None = None
    temp_directory: str | None = None
    threads: int = 1


def duckdb_connect(data: str | Path | pd.DataFrame, text_columns: Sequence[str],
                   config: DuckDBConfig | None = None):
    """A DuckDB connection with a view ``src`` over a CSV / Parquet file, a Parquet dataset
    (directory or glob, hive partitions as columns) or a DataFrame; its label.

    Parameters
    ----------
    data : str or Path or pd.DataFrame
        A file, dataset or DataFrame.
    text_columns : Sequence[str]
        Columns read as text (ids).
    config : DuckDBConfig or None
        DuckDB settings (defaults when None).

    Returns
    -------
    tuple[duckdb.DuckDBPyConnection, str]
        The connection and the input's label.
    """
    import duckdb

    from helpers.core.paths import resolve

    cfg = config or DuckDBConfig()
    settings: dict[str, Any] = {"threads": int(cfg.threads)}
    if cfg.memory_limit:
        settings["memory_limit"] = str(cfg.memory_limit)
    if cfg.temp_directory:
        tmp = resolve(cfg.temp_directory)
        tmp.mkdir(parents=True, exist_ok=True)
        settings["temp_directory"] = str(tmp)
    con = duckdb.connect(config=settings)
    if isinstance(data, pd.DataFrame):
        con.register("src_df", data)
        con.execute("CREATE VIEW src AS SELECT * FROM src_df")
        return con, "DataFrame"
    path = resolve(data)
    if is_dataset(data) or is_dataset(path):
        if not dataset_files(path):
            con.close()
            raise InputDataError("no Parquet files in the dataset", file=str(path),
                                 hint="point the path at a Parquet file, a directory of "
                                      "Parquet files or a glob such as 'usage/**/*.parquet'")
        g = parquet_glob(path).replace("'", "''")
        con.execute(f"CREATE VIEW src AS SELECT * FROM read_parquet('{g}', "
                    "hive_partitioning = true, union_by_name = true)")
        return con, str(path)
    if not path.is_file():
        con.close()
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
        con.close()
        raise InputDataError(f"row-level sources must be CSV or Parquet, not '{suffix}'",
                             file=str(path), hint="export the table as CSV or Parquet")
    return con, str(path)


def duckdb_types(con, label: str) -> dict[str, str]:
    """Column -> type of the ``src`` view (InputDataError when it cannot be read).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection from :func:`duckdb_connect`.
    label : str
        Names the input in errors.

    Returns
    -------
    dict[str, str]
        Column -> DuckDB type.
    """
    import duckdb

    try:
        return {r[0]: str(r[1]) for r in con.execute("DESCRIBE src").fetchall()}
    except duckdb.Error as exc:
        raise InputDataError(f"cannot read the table: {exc}", file=label) from None


def duckdb_columns(con, label: str) -> list[str]:
    """The columns of the ``src`` view.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A connection from :func:`duckdb_connect`.
    label : str
        Names the input in errors.

    Returns
    -------
    list[str]
        The column names.
    """
    return list(duckdb_types(con, label))


def _is_date_type(types: Mapping[str, str], quoted: str, dialect: str) -> bool:
    """The quoted source column is a DATE / TIMESTAMP already."""
    from sqlglot import exp, parse_one

    name = parse_one(quoted, read=dialect).find(exp.Identifier).name
    return str(types.get(name, "")).upper().split("(")[0].startswith(("DATE", "TIMESTAMP"))


def _typed_month(rows_sql: str, dialect: str) -> str:
    """The usage typing with a plain CAST of a month column that is a date or timestamp."""
    head, _, rest = rows_sql.partition("CAST(COALESCE(")
    _, _, tail = rest.partition(" AS DATE) AS month_date,")
    return head + "CAST({month} AS DATE) AS month_date," + tail


def run_duckdb(kind: Kind, data: str | Path | pd.DataFrame, window: Window, *,
               mapping: Mapping[str, str] | None = None,
               config: DuckDBConfig | None = None) -> pd.DataFrame:
    """The ticket or usage summary computed by DuckDB over a file, dataset or DataFrame.

    Parameters
    ----------
    kind : Kind
        ``tickets`` or ``usage``.
    data : str or Path or pd.DataFrame
        A file, dataset or DataFrame.
    window : Window
        The as-of window.
    mapping : Mapping[str, str] or None
        Canonical -> file column names.
    config : DuckDBConfig or None
        DuckDB settings.

    Returns
    -------
    pd.DataFrame
        The summary.
    """
    mapping = dict(mapping or {})
    text = [mapping.get("account_id", "account_id")]
    if kind == "usage":
        text.append(mapping.get("month", "month"))
    con, label = duckdb_connect(data, text, config)
    try:
        types = duckdb_types(con, label)
        cols, warnings = _typed_columns(list(types), kind, mapping, label, "duckdb")
        rows = _ENGINE_ROWS["duckdb", kind]
        if kind == "usage" and _is_date_type(types, cols["month"], "duckdb"):
            rows = _typed_month(rows, "duckdb")  # a typed dataset: no text parsing per row
        name = "ticket_rows" if kind == "tickets" else "usage_rows"
        con.execute(f"CREATE VIEW {name} AS " + rows.format(**cols))
        frame = con.execute(shared_sql(kind, window, "duckdb")).df()
    finally:
        con.close()
    return ticket_result(frame, warnings) if kind == "tickets" else usage_result(frame)


# ------------------------------------------------------------------ Spark engine
def spark_session(master: str = "local[2]", app: str = "workbook-aggregate",
                  conf: Mapping[str, str] | None = None):
    """A SparkSession (``getOrCreate``): UTC session time zone, UI off, 2 shuffle partitions
    unless ``conf`` says otherwise (on a cluster, pass the cluster's master or leave it to
    spark-submit).

    Parameters
    ----------
    master : str
        The Spark master.
    app : str
        The application name.
    conf : Mapping[str, str] or None
        Extra Spark settings.

    Returns
    -------
    pyspark.sql.SparkSession
        The session.
    """
    from pyspark.sql import SparkSession

    settings = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2",
                "spark.sql.session.timeZone": "UTC", **dict(conf or {})}
    builder = SparkSession.builder.appName(app)
    if master:
        builder = builder.master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def spark_read(spark, path: str | Path):
    """A Spark DataFrame over a CSV file (header, every column as text) or Parquet (a file, a
    directory with hive partitions, or a glob).

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        A SparkSession.
    path : str or Path
        A CSV / Parquet file, directory or glob.

    Returns
    -------
    pyspark.sql.DataFrame
        The rows.
    """
    from helpers.core.paths import resolve

    p = resolve(path)
    if not (is_dataset(path) or is_dataset(p)) and not p.is_file():
        raise InputDataError("input file not found", file=str(p),
                             hint="check the path in the parameter file")
    if not is_dataset(p) and p.suffix.lower() in (".csv", ".txt", ".gz"):
        return spark.read.option("header", True).csv(str(p))
    return spark.read.parquet(str(p))


def run_spark(spark, kind: Kind, path: str | Path, window: Window, *,
              mapping: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The ticket or usage summary computed by Spark (the same shared SQL, Spark dialect).

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        A SparkSession.
    kind : Kind
        ``tickets`` or ``usage``.
    path : str or Path
        The rows.
    window : Window
        The as-of window.
    mapping : Mapping[str, str] or None
        Canonical -> file column names.

    Returns
    -------
    pd.DataFrame
        The summary.
    """
    frame = spark_read(spark, path)
    label = str(path)
    types = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
    cols, warnings = _typed_columns(list(types), kind, mapping, label, "spark")
    frame.createOrReplaceTempView("src")
    rows = _ENGINE_ROWS["spark", kind]
    if kind == "usage" and _is_date_type(types, cols["month"], "spark"):
        rows = _typed_month(rows, "spark")
    name = "ticket_rows" if kind == "tickets" else "usage_rows"
    spark.sql(rows.format(**cols)).createOrReplaceTempView(name)
    result = spark.sql(shared_sql(kind, window, "spark")).toArrow().to_pandas()
    return ticket_result(result, warnings) if kind == "tickets" else usage_result(result)


def aggregate(kind: Kind, path: str | Path, window: Window, *, engine: str = "duckdb",
              mapping: Mapping[str, str] | None = None, config: DuckDBConfig | None = None,
              spark=None, master: str = "local[2]") -> pd.DataFrame:
    """The ticket or usage summary of ``path`` on ``engine`` (``duckdb`` or ``spark``).

    Parameters
    ----------
    kind : Kind
        ``tickets`` or ``usage``.
    path : str or Path
        The rows.
    window : Window
        The as-of window.
    engine : str
        ``duckdb`` or ``spark``.
    mapping : Mapping[str, str] or None
        Canonical -> file column names.
    config : DuckDBConfig or None
        DuckDB settings.
    spark : pyspark.sql.SparkSession or None
        A SparkSession (None: one is made on ``master``).
    master : str
        The Spark master.

    Returns
    -------
    pd.DataFrame
        The summary.
    """
    if engine == "duckdb":
        return run_duckdb(kind, path, window, mapping=mapping, config=config)
    if engine == "spark":
        return run_spark(spark or spark_session(master), kind, path, window, mapping=mapping)
    raise ValueError(f"unknown engine '{engine}' (duckdb or spark)")

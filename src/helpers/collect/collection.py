"""Step 3 of the method: data collection.

Join every enrichment source onto the customer list without losing or duplicating an
account (by domain, then by normalised name), standardise what has several formats or
definitions (money, industry labels), derive the hypothesis measures, and run the QA pass
(completeness, staleness, implausible values, fields needing judgement) that sends weak
hypotheses back to Step 2. A collection worksheet carries the fields still missing to a human
and back, with provenance; a data manifest hashes every input file.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from helpers.collect import hypotheses
from helpers.core.errors import AnalysisError, InputDataError
from helpers.core.io import isin_text, normalise_domain, normalise_name, parse_money, parse_number
from helpers.core.params import Collection, Currency

JOIN_REPORT_COLUMNS = [
    "source", "join_on", "accounts", "source_rows", "matched", "matched_by_key",
    "matched_by_name", "match_rate", "unmatched_accounts", "unmatched_source_rows",
    "duplicate_source_keys", "blank_source_keys",
]
LOG_COLUMNS = ["field", "rule", "rows_fixed", "rows_left", "detail"]
NAME_COLUMNS = ("account_name", "company_name", "name")


def _plain_dtype(s: pd.Series) -> bool:
    """Numbers, yes/no and dates: no cell can be blank text."""
    return (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
            or pd.api.types.is_datetime64_any_dtype(s)) and \
        not isinstance(s.dtype, pd.CategoricalDtype)


def _blank(s: pd.Series) -> pd.Series:
    """Missing or only spaces (numeric columns: missing; no text conversion of 1M numbers)."""
    if _plain_dtype(s):
        return s.isna()
    return s.isna() | s.astype("str").str.strip().eq("")


#: placeholder text meaning "no value" in a hypothesis column (case and spaces ignored)
PLACEHOLDERS = ("n/a", "#n/a", "n.a.", "tbd", "tba", "-", "--", "?", "??", "???", "unknown",
                "not available")
_MARK = "__unreadable__"


def blank_placeholders(df: pd.DataFrame, columns) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Set placeholder text (:data:`PLACEHOLDERS`: N/A, TBD, -, ?) in the text ``columns`` of
    ``df`` to missing, so that it never becomes a category. Returns ``(df, marks)``: per column
    with a placeholder, the boolean mask of those cells.

    Parameters
    ----------
    df : pd.DataFrame
        The table.
    columns : iterable of str
        The text columns to clean (absent ones skipped).

    Returns
    -------
    tuple[pd.DataFrame, dict[str, pd.Series]]
        ``(df, marks)``: the table (a copy only when something changed) and, per column
        with a placeholder, its mask.
    """
    out, marks = df, {}
    for col in [c for c in dict.fromkeys(columns) if c in df.columns]:
        x = df[col]
        if _plain_dtype(x):
            continue
        codes, uniques = pd.factorize(x)  # each distinct label once, not every cell
        is_ph = pd.Series(uniques).astype("str").str.strip().str.casefold().isin(PLACEHOLDERS)
        if not is_ph.any():
            continue
        hit = pd.Series(np.append(is_ph.to_numpy(dtype=bool), False)[codes], index=x.index)
        out = out.copy() if out is df else out
        out[col] = x.where(~hit)
        marks[col] = hit
    return out, marks


def unreadable_marks(before: pd.DataFrame, after: pd.DataFrame,
                     marks: dict[str, pd.Series]) -> dict[str, pd.Series]:
    """Per column, the cells of ``before`` that held text but are missing in ``after`` (a
    placeholder blanked by :func:`blank_placeholders`, or text not readable as a number by
    :func:`coerce_numeric`).

    Parameters
    ----------
    before : pd.DataFrame
        The columns as read.
    after : pd.DataFrame
        The same columns after cleaning and parsing.
    marks : dict[str, pd.Series]
        Placeholder masks from :func:`blank_placeholders`.

    Returns
    -------
    dict[str, pd.Series]
        Column -> mask of the cells left unreadable.
    """
    out = dict(marks)
    for col in after.columns:
        if col not in before.columns or _plain_dtype(before[col]) or \
                not pd.api.types.is_numeric_dtype(after[col]):
            continue
        lost = after[col].isna()
        if lost.any():  # only the missing cells are looked at (most of a column has a value)
            lost[lost] = ~_blank(before.loc[lost, col])
        if lost.any():
            out[col] = lost | out[col] if col in out else lost
    return out


def _key(series: pd.Series, how: str) -> pd.Series:
    """The normalised join key of a column (domain / name / account_id)."""
    if how == "domain":
        k = normalise_domain(series)
    elif how == "name":
        k = normalise_name(series)
    else:
        k = series.astype("str").str.strip().where(series.notna())
    if k.dtype == "str" and k.index.equals(series.index):
        k = k.rename(None)  # already text on the same rows: no round trip through objects
    else:
        k = pd.Series(np.asarray(k, dtype=object), index=series.index).astype("str")
    return k.where(~_blank(k))


def _dedupe(src: pd.DataFrame, key: str, date_column: str | None) -> pd.Series:
    """Boolean mask of the rows kept per key: the most recent record (file order breaks ties)."""
    has_key = src[key].notna()
    order_cols, asc = [key], [True]
    if date_column and date_column in src.columns:
        src = src.assign(_when=pd.to_datetime(src[date_column], errors="coerce"))
        order_cols.append("_when")
        asc.append(False)
    order_cols.append("_src_row")
    asc.append(False)
    ordered = src.loc[has_key].sort_values(order_cols, ascending=asc, kind="stable",
                                           na_position="last")
    keep = ~ordered[key].duplicated(keep="first")
    mask = pd.Series(False, index=src.index)
    mask.loc[keep.index] = keep
    return mask


def join_source(accounts: pd.DataFrame, source_df: pd.DataFrame,
                on: Literal["account_id", "domain", "name"] = "domain",
                name_fallback: bool = True, *, source_name: str = "source",
                date_column: str | None = "record_updated",
                source_key: str | None = None, source_name_column: str | None = None,
                ) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Left-join one enrichment source onto the accounts, keeping every account exactly once.

    Keys are normalised (``helpers.core.io.normalise_domain`` / ``normalise_name``). Several
    source rows with one key are resolved to the most recent record (``date_column``, then the
    later row in the file) and the others reported. Accounts unmatched by ``on`` are matched by
    normalised name (``name_fallback``) against the source rows not already used. Source
    columns that collide with account columns get the suffix ``_<source_name>``; the column
    ``<source_name>_match`` says how each account matched (key / name / missing).

    Parameters
    ----------
    accounts : pandas.DataFrame
        One row per account (unique ``account_id``).
    source_df : pandas.DataFrame
        The source's rows.
    on : {"account_id", "domain", "name"}
        The join key.
    name_fallback : bool
        Match the accounts left over by normalised name.
    source_name : str
        Names the source in suffixes, the match column and the report.
    date_column : str or None
        The record date that picks the most recent of duplicate keys.
    source_key, source_name_column : str or None
        The source's key / name column when not the default.

    Returns
    -------
    tuple[pandas.DataFrame, dict, pandas.DataFrame]
        ``(joined, report_row, unmatched_source_rows)``; ``unmatched_source_rows`` is the
        source rows used by no account with ``source_row`` (0-based position in
        ``source_df``) and a ``reason`` (duplicate key, blank key, no matching account).
    """
    orig_index = accounts.index
    accounts = accounts.reset_index(drop=True)
    src = source_df.reset_index(drop=True).copy()
    src["_src_row"] = np.arange(len(src))
    name_col = source_name_column or next((c for c in NAME_COLUMNS if c in src.columns), None)
    key_col, acc_key_col = _join_columns(accounts, src, on, source_name,
                                         source_key or (name_col if on == "name" else on))
    use_name = bool(name_fallback and on != "name" and name_col is not None
                    and "account_name" in accounts.columns)

    src["_k"] = _key(src[key_col], on)
    keep_key = _dedupe(src, "_k", date_column)
    dup_key = src["_k"].notna() & ~keep_key

    acc_k = _key(accounts[acc_key_col], on)
    lookup = pd.Series(src.loc[keep_key, "_src_row"].to_numpy(dtype="float64"),
                       index=src.loc[keep_key, "_k"].to_numpy())
    match_row = pd.Series(acc_k.map(lookup).to_numpy(dtype="float64"), index=accounts.index)
    how = pd.Series(np.where(match_row.notna(), on, None), index=accounts.index, dtype="str")
    if use_name:
        _match_by_name(accounts, src, name_col, dup_key, match_row, how, date_column)

    payload_cols = [c for c in source_df.columns if c != "account_id" or on != "account_id"]
    rename = {c: (f"{c}_{source_name}" if c in accounts.columns else c) for c in payload_cols}
    payload = src[payload_cols + ["_src_row"]].rename(columns=rename)
    left = accounts.assign(_src_row=match_row.to_numpy())
    joined = left.merge(payload, on="_src_row", how="left", sort=False).drop(columns="_src_row")
    joined[f"{source_name}_match"] = how
    joined.index = orig_index
    if len(joined) != len(accounts):  # pragma: no cover - guarded by the key dedup above
        raise AnalysisError(f"join with {source_name} changed the account count "
                            f"({len(accounts)} -> {len(joined)})")
    report, unmatched = _join_outcome(source_df, src, match_row, how, dup_key, use_name,
                                      on, source_name)
    return joined, report, unmatched


def _join_columns(accounts: pd.DataFrame, src: pd.DataFrame, on: str, source_name: str,
                  key_col: str | None) -> tuple[str, str]:
    """The source's and the accounts' key columns; a missing one (or duplicate account ids)
    stops with InputDataError naming the source and the column."""
    if "account_id" not in accounts.columns:
        raise InputDataError("accounts have no account_id column", column="account_id")
    if accounts["account_id"].duplicated().any():
        dups = accounts.loc[accounts["account_id"].duplicated(), "account_id"].tolist()
        raise InputDataError("account_id is not unique in the account list", column="account_id",
                             rows=dups, hint="deduplicate the customer list in Step 1 first")
    if key_col is None or key_col not in src.columns:
        raise InputDataError(f"{source_name}: no '{key_col or on}' column to join on",
                             file=source_name, column=key_col or on,
                             hint=f"map the source's key column to '{on}' in the "
                                  "parameter file (inputs.<source>.mapping)")
    acc_key_col = {"domain": "domain", "name": "account_name", "account_id": "account_id"}[on]
    if acc_key_col not in accounts.columns:
        raise InputDataError(f"accounts have no '{acc_key_col}' column to join {source_name} on",
                             column=acc_key_col)
    return key_col, acc_key_col


def _match_by_name(accounts: pd.DataFrame, src: pd.DataFrame, name_col: str,
                   dup_key: pd.Series, match_row: pd.Series, how: pd.Series,
                   date_column: str | None) -> None:
    """Match the accounts still unmatched by normalised name against the source rows not
    used (sets ``src["_kn"]``, updates ``match_row`` and ``how`` in place)."""
    used = match_row.dropna().astype(int).unique()
    # source names are normalised only for the rows the fallback may take (not a
    # duplicate key, not matched by key): the slow text pass skips the matched majority
    free = (~dup_key & ~src["_src_row"].isin(used)).to_numpy(dtype=bool)
    src["_kn"] = pd.Series(np.nan, index=src.index, dtype="str")
    if free.any():
        src.loc[free, "_kn"] = _key(src.loc[free, name_col], "name")
    pool = src.loc[free & src["_kn"].notna().to_numpy(dtype=bool)]
    pool = pool.loc[_dedupe(pool, "_kn", date_column)]
    name_lookup = pd.Series(pool["_src_row"].to_numpy(dtype="float64"),
                            index=pool["_kn"].to_numpy())
    need = match_row.isna()
    hit = _key(accounts.loc[need, "account_name"], "name").map(name_lookup).dropna()
    match_row.loc[hit.index] = hit.astype("float64")
    how.loc[hit.index] = "name"


def _join_outcome(source_df: pd.DataFrame, src: pd.DataFrame, match_row: pd.Series,
                  how: pd.Series, dup_key: pd.Series, use_name: bool, on: str,
                  source_name: str) -> tuple[dict, pd.DataFrame]:
    """The join report row and the source rows no account used, with the reason."""
    used = set(match_row.dropna().astype(int))
    # a blank key is a reason only when the row had no name to fall back on either
    blank = src["_k"].isna() & (src["_kn"].isna() if use_name else True)
    reason = np.select([dup_key, blank], ["duplicate key (older record kept out)",
                                          "blank key"], default="no matching account")
    unmatched = source_df.reset_index(drop=True).assign(source_row=np.arange(len(src)),
                                                        reason=reason)
    unmatched = unmatched.loc[~src["_src_row"].isin(used)].reset_index(drop=True)
    n_acc, matched = len(match_row), int(match_row.notna().sum())
    report = {
        "source": source_name, "join_on": on, "accounts": n_acc, "source_rows": len(src),
        "matched": matched, "matched_by_key": int((how == on).sum()),
        "matched_by_name": int((how == "name").sum()) if on != "name" else 0,
        "match_rate": matched / n_acc if n_acc else float("nan"),
        "unmatched_accounts": n_acc - matched, "unmatched_source_rows": len(unmatched),
        "duplicate_source_keys": int(dup_key.sum()),
        "blank_source_keys": int(src["_k"].isna().sum()),
    }
    return report, unmatched


# --------------------------------------------------------------------------- standardising
def _log(field: str, rule: str, fixed: int, left: int, detail: str = "") -> dict:
    return {"field": field, "rule": rule, "rows_fixed": int(fixed), "rows_left": int(left),
            "detail": detail}


def standardise_money(df: pd.DataFrame, column: str, currency: Currency | None = None,
                      *, currency_column: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse a money column with mixed formats ("$5M", "5,000,000", "EUR 4.2M") into the base
    currency via ``helpers.core.io.parse_money``.

    The column is replaced by the value in ``currency.base``; ``<column>_raw`` keeps the text
    as given, ``<column>_currency`` the currency read and ``<column>_parsed`` whether parsing
    succeeded. Returns ``(df, log)`` (log columns ``LOG_COLUMNS``).

    Parameters
    ----------
    df : pd.DataFrame
        The table.
    column : str
        The money column.
    currency : Currency or None
        Base currency and rates (defaults when None).
    currency_column : str or None
        A column naming each row's currency.

    Returns
    -------
    tuple[pd.DataFrame, pd.DataFrame]
        ``(df, log)``; log columns ``LOG_COLUMNS``.
    """
    currency = currency or Currency()
    if column not in df.columns:
        return df, pd.DataFrame([_log(column, "parse money", 0, 0, "column absent")],
                                columns=LOG_COLUMNS)
    out = df.copy()
    raw = out[column]
    given_cur = out[currency_column] if currency_column else currency.base
    parsed = parse_money(raw, given_cur, currency.rates, currency.base)
    parsed.index = out.index
    present = ~_blank(raw)
    ok = parsed["parsed_ok"].fillna(False).astype(bool) & present
    plain = pd.to_numeric(raw, errors="coerce").notna() if not pd.api.types.is_numeric_dtype(raw) \
        else raw.notna()
    cur = parsed["currency"].astype("str").where(parsed["currency"].notna())
    foreign = ok & cur.notna() & cur.ne(currency.base)
    out[f"{column}_raw"] = raw.astype("str").where(raw.notna())
    out[column] = pd.to_numeric(parsed["value_base"], errors="coerce").astype("float64").where(ok)
    out[f"{column}_currency"] = cur
    out[f"{column}_parsed"] = ok | ~present
    log = [
        _log(column, "text amount parsed to a number (suffixes k/M/B, separators, symbols)",
             (ok & out[column].notna() & ~plain).sum(), (present & ~ok).sum(),
             "unparseable values are left empty; see <column>_raw"),
        _log(column, f"converted to {currency.base}", foreign.sum(), 0,
             ", ".join(f"{c}: {n}" for c, n in cur[foreign].value_counts().sort_index().items())),
    ]
    return out, pd.DataFrame(log, columns=LOG_COLUMNS)


def _label_key(s: pd.Series) -> pd.Series:
    return s.astype("str").str.strip().str.replace(r"\s+", " ", regex=True).str.casefold()


def standardise_industry(series: pd.Series, mapping: dict[str, str]
                         ) -> tuple[pd.Series, pd.DataFrame]:
    """Map raw industry labels to canonical ones (case- and whitespace-insensitive).

    Returns ``(canonical, unmapped_labels)``: labels not in ``mapping`` keep their (stripped)
    raw text, are never guessed, and are listed in ``unmapped_labels`` (label, rows).

    Parameters
    ----------
    series : pd.Series
        The raw industry labels.
    mapping : dict[str, str]
        Raw label -> canonical industry.

    Returns
    -------
    tuple[pd.Series, pd.DataFrame]
        ``(canonical, unmapped_labels)``.
    """
    keymap = {" ".join(str(k).split()).casefold(): v for k, v in (mapping or {}).items()}
    present = ~_blank(series)
    keys = _label_key(series).where(present)
    mapped = keys.map(keymap)
    stripped = series.astype("str").str.strip().where(present)
    canonical = mapped.where(mapped.notna(), stripped).astype("str").rename(series.name)
    um = present & mapped.isna()
    unmapped = (stripped[um].value_counts().rename_axis("label").reset_index(name="rows")
                .sort_values(["rows", "label"], ascending=[False, True], kind="stable")
                .reset_index(drop=True))
    return canonical, unmapped


def industry_log(series: pd.Series, canonical: pd.Series, field: str = "industry"
                 ) -> pd.DataFrame:
    """Standardisation log rows for an industry column (changed vs unmapped labels).

    Parameters
    ----------
    series : pd.Series
        The raw labels.
    canonical : pd.Series
        The standardised labels.
    field : str
        The column name for the log.

    Returns
    -------
    pd.DataFrame
        Log rows (``LOG_COLUMNS``).
    """
    present = ~_blank(series)
    changed = present & series.astype("str").ne(canonical.astype("str"))
    return pd.DataFrame([_log(field, "label mapped to canonical industry (industry_map)",
                              changed.sum(), 0)], columns=LOG_COLUMNS)


def _unmapped_log(field: str, unmapped: pd.DataFrame) -> dict:
    return _log(field, "label not in industry_map: kept as-is, flagged", 0,
                unmapped["rows"].sum() if len(unmapped) else 0,
                ", ".join(unmapped["label"].astype("str").head(20)))


# --------------------------------------------------------------------------- quality
def _register_fields(register: pd.DataFrame) -> pd.DataFrame:
    cols = hypotheses.measure_columns(register)
    return cols.groupby("id", sort=False)["source_column"].agg(list).rename("fields")


def quality_report(table: pd.DataFrame, register: pd.DataFrame, as_of,
                   rules: Collection | None = None,
                   staleness_column: str | dict[str, str] | None = None, *,
                   standardisation_log: pd.DataFrame | None = None,
                   measure_log: pd.DataFrame | None = None,
                   unreadable: dict[str, int] | None = None) -> pd.DataFrame:
    """QA of each hypothesis's measure: one row per hypothesis.

    Columns: id, variable, fields (source columns), rows, non_missing, completeness,
    stale_share (share of non-missing values whose record date in ``staleness_column`` is
    older than ``stale_after_days`` before ``as_of``; a str applies to public-lookup and
    paid-source hypotheses, a dict maps id or variable -> date column), out_of_range
    (values outside ``rules.plausible_ranges`` of the variable or its source columns),
    rows_fixed / rows_left (from the standardisation log), needs_judgement, send_back, reason,
    unreadable (accounts left without a value because theirs was unreadable: a placeholder
    such as N/A, TBD, -, ? or text that is not a number; ``unreadable``: column -> accounts).

    Parameters
    ----------
    table : pandas.DataFrame
        The analysis table.
    register : pandas.DataFrame
        The hypothesis register rows.
    as_of : date-like
        The analysis date (staleness).
    rules : Collection or None
        ``collection`` parameters (defaults when None).
    staleness_column : str, dict or None
        The record-date column(s), as above.
    standardisation_log, measure_log : pandas.DataFrame or None
        The logs of the standardisation and of :func:`hypotheses.derive_measures`.
    unreadable : dict or None
        Column -> accounts whose value was unreadable.

    Returns
    -------
    pandas.DataFrame
        One row per hypothesis, the columns above.
    """
    rules = rules or Collection()
    cutoff = pd.Timestamp(as_of) - pd.Timedelta(days=rules.stale_after_days)
    fields = _register_fields(register)
    mlog = measure_log.set_index("id") if measure_log is not None and len(measure_log) else None
    slog = standardisation_log if standardisation_log is not None else \
        pd.DataFrame(columns=LOG_COLUMNS)
    rows = []
    for r in register.itertuples(index=False):
        src_cols = fields.get(r.id, [])
        var_present = r.variable in table.columns
        values = table[r.variable] if var_present else pd.Series(pd.NA, index=table.index)
        has = ~_blank(values) if var_present else pd.Series(False, index=table.index)
        nn = int(has.sum())
        completeness = nn / len(table) if len(table) else float("nan")
        date_col = None
        if isinstance(staleness_column, dict):
            date_col = staleness_column.get(r.id) or staleness_column.get(r.variable)
        elif staleness_column and r.collection in ("public lookup", "paid source"):
            date_col = staleness_column
        stale_share = float("nan")
        if date_col and date_col in table.columns and nn:
            when = pd.to_datetime(table[date_col], errors="coerce")
            stale_share = float((has & (when < cutoff)).sum() / nn)
        touched = slog.loc[slog["field"].isin([r.variable, *src_cols])]
        oor = _out_of_range(table, [r.variable, *src_cols], rules) + int(
            touched.loc[touched["rule"].astype("str").str.startswith(OUT_OF_RANGE_RULE),
                        "rows_left"].sum())
        reasons = _send_back_reasons(r, table, src_cols, values, has, completeness,
                                     stale_share, mlog, rules)
        rows.append({
            "id": r.id, "variable": r.variable, "fields": ", ".join(src_cols), "rows": len(table),
            "non_missing": nn, "completeness": completeness, "stale_share": stale_share,
            "out_of_range": oor, "rows_fixed": int(touched["rows_fixed"].sum()),
            "rows_left": int(touched["rows_left"].sum()),
            "needs_judgement": bool(set([r.variable, *src_cols]) & set(rules.needs_judgement)),
            "send_back": bool(reasons), "reason": "; ".join(reasons) or None,
            "unreadable": sum(int((unreadable or {}).get(c, 0))
                              for c in dict.fromkeys([r.variable, *src_cols])),
        })
    return pd.DataFrame(rows)


def _out_of_range(table: pd.DataFrame, columns: list[str], rules: Collection) -> int:
    """Values outside ``rules.plausible_ranges`` in ``columns`` (each column once)."""
    oor = 0
    for col in dict.fromkeys(columns):
        if col in rules.plausible_ranges and col in table.columns:
            lo, hi = rules.plausible_ranges[col]
            x = pd.to_numeric(table[col], errors="coerce")
            bad = pd.Series(False, index=table.index)
            if lo is not None:
                bad |= x < lo
            if hi is not None:
                bad |= x > hi
            oor += int(bad.sum())
    return oor


def _send_back_reasons(r: Any, table: pd.DataFrame, src_cols: list[str], values: pd.Series,
                       has: pd.Series, completeness: float, stale_share: float,
                       mlog: pd.DataFrame | None, rules: Collection) -> list[str]:
    """Why a hypothesis goes back to Step 2: measure not derived or absent, incomplete,
    a single value, stale."""
    var_present = r.variable in table.columns
    reasons = []
    if mlog is not None and r.id in mlog.index and bool(mlog.loc[r.id, "flagged"]):
        reasons.append(f"measure not derived: {mlog.loc[r.id, 'status']}"
                       + (f" ({mlog.loc[r.id, 'missing_columns']})"
                          if mlog.loc[r.id, "missing_columns"] else ""))
    elif not var_present:
        missing_src = [c for c in src_cols if c not in table.columns]
        reasons.append("measure column absent"
                       + (f" (source columns missing: {', '.join(missing_src)})"
                          if missing_src else ""))
    if var_present and completeness < rules.min_completeness:
        reasons.append(f"completeness {completeness:.0%} < {rules.min_completeness:.0%}")
    if var_present and has.any() and (values[has].nunique() if _plain_dtype(values)
                                      else values[has].astype(str).nunique()) == 1:
        only = values[has].iloc[0]
        only = f"{only:g}" if isinstance(only, int | float) else str(only)
        kind = "a single category" if getattr(r, "kind", "") != "numeric" else "constant"
        reasons.append(f"{kind}: every account with a value has {only[:40]!r}, so it "
                       "cannot separate better from worse customers")
    if stale_share == stale_share and stale_share > rules.max_stale_share:
        reasons.append(f"{stale_share:.0%} of values older than {rules.stale_after_days} "
                       f"days (> {rules.max_stale_share:.0%})")
    return reasons


def coerce_numeric(df: pd.DataFrame, columns, *, source_name: str = ""
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse text columns that hold numbers (``helpers.core.io.parse_number``: separators, k/M
    suffixes...); unreadable cells become missing and are counted in the log.

    Parameters
    ----------
    df : pd.DataFrame
        The table.
    columns : iterable of str
        The columns to parse (numeric ones skipped).
    source_name : str
        Names the source in the log.

    Returns
    -------
    tuple[pd.DataFrame, pd.DataFrame]
        ``(df, log)``.
    """
    out = df.copy()
    rows = []
    for col in [c for c in columns if c in out.columns]:
        x = out[col]
        if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
            continue
        values, bad = parse_number(x)
        values = pd.Series(np.asarray(values, dtype="float64"), index=out.index)
        present = ~_blank(x)
        plain = pd.to_numeric(x.where(present), errors="coerce").notna()
        out[col] = values
        n_bad = int((present & values.isna()).sum())
        rows.append(_log(col, "text parsed to a number" + (f" ({source_name})" if source_name
                                                           else ""),
                         (present & values.notna() & ~plain).sum(), n_bad,
                         "unreadable values left empty" if n_bad else ""))
    return out, pd.DataFrame(rows, columns=LOG_COLUMNS)


OUT_OF_RANGE_RULE = "outside plausible range"


def flag_out_of_range(table: pd.DataFrame, rules: Collection | None = None
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Blank values outside ``rules.plausible_ranges`` (never guessed) and log how many.

    Parameters
    ----------
    table : pd.DataFrame
        The analysis table.
    rules : Collection or None
        ``collection`` parameters (defaults when None).

    Returns
    -------
    tuple[pd.DataFrame, pd.DataFrame]
        ``(table, log)``.
    """
    rules = rules or Collection()
    out = table.copy()
    log = []
    for col, (lo, hi) in rules.plausible_ranges.items():
        if col not in out.columns or not pd.api.types.is_numeric_dtype(out[col]):
            continue
        x = out[col]
        bad = pd.Series(False, index=out.index)
        if lo is not None:
            bad |= x < lo
        if hi is not None:
            bad |= x > hi
        if bad.any():
            out[col] = x.where(~bad)
            log.append(_log(col, f"{OUT_OF_RANGE_RULE} [{lo}, {hi}]: set to missing",
                            0, bad.sum(), "kept out of the analysis, listed in quality_report"))
    return out, pd.DataFrame(log, columns=LOG_COLUMNS)


# --------------------------------------------------------------------------- orchestration
def _coalesce(table: pd.DataFrame, column: str, source_name: str,
              prefer_source: bool = True) -> tuple[pd.DataFrame, dict]:
    """Combine an account column with the same column of a joined source (``<col>_<source>``).

    ``prefer_source``: the source's value wins where present and the account value fills its
    gaps; otherwise the reverse. The log counts changed rows and disagreements.
    """
    other = f"{column}_{source_name}"
    out = table.copy()
    a, b = out[column], out[other]
    if pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_numeric_dtype(b):
        b = pd.to_numeric(b, errors="coerce")
    has_a, has_b = ~_blank(a), ~_blank(b)
    take_b = has_b if prefer_source else (has_b & ~has_a)
    try:
        out[column] = a.where(~take_b, b)
    except (TypeError, ValueError):
        out[column] = a.astype("object").where(~take_b, b)
    both = has_a & has_b
    if pd.api.types.is_numeric_dtype(a):
        differ = both & (pd.to_numeric(b, errors="coerce") != a)
    else:
        differ = both & (_label_key(a) != _label_key(b))
    changed = int((take_b & (~has_a | differ)).sum())
    left = int(_blank(out[column]).sum())
    winner, filler = (source_name, "account value") if prefer_source else ("account", source_name)
    detail = (f"{int(differ.sum())} row(s) where account and {source_name} disagree; "
              f"raw values kept in '{column}' (account) / '{other}'")
    return out, _log(column, f"{winner} value where present, {filler} fills gaps",
                     changed, left, detail)


@dataclass(frozen=True)
class Sources:
    """Step 3's inputs as read from the files (:func:`helpers.collect.read.read_sources`):
    each frame keeps its ``attrs`` (``source``: the file; ``warnings``). ``None``: not given.

    ``firmographics`` / ``survey`` are joined on ``firmographics_on`` / ``survey_on``
    (``inputs.<source>.join_on``); ``tickets`` / ``usage`` are per-account summaries for the
    as-of window; ``worksheet`` is the researchers' filled collection worksheet
    (``attrs["source"]``: its file); ``industry_map`` maps raw label -> canonical industry.
    """

    firmographics: pd.DataFrame | None = None
    firmographics_on: str = "account_id"
    tickets: pd.DataFrame | None = None
    usage: pd.DataFrame | None = None
    survey: pd.DataFrame | None = None
    survey_on: str = "account_id"
    worksheet: pd.DataFrame | None = None
    industry_map: Mapping[str, str] = field(default_factory=dict)


@dataclass
class _Assembly:
    """The analysis table being built and what the reports collect on the way (joins,
    standardisation log, unmatched source rows, unmapped industries, unreadable cells)."""

    table: pd.DataFrame
    rules: Collection
    currency: Currency
    industry_map: Mapping[str, str]
    hyp_cols: list[str]
    numeric_cols: list[str]
    joins: list[dict] = field(default_factory=list)
    logs: list[pd.DataFrame] = field(default_factory=list)
    unmatched: list[pd.DataFrame] = field(default_factory=list)
    unmapped: list[pd.DataFrame] = field(default_factory=list)
    unread: dict[str, pd.Series] = field(default_factory=dict)
    staleness: dict[str, str] = field(default_factory=dict)
    provenance: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["account_id", "field", "value", "source"]))

    def readable(self, df: pd.DataFrame, name: str) -> tuple[pd.DataFrame,
                                                              dict[str, pd.Series]]:
        """Placeholders blanked, numbers parsed; the cells left unreadable per column."""
        before = df
        # numbers: coerce_numeric leaves a placeholder or other text missing (marked below)
        df, marks = blank_placeholders(df, [c for c in self.hyp_cols
                                            if c not in self.numeric_cols])
        df, log = coerce_numeric(df, self.numeric_cols, source_name=name)
        self.logs.append(log)
        hyp = self.hyp_cols
        return df, unreadable_marks(before[[c for c in hyp if c in before.columns]],
                                    df[[c for c in hyp if c in df.columns]], marks)

    def std_industry(self, df: pd.DataFrame, name: str) -> pd.DataFrame:
        """Industry labels mapped to canonical ones (logged; unmapped labels listed)."""
        if "industry" not in df.columns:
            return df
        raw = df["industry"]
        canon, unmapped = standardise_industry(raw, dict(self.industry_map))
        df = df.assign(industry=canon)
        self.logs.extend([industry_log(raw, canon, "industry").assign(
                              rule=lambda d: d["rule"] + f" ({name})"),
                          pd.DataFrame([_unmapped_log("industry", unmapped)],
                                       columns=LOG_COLUMNS
                                       ).assign(rule=lambda d: d["rule"] + f" ({name})")])
        self.unmapped.append(unmapped.assign(source=name))
        return df

    def add_source(self, name: str, df: pd.DataFrame, on: str, date_col: str | None) -> None:
        """Standardise one enrichment source and join it onto the table (row-preserving);
        account columns it also holds are coalesced (``collection.prefer_enrichment``)."""
        rules = self.rules
        for money in [c for c in rules.money_columns if c in df.columns]:
            df, log = standardise_money(df, money, self.currency)
            self.logs.append(log.assign(field=money, rule=log["rule"] + f" ({name})"))
        df, marks = self.readable(df, name)
        df = df.assign(**{f"{_MARK}{c}": m for c, m in marks.items()})
        df = self.std_industry(df, name)
        before = set(self.table.columns)
        table, rep, um = join_source(self.table, df, on=on, name_fallback=rules.name_match,
                                     source_name=name, date_column=date_col)
        for c in marks:  # onto the accounts: True where the matched source row was unreadable
            hit = table.pop(f"{_MARK}{c}").fillna(False).astype(bool)
            self.unread[c] = self.unread[c] | hit if c in self.unread else hit
        self.joins.append(rep)
        self.unmatched.append(_compact_unmatched(um, name, on))
        for c in df.columns:
            if f"{c}_{name}" in table.columns and c in before and c not in ("domain",
                                                                            "account_name"):
                table, row = _coalesce(table, c, name, rules.prefer_enrichment)
                self.logs.append(pd.DataFrame([row], columns=LOG_COLUMNS))
        self.table = table

    def add_summary(self, name: str, summary: pd.DataFrame, fill_zero: tuple[str, ...]
                    ) -> None:
        """Merge a per-account summary (tickets, usage) with its warnings logged."""
        self.logs.append(_warnings_log(name, summary))
        self.table, row = _merge_summary(self.table, summary, name, fill_zero=fill_zero)
        self.logs.append(row)

    def join_all(self, sources: Sources) -> None:
        """Firmographics (with their record date for staleness), the ticket and usage
        summaries, the survey: in this order."""
        if sources.firmographics is not None:
            self.add_source("firmographics", sources.firmographics, sources.firmographics_on,
                            "record_updated")
            if "record_updated" in self.table.columns:
                self.table["record_updated"] = pd.to_datetime(self.table["record_updated"],
                                                              errors="coerce")
                self.staleness = {"firmographics": "record_updated"}
        if sources.tickets is not None:
            self.add_summary("tickets", sources.tickets, ("tickets", "ticket_minutes"))
        if sources.usage is not None:
            self.add_summary("usage", sources.usage, ("months_active",))
        if sources.survey is not None:
            self.add_source("survey", sources.survey, sources.survey_on, None)

    def standardise(self) -> None:
        """Money columns still text, unmapped industries flagged, implausible values blanked."""
        table = self.table
        for money in [c for c in self.rules.money_columns if c in table.columns
                      and not pd.api.types.is_numeric_dtype(table[c])]:
            table, log = standardise_money(table, money, self.currency)
            self.logs.append(log)
        if "industry" in table.columns:
            table["industry_unmapped"] = (~_blank(table["industry"])
                                          & ~table["industry"].isin(
                                              set(self.industry_map.values())))
        table, log = flag_out_of_range(table, self.rules)
        self.logs.append(log)
        self.table = table

    def fill_worksheet(self, worksheet: pd.DataFrame) -> None:
        """Gaps filled from the researchers' worksheet (never a value already there)."""
        self.table, self.provenance = fill_from_worksheet(self.table, worksheet)
        where = worksheet.attrs.get("path", worksheet.attrs.get("source", "worksheet"))
        self.logs.append(pd.DataFrame(
            [_log(str(f), f"filled from the collection worksheet ({where})", int(n), 0)
             for f, n in self.provenance["field"].value_counts(sort=False).items()],
            columns=LOG_COLUMNS))


def _assembly(scored_accounts: pd.DataFrame, register: pd.DataFrame,
              industry_map: Mapping[str, str], rules: Collection, currency: Currency
              ) -> _Assembly:
    """The accounts as the table to build on: measure columns found, placeholders blanked,
    numbers parsed, industries standardised."""
    mcols = hypotheses.measure_columns(register).merge(
        register[["id", "kind", "measure_type"]], on="id")
    numeric_cols = list(dict.fromkeys(
        list(rules.plausible_ranges)
        + mcols.loc[mcols["kind"].eq("numeric") | mcols["measure_type"].eq("expr"),
                    "source_column"].tolist()))
    numeric_cols = [c for c in numeric_cols if c not in rules.money_columns]
    hyp_cols = list(dict.fromkeys(mcols["source_column"].astype(str)))
    asm = _Assembly(scored_accounts.reset_index(drop=True).copy(), rules, currency,
                    industry_map, hyp_cols, numeric_cols)
    asm.table, marks = asm.readable(asm.table, "accounts")
    asm.unread.update(marks)
    asm.table = asm.std_industry(asm.table, "accounts")
    return asm


def build_analysis_table(sources: Sources, scored_accounts: pd.DataFrame,
                         register: pd.DataFrame, *, rules: Collection, currency: Currency,
                         as_of: dt.date | pd.Timestamp
                         ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Assemble ``analysis_table``: one row per kept, scored account with every measure.

    Joins the firmographics (by their ``join_on`` with name fallback), the ticket and usage
    summaries for the as-of window and the survey; standardises money and industry; fills
    gaps from the collection worksheet; derives the hypothesis measures; runs the QA pass.
    Pure: reads no file (the sources come read, :func:`helpers.collect.read.read_sources`).

    Parameters
    ----------
    sources : Sources
        The enrichment sources, summaries, worksheet and industry map.
    scored_accounts : pandas.DataFrame
        Step 1's ``scored_accounts`` (one row per kept account).
    register : pandas.DataFrame
        Step 2's ``hypotheses`` table (any register rows).
    rules : Collection
        ``collection`` parameters (money columns, plausible ranges, staleness, ...).
    currency : Currency
        Base currency and exchange rates.
    as_of : datetime.date or pandas.Timestamp
        The analysis date (staleness).

    Returns
    -------
    tuple[pandas.DataFrame, dict[str, pandas.DataFrame]]
        ``(analysis_table, reports)`` with reports ``join_report``, ``quality_report``,
        ``standardisation_log``, ``measure_log``, ``unmatched_source_rows``,
        ``unmapped_industries``, ``hypotheses`` (the register) and ``worksheet_provenance``.
    """
    asm = _assembly(scored_accounts, register, sources.industry_map, rules, currency)
    asm.join_all(sources)
    asm.standardise()
    if sources.worksheet is not None:  # researchers' filled worksheet: fills gaps only
        asm.fill_worksheet(sources.worksheet)
    if len(asm.table) != len(scored_accounts):  # pragma: no cover - joins keep every row
        raise AnalysisError(f"analysis table has {len(asm.table)} rows, expected "
                            f"{len(scored_accounts)}")
    return _measures_and_reports(asm, scored_accounts, register, pd.Timestamp(as_of))


def _measures_and_reports(asm: _Assembly, scored_accounts: pd.DataFrame,
                          register: pd.DataFrame, as_of: pd.Timestamp
                          ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Derive the measures, run the QA pass and keep the columns the analysis uses."""
    table, mlog = hypotheses.derive_measures(asm.table, register)
    filled = [lg for lg in asm.logs if len(lg)]  # none when nothing needed standardising
    std_log = pd.concat(filled, ignore_index=True) if filled else \
        pd.DataFrame(columns=LOG_COLUMNS)
    staleness = asm.staleness
    stale = {r.id: staleness["firmographics"] for r in register.itertuples()
             if staleness and r.collection in ("public lookup", "paid source")}
    # unreadable: no value in the end (another source or the worksheet may have filled it)
    n_unread = {c: int((m & _blank(table[c])).sum()) for c, m in asm.unread.items()
                if c in table.columns}
    qr = quality_report(table, register, as_of, asm.rules, stale or None,
                        standardisation_log=std_log, measure_log=mlog,
                        unreadable={c: n for c, n in n_unread.items() if n})
    needed = hypotheses.measure_columns(register)["source_column"].tolist()
    keep = list(dict.fromkeys(
        list(scored_accounts.columns)
        + [c for c in needed if c in table.columns]
        + [v for v in register["variable"] if v in table.columns]
        + [c for c in table.columns if c.endswith("_match") or c.endswith("_unmapped")]
        + ([staleness["firmographics"]] if staleness else [])))
    um = (pd.concat(asm.unmatched, ignore_index=True) if asm.unmatched
          else pd.DataFrame(columns=UNMATCHED_COLUMNS))
    reports = {
        "join_report": pd.DataFrame(asm.joins, columns=JOIN_REPORT_COLUMNS),
        "quality_report": qr,
        "standardisation_log": std_log,
        "measure_log": mlog,
        "unmatched_source_rows": um,
        "unmapped_industries": (pd.concat(asm.unmapped, ignore_index=True) if asm.unmapped
                                else pd.DataFrame(columns=["label", "rows", "source"])),
        "hypotheses": register,
        "worksheet_provenance": asm.provenance,
    }
    return table[keep], reports


UNMATCHED_COLUMNS = ["source", "source_row", "key", "name", "reason"]


def _compact_unmatched(um: pd.DataFrame, name: str, on: str) -> pd.DataFrame:
    """Unmatched source rows in a fixed shape: source, source_row, key, name, reason."""
    key = um[on] if on in um.columns else pd.Series(pd.NA, index=um.index)
    ncol = next((c for c in NAME_COLUMNS if c in um.columns), None)
    nm = um[ncol] if ncol else pd.Series(pd.NA, index=um.index)
    row = um["source_row"] if "source_row" in um.columns else pd.Series(um.index)
    return pd.DataFrame({"source": name, "source_row": row.to_numpy(dtype="int64"),
                         "key": key.astype("str").to_numpy(), "name": nm.astype("str").to_numpy(),
                         "reason": um["reason"].astype("str").to_numpy()},
                        columns=UNMATCHED_COLUMNS)


def _warnings_log(name: str, summary: pd.DataFrame) -> pd.DataFrame:
    rows = [_log(name, "source warning", 0, 0, w) for w in summary.attrs.get("warnings", [])]
    return pd.DataFrame(rows, columns=LOG_COLUMNS)


def _merge_summary(table: pd.DataFrame, summary: pd.DataFrame, name: str,
                   fill_zero: tuple[str, ...] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Left-merge a per-account summary; accounts absent from it get 0 for ``fill_zero``."""
    if summary["account_id"].duplicated().any():
        raise InputDataError(f"{name} summary has several rows per account", column="account_id")
    new = [c for c in summary.columns if c != "account_id" and c not in table.columns]
    out = table.merge(summary[["account_id", *new]], on="account_id", how="left",
                      validate="one_to_one")
    absent = ~isin_text(out["account_id"], summary["account_id"])
    rows = []
    for c in fill_zero:
        if c in new:
            out[c] = out[c].fillna(0)
            if pd.api.types.is_integer_dtype(summary[c]):
                out[c] = out[c].astype("int64")
            rows.append(_log(c, f"no {name} records in the window: set to 0", absent.sum(), 0))
    return out, pd.DataFrame(rows, columns=LOG_COLUMNS)


# --------------------------------------------------------------------------- worksheet
WORKSHEET_SHEET = "worksheet"
INSTRUCTIONS_SHEET = "instructions"
#: rows the XLSX worksheet holds at most (an XLSX writer does ~15k rows/s; a sheet stops at
#: 1,048,576 rows); a longer list goes whole to a CSV next to it, the XLSX keeps the first
#: rows of every field (a balanced share each)
WORKSHEET_XLSX_ROWS = 20_000


def _collectable(register: pd.DataFrame) -> pd.DataFrame:
    reg = register
    if "selected" in reg.columns:
        reg = reg.loc[reg["selected"].astype(bool)]
    cols = hypotheses.measure_columns(reg).merge(reg, on=["id", "variable"], how="left")
    return cols


def make_worksheet(table: pd.DataFrame, register: pd.DataFrame, path: str | os.PathLike,
                   max_xlsx_rows: int = WORKSHEET_XLSX_ROWS) -> pd.DataFrame:
    """Export the (account, field) pairs still missing to an XLSX worksheet for collectors.

    Sheet ``worksheet``: account_id, account_name, domain, field, value (to fill), note.
    Sheet ``instructions``: one row per field (kind, hypotheses, source, how to enter, rows
    missing, rows in the XLSX, estimated minutes). Written with ``helpers.core.export.safe_xlsx``
    (formula-safe). More than ``max_xlsx_rows`` missing pairs: the whole list is written to a
    formula-safe CSV with the same columns next to the XLSX (``<name>.csv``, which
    :func:`helpers.collect.read.read_worksheet` also reads) and the XLSX keeps, per field, its
    first rows by account_id (an equal share of ``max_xlsx_rows``, unused shares passed on).
    Returns all rows.

    Parameters
    ----------
    table : pd.DataFrame
        The analysis table.
    register : pd.DataFrame
        The register (selected rows are collected).
    path : str or os.PathLike
        The XLSX to write.
    max_xlsx_rows : int
        Rows the XLSX holds at most.

    Returns
    -------
    pd.DataFrame
        Every missing (account, field) row.
    """
    from helpers.core.export import safe_csv, safe_xlsx

    fields = _collectable(register)
    fields = fields.loc[fields["source_column"].isin(table.columns)]
    per_field = fields.groupby("source_column", sort=True).agg(
        kind=("kind", "first"), hypotheses=("id", lambda s: ", ".join(sorted(set(s)))),
        statement=("statement", "first"), source=("source", "first"),
        proxy_notes=("proxy_notes", "first"), minutes_per_point=("minutes_per_point", "max"))
    kinds = {c: ("numeric" if pd.api.types.is_numeric_dtype(table[c])
                 else "boolean" if pd.api.types.is_bool_dtype(table[c]) else "text")
             for c in per_field.index}
    ident = [c for c in ("account_id", "account_name", "domain") if c in table.columns]
    wide = table[ident + list(per_field.index)]
    missing = wide[list(per_field.index)].apply(_blank)
    long = missing.assign(account_id=wide["account_id"]).melt(
        id_vars="account_id", var_name="field", value_name="_missing")
    long = long.loc[long["_missing"]].drop(columns="_missing")
    long = long.merge(wide[ident], on="account_id", how="left")
    long["value"] = pd.Series(pd.NA, index=long.index, dtype="str")
    long["note"] = ""
    long = long[ident + ["field", "value", "note"]].sort_values(
        ["field", "account_id"], kind="stable").reset_index(drop=True)
    how = {"numeric": "a number only (no units, no thousands separators)",
           "boolean": "yes or no", "text": "text exactly as the source states it"}
    instr = per_field.reset_index().rename(columns={"source_column": "field"})
    instr["enter_as"] = instr["field"].map(lambda f: how[kinds[f]])
    instr["rows_missing"] = instr["field"].map(long["field"].value_counts()).fillna(0).astype(int)
    instr["estimated_minutes"] = instr["rows_missing"] * instr["minutes_per_point"]
    sheet = long
    csv_path = Path(path).with_suffix(".csv")
    if len(long) > max_xlsx_rows:
        quota = _balanced_quota(instr["rows_missing"].to_numpy(), max_xlsx_rows)
        rank = long.groupby("field", sort=False).cumcount().to_numpy()
        cap = long["field"].map(dict(zip(instr["field"], quota, strict=True))).to_numpy()
        sheet = long.loc[rank < cap]
        safe_csv(long, csv_path)
        instr["rows_in_xlsx"] = quota
        instr["note"] = f"the XLSX holds the first rows of each field; all {len(long):,} " \
                        f"rows are in {csv_path.name}"
    else:
        csv_path.unlink(missing_ok=True)  # a stale full list from an earlier, longer run
        instr["rows_in_xlsx"] = instr["rows_missing"]
    safe_xlsx({WORKSHEET_SHEET: sheet, INSTRUCTIONS_SHEET: instr}, path)
    return long


def _balanced_quota(sizes: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` rows over groups of ``sizes``: equal shares, capped at each group's size,
    what a small group leaves passed on to the others (water filling, in group order)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    quota = np.zeros_like(sizes)
    left = int(total)
    open_ = sizes > 0
    while left > 0 and open_.any():  # at most one pass per group
        share = max(left // int(open_.sum()), 1)
        add = np.where(open_, np.minimum(sizes - quota, share), 0)
        if left < int(add.sum()):  # hand out the remainder in group order
            add = np.where(np.cumsum(add) <= left, add, 0)
            if not add.any():
                add[np.flatnonzero(open_)[0]] = left
        quota += add
        left -= int(add.sum())
        open_ = quota < sizes
        if not add.any():
            break
    return quota


def _unquote(s: pd.Series) -> pd.Series:
    """Undo the formula neutralisation of helpers.core.export (a leading quote before = + - @)."""
    return s.str.replace(r"^'(?=[=+\-@\t\r])", "", regex=True)


def fill_from_worksheet(table: pd.DataFrame, worksheet: pd.DataFrame
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill only values still missing in ``table`` from a filled worksheet. Pure: the
    worksheet comes read (:func:`helpers.collect.read.read_worksheet`).

    Validates that every account_id and field exists, that values parse as the field's type
    (numbers via ``helpers.core.io.parse_number``, yes/no for booleans) and that one
    (account, field) has one value; errors name the file (``worksheet.attrs["source"]``),
    the column and the spreadsheet rows. Re-run ``hypotheses.derive_measures`` afterwards.

    Parameters
    ----------
    table : pandas.DataFrame
        The analysis table being built.
    worksheet : pandas.DataFrame
        The worksheet's rows as text (columns account_id, field, value, ...).

    Returns
    -------
    tuple[pandas.DataFrame, pandas.DataFrame]
        ``(table, provenance)``; provenance rows (account_id, field, value,
        source="worksheet:<file name>") for the values filled.
    """
    file = str(worksheet.attrs.get("source", "worksheet"))
    for col in ("account_id", "field", "value"):
        if col not in worksheet.columns:
            raise InputDataError("worksheet column missing", file=file, column=col)
    ws = _worksheet_rows(worksheet, table, file)
    out = table.copy()
    pos = pd.Series(np.arange(len(out)), index=out["account_id"].astype("str"))
    prov = []
    for field_name, grp in ws.groupby("field", sort=True):
        target = out[field_name]
        val = _worksheet_values(grp, target, field_name, file)
        idx = pos.loc[grp["account_id"]].to_numpy()
        still_missing = _blank(target.iloc[idx]).to_numpy()
        if not still_missing.any():
            continue
        fill_idx = idx[still_missing]
        new = target.copy()
        try:
            new.iloc[fill_idx] = val.to_numpy()[still_missing]
        except (TypeError, ValueError):
            new = new.astype("object")
            new.iloc[fill_idx] = val.to_numpy()[still_missing]
        out[field_name] = new
        prov.append(pd.DataFrame({
            "account_id": grp["account_id"].to_numpy()[still_missing], "field": field_name,
            "value": grp["value"].to_numpy()[still_missing],
            "source": f"worksheet:{Path(file).name}"}))
    provenance = (pd.concat(prov, ignore_index=True) if prov else
                  pd.DataFrame(columns=["account_id", "field", "value", "source"]))
    return out, provenance


def _worksheet_rows(worksheet: pd.DataFrame, table: pd.DataFrame, file: str) -> pd.DataFrame:
    """The filled rows (a value given), unquoted, with their spreadsheet row in ``_row``;
    unknown account ids or fields and two values for one pair stop."""
    ws = worksheet.loc[~_blank(worksheet["value"])].copy()
    ws["value"] = _unquote(ws["value"].astype("str").str.strip())
    ws["account_id"] = _unquote(ws["account_id"].astype("str").str.strip())
    ws["_row"] = ws.index + 2  # spreadsheet row number (header is row 1)
    bad_id = ~isin_text(ws["account_id"], table["account_id"])
    if bad_id.any():
        raise InputDataError("worksheet has account ids not in the analysis table", file=file,
                             column="account_id", rows=ws.loc[bad_id, "_row"].tolist(),
                             hint="do not edit account_id; fill only the value column")
    bad_field = ~ws["field"].isin(table.columns) | ws["field"].eq("account_id")
    if bad_field.any():
        raise InputDataError("worksheet has fields not in the analysis table", file=file,
                             column="field", rows=ws.loc[bad_field, "_row"].tolist())
    dup = ws.duplicated(["account_id", "field"], keep=False)
    if dup.any():
        raise InputDataError("several values for one account and field", file=file,
                             rows=ws.loc[dup, "_row"].tolist(), hint="keep one row per pair")
    return ws


def _worksheet_values(grp: pd.DataFrame, target: pd.Series, field_name: str, file: str
                      ) -> pd.Series:
    """One field's worksheet values in the field's type (yes/no, number or text)."""
    if pd.api.types.is_bool_dtype(target):
        words = grp["value"].str.casefold()
        val = words.map({"yes": True, "y": True, "true": True, "1": True,
                         "no": False, "n": False, "false": False, "0": False})
        bad = val.isna()
    elif pd.api.types.is_numeric_dtype(target):
        val, _ = parse_number(grp["value"])
        val = pd.Series(val, index=grp.index)
        bad = val.isna()
    else:
        val, bad = grp["value"], pd.Series(False, index=grp.index)
    if bad.any():
        raise InputDataError(f"worksheet values that are not valid for '{field_name}'",
                             file=file, column=field_name,
                             rows=grp.loc[bad, "_row"].tolist(),
                             hint="numbers only for numeric fields, yes/no for flags")
    return val

"""Method Step 1, customer list: load every current and former account, then trim it with
explicit, recorded exclusion rules so that the list reconciles (raw = kept + excluded).

Exclusion rules, applied in this order; an account carries the FIRST rule that fires:

0. ``invalid``     unusable row (blank id, blank / unreadable start date), when at most
                   ``exclusions.max_invalid_share`` of the rows (else the run stops);
1. ``manual``      account id listed in ``exclusions.manual_exclude``;
2. ``test``        test / proof-of-concept account (``is_test``), if ``drop_test_accounts``;
2a. ``not_customer`` an account_type meaning prospect, partner, competitor, reseller, ...;
2b. ``trial``      trial / free account (type, or MRR exactly 0), unless ``keep_trials``;
3. ``won_window``  start (won) date before ``won_after`` or after ``won_before``;
4. ``too_new``     current customer with tenure (as_of - start_date) < ``min_tenure_days``
                   (former customers are kept: a quick churn is itself a pattern);
5. ``mrr_floor``   MRR below ``mrr_floor`` (accounts with no MRR are not floored);
6. ``outlier``     the single largest-MRR account among those still kept, if its MRR is more
                   than ``outlier_mrr_ratio`` x the next largest. Applied ONCE, as the method
                   states it for a single account; a second giant shows in the warnings.

Kept accounts have ``exclusion_rule == "kept"``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.core.errors import AnalysisError, InputDataError
from helpers.core.io import (
    DAY_NUMBER_HINT,
    all_day_numbers,
    day_month_order,
    file_rows,
    normalise_domain,
    normalise_name,
    parse_dates,
    parse_number,
    read_table,
)
from helpers.core.io import parse_money as _parse_money
from helpers.core.params import Currency, Exclusions, Params, Source

RULES: dict[str, str] = {
    "invalid": "unusable row: blank id or blank / unreadable start date",
    "manual": "listed in exclusions.manual_exclude",
    "test": "test or proof-of-concept account",
    "not_customer": "not a customer (prospect, partner, competitor, reseller, ...)",
    "trial": "trial or free account (type or zero MRR)",
    "won_window": "won outside the won_after / won_before window",
    "too_new": "current customer too new to show renewal, growth or service patterns",
    "mrr_floor": "MRR below the floor",
    "outlier": "single account with MRR more than k x the next largest",
}
KEPT = "kept"
NOT_DATA = "not_data"
CURRENT, FORMER = "current", "former"
STATUS_LABELS = {
    "current": CURRENT, "active": CURRENT, "customer": CURRENT, "live": CURRENT,
    "former": FORMER, "churned": FORMER, "cancelled": FORMER, "canceled": FORMER,
    "inactive": FORMER, "lost": FORMER, "former customer": FORMER, "ex-customer": FORMER,
}
TRUE_LABELS = ("true", "yes", "y", "1", "1.0", "x", "t")

# Treatments of account_type labels (the account_type_labels table), in order of precedence.
TYPE_TEST, TYPE_NOT_CUSTOMER, TYPE_TRIAL = "test account", "not a customer", "trial / free"
TYPE_FORMER, TYPE_CUSTOMER = "former customer", "customer"
TYPE_UNKNOWN, TYPE_BLANK = "unrecognised: kept as a customer", "no type: kept as a customer"

CANONICAL_ORDER = (
    "account_id", "account_name", "name_key", "domain", "account_type", "type_treatment",
    "is_test", "is_trial", "start_date", "churn_date", "status", "mrr", "mrr_local",
    "currency", "mrr_prev", "arr", "industry", "country", "employees", "owner",
    "success_hours", "acquisition_cost", "invalid_reason",
)
_NUMERIC = ("employees", "success_hours")
_DATES = ("start_date", "churn_date")
_READ_ONLY = ("arr_prev", "churned")  # read into other columns (mrr_prev, status)
# A placeholder far-future date ("no end": 9999-12-31, 2999-12-31): a year from 2200 on.
_PLACEHOLDER_YEAR = r"(?:^|\D)(?:2[2-9]\d\d|[3-9]\d{3})(?:\D|$)"
_SCIENTIFIC_ID = r"[-+]?\d(?:[.,]\d+)?[eE][-+]?\d+"
# mrr_prev / MRR medians in this band look like an annual figure next to a monthly one
ANNUAL_RATIO_BAND = (8.0, 16.0)


def _rows_msg(mask: pd.Series, ids: pd.Series, limit: int = 10) -> str:
    where = np.flatnonzero(mask.to_numpy())
    shown = ", ".join(f"{ids.iloc[i]} (row {i + 2})" for i in where[:limit])
    more = f" (+{len(where) - limit} more)" if len(where) > limit else ""
    return shown + more


def _text_ids(series: pd.Series) -> pd.Series:
    """Account ids as text; integer-valued numbers (Excel) and their text ('1001.0') lose
    their '.0'."""
    if pd.api.types.is_float_dtype(series):
        whole = series.notna() & (series == series.round())
        out = series.astype("string")
        out = out.where(~whole, series.round().astype("Int64").astype("string"))
        return out.str.strip()
    out = series.astype("string").str.strip()
    dotted = out.str.contains(".", regex=False).fillna(False).to_numpy(dtype=bool)
    if dotted.any():  # the regex only on ids with a dot
        out = out.mask(dotted, out[dotted].str.replace(r"^(\d+)\.0+$", r"\1", regex=True))
    return out


def label_key(label: object) -> str:
    """Comparison key of a label: casefolded words of letters and digits, space-joined.

    Parameters
    ----------
    label : object
        Any label (read with str).

    Returns
    -------
    str
        The comparison key.
    """
    return " ".join(re.findall(r"[0-9a-z]+", str(label).casefold()))


def _matches(keys: pd.Series, labels: list[str]) -> pd.Series:
    """Which label keys mean one of ``labels``: the same key without spaces ('Free-Trial' =
    'freetrial'), or a label's words as whole words inside ('test account' ~ 'Test')."""
    hit = pd.Series(False, index=keys.index)
    for label in labels:
        key = label_key(label)
        if not key:
            continue
        hit |= keys.str.replace(" ", "", regex=False).eq(key.replace(" ", "")).fillna(False)
        hit |= keys.str.contains(rf"(?:^| ){re.escape(key)}(?: |$)", regex=True).fillna(False)
    return hit


def classify_types(types: pd.Series, rules: Exclusions) -> pd.Series:
    """The treatment of each account_type label (matched by meaning, :func:`_matches`): test
    account, not a customer, trial / free, former customer, customer, unrecognised (kept as
    a customer, warned) or no type. The first match in that order wins.

    Parameters
    ----------
    types : pd.Series
        The account_type labels, one per account.
    rules : Exclusions
        The exclusion rules holding the label lists (``*_type_labels``).

    Returns
    -------
    pd.Series
        The treatment of each row, same index.
    """
    codes, labels_seen = pd.factorize(types.astype("string"))  # a few distinct labels
    keys = pd.Series([label_key(v) for v in labels_seen], dtype="string")
    out = pd.Series(TYPE_UNKNOWN, index=keys.index, dtype="string")
    order = ((TYPE_TEST, rules.test_type_labels),
             (TYPE_NOT_CUSTOMER, rules.not_customer_type_labels),
             (TYPE_TRIAL, rules.trial_type_labels), (TYPE_FORMER, rules.former_type_labels),
             (TYPE_CUSTOMER, rules.customer_type_labels))
    done = pd.Series(False, index=keys.index)
    for treatment, labels in order:
        hit = _matches(keys, list(labels)) & ~done
        out = out.mask(hit, treatment)
        done |= hit
    out = out.mask(keys == "", TYPE_BLANK)
    per_row = np.where(codes >= 0, out.to_numpy(dtype=object)[np.maximum(codes, 0)], TYPE_BLANK)
    return pd.Series(per_row, index=types.index, dtype="string")


def account_type_labels(accounts: pd.DataFrame) -> pd.DataFrame:
    """Every distinct account_type label with its number of accounts and its treatment
    (columns ``label, accounts, treatment``; most frequent first). Empty without types.

    Parameters
    ----------
    accounts : pd.DataFrame
        Canonical accounts with ``account_type`` and ``type_treatment``.

    Returns
    -------
    pd.DataFrame
        Columns ``label, accounts, treatment``, most frequent first.
    """
    cols = ["label", "accounts", "treatment"]
    if "account_type" not in accounts or "type_treatment" not in accounts:
        return pd.DataFrame(columns=cols)
    t = pd.DataFrame({"label": accounts["account_type"].astype("string").fillna("(blank)"),
                      "treatment": accounts["type_treatment"].astype("string")})
    g = t.groupby(["label", "treatment"], sort=False).size().reset_index(name="accounts")
    g = g.sort_values(["accounts", "label"], ascending=[False, True], kind="stable")
    return g[cols].reset_index(drop=True).astype({"label": str, "treatment": str})


def _placeholder_dates(text: pd.Series) -> pd.Series:
    """Cells holding a far-future placeholder date (9999-12-31, 12/31/2999): 'no end'."""
    codes, values = pd.factorize(text.astype("string").str.strip())  # dates repeat
    hit = pd.Series(values, dtype="string").str.contains(_PLACEHOLDER_YEAR, regex=True) \
        .fillna(False).to_numpy(dtype=bool)
    return pd.Series((codes >= 0) & hit[np.maximum(codes, 0)] if len(hit) else False,
                     index=text.index, dtype=bool)


def read_account_export(source: Source) -> pd.DataFrame:
    """Read the account export (the edge of Step 1: the only file reading of this module).

    Parameters
    ----------
    source : Source
        ``inputs.accounts``: path, sheet, preset and column mapping.

    Returns
    -------
    pandas.DataFrame
        The file's rows with canonical column names; ``employees`` / ``success_hours`` read as
        numbers; ``attrs`` carry ``source`` (the file), ``mapping``, ``warnings`` and
        ``not_data_rows`` (a report footer). Missing ``account_id`` / ``start_date`` columns
        raise InputDataError.
    """
    return read_table(source, what="accounts", required=("account_id", "start_date"),
                      numeric=_NUMERIC, dates=())


@dataclass
class _Export:
    """The export being turned into accounts: its frame, file, column mapping, account ids
    (for messages), the warnings so far and the reason each unusable row is unusable."""

    df: pd.DataFrame
    file: str
    mapping: dict[str, str]
    ids: pd.Series
    warnings: list[str]
    invalid: pd.Series

    @property
    def cols(self) -> set[str]:
        return set(self.df.columns)


def prepare_accounts(export: pd.DataFrame, source: Source, exclusions: Exclusions,
                     currency: Currency, as_of: dt.date) -> tuple[pd.DataFrame, list[str]]:
    """The account export (:func:`read_account_export`) in canonical account columns
    (docs/architecture.md). Pure: reads no file.

    Requires ``account_id``, ``start_date``, ``mrr`` or ``arr`` and one of ``status`` /
    ``churn_date`` / ``churned`` (a yes/no flag) / ``account_type``; ``account_name`` is
    optional (the id stands in). MRR is converted to the base currency (``mrr``; the
    exported value and currency stay in ``mrr_local`` / ``currency``; ``arr / 12`` when only
    ARR is given; ``mrr_prev`` from ``arr_prev / 12`` likewise). ``status`` comes from the
    status column, else ``churn_date`` vs ``as_of`` (a churn date after as_of is still
    current) or the churned flag, and a former-customer ``account_type`` label is former
    even without a churn date (warned: churn date unknown). ``account_type`` labels are
    classified by meaning (:func:`classify_types`, column ``type_treatment``).

    Rows with a blank id or a blank / unreadable start date get ``invalid_reason`` (excluded
    by the ``invalid`` rule) when at most ``exclusions.max_invalid_share`` of the rows, else
    InputDataError; duplicate ids, unreadable churn dates or MRR raise InputDataError. Churn
    before start, future dates, zero / negative / blank MRR, placeholder far-future dates
    and status contradicting churn_date are returned as warnings, with rows. Rows after the
    table that are not data (a report footer) are counted in ``attrs["not_data_rows"]``.

    Parameters
    ----------
    export : pandas.DataFrame
        The export as :func:`read_account_export` returns it; errors name the file in
        ``attrs["source"]`` (else ``source.path``) and the export's own column names
        (``attrs["mapping"]``).
    source : Source
        ``inputs.accounts`` (its ``date_format``).
    exclusions : Exclusions
        The exclusion rules (account type labels, ``max_invalid_share``).
    currency : Currency
        Base currency and exchange rates.
    as_of : datetime.date
        The analysis date (current vs former customers).

    Returns
    -------
    tuple[pandas.DataFrame, list[str]]
        The canonical accounts (``attrs["not_data_rows"]``: count of footer rows) and the
        warnings.
    """
    file = export.attrs.get("source", source.path)
    mapping = export.attrs.get("mapping", {})
    _check_columns(set(export.columns), file)
    warnings: list[str] = list(export.attrs.get("warnings", []))
    today = pd.Timestamp(dt.date.today())
    if pd.Timestamp(as_of) > today:
        warnings.append(f"accounts: as_of {as_of} is after today ({today.date()}): "
                        "the current / former split and tenures are read at a future date")
    ids, blank, blank_error = _account_ids(export, file, mapping)
    invalid = pd.Series(pd.NA, index=export.index, dtype="string")  # why a row is unusable
    ex = _Export(export, str(file), mapping, ids, warnings,
                 invalid.mask(blank, "blank account id"))
    out = _text_fields(ex)
    errors = [blank_error] if blank_error is not None else []
    for col in [c for c in _DATES if c in ex.cols]:
        out[col] = _date_column(ex, col, source.date_format, errors)
    _check_start_dates(ex, out, errors, exclusions.max_invalid_share, blank)
    if "churn_date" not in out:
        out["churn_date"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    _money_columns(ex, out, currency)
    type_of = _account_types(ex, out, exclusions)
    out["status"] = _status(ex, out, type_of, as_of)
    _value_warnings(ex, out, as_of)
    return _canonical(ex, out), ex.warnings


def _check_columns(cols: set[str], file: object) -> None:
    """Stop when the export has no money column or nothing that tells current from former."""
    if not {"mrr", "arr"} & cols:
        raise InputDataError("accounts: no MRR or ARR column", file=file, column="mrr",
                             hint="map one: inputs.accounts.mapping.mrr: '<column>' (or arr)")
    if not {"status", "churn_date", "account_type", "churned"} & cols:
        raise InputDataError("accounts: cannot tell current from former customers (no status, "
                             "churn date or account type column)", file=file, column="status",
                             hint="map inputs.accounts.mapping.churn_date (or status / "
                                  "account_type, or churned for a yes/no churn flag)")


def _account_ids(df: pd.DataFrame, file: object, mapping: dict[str, str]
                 ) -> tuple[pd.Series, pd.Series, InputDataError | None]:
    """Account ids as text: ``(ids, blank, blank_error)``. Scientific-notation ids (a
    spreadsheet's doing) and duplicate ids stop; blank ids get a placeholder naming the row
    and the error the invalid rule raises if too many rows are unusable."""
    raw_ids = df["account_id"]
    if not pd.api.types.is_numeric_dtype(raw_ids):
        sci = raw_ids.astype("string").str.strip().str.fullmatch(_SCIENTIFIC_ID).fillna(False)
        if sci.any():
            shown = ", ".join(f"{v} (row {r})" for v, r in zip(
                raw_ids[sci].head(5), file_rows(np.flatnonzero(sci.to_numpy())[:5]),
                strict=True))
            raise InputDataError(
                f"accounts: {int(sci.sum())} account id(s) are in scientific notation "
                f"({shown}): a spreadsheet turned long numeric ids into numbers and the "
                "original digits are lost", file=file, column=mapping.get("account_id"),
                rows=file_rows(np.flatnonzero(sci.to_numpy())),
                hint="export the ids again as text (from the CRM straight to CSV, or format "
                     "the id column as Text in the spreadsheet before saving); do not open "
                     "and re-save the CSV in Excel")
    ids = _text_ids(raw_ids)
    blank = (ids.isna() | (ids == "")).fillna(True)
    blank_error = None
    if blank.any():
        rows = file_rows(np.flatnonzero(blank.to_numpy()))
        ids = ids.mask(blank, pd.Series([f"(blank id, row {r})" for r in file_rows(df.index)],
                                        index=df.index, dtype="string"))
        blank_error = InputDataError("accounts: blank account ids", file=file,
                                     column="account_id", rows=rows,
                                     hint="every account needs an id; fix or remove these rows")
    dup = ids.duplicated(keep=False)
    if dup.any():
        raise InputDataError("accounts: duplicate account ids: " + _rows_msg(dup, ids),
                             file=file, column="account_id",
                             rows=file_rows(np.flatnonzero(dup.to_numpy())),
                             hint="the customer list needs one row per account; "
                                  "de-duplicate the export")
    return ids, blank, blank_error


def _text_fields(ex: _Export) -> pd.DataFrame:
    """The id and the descriptive text columns (name, type, industry, ...; name_key, domain)."""
    out = pd.DataFrame({"account_id": ex.ids})
    for col in ("account_name", "account_type", "industry", "country", "owner"):
        if col in ex.cols:
            out[col] = ex.df[col].astype("string").str.strip().replace("", pd.NA)
    if "account_name" not in out:  # the name is optional: the id stands in
        out["account_name"] = out["account_id"]
    out["name_key"] = normalise_name(out["account_name"])
    if "domain" in ex.cols:
        out["domain"] = normalise_domain(ex.df["domain"])
    return out


def _date_column(ex: _Export, col: str, fmt: str | None, errors: list[InputDataError]
                 ) -> pd.Series:
    """One date column read with ``inputs.accounts.date_format`` (else day-first / ISO):
    placeholder far-future dates become blank (warned); an unreadable churn date stops, an
    unreadable start date marks the row invalid (its error appended to ``errors``)."""
    formats = None
    if fmt:
        formats = [fmt] + ([fmt.replace("%Y", "%y")] if "%Y" in fmt else []) + ["ISO8601"]
    df, ids = ex.df, ex.ids
    text = df[col]
    if not pd.api.types.is_datetime64_any_dtype(text):
        placeholder = _placeholder_dates(text)
        if placeholder.any():
            ex.warnings.append(
                f"accounts: {int(placeholder.sum())} {col} value(s) are placeholder "
                f"far-future dates (such as {text[placeholder].iloc[0]}), read as 'no "
                "date'" + (" (no churn: still a customer)" if col == "churn_date" else "")
                + ": " + _rows_msg(placeholder, ids))
            text = text.mask(placeholder, "")
    values, bad = parse_dates(text, formats)
    order, ambiguous = day_month_order(text) if formats is None else ("", None)
    if len(bad):
        badmask = pd.Series(df.index.isin(bad), index=df.index)
        why = (" (the column mixes day-first and month-first dates, so cells like 03/04/2026 "
               "cannot be read safely)" if order == "mixed" else "")
        hint = ("use ISO dates (2026-09-30) or fix these cells; for a US export set "
                "inputs.accounts.date_format: '%m/%d/%Y'")
        if all_day_numbers(text):
            hint = f"the column holds day numbers, not dates: {DAY_NUMBER_HINT}"
        error = InputDataError(f"accounts: unreadable {col} values{why}: "
                               + _rows_msg(badmask, ids), file=ex.file,
                               column=ex.mapping.get(col, col), rows=file_rows(bad), hint=hint)
        if col == "churn_date":
            raise error
        errors.append(error)
        ex.invalid = ex.invalid.mask(badmask & ex.invalid.isna(), f"unreadable {col} "
                                     + df[col].astype("string").fillna(""))
    if order == "unknown":
        ex.warnings.append(f"accounts: {int(ambiguous.sum())} {col} value(s) such as "
                           f"{text[ambiguous].iloc[0]} could be day-first or month-first; "
                           "read day-first (set inputs.accounts.date_format: '%m/%d/%Y' for a "
                           "US export): " + _rows_msg(ambiguous, ids))
    return values.dt.normalize()


def _check_start_dates(ex: _Export, out: pd.DataFrame, errors: list[InputDataError],
                       max_share: float, blank: pd.Series) -> None:
    """Mark rows without a start date invalid; stop (the first error, with the share) when
    more than ``max_share`` of the rows are unusable, else warn which rows are excluded."""
    ids, invalid = ex.ids, ex.invalid
    missing_start = out["start_date"].isna() & invalid.isna()
    if missing_start.any():
        errors.append(InputDataError(
            "accounts: blank start_date: " + _rows_msg(missing_start, ids), file=ex.file,
            column=ex.mapping.get("start_date"),
            rows=file_rows(np.flatnonzero(missing_start.to_numpy())),
            hint="every customer needs a won / customer-since date"))
        invalid = ex.invalid = invalid.mask(missing_start, "blank start_date")
    unusable = invalid.notna()
    if not unusable.any():
        return
    share = float(unusable.mean())
    if share > max_share:
        first = errors[0]
        raise InputDataError(
            str(first).splitlines()[0], file=first.file, column=first.column,
            rows=first.rows,
            hint=f"{first.hint} ({int(unusable.sum())} of {len(invalid)} rows ({share:.1%}) "
                 "are unusable; up to exclusions.max_invalid_share = "
                 f"{max_share:.0%} are excluded with their reason)")
    ex.warnings.append(f"accounts: {int(unusable.sum())} unusable row(s) excluded (blank id "
                       "or blank / unreadable start date; at most exclusions.max_invalid_share "
                       f"= {max_share:.0%} of rows): "
                       + "; ".join(f"row {r}" + ("" if b else f" ({i})") + f": {why}"
                                   for r, i, b, why in zip(
                                       file_rows(np.flatnonzero(unusable.to_numpy())[:10]),
                                       ids[unusable].head(10), blank[unusable].head(10),
                                       invalid[unusable].head(10), strict=True))
                       + (f" (+{int(unusable.sum()) - 10} more)" if unusable.sum() > 10
                          else ""))


def _money_columns(ex: _Export, out: pd.DataFrame, currency: Currency) -> None:
    """``mrr`` (from MRR, else ARR / 12) in the base currency with ``mrr_local`` /
    ``currency``; ``arr``, ``mrr_prev`` (or ``arr_prev / 12``), ``acquisition_cost`` and the
    numeric fields. Unreadable MRR stops; other unreadable amounts are left empty, warned."""
    df, cols, ids = ex.df, ex.cols, ex.ids
    cur = df["currency"] if "currency" in cols else None

    def parse_money(values: pd.Series, given: pd.Series | None) -> pd.DataFrame:
        try:
            return _parse_money(values, given, currency.rates, currency.base)
        except InputDataError as exc:  # name the file and the export's column
            raise InputDataError(f"accounts: {str(exc).splitlines()[0]}", file=ex.file,
                                 column=ex.mapping.get(str(values.name), values.name),
                                 rows=exc.rows, hint=exc.hint) from None

    if "mrr" in cols:
        money = parse_money(df["mrr"], cur)
        out["mrr"], out["mrr_local"] = money["value_base"], money["value_local"]
    else:
        money = parse_money(df["arr"], cur)
        out["mrr"], out["mrr_local"] = money["value_base"] / 12, money["value_local"] / 12
    out["currency"] = money["currency"]
    if not money["parsed_ok"].all():
        badm = ~money["parsed_ok"]
        raise InputDataError("accounts: unreadable MRR/ARR values: " + _rows_msg(badm, ids),
                             file=ex.file, column=ex.mapping.get("mrr", "arr"),
                             rows=file_rows(np.flatnonzero(badm.to_numpy())),
                             hint="amounts like 1200, 1,200.50, $1.2k or EUR 900 (not a "
                                  "percentage or text); fix these cells")
    if "arr" in cols and "mrr" in cols:
        out["arr"] = parse_money(df["arr"], cur)["value_base"]
    for col, per_month in (("mrr_prev", 1), ("arr_prev", 12), ("acquisition_cost", 1)):
        if col not in cols or (col == "arr_prev" and "mrr_prev" in cols):
            continue
        m = parse_money(df[col], cur if col != "acquisition_cost" else None)
        target = "mrr_prev" if col == "arr_prev" else col
        out[target] = m["value_base"] / per_month
        if not m["parsed_ok"].all():
            ex.warnings.append(f"accounts: {int((~m['parsed_ok']).sum())} unreadable {col} "
                               "value(s) left empty: " + _rows_msg(~m["parsed_ok"], ids))
    if "mrr_prev" in cols:
        _annual_prev_warning(ex, out)
    for col in _NUMERIC:
        if col in cols:
            out[col] = df[col].astype("float64")


def _annual_prev_warning(ex: _Export, out: pd.DataFrame) -> None:
    """Warn when mrr_prev is typically 8-16 x MRR: an annual figure mapped as monthly."""
    both = (out["mrr"] > 0) & (out["mrr_prev"] > 0)
    ratio = float((out["mrr_prev"][both] / out["mrr"][both]).median()) if both.sum() >= 5 \
        else float("nan")
    if ANNUAL_RATIO_BAND[0] <= ratio <= ANNUAL_RATIO_BAND[1]:
        prev = ex.mapping.get("mrr_prev")
        ex.warnings.append(f"accounts: mrr_prev ('{prev}') is typically "
                           f"{ratio:.1f} x MRR: it looks like an annual (ARR) figure, which "
                           "would make every account look like it shrank; map it as "
                           f"inputs.accounts.mapping.arr_prev: '{prev}' "
                           "(read as ARR / 12). Values used as they are")


def _account_types(ex: _Export, out: pd.DataFrame, rules: Exclusions) -> pd.Series:
    """``type_treatment``, ``is_test`` and ``is_trial``; returns each row's treatment (NA
    without an account_type column). Unrecognised labels are warned."""
    is_test = pd.Series(False, index=out.index)
    type_of = pd.Series(pd.NA, index=out.index, dtype="string")
    if "account_type" in out:
        type_of = classify_types(out["account_type"], rules)
        out["type_treatment"] = type_of
        is_test |= (type_of == TYPE_TEST).fillna(False)
        unknown = (type_of == TYPE_UNKNOWN).fillna(False)
        if unknown.any():
            labels = sorted(out["account_type"][unknown].unique().tolist())
            ex.warnings.append(
                f"accounts: account_type label(s) not recognised: {labels}; kept "
                "as customers. If one marks test accounts, non-customers, trials "
                "or former customers, add it to exclusions.test_type_labels / "
                "not_customer_type_labels / trial_type_labels / former_type_labels "
                "(or customer_type_labels to silence this): " + _rows_msg(unknown, ex.ids))
    if "is_test" in ex.cols:
        is_test |= parse_flag(ex.df["is_test"])
    out["is_test"] = is_test.astype(bool)
    out["is_trial"] = ((type_of == TYPE_TRIAL).fillna(False) | (out["mrr"] == 0).fillna(False)) \
        .astype(bool)
    return type_of


def _status(ex: _Export, out: pd.DataFrame, type_of: pd.Series, as_of: dt.date
            ) -> pd.Series:
    """Current / former: the status column where given, else churn date at ``as_of``, the
    churned flag or a former-customer type. Unknown status labels stop; contradictions with
    the churn date and former customers without a churn date are warned."""
    df, cols, ids = ex.df, ex.cols, ex.ids
    churned = out["churn_date"].notna() & (out["churn_date"] <= pd.Timestamp(as_of))
    former_type = (type_of == TYPE_FORMER).fillna(False)
    if "churned" in cols:
        flag = parse_flag(df["churned"])
        churned |= flag
        former_type |= flag & out["churn_date"].isna()
    derived = pd.Series(np.where(churned | former_type, FORMER, CURRENT), index=out.index)
    status = derived
    if "status" in cols:
        raw = df["status"].astype("string").str.strip().str.casefold()
        status = raw.map(STATUS_LABELS)
        unknown = raw.notna() & (raw != "") & status.isna()
        if unknown.any():
            labels = sorted(raw[unknown].unique().tolist())
            raise InputDataError(f"accounts: unknown status labels {labels}", file=ex.file,
                                 column=ex.mapping.get("status"),
                                 rows=file_rows(np.flatnonzero(unknown.to_numpy())),
                                 hint=f"use one of {sorted(STATUS_LABELS)} or map churn_date "
                                      "instead of status")
        status = status.fillna(derived)
        if "churn_date" in cols:
            by_date = pd.Series(np.where(churned, FORMER, CURRENT), index=out.index)
            clash = (status != by_date) & ~((status == FORMER) & out["churn_date"].isna())
            if clash.any():
                ex.warnings.append(f"accounts: {int(clash.sum())} status value(s) contradict "
                                   f"churn_date at as_of {as_of}; the status column is "
                                   "kept: " + _rows_msg(clash, ids))
    status = status.astype("string")
    no_date = (status == FORMER) & out["churn_date"].isna() & ex.invalid.isna()
    if no_date.any() and ("churn_date" in cols or "account_type" in cols):
        ex.warnings.append(f"accounts: {int(no_date.sum())} former customer(s) without a churn "
                           "date (a former status or type, blank churn date): former, churn "
                           "date unknown: " + _rows_msg(no_date, ids))
    return status


def _value_warnings(ex: _Export, out: pd.DataFrame, as_of: dt.date) -> None:
    """Warnings, never silent changes: churn before start, dates after as_of, zero /
    negative / blank MRR, with rows."""
    stamp = pd.Timestamp(as_of)
    checks = {
        "churn_date before start_date": out["churn_date"] < out["start_date"],
        f"start_date after as_of {as_of}": out["start_date"] > stamp,
        f"churn_date after as_of {as_of} (still current at as_of)":
            out["churn_date"] > stamp,
        "zero or negative MRR": out["mrr"] <= 0,
        "blank MRR (no contract value; scored as 0)": out["mrr"].isna(),
    }
    for what, mask in checks.items():
        mask = mask.fillna(False)
        if mask.any():
            ex.warnings.append(f"accounts: {int(mask.sum())} account(s) with {what}: "
                               + _rows_msg(mask, ex.ids))


def _canonical(ex: _Export, out: pd.DataFrame) -> pd.DataFrame:
    """Canonical columns in order, then the export's other columns; text in pandas' default
    dtype (so joins with other tables agree); ``attrs["not_data_rows"]``."""
    if ex.invalid.notna().any():
        out["invalid_reason"] = ex.invalid
    df = ex.df
    extras = [c for c in df.columns if c not in CANONICAL_ORDER and c not in _READ_ONLY]
    ordered = [c for c in CANONICAL_ORDER if c in out.columns]
    result = pd.concat([out[ordered], df[extras]], axis=1)
    result.attrs = {}
    for col in result.columns:
        if isinstance(result[col].dtype, pd.StringDtype):
            result[col] = result[col].astype(str)
    result.attrs["not_data_rows"] = len(df.attrs.get("not_data_rows", []))
    return result


def status_mix_warnings(flagged: pd.DataFrame) -> list[str]:
    """A plain warning when the kept accounts have no current or no former customers: what
    the quality score can and cannot say then.

    Parameters
    ----------
    flagged : pd.DataFrame
        The accounts with ``excluded`` (:func:`apply_exclusions`).

    Returns
    -------
    list[str]
        No warning, or one.
    """
    kept = flagged[~flagged["excluded"].astype(bool)]
    if not len(kept) or "status" not in kept:
        return []
    status = kept["status"].astype(str)
    if not (status == CURRENT).any():
        return ["accounts: the kept accounts include no current customers (every one is "
                "former): the score can compare former customers with each other, but it "
                "cannot say what today's best customers look like; check the status / "
                "churn_date mapping and as_of"]
    if not (status == FORMER).any():
        return ["accounts: the kept accounts include no former customers: the churn part of "
                "the score never applies and the score cannot say which traits go with "
                "churn; it ranks current customers only on value, growth and cost to serve. "
                "Add former customers to the export (or map churn_date / status) to learn "
                "from churn"]
    return []


# --------------------------------------------------------------------------- exclusions
def apply_exclusions(accounts: pd.DataFrame, rules: Exclusions,
                     as_of: dt.date | pd.Timestamp) -> pd.DataFrame:
    """The accounts with ``excluded`` (bool), ``exclusion_rule`` and ``exclusion_reason``.

    Rules in the module docstring's order; the first that fires names the rule. Kept accounts
    have rule ``"kept"``. ``rules_fired`` lists every rule that would fire ("|"-joined) so the
    reconciliation can show overlaps. Pure: nothing is dropped.

    Parameters
    ----------
    accounts : pandas.DataFrame
        Canonical accounts (:func:`prepare_accounts` or the deals / subscriptions list).
    rules : Exclusions
        The ``exclusions`` parameters.
    as_of : datetime.date or pandas.Timestamp
        The analysis date (tenure).

    Returns
    -------
    pandas.DataFrame
        ``accounts`` with ``excluded``, ``exclusion_rule``, ``exclusion_reason`` and
        ``rules_fired``; same rows, same order.
    """
    as_of = pd.Timestamp(as_of)
    df = accounts.copy()
    n = len(df)
    ids = df["account_id"].astype("string")
    mrr = df["mrr"].astype("float64") if "mrr" in df else pd.Series(np.nan, index=df.index)
    fires, reasons = _row_rules(df, ids, rules)
    for name, (mask, why) in _date_rules(df, rules, as_of).items():
        fires[name], reasons[name] = mask, why
    if rules.mrr_floor is not None:
        floor = (mrr < rules.mrr_floor).fillna(False)
    else:
        floor = pd.Series(False, index=df.index)
    fires["mrr_floor"] = floor
    reasons["mrr_floor"] = ("MRR " + mrr.round(2).astype("string").fillna("?")
                            + f" below the floor {rules.mrr_floor}")
    before_outlier = ~(fires["invalid"] | fires["manual"] | fires["test"]
                       | fires["not_customer"] | fires["trial"] | fires["won_window"]
                       | fires["too_new"] | floor)
    fires["outlier"], reasons["outlier"] = _outlier_rule(mrr, ids, before_outlier, rules)
    rule = pd.Series(KEPT, index=df.index, dtype="string")
    reason = pd.Series("passes every exclusion rule", index=df.index, dtype="string")
    fired = pd.Series("", index=df.index, dtype="string")
    for name in reversed(list(RULES)):  # reversed so the first rule in order wins
        mask = fires[name].astype(bool)
        rule = rule.mask(mask, name)
        reason = reason.mask(mask, reasons[name])
    for name in RULES:
        mask = fires[name].astype(bool)
        fired = fired.mask(mask, fired + np.where(fired == "", "", "|") + name)
    df["excluded"] = (rule != KEPT).to_numpy(dtype=bool)
    df["exclusion_rule"] = rule
    df["exclusion_reason"] = reason
    df["rules_fired"] = fired
    assert len(df) == n
    return df


def _row_rules(df: pd.DataFrame, ids: pd.Series, rules: Exclusions
               ) -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
    """Masks and reasons of the rules read off a row: invalid, manual, test, not_customer,
    trial."""
    fires: dict[str, pd.Series] = {}
    reasons: dict[str, pd.Series] = {}
    empty = pd.Series("", index=df.index, dtype="string")
    invalid = df["invalid_reason"].astype("string").notna() if "invalid_reason" in df else \
        pd.Series(False, index=df.index)
    fires["invalid"] = invalid
    reasons["invalid"] = ("unusable row: " + df["invalid_reason"].astype("string")
                          if "invalid_reason" in df else empty)

    manual = ids.isin([str(x) for x in rules.manual_exclude]).fillna(False)
    fires["manual"], reasons["manual"] = manual, empty + rules.manual_reason

    test = df["is_test"].fillna(False).astype(bool) if "is_test" in df else \
        pd.Series(False, index=df.index)
    test = test & rules.drop_test_accounts
    label = df["account_type"].astype("string").fillna("flag") if "account_type" in df else \
        empty + "flag"
    fires["test"], reasons["test"] = test, "test / proof-of-concept account (type '" + label + "')"

    treatment = df["type_treatment"].astype("string") if "type_treatment" in df else empty
    fires["not_customer"] = (treatment == TYPE_NOT_CUSTOMER).fillna(False)
    reasons["not_customer"] = "not a customer (type '" + label + "')"
    trial = df["is_trial"].fillna(False).astype(bool) if "is_trial" in df else \
        pd.Series(False, index=df.index)
    fires["trial"] = trial & (not rules.keep_trials)
    reasons["trial"] = ("trial / free account ("
                        + pd.Series(np.where((treatment == TYPE_TRIAL).fillna(False),
                                             "type '" + label + "'", "MRR 0"),
                                    index=df.index, dtype="string")
                        + "; exclusions.keep_trials: true keeps it)")
    return fires, reasons


def _date_rules(df: pd.DataFrame, rules: Exclusions, as_of: pd.Timestamp
                ) -> dict[str, tuple[pd.Series, pd.Series]]:
    """Mask and reason of the rules on dates: won_window, too_new."""
    empty = pd.Series("", index=df.index, dtype="string")
    start = pd.to_datetime(df["start_date"])
    won = pd.Series(False, index=df.index)
    reason_won = empty.copy()
    start_txt = start.dt.strftime("%Y-%m-%d").astype("string").fillna("?")
    if rules.won_after is not None:
        early = (start < pd.Timestamp(rules.won_after)).fillna(False)
        won |= early
        reason_won = reason_won.mask(early, "won " + start_txt + f", before won_after "
                                     f"{rules.won_after}")
    if rules.won_before is not None:
        late = (start > pd.Timestamp(rules.won_before)).fillna(False)
        reason_won = reason_won.mask(late & ~won, "won " + start_txt + f", after won_before "
                                     f"{rules.won_before}")
        won |= late

    tenure = (as_of - start).dt.days
    current = df["status"].astype("string").eq(CURRENT).fillna(True) if "status" in df else \
        pd.Series(True, index=df.index)
    if rules.min_tenure_days is not None:
        new = (current & (tenure < rules.min_tenure_days)).fillna(False)
    else:
        new = pd.Series(False, index=df.index)
    reason_new = ("tenure " + tenure.astype("Int64").astype("string").fillna("?")
                  + f" days < {rules.min_tenure_days} at as_of {as_of.date()}")
    return {"won_window": (won, reason_won), "too_new": (new, reason_new)}


def _outlier_rule(mrr: pd.Series, ids: pd.Series, pool_mask: pd.Series, rules: Exclusions
                  ) -> tuple[pd.Series, pd.Series]:
    """The single largest-MRR account of ``pool_mask`` when its MRR is more than
    ``outlier_mrr_ratio`` x the next largest (ties broken by account id): (mask, reason)."""
    outlier = pd.Series(False, index=mrr.index)
    reason_out = pd.Series("", index=mrr.index, dtype="string")
    if rules.outlier_mrr_ratio is not None:
        pool = mrr[pool_mask & mrr.notna()]
        if len(pool) >= 2:
            order = np.lexsort((ids[pool.index].to_numpy(dtype=str), -pool.to_numpy()))
            top, second = pool.iloc[order[0]], pool.iloc[order[1]]
            if top > rules.outlier_mrr_ratio * second:
                label_idx = pool.index[order[0]]
                outlier.loc[label_idx] = True
                ratio = f"{top / second:.1f}x" if second > 0 else "infinitely"
                reason_out.loc[label_idx] = (f"MRR {top:,.0f} is {ratio} the next largest "
                                             f"({second:,.0f}) > {rules.outlier_mrr_ratio}x")
    return outlier, reason_out


def reconciliation(flagged: pd.DataFrame) -> pd.DataFrame:
    """The reconciliation table: ``raw``, one row per rule (first rule that fired),
    ``excluded``, ``kept`` and, when the file ended in a report footer, ``not_data`` (rows of
    the file that are not accounts: file data rows = raw + not_data); columns ``rule,
    description, accounts, share, mrr``.

    Asserts raw = kept + excluded and that every account has exactly one rule
    (AnalysisError otherwise).

    Parameters
    ----------
    flagged : pd.DataFrame
        The accounts with ``exclusion_rule`` and ``excluded``
        (:func:`apply_exclusions`).

    Returns
    -------
    pd.DataFrame
        Columns ``rule, description, accounts, share, mrr``.
    """
    rule = flagged["exclusion_rule"].astype("string")
    mrr = flagged["mrr"].astype("float64") if "mrr" in flagged else \
        pd.Series(0.0, index=flagged.index)
    raw = len(flagged)
    unknown = ~rule.isin([*RULES, KEPT]).fillna(False)
    if unknown.any():
        raise AnalysisError(f"{int(unknown.sum())} account(s) without a known exclusion rule")
    if (flagged["excluded"].astype(bool) != (rule != KEPT)).any():
        raise AnalysisError("excluded flag and exclusion_rule disagree")
    rows = [("raw", "all accounts in the export", raw, mrr.sum())]
    for name, desc in RULES.items():
        m = rule == name
        rows.append((name, desc, int(m.sum()), mrr[m].sum()))
    excl = rule != KEPT
    rows.append(("excluded", "excluded by a rule", int(excl.sum()), mrr[excl].sum()))
    rows.append((KEPT, "kept for the analysis", int((~excl).sum()), mrr[~excl].sum()))
    not_data = int(flagged.attrs.get("not_data_rows", 0) or 0)
    if not_data:  # file rows after the table: a report footer, blank lines
        rows.append((NOT_DATA, "not a data row (report footer or blank line; not read)",
                     not_data, 0.0))
    table = pd.DataFrame(rows, columns=["rule", "description", "accounts", "mrr"])
    table["share"] = table["accounts"] / raw if raw else 0.0
    kept, excluded = int((~excl).sum()), int(excl.sum())
    if raw != kept + excluded or excluded != int(table["accounts"].iloc[1:len(RULES) + 1].sum()):
        raise AnalysisError(f"the customer list does not reconcile: raw {raw} != kept {kept} "
                            f"+ excluded {excluded}")
    return table[["rule", "description", "accounts", "share", "mrr"]]


def parse_flag(series: pd.Series) -> pd.Series:
    """Yes/no text as bool: true, yes, y, 1, 1.0, x, t in any case (and numbers other than
    0) are True; anything else False.

    Parameters
    ----------
    series : pd.Series
        The yes/no column.

    Returns
    -------
    pd.Series
        Booleans, same index.
    """
    if pd.api.types.is_bool_dtype(series):
        return series.fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(series):
        return parse_number(series)[0].fillna(0).ne(0)
    text = series.astype("string").str.strip().str.casefold()
    number = pd.to_numeric(text, errors="coerce")
    return (text.isin(TRUE_LABELS).fillna(False) | number.fillna(0).ne(0)).astype(bool)


def required_accounts(params: Params) -> int:
    """The fewest kept accounts the analysis can work with: ``analysis.min_accounts``, and two
    leaves of the segmentation tree (``2 x analysis.tree.min_samples_leaf``) in every
    cross-validation training fold (``(cv_folds - 1) / cv_folds`` of the accounts).

    Parameters
    ----------
    params : Params
        The run's parameters (``analysis``).

    Returns
    -------
    int
        The fewest kept accounts.
    """
    a = params.analysis
    tree = -(-2 * a.tree.min_samples_leaf * a.cv_folds // (a.cv_folds - 1))  # ceiling
    return max(a.min_accounts, tree)


def check_enough_accounts(flagged: pd.DataFrame, params: Params) -> None:
    """Stop (AnalysisError) when the exclusion rules leave too few accounts to analyse, saying
    how many are needed, which rules removed the others and what to do. The lightweight
    analysis (``analysis.mode``, see helpers.analyse.lightweight) needs only
    ``analysis.lightweight.min_accounts``.

    Parameters
    ----------
    flagged : pd.DataFrame
        The accounts with ``excluded`` and ``exclusion_rule``.
    params : Params
        The run's parameters (``analysis``).

    Returns
    -------
    None
        Nothing; raises AnalysisError when too few accounts are kept.
    """
    from helpers.analyse.lightweight import check_small_base

    kept = int((~flagged["excluded"].astype(bool)).sum())
    if check_small_base(flagged, params, kept):
        return
    need = required_accounts(params)
    if kept >= need:
        return
    counts = flagged.loc[flagged["excluded"].astype(bool), "exclusion_rule"].value_counts()
    by_rule = ", ".join(f"{rule} {int(counts[rule])}" for rule in RULES if rule in counts)
    a = params.analysis
    what = ("every account is excluded by the rules" if kept == 0
            else f"only {kept} account(s) are kept after the exclusion rules")
    raise AnalysisError(
        f"{what} ({len(flagged)} in the export; excluded: {by_rule or 'none'}). The analysis "
        f"needs at least {need} kept accounts (analysis.min_accounts = {a.min_accounts}; two "
        f"tree leaves of analysis.tree.min_samples_leaf = {a.tree.min_samples_leaf} in each "
        f"of the analysis.cv_folds = {a.cv_folds} cross-validation training folds). "
        "What to do: check the exclusion rules in the parameter file (see the exclusions "
        "table), add former customers or a longer history to the export, or, for a small "
        "customer base, set analysis.mode: auto (the lightweight analysis) or lower "
        "analysis.tree.min_samples_leaf.")

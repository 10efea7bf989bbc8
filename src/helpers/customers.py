"""Method Step 1, customer list: load every current and former account, then trim it with
explicit, recorded exclusion rules so that the list reconciles (raw = kept + excluded).

Exclusion rules, applied in this order; an account carries the FIRST rule that fires:

1. ``manual``      account id listed in ``exclusions.manual_exclude``;
2. ``test``        test / proof-of-concept account (``is_test``), if ``drop_test_accounts``;
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

import numpy as np
import pandas as pd

from .errors import AnalysisError, InputDataError
from .io import (
    day_month_order,
    file_rows,
    normalise_domain,
    normalise_name,
    parse_dates,
    parse_number,
    read_table,
)
from .io import parse_money as _parse_money
from .params import Exclusions, Params

RULES: dict[str, str] = {
    "manual": "listed in exclusions.manual_exclude",
    "test": "test or proof-of-concept account",
    "won_window": "won outside the won_after / won_before window",
    "too_new": "current customer too new to show renewal, growth or service patterns",
    "mrr_floor": "MRR below the floor",
    "outlier": "single account with MRR more than k x the next largest",
}
KEPT = "kept"
CURRENT, FORMER = "current", "former"
STATUS_LABELS = {
    "current": CURRENT, "active": CURRENT, "customer": CURRENT, "live": CURRENT,
    "former": FORMER, "churned": FORMER, "cancelled": FORMER, "canceled": FORMER,
    "inactive": FORMER, "lost": FORMER, "former customer": FORMER, "ex-customer": FORMER,
}
TRUE_LABELS = ("true", "yes", "y", "1", "x", "t")

CANONICAL_ORDER = (
    "account_id", "account_name", "name_key", "domain", "account_type", "is_test",
    "start_date", "churn_date", "status", "mrr", "mrr_local", "currency", "mrr_prev", "arr",
    "industry", "country", "employees", "owner", "success_hours", "acquisition_cost",
)
_NUMERIC = ("employees", "success_hours")
_DATES = ("start_date", "churn_date")


def _rows_msg(mask: pd.Series, ids: pd.Series, limit: int = 10) -> str:
    where = np.flatnonzero(mask.to_numpy())
    shown = ", ".join(f"{ids.iloc[i]} (row {i + 2})" for i in where[:limit])
    more = f" (+{len(where) - limit} more)" if len(where) > limit else ""
    return shown + more


def _text_ids(series: pd.Series) -> pd.Series:
    """Account ids as text; integer-valued numbers (Excel) lose their '.0'."""
    if pd.api.types.is_float_dtype(series):
        whole = series.notna() & (series == series.round())
        out = series.astype("string")
        out = out.where(~whole, series.round().astype("Int64").astype("string"))
        return out.str.strip()
    return series.astype("string").str.strip()


def load_accounts(params: Params) -> tuple[pd.DataFrame, list[str]]:
    """Read ``inputs.accounts`` into canonical account columns (docs/architecture.md).

    Requires ``account_id``, ``start_date``, ``mrr`` or ``arr`` and one of ``status`` /
    ``churn_date`` / ``account_type``. MRR is converted to the base currency (``mrr``; the
    exported value and currency stay in ``mrr_local`` / ``currency``; ``arr / 12`` when only
    ARR is given). ``status`` is derived from ``churn_date`` vs ``as_of`` (a churn date after
    as_of is still current) when the file has no status column, else from former-customer
    ``account_type`` labels. Duplicate or blank ids, unreadable dates or MRR raise
    InputDataError; churn before start, future start, zero / negative / blank MRR, and
    status contradicting churn_date are returned as warnings, with rows, unchanged.
    """
    src = params.inputs.accounts
    rules = params.exclusions
    as_of = pd.Timestamp(params.as_of)
    df = read_table(src, what="accounts", required=("account_id", "start_date"),
                    numeric=_NUMERIC, dates=())
    warnings: list[str] = list(df.attrs.get("warnings", []))
    file = df.attrs.get("source", src.path)
    cols = set(df.columns)
    if not {"mrr", "arr"} & cols:
        raise InputDataError("accounts: no MRR or ARR column", file=file, column="mrr",
                             hint="map one: inputs.accounts.mapping.mrr: '<column>' (or arr)")
    if not {"status", "churn_date", "account_type"} & cols:
        raise InputDataError("accounts: cannot tell current from former customers (no status, "
                             "churn date or account type column)", file=file, column="status",
                             hint="map inputs.accounts.mapping.churn_date (or status / "
                                  "account_type)")

    ids = _text_ids(df["account_id"])
    blank = ids.isna() | (ids == "")
    if blank.any():
        raise InputDataError("accounts: blank account ids", file=file, column="account_id",
                             rows=file_rows(np.flatnonzero(blank.to_numpy())),
                             hint="every account needs an id; fix or remove these rows")
    dup = ids.duplicated(keep=False)
    if dup.any():
        raise InputDataError("accounts: duplicate account ids: " + _rows_msg(dup, ids),
                             file=file, column="account_id",
                             rows=file_rows(np.flatnonzero(dup.to_numpy())),
                             hint="the customer list needs one row per account; "
                                  "de-duplicate the export")

    out = pd.DataFrame({"account_id": ids})
    for col in ("account_name", "account_type", "industry", "country", "owner"):
        if col in cols:
            out[col] = df[col].astype("string").str.strip().replace("", pd.NA)
    if "account_name" in out:
        out["name_key"] = normalise_name(out["account_name"])
    if "domain" in cols:
        out["domain"] = normalise_domain(df["domain"])

    # dates ------------------------------------------------------------------------------
    formats = [src.date_format, "ISO8601"] if src.date_format else None
    for col in _DATES:
        if col not in cols:
            continue
        file_col = df.attrs["mapping"].get(col, col)
        values, bad = parse_dates(df[col], formats)
        order, ambiguous = day_month_order(df[col]) if formats is None else ("", None)
        if len(bad):
            why = (" (the column mixes day-first and month-first dates, so cells like 03/04/2026 "
                   "cannot be read safely)" if order == "mixed" else "")
            raise InputDataError(f"accounts: unreadable {col} values{why}: "
                                 + _rows_msg(pd.Series(df.index.isin(bad), index=df.index),
                                             ids),
                                 file=file, column=file_col, rows=file_rows(bad),
                                 hint="use ISO dates (2026-09-30) or fix these cells; for a "
                                      "US export set inputs.accounts.date_format: '%m/%d/%Y'")
        if order == "unknown":
            warnings.append(f"accounts: {int(ambiguous.sum())} {col} value(s) such as "
                            f"{df[col][ambiguous].iloc[0]} could be day-first or month-first; "
                            "read day-first (set inputs.accounts.date_format: '%m/%d/%Y' for a "
                            "US export): " + _rows_msg(ambiguous, ids))
        out[col] = values.dt.normalize()
    missing_start = out["start_date"].isna()
    if missing_start.any():
        raise InputDataError("accounts: blank start_date: " + _rows_msg(missing_start, ids),
                             file=file, column=df.attrs["mapping"].get("start_date"),
                             rows=file_rows(np.flatnonzero(missing_start.to_numpy())),
                             hint="every customer needs a won / customer-since date")
    if "churn_date" not in out:
        out["churn_date"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")

    # money -------------------------------------------------------------------------------
    cur = df["currency"] if "currency" in cols else None
    rates, base = params.currency.rates, params.currency.base

    def parse_money(values: pd.Series, currency, rates, base) -> pd.DataFrame:
        try:
            return _parse_money(values, currency, rates, base)
        except InputDataError as exc:  # name the file and the export's column
            raise InputDataError(f"accounts: {str(exc).splitlines()[0]}", file=file,
                                 column=df.attrs["mapping"].get(str(values.name), values.name),
                                 rows=exc.rows, hint=exc.hint) from None

    if "mrr" in cols:
        money = parse_money(df["mrr"], cur, rates, base)
        out["mrr"], out["mrr_local"] = money["value_base"], money["value_local"]
    else:
        money = parse_money(df["arr"], cur, rates, base)
        out["mrr"], out["mrr_local"] = money["value_base"] / 12, money["value_local"] / 12
    out["currency"] = money["currency"]
    if not money["parsed_ok"].all():
        badm = ~money["parsed_ok"]
        raise InputDataError("accounts: unreadable MRR/ARR values: " + _rows_msg(badm, ids),
                             file=file, column=df.attrs["mapping"].get("mrr", "arr"),
                             rows=file_rows(np.flatnonzero(badm.to_numpy())),
                             hint="amounts like 1200, 1,200.50, $1.2k or EUR 900 (not a "
                                  "percentage or text); fix these cells")
    if "arr" in cols and "mrr" in cols:
        out["arr"] = parse_money(df["arr"], cur, rates, base)["value_base"]
    for col in ("mrr_prev", "acquisition_cost"):
        if col in cols:
            m = parse_money(df[col], cur if col == "mrr_prev" else None, rates, base)
            out[col] = m["value_base"]
            if not m["parsed_ok"].all():
                warnings.append(f"accounts: {int((~m['parsed_ok']).sum())} unreadable {col} "
                                "value(s) left empty: " + _rows_msg(~m["parsed_ok"], ids))
    for col in _NUMERIC:
        if col in cols:
            out[col] = df[col].astype("float64")

    # test flag and status ------------------------------------------------------------------
    test_labels = {s.casefold() for s in rules.test_type_labels}
    is_test = pd.Series(False, index=out.index)
    if "account_type" in out:
        is_test |= out["account_type"].str.casefold().isin(test_labels).fillna(False)
    if "is_test" in cols:
        is_test |= parse_flag(df["is_test"])
    out["is_test"] = is_test.astype(bool)

    churned = out["churn_date"].notna() & (out["churn_date"] <= as_of)
    if "status" in cols:
        raw = df["status"].astype("string").str.strip().str.casefold()
        status = raw.map(STATUS_LABELS)
        unknown = raw.notna() & status.isna()
        if unknown.any():
            labels = sorted(raw[unknown].unique().tolist())
            raise InputDataError(f"accounts: unknown status labels {labels}", file=file,
                                 column=df.attrs["mapping"].get("status"),
                                 rows=file_rows(np.flatnonzero(unknown.to_numpy())),
                                 hint=f"use one of {sorted(STATUS_LABELS)} or map churn_date "
                                      "instead of status")
        derived = pd.Series(np.where(churned, FORMER, CURRENT), index=out.index)
        status = status.fillna(derived)
        if "churn_date" in cols:
            clash = status != derived
            if clash.any():
                warnings.append(f"accounts: {int(clash.sum())} status value(s) contradict "
                                f"churn_date at as_of {params.as_of}; the status column is "
                                "kept: " + _rows_msg(clash, ids))
    elif "churn_date" in cols:
        status = pd.Series(np.where(churned, FORMER, CURRENT), index=out.index)
    else:
        former_labels = {s.casefold() for s in rules.former_type_labels}
        status = pd.Series(np.where(out["account_type"].str.casefold().isin(former_labels)
                                    .fillna(False), FORMER, CURRENT), index=out.index)
    out["status"] = status.astype("string")

    # warnings, never silent changes ------------------------------------------------------------
    checks = {
        "churn_date before start_date": out["churn_date"] < out["start_date"],
        f"start_date after as_of {params.as_of}": out["start_date"] > as_of,
        "zero or negative MRR": out["mrr"] <= 0,
        "blank MRR (no contract value; scored as 0)": out["mrr"].isna(),
    }
    for what, mask in checks.items():
        mask = mask.fillna(False)
        if mask.any():
            warnings.append(f"accounts: {int(mask.sum())} account(s) with {what}: "
                            + _rows_msg(mask, ids))

    extras = [c for c in df.columns if c not in CANONICAL_ORDER]  # passed through as read
    ordered = [c for c in CANONICAL_ORDER if c in out.columns]
    result = pd.concat([out[ordered], df[extras]], axis=1)
    result.attrs = {}
    for col in result.columns:  # pandas' default text dtype, so joins with other tables agree
        if isinstance(result[col].dtype, pd.StringDtype):
            result[col] = result[col].astype(str)
    return result, warnings


# --------------------------------------------------------------------------- exclusions
def apply_exclusions(accounts: pd.DataFrame, rules: Exclusions,
                     as_of: dt.date | pd.Timestamp) -> pd.DataFrame:
    """The accounts with ``excluded`` (bool), ``exclusion_rule`` and ``exclusion_reason``.

    Rules in the module docstring's order; the first that fires names the rule. Kept accounts
    have rule ``"kept"``. ``rules_fired`` lists every rule that would fire ("|"-joined) so the
    reconciliation can show overlaps. Pure: nothing is dropped.
    """
    as_of = pd.Timestamp(as_of)
    df = accounts.copy()
    n = len(df)
    ids = df["account_id"].astype("string")
    start = pd.to_datetime(df["start_date"])
    mrr = df["mrr"].astype("float64") if "mrr" in df else pd.Series(np.nan, index=df.index)
    fires: dict[str, pd.Series] = {}
    reasons: dict[str, pd.Series] = {}
    empty = pd.Series("", index=df.index, dtype="string")

    manual = ids.isin([str(x) for x in rules.manual_exclude]).fillna(False)
    fires["manual"], reasons["manual"] = manual, empty + rules.manual_reason

    test = df["is_test"].fillna(False).astype(bool) if "is_test" in df else \
        pd.Series(False, index=df.index)
    test = test & rules.drop_test_accounts
    label = df["account_type"].astype("string").fillna("flag") if "account_type" in df else \
        empty + "flag"
    fires["test"], reasons["test"] = test, "test / proof-of-concept account (type '" + label + "')"

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
    fires["won_window"], reasons["won_window"] = won, reason_won

    tenure = (as_of - start).dt.days
    current = df["status"].astype("string").eq(CURRENT).fillna(True) if "status" in df else \
        pd.Series(True, index=df.index)
    if rules.min_tenure_days is not None:
        new = (current & (tenure < rules.min_tenure_days)).fillna(False)
    else:
        new = pd.Series(False, index=df.index)
    fires["too_new"] = new
    reasons["too_new"] = ("tenure " + tenure.astype("Int64").astype("string").fillna("?")
                          + f" days < {rules.min_tenure_days} at as_of {as_of.date()}")

    if rules.mrr_floor is not None:
        floor = (mrr < rules.mrr_floor).fillna(False)
    else:
        floor = pd.Series(False, index=df.index)
    fires["mrr_floor"] = floor
    reasons["mrr_floor"] = ("MRR " + mrr.round(2).astype("string").fillna("?")
                            + f" below the floor {rules.mrr_floor}")

    before_outlier = ~(manual | test | won | new | floor)
    outlier = pd.Series(False, index=df.index)
    reason_out = empty.copy()
    if rules.outlier_mrr_ratio is not None:
        pool = mrr[before_outlier & mrr.notna()]
        if len(pool) >= 2:
            order = np.lexsort((ids[pool.index].to_numpy(dtype=str), -pool.to_numpy()))
            top, second = pool.iloc[order[0]], pool.iloc[order[1]]
            if top > rules.outlier_mrr_ratio * second:
                label_idx = pool.index[order[0]]
                outlier.loc[label_idx] = True
                ratio = f"{top / second:.1f}x" if second > 0 else "infinitely"
                reason_out.loc[label_idx] = (f"MRR {top:,.0f} is {ratio} the next largest "
                                             f"({second:,.0f}) > {rules.outlier_mrr_ratio}x")
    fires["outlier"], reasons["outlier"] = outlier, reason_out

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


def reconciliation(flagged: pd.DataFrame) -> pd.DataFrame:
    """The reconciliation table: ``raw``, one row per rule (first rule that fired),
    ``excluded``, ``kept``; columns ``rule, description, accounts, share, mrr``.

    Asserts raw = kept + excluded and that every account has exactly one rule
    (AnalysisError otherwise).
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
    table = pd.DataFrame(rows, columns=["rule", "description", "accounts", "mrr"])
    table["share"] = table["accounts"] / raw if raw else 0.0
    kept, excluded = int((~excl).sum()), int(excl.sum())
    if raw != kept + excluded or excluded != int(table["accounts"].iloc[1:-2].sum()):
        raise AnalysisError(f"the customer list does not reconcile: raw {raw} != kept {kept} "
                            f"+ excluded {excluded}")
    return table[["rule", "description", "accounts", "share", "mrr"]]


def parse_flag(series: pd.Series) -> pd.Series:
    """Yes/no text (true, yes, y, 1, x) as bool; anything else False."""
    if pd.api.types.is_bool_dtype(series):
        return series.fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(series):
        return parse_number(series)[0].fillna(0).ne(0)
    return series.astype("string").str.strip().str.casefold().isin(TRUE_LABELS) \
        .fillna(False).astype(bool)


def required_accounts(params: Params) -> int:
    """The fewest kept accounts the analysis can work with: ``analysis.min_accounts``, and two
    leaves of the segmentation tree (``2 x analysis.tree.min_samples_leaf``) in every
    cross-validation training fold (``(cv_folds - 1) / cv_folds`` of the accounts)."""
    a = params.analysis
    tree = -(-2 * a.tree.min_samples_leaf * a.cv_folds // (a.cv_folds - 1))  # ceiling
    return max(a.min_accounts, tree)


def check_enough_accounts(flagged: pd.DataFrame, params: Params) -> None:
    """Stop (AnalysisError) when the exclusion rules leave too few accounts to analyse, saying
    how many are needed, which rules removed the others and what to do. The lightweight
    analysis (``analysis.mode``, see helpers.lightweight) needs only
    ``analysis.lightweight.min_accounts``."""
    from .lightweight import check_small_base

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

"""The customer list built from where recurring revenue really lives: won deals (Salesforce
opportunities, HubSpot deals; ``inputs.deals``) or billing subscriptions (Stripe;
``inputs.subscriptions``).

Per account, as of ``as_of`` (canonical account columns, docs/architecture.md):

- ``mrr``: recurring value in force at ``as_of`` per month (a deal is in force from its start
  — contract start, else close date — until its end — contract end, else start + term); deals
  are annualised by ``amount_basis`` (the total over the term, per year or per month);
  subscriptions normalise ``amount x quantity`` per day / week / month / year interval to a
  month; ``arr = 12 x mrr``;
- ``mrr_prev``: the same 12 months earlier (for the growth bonus);
- ``start_date``: the first won close date (deals) / the first subscription start;
- ``churn_date``: when nothing recurring is in force at ``as_of`` but something was, the end
  of the last; ``status`` follows;
- deals also give ``one_off_amount`` (won one-off deals closed in the 12 months to as_of,
  kept apart from recurring value), ``deal_count`` (won deals) and ``sales_cycle_days``
  (median created -> close of the won deals, a measure of acquisition cost).

Every input row is accounted for in the ``account_list_rows`` table (used, with its role, or
ignored, with its reason) summed up in ``account_list_reconciliation``. With an account
export beside it (``inputs.accounts``), the export gives the other fields (industry,
employees, ...), joined by id or name (``join_on``); ``account_list_match`` says how many
matched, and export accounts without a won deal or subscription are not customers (listed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from helpers.core.errors import InputDataError
from helpers.core.io import (
    _key,
    _match_preset,
    file_rows,
    normalise_domain,
    normalise_name,
    parse_dates,
    parse_money,
    parse_number,
    read_source_frame,
    read_table,
)
from helpers.core.params import (
    Currency,
    DealsSource,
    Exclusions,
    Inputs,
    Source,
    SubscriptionsSource,
)

PRESET_DIR = Path(__file__).parents[1] / "core" / "presets"
#: interval -> months per interval (Stripe: day, week, month, year)
INTERVAL_MONTHS = {"day": 12 / 365, "week": 12 / 52, "month": 1.0, "year": 12.0}
#: account fields the deals / subscriptions decide (an export's values are replaced)
DERIVED = ("start_date", "churn_date", "status", "mrr", "mrr_local", "currency", "mrr_prev",
           "arr")
ROW_COLUMNS = ["row", "record_id", "account_id", "used", "role", "reason", "amount_base"]


@dataclass
class AccountList:
    """The canonical account table and the tables that account for every input row."""

    accounts: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


# --------------------------------------------------------------------------- reading
def load_preset(kind: str, name: str | None) -> dict[str, tuple[str, ...]]:
    """The column preset ``<kind>_<name>.yaml`` (kind: deals | subscriptions).

    Parameters
    ----------
    kind : str
        ``deals`` or ``subscriptions``.
    name : str or None
        The preset name (None: ``generic``).

    Returns
    -------
    dict[str, tuple[str, ...]]
        Canonical column -> the file column names it accepts.
    """
    path = PRESET_DIR / f"{kind}_{name or 'generic'}.yaml"
    if not path.is_file():
        raise InputDataError(f"unknown {kind} preset '{name}'", file=str(path))
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): tuple(str(v) for v in vals) for k, vals in raw.items()}


def read_records(source: Source, kind: str, required: Sequence[str]) -> pd.DataFrame:
    """The deal / subscription file with canonical column names (explicit mapping, then the
    preset); a missing required column is an InputDataError naming the expected columns.

    Parameters
    ----------
    source : Source
        ``inputs.deals`` / ``inputs.subscriptions``.
    kind : str
        ``deals`` or ``subscriptions``.
    required : Sequence[str]
        Canonical columns that must be found (``a|b``: either).

    Returns
    -------
    pd.DataFrame
        The rows with canonical column names (``attrs["mapping"]``).
    """
    df = read_source_frame(source)
    cols = list(df.columns)
    by_key = {_key(c): c for c in cols}
    explicit: dict[str, str] = {}
    for canonical, col in source.mapping.items():
        found = col if col in cols else by_key.get(_key(col))
        if found is None:
            raise InputDataError(f"{kind}: the mapping names a column the file lacks: "
                                 f"{canonical}: '{col}'", file=source.path, column=col,
                                 hint=f"columns in the file: {', '.join(cols[:30])}")
        explicit[canonical] = found
    preset = load_preset(kind, source.preset)
    mapping = {**_match_preset([c for c in cols if c not in explicit.values()], preset,
                               set(explicit)), **explicit}
    for need in required:
        options = need.split("|")
        if not any(o in mapping for o in options):
            expected = [x for o in options for x in preset.get(o, (o,))][:6]
            names = "' or '".join(options)
            raise InputDataError(
                f"{kind}: no column for '{names}' (expected a column "
                f"like {', '.join(repr(e) for e in expected)})", file=source.path,
                column=options[0], hint=f"set inputs.{kind}.mapping.{options[0]}: '<column>' "
                f"(columns in the file: {', '.join(cols[:30])})")
    out = df.rename(columns={col: canonical for canonical, col in mapping.items()})
    out.attrs["mapping"] = mapping
    return out


def _text(df: pd.DataFrame, col: str) -> pd.Series:
    """A text column (Excel ids lose their '.0'; blank = NA); all NA when the file lacks it."""
    from helpers.setup.customers import _text_ids

    if col not in df.columns:
        return pd.Series(pd.NA, index=df.index, dtype="string")
    return _text_ids(df[col]).replace("", pd.NA)


def _dates(df: pd.DataFrame, col: str, source: Source) -> tuple[pd.Series, pd.Series]:
    """(dates, unreadable mask) of a column (all NaT when the file lacks it)."""
    if col not in df.columns:
        return (pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]"),
                pd.Series(False, index=df.index))
    formats = [source.date_format, "ISO8601"] if source.date_format else None
    values, bad = parse_dates(df[col], formats)
    return values.dt.normalize(), pd.Series(df.index.isin(bad), index=df.index)


def _money(df: pd.DataFrame, col: str, currency: Currency) -> tuple[pd.Series, pd.Series]:
    """(amount in the base currency, unreadable mask)."""
    cur = df["currency"] if "currency" in df.columns else None
    m = parse_money(df[col], cur, currency.rates, currency.base)
    return m["value_base"].astype(float), ~m["parsed_ok"].astype(bool)


def _in_force(start: pd.Series, end: pd.Series, when: pd.Timestamp) -> pd.Series:
    return (start <= when) & (end.isna() | (end > when))


def _labels(values: Sequence[str]) -> set[str]:
    return {_key(v) for v in values}


def _first_reason(checks: list[tuple[pd.Series, str | pd.Series]], index: pd.Index
                  ) -> pd.Series:
    """The first failing check's reason per row (NA where every check passes)."""
    reason = pd.Series(pd.NA, index=index, dtype="string")
    for mask, why in checks:
        take = mask.fillna(False).astype(bool) & reason.isna()
        reason = reason.mask(take, why if isinstance(why, str) else why.astype("string"))
    return reason


# --------------------------------------------------------------------------- deals
def deal_accounts(df: pd.DataFrame, source: DealsSource, currency: Currency,
                  as_of_date: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-account values from a deal table read by :func:`read_records`.

    Parameters
    ----------
    df : pandas.DataFrame
        The deals with canonical column names.
    source : DealsSource
        ``inputs.deals`` (stages, amount basis, term, date format).
    currency : Currency
        Base currency and exchange rates.
    as_of_date : datetime.date
        The analysis date.

    Returns
    -------
    tuple[pandas.DataFrame, pandas.DataFrame]
        The per-account values and the row table (every deal: used with its role, or
        ignored with its reason).
    """
    as_of = pd.Timestamp(as_of_date)
    year_ago = as_of - pd.DateOffset(years=1)
    # HubSpot lists several associated companies as "77;78": the first is the deal's account
    acc_id = (_text(df, "account_id").str.split(";").str[0].str.strip().replace("", pd.NA)
              .fillna(_text(df, "account_name")))
    close, bad_close = _dates(df, "close_date", source)
    created, _ = _dates(df, "created_date", source)
    start, bad_start = _dates(df, "start_date", source)
    end, bad_end = _dates(df, "end_date", source)
    amount, bad_amount = _money(df, "amount", currency)
    won, one_off = _won_and_one_off(df, source)
    stage = _text(df, "stage").fillna("blank")
    reason = _first_reason([
        (~won, "not won (stage " + stage + ")"),
        (acc_id.isna(), "no account id or name"),
        (bad_close | close.isna(), "no readable close date"),
        (close > as_of, f"closes after as_of {as_of_date}"),
        (bad_amount | amount.isna(), "no readable amount"),
        (~one_off & (bad_start | bad_end), "unreadable contract start or end date"),
    ], df.index)
    used = reason.isna()
    begin = start.fillna(close)
    term, stop = _contract_term(df, source, begin, end)
    per_year = {"total": amount / term * 12, "annual": amount, "monthly": amount * 12}
    annual = per_year[source.amount_basis].where(~one_off, 0.0)
    rec = used & ~one_off
    now, before = rec & _in_force(begin, stop, as_of), rec & _in_force(begin, stop, year_ago)
    role = pd.Series("recurring, not in force at as_of", index=df.index, dtype="string")
    role = role.mask(rec & (begin > as_of), "recurring, starts after as_of")
    role = role.mask(rec & (stop <= as_of), "recurring, ended before as_of")
    role = role.mask(now, "recurring, in force at as_of")
    role = role.mask(used & one_off, "one-off amount")
    rows = pd.DataFrame({"row": file_rows(df.index), "record_id": _text(df, "deal_id"),
                         "account_id": acc_id, "used": used,
                         "role": role.where(used, "ignored"), "reason": reason,
                         "amount_base": amount})
    u = pd.DataFrame({"account_id": acc_id, "account_name": _text(df, "account_name"),
                      "close": close, "created": created, "begin": begin, "stop": stop,
                      "rec": rec, "now": annual.where(now, 0.0), "prev": annual.where(before, 0.0),
                      "one_off": amount.where(one_off & (close > year_ago), 0.0),
                      "cycle": (close - created).dt.days})[used]
    g = u.groupby("account_id", sort=True)
    out = pd.DataFrame({
        "account_name": g["account_name"].first(),
        "start_date": g["close"].min(),
        "arr": g["now"].sum(), "arr_prev": g["prev"].sum(),
        "last_end": u[u["rec"]].groupby("account_id")["stop"].max(),
        "had_recurring": g["rec"].any(),
        "one_off_amount": g["one_off"].sum(),
        "deal_count": g.size().astype("int64"),
        "sales_cycle_days": g["cycle"].median(),
    })
    return _finish(out, as_of), rows


def _won_and_one_off(df: pd.DataFrame, source: DealsSource) -> tuple[pd.Series, pd.Series]:
    """Which deals are won (the is_won flag, else a won stage label) and which are one-off
    (a one-off revenue type label)."""
    if "is_won" in df.columns:
        from helpers.setup.customers import parse_flag

        won = parse_flag(df["is_won"])
    else:
        won = _text(df, "stage").map(lambda v: _key(v) in _labels(source.won_stages)
                                     if pd.notna(v) else False).astype(bool)
    kind_text = _text(df, "revenue_type")
    one_off = kind_text.map(lambda v: _key(v) in _labels(source.one_off_labels)
                            if pd.notna(v) else False).astype(bool)
    return won, one_off


def _contract_term(df: pd.DataFrame, source: DealsSource, begin: pd.Series, end: pd.Series
                   ) -> tuple[pd.Series, pd.Series]:
    """(term in months, contract stop date): the term column, else end - begin, else
    ``default_term_months``; the stop is the end date, else begin + term."""
    if "term_months" in df.columns:
        term = parse_number(df["term_months"])[0].astype(float)
    else:
        term = pd.Series(np.nan, index=df.index)
    span = (end - begin).dt.days / (365.25 / 12)
    term = term.fillna(span.where(span > 0)).fillna(source.default_term_months)
    stop = end.fillna(begin + pd.to_timedelta(term * 365.25 / 12, unit="D")).dt.normalize()
    return term, stop


def _finish(out: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Canonical columns from per-account annual values and the last recurring end."""
    out = out.copy()
    out["had_recurring"] = out["had_recurring"].fillna(False).astype(bool)
    churned = out["had_recurring"] & (out["arr"] <= 0) & (out["last_end"] <= as_of)
    out["churn_date"] = out["last_end"].where(churned)
    out["status"] = np.where(churned, "former", "current")
    out["mrr"] = out["arr"] / 12
    out["mrr_prev"] = out["arr_prev"] / 12
    out["mrr_local"] = out["mrr"]
    out = out.drop(columns=["last_end", "had_recurring", "arr_prev"]).reset_index()
    return out


# --------------------------------------------------------------------------- subscriptions
def subscription_accounts(df: pd.DataFrame, source: SubscriptionsSource, currency: Currency,
                          as_of_date: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-customer MRR from a subscription table read by :func:`read_records`.

    Parameters
    ----------
    df : pandas.DataFrame
        The subscriptions with canonical column names.
    source : SubscriptionsSource
        ``inputs.subscriptions`` (statuses, date format).
    currency : Currency
        Base currency and exchange rates.
    as_of_date : datetime.date
        The analysis date.

    Returns
    -------
    tuple[pandas.DataFrame, pandas.DataFrame]
        The per-customer values and the row table (every subscription: used with its role,
        or ignored with its reason).
    """
    as_of = pd.Timestamp(as_of_date)
    year_ago = as_of - pd.DateOffset(years=1)
    acc_id = _text(df, "account_id")
    start, bad_start = _dates(df, "start_date", source)
    ended, _ = _dates(df, "ended_at", source)
    canceled, _ = _dates(df, "canceled_at", source)
    amount, bad_amount = _money(df, "amount", currency)
    qty = (parse_number(df["quantity"])[0].astype(float).fillna(1.0)
           if "quantity" in df.columns else pd.Series(1.0, index=df.index))
    interval = _text(df, "interval").str.casefold().str.strip()
    count = (parse_number(df["interval_count"])[0].astype(float).fillna(1.0)
             if "interval_count" in df.columns else pd.Series(1.0, index=df.index))
    months = interval.map(INTERVAL_MONTHS).astype(float) * count
    status = _text(df, "status").str.casefold()
    never = status.isin([s.casefold() for s in source.ignored_statuses]).fillna(False)
    reason = _first_reason([
        (acc_id.isna(), "no customer id"),
        (never, "never started (status " + status.fillna("") + ")"),
        (bad_start | start.isna(), "no readable start date"),
        (start > as_of, f"starts after as_of {as_of_date}"),
        (bad_amount | amount.isna(), "no readable amount"),
        (months.isna(), "unknown interval " + interval.fillna("blank")
         + " (day, week, month or year)"),
    ], df.index)
    used = reason.isna()
    ended_status = status.isin([s.casefold() for s in source.ended_statuses]).fillna(False)
    stop = ended.fillna(canceled.where(ended_status))
    mrr = amount * qty / months
    now, before = used & _in_force(start, stop, as_of), used & _in_force(start, stop, year_ago)
    role = pd.Series("ended before as_of", index=df.index, dtype="string").mask(
        now, "in force at as_of")
    rows = pd.DataFrame({"row": file_rows(df.index), "record_id": _text(df, "subscription_id"),
                         "account_id": acc_id, "used": used,
                         "role": role.where(used, "ignored"), "reason": reason,
                         "amount_base": mrr.where(used)})
    u = pd.DataFrame({"account_id": acc_id, "account_name": _text(df, "account_name"),
                      "start": start, "stop": stop, "now": (mrr * 12).where(now, 0.0),
                      "prev": (mrr * 12).where(before, 0.0)})[used]
    g = u.groupby("account_id", sort=True)
    out = pd.DataFrame({"account_name": g["account_name"].first(),
                        "start_date": g["start"].min(), "arr": g["now"].sum(),
                        "arr_prev": g["prev"].sum(),
                        "last_end": g["stop"].max(), "had_recurring": g.size() > 0,
                        "subscription_count": g.size().astype("int64")})
    # a customer with a subscription still open has no end
    out.loc[g["stop"].apply(lambda s: s.isna().any()), "last_end"] = pd.NaT
    return _finish(out, as_of), rows


# --------------------------------------------------------------------------- account list
@dataclass(frozen=True)
class AccountRecords:
    """What the account list is built from, as read from the files: the deal or subscription
    rows (``kind``: deals | subscriptions, with their ``source`` parameters) and the account
    export's rows when one is given."""

    kind: str
    source: DealsSource | SubscriptionsSource
    rows: pd.DataFrame
    export: pd.DataFrame | None = None


def read_account_records(inputs: Inputs) -> AccountRecords:
    """Read ``inputs.deals`` or ``inputs.subscriptions`` and the account export beside them
    (the edge of this module: the only file reading of the account-list build).

    Parameters
    ----------
    inputs : Inputs
        The parameter file's ``inputs`` (deals or subscriptions; accounts optional).

    Returns
    -------
    AccountRecords
        The rows with canonical column names; a missing required column raises
        InputDataError naming the file and the expected columns.
    """
    if inputs.deals is not None:
        kind, src = "deals", inputs.deals
        required: tuple[str, ...] = ("account_id|account_name", "amount", "close_date",
                                     "stage|is_won")
    elif inputs.subscriptions is not None:
        kind, src = "subscriptions", inputs.subscriptions
        required = ("account_id", "amount", "start_date", "interval")
    else:
        raise InputDataError("no deals or subscriptions in the parameters",
                             hint="set inputs.deals or inputs.subscriptions")
    export = None
    if inputs.accounts is not None:
        export = read_table(inputs.accounts, what="accounts", required=("account_id",),
                            numeric=("employees", "success_hours"))
    return AccountRecords(kind, src, read_records(src, kind, required), export)


def _export_fields(df: pd.DataFrame, exclusions: Exclusions) -> pd.DataFrame:
    """The account export's own fields (not the ones deals / subscriptions decide)."""
    from helpers.setup.customers import _text_ids, parse_flag

    out = pd.DataFrame({"account_id": _text_ids(df["account_id"])})
    for col in ("account_name", "account_type", "industry", "country", "owner"):
        if col in df.columns:
            out[col] = df[col].astype("string").str.strip().replace("", pd.NA)
    if "domain" in df.columns:
        out["domain"] = normalise_domain(df["domain"])
    test_labels = {s.casefold() for s in exclusions.test_type_labels}
    is_test = pd.Series(False, index=out.index)
    if "account_type" in out:
        is_test |= out["account_type"].str.casefold().isin(test_labels).fillna(False)
    if "is_test" in df.columns:
        is_test |= parse_flag(df["is_test"])
    out["is_test"] = is_test.astype(bool)
    skip = {*DERIVED, "is_test", *out.columns}
    extras = [c for c in df.columns if c not in skip]
    out = pd.concat([out, df[extras]], axis=1)
    dup = out["account_id"].duplicated(keep=False)
    if dup.any():
        raise InputDataError("accounts: duplicate account ids", file=df.attrs.get("source"),
                             column="account_id", rows=file_rows(np.flatnonzero(dup)),
                             hint="the account export needs one row per account")
    return out


def join_export(derived: pd.DataFrame, export: pd.DataFrame, join_on: str, what: str
                ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The account list from ``what`` joined with the export's fields by id or name: (accounts,
    match report, warnings). Accounts only in ``what`` keep its fields; export accounts
    without any are not customers (counted in the match report, listed in a warning).

    Parameters
    ----------
    derived : pd.DataFrame
        The account list from deals / subscriptions.
    export : pd.DataFrame
        The account export's fields.
    join_on : str
        ``account_id`` or ``name``.
    what : str
        ``deals`` or ``subscriptions`` (for messages).

    Returns
    -------
    tuple[pd.DataFrame, pd.DataFrame, list[str]]
        ``(accounts, match report, warnings)``.
    """
    d = derived.copy()
    e = export.copy()
    if join_on == "name":
        d["_key"] = normalise_name(d["account_name"].fillna(d["account_id"]))
        e["_key"] = normalise_name(e["account_name"]) if "account_name" in e else pd.NA
    else:
        d["_key"], e["_key"] = d["account_id"].astype("string"), e["account_id"].astype("string")
    e = e.drop_duplicates("_key") if join_on == "name" else e
    merged = d.merge(e.drop(columns=["account_id", "account_name"], errors="ignore")
                     .rename(columns=lambda c: c),
                     on="_key", how="left", indicator=True, suffixes=("", "_export"))
    if join_on == "name":  # the export's id is the account's id when names match
        ids = e.set_index("_key")["account_id"]
        merged["account_id"] = merged["_key"].map(ids).fillna(merged["account_id"])
    matched = merged["_merge"] == "both"
    export_only = ~e["_key"].isin(d["_key"])
    match = pd.DataFrame({
        "outcome": [f"{what} and the account export", f"{what} only (not in the export)",
                    f"export only (no {what[:-1]}: not a customer)"],
        "accounts": [int(matched.sum()), int((~matched).sum()), int(export_only.sum())]})
    warnings = []
    if (~matched).any():
        warnings.append(f"{what}: {int((~matched).sum())} account(s) not in the account export "
                        f"(kept, without its fields): "
                        + ", ".join(merged.loc[~matched, "account_id"].astype(str).head(10)))
    if export_only.any():
        warnings.append(f"accounts: {int(export_only.sum())} export account(s) have no {what} "
                        "(not customers, left out of the list): "
                        + ", ".join(e.loc[export_only, "account_id"].astype(str).head(10)))
    out = merged.drop(columns=["_key", "_merge"])
    if "is_test" in out:
        out["is_test"] = out["is_test"].astype("boolean").fillna(False).astype(bool)
    return out, match, warnings


def summarise(rows: pd.DataFrame, what: str) -> pd.DataFrame:
    """The reconciliation of every input row: how many were used in each role and ignored for
    each reason, with the amounts (the rows add up to the file).

    Parameters
    ----------
    rows : pd.DataFrame
        The row table (``account_list_rows``).
    what : str
        ``deals`` or ``subscriptions``.

    Returns
    -------
    pd.DataFrame
        Columns ``outcome, used, rows, amount``; the last row totals the file.
    """
    key = rows["role"].where(rows["used"], "ignored: " + rows["reason"].fillna(""))
    t = (rows.assign(outcome=key, amount_base=rows["amount_base"].fillna(0.0))
         .groupby(["used", "outcome"], sort=True)
         .agg(rows=("row", "size"), amount=("amount_base", "sum")).reset_index()
         .sort_values(["used", "rows", "outcome"], ascending=[False, False, True],
                      kind="stable"))
    total = pd.DataFrame({"used": [pd.NA], "outcome": [f"total {what} rows in the file"],
                          "rows": [len(rows)], "amount": [float(rows["amount_base"].fillna(0.0)
                                                                .sum())]})
    out = pd.concat([t, total], ignore_index=True)
    out["used"] = out["used"].astype("boolean")
    return out[["outcome", "used", "rows", "amount"]]


def build_account_list(records: AccountRecords, exclusions: Exclusions, currency: Currency,
                       as_of_date: dt.date) -> AccountList:
    """The canonical account table from deals or subscriptions (and the account export when
    given), with the tables that account for every input row. Pure: reads no file.

    Parameters
    ----------
    records : AccountRecords
        The rows read by :func:`read_account_records`.
    exclusions : Exclusions
        The exclusion rules (``test_type_labels`` mark the export's test accounts).
    currency : Currency
        Base currency and exchange rates.
    as_of_date : datetime.date
        The analysis date.

    Returns
    -------
    AccountList
        The accounts, the warnings and the tables ``account_list_rows``,
        ``account_list_reconciliation`` and, with an export, ``account_list_match``.
    """
    src, what = records.source, records.kind
    if what == "deals":
        derived, rows = deal_accounts(records.rows, src, currency, as_of_date)
    else:
        derived, rows = subscription_accounts(records.rows, src, currency, as_of_date)
    derived["currency"] = currency.base
    derived["is_test"] = False
    warnings: list[str] = []
    tables = {"account_list_rows": rows, "account_list_reconciliation": summarise(rows, what)}
    if derived.empty:
        raise InputDataError(f"{what}: no usable row (no won deal / started subscription as of "
                             f"{as_of_date})", file=src.path,
                             hint="see the reasons: " + "; ".join(
                                 rows["reason"].dropna().value_counts().head(5).index))
    if records.export is not None:
        export = _export_fields(records.export, exclusions)
        derived = derived.drop(columns=["is_test"])
        derived, match, more = join_export(derived, export, src.join_on, what)
        warnings += more
        tables["account_list_match"] = match
    return AccountList(accounts=canonical(derived), warnings=warnings, tables=tables)


def canonical(table: pd.DataFrame) -> pd.DataFrame:
    """Canonical column order and types (as :func:`helpers.setup.customers.prepare_accounts`
    gives).

    Parameters
    ----------
    table : pd.DataFrame
        The account list.

    Returns
    -------
    pd.DataFrame
        The accounts in canonical column order and types.
    """
    from helpers.setup.customers import CANONICAL_ORDER

    out = table.copy()
    out["account_id"] = out["account_id"].astype("string")
    if "account_name" in out:
        out["name_key"] = normalise_name(out["account_name"])
    for col in ("start_date", "churn_date"):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]").dt.normalize()
    out["is_test"] = out["is_test"].astype(bool) if "is_test" in out else False
    ordered = [c for c in CANONICAL_ORDER if c in out.columns]
    out = out[ordered + [c for c in out.columns if c not in ordered]]
    for col in out.columns:  # pandas' default text dtype, as prepare_accounts gives
        if isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].astype(str)
    return out.reset_index(drop=True)

"""The analyst's data file, ``report.xlsx``: the scored accounts with their segment, the
segment, coverage, verdict and reconciliation tables, the quarter's migration and changes, the
exclusions and the run record (anonymised when ``report.anonymise`` says so; formula-injection
safe, a contents sheet first).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.core.params import Params, params_hash
from helpers.core.runinfo import overrides_text
from helpers.core.store import RunStore
from helpers.present.anonymise import anonymise_frame
from helpers.present.context import relevant_keys, scrub_map, stored_table

#: Excel's hard row limit (minus the header row)
EXCEL_MAX_ROWS = 1_048_575


#: accounts the stakeholder XLSX lists at most (the best by score rank): an XLSX writer does
#: ~100k cells/s, so 1M accounts would take minutes; the full scored list stays in the run's
#: Parquet files (data/processed/<run>/scored_accounts.parquet, segment_assignments.parquet)
XLSX_ACCOUNT_ROWS = 20_000


XLSX_ACCOUNT_COLUMNS = (
    "account_id", "account_name", "domain", "owner", "status", "account_type", "start_date",
    "churn_date", "industry", "country", "employees", "mrr", "mrr_prev", "tickets",
    "success_hours", "acquisition_cost", "c_acv", "c_tickets", "c_success", "c_acquisition",
    "c_growth", "c_churn", "c_large_logo", "growth_rate", "score", "score_rank", "score_pct",
    "quartile")


def scrub_frame(df: pd.DataFrame, scrub: Mapping[str, str]) -> pd.DataFrame:
    """Replace real identifiers inside the text cells of a small table (segment examples,
    verdict evidence...) by their pseudonyms. Meant for aggregate tables, not account lists.

    Parameters
    ----------
    df
        A small table.
    scrub
        Real identifier -> pseudonym.

    Returns
    -------
    DataFrame
        A copy with the identifiers replaced (``df`` itself when ``scrub`` is empty).
    """
    if not scrub:
        return df
    out = df.copy()
    cols = [c for c in out.columns
            if out[c].dtype == object or pd.api.types.is_string_dtype(out[c])]
    cells = [v for c in cols for v in out[c].tolist() if isinstance(v, str)]
    keys = relevant_keys(scrub, cells)
    if not keys:
        return out

    def fix(v: Any) -> Any:
        if not isinstance(v, str):
            return v
        for k in keys:
            if k in v:
                v = v.replace(k, scrub[k])
        return v

    for c in cols:
        out[c] = out[c].map(fix)
    return out


def xlsx_sheets(store: RunStore, params: Params) -> dict[str, pd.DataFrame]:
    """The tables of the analyst's data file (anonymised when the parameter says so).

    Parameters
    ----------
    store
        The run's tables (see ``helpers.core.catalog.read_by("xlsx")``).
    params
        The run's parameters (anonymisation).

    Returns
    -------
    dict
        Sheet name -> table, in sheet order, the run info last.
    """
    anon = params.report.anonymise
    sheets: dict[str, pd.DataFrame] = {}
    notes: list[tuple[str, str]] = []
    accounts = _accounts_sheet(store, notes)
    if accounts is not None:
        sheets["scored accounts"] = anonymise_frame(accounts) if anon else accounts
    for table, sheet in (("segments", "segments"), ("coverage", "coverage")):
        frame = stored_table(store, table)
        if frame is not None:
            sheets[sheet] = frame
    v = stored_table(store, "hypothesis_verdicts")
    if v is not None:
        sheets["hypothesis verdicts"] = v
    else:
        hyp = stored_table(store, "hypotheses")
        if hyp is not None:
            sheets["hypotheses"] = hyp
    rec = stored_table(store, "reconciliation")
    if rec is not None:
        sheets["reconciliation"] = rec
    for table, sheet in _QUARTER_SHEETS:
        frame = stored_table(store, table)
        if frame is not None:
            acc_level = table in ("target_movers", "migration_accounts", "change_quartiles")
            sheets[sheet] = anonymise_frame(frame) if anon and acc_level else frame
    exc = _exclusions_sheet(store)
    if exc is not None:
        sheets["exclusions"] = anonymise_frame(exc) if anon else exc
    sheets["run info"] = _run_info(store, params, notes)
    if anon:
        scrub = scrub_map(store)
        for name in ("segments", "coverage", "hypothesis verdicts", "hypotheses",
                     "reconciliation"):
            if name in sheets:
                sheets[name] = scrub_frame(sheets[name], scrub)
    return sheets


#: the run-to-run tables (helpers.analyse.quarterly) and their sheet names, in sheet order
_QUARTER_SHEETS = (("migration_matrix", "migration matrix"),
                   ("migration_summary", "migration summary"),
                   ("retention", "retention"), ("target_movers", "target movers"),
                   ("migration_accounts", "migration accounts"),
                   ("migration_segments", "segment definitions"),
                   ("change_params", "changes parameters"),
                   ("change_inputs", "changes inputs"), ("change_ranking", "changes ranking"),
                   ("change_quartiles", "changes quartiles"))


def _accounts_sheet(store: RunStore, notes: list[tuple[str, str]]) -> pd.DataFrame | None:
    """The scored accounts with their segment, its name and full rule, capped at the sheet's
    row limit (best by score rank first; the cap is added to ``notes``); None without
    ``scored_accounts``."""
    sc = stored_table(store, "scored_accounts")
    if sc is None:
        return None
    acc = sc[[c for c in XLSX_ACCOUNT_COLUMNS if c in sc.columns]].copy()
    sa = stored_table(store, "segment_assignments")
    if sa is not None and "account_id" in sa.columns:
        keep = [c for c in ("account_id", "segment", "segment_name") if c in sa.columns]
        acc = acc.merge(sa[keep].astype({"account_id": "str"}), on="account_id",
                        how="left", validate="one_to_one")
        seg_rules = stored_table(store, "segments")
        if "segment" in acc.columns and seg_rules is not None and \
                {"segment", "rule"} <= set(seg_rules.columns):  # the full rule beside the name
            rules = dict(zip(seg_rules["segment"].astype(str),
                             seg_rules["rule"].astype(str), strict=True))
            acc["segment_rule"] = acc["segment"].astype("str").map(rules)
    cap = min(EXCEL_MAX_ROWS, XLSX_ACCOUNT_ROWS)
    if len(acc) > cap:
        if "score_rank" in acc.columns:
            acc = acc.sort_values(["score_rank", "account_id"], kind="stable")
        notes.append(("scored accounts", f"the best {cap:,} of {len(acc):,} accounts by "
                      "score rank; the full table is in the run's Parquet files "
                      "(scored_accounts, segment_assignments)"))
        acc = acc.head(cap).reset_index(drop=True)
    return acc


def _exclusions_sheet(store: RunStore) -> pd.DataFrame | None:
    """The excluded accounts with their rule, reason and name; None without ``exclusions``."""
    exc = stored_table(store, "exclusions")
    if exc is None:
        return None
    raw = stored_table(store, "accounts_raw")
    exc = exc[exc["excluded"].fillna(False).astype(bool)] if "excluded" in exc else exc
    if raw is not None and "account_name" in raw.columns:
        exc = exc.merge(raw[["account_id", "account_name"]], on="account_id", how="left")
    return exc


def _run_info(store: RunStore, params: Params, notes: list[tuple[str, str]]) -> pd.DataFrame:
    """The run-info sheet: run id, as-of, parameter file, hashes and overrides, notes, the
    input files with their SHA-256 and the package versions (from the run manifest)."""
    m = store.manifest()
    info = [("run id", store.run_id), ("as of", str(params.as_of)),
            ("parameter file", str(m.get("params_file", ""))),
            ("parameters hash", str(m.get("params_hash") or params_hash(params))),
            ("parameter overrides in notebooks", overrides_text(m)),
            ("effective parameters hash", str(m.get("effective_params_hash")
                                              or m.get("params_hash") or params_hash(params))),
            ("anonymised", "yes" if params.report.anonymise else "no"),
            *[(f"note: {k}", v) for k, v in notes],
            *[(f"input {k}", f"{d.get('path')} sha256 {d.get('sha256')}")
              for k, d in (m.get("inputs") or {}).items()],
            *[(f"version {k}", str(ver)) for k, ver in sorted((m.get("versions") or {}).items())]]
    return pd.DataFrame(info, columns=["item", "value"])


#: what each sheet of report.xlsx holds (its "contents" sheet)
XLSX_CONTENTS = {
    "scored accounts": "every analysed account: quality score, quartile, segment and its name",
    "segments": "one row per segment: name, full rule, size, share in the top, lift, value",
    "coverage": "customer-success coverage per segment (managers, accounts per manager)",
    "hypothesis verdicts": "each hypothesis with its test, effect size and verdict",
    "hypotheses": "the hypotheses of the run",
    "reconciliation": "from the raw export to the analysed accounts, rule by rule",
    "migration matrix": "accounts moving between segments since the previous quarter",
    "migration summary": "the migration in figures",
    "retention": "retention of last quarter's segments",
    "target movers": "accounts that entered or left the recommended segments",
    "migration accounts": "every account's segment then and now",
    "segment definitions": "the segment rules of both quarters",
    "changes parameters": "parameters changed since the previous run",
    "changes inputs": "input files changed since the previous run",
    "changes ranking": "how the ranking moved since the previous run",
    "changes quartiles": "accounts whose quartile changed since the previous run",
    "exclusions": "accounts excluded from the analysis, with the reason",
    "run info": "run id, as-of date, parameter hash, input files and versions",
}


def build_xlsx(store: RunStore, params: Params, out_path: str | Path) -> Path:
    """Write the analyst's workbook (formula-injection safe, a contents sheet first; frozen
    headers, filters, widths and money/percent formats on every sheet).

    Parameters
    ----------
    store
        The run's tables.
    params
        The run's parameters (anonymisation, currency).
    out_path
        Where to write the XLSX file.

    Returns
    -------
    Path
        The file written.
    """
    from helpers.core.export import safe_xlsx

    sheets = xlsx_sheets(store, params)
    contents = {name: XLSX_CONTENTS.get(name, "") for name in sheets}
    return safe_xlsx(sheets, out_path, contents=contents, currency=params.currency.base)

"""Quarter to quarter: what changed between two runs, how accounts migrated, the CRM hand-back.

Two comparisons per run (both optional: the first run of a project has neither):

* the **previous run** (``previous_run`` in the parameters, else the latest complete run
  before this one by as-of date, then run id): parameter diff, input diff (manifests), the
  effect on the ranking (rank correlation, accounts that changed quartile) and on the segment
  definitions. For a feedback iteration (``2026Q3-v2``) this is the run it iterates on.
* the **previous quarter** (``quarterly.previous_quarter_run``, else the previous run when its
  as-of date is earlier, else the latest complete run with an earlier as-of date): the
  migration of every account between the two snapshots, retention (GRR/NRR), the movers in and
  out of the target segments and the stability of the segment definitions.

Discovery (no run named) only considers runs of the same *lineage* (the ``lineage`` parameter,
else the charter's project name) and skips a run with no account id in common with this one;
each skipped candidate is a note in ``comparison.json``, the warnings and the report.

Rules (docs/method.md, Step 5): migration rows are the previous state
(a segment, ``excluded``, ``not a customer``) plus ``new``; columns the current state (a
segment, ``excluded``, ``not a customer``) plus ``churned``. Every account in either
snapshot appears exactly once. ``excluded`` = a customer the run kept out of the analysis
(too new, outlier, manual); ``not a customer`` = a former customer, a test account, or an
account Step 1 excluded as not a customer, a trial or an unusable row.
GRR = (start ARR - churned - contraction) / start ARR; NRR adds expansion (start ARR = ARR of
the previous run's customers; won accounts are not in either ratio).

Pure functions on DataFrames; reading runs goes through :class:`helpers.core.store.RunStore`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from helpers.core.errors import AnalysisError, RunError
from helpers.core.store import RunStore

NEW, CHURNED, EXCLUDED, NOT_CUSTOMER = "new", "churned", "excluded", "not a customer"
REST = "Rest of base"
MOVEMENTS = ("won", "won back", "churned", "upgraded", "downgraded", "unchanged",
             NOT_CUSTOMER)
CRM_ID_COLUMN = {"salesforce": "Id", "hubspot": "Record ID"}
CRM_FIELDS = {"segment": "Segment", "segment_name": "Segment Name", "quartile": "Quartile",
              "score": "Quality Score", "run_id": "Segmentation Run"}


# ----------------------------------------------------------------------------- discovery
def run_key(as_of: Any, run_id: str) -> tuple[str, str]:
    """Order of runs: as-of date (ISO text), then run id (text).

    Parameters
    ----------
    as_of : Any
        The run's as-of date (a date or ISO text).
    run_id : str
        The run id.

    Returns
    -------
    tuple[str, str]
        ``(str(as_of), str(run_id))``, to sort or compare runs.
    """
    return (str(as_of), str(run_id))


def previous_run(run_id: str, as_of: Any, runs: pd.DataFrame, *,
                 earlier_as_of: bool = False, lineage: str | None = None,
                 exclude: Collection[str] = ()) -> str | None:
    """The latest complete run before ``(as_of, run_id)`` in :func:`run_key` order.

    ``runs`` is :func:`helpers.run.runs.list_runs` (columns run_id, as_of, complete, lineage). Runs
    that are not complete (failed, running), of another ``lineage`` (when given) or in
    ``exclude`` are skipped. ``earlier_as_of`` requires a strictly earlier as-of date (the
    previous *quarter*); otherwise a run of the same as-of date with a smaller run id counts
    (``2026Q3`` before ``2026Q3-v2``). None when there is none.

    Parameters
    ----------
    run_id : str
        This run.
    as_of : Any
        This run's as-of date.
    runs : pd.DataFrame
        :func:`helpers.run.runs.list_runs`.
    earlier_as_of : bool
        Require a strictly earlier as-of date.
    lineage : str, optional
        Only runs of this lineage.
    exclude : Collection[str]
        Run ids to skip.

    Returns
    -------
    str or None
        The run id, or None.
    """
    if runs is None or runs.empty:
        return None
    me = run_key(as_of, run_id)
    ok = runs["complete"].astype(bool) & (runs["run_id"].astype(str) != str(run_id))
    ok &= ~runs["run_id"].astype(str).isin([str(x) for x in exclude])
    if lineage is not None and "lineage" in runs.columns:
        ok &= runs["lineage"].astype(str) == str(lineage)
    cand = runs.loc[ok, ["run_id", "as_of"]].astype(str)
    keys = list(zip(cand["as_of"], cand["run_id"], strict=True))
    before = [k for k in keys if (k[0] < me[0] if earlier_as_of else k < me)]
    return max(before)[1] if before else None


@dataclass(frozen=True)
class Comparisons:
    """Which runs this run compares with, and why (``notes``: candidates skipped and why)."""

    previous_run: str | None
    previous_rule: str
    previous_quarter_run: str | None
    quarter_rule: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"previous_run": self.previous_run, "previous_rule": self.previous_rule,
                "previous_quarter_run": self.previous_quarter_run,
                "quarter_rule": self.quarter_rule, "notes": list(self.notes)}


def _named_run(name: str, what: str, run_id: str, info: Mapping[str, Any],
               shares: Callable[[str], bool]) -> tuple[str, list[str]]:
    """A run named in the parameters, checked (exists, complete, not this run; RunError
    otherwise), and a note when it has no account id in common with this run."""
    r = info.get(str(name))
    if r is None:
        raise RunError(f"{what} '{name}' does not exist (no data/processed/{name}/"
                       "manifest.json); fix the parameter or run it first")
    if not bool(r.complete):
        raise RunError(f"{what} '{name}' is not complete ({r.status}); compare with a "
                       "complete run")
    if str(name) == str(run_id):
        raise RunError(f"{what} '{name}' is this run itself")
    notes = []
    if not shares(str(name)):
        notes.append(f"run {name} (named in {what}) has no account ids in common with this "
                     "run: its comparison describes two different account lists")
    return str(name), notes


def _discover_run(run_id: str, as_of: Any, runs: pd.DataFrame, earlier: bool,
                  lineage: str | None, info: Mapping[str, Any],
                  shares: Callable[[str], bool]) -> tuple[str | None, list[str]]:
    """The latest complete run before this one (``earlier``: with an earlier as-of date) of
    ``lineage`` that shares accounts with it; notes on the runs skipped or not considered."""
    notes: list[str] = []
    skipped: list[str] = []
    while True:
        cand = previous_run(run_id, as_of, runs, earlier_as_of=earlier, lineage=lineage,
                            exclude=skipped)
        if cand is None or shares(cand):
            break
        skipped.append(cand)
        notes.append(f"run {cand} (as of {info[cand].as_of}) skipped: no account ids in "
                     "common with this run")
    other = previous_run(run_id, as_of, runs, earlier_as_of=earlier, exclude=skipped)
    if lineage is not None and other is not None and other != cand:
        notes.append(f"run {other} (as of {info[other].as_of}) not considered: it belongs "
                     f"to '{getattr(info[other], 'lineage', '')}', this run to '{lineage}' "
                     "(set `lineage:` in the parameters to join a series of runs)")
    return cand, notes


def resolve_comparisons(run_id: str, as_of: Any, runs: pd.DataFrame, *,
                        previous: str | None = None,
                        previous_quarter: str | None = None, lineage: str | None = None,
                        shares_accounts: Callable[[str], bool] | None = None) -> Comparisons:
    """Pick the previous run and the previous-quarter run (see the module docstring).

    An explicitly named run must exist and be complete (RunError otherwise). Discovery only
    considers runs of ``lineage`` (when given: the ``lineage`` parameter, else the charter's
    project name) and skips a candidate for which ``shares_accounts(run_id)`` is false (no
    account id in common with this run), taking the next one; each skip is a note.

    Parameters
    ----------
    run_id : str
        This run.
    as_of : Any
        This run's as-of date (compared as text, ISO format).
    runs : pd.DataFrame
        :func:`helpers.run.runs.list_runs` (run_id, as_of, complete, status, lineage).
    previous, previous_quarter : str, optional
        Runs named in the parameters (``previous_run``, ``quarterly.previous_quarter_run``).
    lineage : str, optional
        Only runs of this lineage are discovered.
    shares_accounts : callable, optional
        ``run_id -> bool``: whether that run has an account id in common with this one
        (None: every run does).

    Returns
    -------
    Comparisons
        The two runs (or None), the rule that picked each, and the notes.
    """
    info = {str(r.run_id): r for r in runs.itertuples()} if not runs.empty else {}
    notes: list[str] = []
    shared: dict[str, bool] = {}

    def shares(name: str) -> bool:
        if shares_accounts is None:
            return True
        if name not in shared:
            shared[name] = bool(shares_accounts(name))
        return shared[name]

    if previous:
        prev, more = _named_run(previous, "previous_run", run_id, info, shares)
        prule = "named in the parameters (previous_run)"
    else:
        prev, more = _discover_run(run_id, as_of, runs, False, lineage, info, shares)
        prule = ("latest complete run before this one by as-of date, then run id"
                 + (" (same lineage)" if lineage is not None else "")
                 if prev else "no complete run before this one"
                 + (" in this lineage" if lineage is not None else ""))
    notes += more
    if previous_quarter:
        q, more = _named_run(previous_quarter, "quarterly.previous_quarter_run", run_id, info,
                             shares)
        qrule = "named in the parameters (quarterly.previous_quarter_run)"
    elif prev is not None and str(info[prev].as_of) < str(as_of):
        q, qrule, more = prev, "the previous run (its as-of date is earlier)", []
    else:
        q, more = _discover_run(run_id, as_of, runs, True, lineage, info, shares)
        qrule = ("latest complete run with an earlier as-of date (ties: greatest run id)"
                 if q else "no complete run with an earlier as-of date"
                 + (" in this lineage" if lineage is not None else ""))
    notes += more
    return Comparisons(prev, prule, q, qrule, tuple(dict.fromkeys(notes)))


def shares_accounts(run_id: str, account_ids: pd.Series) -> bool:
    """Whether run ``run_id``'s account list (``accounts_raw``) has an id in ``account_ids``
    (text); a run without that table shares none.

    Parameters
    ----------
    run_id : str
        The other run.
    account_ids : pd.Series
        This run's account ids.

    Returns
    -------
    bool
        True when at least one id is in both.
    """
    path = RunStore(run_id).table_path("accounts_raw")
    if not path.exists():
        return False
    ids = pd.read_parquet(path, columns=["account_id"])["account_id"].astype("str")
    return bool(ids.isin(account_ids.astype("str")).any())


# ----------------------------------------------------------------------------- diffs
def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _show(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, sort_keys=True, ensure_ascii=False, default=str)


def param_diff(previous: Mapping[str, Any], current: Mapping[str, Any]) -> pd.DataFrame:
    """Every effective parameter that differs, as dotted keys: columns parameter, previous,
    current (JSON text; '' when absent), change (added / removed / changed).

    Parameters
    ----------
    previous, current : Mapping[str, Any]
        The two runs' effective parameters (nested mappings).

    Returns
    -------
    pd.DataFrame
        [parameter, previous, current, change], one row per differing dotted key.
    """
    a, b = _flatten(previous or {}), _flatten(current or {})
    rows = []
    for key in sorted(set(a) | set(b)):
        if key in a and key in b and json.dumps(a[key], sort_keys=True, default=str) == \
                json.dumps(b[key], sort_keys=True, default=str):
            continue
        change = "added" if key not in a else "removed" if key not in b else "changed"
        rows.append((key, _show(a[key]) if key in a else "", _show(b[key]) if key in b else "",
                     change))
    return pd.DataFrame(rows, columns=["parameter", "previous", "current", "change"])


def input_diff(previous: Mapping[str, Any], current: Mapping[str, Any],
               prev_files: pd.DataFrame | None = None,
               cur_files: pd.DataFrame | None = None) -> pd.DataFrame:
    """Input files of two runs by role, from their manifests (``inputs``: role -> path,
    size_bytes, sha256) and, when given, their ``data_manifest`` tables (rows per file).
    change: same / changed (other content) / added / removed.

    Parameters
    ----------
    previous, current : Mapping[str, Any]
        The two runs' manifests.
    prev_files, cur_files : pd.DataFrame, optional
        The two runs' ``data_manifest`` tables.

    Returns
    -------
    pd.DataFrame
        One row per input role of either run, with both sides and ``change``.
    """
    def frame(inputs: Mapping[str, Any], files: pd.DataFrame | None, sfx: str) -> pd.DataFrame:
        df = pd.DataFrame([{"role": k, "path": v.get("path"), "size_bytes": v.get("size_bytes"),
                            "sha256": v.get("sha256")} for k, v in (inputs or {}).items()],
                          columns=["role", "path", "size_bytes", "sha256"])
        if files is not None and {"file", "rows"} <= set(files.columns):
            rows = files.drop_duplicates("file").set_index("file")["rows"]
            df["rows"] = df["path"].map(rows).astype("Int64")
        else:
            df["rows"] = pd.array([pd.NA] * len(df), dtype="Int64")
        return df.set_index("role").add_suffix(sfx)

    out = frame(previous, prev_files, "_prev").join(frame(current, cur_files, "_cur"),
                                                   how="outer")
    has_p, has_c = out["path_prev"].notna(), out["path_cur"].notna()
    same = has_p & has_c & (out["sha256_prev"].astype("string") == out["sha256_cur"].astype(
        "string")).fillna(False)
    out["change"] = np.select([~has_p, ~has_c, same], ["added", "removed", "same"], "changed")
    out = out.reset_index().rename(columns={"index": "role"})
    cols = ["role", "change", "path_prev", "path_cur", "rows_prev", "rows_cur",
            "size_bytes_prev", "size_bytes_cur", "sha256_prev", "sha256_cur"]
    return out[cols].sort_values("role", kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------- states
def account_states(accounts: pd.DataFrame, exclusions: pd.DataFrame,
                   assignments: pd.DataFrame, recommended: list[str] | tuple[str, ...] = ()
                   ) -> pd.DataFrame:
    """One row per account of a run's snapshot with its state for the migration.

    ``accounts`` is ``accounts_raw`` (account_id, status, is_test, mrr, optional
    account_name / owner), ``exclusions`` the Step 1 flags, ``assignments`` the
    ``segment_assignments`` table. state: the segment id (a kept current customer),
    ``excluded`` (a current customer kept out of the analysis) or ``not a customer``
    (former customer, test account, or excluded by Step 1 as not a customer, a trial or an
    unusable row). arr = 12 x MRR (base currency); target = in a
    recommended segment. Raises AnalysisError when a kept current customer has no segment.

    Parameters
    ----------
    accounts : pd.DataFrame
        The run's ``accounts_raw``.
    exclusions : pd.DataFrame
        The run's Step 1 ``exclusions``.
    assignments : pd.DataFrame
        The run's ``segment_assignments``.
    recommended : sequence of str
        The recommended (target) segment ids.

    Returns
    -------
    pd.DataFrame
        One row per account with its state, segment, name, quartile, score, arr and target.
    """
    need = {"account_id", "status", "mrr"}
    if not need <= set(accounts.columns):
        raise AnalysisError(f"accounts_raw lacks {sorted(need - set(accounts.columns))}")
    a = accounts.copy()
    a["account_id"] = a["account_id"].astype("str")
    for col in ("account_name", "owner"):
        if col not in a.columns:
            a[col] = pd.NA
    test = a["is_test"].fillna(False).astype(bool) if "is_test" in a.columns else False
    a["customer"] = (a["status"].astype("str") == "current") & ~test
    a["former"] = (a["status"].astype("str") == "former") & ~test
    ex = exclusions[["account_id", "excluded", "exclusion_rule"]].astype({"account_id": "str"})
    a = a.merge(ex, on="account_id", how="left", validate="one_to_one")
    a["excluded"] = a["excluded"].fillna(False).astype(bool)
    # prospects, partners, trials and unusable rows are not customers (Step 1 rules)
    not_customer = a["exclusion_rule"].astype("str").isin(["not_customer", "trial", "invalid"])
    a["customer"] &= ~not_customer
    a["former"] &= ~not_customer
    seg_cols = [c for c in ("account_id", "segment", "segment_name", "quartile", "score")
                if c in assignments.columns]
    sa = assignments[seg_cols].astype({"account_id": "str"})
    a = a.merge(sa, on="account_id", how="left", validate="one_to_one")
    missing = a["customer"] & ~a["excluded"] & a["segment"].isna()
    if missing.any():
        ids = a.loc[missing, "account_id"].head(5).tolist()
        raise AnalysisError(f"{int(missing.sum())} kept current customer(s) have no segment "
                            f"(e.g. {ids}): segment_assignments does not match the customer "
                            "list; re-run 04_analysis for this run")
    seg = a["segment"].astype("str")
    a["state"] = np.where(~a["customer"], NOT_CUSTOMER,
                          np.where(a["excluded"], EXCLUDED, seg))
    in_seg = a["customer"] & ~a["excluded"]
    name = a["segment_name"].astype("str") if "segment_name" in a.columns else seg
    a["label"] = np.where(in_seg, name, a["state"])
    a["arr"] = np.where(a["customer"], a["mrr"].astype(float) * 12.0, 0.0)
    a["target"] = in_seg & seg.isin([str(s) for s in recommended])
    if "quartile" not in a.columns:
        a["quartile"] = pd.NA
    if "score" not in a.columns:
        a["score"] = np.nan
    a["quartile"] = a["quartile"].where(in_seg)
    a["score"] = a["score"].where(a["segment"].notna())
    cols = ["account_id", "account_name", "owner", "customer", "former", "excluded",
            "exclusion_rule",
            "state", "label", "segment", "segment_name", "quartile", "score", "mrr", "arr",
            "target"]
    return a[[c for c in cols if c in a.columns]]


# ----------------------------------------------------------------------------- migration
def migration(prev: pd.DataFrame, cur: pd.DataFrame, *, tolerance: float = 0.0
              ) -> pd.DataFrame:
    """Every account of either snapshot exactly once, with its previous and current state.

    ``prev`` / ``cur`` come from :func:`account_states`. Columns: account_id, account_name,
    owner, row (previous label or ``new``), column (current label, ``churned`` or
    ``not a customer``), movement (won / won back / churned / upgraded / downgraded /
    unchanged / not a customer: MRR change beyond ``tolerance`` x previous MRR), the previous
    and current segment, name, quartile, score, ARR, quartile_move (up / down / same) and
    target_move (into target / out of target).

    Parameters
    ----------
    prev, cur : pd.DataFrame
        The two snapshots' :func:`account_states`.
    tolerance : float
        Relative MRR change below which an account counts as unchanged.

    Returns
    -------
    pd.DataFrame
        One row per account of either snapshot (columns above).
    """
    keep = ["account_id", "account_name", "owner", "customer", "former", "state", "label",
            "segment",
            "segment_name", "quartile", "score", "arr", "target"]
    p = prev[[c for c in keep if c in prev.columns]].add_suffix("_prev")
    c = cur[[k for k in keep if k in cur.columns]].add_suffix("_cur")
    m = p.merge(c, left_on="account_id_prev", right_on="account_id_cur", how="outer",
                indicator=True, validate="one_to_one")
    in_p, in_c = m["_merge"] != "right_only", m["_merge"] != "left_only"
    m["account_id"] = m["account_id_cur"].fillna(m["account_id_prev"])
    for col in ("account_name", "owner"):
        m[col] = m[f"{col}_cur"].fillna(m[f"{col}_prev"])
    cp = m["customer_prev"].astype("boolean").fillna(False).astype(bool)
    cc = m["customer_cur"].astype("boolean").fillna(False).astype(bool)
    for col in ("arr_prev", "arr_cur"):
        m[col] = m[col].astype(float).fillna(0.0)
    for col in ("target_prev", "target_cur"):
        m[col] = m[col].astype("boolean").fillna(False).astype(bool)
    m["row"] = np.where(in_p, m["label_prev"].astype("str"), NEW)
    fc = m["former_cur"].astype("boolean").fillna(False).astype(bool)
    churned = ~cc & (cp | (~in_p & fc))  # new-and-lost between the snapshots counts too
    m["column"] = np.where(churned, CHURNED,
                           np.where(in_c, m["label_cur"].astype("str"), NOT_CUSTOMER))
    tol = float(tolerance)
    up = cp & cc & (m["arr_cur"] > m["arr_prev"] * (1 + tol))
    down = cp & cc & (m["arr_cur"] < m["arr_prev"] * (1 - tol))
    m["movement"] = np.select(
        [~cp & cc & ~in_p, ~cp & cc, cp & ~cc, up, down, cp & cc],
        ["won", "won back", CHURNED, "upgraded", "downgraded", "unchanged"], NOT_CUSTOMER)
    m.loc[churned & ~cp, "movement"] = CHURNED  # won and lost between the two snapshots
    qp, qc = m["quartile_prev"].astype("string"), m["quartile_cur"].astype("string")
    both_q = qp.notna() & qc.notna()
    up_q, down_q = (qc < qp).fillna(False).to_numpy(bool), (qc > qp).fillna(False).to_numpy(bool)
    m["quartile_move"] = pd.Series(np.select([up_q, down_q], ["up", "down"], "same"),
                                   index=m.index).where(both_q)  # A is the best quartile
    m["target_move"] = pd.Series(np.select([~m["target_prev"] & m["target_cur"],
                                            m["target_prev"] & ~m["target_cur"]],
                                           ["into target", "out of target"], ""),
                                 index=m.index).replace("", pd.NA)
    seg_both = (cp & cc & ~m["state_prev"].isin([EXCLUDED, NOT_CUSTOMER])
                & ~m["state_cur"].isin([EXCLUDED, NOT_CUSTOMER]))
    m["segment_changed"] = (m["label_prev"].astype("string") != m["label_cur"].astype(
        "string")).fillna(False) & seg_both
    m["target_reason"] = pd.Series(np.select(
        [m["movement"].isin(["won", "won back", CHURNED]).to_numpy(),
         m["segment_changed"].to_numpy(), (cp & cc & m["state_prev"].eq(EXCLUDED)).to_numpy(),
         (cp & cc & m["state_cur"].eq(EXCLUDED)).to_numpy()],
        [m["movement"].astype(str), "moved segment", "newly analysed (was excluded)",
         "now excluded"], "target segments changed"), index=m.index).where(
        m["target_move"].notna())
    m["arr_change"] = m["arr_cur"] - m["arr_prev"]
    cols = ["account_id", "account_name", "owner", "row", "column", "movement",
            "segment_prev", "segment_name_prev", "segment_cur", "segment_name_cur",
            "segment_changed", "quartile_prev", "quartile_cur", "quartile_move", "score_prev",
            "score_cur", "arr_prev", "arr_cur", "arr_change", "target_prev", "target_cur",
            "target_move", "target_reason"]
    out = m[cols].sort_values("account_id", kind="stable").reset_index(drop=True)
    if out["account_id"].duplicated().any():  # pragma: no cover - guarded by validate=
        raise AnalysisError("migration: an account appears twice")
    return out


def _order(labels: pd.Series, first: list[str], last: list[str]) -> pd.Series:
    """Sort key: the given labels first (in that order), other labels by name, ``last`` last."""
    rank = {lab: i for i, lab in enumerate(dict.fromkeys(first))}
    tail = {lab: 10_000 + i for i, lab in enumerate(last)}
    others = sorted(set(labels) - set(rank) - set(tail))
    rank.update({lab: len(first) + i for i, lab in enumerate(others)})
    rank.update(tail)
    return labels.map(rank).astype(int)


def migration_matrix(mig: pd.DataFrame, *, prev_order: list[str] | None = None,
                     cur_order: list[str] | None = None) -> pd.DataFrame:
    """Counts and value per (row, column) of :func:`migration`, long format: row, column,
    accounts, arr_prev, arr_cur, arr_change, row_order, column_order. Zero cells are left out;
    the accounts add up to the number of accounts in either snapshot.

    Parameters
    ----------
    mig : pd.DataFrame
        :func:`migration`.
    prev_order, cur_order : list of str, optional
        Segment labels in display order for the rows / columns (others after them).

    Returns
    -------
    pd.DataFrame
        The long matrix (columns above).
    """
    g = (mig.groupby(["row", "column"], sort=False, observed=True)
         .agg(accounts=("account_id", "size"), arr_prev=("arr_prev", "sum"),
              arr_cur=("arr_cur", "sum"))
         .reset_index())
    g["arr_change"] = g["arr_cur"] - g["arr_prev"]
    g["row_order"] = _order(g["row"], list(prev_order or []), [EXCLUDED, NOT_CUSTOMER, NEW])
    g["column_order"] = _order(g["column"], list(cur_order or []),
                               [EXCLUDED, NOT_CUSTOMER, CHURNED])
    return g.sort_values(["row_order", "column_order", "row", "column"],
                         kind="stable").reset_index(drop=True)


def matrix_wide(matrix: pd.DataFrame, value: str = "accounts") -> pd.DataFrame:
    """The long matrix as a grid (previous state down, current state across) with totals.

    Parameters
    ----------
    matrix : pd.DataFrame
        :func:`migration_matrix`.
    value : str
        The measure in the cells (accounts, arr_prev, arr_cur or arr_change).

    Returns
    -------
    pd.DataFrame
        First column ``previous \\ current`` (the row labels, then ``total``), one column per
        current state, then ``total``.
    """
    rows = matrix.drop_duplicates("row").sort_values(["row_order", "row"])["row"].tolist()
    cols = matrix.drop_duplicates("column").sort_values(["column_order", "column"])[
        "column"].tolist()
    w = matrix.pivot_table(index="row", columns="column", values=value, aggfunc="sum",
                           fill_value=0, observed=True).reindex(index=rows, columns=cols,
                                                                fill_value=0)
    w["total"] = w.sum(axis=1)
    w.loc["total"] = w.sum(axis=0)
    w.index.name, w.columns.name = "previous \\ current", None
    return w.reset_index()


def migration_summary(mig: pd.DataFrame, prev: pd.DataFrame, cur: pd.DataFrame
                      ) -> pd.DataFrame:
    """Reconciliation and counts: measure, value. ``reconciles`` is 1 when every account of
    either snapshot appears exactly once and won / churned match the snapshots.

    Parameters
    ----------
    mig : pd.DataFrame
        :func:`migration`.
    prev, cur : pd.DataFrame
        The two snapshots' :func:`account_states`.

    Returns
    -------
    pd.DataFrame
        [measure, value].
    """
    ids_p, ids_c = set(prev["account_id"].astype(str)), set(cur["account_id"].astype(str))
    cp = dict(zip(prev["account_id"].astype(str), prev["customer"], strict=True))
    cc = dict(zip(cur["account_id"].astype(str), cur["customer"], strict=True))
    won_snap = sum(1 for i in ids_c - ids_p if cc[i])
    churn_snap = sum(1 for i in ids_p if cp[i] and not cc.get(i, False))
    mv = mig["movement"].value_counts()
    rows = [("accounts in the previous snapshot", len(ids_p)),
            ("accounts in the current snapshot", len(ids_c)),
            ("accounts in either snapshot", len(ids_p | ids_c)),
            ("accounts in both snapshots", len(ids_p & ids_c)),
            ("rows in the migration", len(mig)),
            ("customers at the previous as-of date", int(prev["customer"].sum())),
            ("customers at the current as-of date", int(cur["customer"].sum())),
            ("won (new in the current snapshot, current customer)", won_snap),
            ("churned (customer before, not now)", churn_snap)]
    rows += [(f"movement: {k}", int(mv.get(k, 0))) for k in MOVEMENTS]
    rows += [("changed segment (customers in both, segmented in both)",
              int(mig["segment_changed"].sum())),
             ("moved up a quartile", int((mig["quartile_move"] == "up").sum())),
             ("moved down a quartile", int((mig["quartile_move"] == "down").sum())),
             ("moved into the target segments", int((mig["target_move"] == "into target").sum())),
             ("moved out of the target segments",
              int((mig["target_move"] == "out of target").sum()))]
    churn_mig = int(((mig["column"] == CHURNED) & (mig["row"] != NEW)).sum())
    ok = (len(mig) == len(ids_p | ids_c) and not mig["account_id"].duplicated().any()
          and set(mig["account_id"]) == ids_p | ids_c
          and int(mv.get("won", 0)) == won_snap and churn_mig == churn_snap)
    rows.append(("reconciles", int(ok)))
    return pd.DataFrame(rows, columns=["measure", "value"]).astype({"value": "int64"})


def retention(mig: pd.DataFrame) -> pd.DataFrame:
    """Revenue retention of the previous run's customers, per previous state and in total:
    start_arr, churned_arr, contraction_arr, expansion_arr, end_arr, grr, nrr (accounts won
    since are not included).

    Parameters
    ----------
    mig : pd.DataFrame
        :func:`migration`.

    Returns
    -------
    pd.DataFrame
        One row per previous state and a total row, with the columns above.
    """
    base = mig[mig["row"] != NEW].copy()
    base = base[base["arr_prev"] > 0]
    ch = base["column"] == CHURNED
    delta = base["arr_cur"] - base["arr_prev"]
    base["churned_arr"] = np.where(ch, base["arr_prev"], 0.0)
    base["contraction_arr"] = np.where(~ch, (-delta).clip(lower=0), 0.0)
    base["expansion_arr"] = np.where(~ch, delta.clip(lower=0), 0.0)
    base["churned"] = ch.astype(int)

    def agg(d: pd.DataFrame) -> pd.DataFrame:
        return d.agg(accounts=("account_id", "size"), churned=("churned", "sum"),
                     start_arr=("arr_prev", "sum"), churned_arr=("churned_arr", "sum"),
                     contraction_arr=("contraction_arr", "sum"),
                     expansion_arr=("expansion_arr", "sum"), end_arr=("arr_cur", "sum"))

    per = agg(base.groupby("row", sort=True)).reset_index().rename(columns={"row": "segment"})
    tot = agg(base.groupby(np.zeros(len(base), dtype=int))).assign(segment="Total")
    out = pd.concat([per, tot[per.columns]], ignore_index=True)
    start = out["start_arr"].replace(0, np.nan)
    out["grr"] = (out["start_arr"] - out["churned_arr"] - out["contraction_arr"]) / start
    out["nrr"] = out["grr"] + out["expansion_arr"] / start
    return out


def target_movers(mig: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """Accounts that moved into or out of the target (recommended) segments, for the
    success team: into target first, then by ARR (largest first), then account id.

    Parameters
    ----------
    mig : pd.DataFrame
        :func:`migration`.
    limit : int, optional
        Keep at most this many rows (None: all).

    Returns
    -------
    pd.DataFrame
        The movers, in that order.
    """
    cols = ["account_id", "account_name", "owner", "target_move", "target_reason", "movement",
            "segment_name_prev", "segment_name_cur", "quartile_prev", "quartile_cur",
            "arr_prev", "arr_cur"]
    t = mig.loc[mig["target_move"].notna(), cols].copy()
    t["_v"] = -t[["arr_prev", "arr_cur"]].max(axis=1)
    t = t.sort_values(["target_move", "_v", "account_id"], kind="stable").drop(columns="_v")
    return (t.head(limit) if limit else t).reset_index(drop=True)


# ----------------------------------------------------------------------------- ranking
def _paired(prev_assign: pd.DataFrame, cur_assign: pd.DataFrame) -> pd.DataFrame:
    """The accounts scored in both runs, one row each: score, quartile and segment_name of
    each run with the suffixes ``_prev`` / ``_cur`` (the columns a run has)."""
    keep = ["account_id", "score", "quartile", "segment_name"]
    return prev_assign[[c for c in keep if c in prev_assign]].astype({"account_id": "str"}).merge(
        cur_assign[[c for c in keep if c in cur_assign]].astype({"account_id": "str"}),
        on="account_id", suffixes=("_prev", "_cur"), validate="one_to_one")


def ranking_change(prev_assign: pd.DataFrame, cur_assign: pd.DataFrame) -> pd.DataFrame:
    """Effect on the ranking for accounts scored in both runs: one row with accounts,
    spearman, kendall (scores), top_quartile_kept (share of the previous quartile A still A),
    changed_quartile (accounts), changed_segment (accounts, by segment name).

    Parameters
    ----------
    prev_assign, cur_assign : pd.DataFrame
        The two runs' ``segment_assignments`` (account_id, score, quartile, segment_name).

    Returns
    -------
    pd.DataFrame
        One row with the measures above.
    """
    j = _paired(prev_assign, cur_assign)
    n = len(j)
    rho = tau = float("nan")
    if n >= 3 and j["score_prev"].nunique() > 1 and j["score_cur"].nunique() > 1:
        rho = float(stats.spearmanr(j["score_prev"], j["score_cur"]).statistic)
        tau = float(stats.kendalltau(j["score_prev"], j["score_cur"]).statistic)
    qa = j["quartile_prev"].astype("string") == "A"
    kept = float((j.loc[qa, "quartile_cur"].astype("string") == "A").mean()) if qa.any() \
        else float("nan")
    changed_q = int((j["quartile_prev"].astype("string") != j["quartile_cur"].astype(
        "string")).fillna(True).sum())
    changed_s = (int((j["segment_name_prev"].astype("string") != j["segment_name_cur"].astype(
        "string")).fillna(True).sum()) if "segment_name_prev" in j else 0)
    return pd.DataFrame([{"accounts": n, "spearman": rho, "kendall": tau,
                          "top_quartile_kept": kept, "changed_quartile": changed_q,
                          "changed_segment": changed_s}])


def quartile_changes(prev_assign: pd.DataFrame, cur_assign: pd.DataFrame) -> pd.DataFrame:
    """Accounts scored in both runs whose quartile changed: account_id, quartile_prev,
    quartile_cur, score_prev, score_cur, segment_name_prev, segment_name_cur (by account id).

    Parameters
    ----------
    prev_assign, cur_assign : pd.DataFrame
        The two runs' ``segment_assignments`` (account_id, score, quartile, segment_name).

    Returns
    -------
    pd.DataFrame
        One row per account whose quartile changed (columns above).
    """
    j = _paired(prev_assign, cur_assign)
    diff = (j["quartile_prev"].astype("string") != j["quartile_cur"].astype("string")).fillna(
        True)
    cols = ["account_id", "quartile_prev", "quartile_cur", "score_prev", "score_cur"]
    cols += [c for c in ("segment_name_prev", "segment_name_cur") if c in j.columns]
    return j.loc[diff, cols].sort_values("account_id", kind="stable").reset_index(drop=True)


def segment_definitions(prev_defs: Mapping[str, Any] | None, cur_defs: Mapping[str, Any] | None,
                        prev_assign: pd.DataFrame, cur_assign: pd.DataFrame) -> pd.DataFrame:
    """Stability of the segment definitions: one row per rule in either run (matched by rule
    text; Rest of base by id) with names, ids, recommended flags, accounts and share of each
    run, and the Jaccard similarity of the members among accounts scored in both runs.
    status: same rule / new rule / dropped rule.

    Parameters
    ----------
    prev_defs, cur_defs : Mapping[str, Any] or None
        The two runs' ``segment_defs`` documents.
    prev_assign, cur_assign : pd.DataFrame
        The two runs' ``segment_assignments``.

    Returns
    -------
    pd.DataFrame
        One row per rule of either run (columns above).
    """
    def frame(defs: Mapping[str, Any] | None, assign: pd.DataFrame) -> pd.DataFrame:
        defs = defs or {}
        rules = {str(d.get("id")): str(d.get("rule") or d.get("id"))
                 for d in defs.get("segments") or []}
        names = {str(k): str(v) for k, v in (defs.get("names") or {}).items()}
        rec = {str(x) for x in defs.get("recommended") or []}
        a = assign[["account_id", "segment"]].astype("str")
        counts = a["segment"].value_counts()
        ids = sorted(set(counts.index) | set(rules))
        return pd.DataFrame({
            "rule": [rules.get(i, REST if i == REST else i) for i in ids], "id": ids,
            "name": [names.get(i, i) for i in ids], "recommended": [i in rec for i in ids],
            "accounts": [int(counts.get(i, 0)) for i in ids],
            "share": [float(counts.get(i, 0)) / max(len(a), 1) for i in ids]})

    p, c = frame(prev_defs, prev_assign), frame(cur_defs, cur_assign)
    out = p.merge(c, on="rule", how="outer", suffixes=("_prev", "_cur"))
    # Jaccard among accounts scored in both runs
    rp = dict(zip(p["id"], p["rule"], strict=True))
    rc = dict(zip(c["id"], c["rule"], strict=True))
    j = prev_assign[["account_id", "segment"]].astype("str").merge(
        cur_assign[["account_id", "segment"]].astype("str"), on="account_id",
        suffixes=("_prev", "_cur"))
    j["rule_prev"], j["rule_cur"] = j["segment_prev"].map(rp), j["segment_cur"].map(rc)
    inter = j[j["rule_prev"] == j["rule_cur"]]["rule_prev"].value_counts()
    size_p, size_c = j["rule_prev"].value_counts(), j["rule_cur"].value_counts()
    union = size_p.reindex(out["rule"]).fillna(0).to_numpy() + size_c.reindex(
        out["rule"]).fillna(0).to_numpy() - inter.reindex(out["rule"]).fillna(0).to_numpy()
    out["jaccard"] = np.where(union > 0, inter.reindex(out["rule"]).fillna(0).to_numpy()
                              / np.where(union > 0, union, 1), np.nan)
    hp, hc = out["id_prev"].notna(), out["id_cur"].notna()
    out["status"] = np.select([hp & hc, hc], ["same rule", "new rule"], "dropped rule")
    out["share_change"] = out["share_cur"] - out["share_prev"]
    for col in ("accounts_prev", "accounts_cur"):
        out[col] = out[col].astype("Int64")
    for col in ("recommended_prev", "recommended_cur"):
        out[col] = out[col].astype("boolean").fillna(False).astype(bool)
    out["_o"] = np.where(out["rule"] == REST, 1, 0)
    out = out.sort_values(["_o", "id_cur", "id_prev"], kind="stable", na_position="last")
    cols = ["rule", "status", "id_prev", "id_cur", "name_prev", "name_cur", "recommended_prev",
            "recommended_cur", "accounts_prev", "accounts_cur", "share_prev", "share_cur",
            "share_change", "jaccard"]
    return out[cols].reset_index(drop=True)


# ----------------------------------------------------------------------------- runs
@dataclass
class RunTables:
    """What a comparison needs from one run."""

    run_id: str
    manifest: dict[str, Any]
    accounts: pd.DataFrame
    exclusions: pd.DataFrame
    assignments: pd.DataFrame
    segment_defs: dict[str, Any]
    files: pd.DataFrame | None

    @property
    def as_of(self) -> str:
        return str(self.manifest.get("as_of", ""))

    @property
    def recommended(self) -> list[str]:
        return [str(s) for s in self.segment_defs.get("recommended") or []]

    def states(self) -> pd.DataFrame:
        return account_states(self.accounts, self.exclusions, self.assignments,
                              self.recommended)


def load_run(run_id: str, store: RunStore | None = None) -> RunTables:
    """Read a run's tables for a comparison (RunError naming what is missing).

    Parameters
    ----------
    run_id : str
        The run to read.
    store : RunStore, optional
        Its store (default ``RunStore(run_id)``).

    Returns
    -------
    RunTables
        Manifest, accounts_raw, exclusions, segment_assignments, segment_defs ({} when absent)
        and data_manifest (None when absent).
    """
    st = store or RunStore(run_id)
    if not (st.path / "manifest.json").exists():
        raise RunError(f"run '{run_id}' not found ({st.path})")
    files = st.read("data_manifest") if st.has("data_manifest") else None
    defs = st.read_json("segment_defs") if st.has("segment_defs") else {}
    return RunTables(run_id, st.manifest(), st.read("accounts_raw"), st.read("exclusions"),
                     st.read("segment_assignments"), defs, files)


def segment_order(defs: Mapping[str, Any], assignments: pd.DataFrame) -> list[str]:
    """Segment display names in id order (S1, S2, ...), Rest of base last.

    Parameters
    ----------
    defs : Mapping[str, Any]
        The run's ``segment_defs`` document.
    assignments : pd.DataFrame
        The run's ``segment_assignments`` (segment, segment_name).

    Returns
    -------
    list of str
        The display names.
    """
    names = {str(k): str(v) for k, v in (defs.get("names") or {}).items()}
    ids = sorted(set(assignments["segment"].astype(str)), key=lambda s: (s == REST, len(s), s))
    lab = assignments.drop_duplicates("segment").set_index("segment")["segment_name"] \
        if "segment_name" in assignments.columns else pd.Series(dtype="str")
    return [str(lab.get(i, names.get(i, i))) for i in ids]


def compare_runs(prev: RunTables, cur: RunTables) -> dict[str, pd.DataFrame]:
    """The run-to-run diff: change_params, change_inputs, change_ranking, change_quartiles,
    change_segments.

    Parameters
    ----------
    prev, cur : RunTables
        The two runs (:func:`load_run`).

    Returns
    -------
    dict[str, pd.DataFrame]
        Table name -> table.
    """
    return {
        "change_params": param_diff(prev.manifest.get("effective_params") or {},
                                    cur.manifest.get("effective_params") or {}),
        "change_inputs": input_diff(prev.manifest.get("inputs") or {},
                                    cur.manifest.get("inputs") or {}, prev.files, cur.files),
        "change_ranking": ranking_change(prev.assignments, cur.assignments),
        "change_quartiles": quartile_changes(prev.assignments, cur.assignments),
        "change_segments": segment_definitions(prev.segment_defs, cur.segment_defs,
                                               prev.assignments, cur.assignments),
    }


def migrate_runs(prev: RunTables, cur: RunTables, *, tolerance: float = 0.0,
                 movers_max: int | None = None) -> dict[str, pd.DataFrame]:
    """The quarter-to-quarter migration: migration_accounts, migration_matrix,
    migration_summary, retention, target_movers, migration_segments.

    Parameters
    ----------
    prev, cur : RunTables
        The previous-quarter run and this run (:func:`load_run`).
    tolerance : float
        Relative MRR change below which an account counts as unchanged (:func:`migration`).
    movers_max : int, optional
        At most this many target movers (None: all).

    Returns
    -------
    dict[str, pd.DataFrame]
        Table name -> table.
    """
    ps, cs = prev.states(), cur.states()
    mig = migration(ps, cs, tolerance=tolerance)
    return {
        "migration_accounts": mig,
        "migration_matrix": migration_matrix(
            mig, prev_order=segment_order(cur.segment_defs, cur.assignments)
            + segment_order(prev.segment_defs, prev.assignments),
            cur_order=segment_order(cur.segment_defs, cur.assignments)),
        "migration_summary": migration_summary(mig, ps, cs),
        "retention": retention(mig),
        "target_movers": target_movers(mig, movers_max),
        "migration_segments": segment_definitions(prev.segment_defs, cur.segment_defs,
                                                  prev.assignments, cur.assignments),
    }


# ----------------------------------------------------------------------------- CRM
def changed_accounts(assignments: pd.DataFrame, previous: pd.DataFrame | None) -> pd.Series:
    """Boolean per row of ``assignments``: new since ``previous`` or a different segment,
    segment name or quartile (the score alone moves every quarter and does not count).

    Parameters
    ----------
    assignments : pd.DataFrame
        This run's ``segment_assignments``.
    previous : pd.DataFrame or None
        Another run's ``segment_assignments`` (None: every account counts as changed).

    Returns
    -------
    pd.Series
        Boolean, aligned with ``assignments``.
    """
    if previous is None:
        return pd.Series(True, index=assignments.index)
    keys = [c for c in ("segment", "segment_name", "quartile") if c in assignments.columns
            and c in previous.columns]
    cur = assignments[["account_id", *keys]].astype("string")
    prv = previous[["account_id", *keys]].astype("string").drop_duplicates("account_id")
    j = cur.merge(prv, on="account_id", how="left", suffixes=("", "_p"), indicator=True)
    diff = j["_merge"] == "left_only"
    for k in keys:
        diff |= (j[k] != j[f"{k}_p"]).fillna(True)
    return pd.Series(diff.to_numpy(), index=assignments.index)


def crm_export(assignments: pd.DataFrame, run_id: str,
               fmt: Literal["salesforce", "hubspot"] = "salesforce", *,
               previous: pd.DataFrame | None = None, changed_only: bool = False
               ) -> pd.DataFrame:
    """Custom-field update file for the CRM: the record id column (Salesforce ``Id``,
    HubSpot ``Record ID``) and Segment, Segment Name, Quartile, Quality Score,
    Segmentation Run; sorted by id. ``changed_only`` keeps accounts that are new or changed
    segment or quartile since ``previous`` (another run's segment_assignments). Write it with
    :func:`helpers.core.export.safe_csv` (formula-injection safe).

    Parameters
    ----------
    assignments : pd.DataFrame
        This run's ``segment_assignments``.
    run_id : str
        This run (the Segmentation Run field).
    fmt : {"salesforce", "hubspot"}
        The CRM, which names the record id column.
    previous : pd.DataFrame, optional
        Another run's ``segment_assignments`` (for ``changed_only``).
    changed_only : bool
        Keep only the accounts :func:`changed_accounts` flags.

    Returns
    -------
    pd.DataFrame
        The update file, one row per account.
    """
    if fmt not in CRM_ID_COLUMN:
        raise AnalysisError(f"unknown CRM format {fmt!r}; use one of {sorted(CRM_ID_COLUMN)}")
    need = {"account_id", "segment", "segment_name", "quartile", "score"}
    if not need <= set(assignments.columns):
        raise AnalysisError(f"segment_assignments lacks {sorted(need - set(assignments))}")
    a = assignments.astype({"account_id": "str"})
    if changed_only:
        a = a[changed_accounts(a, previous).to_numpy()]
    out = pd.DataFrame({
        CRM_ID_COLUMN[fmt]: a["account_id"].to_numpy(),
        CRM_FIELDS["segment"]: a["segment"].astype("str").to_numpy(),
        CRM_FIELDS["segment_name"]: a["segment_name"].astype("str").to_numpy(),
        CRM_FIELDS["quartile"]: a["quartile"].astype("str").to_numpy(),
        CRM_FIELDS["score"]: a["score"].astype(float).to_numpy(),
        CRM_FIELDS["run_id"]: str(run_id)})
    return out.sort_values(CRM_ID_COLUMN[fmt], kind="stable").reset_index(drop=True)

"""The method's lightweight analysis for a small customer base (Step 4, "small base, few
hypotheses"; docs/method.md).

``analysis.mode`` picks the path: ``full`` (quartile profile, tree, regression, cross-validated
lift), ``lightweight``, or ``auto`` (lightweight below ``analysis.lightweight.below`` kept
accounts). The lightweight path is the method's own recipe:

- one table of every account with its score and the hypothesis fields, best first
  (``lightweight_table``), and per field the relation in words (the ``thresholds`` table:
  "every account with employees of 500 or more is in the top 20 %, ...");
- then the accounts sorted by each field, cut at its threshold (numeric) or by category, to see
  whether one group is disproportionately good (``lightweight_separation``);
- the hypothesis tests are the exact / permutation tests with Benjamini-Hochberg (as below
  ``analysis.small_base``), on the base's own scale: categories rarer than
  ``lightweight.category_share`` of the accounts are merged into 'other', but the
  ``keep_categories`` largest never are (a field never collapses into one 'other'), and a
  hypothesis needs ``lightweight.min_tested`` accounts with a value;
- the tree is kept as a picture, its leaves at least ``leaf_share`` of the accounts;
- no regression and no cross-validated lift (too few top accounts per fold): the gains of
  the schemes are shown in-sample only, and segments come from the validated thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from helpers.analyse.profiling import OTHER_LABEL, as_labels, sorted_table, top_flag
from helpers.core.params import Analysis, Params

LIGHTWEIGHT, FULL = "lightweight", "full"

LARGER_BASE_ADDS = (
    "With a larger base (the full path from {below} accounts): the accounts split into score "
    "quartiles (deciles from {deciles} accounts) with every field profiled across them, "
    "asymptotic tests with more power, categories kept apart down to {min_cat} accounts, "
    "a deeper tree with leaves of {leaf} accounts, a multivariate regression that separates "
    "overlapping variables, and cross-validated lift that shows how well each scheme finds "
    "top accounts it did not see.")


def path_for(analysis: Analysis, n_accounts: int) -> str:
    """``lightweight`` or ``full`` for a base of ``n_accounts`` kept accounts.

    Parameters
    ----------
    analysis : Analysis
        The Step 4 parameters (``mode``, ``lightweight.below``).
    n_accounts : int
        Accounts kept after the exclusion rules.

    Returns
    -------
    str
        ``analysis.mode`` when it is not ``auto``; else ``lightweight`` below
        ``lightweight.below`` accounts, ``full`` from there.
    """
    if analysis.mode != "auto":
        return analysis.mode
    return LIGHTWEIGHT if n_accounts < analysis.lightweight.below else FULL


def path_reason(analysis: Analysis, n_accounts: int) -> str:
    """Why this path ran, in words (shown in the notebook and the report).

    Parameters
    ----------
    analysis : Analysis
        The Step 4 parameters.
    n_accounts : int
        Accounts kept after the exclusion rules.

    Returns
    -------
    str
        One clause naming the mode or the threshold that chose the path.
    """
    path = path_for(analysis, n_accounts)
    if analysis.mode != "auto":
        return f"analysis.mode is '{analysis.mode}' ({n_accounts:,} accounts)"
    below = analysis.lightweight.below
    side = "fewer than" if path == LIGHTWEIGHT else "at least"
    return (f"{n_accounts:,} kept accounts, {side} analysis.lightweight.below = {below} "
            "with analysis.mode auto")


def min_leaf(analysis: Analysis, n_accounts: int) -> int:
    """The tree's leaf minimum on the lightweight path (never above the full path's).

    Parameters
    ----------
    analysis : Analysis
        The Step 4 parameters (``tree.min_samples_leaf``, ``lightweight.leaf_min`` /
        ``leaf_share``).
    n_accounts : int
        Accounts kept.

    Returns
    -------
    int
        ``min(tree.min_samples_leaf, max(leaf_min, ceil(leaf_share * n_accounts)))``.
    """
    lw = analysis.lightweight
    return min(analysis.tree.min_samples_leaf,
               max(lw.leaf_min, math.ceil(lw.leaf_share * n_accounts)))


def min_category(analysis: Analysis, n_accounts: int) -> int:
    """The category-size minimum on the lightweight path (never above the full path's).

    Parameters
    ----------
    analysis : Analysis
        The Step 4 parameters (``tree.min_category_size``, ``lightweight.category_min`` /
        ``category_share``).
    n_accounts : int
        Accounts kept.

    Returns
    -------
    int
        ``min(tree.min_category_size, max(category_min, ceil(category_share * n_accounts)))``.
    """
    lw = analysis.lightweight
    return min(analysis.tree.min_category_size,
               max(lw.category_min, math.ceil(lw.category_share * n_accounts)))


def scaled(analysis: Analysis, n_accounts: int) -> Analysis:
    """The Step 4 parameters the lightweight path uses for ``n_accounts`` accounts: leaves and
    the accounts a test needs scaled to the base; categories are merged beforehand by
    :func:`merge_categories` (so the tests and the tree merge nothing more).

    Parameters
    ----------
    analysis : Analysis
        The Step 4 parameters of the full path.
    n_accounts : int
        Accounts kept.

    Returns
    -------
    Analysis
        A copy with the scaled tree leaf, ``min_category_size`` 1 and ``min_accounts`` at most
        ``lightweight.min_tested``.
    """
    tree = analysis.tree.model_copy(update={"min_samples_leaf": min_leaf(analysis, n_accounts),
                                            "min_category_size": 1})
    return analysis.model_copy(update={
        "tree": tree, "min_accounts": min(analysis.min_accounts, analysis.lightweight.min_tested)})


def merge_categories(table: pd.DataFrame, kinds: Mapping[str, str], min_size: int,
                     keep: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge rare categories of every categorical field into 'other', scaled to the base.

    A category with fewer than ``min_size`` accounts is merged unless it is one of the
    ``keep`` largest (ties: by label), so a field keeps at least two categories when it has
    two. A lone rare category is left as it is (merging it would only rename it). Returns the
    table (the merged columns replaced) and one row per merged label: [variable, category,
    accounts, merged_into].

    Parameters
    ----------
    table : pd.DataFrame
        The analysis table.
    kinds : Mapping[str, str]
        Variable -> kind; only ``categorical`` variables present in ``table`` are merged.
    min_size : int
        Categories with fewer accounts are merged (see :func:`min_category`).
    keep : int
        The largest categories never merged.

    Returns
    -------
    table : pd.DataFrame
        A copy with the merged columns replaced.
    merges : pd.DataFrame
        [variable, category, accounts, merged_into], one row per merged label.
    """
    out = table.copy()
    rows: list[dict[str, Any]] = []
    for var, kind in kinds.items():
        if kind != "categorical" or var not in out.columns:
            continue
        labels = as_labels(out[var], kind)
        counts = labels.value_counts(dropna=True)
        order = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
        kept = {str(k) for k, _ in order[:keep]}
        rare = [(str(k), int(c)) for k, c in order if c < min_size and str(k) not in kept]
        if not rare or (len(rare) == 1 and OTHER_LABEL not in {str(k) for k, _ in order}):
            continue
        names = {k for k, _ in rare}
        out[var] = labels.mask(labels.isin(names), OTHER_LABEL)
        rows += [{"variable": var, "category": k, "accounts": c, "merged_into": OTHER_LABEL}
                 for k, c in rare]
    return out, pd.DataFrame(rows, columns=["variable", "category", "accounts", "merged_into"])


def account_table(table: pd.DataFrame, variables: Sequence[str]) -> pd.DataFrame:
    """Every account, its score and the hypothesis fields, best first (the method's table).

    Parameters
    ----------
    table : pd.DataFrame
        The analysis table (account_id, score and the fields).
    variables : Sequence[str]
        The hypothesis fields to show.

    Returns
    -------
    pd.DataFrame
        The accounts sorted best first, with those fields.
    """
    return sorted_table(table, list(variables))


def separation(table: pd.DataFrame, thresholds: pd.DataFrame, kinds: Mapping[str, str],
               top_share: float) -> pd.DataFrame:
    """Sorted by each field: does one group hold a disproportionate share of top accounts?

    Numeric fields are cut at their threshold (``thresholds`` table), categorical and boolean
    fields grouped by category. One row per (variable, group): accounts, top accounts, the
    group's top rate against the base rate (``lift``) and its mean score; groups in the
    variable's order (below the cut first; categories by label).

    Parameters
    ----------
    table : pd.DataFrame
        The analysis table (account_id, score and the fields).
    thresholds : pd.DataFrame
        The thresholds table (variable, cut) for the numeric fields.
    kinds : Mapping[str, str]
        Variable -> kind (numeric, categorical, boolean).
    top_share : float
        Share of accounts that counts as "top" (ties broken by account_id).

    Returns
    -------
    pd.DataFrame
        [variable, group, accounts, top_accounts, top_rate, lift, mean_score].
    """
    is_top = top_flag(table["score"], top_share, tiebreak=table["account_id"]).astype(bool)
    base = float(is_top.mean()) if len(table) else float("nan")
    cuts = {r.variable: r.cut for r in thresholds.itertuples()} if len(thresholds) else {}
    rows: list[dict[str, Any]] = []
    for var, kind in kinds.items():
        if var not in table.columns:
            continue
        if kind == "numeric":
            if var not in cuts:
                continue
            x = pd.to_numeric(table[var], errors="coerce")
            c = float(cuts[var])
            groups = {f"below {c:g}": x < c, f"{c:g} or more": x >= c}
        else:
            lab = as_labels(table[var], kind)
            groups = {str(k): lab == k for k in sorted(lab.dropna().unique(), key=str)}
        for name, mask in groups.items():
            m = mask.fillna(False).to_numpy(dtype=bool)
            n = int(m.sum())
            if not n:
                continue
            rate = float(is_top.to_numpy()[m].mean())
            rows.append({"variable": var, "group": name, "accounts": n,
                         "top_accounts": int(is_top.to_numpy()[m].sum()), "top_rate": rate,
                         "lift": rate / base if base else float("nan"),
                         "mean_score": float(table.loc[m, "score"].mean())})
    return pd.DataFrame(rows, columns=["variable", "group", "accounts", "top_accounts",
                                       "top_rate", "lift", "mean_score"])


def in_sample_gains(table: pd.DataFrame, schemes: Sequence[Any], top_share: float,
                    scores: dict[str, np.ndarray] | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gains of each scheme fitted and scored on all accounts (no cross-validation): the
    ``lift`` table (in-sample and reference rows) and ``scheme_summary`` (in-sample rows).

    Parameters
    ----------
    table : pd.DataFrame
        The analysis table (account_id, score and the schemes' columns).
    schemes : Sequence[Scheme]
        The schemes (:class:`helpers.analyse.lift.Scheme`).
    top_share : float
        Share of accounts that counts as "top".
    scores : dict, optional
        Receives each scheme's scores (name -> array in ``table`` row order).

    Returns
    -------
    lift_long : pd.DataFrame
        [scheme, sample, x, y, y_min, y_max] (``in_sample`` and ``reference`` rows).
    summary : pd.DataFrame
        [scheme, sample, n_accounts, n_top, pi, accuracy_ratio, capture_*] per scheme.
    """
    from helpers.analyse.lift import (
        _run_scorer,
        accuracy_ratio,
        capture_at,
        gains_curve,
        reference_curves,
        top_label,
    )

    frame = table.reset_index(drop=True)
    is_top = top_label(frame["score"].set_axis(frame["account_id"]), top_share).to_numpy()
    n, n_top = len(frame), int(is_top.sum())
    curves, summary = [], []
    points = [top_share, 2 * top_share]
    for sch in schemes:
        sc = _run_scorer(sch, sch.fit(frame), frame)
        if scores is not None:
            scores[sch.name] = sc
        curve = gains_curve(sc, is_top)
        curves.append(curve.assign(scheme=sch.name, sample="in_sample", y_min=curve["y"],
                                   y_max=curve["y"]))
        row = {"scheme": sch.name, "sample": "in_sample", "n_accounts": n, "n_top": n_top,
               "pi": n_top / n if n else float("nan"),
               "accuracy_ratio": accuracy_ratio(sc, is_top)}
        for pt in points:
            row[f"capture_{round(pt * 100)}"] = capture_at(curve, pt)
        summary.append(row)
    ref = reference_curves(n_top / n if n else 1.0)
    ref = ref.assign(sample="reference", y_min=ref["y"], y_max=ref["y"])
    cols = ["scheme", "sample", "x", "y", "y_min", "y_max"]
    lift_long = pd.concat([*(c[cols] for c in curves), ref[cols]], ignore_index=True)
    return lift_long, pd.DataFrame(summary)


class RegressionNotRun:
    """Stands for the regression on the lightweight path (the method's lightweight recipe has
    none): no variable kept, empty steps and coefficients."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.kept: list[str] = []
        self.variables: list[str] = []
        self.group = None
        self.fit = None
        self.steps = pd.DataFrame(columns=["step", "action", "variable", "p_value", "vif",
                                           "reason"])
        self.coefs = pd.DataFrame(columns=["variable", "term", "coef", "se", "p"])

    def summary(self) -> str:
        return f"regression not run: {self.reason}"


def record(analysis: Analysis, n_accounts: int, merges: pd.DataFrame | None = None
           ) -> dict[str, Any]:
    """The ``analysis_path`` record: which path ran, why, with which scaled parameters, and
    what a larger base would add.

    Parameters
    ----------
    analysis : Analysis
        The Step 4 parameters.
    n_accounts : int
        Accounts kept.
    merges : pd.DataFrame, optional
        The merged categories (:func:`merge_categories`), counted in the record.

    Returns
    -------
    dict
        path, n_accounts, reason, mode, below; on the lightweight path also min_leaf,
        min_category, min_tested, merged_categories, skipped and larger_base.
    """
    path = path_for(analysis, n_accounts)
    doc: dict[str, Any] = {"path": path, "n_accounts": int(n_accounts),
                           "reason": path_reason(analysis, n_accounts),
                           "mode": analysis.mode, "below": analysis.lightweight.below}
    if path == LIGHTWEIGHT:
        doc.update({
            "min_leaf": min_leaf(analysis, n_accounts),
            "min_category": min_category(analysis, n_accounts),
            "min_tested": min(analysis.min_accounts, analysis.lightweight.min_tested),
            "merged_categories": int(len(merges)) if merges is not None else 0,
            "skipped": ["regression", "cross-validated lift"],
            "larger_base": LARGER_BASE_ADDS.format(
                below=analysis.lightweight.below, deciles=analysis.deciles_from,
                min_cat=analysis.tree.min_category_size,
                leaf=analysis.tree.min_samples_leaf)})
    return doc


def sentence(doc: Mapping[str, Any]) -> str:
    """One paragraph for the report: the path that ran and what a larger base would add.

    Parameters
    ----------
    doc : Mapping[str, Any]
        The ``analysis_path`` record (:func:`record`).

    Returns
    -------
    str
        The paragraph.
    """
    if doc.get("path") != LIGHTWEIGHT:
        return (f"The full analysis ran ({doc.get('reason', '')}): quartile profile, tree, "
                "regression and cross-validated lift.")
    return (f"The lightweight analysis ran ({doc['reason']}), the method's recipe for a small "
            "base: every account sorted by its score with the hypothesis fields, each field's "
            "relation to the score in words (thresholds), exact or permutation tests with "
            "Benjamini-Hochberg, categories rarer than "
            f"{doc['min_category']} accounts merged into 'other' (the two largest kept), the "
            f"tree with leaves of at least {doc['min_leaf']} accounts, and segments from the "
            "validated thresholds. Not run: the regression and cross-validated lift (gains "
            f"are in-sample). {doc['larger_base']}")


def check_small_base(flagged: pd.DataFrame, params: Params, kept: int) -> bool:
    """Step 1's check on the lightweight path: True when the kept accounts suffice for it,
    AnalysisError below ``analysis.lightweight.min_accounts``; False on the full path (whose
    own check then applies).

    Parameters
    ----------
    flagged : pd.DataFrame
        The accounts with ``excluded`` and ``exclusion_rule`` (Step 1).
    params : Params
        The run's parameters.
    kept : int
        Accounts kept after the exclusion rules.

    Returns
    -------
    bool
        True on the lightweight path with enough accounts, False on the full path.

    Raises
    ------
    AnalysisError
        On the lightweight path with fewer than ``analysis.lightweight.min_accounts`` accounts.
    """
    from helpers.core.errors import AnalysisError

    a = params.analysis
    if path_for(a, kept) != LIGHTWEIGHT:
        return False
    need = a.lightweight.min_accounts
    if kept >= need:
        return True
    rules = flagged.loc[flagged["excluded"].astype(bool), "exclusion_rule"].value_counts()
    by_rule = ", ".join(f"{r} {int(c)}" for r, c in sorted(rules.items())) or "none"
    what = ("every account is excluded by the rules" if kept == 0
            else f"only {kept} account(s) are kept after the exclusion rules")
    raise AnalysisError(
        f"{what} ({len(flagged)} in the export; excluded: {by_rule}). Even the lightweight "
        f"analysis needs at least {need} "
        "kept accounts (analysis.lightweight.min_accounts): with fewer, a score ranking "
        "cannot separate good customers from the rest. What to do: check the exclusion rules "
        "(see the exclusions table), add former customers or a longer history to the export, "
        "or review the accounts one by one instead of segmenting them.")

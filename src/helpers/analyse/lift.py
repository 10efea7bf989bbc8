"""Gains (lift) curves: compare segmentation schemes as predictors of "is this account top?".

Definitions (docs/method.md, Step 4, "Lift"):

- target: an account is *top* when its quality score is in the best ``top_share`` of the kept
  accounts (:func:`top_label`);
- a scheme gives every account a score (higher = predicted better); G(x) is the share of all
  top accounts found in the scheme's best fraction x of accounts (:func:`gains_curve`);
- ties: accounts with equal scheme scores form one block and share its credit evenly, so G is
  linear across a block and row order never matters;
- accuracy ratio AR = (AUGC - 0.5) / (AUGC* - 0.5), AUGC* = 1 - pi/2; for a binary target it
  equals 2 AUC - 1 with ties scored as half (:func:`accuracy_ratio`);
- out-of-sample: repeated stratified k-fold on the top label; each repeat's out-of-fold scores
  are pooled into one curve (:func:`evaluate_schemes`); percentile bootstrap CIs over accounts,
  paired across schemes (:func:`compare_schemes`).

A *scheme* is anything that learns from a training frame and returns a scorer for any frame:
``Scheme(name, fit)`` with ``fit(train_df) -> scorer`` and ``scorer(df) -> Series``. Tree and
regression models plug in through :func:`model_scheme` (any object with ``predict(frame)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from helpers.core.errors import AnalysisError, InputDataError
from helpers.core.parallel import ordered_map

Scorer = Callable[[pd.DataFrame], "pd.Series | np.ndarray"]

#: columns withheld from the frame a scorer sees when it scores held-out accounts
LEAK_COLUMNS: tuple[str, ...] = ("score", "quartile", "is_top", "score_rank", "decile")

SAMPLES = ("in_sample", "out_of_sample")


# --------------------------------------------------------------------------- target
#: the last id column ranked by :func:`_order_key` and its ranks (Step 4 ranks the same
#: account_id column for every test, threshold and tree; Arrow data never change in place)
_LAST_ORDER: tuple[object, np.ndarray] | None = None


def _order_key(ids: pd.Index | pd.Series | np.ndarray) -> np.ndarray:
    """Position of each id in the sorted id order (used as the final tie-break; equal ids by
    position), read-only. Ranked by Arrow in C++ (code-point order, as numpy's string sort):
    a Python string sort would cost ~0.1 s per call at 100k accounts; the same column asked
    again is answered from the last call."""
    import pyarrow as pa
    import pyarrow.compute as pc

    global _LAST_ORDER
    ids = pd.Index(ids).astype("str")
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64)
    source = getattr(ids.array, "_pa_array", None)  # the immutable Arrow data behind the ids
    last = _LAST_ORDER
    if source is not None and last is not None and last[0] is source:
        return last[1]
    arr = pa.array(ids.array, type=pa.large_string())
    key = pc.rank(arr, sort_keys="ascending", tiebreaker="first").to_numpy().astype(np.int64) - 1
    key.flags.writeable = False
    if source is not None:
        _LAST_ORDER = (source, key)
    return key


def top_count(n: int, top_share: float) -> int:
    """Number of top accounts among ``n``: ceil(top_share * n) (at least 1, at most n).

    Parameters
    ----------
    n : int
        Number of accounts.
    top_share : float
        Share of accounts that counts as "top".

    Returns
    -------
    int
        The number of top accounts.
    """
    if n <= 0:
        raise AnalysisError("no accounts: cannot define the top share")
    k = math.ceil(round(top_share * n, 9))
    return int(min(max(k, 1), n))


def top_label(score: pd.Series, top_share: float = 0.25,
              ids: pd.Series | pd.Index | None = None) -> pd.Series:
    """True for accounts in the best ``top_share`` of ``score`` (higher = better).

    Exactly ``top_count(n, top_share)`` = ceil(top_share * n) accounts are top. Ties at the
    boundary are broken deterministically by ``ids`` ascending (default: the Series index,
    normally ``account_id``), never by row order. Missing scores raise.

    Parameters
    ----------
    score : pd.Series
        The score per account.
    top_share : float
        Share of accounts that counts as "top".
    ids : pd.Series or pd.Index, optional
        Tie-break keys, aligned with ``score`` (default its index).

    Returns
    -------
    pd.Series
        Boolean, aligned with ``score``.
    """
    s = pd.Series(score)
    if s.isna().any():
        rows = list(s.index[s.isna()][:20])
        raise InputDataError("quality score has missing values", column=str(s.name or "score"),
                             rows=rows, hint="score every kept account before Step 4")
    v = s.to_numpy(dtype=float)
    k = top_count(len(s), top_share)
    # only the k-th best value matters: partition (O(n)) instead of a full sort; ids are
    # ranked only inside the tie block at the boundary (same result as a full lexsort)
    kth = -np.partition(-v, k - 1)[k - 1]
    out = v > kth
    at = np.flatnonzero(v == kth)
    need = k - int(out.sum())
    if need >= len(at):
        out[at] = True
    else:
        id_values = (s.index if ids is None else pd.Index(ids))[at]
        out[at[np.argsort(_order_key(id_values), kind="stable")[:need]]] = True
    return pd.Series(out, index=s.index, name="is_top")


# --------------------------------------------------------------------------- core curve
def _as_float(values, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InputDataError(f"{name} has missing or infinite values", column=name,
                             rows=list(np.flatnonzero(bad)[:20]),
                             hint="every account needs a finite value (fill or exclude first)")
    return arr


@dataclass(frozen=True)
class _Prepared:
    """A scheme's ranking prepared once: sort order and tie-block starts."""

    order: np.ndarray
    starts: np.ndarray
    target: np.ndarray  # target in sorted order

    @classmethod
    def build(cls, scheme_score: np.ndarray, target: np.ndarray) -> _Prepared:
        order = np.argsort(-scheme_score, kind="stable")
        ss = scheme_score[order]
        starts = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1]]) if len(ss) else np.array([0])
        return cls(order, starts, target[order])

    def points(self, weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Block end points (x, y) of the gains curve, starting at (0, 0)."""
        w = np.ones(len(self.order)) if weight is None else weight[self.order]
        return _curve_points(np.add.reduceat(w, self.starts),
                             np.add.reduceat(w * self.target, self.starts))

    def block_index(self) -> np.ndarray:
        """Per account (original order): the index of its tie block (0 = best)."""
        blk = np.empty(len(self.order), dtype=np.int64)
        ends = np.r_[self.starts[1:], len(self.order)]
        blk[self.order] = np.repeat(np.arange(len(self.starts)), ends - self.starts)
        return blk


def _curve_points(n_b: np.ndarray, v_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Block end points (x, y) of a gains curve, from (0, 0), given each tie block's weight
    of accounts ``n_b`` and of target ``v_b``, best block first."""
    tot_n, tot_v = n_b.sum(), v_b.sum()
    if tot_v <= 0:
        raise AnalysisError("the target is empty (no top accounts / no value): "
                            "a gains curve needs at least one positive")
    zero = np.zeros(1)
    return (np.concatenate((zero, np.cumsum(n_b) / tot_n)),
            np.concatenate((zero, np.cumsum(v_b) / tot_v)))


def _points_from_counts(cnt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_curve_points` from per-block (non-top, top) counts: what
    :meth:`_Prepared.points` gives for integer resample weights."""
    # two strided columns added: a reduction over a length-2 axis is ~3x slower
    return _curve_points(cnt[:, 0] + cnt[:, 1], cnt[:, 1])


class _ResampleCounts:
    """Per-block (non-top, top) counts of several rankings of the same accounts and the same
    0/1 target on a bootstrap resample, by ``bincount`` of block codes (integer counts: the
    same numbers as gathering weights in sorted order, in any order of the draws).

    Rankings with few tie blocks (a tree's leaves, segments, a yes/no field) are packed into
    one joint code (mixed radix, at most ``joint_max`` cells), so one pass over the resample
    counts several rankings; their own counts are the margins of the joint table.
    """

    def __init__(self, preps: Sequence[_Prepared], target: np.ndarray,
                 joint_max: int = 1 << 16) -> None:
        t = np.asarray(target).astype(np.int64)
        self.n_preps = len(preps)
        self.packs: list[tuple[list[int], list[int], np.ndarray]] = []  # members, sizes, codes
        members: list[int] = []
        sizes: list[int] = []
        code = np.zeros(len(t), dtype=np.int64)
        for i, prep in enumerate(preps):
            b = len(prep.starts)
            if members and 2 * math.prod(sizes) * b > joint_max:
                self._close(members, sizes, code, t)
                members, sizes, code = [], [], np.zeros(len(t), dtype=np.int64)
            code += prep.block_index() * math.prod(sizes)
            members.append(i)
            sizes.append(b)
        if members:
            self._close(members, sizes, code, t)

    def _close(self, members: list[int], sizes: list[int], code: np.ndarray,
               t: np.ndarray) -> None:
        codes = 2 * code + t
        small = len(codes) and codes.max() < 2**31 - 1
        self.packs.append((members, sizes, codes.astype(np.int32) if small else codes))

    def counts(self, pick: np.ndarray) -> list[np.ndarray]:
        """(blocks x 2) counts of every ranking, in the order given, for resample ``pick``
        (account indices drawn with replacement, in any order)."""
        out: list[np.ndarray] = [np.empty(0)] * self.n_preps
        for members, sizes, codes in self.packs:
            cells = np.bincount(codes[pick], minlength=2 * math.prod(sizes))
            if len(members) == 1:
                out[members[0]] = cells.reshape(-1, 2)
                continue
            table = cells.reshape(*reversed(sizes), 2)  # last member first (mixed radix)
            last = len(sizes) - 1
            for j, i in enumerate(members):
                axis = last - j
                out[i] = table.sum(axis=tuple(a for a in range(len(sizes)) if a != axis))
        return out


def _area(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))


def _target(is_top=None, weights=None) -> np.ndarray:
    if weights is not None:
        v = _as_float(weights, "weights")
        if (v < 0).any():
            raise InputDataError("value weights must be non-negative", column="weights",
                                 rows=list(np.flatnonzero(v < 0)[:20]),
                                 hint="use revenue, or the score clipped at 0")
        return v
    if is_top is None:
        raise InputDataError("pass is_top (count version) or weights (value version)")
    return np.asarray(is_top, dtype=float)


def _default_grid(grid) -> np.ndarray:
    return np.linspace(0.0, 1.0, 101) if grid is None else np.asarray(grid, dtype=float)


def gains_curve(scheme_score, is_top=None, grid=None, weights=None) -> pd.DataFrame:
    """Gains curve G(x) on ``grid`` (default 0, 0.01, ..., 1) as DataFrame[x, y].

    Count version: y = share of top accounts in the scheme's best x. Value version (pass
    ``weights``, e.g. revenue): y = share of total value captured. Tie blocks get linear credit.

    Parameters
    ----------
    scheme_score : array-like
        The scheme's score per account (higher = ranked first).
    is_top : array-like of bool, optional
        Top flag per account (count version).
    weights : array-like, optional
        Non-negative value per account (value version; replaces ``is_top``).
    grid : array-like, optional
        Shares of accounts at which the curve is read.

    Returns
    -------
    pd.DataFrame
        [x, y], one row per grid point.
    """
    s = _as_float(scheme_score, "scheme_score")
    prep = _Prepared.build(s, _target(is_top, weights))
    x, y = prep.points()
    g = _default_grid(grid)
    return pd.DataFrame({"x": g, "y": np.interp(g, x, y)})


def capture_at(curve: pd.DataFrame, x: float) -> float:
    """G(x) read (linearly) from a curve DataFrame[x, y].

    Parameters
    ----------
    curve : pd.DataFrame
        A gains curve [x, y] (:func:`gains_curve`).
    x : float
        Share of accounts.

    Returns
    -------
    float
        The share of top accounts (or value) captured at ``x``.
    """
    c = curve.sort_values("x", kind="stable")
    return float(np.interp(x, c["x"].to_numpy(), c["y"].to_numpy()))


def _ar_prepared(prep: _Prepared, perfect: _Prepared, weight=None) -> float:
    a = _area(*prep.points(weight))
    a_star = _area(*perfect.points(weight))
    if a_star - 0.5 <= 1e-12:
        raise AnalysisError("accuracy ratio undefined: every account is a positive "
                            "(or the value is spread evenly)")
    return (a - 0.5) / (a_star - 0.5)


def accuracy_ratio(scheme_score, is_top=None, weights=None) -> float:
    """AR = (AUGC - 0.5) / (AUGC* - 0.5); 1 perfect, about 0 random, < 0 reversed.

    For a binary target AUGC* = 1 - pi/2 and AR = 2 AUC - 1 (ties counted as half).

    Parameters
    ----------
    scheme_score : array-like
        The scheme's score per account (higher = ranked first).
    is_top : array-like of bool, optional
        Top flag per account (count version).
    weights : array-like, optional
        Non-negative value per account (value version; replaces ``is_top``).

    Returns
    -------
    float
        The accuracy ratio (NaN when the perfect curve is the diagonal).
    """
    t = _target(is_top, weights)
    s = _as_float(scheme_score, "scheme_score")
    return _ar_prepared(_Prepared.build(s, t), _Prepared.build(t, t))


def augc(scheme_score, is_top=None, weights=None) -> float:
    """Area under the gains curve over [0, 1] (exact, tie blocks linear).

    Parameters
    ----------
    scheme_score : array-like
        The scheme's score per account (higher = ranked first).
    is_top : array-like of bool, optional
        Top flag per account (count version).
    weights : array-like, optional
        Non-negative value per account (value version; replaces ``is_top``).

    Returns
    -------
    float
        The area.
    """
    s = _as_float(scheme_score, "scheme_score")
    return _area(*_Prepared.build(s, _target(is_top, weights)).points())


def decile_table(scheme_score, is_top, n_bins: int = 10, weights=None) -> pd.DataFrame:
    """Per bin of the scheme (best first): accounts, top accounts, rate, lift, cumulative capture.

    Bins are equal fractions of accounts; a tie block that straddles a bin edge is split
    proportionally (consistent with the gains curve), so counts may be fractional.
    With ``weights`` a value-weighted capture column is added.

    Parameters
    ----------
    scheme_score : array-like
        The scheme's score per account (higher = ranked first).
    is_top : array-like of bool
        Top flag per account.
    n_bins : int
        Number of bins.
    weights : array-like, optional
        Non-negative value per account, for ``cum_value_capture``.

    Returns
    -------
    pd.DataFrame
        [bin, x_from, x_to, accounts, top_accounts, rate, lift, cum_capture, cum_lift] and
        ``cum_value_capture`` with ``weights``.
    """
    s = _as_float(scheme_score, "scheme_score")
    top = np.asarray(is_top, dtype=float)
    n, n_top = len(s), top.sum()
    if n == 0 or n_top == 0:
        raise AnalysisError("decile table needs accounts and at least one top account")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    x, y = _Prepared.build(s, top).points()
    g = np.interp(edges, x, y)
    accounts = np.diff(edges) * n
    tops = np.diff(g) * n_top
    pi = n_top / n
    out = pd.DataFrame({
        "bin": np.arange(1, n_bins + 1),
        "x_from": edges[:-1], "x_to": edges[1:],
        "accounts": accounts, "top_accounts": tops,
        "rate": tops / accounts,
    })
    out["lift"] = out["rate"] / pi
    out["cum_capture"] = g[1:]
    out["cum_lift"] = out["cum_capture"] / out["x_to"]
    if weights is not None:
        xv, yv = _Prepared.build(s, _target(None, weights)).points()
        out["cum_value_capture"] = np.interp(edges[1:], xv, yv)
    return out


def reference_curves(pi: float, grid=None) -> pd.DataFrame:
    """Baseline (diagonal) and perfect curves for a positive share ``pi``: [scheme, x, y].

    Parameters
    ----------
    pi : float
        Share of top accounts in the base.
    grid : array-like, optional
        Shares of accounts at which the curves are read.

    Returns
    -------
    pd.DataFrame
        [scheme, x, y] for the schemes "Baseline (random)" and "Perfect".
    """
    g = _default_grid(grid)
    return pd.concat([
        pd.DataFrame({"scheme": "Baseline (random)", "x": g, "y": g}),
        pd.DataFrame({"scheme": "Perfect", "x": g, "y": np.minimum(g / pi, 1.0)}),
    ], ignore_index=True)


# --------------------------------------------------------------------------- schemes
@dataclass(frozen=True)
class Scheme:
    """A segmentation scheme: ``fit(train_df)`` returns a scorer for any frame."""

    name: str
    fit: Callable[[pd.DataFrame], Scorer]
    description: str = ""
    meta: dict = field(default_factory=dict, compare=False)


def column_scheme(name: str, column: str, higher_is_better: bool = True) -> Scheme:
    """A scheme that ranks by one column. Accounts without a value get the training median,
    so a missing value places an account neither first nor last (one tie block).

    Parameters
    ----------
    name : str
        The scheme's name.
    column : str
        The column it ranks by.
    higher_is_better : bool
        Whether a higher value ranks first.

    Returns
    -------
    Scheme
        The scheme.
    """
    sign = 1.0 if higher_is_better else -1.0

    def fit(train: pd.DataFrame) -> Scorer:
        if column not in train.columns:
            raise InputDataError(f"scheme '{name}' needs column '{column}'", column=column)
        median = float(pd.to_numeric(train[column], errors="coerce").median())
        fill = 0.0 if np.isnan(median) else median

        def scorer(df: pd.DataFrame) -> pd.Series:
            if column not in df.columns:
                raise InputDataError(f"scheme '{name}' needs column '{column}'", column=column)
            return sign * pd.to_numeric(df[column], errors="coerce").fillna(fill)
        return scorer

    return Scheme(name, fit, f"rank by {column}")


def group_mean_scheme(name: str, columns: Sequence[str], target: str = "score") -> Scheme:
    """Learned step scheme: mean ``target`` per combination of ``columns`` in the training data.

    Unseen combinations get the training mean.

    Parameters
    ----------
    name : str
        The scheme's name.
    columns : Sequence[str]
        The columns whose value combinations form the steps.
    target : str
        The column averaged per combination.

    Returns
    -------
    Scheme
        The scheme.
    """
    cols = list(columns)

    def fit(train: pd.DataFrame) -> Scorer:
        means = train.groupby(cols, dropna=False, observed=True)[target].mean().rename("_m")
        overall = float(train[target].mean())

        def scorer(df: pd.DataFrame) -> pd.Series:
            merged = df[cols].merge(means, left_on=cols, right_index=True, how="left")
            return merged["_m"].fillna(overall).set_axis(df.index)
        return scorer

    return Scheme(name, fit, "mean score by " + " x ".join(cols))


def model_scheme(name: str, fit_model: Callable[[pd.DataFrame], object],
                 description: str = "") -> Scheme:
    """Wrap any ``fit_model(train) -> obj`` whose ``obj.predict(frame)`` scores a frame
    (e.g. helpers.analyse.tree.fit_tree, a regression fit). A training set too small for the model
    (AnalysisError, e.g. a small fold) gives every account the same score — the scheme then
    ranks at random there — and the reason is kept in ``scheme.meta['not_fitted']``.

    Parameters
    ----------
    name : str
        The scheme's name.
    fit_model : callable
        ``train -> model`` with ``model.predict(frame)``.
    description : str
        Shown with the scheme.

    Returns
    -------
    Scheme
        The scheme.
    """
    meta: dict = {}

    def fit(train: pd.DataFrame) -> Scorer:
        try:
            model = fit_model(train)
        except AnalysisError as exc:
            meta.setdefault("not_fitted", []).append(str(exc))
            return lambda df: pd.Series(0.0, index=df.index)
        return lambda df: model.predict(df)  # type: ignore[attr-defined]

    return Scheme(name, fit, description, meta)


def _run_scorer(scheme: Scheme, scorer: Scorer, frame: pd.DataFrame) -> np.ndarray:
    out = scorer(frame)
    if isinstance(out, pd.Series):
        if len(out) != len(frame) or not out.index.equals(frame.index):
            if set(out.index) >= set(frame.index):
                out = out.reindex(frame.index)
            else:
                raise AnalysisError(f"scheme '{scheme.name}' returned {len(out)} scores for "
                                    f"{len(frame)} accounts (index does not match)")
        arr = pd.to_numeric(out, errors="coerce").to_numpy(dtype=float)
    else:
        arr = np.asarray(out, dtype=float).reshape(-1)
        if len(arr) != len(frame):
            raise AnalysisError(f"scheme '{scheme.name}' returned {len(arr)} scores for "
                                f"{len(frame)} accounts")
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = frame["account_id"].iloc[np.flatnonzero(bad)[:20]].tolist() \
            if "account_id" in frame.columns else list(np.flatnonzero(bad)[:20])
        raise AnalysisError(f"scheme '{scheme.name}' gave no score to {int(bad.sum())} "
                            f"account(s), e.g. {rows}; the scheme must score every account "
                            "(fill missing inputs, or send them to a catch-all group)")
    return arr


def _features(frame: pd.DataFrame, leak_cols: Sequence[str]) -> pd.DataFrame:
    return frame.drop(columns=[c for c in leak_cols if c in frame.columns])


def out_of_fold_scores(table: pd.DataFrame, scheme: Scheme, is_top: pd.Series,
                       folds: int = 5, repeats: int = 3, seed: int = 42,
                       leak_cols: Sequence[str] = LEAK_COLUMNS) -> np.ndarray:
    """Out-of-fold scheme scores, shape (repeats, n): repeated stratified k-fold on ``is_top``.

    The scheme is fitted on k-1 folds and scores the held-out fold, which it sees without the
    ``leak_cols`` (score, quartile ...). Nothing learned ever touches held-out accounts.

    Parameters
    ----------
    table : pd.DataFrame
        The analysis table.
    scheme : Scheme
        The scheme to fit per fold.
    is_top : pd.Series
        Top flag per account (stratifies the folds).
    folds, repeats : int
        Folds per repeat and repeats.
    seed : int
        Seed of the fold assignment.
    leak_cols : Sequence[str]
        Columns the held-out fold is scored without.

    Returns
    -------
    np.ndarray
        The out-of-fold scores, shape (repeats, n).
    """
    return _fold_scores(table, [scheme], is_top, folds, repeats, seed, leak_cols)[1][0]


def _fold_scores(table: pd.DataFrame, schemes: Sequence[Scheme], is_top: pd.Series | np.ndarray,
                 folds: int, repeats: int, seed: int, leak_cols: Sequence[str],
                 in_sample: bool = False) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``(in-sample scores, out-of-fold scores (repeats, n))`` of every scheme (in-sample
    only with ``in_sample``). Each fold's training and held-out frames are cut once for all
    schemes; the folds (and the in-sample fit) run side by side (helpers.core.parallel) and are
    placed in fold order, so the numbers do not depend on the number of workers."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    y = np.asarray(is_top, dtype=int)
    n_min = int(min(y.sum(), len(y) - y.sum()))
    if n_min < folds:
        raise AnalysisError(f"{folds}-fold cross-validation needs at least {folds} top and "
                            f"{folds} non-top accounts (smallest class: {n_min}); lower "
                            "analysis.cv_folds")
    frame = table.reset_index(drop=True)
    rskf = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    splits: list[tuple[np.ndarray, np.ndarray] | None] = list(rskf.split(np.zeros(len(y)), y))
    if in_sample:
        splits.insert(0, None)  # None = fit and score every account

    def scores(split: tuple[np.ndarray, np.ndarray] | None) -> list[np.ndarray]:
        train = frame if split is None else frame.iloc[split[0]]
        held = _features(frame if split is None else frame.iloc[split[1]], leak_cols)
        return [_run_scorer(sch, sch.fit(train), held) for sch in schemes]

    results = ordered_map(scores, splits, desc="cross-validation folds")
    ins = results.pop(0) if in_sample else [np.empty(0)] * len(schemes)
    oof = [np.full((repeats, len(frame)), np.nan) for _ in schemes]
    for i, ((_, te), per_scheme) in enumerate(zip(splits[1:] if in_sample else splits,
                                                  results, strict=True)):
        for k, sc in enumerate(per_scheme):
            oof[k][i // folds, te] = sc
    return ins, oof


def _bootstrap_pick(n: int, b: int, seed: int) -> np.ndarray:
    """Accounts drawn (with replacement) in bootstrap draw ``b`` (same for every scheme:
    paired)."""
    return np.random.default_rng([seed, b]).integers(0, n, n)


def _bootstrap_weights(n: int, b: int, seed: int) -> np.ndarray:
    """Resample counts for bootstrap draw ``b`` (same for every scheme: paired)."""
    return np.bincount(_bootstrap_pick(n, b, seed), minlength=n).astype(float)


def _metrics(prep: _Prepared, perfect: _Prepared, points: Sequence[float],
             weight=None, a_star: float | None = None,
             counts: np.ndarray | None = None) -> np.ndarray:
    """AR and captures of one prepared ranking (``a_star``: the perfect curve's area for this
    ``weight``, when the caller already has it). ``weight``: per-account weights; or
    ``counts``: its per-block counts on a resample (:class:`_ResampleCounts`)."""
    x, y = prep.points(weight) if counts is None else _points_from_counts(counts)
    a = _area(x, y)
    if a_star is None:
        a_star = _area(*perfect.points(weight))
    ar = (a - 0.5) / (a_star - 0.5) if a_star - 0.5 > 1e-12 else np.nan
    return np.r_[ar, np.interp(np.asarray(points, dtype=float), x, y)]


def _metric_names(points: Sequence[float]) -> list[str]:
    return ["accuracy_ratio"] + [f"capture_{round(p * 100):d}" for p in points]


def _sample_summary(name: str, sample: str, score_sets: Sequence[np.ndarray], t: np.ndarray,
                    g: np.ndarray, perfect: _Prepared, points: Sequence[float],
                    mnames: Sequence[str], head: Mapping[str, Any]
                    ) -> tuple[pd.DataFrame, dict[str, Any], list[_Prepared]]:
    """One scheme on one sample (one score set per repeat): its mean curve with the spread
    across repeats, its summary row (CI columns NaN until the bootstrap), and the prepared
    rankings (for the bootstrap)."""
    preps = [_Prepared.build(s, t) for s in score_sets]
    ys = np.vstack([np.interp(g, *p.points()) for p in preps])
    curve = pd.DataFrame({"scheme": name, "sample": sample, "x": g, "y": ys.mean(axis=0),
                          "y_min": ys.min(axis=0), "y_max": ys.max(axis=0)})
    per_rep = np.vstack([_metrics(p, perfect, points) for p in preps])
    row = {"scheme": name, "sample": sample, **head}
    for j, m in enumerate(mnames):
        row[m] = float(per_rep[:, j].mean())
        row[f"{m}_sd"] = float(per_rep[:, j].std(ddof=1)) if len(preps) > 1 else np.nan
        row[f"{m}_ci_low"] = row[f"{m}_ci_high"] = np.nan
    return curve, row, preps


def _bootstrap_metrics(boot_sets: Sequence[Sequence[_Prepared]], perfect: _Prepared,
                       t: np.ndarray, points: Sequence[float], bootstrap: int,
                       seed: int) -> np.ndarray:
    """The metrics of every (scheme, sample) on each of ``bootstrap`` account resamples, shape
    (rows, bootstrap, metrics); resample b is the same for every row (paired)."""
    n = len(t)
    # each ranking's tie blocks coded once; a draw is then one bincount per ranking (or
    # per pack of few-block rankings): the same resample counts as weights, without
    # gathering or re-sorting n values
    flat = [perfect, *(p for preps in boot_sets for p in preps)]
    counter = _ResampleCounts(flat, t)

    def draw(b: int) -> np.ndarray:  # every scheme and sample on resample b
        # in account order (from the draw's multiplicities: cheaper than a sort), the
        # drawn accounts are read in memory order; the counts do not depend on the order
        pick = np.repeat(np.arange(n, dtype=np.int32),
                         np.bincount(_bootstrap_pick(n, b, seed), minlength=n))
        cnt = iter(counter.counts(pick))
        a_star = _area(*_points_from_counts(next(cnt)))
        return np.vstack([np.mean([_metrics(p, perfect, points, a_star=a_star,
                                            counts=next(cnt)) for p in preps], axis=0)
                          for preps in boot_sets])

    boot = np.empty((len(boot_sets), bootstrap, len(points) + 1))
    draws = ordered_map(draw, range(bootstrap), desc="lift bootstrap draws")
    for b, metrics in enumerate(draws):  # draws side by side
        boot[:, b] = metrics
    return boot


def evaluate_schemes(table: pd.DataFrame, schemes: Sequence[Scheme], top_share: float = 0.25,
                     folds: int = 5, repeats: int = 3, bootstrap: int = 200, seed: int = 42,
                     grid=None, capture_points: Sequence[float] | None = None,
                     ci: float = 0.95, score_col: str = "score", id_col: str = "account_id",
                     leak_cols: Sequence[str] = LEAK_COLUMNS,
                     in_sample_scores: dict[str, np.ndarray] | None = None,
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gains curves and summary of several schemes, in-sample and out-of-sample.

    Parameters
    ----------
    table : pd.DataFrame
        The analysis table (``score_col``, ``id_col`` and the schemes' columns).
    schemes : Sequence[Scheme]
        The schemes to compare (unique names).
    top_share : float
        Share of accounts that counts as "top" (ties broken by ``id_col``).
    folds, repeats : int
        Cross-validation folds and repeats for the out-of-sample curves.
    bootstrap : int
        Bootstrap resamples over accounts for the confidence intervals (0: none).
    seed : int
        Seed of the folds and of the bootstrap.
    grid : array-like, optional
        Points of the x axis (share of accounts contacted); default ``_default_grid``.
    capture_points : Sequence[float], optional
        Shares at which the capture is reported (default top_share and 2 x top_share).
    ci : float
        Confidence level of the intervals.
    score_col, id_col : str
        Score and account-id columns.
    leak_cols : Sequence[str]
        Columns a scheme must never see (they encode the score).
    in_sample_scores : dict, optional
        Receives each scheme's in-sample scores (name -> array in ``table`` row order), so a
        caller can reuse the fits (e.g. a decile table) without refitting every scheme.

    Returns
    -------
    lift_long : pd.DataFrame
        [scheme, sample, x, y, y_min, y_max]: sample ``in_sample`` (fit and score on all
        accounts), ``out_of_sample`` (mean over repeats of each repeat's pooled out-of-fold
        curve; y_min/y_max = spread across repeats), and ``reference`` rows for the baseline
        diagonal and the perfect scheme.
    summary : pd.DataFrame
        [scheme, sample, n_accounts, n_top, pi, accuracy_ratio, capture_25, capture_50 (names
        follow ``capture_points``), each with ``_ci_low``/``_ci_high`` (percentile bootstrap
        over accounts; out-of-sample: CI of the repeat-mean) and ``_sd`` (spread across
        repeats; NaN in-sample)].
    """
    names = [s.name for s in schemes]
    if len(set(names)) != len(names):
        raise AnalysisError(f"scheme names must be unique: {names}")
    for col in (score_col, id_col):
        if col not in table.columns:
            raise InputDataError(f"analysis table has no '{col}' column", column=col)
    frame = table.reset_index(drop=True)
    is_top = top_label(frame[score_col].set_axis(frame[id_col]), top_share).to_numpy()
    n, n_top = len(frame), int(is_top.sum())
    pi = n_top / n
    points = list(capture_points) if capture_points is not None else [top_share, 2 * top_share]
    mnames = _metric_names(points)
    g = _default_grid(grid)
    t = is_top.astype(float)
    perfect = _Prepared.build(t, t)
    alpha = (1 - ci) / 2

    curves, rows, boot_sets = [], [], []
    # every scheme fitted on all accounts and on each fold's training part (folds side by side)
    all_in, all_oof = _fold_scores(frame, schemes, is_top, folds, repeats, seed, leak_cols,
                                   in_sample=True)
    for scheme, s_in, oof in zip(schemes, all_in, all_oof, strict=True):
        if in_sample_scores is not None:
            in_sample_scores[scheme.name] = s_in
        for sample, score_sets in (("in_sample", [s_in]), ("out_of_sample", list(oof))):
            curve, row, preps = _sample_summary(scheme.name, sample, score_sets, t, g, perfect,
                                                points, mnames,
                                                {"n_accounts": n, "n_top": n_top, "pi": pi})
            curves.append(curve)
            rows.append(row)
            boot_sets.append(preps)
    if bootstrap and rows:  # resample b is the same for every scheme and sample (paired)
        boot = _bootstrap_metrics(boot_sets, perfect, t, points, bootstrap, seed)
        for r, row in enumerate(rows):
            for j, m in enumerate(mnames):
                row[f"{m}_ci_low"] = float(np.nanquantile(boot[r, :, j], alpha))
                row[f"{m}_ci_high"] = float(np.nanquantile(boot[r, :, j], 1 - alpha))
    ref = reference_curves(pi, g)
    ref = ref.assign(sample="reference", y_min=ref["y"], y_max=ref["y"])
    lift_long = pd.concat([*curves, ref[["scheme", "sample", "x", "y", "y_min", "y_max"]]],
                          ignore_index=True)
    summary = pd.DataFrame(rows, columns=[
        "scheme", "sample", "n_accounts", "n_top", "pi",
        *(f"{m}{suffix}" for m in mnames for suffix in ("", "_sd", "_ci_low", "_ci_high"))])
    return lift_long, summary


def compare_schemes(score_a, score_b, is_top, bootstrap: int = 200, seed: int = 42,
                    ci: float = 0.95, names: tuple[str, str] = ("A", "B")) -> dict:
    """Paired bootstrap of AR(A) - AR(B) on the same account resamples.

    Returns dict(ar_a, ar_b, diff, ci_low, ci_high, share_a_not_better, verdict).

    Parameters
    ----------
    score_a, score_b : array-like
        The two schemes' scores per account.
    is_top : array-like of bool
        Top flag per account.
    bootstrap : int
        Number of account resamples.
    seed : int
        Seed of the resamples.
    ci : float
        Confidence level of the interval.
    names : tuple[str, str]
        The schemes' names in the verdict.

    Returns
    -------
    dict
        ar_a, ar_b, diff, ci_low, ci_high, share_a_not_better, verdict.
    """
    t = np.asarray(is_top, dtype=float)
    a = _as_float(score_a, "score_a")
    b = _as_float(score_b, "score_b")
    if not (len(a) == len(b) == len(t)):
        raise AnalysisError("compare_schemes: the two score vectors and is_top differ in length")
    pa, pb, perfect = _Prepared.build(a, t), _Prepared.build(b, t), _Prepared.build(t, t)
    ar_a, ar_b = _ar_prepared(pa, perfect), _ar_prepared(pb, perfect)
    diffs = []
    for k in range(bootstrap):
        w = _bootstrap_weights(len(t), k, seed)
        diffs.append(_metrics(pa, perfect, [], w)[0] - _metrics(pb, perfect, [], w)[0])
    d = np.asarray(diffs)
    lo, hi = np.nanquantile(d, [(1 - ci) / 2, 1 - (1 - ci) / 2])
    if lo > 0:
        verdict = f"{names[0]} beats {names[1]}"
    elif hi < 0:
        verdict = f"{names[1]} beats {names[0]}"
    else:
        verdict = f"no clear difference between {names[0]} and {names[1]}"
    return {"ar_a": ar_a, "ar_b": ar_b, "diff": ar_a - ar_b, "ci_low": float(lo),
            "ci_high": float(hi), "share_a_not_better": float(np.mean(d <= 0)),
            "verdict": verdict}


# --------------------------------------------------------------------------- chart
def gains_finding(lift_long: pd.DataFrame) -> str:
    """One sentence naming the best scheme (largest area, out-of-sample when available), or
    saying that there is none to compare.

    Parameters
    ----------
    lift_long : pd.DataFrame
        The ``lift`` table (:func:`evaluate_schemes`).

    Returns
    -------
    str
        The sentence.
    """
    data = lift_long[lift_long["sample"] != "reference"] if "sample" in lift_long.columns \
        else lift_long.iloc[0:0]
    if data.empty:
        return "No scheme to compare: nothing was validated, so none beats random selection"
    sample = "out_of_sample" if (data["sample"] == "out_of_sample").any() else "in_sample"
    d = data[data["sample"] == sample]
    areas = {name: _area(grp["x"].to_numpy(), grp["y"].to_numpy())
             for name, grp in d.sort_values("x", kind="stable").groupby("scheme", sort=True)}
    best = max(sorted(areas), key=lambda k: areas[k])
    perfect = lift_long[(lift_long["scheme"] == "Perfect")]
    top_x = float(perfect.loc[perfect["y"] >= 1 - 1e-9, "x"].min()) if len(perfect) else 0.25
    grp = d[d["scheme"] == best].sort_values("x", kind="stable")
    cap = float(np.interp(top_x, grp["x"], grp["y"]))
    where = "out-of-sample" if sample == "out_of_sample" else "in-sample"
    return (f"{best} finds {cap:.0%} of top accounts in its best {top_x:.0%} "
            f"({where})")


def plot_gains(lift_long: pd.DataFrame, ax=None, samples: Sequence[str] = SAMPLES,
               title: str | None = None):
    """Gains chart: schemes (solid in-sample, dashed out-of-sample with repeat band),
    diagonal baseline, perfect scheme; the title states the finding. Returns the Axes.

    Parameters
    ----------
    lift_long : pd.DataFrame
        The ``lift`` table (:func:`evaluate_schemes`).
    ax : matplotlib Axes, optional
        Where to draw (default a new figure).
    samples : Sequence[str]
        Which samples to draw.
    title : str, optional
        The title (default :func:`gains_finding`).

    Returns
    -------
    matplotlib Axes
        The chart.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5))
    if "sample" not in lift_long.columns:  # no table at all: the reference lines only
        lift_long = pd.DataFrame(columns=["scheme", "sample", "x", "y", "y_min", "y_max"])
    data = lift_long[lift_long["sample"].isin(samples)]
    palette = dict(zip(sorted(data["scheme"].unique()),
                       sns.color_palette("colorblind", data["scheme"].nunique()), strict=True))
    for (name, sample), grp in data.groupby(["scheme", "sample"], sort=True):
        grp = grp.sort_values("x", kind="stable")
        style = "-" if sample == "in_sample" else "--"
        label = f"{name} ({sample.replace('_', '-')})"
        ax.plot(grp["x"], grp["y"], style, color=palette[name], label=label)
        if sample == "out_of_sample":
            ax.fill_between(grp["x"], grp["y_min"], grp["y_max"], color=palette[name],
                            alpha=0.15, linewidth=0)
    ref = lift_long[lift_long["sample"] == "reference"]
    for name, style in (("Baseline (random)", ":"), ("Perfect", "-.")):
        grp = ref[ref["scheme"] == name].sort_values("x", kind="stable")
        if len(grp):
            ax.plot(grp["x"], grp["y"], style, color="grey", label=name)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_formatter(lambda v, _p: f"{v:.0%}")
    ax.yaxis.set_major_formatter(lambda v, _p: f"{v:.0%}")
    ax.set_xlabel("Share of accounts, best first by the scheme")
    ax.set_ylabel("Share of top accounts captured")
    if ref.empty:  # no reference rows (no lift table): the diagonal still shows "random"
        ax.plot([0, 1], [0, 1], ":", color="grey", label="Baseline (random)")
    ax.set_title(title or gains_finding(lift_long))
    ax.legend(loc="lower right", fontsize="small")
    return ax

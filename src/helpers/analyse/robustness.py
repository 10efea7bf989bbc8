"""Robustness of the quality score and of the segments (docs/method.md, Step 4, "Robustness").

- :func:`weight_perturbation`: Dirichlet draws around the chosen score weights; per draw the
  Spearman and Kendall correlation with the base ranking and the retention of today's top
  accounts; the *robust top* = accounts in the top in at least ``robust_share`` of draws.
  Scores of all draws are one matrix product (accounts x components) @ (components x draws).
- :func:`segment_stability`: bootstrap the accounts, redo the segmentation, match each
  original segment to its best bootstrap counterpart by Jaccard similarity (Hennig):
  mean >= 0.75 stable, 0.6-0.75 a pattern, 0.5-0.6 weak, < 0.5 dissolves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from helpers.analyse.lift import _order_key, top_count
from helpers.core.errors import AnalysisError, InputDataError
from helpers.core.parallel import ordered_map, workers


@dataclass
class WeightPerturbation:
    """Per-draw agreement, per-account robust-top membership and a one-row summary."""

    draws: pd.DataFrame      # draw, spearman, kendall, top_retention, w_<component>...
    accounts: pd.DataFrame   # account_id, base_score, base_top, top_share_of_draws, robust_top
    summary: pd.DataFrame    # one row


def _dirichlet_weights(weights: Mapping[str, float], draws: int, concentration: float,
                       rng: np.random.Generator) -> np.ndarray:
    """(draws x components) weights: each non-zero weight times a factor K x d_j, where
    d ~ Dirichlet(concentration / K, ..., concentration / K) over the K non-zero weights.

    Factors have mean 1 and sd about sqrt((K - 1) / (concentration + 1)) whatever the units
    of the components (a Dirichlet on raw weights would let a weight of 5,000 per churned
    account swamp a weight of 1 per dollar). Signs are kept; zero weights stay zero.
    """
    w = np.array(list(weights.values()), dtype=float)
    live = w != 0
    if not live.any():
        raise AnalysisError("all score weights are zero")
    out = np.zeros((draws, len(w)))
    kk = int(live.sum())
    if kk == 1:
        out[:, live] = w[live]
        return out
    d = rng.dirichlet(np.full(kk, concentration / kk), size=draws)
    out[:, live] = d * kk * w[live]
    return out


def _order_and_ranks(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row (one row per draw, accounts along axis 1, contiguous): descending order and
    average ranks (1 = best, ties share the mean rank, so the order among ties is irrelevant)."""
    order = np.argsort(-scores, axis=1)
    n = scores.shape[1]
    ranks = np.empty(scores.shape)
    for i in range(scores.shape[0]):  # a few rows per batch; each row vectorised
        srt = scores[i, order[i]]
        starts = np.flatnonzero(np.r_[True, srt[1:] != srt[:-1]]) if n else np.zeros(0, int)
        ends = np.r_[starts[1:], n] - 1  # first and last position of each tie run
        ranks[i, order[i]] = np.repeat((starts + ends) / 2.0 + 1.0, ends - starts + 1)
    return order, ranks


def _top_from_order(scores: np.ndarray, order: np.ndarray, k: int) -> np.ndarray:
    """Best ``k`` per row; ties at the boundary go to the lowest columns (= id order)."""
    kth = np.take_along_axis(scores, order[:, k - 1:k], axis=1)
    top = scores > kth
    need = k - top.sum(axis=1)
    for i in range(scores.shape[0]):  # the first `need` of the boundary ties, per row
        top[i, np.flatnonzero(scores[i] == kth[i, 0])[:need[i]]] = True
    return top


def _components_in_id_order(components: pd.DataFrame, keys: Sequence[str],
                            id_col: str) -> tuple[np.ndarray, np.ndarray]:
    """Account ids and the component matrix (accounts x keys), sorted by id (the
    deterministic tie-break); a clear error for missing columns or values."""
    missing = [k for k in keys if k not in components.columns]
    if missing:
        raise InputDataError(f"score components missing: {missing}", column=missing[0])
    ids = components[id_col].astype("str").to_numpy() if id_col in components.columns \
        else components.index.astype("str").to_numpy()
    idx = np.argsort(_order_key(ids), kind="stable")  # id order = deterministic tie-break
    ids = ids[idx]
    c = components[list(keys)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)[idx]
    bad = ~np.isfinite(c).all(axis=1)
    if bad.any():
        raise InputDataError("score components have missing values", column=",".join(keys),
                             rows=list(ids[bad][:20]), hint="fill components with 0 first")
    return ids, c


def _draw_stats(w: np.ndarray, ct: np.ndarray, k: int, base: np.ndarray, base_top: np.ndarray,
                br: np.ndarray, ksample: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Spearman, Kendall, top retention vs the base ranking and per-account top counts of the
    draws ``w`` (draws x components) on the components ``ct`` (components x accounts)."""
    s = np.zeros((len(w), ct.shape[1]))             # b x n (draws x accounts)
    for j in range(ct.shape[0]):  # elementwise, component by component: each draw's
        s += w[:, j, None] * ct[None, j]  # numbers do not depend on the batch it is in
    order, r = _order_and_ranks(s)
    rc = r - r.mean(axis=1, keepdims=True)
    denom = np.sqrt((rc ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        spear = (rc * br[None, :]).sum(axis=1) / denom
    top = _top_from_order(s, order, k)
    ret = (top & base_top[None, :]).sum(axis=1) / k
    # Kendall has no matrix form in scipy
    kend = np.array([kendalltau(base[ksample], row[ksample]).statistic for row in s])
    return spear, kend, ret, top.sum(axis=0)


def _perturbation_summary(spear: np.ndarray, kend: np.ndarray, ret: np.ndarray,
                          acc: pd.DataFrame, draws: int, concentration: float, k: int,
                          robust_share: float) -> pd.DataFrame:
    """The one-row summary of the weight draws."""
    return pd.DataFrame([{
        "draws": draws, "concentration": concentration, "accounts": len(acc), "top_accounts": k,
        "spearman_median": float(np.nanmedian(spear)),
        "spearman_p05": float(np.nanquantile(spear, 0.05)),
        "kendall_median": float(np.nanmedian(kend)),
        "retention_mean": float(ret.mean()), "retention_min": float(ret.min()),
        "robust_share": robust_share, "robust_top_accounts": int(acc["robust_top"].sum()),
        "robust_top_of_base_top": float((acc["robust_top"] & acc["base_top"]).sum() / k),
    }])


def weight_perturbation(components: pd.DataFrame, weights: Mapping[str, float],
                        draws: int = 200, concentration: float = 50.0,
                        top_share: float = 0.25, robust_share: float = 0.8, seed: int = 42,
                        id_col: str = "account_id", kendall_max_n: int | None = 20_000,
                        batch: int = 50, max_cells: int = 4_000_000) -> WeightPerturbation:
    """How much the ranking and the top accounts move when the score weights move.

    ``components``: one row per account, ``id_col`` (or the index) plus one numeric column
    per weight key; the score is ``components[keys] @ weights``. Spearman and retention use
    every account; ``kendall_max_n``: Kendall's tau on a fixed seeded sample of that many
    accounts (None = all; tau is O(n log n) per draw and has no matrix form).
    """
    keys = list(weights)
    ids, c = _components_in_id_order(components, keys, id_col)
    n = len(c)
    k = top_count(n, top_share)
    rng = np.random.default_rng(seed)
    w0 = np.array([weights[x] for x in keys], dtype=float)
    wd = _dirichlet_weights(weights, draws, concentration, rng)
    base = c @ w0
    base_order, base_rank = _order_and_ranks(base[None, :])
    base_rank = base_rank[0]
    base_top = _top_from_order(base[None, :], base_order, k)[0]
    br = (base_rank - base_rank.mean()) / np.sqrt(((base_rank - base_rank.mean()) ** 2).sum())
    ksample = np.arange(n) if kendall_max_n is None or kendall_max_n >= n else \
        np.sort(rng.choice(n, kendall_max_n, replace=False))
    # bounded memory: a few draws x accounts float matrices live per batch (<= max_cells
    # cells each, shared by the batches that run side by side: ~2 draws per worker at 1M)
    jobs = workers()
    ct = np.ascontiguousarray(c.T)  # components x accounts
    batch = max(1, min(batch, max_cells // max(n * jobs, 1)))
    parts = ordered_map(  # batches side by side
        lambda start: _draw_stats(wd[start:start + batch], ct, k, base, base_top, br, ksample),
        range(0, draws, batch), n_jobs=jobs, desc=f"score-weight draws (batches of {batch})")
    spear = np.concatenate([p[0] for p in parts]) if parts else np.empty(0)
    kend = np.concatenate([p[1] for p in parts]) if parts else np.empty(0)
    ret = np.concatenate([p[2] for p in parts]) if parts else np.empty(0)
    top_count_acc = np.zeros(n)
    for p in parts:  # integer counts, summed in draw order
        top_count_acc += p[3]
    share = top_count_acc / draws
    draws_df = pd.DataFrame({"draw": np.arange(draws), "spearman": spear, "kendall": kend,
                             "top_retention": ret})
    for j, key in enumerate(keys):
        draws_df[f"w_{key}"] = wd[:, j]
    acc = pd.DataFrame({"account_id": ids, "base_score": base, "base_top": base_top,
                        "top_share_of_draws": share, "robust_top": share >= robust_share})
    summary = _perturbation_summary(spear, kend, ret, acc, draws, concentration, k,
                                    robust_share)
    return WeightPerturbation(draws_df, acc, summary)


def weights_sentence(result: WeightPerturbation) -> str:
    """One stakeholder sentence on score-weight robustness."""
    s = result.summary.iloc[0]
    rho = s["spearman_median"]
    moves = "barely moves" if rho >= 0.9 else "moves somewhat" if rho >= 0.7 else "moves a lot"
    return (f"When the score weights are varied at random ({int(s['draws'])} draws), the ranking "
            f"{moves} (median Spearman {rho:.2f}) and on average "
            f"{s['retention_mean']:.0%} of today's top accounts stay on top; "
            f"{s['robust_top_of_base_top']:.0%} of them are top in at least "
            f"{s['robust_share']:.0%} of the draws.")


# --------------------------------------------------------------------------- segments
def jaccard_matrix(a: np.ndarray, b: np.ndarray) -> pd.DataFrame:
    """Jaccard similarity between every label of ``a`` (rows) and of ``b`` (columns),
    for two labelings of the same items."""
    ca, ua = pd.factorize(np.asarray(a), sort=True)  # a contingency table by bincount
    cb, ub = pd.factorize(np.asarray(b), sort=True)
    ok = (ca >= 0) & (cb >= 0)  # like crosstab, pairs with a missing label are left out
    inter = np.bincount(ca[ok] * len(ub) + cb[ok], minlength=len(ua) * len(ub)) \
        .reshape(len(ua), len(ub)).astype(float)
    union = inter.sum(axis=1)[:, None] + inter.sum(axis=0)[None, :] - inter
    return pd.DataFrame(inter / union, index=pd.Index(ua, name="a"),
                        columns=pd.Index(ub, name="b"))


def _text_labels(labels: object) -> pd.Series:
    """Segment labels as a text Series (Arrow-backed: factorised in C, no object array);
    missing labels become the text 'nan', as ``astype(str)`` of an object array did."""
    s = pd.Series(labels) if not isinstance(labels, pd.Series) else labels.reset_index(drop=True)
    if not pd.api.types.is_string_dtype(s) or s.isna().any():
        s = pd.Series(np.asarray(s, dtype=object).astype(str))
    return s.astype("str")


def stability_verdict(j: float, stable: float = 0.75, pattern: float = 0.6,
                      dissolved: float = 0.5) -> str:
    """Hennig's reading of a mean Jaccard."""
    if not np.isfinite(j):
        return "not measured"
    if j >= stable:
        return "stable"
    if j >= pattern:
        return "pattern"
    if j >= dissolved:
        return "weak"
    return "dissolves"


def segment_stability(table: pd.DataFrame, segment_fn: Callable[[pd.DataFrame], pd.Series],
                      n_boot: int = 50, seed: int = 42, id_col: str = "account_id",
                      stable: float = 0.75, pattern: float = 0.6, dissolved: float = 0.5
                      ) -> pd.DataFrame:
    """Bootstrap stability of a segmentation (Hennig's clusterboot idea).

    ``segment_fn(frame) -> labels`` (same length/order as ``frame``) redoes the whole
    segmentation. Each bootstrap draws accounts with replacement, re-segments, and each
    original segment is compared, on the distinct accounts drawn, with every bootstrap segment;
    its best Jaccard is kept. Columns: segment, accounts, mean_jaccard, median_jaccard,
    share_dissolved (Jaccard < ``dissolved``), verdict.
    """
    if id_col not in table.columns:
        raise InputDataError(f"table has no '{id_col}' column", column=id_col)
    base_lab = _text_labels(segment_fn(table))
    if len(base_lab) != len(table):
        raise AnalysisError("segment_fn must return one label per account")
    base_codes, labels = pd.factorize(base_lab, sort=True)  # labels sorted, as np.unique
    labels = np.asarray(labels, dtype=object).astype(str)
    base = labels[base_codes]
    n = len(table)
    rng = np.random.default_rng(seed)
    frame = table.reset_index(drop=True)
    rows = np.arange(n)

    def best_match(pick: np.ndarray) -> np.ndarray:  # one draw: redo the segmentation
        boot = frame.iloc[pick].reset_index(drop=True)
        lab_codes, lab_names = pd.factorize(_text_labels(segment_fn(boot)), sort=True)
        # one row per distinct account drawn (its copies have the same values, hence the
        # same label): no sort of the n draws, the contingency counts are the same
        one = np.empty(n, dtype=np.int64)
        one[pick] = rows
        drawn = np.zeros(n, dtype=bool)
        drawn[pick] = True
        distinct = np.flatnonzero(drawn)
        inter = np.bincount(base_codes[distinct] * len(lab_names)
                            + lab_codes[one[distinct]],
                            minlength=len(labels) * len(lab_names)
                            ).reshape(len(labels), len(lab_names)).astype(float)
        present = inter.sum(axis=1) > 0  # original segments with a drawn account
        union = inter.sum(axis=1)[:, None] + inter.sum(axis=0)[None, :] - inter
        with np.errstate(invalid="ignore", divide="ignore"):
            got = (inter / union).max(axis=1) if len(lab_names) else np.full(len(labels),
                                                                                np.nan)
        return np.where(present, got, np.nan)

    # draws made in order by one generator, re-segmented side by side (helpers.core.parallel)
    picks = (rng.integers(0, n, n) for _ in range(n_boot))
    best = np.array(ordered_map(best_match, picks, desc="segment stability draws", total=n_boot),
                    dtype=float).reshape(n_boot, len(labels))
    out = pd.DataFrame({
        "segment": labels,
        "accounts": pd.Series(base).value_counts().reindex(labels).to_numpy(),
        "mean_jaccard": np.nanmean(best, axis=0),
        "median_jaccard": np.nanmedian(best, axis=0),
        "share_dissolved": np.nanmean(best < dissolved, axis=0),
    })
    out["verdict"] = [stability_verdict(j, stable, pattern, dissolved)
                      for j in out["mean_jaccard"]]
    return out


def stability_sentence(stability: pd.DataFrame, names: Mapping[str, str] | None = None) -> str:
    """One stakeholder sentence on segment stability."""
    nm = names or {}
    parts = [f"{nm.get(s, s)} {v} (Jaccard {j:.2f})"
             for s, v, j in zip(stability["segment"], stability["verdict"],
                                stability["mean_jaccard"], strict=True)]
    n_stable = int((stability["verdict"] == "stable").sum())
    return (f"Redoing the segmentation on resampled accounts, {n_stable} of {len(stability)} "
            f"segments come back essentially unchanged: " + "; ".join(parts) + ".")


def score_components(scored: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """The signed score components per account and unit weights (score = sum), the input of
    :func:`helpers.analyse.robustness.weight_perturbation`.

    Parameters
    ----------
    scored
        The ``scored_accounts`` table (``c_*`` component columns).

    Returns
    -------
    tuple
        ``(account_id and the non-zero components, component -> 1.0)``.
    """
    comps = [c for c in scored.columns if c.startswith("c_")]
    used = [c for c in comps if (scored[c] != 0).any()]
    return scored[["account_id", *used]], {c: 1.0 for c in used}


def empty_stability() -> pd.DataFrame:
    """The ``segment_stability`` table when there are no segments to test (no rows)."""
    return pd.DataFrame(columns=["segment", "mean_jaccard", "verdict"])

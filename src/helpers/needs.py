"""Needs-based layer: cluster survey answers, describe clusters, cross with value segments,
find the "diamonds in the rough" (analysis-notes "Needs segments").

Survey answers are mixed (1-5 scales, choices, yes/no): :func:`gower_distance` (numeric:
|x_i - x_j| / range; categorical and yes/no: 0 if equal else 1; a variable missing for either
account is left out of that pair's average). Clusters: average-linkage hierarchical clustering
(scipy) on that distance, k chosen by the best silhouette over ``needs_k_range`` (ties -> the
smaller k); deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import AnalysisError, InputDataError

#: guard against an n x n matrix that would not fit in memory
MAX_GOWER_ROWS = 20_000


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def gower_distance(frame: pd.DataFrame, columns: Sequence[str] | None = None,
                   weights: Mapping[str, float] | None = None) -> np.ndarray:
    """Gower distance matrix (n x n, values in [0, 1]) for mixed columns, vectorised per column.

    Numeric: |x_i - x_j| / (max - min) (0 when the column is constant); anything else: 0 if
    equal, 1 if not. d_ij = sum_v w_v delta_ijv d_ijv / sum_v w_v delta_ijv where delta = 0
    when either value is missing; NaN when no variable is shared.
    """
    cols = list(columns) if columns is not None else list(frame.columns)
    n = len(frame)
    if n > MAX_GOWER_ROWS:
        raise AnalysisError(f"Gower distance on {n} respondents needs an n x n matrix; "
                            f"limit {MAX_GOWER_ROWS}. Cluster a seeded sample.")
    num = np.zeros((n, n))
    den = np.zeros((n, n))
    for col in cols:  # loop over survey questions, vectorised over respondent pairs
        if col not in frame.columns:
            raise InputDataError(f"survey has no column '{col}'", column=col)
        s = frame[col]
        w = float((weights or {}).get(col, 1.0))
        ok = s.notna().to_numpy()
        both = ok[:, None] & ok[None, :]
        if _is_numeric(s):
            x = s.to_numpy(dtype=float)
            rng = np.nanmax(x) - np.nanmin(x) if ok.any() else 0.0
            d = np.abs(x[:, None] - x[None, :]) / rng if rng > 0 else np.zeros((n, n))
        else:
            codes = pd.factorize(s.astype("string"))[0]
            d = (codes[:, None] != codes[None, :]).astype(float)
        num += np.where(both, w * np.nan_to_num(d), 0.0)
        den += np.where(both, w, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


@dataclass
class NeedsClusters:
    labels: pd.Series          # index = account_id, values 1..k (1 = largest cluster)
    k: int
    silhouettes: pd.DataFrame  # k, silhouette, clusters
    distance: np.ndarray


def cluster_needs(survey: pd.DataFrame, columns: Sequence[str],
                  k_range: tuple[int, int] = (2, 6), id_col: str = "account_id",
                  method: str = "average") -> NeedsClusters:
    """Hierarchical clustering of survey answers on Gower distance; k by best silhouette.

    Clusters are numbered 1..k by size (largest first), ties by smallest account_id.
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    from sklearn.metrics import silhouette_score

    if id_col not in survey.columns:
        raise InputDataError(f"survey has no '{id_col}' column", column=id_col)
    dup = survey[id_col].duplicated(keep=False)
    if dup.any():
        raise InputDataError("survey has several answers for the same account", column=id_col,
                             rows=survey.loc[dup, id_col].tolist()[:20],
                             hint="keep one respondent per account (e.g. the decision maker)")
    frame = survey.sort_values(id_col, kind="stable").reset_index(drop=True)
    d = gower_distance(frame, columns)
    if np.isnan(d).any():
        raise AnalysisError("some respondents share no answered question; drop empty answers")
    n = len(frame)
    lo, hi = k_range
    ks = [k for k in range(max(lo, 2), min(hi, n - 1) + 1)]
    if not ks:
        raise AnalysisError(f"too few respondents ({n}) for k in {k_range}")
    z = linkage(squareform(d, checks=False), method=method)
    rows, best = [], None
    for k in ks:  # a handful of candidate k
        lab = fcluster(z, k, criterion="maxclust")
        got = len(np.unique(lab))
        sil = float(silhouette_score(d, lab, metric="precomputed")) if 1 < got < n else np.nan
        rows.append({"k": k, "silhouette": sil, "clusters": got})
        if np.isfinite(sil) and (best is None or sil > best[0] + 1e-12):
            best = (sil, k, lab)
    if best is None:
        raise AnalysisError("no k in the range gives at least two clusters")
    _, k, lab = best
    ids = frame[id_col].astype("str")
    tmp = pd.DataFrame({"lab": lab, "id": ids})
    info = tmp.groupby("lab").agg(size=("id", "size"), first=("id", "min"))
    info = info.sort_values(["size", "first"], ascending=[False, True], kind="stable")
    remap = {old: i + 1 for i, old in enumerate(info.index)}
    labels = pd.Series(tmp["lab"].map(remap).to_numpy(), index=pd.Index(ids, name=id_col),
                       name="needs_cluster")
    return NeedsClusters(labels, int(len(info)), pd.DataFrame(rows), d)


def describe_clusters(survey: pd.DataFrame, labels: pd.Series, columns: Sequence[str],
                      outcome_col: str = "primary_outcome", id_col: str = "account_id",
                      n_traits: int = 2) -> pd.DataFrame:
    """Per needs cluster: accounts, share, required_outcome (modal ``outcome_col`` and its share),
    appropriate_experience (the ``n_traits`` answers that differ most from all respondents),
    plus the mean (numeric) or modal answer (other) of each column."""
    df = survey.set_index(survey[id_col].astype("str"))
    df = df.loc[labels.index]
    cl = labels.to_numpy()
    rows = []
    for c in np.unique(cl):  # few clusters
        sub = df[cl == c]
        row = {"needs_cluster": int(c), "accounts": len(sub), "share": len(sub) / len(df)}
        traits = []
        for col in columns:
            s, all_s = sub[col], df[col]
            if _is_numeric(all_s):
                sd = all_s.std(ddof=0)
                row[col] = float(s.mean())
                z = (s.mean() - all_s.mean()) / sd if sd > 0 else 0.0
                word = "high" if z > 0 else "low"
                traits.append((abs(z), f"{word} {col.replace('_', ' ')} ({s.mean():.1f})"))
            else:
                vc = s.astype("string").value_counts()
                mode = vc.index[0] if len(vc) else ""
                share = vc.iloc[0] / len(s) if len(vc) else 0.0
                base = (all_s.astype("string") == mode).mean()
                row[col] = mode
                if col != outcome_col:
                    traits.append((abs(share - base) * 2,
                                   f"{col.replace('_', ' ')}: {mode} ({share:.0%})"))
        if outcome_col in df.columns:
            vc = sub[outcome_col].astype("string").value_counts()
            row["required_outcome"] = f"{vc.index[0]} ({vc.iloc[0] / len(sub):.0%})" \
                if len(vc) else ""
        traits.sort(key=lambda t: (-t[0], t[1]))
        row["appropriate_experience"] = "; ".join(t[1] for t in traits[:n_traits])
        rows.append(row)
    return pd.DataFrame(rows)


def cross_with_value(labels: pd.Series, table: pd.DataFrame, assignment: pd.Series,
                     id_col: str = "account_id") -> pd.DataFrame:
    """Counts of surveyed accounts: needs cluster (rows) x value segment (columns)."""
    seg = pd.Series(np.asarray(assignment, dtype=object),
                    index=table[id_col].astype("str").to_numpy())
    joined = pd.DataFrame({"needs_cluster": labels, "segment": seg.reindex(labels.index)})
    joined["segment"] = joined["segment"].fillna("not in analysis table")
    return pd.crosstab(joined["needs_cluster"], joined["segment"])


def diamonds(table: pd.DataFrame, labels: pd.Series, diamond_value_share: float = 0.8,
             value_col: str = "score", score_col: str = "score",
             id_col: str = "account_id") -> pd.DataFrame:
    """Per surveyed account in the analysis table: needs cluster, value, value percentile and
    ``diamond`` = in the needs cluster with the best mean ``score_col`` AND in the bottom
    ``diamond_value_share`` of all kept accounts by ``value_col``.

    Value percentile = rank(method="average") / n over the whole analysis table.
    """
    t = table.assign(_id=table[id_col].astype("str"))
    pct = pd.to_numeric(t[value_col], errors="coerce").rank(method="average", pct=True)
    t = t.assign(value_percentile=pct.to_numpy())
    m = t.set_index("_id").reindex(labels.index)
    out = pd.DataFrame({"account_id": labels.index, "needs_cluster": labels.to_numpy(),
                        "score": pd.to_numeric(m[score_col], errors="coerce").to_numpy(),
                        "value": pd.to_numeric(m[value_col], errors="coerce").to_numpy(),
                        "value_percentile": m["value_percentile"].to_numpy()})
    known = out.dropna(subset=["score"])
    if known.empty:
        raise AnalysisError("no surveyed account is in the analysis table")
    means = known.groupby("needs_cluster")["score"].mean()
    best = int(means.sort_values(ascending=False, kind="stable").index[0])
    out["best_fit_cluster"] = out["needs_cluster"] == best
    out["diamond"] = out["best_fit_cluster"] & (out["value_percentile"] <= diamond_value_share)
    return out.sort_values(["diamond", "value_percentile", "account_id"],
                           ascending=[False, True, True], kind="stable").reset_index(drop=True)

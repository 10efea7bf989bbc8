"""Needs-based layer: cluster survey answers, describe clusters, cross with value segments,
find the "diamonds in the rough" (docs/method.md, Step 4, "Around the segments").

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

from helpers.core.errors import AnalysisError, InputDataError
from helpers.core.params import Segments as SegmentsParams

#: guard against an n x n matrix that would not fit in memory
MAX_GOWER_ROWS = 20_000
#: respondents clustered exactly; above this, :func:`cluster_needs` clusters a seeded sample of
#: this many and assigns every other respondent to the nearest cluster medoid (Gower is
#: O(n^2) in memory: 4,000 respondents are a 128 MB matrix)
SAMPLE_ROWS = 4_000


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _column_parts(frame: pd.DataFrame, columns: Sequence[str],
                  weights: Mapping[str, float] | None) -> list[tuple[str, float, bool, float]]:
    """Per column: name, weight, numeric?, range over ``frame`` (the Gower normaliser)."""
    parts = []
    for col in columns:  # loop over survey questions
        if col not in frame.columns:
            raise InputDataError(f"survey has no column '{col}'", column=col)
        s = frame[col]
        w = float((weights or {}).get(col, 1.0))
        numeric = _is_numeric(s)
        rng = 0.0
        if numeric and s.notna().any():
            x = s.to_numpy(dtype=float)
            rng = float(np.nanmax(x) - np.nanmin(x))
        parts.append((col, w, numeric, rng))
    return parts


def _gower_cross(a: pd.DataFrame, b: pd.DataFrame,
                 parts: list[tuple[str, float, bool, float]]) -> np.ndarray:
    """Gower distances between the rows of ``a`` and of ``b`` (len(a) x len(b)), each column
    normalised by the range in ``parts``; accumulated in place (two n x m arrays at a time)."""
    n, m = len(a), len(b)
    num = np.zeros((n, m))
    den = np.zeros((n, m))
    tmp = np.empty((n, m))
    for col, w, numeric, rng in parts:  # loop over survey questions, vectorised over pairs
        sa, sb = a[col], b[col]
        both = sa.notna().to_numpy()[:, None] & sb.notna().to_numpy()[None, :]
        if numeric:
            xa, xb = sa.to_numpy(dtype=float), sb.to_numpy(dtype=float)
            if rng > 0:
                np.subtract(xa[:, None], xb[None, :], out=tmp)
                np.abs(tmp, out=tmp)
                tmp /= rng
            else:
                tmp.fill(0.0)
        else:
            codes = pd.factorize(pd.concat([sa, sb], ignore_index=True).astype("string"))[0]
            np.not_equal(codes[:n, None], codes[None, n:], out=tmp)
        np.nan_to_num(tmp, copy=False)
        tmp *= w
        tmp[~both] = 0.0
        num += tmp
        den += np.where(both, w, 0.0)
        del both
    with np.errstate(invalid="ignore", divide="ignore"):
        num /= den
    return num


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
    return _gower_cross(frame, frame, _column_parts(frame, cols, weights))


@dataclass
class NeedsClusters:
    labels: pd.Series          # index = account_id, values 1..k (1 = largest cluster)
    k: int
    silhouettes: pd.DataFrame  # k, silhouette, clusters (on the clustered sample)
    distance: np.ndarray       # Gower matrix of the clustered respondents (the sample if any)
    sampled: int = 0           # respondents clustered when a sample was drawn (0 = all)


def cluster_needs(survey: pd.DataFrame, columns: Sequence[str],
                  k_range: tuple[int, int] = (2, 6), id_col: str = "account_id",
                  method: str = "average", max_rows: int = SAMPLE_ROWS,
                  seed: int = 0) -> NeedsClusters:
    """Hierarchical clustering of survey answers on Gower distance; k by best silhouette.

    More than ``max_rows`` respondents: a seeded sample of ``max_rows`` (``default_rng(seed)``
    over the respondents sorted by id, so deterministic) is clustered and silhouettes are
    computed on it; every other respondent joins the cluster whose medoid (the member with the
    smallest total distance to its cluster) is nearest by Gower distance (ties -> the lower
    cluster). Numeric ranges come from all respondents. Clusters are numbered 1..k by size
    over all respondents (largest first), ties by smallest account_id.
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
    columns = list(columns)
    parts = _column_parts(frame, columns, None)
    sampled = len(frame) > max_rows
    full = frame
    if sampled:
        pick = np.sort(np.random.default_rng(seed).choice(len(frame), max_rows, replace=False))
        frame = frame.iloc[pick].reset_index(drop=True)
    d = _gower_cross(frame, frame, parts)
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
    if sampled:
        lab = _assign_to_medoids(full, frame, pick, lab, d, parts)
        frame = full
    ids = frame[id_col].astype("str")
    tmp = pd.DataFrame({"lab": lab, "id": ids})
    info = tmp.groupby("lab").agg(size=("id", "size"), first=("id", "min"))
    info = info.sort_values(["size", "first"], ascending=[False, True], kind="stable")
    remap = {old: i + 1 for i, old in enumerate(info.index)}
    labels = pd.Series(tmp["lab"].map(remap).to_numpy(), index=pd.Index(ids, name=id_col),
                       name="needs_cluster")
    return NeedsClusters(labels, int(len(info)), pd.DataFrame(rows), d,
                         sampled=n if sampled else 0)


def _assign_to_medoids(full: pd.DataFrame, sample: pd.DataFrame, pick: np.ndarray,
                       lab: np.ndarray, d: np.ndarray,
                       parts: list[tuple[str, float, bool, float]],
                       chunk: int = 50_000) -> np.ndarray:
    """Labels for every row of ``full``: the sample keeps its clustering label, every other
    row takes the label of the nearest medoid (chunked: at most chunk x k distances)."""
    clusters = np.unique(lab)
    medoids = []
    for c in clusters:  # a handful of clusters
        members = np.flatnonzero(lab == c)
        within = d[np.ix_(members, members)].sum(axis=1)
        medoids.append(members[int(np.argmin(within))])
    ref = sample.iloc[medoids]
    out = np.empty(len(full), dtype=lab.dtype)
    for start in range(0, len(full), chunk):  # bounded memory, vectorised within a chunk
        part = full.iloc[start:start + chunk]
        dist = np.nan_to_num(_gower_cross(part, ref, parts), nan=np.inf)
        out[start:start + len(part)] = clusters[np.argmin(dist, axis=1)]
    out[pick] = lab
    return out


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


def needs_layer(survey: pd.DataFrame | None, table: pd.DataFrame, assignment: pd.Series,
                seg_params: SegmentsParams, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Needs clusters of the surveyed accounts, their description, the cross with the value
    segments and the diamonds in the rough; {} when there is no survey. Large surveys are
    clustered on a seeded sample (``helpers.analyse.needs.SAMPLE_ROWS``), the rest assigned to the
    nearest medoid.

    Parameters
    ----------
    survey
        The needs survey (``account_id`` and the answers), or None.
    table
        The analysis table.
    assignment
        The value segment of each account.
    seg_params
        The ``segments`` parameters (needs columns, k range, outcome column, diamond share).
    seed
        The sampling seed.

    Returns
    -------
    dict
        ``needs_clusters``, ``needs_silhouette``, ``needs_cross`` and ``diamonds`` frames.

    Raises
    ------
    InputDataError
        When the survey lacks a column named in ``segments.needs_columns``.
    """
    if survey is None or survey.empty:
        return {}
    cols = list(seg_params.needs_columns) or [c for c in survey.columns if c != "account_id"]
    missing = [c for c in cols if c not in survey.columns]
    if missing:
        raise InputDataError("needs survey lacks the columns named in segments.needs_columns",
                             column=missing[0], hint="fix segments.needs_columns")
    nc = cluster_needs(survey, cols, tuple(seg_params.needs_k_range), seed=seed)
    outcome = (seg_params.needs_outcome_column if seg_params.needs_outcome_column in cols
               else cols[0])
    described = describe_clusters(survey, nc.labels, cols, outcome_col=outcome)
    cross = cross_with_value(nc.labels, table, assignment).reset_index()
    cross.columns = [str(c) for c in cross.columns]
    dia = diamonds(table, nc.labels, seg_params.diamond_value_share)
    return {"needs_clusters": described, "needs_silhouette": nc.silhouettes,
            "needs_cross": cross, "diamonds": dia}

"""Step 4a: the lightweight sorted-table analysis, quartile/decile profiles and the per-variable
hypothesis tests (docs/method.md, Step 4).

Groups: accounts are ranked on the score with ``rank(method="first")`` (ties broken by row
order, or by ``account_id`` when given, never by ``pd.qcut`` which fails on tied edges) and cut
into equal-count groups: quartiles A (best) .. D (worst), or deciles D1 (best) .. D10.

Tests per variable type:
- numeric: Spearman rho vs the score; A vs D Mann-Whitney U with Cliff's delta (the headline
  test: ``p_value`` / ``effect_size``); Kruskal-Wallis with epsilon^2 across the groups;
- categorical / boolean: chi-square of category x group with bias-corrected Cramer's V (the
  headline ``p_value``); per category, the category vs the rest: Cliff's delta of the score
  (signed ``effect_size`` of the category that carries the effect) and a 2x2 "in A vs not"
  test (Fisher's exact when an expected count is below 5, else chi-square);
- below ``small_base`` accounts the headline p-values are seeded permutation tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from helpers.collect.labels import as_labels, positive_category_of, resolve_category
from helpers.core.errors import InputDataError
from helpers.core.parallel import ordered_map
from helpers.core.params import Analysis, Tree
from helpers.setup.score import quantile_labels as group_labels  # A-D / D1-D10, defined once

QUARTILES = ("A", "B", "C", "D")
MISSING_LABEL = "(missing)"
OTHER_LABEL = "other"


# --------------------------------------------------------------------------- small utilities
def groups_for(n_accounts: int, deciles_from: int = Analysis().deciles_from) -> int:
    """4 (quartiles) below ``deciles_from`` accounts, else 10 (deciles)."""
    return 10 if n_accounts >= deciles_from else 4


def score_groups(score: pd.Series, n_groups: int = 4,
                 tiebreak: pd.Series | None = None) -> pd.Series:
    """Equal-count score groups, best first (A-D or D1..D10) as an ordered categorical.

    Ranks with ``rank(method="first")`` on the descending score: tied scores are ordered by
    ``tiebreak`` ascending (e.g. ``account_id``) when given, else by row order, so the result is
    deterministic. Missing scores get a missing label.
    """
    labels = group_labels(n_groups)
    s = pd.to_numeric(score, errors="coerce")
    ranked = _rank_desc(s, tiebreak)
    n = int(s.notna().sum())
    codes = np.full(len(s), -1, dtype=np.int64)
    ok = ranked.notna().to_numpy()
    if n:
        codes[ok] = np.floor((ranked.to_numpy()[ok] - 1) * n_groups / n).astype(np.int64)
    cat = pd.Categorical.from_codes(codes, categories=labels, ordered=True)
    return pd.Series(cat, index=score.index, name="group")


def top_flag(score: pd.Series, top_share: float = Analysis().top_share,
             tiebreak: pd.Series | None = None) -> pd.Series:
    """True for the best ``ceil(top_share * n)`` accounts by score (same tie rule as groups;
    the same count as :func:`helpers.analyse.lift.top_label`, so "top 25 %" means one thing)."""
    from helpers.analyse.lift import top_count

    s = pd.to_numeric(score, errors="coerce")
    ranked = _rank_desc(s, tiebreak)
    n_top = top_count(int(s.notna().sum()), top_share)
    return (ranked <= n_top).fillna(False).astype(bool)


def _rank_desc(s: pd.Series, tiebreak: pd.Series | None) -> pd.Series:
    """Rank 1 = best score; ties ordered by ``tiebreak`` ascending when given, else row order."""
    if tiebreak is None:
        return s.rank(ascending=False, method="first")
    from helpers.analyse.lift import _order_key  # id ranks computed by Arrow: no Python string sort

    # one lexsort (score descending, then id) of the scored rows; the same ranks as
    # rank(method="first") on the rows sorted by id, without a reindex by label
    v = s.to_numpy(dtype=float, na_value=np.nan)
    rows = np.flatnonzero(~np.isnan(v))
    order = rows[np.lexsort((_order_key(tiebreak)[rows], -v[rows]))]
    ranks = np.full(len(v), np.nan)
    ranks[order] = np.arange(1, len(order) + 1, dtype=float)
    return pd.Series(ranks, index=s.index)


def kinds_map(variables: Sequence[str], kinds: Mapping[str, str] | Sequence[str]) -> dict[str, str]:
    """variable -> kind from a mapping or a parallel sequence; every variable needs a kind."""
    if isinstance(kinds, Mapping):
        km = {v: str(kinds[v]) for v in variables if v in kinds}
    else:
        km = dict(zip(variables, map(str, kinds), strict=True))
    missing = [v for v in variables if v not in km]
    if missing:
        raise InputDataError("no kind given for variable(s)", column=missing[0],
                             hint="pass kinds as {variable: numeric|categorical|boolean}")
    return km


def readable_cut(lo: float, hi: float) -> float:
    """The roundest number c with lo < c <= hi (so ``x >= c`` splits exactly like ``x > lo``)."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return float(hi)
    top = int(math.floor(math.log10(max(abs(lo), abs(hi), 1e-12)))) + 1
    for e in range(top, top - 16, -1):
        for mult in (1.0, 0.5, 0.2):
            step = mult * 10.0 ** e
            cand = math.floor(hi / step) * step
            if lo < cand <= hi:
                return float(round(cand, 12))
    return float(hi)


def nice_candidates(value: float, levels: int = 16) -> np.ndarray:
    """Round numbers near ``value``, roundest first (multiples of 10^e, 5, 2.5, 2 x 10^(e-1))."""
    if not np.isfinite(value):
        return np.array([value])
    top = int(math.floor(math.log10(max(abs(value), 1e-12)))) + 1
    out: list[float] = []
    for e in range(top, top - levels, -1):
        for mult in (1.0, 0.5, 0.2):
            step = mult * 10.0 ** e
            for c in (math.floor(value / step) * step, math.ceil(value / step) * step):
                c = round(c, 12)
                if c not in out:
                    out.append(c)
    return np.asarray(out, dtype=float)


def is_year(variable: str | None) -> bool:
    """Whether a column holds calendar years (``founded_year``, ``year``): no separators."""
    return bool(variable) and "year" in str(variable).lower().replace("-", "_").split("_")


def fmt_measure(x: float, variable: str | None = None) -> str:
    """A number for a sentence: thousands separators, no needless decimals; a value of a year
    column (:func:`is_year`) without separators ("founded year of 2013 or more")."""
    if x is None or not np.isfinite(x):
        return str(x)
    sep = "" if is_year(variable) else ","
    if float(x).is_integer():
        return f"{int(x):{sep}}"
    if abs(x) >= 100:
        return f"{x:{sep}.1f}".rstrip("0").rstrip(".")
    return f"{x:{sep}.4g}"


def words(variable: str) -> str:
    """A column name as words: ``ad_budget_usd`` -> ``ad budget usd``."""
    return str(variable).replace("_", " ")


def merge_sparse(labels: pd.Series, min_size: int) -> tuple[pd.Series, list[str]]:
    """Merge categories with fewer than ``min_size`` accounts into 'other'; return the merged."""
    counts = labels.value_counts(dropna=True)
    rare = sorted(str(c) for c in counts.index[counts < min_size])
    if not rare:
        return labels, []
    return labels.mask(labels.isin(rare), OTHER_LABEL), rare


def _groups(table: pd.Series | pd.DataFrame, score_col: str, group_col: str,
            n_groups: int | None = None) -> pd.Series:
    """The score groups of ``table``: its ``group_col`` for quartiles, else computed."""
    if n_groups in (None, 4) and group_col in table.columns:
        g = table[group_col].astype("string")
        return pd.Series(pd.Categorical(g, categories=list(QUARTILES), ordered=True),
                         index=table.index)
    tb = table["account_id"] if "account_id" in table.columns else None
    return score_groups(table[score_col], n_groups or 4, tiebreak=tb)


def _check_columns(table: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputDataError(f"{what}: the analysis table lacks column(s) {missing}",
                             column=missing[0],
                             hint="build the analysis table in 03_data_collection first")


# --------------------------------------------------------------------------- sorted table
def sorted_table(table: pd.DataFrame, variables: list[str],
                 score_col: str = "score") -> pd.DataFrame:
    """The lightweight analysis: every account, its score and the hypothesis fields, best first.

    Sorted by score descending (stable, ``account_id`` as final key); adds ``position`` (1 =
    best) and ``top_pct`` (position / n, the share of accounts at or above this one).
    """
    _check_columns(table, [score_col], "sorted_table")
    lead = [c for c in ("account_id", "account_name", score_col, "score_rank", "quartile")
            if c in table.columns]
    cols = lead + [v for v in variables if v in table.columns and v not in lead]
    keys = [score_col] + (["account_id"] if "account_id" in table.columns else [])
    out = table[cols].sort_values(keys, ascending=[False] + [True] * (len(keys) - 1),
                                  kind="stable", na_position="last").reset_index(drop=True)
    out.insert(0, "position", np.arange(1, len(out) + 1))
    out["top_pct"] = out["position"] / max(len(out), 1)
    return out


# --------------------------------------------------------------------------- threshold finder
def threshold_finder(table: pd.DataFrame, variable: str, score_col: str = "score",
                     top_share: float = Analysis().top_share, min_group: int = 10,
                     min_group_share: float = 0.05, max_overlap: float = 0.10,
                     round_tolerance: float = Tree().round_tolerance) -> dict[str, Any] | None:
    """The best single cut on a numeric variable and the sentence that states it.

    Scans every cut between distinct values (vectorised: one sort and cumulative sums), keeps
    cuts leaving at least ``max(min_group, min_group_share * n)`` accounts on each side, and
    picks the one whose top-``top_share`` rates above/below differ most (two-proportion z).
    The cut is moved to the roundest number between the two neighbouring values, so the
    partition (and every figure) is unchanged; a rounder cut a little further away is taken
    when it keeps at least ``1 - round_tolerance`` of the best |z| (figures then describe it).

    Clean cut: when the accounts on the better side all sit in the top ``p1`` of the score and
    those on the other side all in the bottom ``p2`` with ``p1 + p2 <= 1 + max_overlap``, the
    sentence reads "every account with X of c or more is in the top p1, every one below is in
    the bottom p2"; else "accounts with X of c or more are 3.1x as likely to be in the top 25 %
    as those below". Returns None when no cut is possible (too few values or accounts).
    """
    _check_columns(table, [variable, score_col], "threshold_finder")
    scan = _scan_cuts(table, variable, score_col, top_share, min_group, min_group_share,
                      max_overlap)
    if scan is None:
        return None
    k = scan.best()
    if k is None:
        return None
    k, cut = _rounder_cut(scan, k, round_tolerance)
    lo, hi = scan.bounds(k)
    n, base = scan.n, scan.base
    up = bool(scan.z[k] >= 0)
    clean = bool(scan.clean_any[k])
    r_up, r_dn = float(scan.rate_above[k]), float(scan.rate_below[k])
    better, worse = (r_up, r_dn) if up else (r_dn, r_up)
    ratio = better / worse if worse > 0 else float("inf")
    clean_shares = ((scan.p1_up[k], scan.p2_up[k]) if up else (scan.p1_dn[k], scan.p2_dn[k])
                    ) if clean else None
    sentence = _threshold_sentence(variable, cut, up, better, worse, ratio, top_share,
                                   clean_shares)
    return {
        "variable": variable, "cut": cut, "cut_midpoint": (lo + hi) / 2,
        "direction": "+" if up else "-",
        "n": n, "n_missing": int(len(table) - n), "n_above": int(scan.n_above[k]),
        "n_below": int(scan.n_below[k]), "share_above": float(scan.n_above[k] / n),
        "rate_above": r_up, "rate_below": r_dn, "base_rate": float(base),
        "lift": float(better / base) if base > 0 else float("nan"), "ratio": float(ratio),
        "z": float(scan.z[k]), "clean": clean, "sentence": sentence,
    }


@dataclass(frozen=True)
class _CutScan:
    """Every candidate cut of one variable (index ``c`` = the cut below ``xs[i[c]]``): the
    top-account rates on each side, their two-proportion z, and the shares ``p1`` / ``p2`` of
    a clean cut in either direction (``_up``: the accounts above are the better ones)."""

    n: int
    floor: int
    base: float
    xs: np.ndarray
    i: np.ndarray
    cand: np.ndarray
    z: np.ndarray
    n_above: np.ndarray
    n_below: np.ndarray
    rate_above: np.ndarray
    rate_below: np.ndarray
    p1_up: np.ndarray
    p2_up: np.ndarray
    p1_dn: np.ndarray
    p2_dn: np.ndarray
    clean_any: np.ndarray

    def bounds(self, k: int) -> tuple[float, float]:
        """The values on either side of cut ``k``."""
        return float(self.xs[self.i[k] - 1]), float(self.xs[self.i[k]])

    def best(self) -> int | None:
        """The clean cut with the largest |z|, else the cut with the largest |z|; None when
        no cut has a finite z."""
        absz = np.where(self.cand, np.abs(self.z), -np.inf)
        k = (int(np.argmax(np.where(self.clean_any, absz, -np.inf))) if self.clean_any.any()
             else int(np.argmax(absz)))
        return k if np.isfinite(absz[k]) else None


def _scan_cuts(table: pd.DataFrame, variable: str, score_col: str, top_share: float,
               min_group: int, min_group_share: float, max_overlap: float) -> _CutScan | None:
    """Every cut between distinct values that leaves at least ``max(min_group,
    min_group_share * n)`` accounts on each side (one sort and cumulative sums); None when
    there is none."""
    x_all = pd.to_numeric(table[variable], errors="coerce")
    s_all = pd.to_numeric(table[score_col], errors="coerce")
    valid = (x_all.notna() & s_all.notna()).to_numpy()
    n = int(valid.sum())
    floor = max(int(min_group), int(math.ceil(min_group_share * n)))
    if n < 2 * floor or x_all[valid].nunique() < 2:
        return None
    x = x_all.to_numpy(dtype=float)[valid]
    s = s_all.to_numpy(dtype=float)[valid]
    from helpers.analyse.lift import (
        _order_key,  # id order as integers: lexsort without Python strings
    )

    tb = (_order_key(table["account_id"])[valid] if "account_id" in table.columns
          else np.arange(n))
    by_score = np.lexsort((tb, -s))                     # best first, account_id tie-break
    pos = np.empty(n, dtype=np.int64)
    pos[by_score] = np.arange(1, n + 1)
    n_top = max(1, int(round(top_share * n)))
    top = pos <= n_top

    order = np.argsort(x, kind="stable")
    xs, ts, ps = x[order], top[order].astype(np.int64), pos[order]
    i = np.arange(1, n)                                 # below = first i rows
    cand = xs[i] != xs[i - 1]
    cand &= (i >= floor) & (n - i >= floor)
    if not cand.any():
        return None
    cum_top = np.cumsum(ts)
    top_below = cum_top[i - 1]
    top_above = n_top - top_below
    n_below, n_above = i, n - i
    rate_below, rate_above = top_below / n_below, top_above / n_above
    base = n_top / n
    se = np.sqrt(base * (1 - base) * (1 / n_below + 1 / n_above))
    z = np.where(se > 0, (rate_above - rate_below) / np.where(se > 0, se, 1), 0.0)
    worst_above = np.maximum.accumulate(ps[::-1])[::-1]  # max position among rows >= i
    best_below = np.minimum.accumulate(ps)               # min position among rows < i
    worst_below = np.maximum.accumulate(ps)
    best_above = np.minimum.accumulate(ps[::-1])[::-1]
    # above better: above all in top p1, below all in bottom p2
    p1_up = worst_above[i] / n
    p2_up = (n - best_below[i - 1] + 1) / n
    p1_dn = worst_below[i - 1] / n
    p2_dn = (n - best_above[i] + 1) / n
    clean_up = cand & (z > 0) & (p1_up + p2_up <= 1 + max_overlap + 1e-12)
    clean_dn = cand & (z < 0) & (p1_dn + p2_dn <= 1 + max_overlap + 1e-12)
    return _CutScan(n=n, floor=floor, base=base, xs=xs, i=i, cand=cand, z=z, n_above=n_above,
                    n_below=n_below, rate_above=rate_above, rate_below=rate_below,
                    p1_up=p1_up, p2_up=p2_up, p1_dn=p1_dn, p2_dn=p2_dn,
                    clean_any=clean_up | clean_dn)


def _rounder_cut(scan: _CutScan, k: int, round_tolerance: float) -> tuple[int, float]:
    """Cut ``k`` stated at the roundest number between its neighbouring values, or a rounder
    cut a little further away that moves a few accounts and keeps at least
    ``1 - round_tolerance`` of its |z| (on the same side): ``(cut index, cut value)``."""
    xs, n, floor, z, i = scan.xs, scan.n, scan.floor, scan.z, scan.i
    cut = readable_cut(*scan.bounds(k))
    if round_tolerance <= 0:
        return k, cut
    cands = nice_candidates(cut)
    j = np.searchsorted(xs, cands, side="left")        # below = xs < cand
    okc = (j >= floor) & (n - j >= floor) & (j >= 1) & (j <= n - 1)
    if not okc.any():
        return k, cut
    jj = np.clip(j, 1, n - 1) - 1                      # index into the i-arrays
    zc = np.where(okc, z[jj], 0.0)
    same_side = np.sign(zc) == np.sign(z[k])
    good = okc & same_side & (np.abs(zc) >= (1 - round_tolerance) * abs(z[k]))
    if not good.any():
        return k, cut
    first = int(np.argmax(good))
    if cands[first] == cut or j[first] == i[k]:
        return k, cut
    k = int(jj[first])
    lo, hi = scan.bounds(k)
    cut = readable_cut(lo, hi)
    if lo < cands[first] <= hi:
        cut = float(cands[first])
    return k, cut


def _threshold_sentence(variable: str, cut: float, up: bool, better: float, worse: float,
                        ratio: float, top_share: float,
                        clean_shares: tuple[float, float] | None) -> str:
    """The threshold in the method's words: a clean cut (``clean_shares`` = top ``p1`` /
    bottom ``p2``), else how much likelier the better side is to be in the top."""
    name, c_txt, pct = words(variable), fmt_measure(cut, variable), f"{top_share * 100:g} %"
    side_good = f"{name} of {c_txt} or more" if up else f"{name} below {c_txt}"
    side_bad = "every one below" if up else f"every one with {c_txt} or more"
    if clean_shares is not None:
        p1, p2 = clean_shares
        return (f"every account with {side_good} is in the top "
                f"{math.ceil(p1 * 100 - 1e-9)} %, {side_bad} is in the bottom "
                f"{math.ceil(p2 * 100 - 1e-9)} %")
    if worse > 0:
        other = "those below" if up else "those at or above it"
        return (f"accounts with {side_good} are {ratio:.1f}x as likely to be in the top "
                f"{pct} as {other} ({better:.0%} vs {worse:.0%})")
    return (f"{better:.0%} of accounts with {side_good} are in the top {pct}, "
            f"none of the others")


def thresholds_table(table: pd.DataFrame, hypotheses: pd.DataFrame, score_col: str = "score",
                     params: Analysis | None = None) -> pd.DataFrame:
    """``threshold_finder`` for every selected numeric hypothesis (the ``thresholds`` table)."""
    params = params or Analysis()
    rows = []
    for _, h in _selected(hypotheses).iterrows():
        if h["kind"] != "numeric" or h["variable"] not in table.columns:
            continue
        res = threshold_finder(table, h["variable"], score_col=score_col,
                               top_share=params.top_share)
        if res is not None:
            rows.append({"hypothesis_id": h.get("id"), **res})
    cols = ["hypothesis_id", "variable", "cut", "cut_midpoint", "direction", "n", "n_missing",
            "n_above", "n_below", "share_above", "rate_above", "rate_below", "base_rate", "lift",
            "ratio", "z", "clean", "sentence"]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- profiles
def _selected(hypotheses: pd.DataFrame) -> pd.DataFrame:
    _check_columns(hypotheses, ["variable", "kind"], "hypotheses")
    if "selected" in hypotheses.columns:
        return hypotheses[hypotheses["selected"].fillna(False).astype(bool)]
    return hypotheses


def quartile_profile(table: pd.DataFrame, hypotheses: pd.DataFrame, score_col: str = "score",
                     group_col: str = "quartile", n_groups: int | None = 4) -> pd.DataFrame:
    """Per score group: mean and median of each numeric variable, share of each category.

    Long format: ``variable, kind, grouping, group, category, stat, value, n`` where ``group``
    is A-D (or D1..D10 with ``n_groups=10``) plus ``all``; ``n`` is the accounts with a value
    in that group (for shares: in the group, the category's count is ``value * n``). Missing
    values are left out of means and shares and counted in ``stat == "missing"`` rows.
    """
    _check_columns(table, [score_col], "quartile_profile")
    g = _groups(table, score_col, group_col, n_groups)
    grouping = "decile" if n_groups == 10 else "quartile"
    frames = []
    for _, h in _selected(hypotheses).iterrows():
        var, kind = h["variable"], h["kind"]
        if var not in table.columns:
            continue
        if kind == "numeric":
            x = pd.to_numeric(table[var], errors="coerce")
            d = pd.DataFrame({"group": g, "x": x})
            parts = []
            for grp, key in ((d.groupby("group", observed=False)["x"], None), (d["x"], "all")):
                mean, med, cnt = grp.mean(), grp.median(), grp.count()
                miss = (grp.size() - cnt) if key is None else d["x"].isna().sum()
                if key is None:
                    f = pd.DataFrame({"group": mean.index.astype(str), "mean": mean.to_numpy(),
                                      "median": med.to_numpy(), "n": cnt.to_numpy(),
                                      "missing": np.asarray(miss, dtype=float)})
                else:
                    f = pd.DataFrame({"group": ["all"], "mean": [mean], "median": [med],
                                      "n": [cnt], "missing": [float(miss)]})
                parts.append(f)
            wide = pd.concat(parts, ignore_index=True)
            long = wide.melt(id_vars=["group", "n"], value_vars=["mean", "median", "missing"],
                             var_name="stat", value_name="value")
            long["category"] = None
        else:
            lab = as_labels(table[var], kind)
            d = pd.DataFrame({"group": g, "c": lab})
            ct = pd.crosstab(d["group"], d["c"], dropna=False).reindex(
                pd.Index(list(g.cat.categories), name="group"), fill_value=0)
            ct.loc["all"] = ct.sum(axis=0)
            tot = ct.sum(axis=1)
            share = ct.div(tot.where(tot > 0), axis=0)
            long = share.reset_index().melt(id_vars="group", var_name="category",
                                            value_name="value")
            long["n"] = long["group"].map(tot).to_numpy()
            long["stat"] = "share"
            miss = d.assign(m=d["c"].isna()).groupby("group", observed=False)["m"].sum()
            mrow = pd.DataFrame({"group": [*map(str, miss.index), "all"],
                                 "value": [*miss.to_numpy(dtype=float), float(d["c"].isna().sum())],
                                 "stat": "missing", "category": None})
            mrow["n"] = mrow["group"].map(tot).to_numpy()
            long = pd.concat([long, mrow], ignore_index=True)
            long["group"] = long["group"].astype(str)
        long["variable"], long["kind"], long["grouping"] = var, kind, grouping
        frames.append(long[["variable", "kind", "grouping", "group", "category", "stat",
                            "value", "n"]])
    cols = ["variable", "kind", "grouping", "group", "category", "stat", "value", "n"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)
    out["n"] = out["n"].fillna(0).astype(int)
    return out


# --------------------------------------------------------------------------- effect sizes
def cliffs_delta(x: np.ndarray, y: np.ndarray) -> float:
    """Cliff's delta P(x > y) - P(x < y), via the Mann-Whitney U (ties count half)."""
    if len(x) == 0 or len(y) == 0:
        return float("nan")
    u = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic").statistic
    return float(2 * u / (len(x) * len(y)) - 1)


def cramers_v_corrected(table: np.ndarray) -> tuple[float, float, int]:
    """Bias-corrected Cramer's V (Bergsma 2013) with the chi-square statistic and df."""
    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    n = t.sum()
    r, k = t.shape
    if r < 2 or k < 2 or n < 2:
        return float("nan"), float("nan"), 0
    chi2, _, dof, _ = stats.chi2_contingency(t, correction=False)
    phi2 = chi2 / n
    phi2c = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    rc = r - (r - 1) ** 2 / (n - 1)
    kc = k - (k - 1) ** 2 / (n - 1)
    denom = min(kc - 1, rc - 1)
    return (float(np.sqrt(phi2c / denom)) if denom > 0 else float("nan")), float(chi2), int(dof)


def epsilon_squared(h: float, n: int) -> float:
    """Kruskal-Wallis effect size epsilon^2 = H / ((n^2 - 1) / (n + 1))."""
    return float(h * (n + 1) / (n * n - 1)) if n > 1 else float("nan")


def delta_power(n1: int, n2: int, effect: float, alpha: float) -> float:
    """Approximate power of a two-sided rank test to detect Cliff's delta ``effect``."""
    if n1 < 1 or n2 < 1:
        return 0.0
    se = math.sqrt((n1 + n2 + 1) / (3.0 * n1 * n2))
    zc = stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.cdf(abs(effect) / se - zc) + stats.norm.cdf(-abs(effect) / se - zc))


def _perm_u_pvalue(a: np.ndarray, d: np.ndarray, n_perm: int, rng: np.random.Generator) -> float:
    """Two-sided permutation p-value of the Mann-Whitney U (labels shuffled, vectorised)."""
    z = np.concatenate([a, d])
    r = stats.rankdata(z)
    n1, n2 = len(a), len(d)
    centre = n1 * n2 / 2
    u_obs = r[:n1].sum() - n1 * (n1 + 1) / 2
    perm = rng.permuted(np.tile(r, (n_perm, 1)), axis=1)
    u = perm[:, :n1].sum(axis=1) - n1 * (n1 + 1) / 2
    hits = np.sum(np.abs(u - centre) >= abs(u_obs - centre) - 1e-9)
    return float((hits + 1) / (n_perm + 1))


def _perm_spearman_pvalue(x: np.ndarray, s: np.ndarray, n_perm: int,
                          rng: np.random.Generator) -> tuple[float, float]:
    rx, rs = stats.rankdata(x), stats.rankdata(s)
    rx, rs = rx - rx.mean(), rs - rs.mean()
    den = np.sqrt((rx ** 2).sum() * (rs ** 2).sum())
    if den == 0:
        return float("nan"), float("nan")
    rho = float((rx * rs).sum() / den)
    perm = rng.permuted(np.tile(rs, (n_perm, 1)), axis=1)
    rhos = perm @ rx / den
    return rho, float((np.sum(np.abs(rhos) >= abs(rho) - 1e-12) + 1) / (n_perm + 1))


def _perm_chi2_pvalue(cat: np.ndarray, grp: np.ndarray, n_perm: int,
                      rng: np.random.Generator) -> float:
    """Permutation p-value of the chi-square statistic of a category x group table."""
    r, k = cat.max() + 1, grp.max() + 1
    n = len(cat)

    def chi2_of(counts: np.ndarray) -> np.ndarray:
        rows = counts.sum(axis=-1, keepdims=True)
        cols = counts.sum(axis=-2, keepdims=True)
        exp = rows * cols / n
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.nansum(np.where(exp > 0, (counts - exp) ** 2 / exp, 0.0), axis=(-2, -1))

    obs = np.zeros((r, k))
    np.add.at(obs, (cat, grp), 1)
    perm = rng.permuted(np.tile(grp, (n_perm, 1)), axis=1)
    counts = np.zeros((n_perm, r, k))
    b = np.repeat(np.arange(n_perm), n)
    np.add.at(counts, (b, np.tile(cat, n_perm), perm.ravel()), 1)
    hits = np.sum(chi2_of(counts) >= chi2_of(obs) - 1e-9)
    return float((hits + 1) / (n_perm + 1))


# --------------------------------------------------------------------------- test one variable
_RESULT_KEYS = ["variable", "kind", "testable", "reason", "note", "n", "n_missing", "test",
                "p_value", "effect_size", "effect_measure", "effect_direction", "category",
                "power", "spearman_rho", "spearman_p", "mw_p", "cliffs_delta", "kw_p", "epsilon2",
                "chi2_p", "cramers_v", "a_vs_rest_p", "a_vs_rest_test", "n_groups"]


def _row(variable: str, kind: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(_RESULT_KEYS)
    row.update(variable=variable, kind=kind, testable=False, reason="", note="",
               category="", effect_direction="")
    row.update(kw)
    return row


def test_variable(table: pd.DataFrame, variable: str, kind: str,
                  params: Analysis | None = None, *, category: str | None = None,
                  score_col: str = "score", group_col: str = "quartile",
                  seed: int = 0) -> dict[str, Any]:
    """Test one hypothesis variable against the score; one result row (dict), never raises on data.

    ``kind`` is numeric | categorical | boolean (boolean = categorical with the category
    "yes" as the one the hypothesis names). ``category`` names the category the hypothesis is
    about (the register's ``positive_category``, matched to the labels by
    :func:`helpers.collect.labels.resolve_category`: any yes/no word for a boolean,
    case-insensitive for a category; one not among the values is untestable, never replaced
    by another); without it the category with the strongest category-vs-rest difference
    carries the effect.
    Untestable cases return ``testable=False`` with the reason: missing column, all missing,
    fewer than ``min_accounts`` with data, constant column, a single category (after merging
    categories below ``params.tree.min_category_size`` into 'other', noted in ``note``), an
    empty A or D group.

    Parameters
    ----------
    table
        The analysis table (``score_col`` and, for quartiles, ``group_col``).
    variable, kind
        The measure column and its kind.
    params
        The Step 4 parameters (alpha, minimum effect and accounts, permutations, ...).
    category
        The category the hypothesis names (categorical / boolean).
    score_col, group_col
        The score and its quartile column.
    seed
        Seed of the permutation tests (small bases).

    Returns
    -------
    dict
        One result row (the keys of ``_RESULT_KEYS``): the test, p-value, effect size and
        direction, power, and the reason when untestable.

    Raises
    ------
    InputDataError
        When the table has no ``score_col``.
    """
    params = params or Analysis()
    if kind not in ("numeric", "categorical", "boolean"):
        return _row(variable, kind, reason=f"unknown kind '{kind}' (numeric|categorical|boolean)")
    if variable not in table.columns:
        return _row(variable, kind, n=0, n_missing=len(table),
                    reason=f"column '{variable}' is not in the analysis table")
    if score_col not in table.columns:
        raise InputDataError("the analysis table has no score column", column=score_col,
                             hint="score the accounts in 01_setup first")
    rng = np.random.default_rng(seed)
    score = pd.to_numeric(table[score_col], errors="coerce")
    n_groups = groups_for(int(score.notna().sum()), params.deciles_from)
    quart = _groups(table, score_col, group_col, 4)
    values, bad = _test_values(table[variable], kind)
    ok = (values.notna() & score.notna()).to_numpy()
    n = int(ok.sum())
    note = f"{bad} non-numeric value(s) treated as missing" if bad else ""
    base = dict(n=n, n_missing=int(len(table) - n), note=note, n_groups=n_groups)
    if n == 0:
        return _row(variable, kind, reason="all values missing", **base)
    if n < params.min_accounts:
        return _row(variable, kind, reason=f"data too sparse: only {n} accounts with a value "
                    f"(fewer than {params.min_accounts})", **base)
    kept = _Kept(values=values[ok], score=score[ok].to_numpy(dtype=float), quartile=quart[ok],
                 small=n < params.small_base, base=base)
    if kind == "numeric":
        groups = _groups(table, score_col, group_col, n_groups)[ok] if n_groups != 4 else None
        return _test_numeric(variable, kept, groups, params, rng)
    return _test_categorical(variable, kind, kept, category, params, rng)


@dataclass(frozen=True)
class _Kept:
    """The accounts a test uses (a value and a score): their values, scores and quartiles,
    whether the base is small (permutation tests) and the result row's common fields."""

    values: pd.Series
    score: np.ndarray
    quartile: pd.Series
    small: bool
    base: dict[str, Any]


def _test_values(raw: pd.Series, kind: str) -> tuple[pd.Series, int]:
    """The values a test reads: numbers (and how many non-missing cells were not numbers)
    or category labels."""
    if kind == "numeric":
        values = pd.to_numeric(raw, errors="coerce")
        return values, int((values.isna() & raw.notna()).sum())
    return as_labels(raw, kind), 0


def _test_numeric(variable: str, kept: _Kept, groups: pd.Series | None, params: Analysis,
                  rng: np.random.Generator) -> dict[str, Any]:
    """A numeric variable: Mann-Whitney U of quartile A vs D with Cliff's delta (permutation
    p-values on a small base), Spearman's rho with the score, Kruskal-Wallis across the score
    groups (``groups``: deciles; None = the quartiles) with epsilon squared."""
    kind, base = "numeric", dict(kept.base)
    x, s, q = kept.values.to_numpy(dtype=float), kept.score, kept.quartile
    if np.unique(x).size < 2:
        return _row(variable, kind,
                    reason=f"constant column (every account has {fmt_measure(x[0])})", **base)
    a, d = x[(q == "A").to_numpy()], x[(q == "D").to_numpy()]
    if len(a) < 2 or len(d) < 2:
        return _row(variable, kind, reason="fewer than 2 accounts with a value in A or D",
                    **base)
    delta = cliffs_delta(a, d)
    if kept.small:
        rho, rho_p = _perm_spearman_pvalue(x, s, params.permutations, rng)
        mw_p = _perm_u_pvalue(a, d, params.permutations, rng)
        test = f"Mann-Whitney U A vs D (permutation, {params.permutations})"
    else:
        rho, rho_p = (float(t) for t in stats.spearmanr(x, s))
        mw_p = float(stats.mannwhitneyu(a, d, alternative="two-sided").pvalue)
        test = "Mann-Whitney U A vs D"
    kw_p, eps = _kruskal_across_groups(x, groups if groups is not None else q)
    sign = "+" if delta > 0 else "-" if delta < 0 else ""
    if sign and np.isfinite(rho) and rho != 0 and (rho > 0) != (delta > 0):
        base["note"] = "; ".join(filter(None, [base["note"], "Spearman rho and A-vs-D delta "
                                                             "disagree in sign (non-monotone "
                                                             "relation)"]))
    return _row(variable, kind, testable=True, test=test, p_value=mw_p, effect_size=delta,
                effect_measure="Cliff's delta A vs D", effect_direction=sign,
                power=delta_power(len(a), len(d), params.min_effect, params.bh_alpha),
                spearman_rho=rho, spearman_p=rho_p, mw_p=mw_p, cliffs_delta=delta,
                kw_p=kw_p, epsilon2=eps, **base)


def _kruskal_across_groups(x: np.ndarray, groups: pd.Series) -> tuple[float, float]:
    """Kruskal-Wallis p-value and epsilon squared of ``x`` across the score groups (NaN when
    the test cannot run)."""
    samples = [x[(groups == lab).to_numpy()] for lab in groups.cat.categories]
    samples = [smp for smp in samples if len(smp)]
    try:
        h, kw_p = stats.kruskal(*samples)
        return float(kw_p), epsilon_squared(float(h), len(x))
    except ValueError:
        return float("nan"), float("nan")


def _test_categorical(variable: str, kind: str, kept: _Kept, category: str | None,
                      params: Analysis, rng: np.random.Generator) -> dict[str, Any]:
    """A categorical / boolean variable: rare categories merged, the effect carried by the
    named category (or the one most different from the rest: Cliff's delta of the score,
    Mann-Whitney p), chi-square of category x quartile (permutation on a small base or
    sparse table) with the corrected Cramer's V."""
    base, v = dict(kept.base), kept.values
    labels, rare = merge_sparse(v, params.tree.min_category_size)
    if rare:
        base["note"] = "; ".join(filter(None, [base["note"], f"merged {len(rare)} category(ies) "
                                               f"with fewer than {params.tree.min_category_size} "
                                               f"accounts into '{OTHER_LABEL}': "
                                               f"{', '.join(rare[:8])}"]))
    cats = labels.value_counts().sort_index()
    if len(cats) < 2:
        why = ("single category" if not rare else
               "data too sparse: a single category after merging rare ones")
        return _row(variable, kind, reason=f"{why} ({', '.join(map(str, cats.index))})", **base)
    category, reason = _named_category(v, kind, category, set(cats.index),
                                       params.tree.min_category_size)
    if reason:
        return _row(variable, kind, reason=reason, **base)
    cat_codes, cat_names = pd.factorize(labels, sort=True)
    per_df = _category_effects(cat_codes, cat_names, kept.score, kept.quartile)
    if category is not None:
        pick = per_df[per_df["category"] == str(category)].iloc[0]
        # the hypothesis names a category: test that category against the rest
        codes = (cat_codes != list(map(str, cat_names)).index(str(category))).astype(np.int64)
        scope = f"'{category}' vs rest"
    else:
        pick = per_df.sort_values(["p", "category"], kind="stable").iloc[0]
        if not np.isfinite(pick["p"]):
            pick = per_df.iloc[int(np.nanargmax(np.abs(per_df["delta"].to_numpy())))]
        codes, scope = cat_codes.astype(np.int64), "category"
    chi_p, test, v_corr = _category_by_quartile(codes, kept, scope, params, rng)
    delta = float(pick["delta"])
    sign = "+" if delta > 0 else "-" if delta < 0 else ""
    n = kept.base["n"]
    return _row(variable, kind, testable=True, test=test, p_value=chi_p, effect_size=delta,
                effect_measure=f"Cliff's delta of the score, '{pick['category']}' vs rest",
                effect_direction=sign, category=str(pick["category"]),
                power=delta_power(int(pick["n"]), n - int(pick["n"]), params.min_effect,
                                  params.bh_alpha),
                cliffs_delta=delta, chi2_p=chi_p, cramers_v=v_corr, a_vs_rest_p=float(pick["p22"]),
                a_vs_rest_test=str(pick["t22"]), **base)


def _named_category(values: pd.Series, kind: str, category: str | None, kept_labels: set,
                    min_size: int) -> tuple[str | None, str]:
    """The category the hypothesis names ("yes" for a boolean without one), matched to the
    labels before rare ones are merged; ``(category, "")``, or ``(None, reason)`` when it is
    not among the values or too rare to test."""
    if kind == "boolean" and category is None:
        category = "yes"
    if category is None:
        return None, ""
    found = sorted(map(str, pd.unique(values.astype(str))))
    resolved = resolve_category(category, kind, found)
    if resolved is None:
        return None, f"category '{category}' is not among the values ({', '.join(found[:12])})"
    if str(resolved) not in kept_labels:
        return None, (f"category '{resolved}' has fewer than {min_size} accounts "
                      "(data too sparse)")
    return resolved, ""


def _category_effects(cat_codes: np.ndarray, cat_names: pd.Index, s: np.ndarray,
                      q: pd.Series) -> pd.DataFrame:
    """Per category vs the rest: Cliff's delta of the score and its Mann-Whitney p, and the
    2x2 test of being in quartile A (Fisher exact when an expected count is below 5)."""
    in_a = (q == "A").to_numpy()
    per = []
    for code, name in enumerate(cat_names):
        m = cat_codes == code
        dlt = cliffs_delta(s[m], s[~m])
        p_cat = float(stats.mannwhitneyu(s[m], s[~m], alternative="two-sided").pvalue)
        t22 = np.array([[np.sum(m & in_a), np.sum(m & ~in_a)],
                        [np.sum(~m & in_a), np.sum(~m & ~in_a)]], dtype=float)
        exp22 = t22.sum(1, keepdims=True) * t22.sum(0, keepdims=True) / t22.sum()
        if (exp22 < 5).any():
            p22, t22_name = float(stats.fisher_exact(t22).pvalue), "Fisher exact"
        else:
            p22, t22_name = float(stats.chi2_contingency(t22)[1]), "chi-square 2x2"
        per.append((str(name), dlt, p_cat, p22, t22_name, int(m.sum())))
    return pd.DataFrame(per, columns=["category", "delta", "p", "p22", "t22", "n"])


def _category_by_quartile(codes: np.ndarray, kept: _Kept, scope: str, params: Analysis,
                          rng: np.random.Generator) -> tuple[float, str, float]:
    """Chi-square of ``codes`` x quartile (permutation p-value on a small base or when over
    20 % of the expected counts are below 5): ``(p, test name, corrected Cramer's V)``."""
    grp_codes = kept.quartile.cat.codes.to_numpy()
    keep = grp_codes >= 0
    ctab = np.zeros((int(codes.max()) + 1, 4))
    np.add.at(ctab, (codes[keep], grp_codes[keep]), 1)
    v_corr, chi2, dof = cramers_v_corrected(ctab)
    expected_small = False
    if dof > 0:
        exp = stats.contingency.expected_freq(ctab[ctab.sum(1) > 0][:, ctab.sum(0) > 0])
        expected_small = bool((exp < 5).mean() > 0.2)
    if kept.small or expected_small:
        chi_p = _perm_chi2_pvalue(codes[keep], grp_codes[keep], params.permutations, rng)
        return chi_p, f"chi-square {scope} x quartile (permutation, {params.permutations})", v_corr
    chi_p = float(stats.chi2.sf(chi2, dof)) if dof > 0 else float("nan")
    return chi_p, f"chi-square {scope} x quartile", v_corr


# --------------------------------------------------------------------------- multiple testing
def bh_adjust(pvalues: pd.Series, alpha: float = Analysis().bh_alpha) -> pd.Series:
    """Benjamini-Hochberg adjusted p-values; NaN in = NaN out ("not tested").

    ``multipletests`` returns NaN for every value if one input is NaN, so NaNs are dropped
    first and put back afterwards.
    """
    p = pd.to_numeric(pd.Series(pvalues), errors="coerce")
    out = pd.Series(np.nan, index=p.index, dtype=float, name="p_value_adjusted")
    mask = p.notna()
    if mask.any():
        if ((p[mask] < 0) | (p[mask] > 1)).any():
            raise ValueError("p-values must lie in [0, 1]")
        out[mask] = multipletests(p[mask].to_numpy(), alpha=alpha, method="fdr_bh")[1]
    return out


test_variable.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def test_hypotheses(table: pd.DataFrame, hypotheses: pd.DataFrame,
                    params: Analysis | None = None, score_col: str = "score",
                    group_col: str = "quartile", seed: int = 0) -> pd.DataFrame:
    """``test_variable`` for every selected hypothesis plus BH-adjusted p-values (one row each).

    A hypothesis's ``positive_category`` (categorical / boolean) is the category its direction
    refers to: that category is tested against the rest and the sign is its own. One that is
    not among the column's values raises InputDataError
    (:func:`helpers.collect.hypotheses.check_positive_categories`).
    """
    params = params or Analysis()
    sel = _selected(hypotheses)
    from helpers.collect.hypotheses import check_positive_categories

    check_positive_categories(sel, table)  # a category not in the data: stop, never substitute

    def row(item: tuple[int, pd.Series]) -> dict:
        i, h = item
        cat = positive_category_of(h)
        res = test_variable(table, str(h["variable"]), str(h["kind"]), params, category=cat,
                            score_col=score_col, group_col=group_col, seed=seed + i)
        return {"hypothesis_id": h.get("id", h["variable"]), **res}

    # one test per hypothesis, each with its own seed: side by side (helpers.core.parallel)
    rows = ordered_map(row, [(i, h) for i, (_, h) in enumerate(sel.iterrows())],
                       desc="hypothesis tests")
    out = pd.DataFrame(rows, columns=["hypothesis_id", *_RESULT_KEYS])
    out["p_value_adjusted"] = bh_adjust(out["p_value"], params.bh_alpha).to_numpy()
    return out


test_hypotheses.__test__ = False  # type: ignore[attr-defined]  # not a pytest test

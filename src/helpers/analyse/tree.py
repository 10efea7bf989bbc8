"""Step 4a: the segmentation tree ("tree cluster analysis" of the method).

A regression tree (CART, squared error) on the quality score, with ``max_depth`` and
``min_samples_leaf`` from ``params.Tree``. Categories rarer than ``min_category_size`` are
merged into 'other', missing categories become '(missing)', and at every node the categories
are ordered by their mean score among that node's accounts (for squared error this ordering
contains the best binary grouping, Breiman's theorem), so each split is the node's best and
reads "industry in {Retail, Software}". The tree is grown node by node (a depth-1
``DecisionTreeRegressor`` per node). A forced root is a manual first split on the named
variable (best threshold / best grouping), then one tree per branch.

Rules are kept as words, not feature indices ("employees ≥ 500 and business model = B2B"), and
thresholds are moved to the roundest number in the gap between neighbouring training values
(free), or a little further when the split keeps at least ``1 - round_tolerance`` of its gain.
Node statistics are computed by applying the final rules to the training table, so they match
what ``leaf_of`` does on any other frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeRegressor

from helpers.analyse.profiling import (
    MISSING_LABEL,
    OTHER_LABEL,
    as_labels,
    fmt_measure,
    kinds_map,
    merge_sparse,
    nice_candidates,
    readable_cut,
    score_groups,
    words,
)
from helpers.core.errors import AnalysisError, InputDataError
from helpers.core.parallel import ordered_map
from helpers.core.params import Tree


@dataclass(frozen=True)
class Split:
    """One split: rows go right when ``x >= threshold`` (numeric) or ``x in right`` (categorical).

    Missing numeric values and categories unseen in training go right when ``missing_right``.
    """

    variable: str
    kind: str
    threshold: float | None = None
    right: frozenset[str] | None = None
    categories: tuple[str, ...] = ()
    missing_right: bool = False
    had_missing: bool = False

    def goes_right(self, values: pd.Series) -> np.ndarray:
        if self.kind == "numeric":
            x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            out = x >= self.threshold
            out[np.isnan(x)] = self.missing_right
            return out
        # membership decided once per distinct label (factorised in C), then spread to rows
        codes, uniques = pd.factorize(values.fillna(MISSING_LABEL).astype(str))
        labels = np.asarray(uniques, dtype=object).astype(str)
        known = np.isin(labels, np.asarray(self.categories))[codes]
        out = np.isin(labels, np.asarray(sorted(self.right or ())))[codes]
        out[~known] = self.missing_right
        return out


@dataclass
class TreeResult:
    """A fitted segmentation tree: node table, rules in words, and rule application."""

    nodes: pd.DataFrame
    splits: dict[int, tuple[Split, int, int]]
    variables: list[str]
    kinds: dict[str, str]
    score_col: str
    merged: dict[str, list[str]] = field(default_factory=dict)
    forced_root: str | None = None

    # ------------------------------------------------------------------ application
    def _prepare(self, table: pd.DataFrame) -> dict[str, pd.Series]:
        cols: dict[str, pd.Series] = {}
        for var in {s.variable for s, _, _ in self.splits.values()}:
            if var not in table.columns:
                raise InputDataError("the frame lacks a variable the tree splits on", column=var,
                                     hint="apply the tree to a table with the same columns")
            kind = self.kinds[var]
            if kind == "numeric":
                cols[var] = table[var]
            else:
                lab = as_labels(table[var], kind).fillna(MISSING_LABEL)
                rare = self.merged.get(var, [])
                cols[var] = lab.mask(lab.isin(rare), OTHER_LABEL) if rare else lab
        return cols

    def node_masks(self, table: pd.DataFrame) -> dict[int, np.ndarray]:
        """For every node, which rows of ``table`` reach it (vectorised per node)."""
        cols = self._prepare(table)
        masks = {0: np.ones(len(table), dtype=bool)}
        for node in self.nodes["node_id"]:
            if node in self.splits:
                split, left, right = self.splits[node]
                r = split.goes_right(cols[split.variable])
                masks[right] = masks[node] & r
                masks[left] = masks[node] & ~r
        return masks

    def leaf_of(self, table: pd.DataFrame) -> pd.Series:
        """The leaf (node_id) of every row of ANY frame with the tree's variables."""
        masks = self.node_masks(table)
        out = np.full(len(table), -1, dtype=np.int64)
        for node in self.nodes.loc[self.nodes["is_leaf"], "node_id"]:
            out[masks[node]] = node
        return pd.Series(out, index=table.index, name="leaf")

    def predict(self, table: pd.DataFrame) -> pd.Series:
        """The training mean score of each row's leaf."""
        means = self.nodes.set_index("node_id")["mean_score"]
        return self.leaf_of(table).map(means).rename("predicted_score")

    @property
    def split_variables(self) -> list[str]:
        """Variables the tree splits on, in the order of their first split."""
        seen: list[str] = []
        for node in self.nodes["node_id"]:
            if node in self.splits and self.splits[node][0].variable not in seen:
                seen.append(self.splits[node][0].variable)
        return seen

    def summary(self) -> str:
        """Leaves best first, as one line each."""
        leaves = self.nodes[self.nodes["is_leaf"]].sort_values(
            ["mean_score", "node_id"], ascending=[False, True], kind="stable")
        lines = [f"Segmentation tree on {self.score_col}: {len(leaves)} leaves"
                 + (f", forced root {words(self.forced_root)}" if self.forced_root else "")]
        for _, r in leaves.iterrows():
            lines.append(f"  [{r['node_id']}] {r['rule']}: n = {r['n']:,}, mean "
                         f"{fmt_measure(round(r['mean_score'], 1))}, {r['share_A']:.0%} in A")
        return "\n".join(lines)

    def layout(self) -> tuple[dict[int, tuple[int, int]], dict[int, float]]:
        """(children: node -> (left, right), x: node -> position); leaves at 0, 1, 2 ... left
        to right, a parent midway between its children (for drawing)."""
        children = {p: (lft, rgt) for p, (_, lft, rgt) in self.splits.items()}
        xpos: dict[int, float] = {}
        counter = [0.0]

        def place(node: int) -> float:
            if node not in children:
                xpos[node] = counter[0]
                counter[0] += 1
            else:
                lft, rgt = children[node]
                xpos[node] = (place(lft) + place(rgt)) / 2
            return xpos[node]

        place(0)
        return children, xpos

    def plot(self, ax: Any = None, max_label: int = 38) -> Any:
        """Draw the tree: one box per node with its condition, n, mean score and % in A."""
        import matplotlib.pyplot as plt
        from matplotlib import cm

        nodes = self.nodes.set_index("node_id")
        children, xpos = self.layout()
        n_leaves = max(sum(1 for n in xpos if n not in children), 1)
        depth = int(nodes["depth"].max())
        if ax is None:
            _, ax = plt.subplots(figsize=(max(6.0, 2.6 * n_leaves), 1.9 * (depth + 1)))
        cmap = cm.get_cmap("RdYlGn") if hasattr(cm, "get_cmap") else plt.get_cmap("RdYlGn")
        for p, (lft, rgt) in children.items():
            for c in (lft, rgt):
                ax.plot([xpos[p], xpos[c]], [-nodes.at[p, "depth"], -nodes.at[c, "depth"]],
                        color="0.6", lw=1, zorder=1)
        for node, r in nodes.iterrows():
            cond = r["condition"] or "all accounts"
            if len(cond) > max_label:
                cond = cond[: max_label - 1] + "…"
            text = (f"{cond}\nn = {int(r['n']):,}\nmean {fmt_measure(round(r['mean_score']))}"
                    f"\n{r['share_A']:.0%} in A")
            ax.text(xpos[node], -r["depth"], text, ha="center", va="center", fontsize=8,
                    zorder=2, bbox={"boxstyle": "round,pad=0.4", "lw": 1.5 if r["is_leaf"] else 0.8,
                                    "fc": cmap(0.15 + 0.7 * min(1.0, r["share_A"] / 0.5)),
                                    "ec": "0.3"})
        ax.set_xlim(-0.7, n_leaves - 0.3)
        ax.set_ylim(-depth - 0.6, 0.6)
        ax.axis("off")
        ax.set_title(f"Segmentation tree ({self.score_col}; colour = share in quartile A)")
        return ax


# --------------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class _Sorted:
    """A node's numeric values sorted once (with the score's running sums), for every
    candidate threshold and for the distinct values."""

    xs: np.ndarray
    cs: np.ndarray
    cs2: np.ndarray
    nm: int
    sm: float
    sm2: float
    n: int
    tot_s: float
    tot_s2: float

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray) -> _Sorted:
        miss = np.isnan(x)
        xs_order = np.argsort(x[~miss], kind="stable")
        xs, ys = x[~miss][xs_order], y[~miss][xs_order]
        return cls(xs, np.concatenate([[0.0], np.cumsum(ys)]),
                   np.concatenate([[0.0], np.cumsum(ys ** 2)]), int(miss.sum()),
                   float(y[miss].sum()), float((y[miss] ** 2).sum()), len(y), float(y.sum()),
                   float((y ** 2).sum()))

    def distinct(self) -> np.ndarray:
        """np.unique of the non-missing values (from the sorted values: no second sort)."""
        xs = self.xs
        return xs[np.r_[True, xs[1:] != xs[:-1]]] if len(xs) else xs


def _gain_numeric(srt: _Sorted, cands: np.ndarray, min_leaf: int
                  ) -> tuple[np.ndarray, np.ndarray, bool]:
    """SSE gain of ``x >= c`` for each candidate c (missing to the larger side) + sizes ok,
    from the node's sorted values (:class:`_Sorted`, made once for several calls)."""
    xs, cs, cs2 = srt.xs, srt.cs, srt.cs2
    nm, sm, sm2 = srt.nm, srt.sm, srt.sm2
    j = np.searchsorted(xs, cands, side="left")
    n_left, n_right = j.astype(float), (len(xs) - j).astype(float)
    missing_right = bool(n_right.mean() >= n_left.mean()) if len(cands) else False
    sl, sl2 = cs[j], cs2[j]
    sr, sr2 = cs[-1] - sl, cs2[-1] - sl2
    if missing_right:
        n_right, sr, sr2 = n_right + nm, sr + sm, sr2 + sm2
    else:
        n_left, sl, sl2 = n_left + nm, sl + sm, sl2 + sm2
    tot_n, tot_s, tot_s2 = srt.n, srt.tot_s, srt.tot_s2
    with np.errstate(divide="ignore", invalid="ignore"):
        sse = (sl2 - sl ** 2 / n_left) + (sr2 - sr ** 2 / n_right)
    gain = (tot_s2 - tot_s ** 2 / tot_n) - sse
    ok = (n_left >= min_leaf) & (n_right >= min_leaf)
    return np.where(ok, gain, -np.inf), ok, missing_right


def _numeric_split(var: str, x: np.ndarray, y: np.ndarray, params: Tree,
                   thr: float | None = None, missing_right: bool | None = None) -> Split | None:
    """Best (or given) numeric threshold, moved to a readable value where it costs little."""
    srt = _Sorted.of(x, y)  # one sort of the node's values serves every step below
    obs = srt.distinct()
    if obs.size < 2:
        return None
    if thr is None:
        cands = obs[1:]
    else:
        lo = obs[obs <= thr].max() if (obs <= thr).any() else obs[0]
        hi = obs[obs > thr].min() if (obs > thr).any() else obs[-1]
        cands = np.array([readable_cut(lo, hi)])
    gain, ok, mright = _gain_numeric(srt, cands, params.min_samples_leaf)
    if not ok.any():
        return None
    best = int(np.argmax(gain))
    c = float(cands[best])
    lo = obs[obs < c].max()
    c = readable_cut(float(lo), c)
    best_gain = float(gain[best])
    if params.round_tolerance > 0 and best_gain > 0:
        nice = nice_candidates(c)
        g, okn, _ = _gain_numeric(srt, nice, params.min_samples_leaf)
        good = okn & (g >= (1 - params.round_tolerance) * best_gain)
        if good.any():
            c2 = float(nice[int(np.argmax(good))])
            lo2 = obs[obs < c2].max() if (obs < c2).any() else None
            hi2 = obs[obs >= c2].min() if (obs >= c2).any() else None
            if lo2 is not None and hi2 is not None:
                c = c2 if readable_cut(float(lo2), float(hi2)) == c2 else readable_cut(
                    float(lo2), float(hi2))
    had_missing = bool(np.isnan(x).any())
    return Split(var, "numeric", threshold=c,
                 missing_right=mright if missing_right is None else missing_right,
                 had_missing=had_missing)


def _categorical_split(var: str, lab: pd.Series, y: np.ndarray, min_leaf: int) -> Split | None:
    """Best grouping: categories ordered by mean score, best cut in that order."""
    d = pd.DataFrame({"c": lab.to_numpy(), "y": y})
    g = d.groupby("c", sort=True)["y"].agg(["sum", "count", "mean"])
    if len(g) < 2:
        return None
    g = g.sort_values(["mean"], kind="stable")
    cn, cs = np.cumsum(g["count"].to_numpy()), np.cumsum(g["sum"].to_numpy())
    n, s = cn[-1], cs[-1]
    nl, sl = cn[:-1], cs[:-1]
    nr, sr = n - nl, s - sl
    gain = sl ** 2 / nl + sr ** 2 / nr - s ** 2 / n
    gain = np.where((nl >= min_leaf) & (nr >= min_leaf), gain, -np.inf)
    if not np.isfinite(gain).any():
        return None
    k = int(np.argmax(gain))
    cats = tuple(map(str, g.index))
    right = frozenset(cats[k + 1:])
    return Split(var, "categorical", right=right, categories=cats,
                 missing_right=bool(nr[k] >= nl[k]))


def _prepare_frame(frame: pd.DataFrame, variables: list[str], kinds: dict[str, str],
                   min_category_size: int) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Numerics as floats; categories as labels with '(missing)' and rare ones merged."""
    cols: dict[str, pd.Series] = {}
    merged: dict[str, list[str]] = {}
    for v in variables:
        if kinds[v] == "numeric":
            cols[v] = pd.to_numeric(frame[v], errors="coerce").astype(float)
        else:
            lab = as_labels(frame[v], kinds[v]).fillna(MISSING_LABEL)
            lab, rare = merge_sparse(lab, min_category_size)
            if rare:
                merged[v] = rare
            cols[v] = lab
    return pd.DataFrame(cols, index=frame.index), merged


def _columns(prepared: pd.DataFrame, variables: list[str], kinds: dict[str, str]
             ) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Every variable once as arrays: numerics as floats (labels None); categories as integer
    codes with their labels (factorised once, sorted), re-ordered per node by :func:`_encode`."""
    cols: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    for v in variables:
        if kinds[v] == "numeric":
            cols[v] = (prepared[v].to_numpy(dtype=float), None)
        else:
            codes, uniques = pd.factorize(prepared[v], sort=True)
            cols[v] = (codes.astype(np.int64), np.asarray(uniques, dtype=object).astype(str))
    return cols


def _encode(codes: np.ndarray, labels: np.ndarray, y: np.ndarray
            ) -> tuple[np.ndarray, list[str]]:
    """A node's categories as numbers ordered by the node's own mean score (ties: label
    order) and that order. For squared error, the best binary grouping of the categories is
    a cut in this order (Breiman et al. 1984, CART 9.4), so a numeric split on the ranks finds
    it; computed at every node, not once per tree."""
    k = len(labels)
    counts = np.bincount(codes, minlength=k)
    sums = np.bincount(codes, weights=y, minlength=k)
    present = np.flatnonzero(counts)
    order = present[np.argsort(sums[present] / counts[present], kind="stable")]
    rank = np.full(k, np.nan)
    rank[order] = np.arange(len(order), dtype=float)
    return rank[codes], [str(labels[i]) for i in order]


def _varies(x: np.ndarray) -> bool:
    """More than one distinct non-missing value (min < max: no sort)."""
    x = x[~np.isnan(x)]
    return bool(x.size > 1 and x.min() < x.max())


def _best_split(cols: dict[str, tuple[np.ndarray, np.ndarray | None]], rows: np.ndarray,
                y: np.ndarray, variables: list[str], params: Tree, seed: int
                ) -> tuple[Split, np.ndarray] | None:
    """The best split of one node (a depth-1 sklearn tree on the node's rows, categories
    re-encoded by the node's mean scores) in words, with which of ``rows`` go right."""
    X: dict[str, np.ndarray] = {}
    orders: dict[str, list[str]] = {}
    for v in variables:
        values, labels = cols[v]
        if labels is None:
            X[v] = values[rows]
        else:
            X[v], orders[v] = _encode(values[rows], labels, y)
    usable = [v for v in variables if _varies(X[v])]
    if not usable:
        return None
    model = DecisionTreeRegressor(max_depth=1, min_samples_leaf=params.min_samples_leaf,
                                  random_state=seed)
    model.fit(np.column_stack([X[v] for v in usable]), y)
    t = model.tree_
    if t.node_count < 3:
        return None
    var = usable[int(t.feature[0])]
    thr = float(t.threshold[0])
    miss_right = not bool(t.missing_go_to_left[0])
    if cols[var][1] is None:
        x = X[var]
        split = _numeric_split(var, x, y, params, thr=thr, missing_right=miss_right)
        if split is None:
            return None
        go = x >= split.threshold
        go[np.isnan(x)] = split.missing_right
    else:
        order = orders[var]
        k = int(np.floor(thr)) + 1
        split = Split(var, "categorical", right=frozenset(order[k:]), categories=tuple(order),
                      missing_right=miss_right)
        go = X[var] >= k
    return split, go


def _grow(prepared: pd.DataFrame, y: np.ndarray, variables: list[str], kinds: dict[str, str],
          params: Tree, depth: int, seed: int) -> list[tuple[int, Split, int, int]]:
    """Grow the tree node by node (greedy, as CART) and return its splits in words as
    (node, split, left, right), parents before children, with node ids local to this subtree
    (0 = its root). Each node's rows are those its parent's rule (as written, with the
    readable threshold) sends there."""
    if depth < 1 or len(prepared) < 2 * params.min_samples_leaf:
        return []
    cols = _columns(prepared, variables, kinds)
    out: list[tuple[int, Split, int, int] | None] = []
    next_id = [0]

    def grow(rows: np.ndarray, d: int) -> int:
        node = next_id[0]
        next_id[0] += 1
        if d < 1 or len(rows) < 2 * params.min_samples_leaf:
            return node
        found = _best_split(cols, rows, y[rows], variables, params, seed)
        if found is None:
            return node
        split, go = found
        slot = len(out)
        out.append(None)                     # the parent is listed before its children
        left = grow(rows[~go], d - 1)
        right = grow(rows[go], d - 1)
        out[slot] = (node, split, left, right)
        return node

    grow(np.arange(len(prepared)), depth)
    return [o for o in out if o is not None]


def fit_tree(table: pd.DataFrame, variables: Sequence[str],
             kinds: Mapping[str, str] | Sequence[str], params: Tree | None = None,
             score_col: str = "score", forced_root: str | None = None, seed: int = 0,
             group_col: str = "quartile") -> TreeResult:
    """Fit the segmentation tree of ``score_col`` on ``variables`` (see the module docstring).

    ``forced_root`` (default ``params.forced_root``) names the variable of a manual first split;
    each branch then gets its own tree of depth ``max_depth - 1``. Rows with a missing score are
    left out (counted in ``nodes.attrs['n_missing_score']``).
    """
    params = params or Tree()
    variables = list(variables)
    forced_root = forced_root if forced_root is not None else params.forced_root
    km = kinds_map(variables, kinds)
    absent = [v for v in [*variables, score_col] if v not in table.columns]
    if absent:
        raise InputDataError("fit_tree: column(s) missing from the table", column=absent[0],
                             hint="pass variables that exist in the analysis table")
    if forced_root is not None and forced_root not in variables:
        raise InputDataError("the forced root is not among the tree variables",
                             column=forced_root,
                             hint="add it to the variables or change "
                                  "params.analysis.tree.forced_root")
    y_all = pd.to_numeric(table[score_col], errors="coerce")
    keep = y_all.notna().to_numpy()
    if keep.sum() < 2 * params.min_samples_leaf:
        raise AnalysisError(f"fit_tree: only {int(keep.sum())} accounts with a score, fewer than "
                            f"2 x min_samples_leaf = {2 * params.min_samples_leaf}: "
                            "no split possible")
    frame = table.loc[keep]
    y = y_all[keep].to_numpy(dtype=float)
    prepared, merged = _prepare_frame(frame, variables, km, params.min_category_size)
    splits: dict[int, tuple[Split, int, int]] = {}
    parent: dict[int, int] = {0: -1}
    next_id = [1]

    def graft(local: list[tuple[int, Split, int, int]], at: int) -> None:
        ids = {0: at}
        for node, split, left, right in local:   # sklearn lists parents before children
            if node not in ids:
                continue
            ids[left], ids[right] = next_id[0], next_id[0] + 1
            next_id[0] += 2
            splits[ids[node]] = (split, ids[left], ids[right])
            parent[ids[left]] = parent[ids[right]] = ids[node]

    if forced_root is None:
        graft(_grow(prepared, y, variables, km, params, params.max_depth, seed), 0)
    else:
        if km[forced_root] == "numeric":
            root = _numeric_split(forced_root, prepared[forced_root].to_numpy(dtype=float), y,
                                  params)
        else:
            root = _categorical_split(forced_root, prepared[forced_root], y,
                                      params.min_samples_leaf)
        if root is None:
            raise AnalysisError(f"forced root '{forced_root}': no split leaves at least "
                                f"{params.min_samples_leaf} accounts on each side")
        splits[0] = (root, 1, 2)
        parent[1] = parent[2] = 0
        next_id[0] = 3
        r = root.goes_right(prepared[forced_root])
        for child, mask in ((1, ~r), (2, r)):
            sub = _grow(prepared.loc[mask], y[mask], variables, km, params,
                        params.max_depth - 1, seed)
            graft(sub, child)
    return _finish(table, frame, y, splits, parent, variables, km, score_col, merged,
                   forced_root, group_col, n_missing_score=int((~keep).sum()))


def _condition(split: Split, right: bool) -> str:
    name = words(split.variable)
    if split.kind == "numeric":
        txt = f"{name} {'≥' if right else '<'} {fmt_measure(split.threshold, split.variable)}"
    else:
        side = sorted(split.right or ()) if right else [c for c in split.categories
                                                         if c not in (split.right or ())]
        other = [c for c in split.categories if c not in side]
        if len(side) == 1:
            txt = f"{name} = {side[0]}"
        elif len(other) == 1:
            txt = f"{name} ≠ {other[0]}"
        else:
            txt = f"{name} in {{{', '.join(side)}}}"
    if split.had_missing and split.missing_right == right:
        txt += " (or unknown)"
    return txt


def _rule(path: list[tuple[Split, bool]]) -> str:
    """Conjunction of conditions, merging bounds on the same variable."""
    parts: dict[str, Any] = {}
    order: list[str] = []
    for split, right in path:
        v = split.variable
        if v not in order:
            order.append(v)
        if split.kind == "numeric":
            lo, hi, unk = parts.get(v, (-np.inf, np.inf, True))
            if right:
                lo = max(lo, split.threshold)
            else:
                hi = min(hi, split.threshold)
            unk = unk and split.had_missing and split.missing_right == right
            parts[v] = (lo, hi, unk)
        else:
            right_side = set(split.right or ())
            allowed = right_side if right else set(split.categories) - right_side
            prev, cats = parts.get(v, (None, split.categories))
            parts[v] = ((allowed if prev is None else prev & allowed), cats)
    texts = []
    for v in order:
        name = words(v)
        if isinstance(parts[v][0], set) or parts[v][0] is None:
            allowed, cats = parts[v]
            side = sorted(allowed)
            other = [c for c in cats if c not in allowed]
            texts.append(f"{name} = {side[0]}" if len(side) == 1 else
                         f"{name} ≠ {other[0]}" if len(other) == 1 else
                         f"{name} in {{{', '.join(side)}}}")
        else:
            lo, hi, unk = parts[v]
            if np.isfinite(lo) and np.isfinite(hi):
                t = f"{fmt_measure(lo, v)} ≤ {name} < {fmt_measure(hi, v)}"
            elif np.isfinite(lo):
                t = f"{name} ≥ {fmt_measure(lo, v)}"
            else:
                t = f"{name} < {fmt_measure(hi, v)}"
            texts.append(t + (" (or unknown)" if unk else ""))
    return " and ".join(texts) if texts else "all accounts"


def _finish(table: pd.DataFrame, frame: pd.DataFrame, y: np.ndarray,
            splits: dict[int, tuple[Split, int, int]], parent: dict[int, int],
            variables: list[str], kinds: dict[str, str], score_col: str,
            merged: dict[str, list[str]], forced_root: str | None, group_col: str,
            n_missing_score: int) -> TreeResult:
    ids = sorted(parent)
    depth = {0: 0}
    paths: dict[int, list[tuple[Split, bool]]] = {0: []}
    cond = {0: ""}
    for node in ids:                       # parents have smaller ids than children
        if node in splits:
            split, left, right = splits[node]
            for child, is_right in ((left, False), (right, True)):
                depth[child] = depth[node] + 1
                paths[child] = [*paths[node], (split, is_right)]
                cond[child] = _condition(split, is_right)
    leaf = [n not in splits for n in ids]
    res = TreeResult(nodes=pd.DataFrame({"node_id": ids, "is_leaf": leaf}),
                     splits=splits, variables=variables, kinds=kinds, score_col=score_col,
                     merged=merged, forced_root=forced_root)
    if group_col in frame.columns:
        is_a = (frame[group_col].astype("string") == "A").fillna(False).to_numpy(dtype=bool)
    else:
        tb = frame["account_id"] if "account_id" in frame.columns else None
        is_a = (score_groups(frame[score_col], 4, tiebreak=tb) == "A").to_numpy()
    masks = res.node_masks(frame)
    rows = []
    for node in ids:
        m = masks[node]
        n = int(m.sum())
        sv = splits.get(node)
        rows.append({
            "node_id": node, "parent": parent[node], "depth": depth[node],
            "condition": cond[node], "rule": _rule(paths[node]), "n": n,
            "share": n / max(len(frame), 1),
            "mean_score": float(y[m].mean()) if n else float("nan"),
            "median_score": float(np.median(y[m])) if n else float("nan"),
            "share_A": float(is_a[m].mean()) if n else float("nan"),
            "is_leaf": sv is None,
            "split_variable": sv[0].variable if sv else None,
            "threshold": sv[0].threshold if sv and sv[0].kind == "numeric" else np.nan,
            "split_right": (None if not sv
                            else f"≥ {fmt_measure(sv[0].threshold, sv[0].variable)}"
                            if sv[0].kind == "numeric" else ", ".join(sorted(sv[0].right or ()))),
            "left": sv[1] if sv else -1, "right": sv[2] if sv else -1,
        })
    res.nodes = pd.DataFrame(rows)
    res.nodes.attrs["n_missing_score"] = n_missing_score
    return res


def root_candidates(table: pd.DataFrame, variables: Sequence[str], kinds: Mapping[str, str],
                    tree_params: Any, seed: int = 0,
                    fitted: dict[str | None, Any] | None = None) -> pd.DataFrame:
    """Try the tree with each categorical / boolean variable forced as the first split (and
    unforced): leaves, smallest leaf and the share of score variance explained, so the
    analyst sees how much the root shapes the tree. ``fitted`` (root -> tree, None =
    unforced) receives every tree fitted here, for reuse by the caller.

    Parameters
    ----------
    table
        The analysis table.
    variables, kinds
        The variables the tree may split on and their kinds.
    tree_params
        The tree parameters (``analysis.tree``).
    seed
        The tree's seed.
    fitted
        A cache: root -> fitted tree (filled here).

    Returns
    -------
    pandas.DataFrame
        One row per root (the ``tree_roots`` table), best variance explained first.
    """
    score = pd.to_numeric(table["score"], errors="coerce")
    total = float(((score - score.mean()) ** 2).sum()) or 1.0
    roots: list[str | None] = [None] + [v for v in variables if kinds.get(v) != "numeric"]

    def row(root: str | None) -> dict[str, Any]:
        try:
            res = fit_tree(table, list(variables), dict(kinds), tree_params, forced_root=root,
                           seed=seed)
        except Exception as exc:  # noqa: BLE001 - report the root as unusable, keep the others
            return {"root": root or "(best split)", "leaves": 0, "smallest_leaf": 0,
                    "variance_explained": np.nan, "first_split": "", "note": str(exc)}
        if fitted is not None:
            fitted[root] = res
        pred = res.predict(table)
        sse = float(((score - pred) ** 2).sum())
        leaves = res.nodes[res.nodes["is_leaf"]]
        first = res.nodes.loc[res.nodes["depth"] == 1, "condition"].astype(str).tolist()
        return {"root": root or "(best split)", "leaves": int(len(leaves)),
                "smallest_leaf": int(leaves["n"].min()), "variance_explained": 1 - sse / total,
                "first_split": " | ".join(first), "note": ""}

    rows = ordered_map(row, roots, desc="trees per root")  # side by side (helpers.core.parallel)
    return pd.DataFrame(rows).sort_values("variance_explained", ascending=False, kind="stable",
                                          na_position="last").reset_index(drop=True)

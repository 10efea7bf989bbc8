"""Step 4a: regression of the quality score (or its rank) with backward elimination.

OLS (statsmodels) with HC3 robust errors. The target is ``params.target``: ``score`` or
``rank`` (the percentile rank of the score, 0-100, higher = better). Numeric variables that are
non-negative and skewed beyond ``params.log_skew`` enter as ``log(1 + x)``; a ``thresholds``
mapping (e.g. from the tree) turns a variable into the indicator "x ≥ c". Categorical variables
enter as dummies against their most frequent category (rare ones merged into 'other') and
enter / leave as one group (joint Wald test on the robust covariance).

The path, every step recorded in ``steps`` (step, action, variable, p_value, vif, reason):
1. complete cases on the candidate variables (the dropped count is a step, never silent);
2. constant and perfectly collinear terms are removed (reason names the columns involved);
3. while the highest VIF exceeds ``vif_max``: drop that variable (VIF from
   ``variance_inflation_factor`` on the design WITH the constant; a categorical's VIF is the
   largest of its dummies);
4. while the least significant variable has p > ``alpha``: drop it and refit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import linalg
from statsmodels.stats.outliers_influence import variance_inflation_factor

from helpers.analyse.profiling import (
    MISSING_LABEL,
    as_labels,
    fmt_measure,
    kinds_map,
    merge_sparse,
    words,
)
from helpers.core.errors import AnalysisError, InputDataError
from helpers.core.parallel import ordered_map
from helpers.core.params import Regression, Tree

STEP_COLUMNS = ["step", "action", "variable", "p_value", "vif", "reason"]
COEF_COLUMNS = ["term", "variable", "coef", "se", "p", "ci_low", "ci_high"]


@dataclass
class Design:
    """A design matrix (with constant) and which columns belong to which variable."""

    X: pd.DataFrame
    y: pd.Series
    groups: dict[str, list[str]]
    labels: dict[str, str]
    n_dropped: int
    dropped_by: dict[str, int]


@dataclass
class RegressionResult:
    """The outcome of ``backward_eliminate``."""

    steps: pd.DataFrame
    coefs: pd.DataFrame
    fit: Any
    variables: list[str]
    target: str
    n: int
    n_dropped: int
    terms: dict[str, str] = field(default_factory=dict)
    group: str | None = None

    @property
    def kept(self) -> list[str]:
        """The core variables left after elimination."""
        return list(self.variables)

    def summary(self) -> str:
        head = (f"OLS of {self.target}" + (f" ({self.group})" if self.group else "")
                + f", {getattr(self.fit, 'cov_type', 'HC3')} errors, n = {self.n:,}"
                + (f" ({self.n_dropped:,} rows dropped for missing values)"
                   if self.n_dropped else ""))
        if self.fit is None:
            return head + ": no variable left"
        lines = [head + f", adj. R² = {self.fit.rsquared_adj:.3f}, AIC = {self.fit.aic:,.1f}"]
        for _, r in self.coefs.iterrows():
            lines.append(f"  {r['term']}: {r['coef']:+.4g} (SE {r['se']:.3g}, p = {r['p']:.3g})")
        lines.append("Path:")
        for _, r in self.steps.iterrows():
            lines.append(f"  {r['step']}. {r['action']} {r['variable'] or ''}: {r['reason']}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- design
def target_of(table: pd.DataFrame, target: str, score_col: str = "score") -> pd.Series:
    """The regression target: the score, or its percentile rank 0-100 (higher = better)."""
    s = pd.to_numeric(table[score_col], errors="coerce")
    if target == "rank":
        return (s.rank(method="average", pct=True) * 100).rename("score_pct_rank")
    return s.rename(score_col)


def build_design(table: pd.DataFrame, variables: Sequence[str],
                 kinds: Mapping[str, str] | Sequence[str], params: Regression | None = None,
                 score_col: str = "score", thresholds: Mapping[str, float] | None = None,
                 min_category_size: int = Tree().min_category_size) -> Design:
    """Complete-case design matrix with a constant, one column group per variable."""
    params = params or Regression()
    variables = list(variables)
    km = kinds_map(variables, kinds)
    absent = [v for v in [*variables, score_col] if v not in table.columns]
    if absent:
        raise InputDataError("regression: column(s) missing from the table", column=absent[0],
                             hint="pass variables that exist in the analysis table")
    thresholds = dict(thresholds or {})
    y_all = target_of(table, params.target, score_col)
    raw: dict[str, pd.Series] = {}
    for v in variables:
        raw[v] = (pd.to_numeric(table[v], errors="coerce") if km[v] == "numeric"
                  else as_labels(table[v], km[v]))
    miss = pd.DataFrame({v: raw[v].isna() for v in variables}, index=table.index)
    miss["__y"] = y_all.isna()
    keep = ~miss.any(axis=1)
    dropped_by = {v: int(miss[v].sum()) for v in variables if miss[v].any()}
    if miss["__y"].any():
        dropped_by[score_col] = int(miss["__y"].sum())
    cols: dict[str, pd.Series] = {}
    groups: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for v in variables:
        x = raw[v][keep]
        if km[v] == "numeric":
            if v in thresholds:
                name = f"{words(v)} ≥ {fmt_measure(thresholds[v], v)}"
                cols[name] = (x >= thresholds[v]).astype(float)
            elif (params.log_skew is not None and len(x) > 2 and (x >= 0).all()
                  and float(x.skew()) > params.log_skew):
                name = f"log(1 + {words(v)})"
                cols[name] = np.log1p(x.astype(float))
            else:
                name = words(v)
                cols[name] = x.astype(float)
            groups[v], labels[v] = [name], name
        else:
            lab, _ = merge_sparse(x.fillna(MISSING_LABEL), min_category_size)
            counts = lab.value_counts()
            ref = sorted(counts.index[counts == counts.max()].astype(str))[0]
            names = []
            for c in sorted(set(pd.unique(lab.astype(str))) - {ref}):  # C, not a str loop
                name = f"{words(v)} = {c}"
                cols[name] = (lab == c).astype(float)
                names.append(name)
            groups[v], labels[v] = names, f"{words(v)} (vs {ref})"
    X = pd.DataFrame(cols, index=table.index[keep])
    X.insert(0, "const", 1.0)
    return Design(X=X, y=y_all[keep].astype(float), groups=groups, labels=labels,
                  n_dropped=int((~keep).sum()), dropped_by=dropped_by)


# --------------------------------------------------------------------------- diagnostics
def vif(X: pd.DataFrame) -> pd.Series:
    """Variance inflation factors of every column but the constant.

    ``X`` must contain the constant (added here when absent): statsmodels'
    ``variance_inflation_factor`` gives wrong values on a design without it.
    """
    Xc = X if "const" in X.columns else X.assign(const=1.0)[["const", *X.columns]]
    arr = Xc.to_numpy(dtype=float)
    fast = _vif_from_correlation(arr, [c != "const" for c in Xc.columns])
    if fast is not None:
        return pd.Series(dict(zip([c for c in Xc.columns if c != "const"], fast, strict=True)),
                         name="vif", dtype=float)
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for i, c in enumerate(Xc.columns):
            if c == "const":
                continue
            out[c] = float(variance_inflation_factor(arr, i))
    return pd.Series(out, name="vif", dtype=float)


def _vif_from_correlation(arr: np.ndarray, keep: list[bool],
                          max_condition: float = 1e10) -> np.ndarray | None:
    """VIFs of the ``keep`` columns of a design with a constant, in one pass: the diagonal of
    the inverse correlation matrix (the same 1 / (1 - R^2_j) as statsmodels' per-column OLS,
    O(n p^2) once instead of p regressions). None when a column is constant or the matrix is
    near-singular, so the caller falls back to statsmodels' values for those edge cases."""
    x = arr[:, np.asarray(keep, dtype=bool)]
    if x.shape[1] == 0 or x.shape[0] < 3:
        return None
    xc = x - x.mean(axis=0)
    ss = np.einsum("ij,ij->j", xc, xc)
    if (ss <= 0).any():
        return None
    z = xc / np.sqrt(ss)
    corr = z.T @ z
    if x.shape[1] == 1:
        return np.ones(1)
    if not np.isfinite(corr).all() or np.linalg.cond(corr) > max_condition:
        return None
    return np.diag(np.linalg.inv(corr)).copy()


def _collinear(X: pd.DataFrame, tol: float = 1e-9) -> list[tuple[str, list[str]]]:
    """Columns that are exact linear combinations of others: (column, the columns involved)."""
    arr = X.to_numpy(dtype=float)
    scale = np.where(arr.std(axis=0) > 0, np.abs(arr).max(axis=0), 1.0)
    a = arr / np.where(scale > 0, scale, 1.0)
    _, r, piv = linalg.qr(a, mode="economic", pivoting=True)
    d = np.abs(np.diag(r))
    rank = int((d > tol * max(d[0], 1e-300)).sum()) if d.size else 0
    out = []
    if rank < a.shape[1]:
        basis = piv[:rank]
        for j in piv[rank:]:
            coef, *_ = np.linalg.lstsq(a[:, basis], a[:, j], rcond=None)
            involved = [X.columns[basis[i]] for i in np.flatnonzero(np.abs(coef) > 1e-6)
                        if X.columns[basis[i]] != "const"]
            out.append((X.columns[j], involved))
    return out


def _ols(y: pd.Series, X: pd.DataFrame) -> Any:
    """OLS with HC3 errors; HC1 where HC3 is undefined.

    HC3 divides each residual by ``1 - h`` (its leverage): an account that alone carries a
    dummy column (a category of one account) has ``h = 1`` and makes the covariance NaN, and
    statsmodels' Wald test then raises. HC1 needs no leverage and stays robust to
    heteroscedasticity, so the fit falls back to it for that design.
    """
    fit = sm.OLS(y, X).fit(cov_type="HC3")
    if not np.isfinite(np.asarray(fit.cov_params())).all():
        fit = sm.OLS(y, X).fit(cov_type="HC1")
    return fit


def _joint_p(fit: Any, cols: list[str]) -> float:
    """p-value of the joint Wald test that all ``cols`` are zero (robust covariance)."""
    names = list(fit.params.index)
    if len(cols) == 1:
        return float(fit.pvalues[cols[0]])
    R = np.zeros((len(cols), len(names)))
    for i, c in enumerate(cols):
        R[i, names.index(c)] = 1.0
    return float(fit.wald_test(R, scalar=True, use_f=True).pvalue)


def _coefs(fit: Any, groups: dict[str, list[str]]) -> pd.DataFrame:
    ci = fit.conf_int()
    owner = {c: v for v, cs in groups.items() for c in cs}
    return pd.DataFrame({
        "term": fit.params.index, "variable": [owner.get(t, "") for t in fit.params.index],
        "coef": fit.params.to_numpy(), "se": fit.bse.to_numpy(), "p": fit.pvalues.to_numpy(),
        "ci_low": ci.iloc[:, 0].to_numpy(), "ci_high": ci.iloc[:, 1].to_numpy()})


# --------------------------------------------------------------------------- elimination
Event = tuple[str, str | None, str, float, float]  # action, variable, reason, p, vif


def _event(action: str, variable: str | None, reason: str, p: float = np.nan,
           v: float = np.nan) -> Event:
    """One step of the elimination path (numbered when the steps table is built)."""
    return (action, variable, reason, p, v)


def _drop_constant(X: pd.DataFrame, groups: dict[str, list[str]]
                   ) -> tuple[pd.DataFrame, dict[str, list[str]], list[Event]]:
    """Remove columns without variation; a variable none of whose columns varies is dropped."""
    groups, events = dict(groups), []
    for v in list(groups):
        cols = [c for c in groups[v] if X[c].std() > 0]
        if not cols:
            events.append(_event("drop", v, "constant in the complete cases (no variation)"))
            X = X.drop(columns=groups.pop(v))
        elif len(cols) < len(groups[v]):
            X = X.drop(columns=[c for c in groups[v] if c not in cols])
            groups[v] = cols
    return X, groups, events


def _drop_collinear(X: pd.DataFrame, groups: dict[str, list[str]]
                    ) -> tuple[pd.DataFrame, dict[str, list[str]], list[Event]]:
    """Drop variables while the design is perfectly collinear (reason names the others)."""
    groups, events = dict(groups), []
    while True:
        owner = {c: v for v, cs in groups.items() for c in cs}
        bad = _collinear(X)
        if not bad:
            break
        col, involved = bad[0]
        v = owner[col]
        others = sorted({owner.get(c, c) for c in involved} - {v})
        events.append(_event("drop", v, "perfectly collinear with "
                             + (", ".join(others) or "the constant")))
        X = X.drop(columns=groups.pop(v))
    return X, groups, events


def _prune_vif(X: pd.DataFrame, groups: dict[str, list[str]], vif_max: float
               ) -> tuple[pd.DataFrame, dict[str, list[str]], list[Event]]:
    """Drop the variable with the highest VIF while it exceeds ``vif_max``."""
    groups, events = dict(groups), []
    while len(groups) > 1:
        vifs = vif(X)
        per_var = pd.Series({v: vifs[cs].max() for v, cs in groups.items()})
        worst = per_var.idxmax()
        if not per_var[worst] > vif_max:
            break
        owner = {c: v for v, cs in groups.items() for c in cs}
        others = [c for c in X.columns if c != "const" and owner.get(c) != worst]
        corr = X[others].corrwith(X[groups[worst][0]]).abs() if others else pd.Series(dtype=float)
        partner = owner.get(corr.idxmax(), "the others") if corr.notna().any() else "the others"
        events.append(_event("drop", worst, f"VIF {per_var[worst]:.1f} above "
                             f"{fmt_measure(vif_max)} (collinear with {partner})",
                             v=float(per_var[worst])))
        X = X.drop(columns=groups.pop(worst))
    return X, groups, events


def _eliminate(y: pd.Series, X: pd.DataFrame, groups: dict[str, list[str]], alpha: float
               ) -> tuple[pd.DataFrame, dict[str, list[str]], Any, list[Event]]:
    """Drop the least significant variable while its p exceeds ``alpha``; the final fit."""
    groups, events = dict(groups), []
    fit = None
    while groups:
        fit = _ols(y, X)
        pv = pd.Series({v: _joint_p(fit, cs) for v, cs in groups.items()})
        worst = pv.sort_values(ascending=False, kind="stable").index[0]
        if not pv[worst] > alpha:
            break
        kind = "joint Wald test" if len(groups[worst]) > 1 else "robust t-test"
        events.append(_event("drop", worst, f"not significant (p = {pv[worst]:.3g} > "
                             f"{alpha:g}, {kind})", p=float(pv[worst])))
        X = X.drop(columns=groups.pop(worst))
        fit = None
    if groups and fit is None:
        fit = _ols(y, X)
    return X, groups, fit, events


def _kept(fit: Any, X: pd.DataFrame, groups: dict[str, list[str]]
          ) -> tuple[pd.DataFrame, list[Event]]:
    """The coefficients and one "keep" step per variable left (or a "stop" step if none)."""
    if not groups:
        return (pd.DataFrame(columns=COEF_COLUMNS),
                [_event("stop", None, "no variable left: none is significant")])
    vifs = vif(X) if len(X.columns) > 2 else pd.Series(1.0, index=X.columns[1:])
    events = [_event("keep", v, "significant and not collinear", p=_joint_p(fit, cs),
                     v=float(vifs[cs].max())) for v, cs in groups.items()]
    coefs = _coefs(fit, groups)
    # the fit keeps its statistics, not its data: the design matrix, residuals and
    # pseudo-inverse are ~3 x n x terms floats (hundreds of MB at 1M accounts)
    _ = fit.rsquared_adj, fit.aic
    fit.remove_data()
    return coefs, events


def backward_eliminate(table: pd.DataFrame, variables: Sequence[str],
                       kinds: Mapping[str, str] | Sequence[str], params: Regression | None = None,
                       score_col: str = "score", thresholds: Mapping[str, float] | None = None,
                       group: str | None = None, min_accounts: int = 30) -> RegressionResult:
    """VIF pruning then backward elimination (see the module docstring); every step recorded."""
    params = params or Regression()
    d = build_design(table, variables, kinds, params, score_col, thresholds)
    events: list[Event] = []
    if d.n_dropped:
        detail = ", ".join(f"{k}: {n}" for k, n in d.dropped_by.items())
        events.append(_event("complete cases", None, f"dropped {d.n_dropped:,} of "
                             f"{len(table):,} rows with a missing value ({detail})"))
    n = len(d.y)
    if n < min_accounts:
        raise AnalysisError(f"regression{f' ({group})' if group else ''}: only {n} complete "
                            f"accounts (fewer than {min_accounts}); collect more data or use "
                            "fewer variables")
    groups = {v: list(cs) for v, cs in d.groups.items()}
    X, groups, ev = _drop_constant(d.X, groups)
    events += ev
    X, groups, ev = _drop_collinear(X, groups)
    events += ev
    X, groups, ev = _prune_vif(X, groups, params.vif_max)
    events += ev
    X, groups, fit, ev = _eliminate(d.y, X, groups, params.alpha)
    events += ev
    coefs, ev = _kept(fit, X, groups)
    events += ev
    steps = pd.DataFrame([{"step": i, "action": a, "variable": var, "p_value": p, "vif": v,
                           "reason": r} for i, (a, var, r, p, v) in enumerate(events, 1)],
                         columns=STEP_COLUMNS)
    return RegressionResult(steps=steps, coefs=coefs, fit=fit, variables=list(groups),
                            target=params.target, n=n, n_dropped=d.n_dropped,
                            terms={v: d.labels[v] for v in groups}, group=group)


# --------------------------------------------------------------------------- split fits
@dataclass
class SplitResult:
    """Per-group fits, the pooled fit and the pooled-vs-interaction-vs-split comparison."""

    by: str
    groups: dict[str, RegressionResult]
    pooled: RegressionResult
    comparison: pd.DataFrame
    interaction_f: float
    interaction_p: float
    split_worth_it: bool
    verdict: str

    @property
    def kept(self) -> list[str]:
        """Variables kept in the pooled fit or in any group."""
        out = list(self.pooled.variables)
        for r in self.groups.values():
            out += [v for v in r.variables if v not in out]
        return out

    def summary(self) -> str:
        parts = [self.verdict, "", "Pooled: " + self.pooled.summary()]
        for g, r in self.groups.items():
            parts += ["", f"{g}: " + r.summary()]
        return "\n".join(parts)


def tree_thresholds(tree: Any) -> dict[str, dict[str, float]]:
    """Thresholds per branch of a tree with a categorical root (e.g. a forced root).

    For each root branch that holds a single known category (accounts with the value missing
    may ride along): the first threshold of every numeric
    variable split on inside that branch, e.g. ``{"B2B": {"employees": 500}, "B2C": {...}}``.
    """
    if 0 not in tree.splits or tree.splits[0][0].kind != "categorical":
        return {}
    root, left, right = tree.splits[0]
    out: dict[str, dict[str, float]] = {}
    for child, is_right in ((left, False), (right, True)):
        side = sorted(root.right or ()) if is_right else [c for c in root.categories
                                                          if c not in (root.right or ())]
        side = [c for c in side if c != MISSING_LABEL]  # "B2B or unknown" is the B2B branch
        if len(side) != 1:
            continue
        found: dict[str, float] = {}
        queue = [child]
        while queue:
            node = queue.pop(0)
            if node in tree.splits:
                sp, lft, rgt = tree.splits[node]
                if sp.kind == "numeric" and sp.variable not in found:
                    found[sp.variable] = float(sp.threshold)
                queue += [lft, rgt]
        out[side[0]] = found
    return out


def _split_groups(table: pd.DataFrame, labels: pd.Series,
                  min_accounts: int) -> list[tuple[str, pd.DataFrame]]:
    """The groups of ``labels`` (sorted) with at least ``min_accounts`` rows, with their rows."""
    groups = []
    for g in sorted(labels.dropna().unique()):
        sub = table[(labels == g).fillna(False).to_numpy(dtype=bool)]
        if len(sub) >= min_accounts:
            groups.append((str(g), sub))
    return groups


def _nested_designs(table: pd.DataFrame, labels: pd.Series, by: str, union: list[str],
                    km: dict[str, str], params: Regression, score_col: str,
                    thresholds: dict[str, float], gthr: dict[str, dict[str, float]],
                    fitted: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """The pooled design (common slopes + group dummies) and the interaction design that
    nests it (slope × group terms, group-specific threshold indicators), on the complete-case
    rows of the ``fitted`` groups: ``(Xp, Xi, y, group label per row)``."""
    d = build_design(table, [*union, by], {**km, by: "categorical"}, params, score_col,
                     thresholds)
    rows_in = labels.loc[d.y.index].isin(fitted).to_numpy(dtype=bool)
    Xp, y = d.X[rows_in], d.y[rows_in]
    varying = [c for c in Xp.columns if c != "const" and Xp[c].std() > 0]
    Xp = Xp.loc[:, Xp.std() > 0].assign(const=1.0)[["const", *varying]]
    lab_rows = labels.loc[y.index].astype(str)
    group_cols = [c for c in d.groups[by] if c in Xp.columns]
    slope_cols = [c for v in union for c in d.groups[v] if c in Xp.columns]
    inter = {f"{c} × {gc.split(' = ', 1)[1]}": Xp[c] * Xp[gc]
             for c in slope_cols for gc in group_cols}
    for g, tg in gthr.items():
        for v, cut in tg.items():
            if v in union and km.get(v) == "numeric" and g in fitted:
                x = pd.to_numeric(table.loc[y.index, v], errors="coerce")
                inter[f"{words(v)} ≥ {fmt_measure(cut, v)} × {g}"] = (
                    (x >= cut) & (lab_rows == g)).astype(float)
    Xi = pd.concat([Xp, pd.DataFrame(inter, index=Xp.index)], axis=1)
    for col, _ in _collinear(Xi):
        if col not in Xp.columns and col in Xi.columns:
            Xi = Xi.drop(columns=col)
    return Xp, Xi, y, lab_rows


def _model_row(model: str, fit: Any, f_test_p: float = np.nan) -> dict[str, Any]:
    """One row of the split comparison table for a fitted OLS model."""
    return {"model": model, "n": int(fit.nobs), "k": int(fit.df_model) + 1, "r2": fit.rsquared,
            "adj_r2": fit.rsquared_adj, "aic": fit.aic, "f_test_p": f_test_p}


def _separate_fit_rows(table: pd.DataFrame, y: pd.Series, lab_rows: pd.Series, by: str,
                       fitted: list[str], union: list[str], km: dict[str, str],
                       params: Regression, score_col: str, thresholds: dict[str, float],
                       gthr: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """One comparison row per separate group fit on the same rows as the nested models, then
    the "sum over groups" row (summed parameters and AIC)."""
    rows = []
    k_tot, aic_tot = 0, 0.0
    for g in fitted:
        m = (lab_rows == g).to_numpy(dtype=bool)
        dg = build_design(table.loc[y.index[m]], union, km, params, score_col,
                          {**thresholds, **gthr.get(g, {})})
        Xg = dg.X.loc[:, (dg.X.std() > 0) | (dg.X.columns == "const")]
        fg = sm.OLS(dg.y, Xg).fit()
        k_tot += int(fg.df_model) + 1
        aic_tot += float(fg.aic)
        rows.append({**_model_row(f"split: {words(by)} = {g}", fg), "n": int(m.sum())})
    rows.append({"model": "split (sum over groups)", "n": len(y), "k": k_tot, "r2": np.nan,
                 "adj_r2": np.nan, "aic": aic_tot, "f_test_p": np.nan})
    return rows


def _split_verdict(by: str, worth: bool, f_val: float, p_val: float, fi: Any, fp: Any) -> str:
    """The sentence saying whether the separate fits are worth it."""
    if worth:
        return (f"Separate fits by {words(by)} are worth it: group-specific terms improve the "
                f"fit (F = {f_val:.2f}, p = {p_val:.3g}; AIC {fi.aic:,.0f} vs pooled "
                f"{fp.aic:,.0f}).")
    return (f"Separate fits by {words(by)} add little: one pooled model with a group term "
            f"is enough (F = {f_val:.2f}, p = {p_val:.3g}; AIC {fi.aic:,.0f} vs "
            f"pooled {fp.aic:,.0f}).")


def split_regressions(table: pd.DataFrame, variables: Sequence[str],
                      kinds: Mapping[str, str] | Sequence[str], by: str | None = None,
                      params: Regression | None = None, score_col: str = "score",
                      thresholds: Mapping[str, float] | None = None,
                      group_thresholds: Mapping[str, Mapping[str, float]] | None = None,
                      min_accounts: int = 30) -> SplitResult:
    """Backward elimination per group of ``by`` (default ``params.split_by``) and pooled, plus a
    comparison (adj. R², AIC, F-test) of the pooled model (common slopes + group dummy), the
    interaction model and the separate fits, on the same complete-case rows.

    ``thresholds`` (variable -> cut) applies to every fit; ``group_thresholds`` (group ->
    variable -> cut, e.g. from ``tree_thresholds`` of a tree with a forced root) to that group's
    fit, and enters the interaction model as group-specific indicators "x ≥ c_g". The interaction
    model contains the pooled model (nested), so the F-test asks whether anything group-specific
    adds to it. The split is called worth it when that F-test is significant at ``alpha`` and
    the interaction model's AIC is lower than the pooled one. The F-test uses classical (not
    HC3) errors.
    """
    params = params or Regression()
    by = by or params.split_by
    if by is None or by not in table.columns:
        raise InputDataError("split_regressions needs a grouping column", column=str(by),
                             hint="set params.analysis.regression.split_by to a categorical column")
    variables = [v for v in variables if v != by]
    km = kinds_map(variables, kinds)
    thresholds = dict(thresholds or {})
    gthr = {str(g): dict(t) for g, t in (group_thresholds or {}).items()}
    labels = as_labels(table[by], "categorical")
    groups = _split_groups(table, labels, min_accounts)

    def fit(item: tuple[str, pd.DataFrame] | None) -> RegressionResult:
        if item is None:  # the pooled model
            return backward_eliminate(table, [*variables, by], {**km, by: "categorical"},
                                      params, score_col, thresholds, min_accounts=min_accounts)
        g, sub = item
        return backward_eliminate(sub, variables, km, params, score_col,
                                  {**thresholds, **gthr.get(g, {})},
                                  group=f"{words(by)} = {g}", min_accounts=min_accounts)

    if len(groups) < 2:
        raise AnalysisError(f"split by {by}: fewer than two groups with {min_accounts}+ accounts")
    # the group fits and the pooled fit are independent: side by side (helpers.core.parallel)
    *fits, pooled = ordered_map(fit, [*groups, None])
    results: dict[str, RegressionResult] = {g: r for (g, _), r in zip(groups, fits, strict=True)}
    union = [v for v in variables if any(v in r.variables for r in results.values())]
    if not union:
        union = [v for v in variables if v in pooled.variables]
    Xp, Xi, y, lab_rows = _nested_designs(table, labels, by, union, km, params, score_col,
                                          thresholds, gthr, list(results))
    fp = sm.OLS(y, Xp).fit()
    fi = sm.OLS(y, Xi).fit()
    f_val, p_val, _ = fi.compare_f_test(fp)
    comp = pd.DataFrame([
        _model_row("pooled (common slopes + group)", fp),
        _model_row("interaction (group-specific terms)", fi, float(p_val)),
        *_separate_fit_rows(table, y, lab_rows, by, list(results), union, km, params,
                            score_col, thresholds, gthr),
    ])
    comp.attrs["variables"] = union
    comp.attrs["n_missing_group"] = int(labels.isna().sum())
    worth = bool(p_val < params.alpha and fi.aic < fp.aic)
    return SplitResult(by=by, groups=results, pooled=pooled, comparison=comp,
                       interaction_f=float(f_val), interaction_p=float(p_val),
                       split_worth_it=worth,
                       verdict=_split_verdict(by, worth, f_val, p_val, fi, fp))


def _fits(reg: Any, split: Any) -> list[tuple[str, Any]]:
    fits = [("all accounts", reg)]
    if split is not None:
        fits += [(f"{split.by} = {g}", r) for g, r in split.groups.items()]
    return fits


def regression_steps(reg: Any, split: Any = None) -> pd.DataFrame:
    """Every elimination step of the pooled fit and of each sub-population fit (``fit``).

    Parameters
    ----------
    reg
        The pooled fit (:class:`RegressionResult`).
    split
        The split fits (:class:`SplitResult`), or None.

    Returns
    -------
    pandas.DataFrame
        The ``regression_steps`` table.
    """
    frames = [r.steps.assign(fit=name) for name, r in _fits(reg, split)]
    return pd.concat(frames, ignore_index=True)


def regression_coefs(reg: Any, split: Any = None) -> pd.DataFrame:
    """Final coefficients of the pooled fit and of each sub-population fit, with fit stats.

    Parameters
    ----------
    reg
        The pooled fit (:class:`RegressionResult`).
    split
        The split fits (:class:`SplitResult`), or None.

    Returns
    -------
    pandas.DataFrame
        The ``regression_coefs`` table (``fit``, ``n``, ``adj_r2``, ``target`` per row).
    """
    frames = []
    for name, r in _fits(reg, split):
        c = r.coefs.copy()
        c["fit"] = name
        c["n"] = r.n
        c["adj_r2"] = float(r.fit.rsquared_adj) if r.fit is not None else np.nan
        c["target"] = r.target
        frames.append(c)
    return pd.concat(frames, ignore_index=True)


def empty_comparison() -> pd.DataFrame:
    """The ``regression_comparison`` table when there is no split regression (no rows)."""
    return pd.DataFrame(columns=["model", "n", "k", "r2", "adj_r2", "aic", "f_test_p"])

"""Method Step 1, quality score: an objective number ranking accounts from bad to great.

A proxy for the net present value of lifetime profit (every weight from ``params.Score``)::

    ACV            = 12 x MRR                                  (current and former customers)
    c_acv          = acv_weight x ACV
    c_tickets      = - tickets x cost_per_ticket               } cost to serve
    c_success      = - success_hours x success_hour_cost       }
    c_acquisition  = - acquisition_cost x acquisition_cost_weight / acquisition_amortisation_years
    growth_rate    = clip(mrr / mrr_prev - 1, -growth_cap, +growth_cap)   (0 without mrr_prev)
    c_growth       = growth_bonus_weight x ACV x growth_rate
    c_churn        = - churn_penalty           if status == former
    c_large_logo   = + large_logo_bonus        if employees >= large_logo_min_employees
    score          = sum of the c_* columns

Ranking: ``score_rank`` 1 = best, ties broken by account_id (ascending); ``score_pct`` =
percentile rank (average of ties, 1.0 = best); ``quartile`` A (best) - D, or D1 (best) - D10
when ``quantiles == 10``, cut on the tie-broken rank by arithmetic (bucket =
floor((rank - 1) x q / n)), so heavy ties never break it and bucket sizes differ by <= 1.

:func:`quality_score` stores the prepared inputs (``acv``, ``tickets``, ``success_hours_used``,
``acquisition_cost_used``, ``growth_raw``, ``is_former``, ``employees_used``,
``account_order``) so :func:`rescore` recomputes any weights without re-reading anything.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.core.params import Score

COMPONENTS: dict[str, str] = {
    "c_acv": "contract value",
    "c_tickets": "support tickets",
    "c_success": "success-team time",
    "c_acquisition": "acquisition cost",
    "c_growth": "growth bonus",
    "c_churn": "churn penalty",
    "c_large_logo": "large-logo bonus",
}
INPUTS = ("acv", "tickets", "success_hours_used", "acquisition_cost_used", "growth_raw",
          "is_former", "employees_used", "account_order")
RANK_COLUMNS = ("score", "score_rank", "score_pct", "quartile")


def quantile_labels(q: int) -> list[str]:
    """Bucket labels, best first: A-D for quartiles, D1-D10 for deciles (the one definition;
    Step 4's score groups use it too).

    Parameters
    ----------
    q : int
        4 (quartiles) or 10 (deciles).

    Returns
    -------
    list[str]
        The labels, best first.
    """
    if q == 4:
        return list("ABCD")
    if q == 10:
        return [f"D{i}" for i in range(1, 11)]
    raise ValueError(f"quantiles must be 4 (quartiles) or 10 (deciles), got {q}")


def _component(accounts: pd.DataFrame, name: str, label: str, ids: pd.Series,
               warnings: list[str]) -> np.ndarray:
    """One numeric score input, missing values as 0 (warned, with the accounts)."""
    n = len(accounts)
    if name not in accounts:
        warnings.append(f"score: no {name} column; the {label} component is 0 for every "
                        "account")
        return np.zeros(n)
    v = pd.to_numeric(accounts[name], errors="coerce").astype("float64")
    miss = v.isna()
    if miss.any() and miss.sum() < n:
        warnings.append(f"score: {int(miss.sum())} account(s) without {name}; their "
                        f"{label} component is 0: {', '.join(ids[miss].head(10))}")
    elif miss.all() and n:
        warnings.append(f"score: {name} is empty; the {label} component is 0 for every "
                        "account")
    return v.fillna(0.0).to_numpy()


def _growth(accounts: pd.DataFrame, mrr: pd.Series, ids: pd.Series, warnings: list[str]
            ) -> tuple[pd.Series, pd.Series]:
    """MRR growth over mrr_prev (0 without a positive mrr_prev, warned) and that mask."""
    prev = (pd.to_numeric(accounts["mrr_prev"], errors="coerce").astype("float64")
            if "mrr_prev" in accounts else pd.Series(np.nan, index=accounts.index))
    no_prev = prev.isna() | (prev <= 0)
    if "mrr_prev" not in accounts:
        warnings.append("score: no mrr_prev column; growth bonus 0 for every account")
    elif no_prev.any():
        warnings.append(f"score: {int(no_prev.sum())} account(s) without a positive mrr_prev; "
                        f"growth rate 0 (flagged in growth_missing): "
                        f"{', '.join(ids[no_prev].head(10))}")
    return (mrr / prev.where(~no_prev) - 1.0).fillna(0.0), no_prev


def _prepare(accounts: pd.DataFrame, tickets: pd.DataFrame | None) -> tuple[pd.DataFrame,
                                                                            list[str]]:
    """The score's inputs per account, missing values as 0 contributions, plus warnings."""
    warnings: list[str] = []
    n = len(accounts)
    zeros = np.zeros(n)
    ids = accounts["account_id"].astype(str)

    def col(name: str, label: str) -> np.ndarray:
        return _component(accounts, name, label, ids, warnings)

    mrr = pd.to_numeric(accounts["mrr"], errors="coerce").astype("float64")
    if mrr.isna().any():
        warnings.append(f"score: {int(mrr.isna().sum())} account(s) without MRR scored with "
                        f"ACV 0: {', '.join(ids[mrr.isna()].head(10))}")
    if tickets is not None:
        t = tickets.astype({"account_id": str}).set_index("account_id")["tickets"]
        tick = ids.map(t).astype("float64").fillna(0.0).to_numpy()
    elif "tickets" in accounts:
        tick = col("tickets", "support tickets")
    else:
        warnings.append("score: no tickets given; the support-ticket component is 0")
        tick = zeros.copy()

    growth, no_prev = _growth(accounts, mrr, ids, warnings)
    status = accounts["status"].astype(str) if "status" in accounts else \
        pd.Series("current", index=accounts.index)
    if "status" not in accounts:
        warnings.append("score: no status column; no churn penalty applied")
    emp = pd.to_numeric(accounts["employees"], errors="coerce").astype("float64") \
        if "employees" in accounts else None
    if emp is None:
        warnings.append("score: no employees column; the large-logo bonus is 0")
    elif emp.isna().any():
        warnings.append(f"score: {int(emp.isna().sum())} account(s) without employees get no "
                        "large-logo bonus")
    order = np.empty(n, dtype="int64")
    order[np.argsort(ids.to_numpy(dtype=str), kind="stable")] = np.arange(n)
    inputs = pd.DataFrame({
        "acv": 12.0 * mrr.fillna(0.0).to_numpy(),
        "tickets": tick,
        "success_hours_used": col("success_hours", "success-team time"),
        "acquisition_cost_used": col("acquisition_cost", "acquisition cost"),
        "growth_raw": growth.to_numpy(),
        "growth_missing": no_prev.to_numpy(),
        "is_former": (status == "former").to_numpy(),
        "employees_used": (emp.fillna(-np.inf).to_numpy() if emp is not None
                           else np.full(n, -np.inf)),
        "account_order": order,
    }, index=accounts.index)
    return inputs, warnings


def _compute(inputs: pd.DataFrame, w: Score) -> pd.DataFrame:
    """Components, score, ranks and quantile labels from prepared inputs (all vectorised)."""
    acv = inputs["acv"].to_numpy()
    growth = np.clip(inputs["growth_raw"].to_numpy(), -w.growth_cap, w.growth_cap)
    comps = {
        "c_acv": w.acv_weight * acv,
        "c_tickets": -w.cost_per_ticket * inputs["tickets"].to_numpy(),
        "c_success": -w.success_hour_cost * inputs["success_hours_used"].to_numpy(),
        "c_acquisition": -(inputs["acquisition_cost_used"].to_numpy()
                           * w.acquisition_cost_weight / w.acquisition_amortisation_years),
        "c_growth": w.growth_bonus_weight * acv * growth,
        "c_churn": np.where(inputs["is_former"].to_numpy(dtype=bool), -w.churn_penalty, 0.0),
        "c_large_logo": np.where(inputs["employees_used"].to_numpy()
                                 >= w.large_logo_min_employees, w.large_logo_bonus, 0.0),
    }
    score = np.sum(np.vstack(list(comps.values())), axis=0) if len(acv) else np.zeros(0)
    n = len(score)
    order = np.lexsort((inputs["account_order"].to_numpy(), -score))  # best first
    rank = np.empty(n, dtype="int64")
    rank[order] = np.arange(1, n + 1)
    q = w.quantiles
    labels = quantile_labels(q)
    bucket = ((rank - 1) * q) // max(n, 1)
    out = pd.DataFrame(comps, index=inputs.index)
    out["growth_rate"] = growth
    out["score"] = score
    out["score_rank"] = rank
    out["score_pct"] = pd.Series(score, index=inputs.index).rank(method="average", pct=True)
    out["quartile"] = pd.Categorical.from_codes(bucket, categories=list(labels), ordered=True)
    return out


def quality_score(accounts: pd.DataFrame, weights: Score,
                  tickets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score the accounts given (pass the KEPT accounts): accounts + inputs + components.

    ``tickets``: a :func:`helpers.collect.sources.ticket_summary` table (``account_id, tickets``);
    without it an existing ``tickets`` column is used, else the component is 0. Missing
    optional inputs give a 0 component and a warning in ``attrs["warnings"]``. Output is in
    rank order (best first). The quantile column is named ``quartile`` for 4 and 10 buckets.

    Parameters
    ----------
    accounts : pd.DataFrame
        The kept accounts.
    weights : Score
        The ``score`` parameters.
    tickets : pd.DataFrame or None
        Per-account ticket counts, or None.

    Returns
    -------
    pd.DataFrame
        The accounts with the score inputs, components, ``score``, rank and bucket.
    """
    inputs, warnings = _prepare(accounts, tickets)
    if "excluded" in accounts and accounts["excluded"].astype(bool).any():
        warnings.append(f"score: {int(accounts['excluded'].astype(bool).sum())} excluded "
                        "account(s) were scored and ranked; pass the kept accounts only")
    base = accounts.drop(columns=[c for c in (*INPUTS, "growth_missing", "growth_rate",
                                              *COMPONENTS, *RANK_COLUMNS)
                                  if c in accounts.columns])
    res = _compute(inputs, weights)
    out = pd.concat([base, inputs, res], axis=1)
    out = out.sort_values("score_rank", kind="stable").reset_index(drop=True)
    out.attrs["warnings"] = warnings
    return out


def rescore(scored: pd.DataFrame, weights: Score) -> pd.DataFrame:
    """Recompute components, score, ranks and labels for new weights from the stored inputs
    of :func:`quality_score` (same rows and order as ``scored``; no re-reading, no re-sorting;
    ~10 ms at 100k accounts).

    Parameters
    ----------
    scored : pd.DataFrame
        A :func:`quality_score` table.
    weights : Score
        The new weights.

    Returns
    -------
    pd.DataFrame
        The accounts rescored, same rows and order.
    """
    res = _compute(scored[list(INPUTS)], weights)
    out = scored.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    for c in res.columns:
        out[c] = res[c]
    return out


def score_formula(weights: Score) -> str:
    """The score formula in words, with the weights filled in.

    Parameters
    ----------
    weights : Score
        The ``score`` parameters.

    Returns
    -------
    str
        The formula, one line per component.
    """
    w = weights
    cap = f"{w.growth_cap:.0%}"
    lines = [
        f"score = {w.acv_weight:g} x ACV (12 x MRR)",
        f"  - {w.cost_per_ticket:,.2f} per support ticket",
        f"  - {w.success_hour_cost:,.2f} per success-team hour",
        f"  - acquisition cost x {w.acquisition_cost_weight:g} / "
        f"{w.acquisition_amortisation_years:g} years",
        f"  + {w.growth_bonus_weight:g} x ACV x growth rate (MRR vs 12 months ago, capped at "
        f"+/-{cap})",
        f"  - {w.churn_penalty:,.0f} if a former customer",
        f"  + {w.large_logo_bonus:,.0f} if {w.large_logo_min_employees:,} or more employees",
    ]
    return "\n".join(lines)


def _why(frame: pd.DataFrame, k: int = 2) -> pd.Series:
    comps = list(COMPONENTS)
    vals = frame[comps].to_numpy(dtype="float64")
    idx = np.argsort(-np.abs(vals), axis=1, kind="stable")[:, :k]
    words = np.array([COMPONENTS[c] for c in comps])
    parts = []
    for j in range(idx.shape[1]):
        v = np.take_along_axis(vals, idx[:, [j]], axis=1)[:, 0]
        sign = np.where(v >= 0, "+", "-")
        amount = pd.Series(np.abs(v)).map("{:,.0f}".format).to_numpy()
        part = pd.Series(words[idx[:, j]]) + " (" + sign + amount + ")"
        parts.append(part.where(v != 0, ""))
    out = parts[0]
    for p in parts[1:]:
        out = out + np.where((out != "") & (p != ""), ", ", "") + p
    out = out.where(out != "", "all components zero")
    return pd.Series(out.to_numpy(), index=frame.index)


def top_bottom(scored: pd.DataFrame, n: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The n best and n worst accounts with a ``why`` column naming the two components with
    the largest absolute contribution (e.g. "contract value (+120,000), churn penalty
    (-5,000)").

    Parameters
    ----------
    scored : pd.DataFrame
        A scored table.
    n : int
        How many accounts each.

    Returns
    -------
    tuple[pd.DataFrame, pd.DataFrame]
        ``(top, bottom)``.
    """
    # only 2n rows are needed: order the rank column, not the whole (wide) frame
    order = np.argsort(scored["score_rank"].to_numpy(), kind="stable")
    keep = [c for c in ("account_id", "account_name", "score", "score_rank", "quartile",
                        "status", "mrr", *COMPONENTS) if c in scored.columns]
    n = max(int(n), 0)
    top = scored.iloc[order[:n]][keep].copy()
    bottom = scored.iloc[order[max(len(order) - n, 0):][::-1]][keep].copy()
    top["why"], bottom["why"] = _why(top), _why(bottom)
    return top.reset_index(drop=True), bottom.reset_index(drop=True)


def component_summary(scored: pd.DataFrame) -> pd.DataFrame:
    """Per component: words, total, mean, median, min, max, accounts with a non-zero value,
    share of the total absolute contribution, and the mean per quantile bucket.

    Parameters
    ----------
    scored : pd.DataFrame
        A scored table.

    Returns
    -------
    pd.DataFrame
        One row per component.
    """
    comps = list(COMPONENTS)
    vals = scored[comps]
    total_abs = float(vals.abs().to_numpy().sum()) or 1.0
    out = pd.DataFrame({
        "component": comps,
        "description": [COMPONENTS[c] for c in comps],
        "total": vals.sum().to_numpy(),
        "mean": vals.mean().to_numpy(),
        "median": vals.median().to_numpy(),
        "min": vals.min().to_numpy(),
        "max": vals.max().to_numpy(),
        "nonzero_accounts": (vals != 0).sum().to_numpy(),
        "share_of_abs": vals.abs().sum().to_numpy() / total_abs,
    })
    if "quartile" in scored:
        by_q = vals.groupby(scored["quartile"], observed=False).mean().T
        by_q.columns = [f"mean_{c}" for c in by_q.columns]
        out = pd.concat([out, by_q.reset_index(drop=True)], axis=1)
    return out

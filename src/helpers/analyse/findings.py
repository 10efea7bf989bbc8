"""Step 4's headline facts for the report (``findings.json``): recommended segments, the best
scheme out of sample, verdict counts, robustness sentences, and, when no scheme beats random,
the null result (the hypotheses tried, each test's power, what to collect next)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from helpers.core.params import Params


def beats_random(scheme_summary: pd.DataFrame) -> bool:
    """Whether any scheme finds top accounts better than random on accounts it never saw:
    an out-of-sample accuracy ratio whose bootstrap interval lies above 0 (the ratio itself
    when there is no interval). False when there is no scheme at all.

    Parameters
    ----------
    scheme_summary
        The ``scheme_summary`` table.

    Returns
    -------
    bool
        Whether a scheme beats random selection out of sample.
    """
    if scheme_summary is None or not len(scheme_summary) or "sample" not in scheme_summary:
        return False
    oos = scheme_summary[scheme_summary["sample"] == "out_of_sample"]
    col = "accuracy_ratio_ci_low" if "accuracy_ratio_ci_low" in oos.columns and \
        oos["accuracy_ratio_ci_low"].notna().any() else "accuracy_ratio"
    return bool((pd.to_numeric(oos[col], errors="coerce") > 0).any())


def accounts_for_power(n: float, power: float, target: float, alpha: float) -> float:
    """Accounts a test would need for ``target`` power, from its ``power`` at ``n`` accounts
    (normal approximation of :func:`helpers.analyse.profiling.delta_power`: the standard error falls
    with the square root of the accounts, group shares unchanged); NaN when not computable.

    Parameters
    ----------
    n
        Accounts the test had.
    power
        Its power at ``n`` accounts.
    target
        The power wanted (``analysis.min_power``).
    alpha
        The test's level.

    Returns
    -------
    float
        The accounts needed (rounded up), or NaN.
    """
    from scipy.stats import norm

    if not (np.isfinite(n) and np.isfinite(power)) or n <= 0:
        return float("nan")
    za = norm.ppf(1 - alpha / 2)
    now = za + norm.ppf(min(max(power, 1e-9), 1 - 1e-9))   # effect / standard error today
    if now <= 0.05:
        return float("nan")
    return float(np.ceil(n * ((za + norm.ppf(target)) / now) ** 2))


def null_result(verdict_table: pd.DataFrame, params: Params) -> dict[str, Any]:
    """What the report says when no scheme beats random: the hypotheses tried, the power each
    test had to detect an effect of ``min_effect``, and what to collect next (more accounts
    for an underpowered test, the missing values for a sparse one, new hypotheses in place of
    those ruled out with adequate power).

    Parameters
    ----------
    verdict_table
        The ``hypothesis_verdicts`` table (``n``, ``power``, ``reason``).
    params
        The run's parameters (``analysis.min_effect``, ``min_power``, ``bh_alpha``).

    Returns
    -------
    dict
        ``sentence``, ``hypotheses`` (one dict per hypothesis tried), ``next_steps``,
        ``min_effect`` and ``min_power``.
    """
    a = params.analysis
    v = verdict_table
    tried = v[~v["reason"].astype(str).str.startswith("not selected")]
    rows, steps = [], []
    for r in tried.itertuples():
        power = float(r.power) if pd.notna(r.power) else float("nan")
        need = (accounts_for_power(float(r.n), power, a.min_power, a.bh_alpha)
                if pd.notna(r.n) and power < a.min_power else float("nan"))
        name = f"{r.hypothesis_id} ({str(r.variable).replace('_', ' ')})"
        if not np.isfinite(power):
            nxt = f"collect {str(r.variable).replace('_', ' ')} for more accounts: {r.reason}"
        elif power >= a.min_power:
            nxt = ("ruled out: no effect of this size with adequate power; replace it with a new "
                   "hypothesis")
        elif np.isfinite(need):
            nxt = (f"about {need:,.0f} accounts with a value would give "
                   f"{a.min_power * 100:.0f} % power")
        else:
            nxt = "far more accounts would be needed to detect an effect of this size"
        rows.append({"hypothesis_id": str(r.hypothesis_id), "statement": str(r.statement),
                     "verdict": str(r.verdict), "n": int(r.n) if pd.notna(r.n) else None,
                     "power": power if np.isfinite(power) else None,
                     "accounts_needed": int(need) if np.isfinite(need) else None, "next": nxt})
        if power < a.min_power or not np.isfinite(power):
            steps.append(f"{name}: {nxt}.")
    n_tried = len(rows)
    sentence = (f"No segmentation scheme beats random selection: none of the {n_tried} "
                f"hypotheses tested showed an effect large enough to act on "
                f"(|Cliff's delta| of at least {a.min_effect}) that a prospect list can carry, so "
                "segments drawn from them would find top accounts no more often than picking "
                "accounts at random. This is a result, not a failure: it says what not to "
                "target on, and what to collect next.")
    if not steps:
        steps.append("Every hypothesis tested was ruled out with adequate power: list new "
                      "hypotheses (other lenses, other sources) for the next round.")
    return {"sentence": sentence, "hypotheses": rows, "next_steps": steps,
            "min_effect": a.min_effect, "min_power": a.min_power}


def findings(seg_out: pd.DataFrame, priorities: Any, scheme_summary: pd.DataFrame,
             verdict_table: pd.DataFrame, robust_sentences: Mapping[str, str],
             split: Any = None, params: Params | None = None) -> dict[str, Any]:
    """Headline facts of the analysis for the report (every number computed here); with no
    scheme beating random, ``null_result`` says so (:func:`null_result`).

    Parameters
    ----------
    seg_out
        The ``segments`` table (display names).
    priorities
        The prioritisation (:class:`helpers.analyse.segments.Prioritisation`).
    scheme_summary
        The ``scheme_summary`` table.
    verdict_table
        The ``hypothesis_verdicts`` table.
    robust_sentences
        The robustness sentences (weights, segments).
    split
        The split regression, if any (its verdict).
    params
        The run's parameters; None: no null result.

    Returns
    -------
    dict
        The facts of ``findings.json`` (without ``core_variables``, added by the pipeline).
    """
    rec = list(priorities.recommended)
    counts = verdict_table["verdict"].value_counts()
    oos = scheme_summary[scheme_summary["sample"] == "out_of_sample"]
    best = oos.sort_values("accuracy_ratio", ascending=False, kind="stable").head(1)
    null = (null_result(verdict_table, params)
            if params is not None and not beats_random(scheme_summary) else None)
    return {
        "beats_random": beats_random(scheme_summary),
        "null_result": null,
        "recommended": rec,
        "recommended_names": seg_out.set_index("segment").loc[rec, "name"].tolist() if rec else [],
        "coverage": float(priorities.coverage),
        "top_capture": float(priorities.top_capture),
        "feasible": bool(priorities.feasible),
        "prioritisation_message": priorities.message,
        "prioritisation_rule": priorities.rule,
        "validated": int(counts.get("validated", 0)),
        "rejected": int(counts.get("rejected", 0)),
        "inconclusive": int(counts.get("inconclusive", 0)),
        "best_scheme_out_of_sample": best["scheme"].iloc[0] if len(best) else None,
        "best_scheme_accuracy_ratio": float(best["accuracy_ratio"].iloc[0]) if len(best) else None,
        "robustness": dict(robust_sentences),
        "split_regression": split.verdict if split is not None else None,
    }

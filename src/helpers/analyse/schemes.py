"""Step 4b: the candidate segmentation schemes compared on gains (one per validated variable,
the tree, the regression and the synthesised composite), the 2-3 core variables the segments
rest on, and the in-sample decile lift table of every scheme."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from helpers.analyse.lift import (
    Scheme,
    column_scheme,
    decile_table,
    group_mean_scheme,
    model_scheme,
    top_label,
)
from helpers.analyse.regression import backward_eliminate, build_design
from helpers.analyse.segments import composite_scheme
from helpers.analyse.tested import kinds_of
from helpers.analyse.tree import fit_tree
from helpers.core.params import Params


def core_variables(verdicts: pd.DataFrame, regression_kept: Sequence[str] = (),
                   tree_variables: Sequence[str] = (), max_variables: int = 3,
                   observable: Sequence[str] | None = None) -> list[str]:
    """The 2-3 core segmentation variables.

    Candidates: variables with a real effect — validated, or significant with an effect
    against the expected direction (the hypothesis as stated is rejected, but the variable
    still separates good from bad customers) — that a prospect list can carry. Order: the
    tree's split order first (the tree shows the cut-offs stakeholders understand), then
    variables the regression kept, then absolute effect size; ties on the variable name.

    Parameters
    ----------
    verdicts
        The ``hypothesis_verdicts`` table.
    regression_kept
        Variables the regression kept.
    tree_variables
        The tree's split variables, in split order.
    max_variables
        How many to keep.
    observable
        Fields a prospect list carries (None: no restriction).

    Returns
    -------
    list of str
        At most ``max_variables`` variables, best first.
    """
    real = (verdicts["verdict"] == "validated") | \
        verdicts["reason"].astype(str).str.startswith("contradicts expected direction")
    v = verdicts[real].copy()
    if observable is not None:
        v = v[v["variable"].isin(set(observable))]
    if v.empty:
        return []
    tree_rank = {name: i for i, name in enumerate(tree_variables)}
    v["tree_rank"] = v["variable"].map(tree_rank).fillna(len(tree_rank)).astype(int)
    v["in_regression"] = v["variable"].isin(set(regression_kept))
    v["abs_effect"] = v["effect_size"].abs()
    v = v.sort_values(["tree_rank", "in_regression", "abs_effect", "variable"],
                      ascending=[True, False, False, True], kind="stable")
    return v["variable"].head(max_variables).tolist()


def variable_schemes(verdicts: pd.DataFrame, variables: Sequence[str] | None = None
                     ) -> list[Scheme]:
    """One single-variable scheme per validated hypothesis (among ``variables`` when given):
    numeric ranks by the value in the validated direction; categorical / boolean by the
    training mean score of each value.

    Parameters
    ----------
    verdicts
        The ``hypothesis_verdicts`` table (``kind``, ``direction``).
    variables
        Restrict to these variables (None: every validated one).

    Returns
    -------
    list of Scheme
        One scheme per validated variable, named after it.
    """
    out: list[Scheme] = []
    v = verdicts[verdicts["verdict"] == "validated"]
    if variables is not None:
        v = v[v["variable"].isin(set(variables))]
    for r in v.itertuples():
        if r.kind == "numeric":
            out.append(column_scheme(f"{r.variable}", r.variable,
                                     higher_is_better=(r.direction != "-")))
        else:
            out.append(group_mean_scheme(f"{r.variable}", [r.variable]))
    return out


def tree_scheme(variables: Sequence[str], kinds: Mapping[str, str], params: Params,
                forced_root: str | None = None) -> Scheme:
    """The segmentation tree as a scheme: refit on each training fold, score = leaf mean.

    Parameters
    ----------
    variables, kinds
        The variables the tree may split on and their kinds.
    params
        The run's parameters (``analysis.tree``, ``seed``).
    forced_root
        The variable of the first split (None: the best split).

    Returns
    -------
    Scheme
        The scheme ``tree``.
    """
    def fit(train: pd.DataFrame) -> Any:
        return fit_tree(train, list(variables), dict(kinds), params.analysis.tree,
                        forced_root=forced_root, seed=params.seed)

    return model_scheme("tree", fit, "segmentation tree (refit per fold)")


def regression_scheme(variables: Sequence[str], kinds: Mapping[str, str], params: Params) -> Scheme:
    """The regression's linear predictor as a scheme: backward elimination refit per fold.

    Parameters
    ----------
    variables, kinds
        The candidate variables and their kinds.
    params
        The run's parameters (``analysis.regression``, ``analysis.min_accounts``).

    Returns
    -------
    Scheme
        The scheme ``regression``.
    """
    class _Predictor:
        def __init__(self, train: pd.DataFrame) -> None:
            self.res = backward_eliminate(train, list(variables), dict(kinds),
                                          params.analysis.regression,
                                          min_accounts=params.analysis.min_accounts)
            self.fallback = 0.0

        def predict(self, frame: pd.DataFrame) -> pd.Series:
            res = self.res
            if res.fit is None or not res.kept:
                return pd.Series(self.fallback, index=frame.index)
            design = build_design(frame.assign(score=0.0), res.kept, dict(kinds),
                                  params.analysis.regression)
            X = design.X.reindex(columns=res.fit.model.exog_names, fill_value=0.0)
            pred = pd.Series(np.asarray(res.fit.predict(X)), index=X.index)
            # accounts with a missing value rank in the middle, never first or last
            return pred.reindex(frame.index).fillna(float(pred.median()) if len(pred) else 0.0)

    return model_scheme("regression", _Predictor, "OLS linear predictor (refit per fold)")


def candidate_schemes(verdicts: pd.DataFrame, tested: pd.DataFrame, params: Params,
                      core: Sequence[str], variables: Sequence[str]) -> list[Scheme]:
    """Single-variable schemes, the tree, the regression and the synthesised composite, all
    on the validated segmentation ``variables``.

    Parameters
    ----------
    verdicts
        The ``hypothesis_verdicts`` table.
    tested
        The tested hypotheses (their kinds).
    params
        The run's parameters.
    core
        The core variables (:func:`core_variables`); none: no composite scheme.
    variables
        The segmentation variables (observable ones).

    Returns
    -------
    list of Scheme
        The schemes to compare on gains (empty when no observable variable was validated).
    """
    kinds = kinds_of(tested)
    validated = [v for v in verdicts.loc[verdicts["verdict"] == "validated", "variable"]
                 if v in set(variables)]
    schemes = variable_schemes(verdicts, validated)
    if validated:
        schemes.append(tree_scheme(validated, kinds, params, params.analysis.tree.forced_root))
        schemes.append(regression_scheme(validated, kinds, params))
    if core:
        schemes.append(composite_scheme("composite segments", list(core),
                                        top_share=params.analysis.top_share,
                                        min_share=params.segments.min_share))
    return schemes


def decile_lift(table: pd.DataFrame, schemes: Sequence[Scheme], top_share: float,
                scores: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """In-sample decile lift table of every scheme (fit on all accounts, one table).
    ``scores``: in-sample scores already computed (scheme name -> scores in ``table`` row
    order, e.g. from ``lift.evaluate_schemes(in_sample_scores=...)``); others are fitted.

    Parameters
    ----------
    table
        The analysis table (``account_id``, ``score``).
    schemes
        The schemes compared.
    top_share
        The share of accounts counted as top accounts.
    scores
        In-sample scores already computed, by scheme name.

    Returns
    -------
    pandas.DataFrame
        One row per scheme and decile (the ``decile_lift`` table); empty without schemes.
    """
    is_top = top_label(table["score"], top_share, ids=table["account_id"])
    frames = []
    for sch in schemes:
        got = (scores or {}).get(sch.name)
        scored = got if got is not None else sch.fit(table)(table)
        frames.append(decile_table(scored, is_top).assign(scheme=sch.name))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out[["scheme", *[c for c in out.columns if c != "scheme"]]] if len(out) else out

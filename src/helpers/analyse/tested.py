"""Step 4's scope: which hypotheses are tested (selected in Step 2, not sent back by Step 3's
QA, with a measure in the analysis table), the kind of each variable, and the variables a
segment rule may use (observable on a prospect list)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def tested_hypotheses(hypotheses: pd.DataFrame, quality_report: pd.DataFrame,
                      table: pd.DataFrame) -> pd.DataFrame:
    """The hypotheses Step 4 tests: selected in Step 2, not sent back by Step 3's QA, and
    with a measure column in the analysis table. Adds ``tested`` and ``not_tested_reason``.

    Parameters
    ----------
    hypotheses
        The ``hypotheses`` table of Step 2 (``selected``).
    quality_report
        Step 3's quality report (``send_back``, ``reason`` per hypothesis id).
    table
        The analysis table.

    Returns
    -------
    pandas.DataFrame
        A copy of ``hypotheses`` with ``tested`` and ``not_tested_reason``.
    """
    out = hypotheses.copy()
    sent_back = quality_report.loc[quality_report["send_back"].astype(bool), ["id", "reason"]]
    back = dict(zip(sent_back["id"], sent_back["reason"], strict=True))
    reason = pd.Series("", index=out.index, dtype="object")
    reason[~out["selected"].astype(bool)] = "deprioritised in Step 2"
    is_back = out["id"].isin(back) & (reason == "")
    reason[is_back] = "sent back to Step 2: " + out.loc[is_back, "id"].map(back).astype(str)
    absent = ~out["variable"].isin(table.columns) & (reason == "")
    reason[absent] = "measure not in the analysis table"
    out["tested"] = reason == ""
    out["not_tested_reason"] = reason
    return out


def segmentation_variables(tested: pd.DataFrame, observable: Sequence[str] | None) -> list[str]:
    """The tested variables a segment rule may use: observable on a prospect list (the
    prospect file's fields and what derives from them). Without a prospect file, every tested
    variable but behavioural ones (product usage is only known after the sale).

    Parameters
    ----------
    tested
        The tested hypotheses (``variable``, ``lens``).
    observable
        The prospect list's fields (:func:`helpers.analyse.prospects.observable_fields`), or
        None without a prospect list.

    Returns
    -------
    list of str
        The variables, in the hypotheses' order.
    """
    if observable is not None:
        keep = tested["variable"].isin(set(observable))
    else:
        keep = tested["lens"].astype(str) != "behavioural"
    return tested.loc[keep, "variable"].tolist()


def kinds_of(hypotheses: pd.DataFrame) -> dict[str, str]:
    """variable -> kind (numeric | categorical | boolean).

    Parameters
    ----------
    hypotheses
        Hypotheses with ``variable`` and ``kind``.

    Returns
    -------
    dict
        variable -> kind.
    """
    return dict(zip(hypotheses["variable"], hypotheses["kind"], strict=True))

"""One-call charts shared by the notebooks and the report (seaborn/matplotlib, colour-blind
palette). Each returns the matplotlib Figure; titles state the finding, axes are labelled."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .report import PALETTE, fmt_money  # noqa: E402


def score_distribution(scored: pd.DataFrame, label_col: str = "quartile") -> plt.Figure:
    """Histogram of the quality score coloured by quartile label (A best)."""
    fig, ax = plt.subplots(figsize=(8, 4))
    labels = list(pd.Categorical(scored[label_col]).categories)
    palette = dict(zip(labels, (PALETTE * 3)[: len(labels)], strict=True))
    sns.histplot(data=scored.assign(**{label_col: scored[label_col].astype(str)}), x="score",
                 hue=label_col, hue_order=labels, palette=palette, multiple="stack", bins=40,
                 ax=ax)
    spread = scored["score"].quantile(0.9) - scored["score"].quantile(0.1)
    ax.set_title(f"Quality scores spread over {fmt_money(spread)} between the 10th and 90th "
                 "percentile", loc="left")
    ax.set_xlabel("quality score (USD per year)")
    ax.set_ylabel("accounts")
    fig.tight_layout()
    return fig


def component_bars(summary: pd.DataFrame) -> plt.Figure:
    """Mean signed contribution of each score component (from score.component_summary)."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    data = summary.copy()
    value_col = "mean" if "mean" in data.columns else data.select_dtypes("number").columns[0]
    name_col = "component" if "component" in data.columns else data.columns[0]
    colors = [PALETTE[0] if v >= 0 else PALETTE[5] for v in data[value_col]]
    ax.barh(data[name_col].astype(str), data[value_col], color=colors)
    ax.axvline(0, color="black", lw=0.8)
    top = data.loc[data[value_col].abs().idxmax(), name_col]
    ax.set_title(f"'{top}' moves the score most on average", loc="left")
    ax.set_xlabel("mean contribution per account (USD per year)")
    ax.set_ylabel("")
    fig.tight_layout()
    return fig


def reconciliation_bars(recon: pd.DataFrame) -> plt.Figure:
    """Accounts excluded per rule (from customers.reconciliation)."""
    rules = recon[~recon["rule"].isin(["raw", "excluded", "kept"])]
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.barh(rules["rule"].astype(str), rules["accounts"], color=PALETTE[1])
    raw = int(recon.loc[recon["rule"] == "raw", "accounts"].iloc[0])
    kept = int(recon.loc[recon["rule"] == "kept", "accounts"].iloc[0])
    ax.set_title(f"{kept:,} of {raw:,} accounts kept for the analysis", loc="left")
    ax.set_xlabel("accounts excluded")
    fig.tight_layout()
    return fig

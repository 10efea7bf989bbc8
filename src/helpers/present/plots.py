"""One-call charts shared by the notebooks and the report (seaborn/matplotlib, colour-blind
palette). Each returns the matplotlib Figure; titles state the finding, axes are labelled.

Figures are plain :class:`matplotlib.figure.Figure` objects, not pyplot figures: nothing here
picks a backend, so a notebook shows them inline (``display(fig)``, once, never again at the end
of the cell) and the report renders them to PNG bytes (``fig.savefig`` uses Agg for a figure
without a pyplot window) whatever backend the kernel runs.
"""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from helpers.present.report import PALETTE, fmt_money


def new_figure(figsize: tuple[float, float]) -> tuple[Figure, object]:
    """A Figure with one Axes, outside pyplot (no backend, no global figure list)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def score_distribution(scored: pd.DataFrame, label_col: str = "quartile") -> Figure:
    """Histogram of the quality score coloured by quartile label (A best)."""
    fig, ax = new_figure(figsize=(8, 4))
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


def component_bars(summary: pd.DataFrame) -> Figure:
    """Mean signed contribution of each score component (from score.component_summary)."""
    fig, ax = new_figure(figsize=(8, 3.6))
    data = summary.copy()
    value_col = "mean" if "mean" in data.columns else data.select_dtypes("number").columns[0]
    name_col = next((c for c in ("description", "component") if c in data.columns),
                    data.columns[0])
    colors = [PALETTE[0] if v >= 0 else PALETTE[5] for v in data[value_col]]
    ax.barh(data[name_col].astype(str), data[value_col], color=colors)
    ax.axvline(0, color="black", lw=0.8)
    top = data.loc[data[value_col].abs().idxmax(), name_col]
    ax.set_title(f"'{top}' moves the score most on average", loc="left")
    ax.set_xlabel("mean contribution per account (USD per year)")
    ax.set_ylabel("")
    fig.tight_layout()
    return fig


def reconciliation_bars(recon: pd.DataFrame) -> Figure:
    """Accounts excluded per rule (from customers.reconciliation)."""
    rules = recon[~recon["rule"].isin(["raw", "excluded", "kept"])]
    fig, ax = new_figure(figsize=(8, 3))
    ax.barh(rules["rule"].astype(str), rules["accounts"], color=PALETTE[1])
    raw = int(recon.loc[recon["rule"] == "raw", "accounts"].iloc[0])
    kept = int(recon.loc[recon["rule"] == "kept", "accounts"].iloc[0])
    ax.set_title(f"{kept:,} of {raw:,} accounts kept for the analysis", loc="left")
    ax.set_xlabel("accounts excluded")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- report charts
REST_LABEL = "Rest of base"


def segment_colours(segments: list[str] | tuple[str, ...], rest: str = REST_LABEL
                    ) -> dict[str, str]:
    """One colour per segment id, in priority order from PALETTE; 'Rest of base' grey.

    Pass the segment ids in priority order; the same call gives the same colours in every chart.
    """
    from helpers.present.report import REST_COLOUR

    out: dict[str, str] = {}
    k = 0
    for s in segments:
        if s == rest:
            out[s] = REST_COLOUR
        elif s not in out:
            out[s] = PALETTE[k % len(PALETTE)]
            k += 1
    out.setdefault(rest, REST_COLOUR)
    return out


def over_phrase(share: float) -> str:
    """'over 40 %' for 0.47 (floored to 10 points), '40 %' when exact, '7 %' below 10 %."""
    pct = share * 100
    if pct < 10:
        return f"{pct:.0f} %"
    floor = int(pct // 10) * 10
    return f"{floor} %" if abs(pct - floor) < 0.5 else f"over {floor} %"


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def _pct_axis(ax, axis: str = "x") -> None:
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter("{x:.0%}")


def top_concentration(segs: pd.DataFrame, colours: dict[str, str], top_share: float = 0.25,
                      title: str | None = None) -> Figure:
    """Chart (a): two stacked bars, share of all accounts vs share of the top accounts, by
    segment (priority order, Rest of base last).

    ``segs`` columns: segment, label, share_of_base, top_capture (one row per segment).
    """
    n_leg_rows = -(-len(segs) // 2)
    fig, ax = new_figure(figsize=(9, 2.4 + 0.42 * n_leg_rows))
    rows = [("All accounts", "share_of_base"), (f"Top {top_share:.0%} accounts", "top_capture")]
    for y, (_lab, col) in enumerate(rows):
        left = 0.0
        for _, r in segs.iterrows():  # a handful of segments
            w = float(r[col])
            ax.barh(y, w, left=left, color=colours.get(r["segment"], "#BBBBBB"),
                    edgecolor="white", height=0.62)
            if w >= 0.06:
                dark = colours.get(r["segment"]) in ("#0072B2", "#009E73", "#D55E00", "#000000",
                                                     "#CC79A7")
                ax.text(left + w / 2, y, f"{w:.0%}", ha="center", va="center", fontsize=9,
                        color="white" if dark else "black")
            left += w
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    _pct_axis(ax)
    ax.set_xlabel("share of accounts in each segment")
    ax.set_title(_wrap(title or "", 85), loc="left", fontsize=11)
    ax.grid(False)
    handles = [Rectangle((0, 0), 1, 1, color=colours.get(s, "#BBBBBB"))
               for s in segs["segment"]]
    fig.legend(handles, [_wrap(lab, 48) for lab in segs["label"]], loc="lower center",
               ncol=2, frameon=False, fontsize=8.5)
    height = fig.get_size_inches()[1]
    fig.tight_layout(rect=(0, min(0.5, (0.15 + 0.2 * n_leg_rows) / height), 1, 1))
    return fig


def segment_top_share(segs: pd.DataFrame, colours: dict[str, str], top_share: float = 0.25,
                      title: str | None = None) -> Figure:
    """Chart (b): each segment's share of accounts in the top ``top_share``, with the base
    rate as a dashed line. ``segs`` columns: segment, label, share_top."""
    fig, ax = new_figure(figsize=(9, 0.62 * len(segs) + 1.5))
    y = list(range(len(segs)))
    vals = segs["share_top"].astype(float).to_numpy()
    ax.barh(y, vals, color=[colours.get(s, "#BBBBBB") for s in segs["segment"]], height=0.6)
    for yi, v in zip(y, vals, strict=True):
        ax.text(v + 0.01, yi, f"{v:.0%}", va="center", fontsize=9)
    ax.axvline(top_share, color="black", ls="--", lw=1,
               label=f"whole base: {top_share:.0%} in the top")
    ax.legend(loc="lower right", fontsize=8.5, frameon=True)
    ax.set_yticks(y, [_wrap(lab, 34) for lab in segs["label"]])
    ax.invert_yaxis()
    ax.set_xlim(0, min(1.0, max(float(vals.max()) if len(vals) else 0, top_share) + 0.12))
    _pct_axis(ax)
    ax.set_xlabel(f"share of the segment's accounts in the top {top_share:.0%}")
    ax.set_title(_wrap(title or "", 85), loc="left", fontsize=11)
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


def gains_figure(lift_long: pd.DataFrame, title: str | None = None) -> Figure:
    """The gains chart of helpers.analyse.lift in its own figure (for the report)."""
    from helpers.analyse.lift import plot_gains

    fig, ax = new_figure(figsize=(7.5, 4.8))
    plot_gains(lift_long, ax=ax, title=title)
    text = ax.get_title()
    ax.set_title("")
    ax.set_title(_wrap(text, 80), loc="left", fontsize=11)
    ax.legend(loc="lower right", fontsize=7.5)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- scheme gains
def scheme_ranking(lift_long: pd.DataFrame) -> list[str]:
    """Scheme names, best first: largest area under the out-of-sample gains curve (in-sample
    when no scheme was cross-validated); ties by name. Reference curves are left out."""
    from helpers.analyse.lift import _area

    data = lift_long[lift_long["sample"] != "reference"]
    sample = "out_of_sample" if (data["sample"] == "out_of_sample").any() else "in_sample"
    areas = {str(name): _area(g["x"].to_numpy(float), g["y"].to_numpy(float))
             for name, g in data[data["sample"] == sample].sort_values("x", kind="stable")
             .groupby("scheme", sort=True)}
    return sorted(areas, key=lambda k: (-areas[k], k))


def scheme_colours(lift_long: pd.DataFrame) -> dict[str, str]:
    """One colour per scheme, in :func:`scheme_ranking` order (the winner gets the first
    palette colour); the same mapping colours the gains chart and the scheme table."""
    return {s: PALETTE[k % len(PALETTE)] for k, s in enumerate(scheme_ranking(lift_long))}


def scheme_gains(lift_long: pd.DataFrame, title: str | None = None) -> Figure:
    """Gains chart for the report: one out-of-sample curve per scheme (one colour per scheme,
    :func:`scheme_colours`), the winner drawn thick with its repeat band, its in-sample curve
    (dashed, same colour) as the only in-sample line; random and perfect in grey. The legend
    lists the schemes best first."""
    from helpers.analyse.lift import gains_finding

    fig, ax = new_figure(figsize=(7.5, 4.8))
    colours = scheme_colours(lift_long)
    ranking = list(colours)
    data = lift_long[lift_long["sample"] != "reference"]
    oos = "out_of_sample" if (data["sample"] == "out_of_sample").any() else "in_sample"
    winner = ranking[0] if ranking else None
    for k, name in reversed(list(enumerate(ranking))):  # the winner drawn last, on top
        grp = data[(data["scheme"] == name) & (data["sample"] == oos)].sort_values(
            "x", kind="stable")
        best = name == winner
        label = f"{k + 1}. {name}" + (" (best)" if best else "")
        ax.plot(grp["x"], grp["y"], "-", color=colours[name], lw=3.0 if best else 1.4,
                alpha=1.0 if best else 0.85, label=label, zorder=4 if best else 3)
        if best and oos == "out_of_sample" and {"y_min", "y_max"} <= set(grp.columns):
            ax.fill_between(grp["x"], grp["y_min"], grp["y_max"], color=colours[name],
                            alpha=0.18, linewidth=0, zorder=2)
    if winner is not None and oos == "out_of_sample":
        ins = data[(data["scheme"] == winner) & (data["sample"] == "in_sample")].sort_values(
            "x", kind="stable")
        if len(ins):
            ax.plot(ins["x"], ins["y"], "--", color=colours[winner], lw=1.3,
                    label=f"{winner}, in-sample (fitted on all accounts)", zorder=3)
    ref = lift_long[lift_long["sample"] == "reference"]
    for name, style in (("Baseline (random)", ":"), ("Perfect", "-.")):
        grp = ref[ref["scheme"] == name].sort_values("x", kind="stable")
        if len(grp):
            ax.plot(grp["x"], grp["y"], style, color="grey", lw=1.0, label=name, zorder=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    _pct_axis(ax, "x")
    _pct_axis(ax, "y")
    ax.set_xlabel("Share of accounts, best first by the scheme")
    ax.set_ylabel("Share of top accounts captured")
    ax.set_title(_wrap(title if title is not None else
                       (gains_finding(lift_long) if ranking else ""), 80), loc="left",
                 fontsize=11)
    handles, labels = ax.get_legend_handles_labels()
    def rank(i: int) -> tuple[int, int]:  # schemes best first, then in-sample, then references
        lab = labels[i]
        return (0, int(lab.split(".")[0])) if lab[:1].isdigit() else \
            (1, i) if "in-sample" in lab else (2, i)

    order = sorted(range(len(labels)), key=rank)
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower right",
              fontsize=7.5)
    fig.tight_layout()
    return fig

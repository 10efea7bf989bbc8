"""Views of the analysis notebook: the variable explorer (each tested variable's profile by
score group, a small chart and its best single split; a widget or one static table) and the
wide form of the quartile/decile profile."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import pandas as pd

from helpers.analyse.tested import kinds_of
from helpers.core.parallel import ordered_map


def _split_sentence(res: Mapping[str, Any]) -> str:
    split = res.get("best_split")
    return split.get("sentence", "") if isinstance(split, dict) else str(split or "")


def explorer_profile(res: Mapping[str, Any]) -> pd.DataFrame:
    """One explored variable's profile as a compact table: numerics one row per statistic
    (mean, median, accounts), categories one row per category (share), a column per group.

    Parameters
    ----------
    res
        One variable's result of :func:`helpers.analyse.verdicts.explore`.

    Returns
    -------
    pandas.DataFrame
        Statistics (or categories, the 8 commonest) x score groups.
    """
    prof = res["profile"]
    if res.get("kind") == "numeric":
        wide = prof.set_index("group")[["mean", "median", "count"]].T
        wide.index = ["mean", "median", "accounts"]
    else:
        wide = prof.pivot_table(index="category", columns="group", values="share",
                                observed=False, sort=False, aggfunc="first")
        wide = wide.loc[wide.mean(axis=1).sort_values(ascending=False, kind="stable").index[:8]]
    wide.columns = [str(c) for c in wide.columns]
    wide.columns.name = None
    return wide


def explorer_chart(res: Mapping[str, Any], group: str = "quartile") -> Any:
    """A small seaborn chart of one explored variable by score group (best first): the mean
    of a numeric, the share of the commonest categories otherwise. Returns the Figure.

    Parameters
    ----------
    res
        One variable's result of :func:`helpers.analyse.verdicts.explore`.
    group
        The score groups' name (quartile or decile), for the axis.

    Returns
    -------
    matplotlib.figure.Figure
        The chart.
    """
    import seaborn as sns

    from helpers.analyse.profiling import words
    from helpers.present.plots import new_figure

    fig, ax = new_figure(figsize=(6.4, 2.6))
    prof = res["profile"].assign(group=lambda d: d["group"].astype(str))
    if res.get("kind") == "numeric":
        sns.barplot(data=prof, x="group", y="mean", color="#0072B2", ax=ax)
        ax.set_ylabel(f"mean {words(res['variable'])}")
    else:
        common = prof.groupby("category", observed=True)["share"].mean() \
            .sort_values(ascending=False, kind="stable").index[:5]
        sns.barplot(data=prof[prof["category"].isin(common)], x="group", y="share",
                    hue="category", palette="colorblind", ax=ax)
        ax.set_ylabel("share of the group")
        ax.legend(fontsize=7, title=None, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                  frameon=False)
    ax.set_xlabel(f"{group} (best first)")
    ax.set_title(words(res["variable"]), loc="left", fontsize=10)
    fig.tight_layout()
    return fig


def explorer_html(res: Mapping[str, Any], group: str = "quartile") -> str:
    """The explorer's view of one variable: best split, chart and compact table (escaped).

    Parameters
    ----------
    res
        One variable's result of :func:`helpers.analyse.verdicts.explore`.
    group
        The score groups' name (quartile or decile).

    Returns
    -------
    str
        An HTML fragment (chart as an embedded PNG).
    """
    from helpers.present import views
    from helpers.present.report import figure

    img = figure(explorer_chart(res, group), caption="", alt="", dpi=90)["src"]
    prof = explorer_profile(res)
    if res.get("kind") != "numeric":  # shares as percentages
        prof = prof.apply(lambda col: col.map(lambda v: "" if pd.isna(v) else f"{v:.0%}"))
    table = views.html_table(prof, index=True)
    n = f"{res.get('n', 0):,} accounts with a value, {res.get('n_missing', 0):,} missing"
    return (f"<div class='wb-explorer-view'><p><b>{html.escape(_split_sentence(res))}</b></p>"
            f"<div style='display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start'>"
            f"<img alt='{html.escape(str(res['variable']))} by {group}' src='{img}' "
            f"style='width:576px'><div>{table}<p style='color:#666'>{n}</p></div></div></div>")


def variable_explorer(table: pd.DataFrame, tested: pd.DataFrame, interactive: bool,
                      n_groups: int = 4) -> Any:
    """A picker over the tested variables showing each one's profile by score group
    (``n_groups``: the same quartiles or deciles as the rest of Step 4), a small chart and its
    best single split (``helpers.analyse.verdicts.explore``, no model refits).

    interactive=False: one static table, the profile of every variable with its best split
    (no widgets). interactive=True: a selection slider over the variables (drag it, or focus
    it and step with the arrow keys: in JupyterLab 4 the arrow keys on a dropdown, list box or
    toggle buttons move the notebook's active cell instead, the slider keeps them; checked in
    ``tests/test_lab_browser.py``) and an HTML view re-rendered on every change (an HTML
    widget rather than an Output widget: it renders the same in JupyterLab, in exported
    notebooks and under any kernel client; text is escaped).

    Parameters
    ----------
    table
        The analysis table with the score groups.
    tested
        The tested hypotheses (``variable``, ``kind``).
    interactive
        A widget (True) or one static table (False, papermill).
    n_groups
        4 (quartiles) or 10 (deciles).

    Returns
    -------
    ipywidgets.VBox or pandas.DataFrame
        The widget, or the profile of every variable with its best split (empty without
        tested variables).
    """
    from helpers.analyse.verdicts import explore
    from helpers.present import views

    kinds = kinds_of(tested)
    options = list(kinds)
    group = views.group_name(n_groups)
    if not options:
        return pd.DataFrame()
    if not interactive:
        def one(v: str) -> pd.DataFrame:
            res = explore(table, v, kinds[v], n_groups=n_groups)
            prof = res["profile"].copy()
            prof.insert(0, "variable", v)
            prof["best_split"] = _split_sentence(res)
            return prof.rename(columns={"group": group})

        # every variable at once, side by side (helpers.core.parallel)
        return pd.concat(ordered_map(one, options), ignore_index=True)

    import ipywidgets as widgets

    pick = widgets.SelectionSlider(options=options, value=options[0], description="variable",
                             continuous_update=False, layout=widgets.Layout(width="44em"))
    pick.add_class("wb-explorer-picker")
    hint = widgets.HTML(f"<span style='color:#666'>{len(options)} variables: drag the slider, or "
                  "click it and step with ← →</span>")
    view = widgets.HTML().add_class("wb-explorer")

    def show(change: Any = None) -> None:
        view.value = explorer_html(explore(table, pick.value, kinds[pick.value],
                                           n_groups=n_groups), group)

    pick.observe(show, names="value")
    show()
    bar = widgets.HBox([pick, hint], layout=widgets.Layout(align_items="center"))
    return widgets.VBox([bar, view],
                  layout=widgets.Layout(width="100%"))


def profile_wide(profile: pd.DataFrame, stat: str = "mean") -> pd.DataFrame:
    """The long quartile/decile profile as a readable wide table: one row per variable (mean)
    or per variable and category (share), one column per score group, best first.

    Parameters
    ----------
    profile
        The ``quartile_profile`` table (long).
    stat
        ``mean`` (numerics) or ``share`` (categories).

    Returns
    -------
    pandas.DataFrame
        Variables (and categories) x score groups, ``all`` last; empty when no row has ``stat``.
    """
    part = profile[profile["stat"] == stat]
    if part.empty:
        return pd.DataFrame()
    index = ["variable"] if stat != "share" else ["variable", "category"]
    wide = part.pivot_table(index=index, columns="group", values="value", aggfunc="first",
                            observed=True, sort=False)
    order = [g for g in part["group"].drop_duplicates() if g != "all"] + ["all"]
    return wide.reindex(columns=[g for g in order if g in wide.columns])

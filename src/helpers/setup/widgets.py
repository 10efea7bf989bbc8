"""Notebook widgets. Method Step 1: stakeholders review and re-weight the quality score
until they accept it as the measure of "goodness"; the panel shows the effect of each weight
instantly (via :func:`helpers.setup.score.rescore`) and saves the chosen weights as a parameter
snippet (``score:`` block) to put in the run's parameter file.

``interactive=False`` (papermill runs, HTML export) builds the same tables with no widgets.
ipywidgets is imported only in the interactive branch.
"""

from __future__ import annotations

import asyncio
import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from helpers.core.params import Score
from helpers.present import views
from helpers.setup.score import rescore, score_formula, top_bottom

HEAD_ROWS = 20
#: seconds without a key press before the panel recomputes (typing "5000" is one update)
DEBOUNCE_S = 0.3


def weights_yaml(weights: Score) -> str:
    """A parameter-file snippet holding the score weights.

    Parameters
    ----------
    weights : Score
        The score weights.

    Returns
    -------
    str
        The YAML snippet.
    """
    return yaml.safe_dump({"score": weights.model_dump(mode="json")}, sort_keys=False)


def save_weights(weights: Score, path: str | Path) -> Path:
    """Write :func:`weights_yaml` to ``path`` (parents created); returns the path.

    Parameters
    ----------
    weights : Score
        The score weights.
    path : str or Path
        Where to write.

    Returns
    -------
    Path
        The path written.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("# score weights chosen in the 01_setup weights panel; copy into the run's "
                 "parameter file\n" + weights_yaml(weights), encoding="utf-8")
    return p


def weight_tables(scored_base: pd.DataFrame, weights: Score, n: int = 10) -> dict[str, Any]:
    """The panel's content as plain tables: formula, ranking head, top / bottom n with why,
    group sizes (the column named ``quartile`` or ``decile``), and how many of the base top
    quarter stay in the top quarter.

    Parameters
    ----------
    scored_base : pd.DataFrame
        The scored accounts at the base weights.
    weights : Score
        The weights to show.
    n : int
        Rows of the top / bottom lists.

    Returns
    -------
    dict[str, Any]
        The tables and ``top_quarter_retained``.
    """
    scored = rescore(scored_base, weights)
    # every update must stay interactive at 1e5-1e6 accounts: order the rank column only,
    # never sort or copy the wide frame, compare top quarters as masks (same rows, same order)
    order = np.argsort(scored["score_rank"].to_numpy(), kind="stable")
    cols = [c for c in ("account_id", "account_name", "score", "score_rank", "quartile",
                        "status", "mrr") if c in scored]
    top, bottom = top_bottom(scored, n)
    group = views.group_name(weights.quantiles)
    sizes = scored["quartile"].iloc[order].value_counts(sort=False).rename_axis(group) \
        .reset_index(name="accounts")
    base_top = scored_base["score_pct"].to_numpy(dtype=float) > 0.75
    new_top = scored["score_pct"].to_numpy(dtype=float) > 0.75
    retained = float((base_top & new_top).sum() / base_top.sum()) if base_top.any() \
        else float("nan")
    named = {k: views.name_groups(t, weights.quantiles)
             for k, t in (("ranking", scored.iloc[order[:HEAD_ROWS]][cols]), ("top", top),
                          ("bottom", bottom))}
    return {"formula": score_formula(weights), **named, "quantile_sizes": sizes,
            "top_quarter_retained": retained, "scored": scored}


def weights_error(exc: Exception) -> str:
    """A rejected set of weights as one short sentence (no pydantic dump, no URL).

    Parameters
    ----------
    exc : Exception
        The validation error.

    Returns
    -------
    str
        One sentence.
    """
    errors = getattr(exc, "errors", None)
    first = errors()[0] if callable(errors) else None
    if not first:
        return f"invalid weights: {str(exc).splitlines()[0]}"
    field = ".".join(str(p) for p in first.get("loc", ())) or "weights"
    msg = str(first.get("msg", "is not valid"))
    msg = msg.replace("Input should be", "must be").replace("Value error, ", "")
    return f"{field} {msg[:1].lower()}{msg[1:]}; the tables still show the last valid weights."


def _bounds(name: str, default: float) -> tuple[float, float]:
    """Number-box limits for a weight: its parameter's lower bound (else minus the upper one)
    and ten times its default (at least 10)."""
    lower = None
    for m in Score.model_fields[name].metadata:
        for attr in ("ge", "gt"):
            if getattr(m, attr, None) is not None:
                lower = float(getattr(m, attr))
    upper = max(10.0 * abs(float(default)), 10.0)
    return (lower if lower is not None else -upper), upper


def _results_html(tables: dict[str, Any], n: int) -> dict[str, str]:
    """The panel's result views as escaped HTML (formula and sizes, top, bottom, ranking)."""
    summary = (views.html_text(tables["formula"], "pre")
               + views.html_table(tables["quantile_sizes"]))
    return {"summary": summary,
            "top": f"<b>Top {n}</b>" + views.html_table(views.compact(tables["top"])),
            "bottom": f"<b>Bottom {n}</b>" + views.html_table(views.compact(tables["bottom"])),
            "ranking": f"<b>Ranking (first {HEAD_ROWS})</b>"
                       + views.html_table(views.compact(tables["ranking"]))}


def find_widget(root: Any, css_class: str) -> Any:
    """The first widget under ``root`` (depth first) carrying ``css_class``, else None.

    Parameters
    ----------
    root : Any
        A widget (with ``children``).
    css_class : str
        The class to find.

    Returns
    -------
    Any
        The widget, or None.
    """
    if css_class in getattr(root, "_dom_classes", ()):
        return root
    for child in getattr(root, "children", ()):
        hit = find_widget(child, css_class)
        if hit is not None:
            return hit
    return None


def score_weights_panel(scored_base: pd.DataFrame, weights: Score, interactive: bool,
                        save_to: Path | None = None, n: int = 10,
                        debounce_s: float = DEBOUNCE_S) -> Any:
    """Re-weighting panel for the quality score.

    ``interactive=True``: an ipywidgets VBox, the controls above the results so they are always
    visible: a bounded number box per weight (updates as you type, ``debounce_s`` after the
    last key), quartiles / deciles, "save weights" (writes the YAML snippet to ``save_to``) and
    a one-sentence status; below, HTML views of the formula and group sizes, top / bottom n and
    the ranking head (HTML widgets, not an Output widget: nothing to capture, so it cannot hang
    under a kernel client). CSS classes ``wb-weights-*`` name the parts. ``interactive=False``:
    the dict of static tables from :func:`weight_tables` (no widgets).

    Parameters
    ----------
    scored_base : pd.DataFrame
        The scored accounts at the base weights.
    weights : Score
        The starting weights.
    interactive : bool
        Build widgets (else the static tables).
    save_to : Path or None
        Where "save weights" writes (None: disabled).
    n : int
        Rows of the top / bottom lists.
    debounce_s : float
        Seconds after the last key before refreshing.

    Returns
    -------
    Any
        An ipywidgets VBox, or the dict of :func:`weight_tables`.
    """
    if not interactive:
        return weight_tables(scored_base, weights, n)

    import ipywidgets  # lazy: only the interactive notebook needs it

    boxes = _weight_boxes(weights)
    status = ipywidgets.HTML().add_class("wb-weights-status")
    save = ipywidgets.Button(description="save weights", icon="save", disabled=save_to is None)
    views_ = {k: ipywidgets.HTML().add_class(f"wb-weights-{k}")
              for k in ("summary", "top", "bottom", "ranking")}
    state: dict[str, Any] = {"weights": weights, "timer": None}

    def refresh() -> None:
        state["timer"] = None
        try:
            w = Score(**{k: b.value for k, b in boxes.items()})
        except Exception as exc:  # noqa: BLE001 - shown to the user, not raised
            status.value = f"<span style='color:#b00'>{html.escape(weights_error(exc))}</span>"
            return
        state["weights"] = w
        tables = weight_tables(scored_base, w, n)
        for k, text in _results_html(tables, n).items():
            views_[k].value = text
        status.value = (f"top quarter of the base ranking kept: "
                        f"<b>{tables['top_quarter_retained']:.0%}</b>")

    def schedule(*_: Any) -> None:
        """Refresh once typing pauses (the kernel's event loop), at once without a loop."""
        if state["timer"] is not None:
            state["timer"].cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or debounce_s <= 0:
            refresh()
        else:
            state["timer"] = loop.call_later(debounce_s, refresh)

    def on_save(_: Any) -> None:
        if save_to is not None:
            p = save_weights(state["weights"], save_to)
            status.value = f"saved to <code>{html.escape(str(p))}</code>"

    for b in boxes.values():
        b.observe(schedule, names="value")
    save.on_click(on_save)
    refresh()
    return _panel_layout(boxes, save, status, views_)


def _weight_boxes(weights: Score) -> dict[str, Any]:
    """A bounded number box per weight (class ``wb-weight-<name>``) and the quartiles /
    deciles toggle (key ``quantiles``, last)."""
    import ipywidgets

    label = {"description_width": "16.5em"}
    boxes: dict[str, Any] = {}
    for name in (k for k in Score.model_fields if k != "quantiles"):
        value = getattr(weights, name)
        lo, hi = _bounds(name, value)
        cls = ipywidgets.BoundedIntText if isinstance(value, int) else ipywidgets.BoundedFloatText
        boxes[name] = cls(value=value, min=lo, max=hi, description=name, style=label,
                          continuous_update=True, layout=ipywidgets.Layout(width="23.5em"))
        boxes[name].add_class(f"wb-weight-{name}")
    boxes["quantiles"] = ipywidgets.ToggleButtons(
        options=[("quartiles (4)", 4), ("deciles (10)", 10)], value=weights.quantiles,
        description="score groups", style={"description_width": "initial",
                                           "button_width": "8em"})
    return boxes


def _panel_layout(boxes: dict[str, Any], save: Any, status: Any, views_: dict[str, Any]
                  ) -> Any:
    """The panel: the weight boxes in a grid, the toggle / save / status bar, the results."""
    import ipywidgets

    grid = ipywidgets.GridBox(list(boxes.values())[:-1], layout=ipywidgets.Layout(
        grid_template_columns="repeat(auto-fill, minmax(24em, 1fr))", grid_gap="2px 12px",
        width="100%")).add_class("wb-weights-controls")
    bar = ipywidgets.HBox([boxes["quantiles"], save, status],
                          layout=ipywidgets.Layout(align_items="center", flex_flow="row wrap",
                                                   width="100%"))
    results = ipywidgets.VBox(list(views_.values()), layout=ipywidgets.Layout(
        width="100%", overflow="auto")).add_class("wb-weights-results")
    return ipywidgets.VBox([grid, bar, results], layout=ipywidgets.Layout(width="100%")).add_class(
        "wb-weights-panel")

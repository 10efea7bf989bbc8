"""Notebook widgets. Method Step 1: stakeholders review and re-weight the quality score
until they accept it as the measure of "goodness"; the panel shows the effect of each weight
instantly (via :func:`helpers.score.rescore`) and saves the chosen weights as a parameter
snippet (``score:`` block) to put in the run's parameter file.

``interactive=False`` (papermill runs, HTML export) builds the same tables with no widgets.
ipywidgets is imported only in the interactive branch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .params import Score
from .score import rescore, score_formula, top_bottom

HEAD_ROWS = 20


def weights_yaml(weights: Score) -> str:
    """A parameter-file snippet holding the score weights."""
    return yaml.safe_dump({"score": weights.model_dump(mode="json")}, sort_keys=False)


def save_weights(weights: Score, path: str | Path) -> Path:
    """Write :func:`weights_yaml` to ``path`` (parents created); returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("# score weights chosen in the 01_setup weights panel; copy into the run's "
                 "parameter file\n" + weights_yaml(weights), encoding="utf-8")
    return p


def weight_tables(scored_base: pd.DataFrame, weights: Score, n: int = 10) -> dict[str, Any]:
    """The panel's content as plain tables: formula, ranking head, top / bottom n with why,
    quantile sizes, and how many of the base top quarter stay in the top quarter."""
    scored = rescore(scored_base, weights)
    # every update must stay interactive at 1e5-1e6 accounts: order the rank column only,
    # never sort or copy the wide frame, compare top quarters as masks (same rows, same order)
    order = np.argsort(scored["score_rank"].to_numpy(), kind="stable")
    cols = [c for c in ("account_id", "account_name", "score", "score_rank", "quartile",
                        "status", "mrr") if c in scored]
    top, bottom = top_bottom(scored, n)
    sizes = scored["quartile"].iloc[order].value_counts(sort=False).rename_axis("quartile") \
        .reset_index(name="accounts")
    base_top = scored_base["score_pct"].to_numpy(dtype=float) > 0.75
    new_top = scored["score_pct"].to_numpy(dtype=float) > 0.75
    retained = float((base_top & new_top).sum() / base_top.sum()) if base_top.any() \
        else float("nan")
    return {"formula": score_formula(weights), "ranking": scored.iloc[order[:HEAD_ROWS]][cols],
            "top": top, "bottom": bottom, "quantile_sizes": sizes,
            "top_quarter_retained": retained, "scored": scored}


def score_weights_panel(scored_base: pd.DataFrame, weights: Score, interactive: bool,
                        save_to: Path | None = None, n: int = 10) -> Any:
    """Re-weighting panel for the quality score.

    ``interactive=True``: an ipywidgets VBox (a float box per weight, a quantile choice, the
    ranking head, top / bottom n, quantile sizes, updated on every change; a "save weights"
    button writing the YAML snippet to ``save_to``). ``interactive=False``: the dict of
    static tables from :func:`weight_tables` (no widgets).
    """
    if not interactive:
        return weight_tables(scored_base, weights, n)

    import ipywidgets as W  # lazy: only the interactive notebook needs it
    from IPython.display import display

    fields = {k: v for k, v in Score.model_fields.items() if k != "quantiles"}
    boxes: dict[str, Any] = {}
    for name in fields:
        value = getattr(weights, name)
        cls = W.IntText if isinstance(value, int) else W.FloatText
        boxes[name] = cls(value=value, description=name, style={"description_width": "16em"},
                          layout=W.Layout(width="26em"))
    boxes["quantiles"] = W.Dropdown(options=[4, 10], value=weights.quantiles,
                                    description="quantiles",
                                    style={"description_width": "16em"})
    out = W.Output()
    status = W.HTML()
    save = W.Button(description="save weights", icon="save", disabled=save_to is None)
    state: dict[str, Score] = {"weights": weights}

    def current() -> Score | None:
        try:
            return Score(**{k: b.value for k, b in boxes.items()})
        except Exception as exc:  # noqa: BLE001 - shown to the user, not raised
            status.value = f"<b style='color:#b00'>invalid weights:</b> {exc}"
            return None

    def refresh(*_: Any) -> None:
        w = current()
        if w is None:
            return
        state["weights"] = w
        tables = weight_tables(scored_base, w, n)
        status.value = (f"top quarter of the base ranking kept: "
                        f"<b>{tables['top_quarter_retained']:.0%}</b>")
        with out:
            out.clear_output(wait=True)
            print(tables["formula"])
            display(tables["quantile_sizes"])
            print(f"Top {n}")
            display(tables["top"])
            print(f"Bottom {n}")
            display(tables["bottom"])
            print(f"Ranking (first {HEAD_ROWS})")
            display(tables["ranking"])

    def on_save(_: Any) -> None:
        if save_to is not None:
            p = save_weights(state["weights"], save_to)
            status.value = f"saved to <code>{p}</code>"

    for b in boxes.values():
        b.observe(refresh, names="value")
    save.on_click(on_save)
    refresh()
    controls = W.VBox([*boxes.values(), save, status])
    return W.HBox([controls, out])

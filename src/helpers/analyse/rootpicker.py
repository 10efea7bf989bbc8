"""Notebook 04's tree-root picker. Method Step 4: the first split shapes the whole tree, so try
several. Pick a root variable (or let the tree choose) on a slider, by mouse or with the arrow
keys, and see that tree, its leaves and its gains curve at once; "save as parameters" writes the
choice as an ``analysis.tree.forced_root`` snippet for the run's parameter file (like the
score-weights panel of notebook 01).

Speed: each root's tree is fitted once (the root comparison of Step 4 already fits them all,
``fitted``); the tree and the gains curve are drawn as inline SVG text (no plotting library:
milliseconds), and each root's drawing is kept, so switching back costs only a widget update;
a root not fitted yet costs one tree fit (``benchmarks/root_picker.py`` measures all three at
20k accounts).

``interactive=False`` (papermill runs, HTML export) returns the same content as plain objects
for the chosen root (no widgets). ipywidgets is imported only in the interactive branch; the
widgets are HTML widgets (SVG drawings and an escaped table; no Output widget: they render the
same in JupyterLab, exported notebooks and under any kernel client).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from helpers.analyse.lift import accuracy_ratio, gains_curve, top_label
from helpers.core.params import Tree

AUTO = "(best split)"
LEAF_COLUMNS = ["node_id", "rule", "n", "mean_score", "share_A"]


def root_yaml(root: str | None) -> str:
    """A parameter-file snippet holding the chosen root.

    Parameters
    ----------
    root : str or None
        The root variable; None (written as null) = the tree's own choice.

    Returns
    -------
    str
        YAML setting ``analysis.tree.forced_root``.
    """
    return yaml.safe_dump({"analysis": {"tree": {"forced_root": root}}}, sort_keys=False)


def save_root(root: str | None, path: str | Path) -> Path:
    """Write :func:`root_yaml` to ``path`` (parents created), with a comment line.

    Parameters
    ----------
    root : str or None
        The root variable (None = the tree's own choice).
    path : str or Path
        The file to write (overwritten).

    Returns
    -------
    Path
        ``path``.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("# tree root chosen in the 04_analysis root picker; copy into the run's "
                 "parameter file\n" + root_yaml(root), encoding="utf-8")
    return p


def root_options(variables: Sequence[str], kinds: Mapping[str, str]) -> list[str]:
    """The roots to offer: the tree's own choice first, then every categorical / boolean
    variable (the roots of Step 4's root comparison).

    Parameters
    ----------
    variables : Sequence[str]
        The segmentation variables, in order.
    kinds : Mapping[str, str]
        Each variable's kind (``numeric``, ``categorical``, ``boolean``).

    Returns
    -------
    list[str]
        :data:`AUTO`, then the non-numeric variables in their order.
    """
    return [AUTO] + [v for v in variables if kinds.get(v) != "numeric"]


def root_view(table: pd.DataFrame, variables: Sequence[str], kinds: Mapping[str, str],
              params: Tree, root: str | None, *, top_share: float = 0.25, seed: int = 0,
              fitted: dict[str | None, Any] | None = None) -> dict[str, Any]:
    """The tree with ``root`` forced first, fitted once into ``fitted``.

    Parameters
    ----------
    table : pd.DataFrame
        The analysis table (``score``, the variables, ``account_id`` if present).
    variables, kinds : Sequence[str], Mapping[str, str]
        The variables the tree may split on and their kinds.
    params : Tree
        The tree parameters.
    root : str or None
        The variable forced as the first split; None = the tree's best split.
    top_share : float
        The share of accounts (best by score) the gains curve looks for.
    seed : int
        The tree's random seed.
    fitted : dict, optional
        Fitted trees by root: reused if ``root`` is in it, else the new fit is added.

    Returns
    -------
    dict
        ``root``; ``tree`` (the fitted tree); ``leaves`` (its leaves best first);
        ``gains`` (x, y: the gains curve of ranking accounts by their leaf's mean score);
        ``accuracy_ratio`` (of that curve, in-sample); ``summary`` (one line).
    """
    from helpers.analyse.tree import fit_tree

    fitted = {} if fitted is None else fitted
    if root not in fitted:
        fitted[root] = fit_tree(table, list(variables), dict(kinds), params, forced_root=root,
                                seed=seed)
    tree = fitted[root]
    leaves = tree.nodes[tree.nodes["is_leaf"]].sort_values(
        ["mean_score", "node_id"], ascending=[False, True], kind="stable")
    leaves = leaves[[c for c in LEAF_COLUMNS if c in leaves.columns]].reset_index(drop=True)
    ids = table["account_id"] if "account_id" in table.columns else table.index
    top = top_label(pd.to_numeric(table["score"], errors="coerce").set_axis(ids), top_share)
    pred = tree.predict(table).to_numpy(dtype=float)
    curve = gains_curve(pred, top.to_numpy())
    ar = float(accuracy_ratio(pred, top.to_numpy()))
    first = tree.nodes.loc[tree.nodes["depth"] == 1, "condition"].astype(str).tolist()
    summary = (f"root {root or AUTO}: {len(leaves)} leaves, first split "
               f"{' | '.join(first) or '(none)'}; ranking accounts by their leaf finds "
               f"{float(curve['y'].iloc[int(round(top_share * 100))]):.0%} of the top "
               f"{top_share:.0%} in its best {top_share:.0%} (accuracy ratio {ar:.2f}, "
               "in-sample)")
    return {"root": root, "tree": tree, "leaves": leaves, "gains": curve,
            "accuracy_ratio": ar, "summary": summary}


def _mix(a: str, b: str, t: float) -> str:
    ca, cb = (tuple(int(h[i:i + 2], 16) for i in (1, 3, 5)) for h in (a, b))
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))


def share_colour(share: float) -> str:
    """Red (no account in A) through yellow to green (half or more in A), as in the
    notebook's tree plot.

    Parameters
    ----------
    share : float
        The node's share of accounts in group A (NaN is drawn as 0).

    Returns
    -------
    str
        A ``#rrggbb`` colour.
    """
    t = min(1.0, max(0.0, float(share) / 0.5)) if share == share else 0.0
    return _mix("#f46d43", "#fee08b", t / 0.5) if t < 0.5 else \
        _mix("#fee08b", "#66bd63", (t - 0.5) / 0.5)


def tree_svg(view: Mapping[str, Any], box_w: int = 184, level_h: int = 92,
             max_label: int = 30) -> str:
    """The tree of a :func:`root_view` as inline SVG: one box per node (condition, accounts,
    mean score, share in A; colour = share in A), leaves framed thicker. Plain text drawing,
    no plotting library: a redraw costs milliseconds. Every label is escaped.

    Parameters
    ----------
    view : Mapping
        A :func:`root_view`.
    box_w, level_h : int
        Pixels per leaf (width) and per tree level (height).
    max_label : int
        Conditions longer than this are cut (the full one is the box's tooltip).

    Returns
    -------
    str
        One ``<svg>`` element.
    """
    tree = view["tree"]
    nodes = tree.nodes.set_index("node_id")
    children, xpos = tree.layout()
    n_leaves = max(sum(1 for n in xpos if n not in children), 1)
    depth = int(nodes["depth"].max())
    width, height = n_leaves * box_w, (depth + 1) * level_h

    def cx(node: int) -> float:
        return (xpos[node] + 0.5) * box_w

    def cy(node: int) -> float:
        return (float(nodes.at[node, "depth"]) + 0.5) * level_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">']
    for p, (lft, rgt) in children.items():
        for c in (lft, rgt):
            parts.append(f'<line x1="{cx(p):.1f}" y1="{cy(p):.1f}" x2="{cx(c):.1f}" '
                         f'y2="{cy(c):.1f}" stroke="#999"/>')
    bw, bh = box_w - 12, level_h - 22
    for node, r in nodes.iterrows():
        cond = str(r["condition"] or "all accounts")
        if len(cond) > max_label:
            cond = cond[: max_label - 1] + "…"
        x0, y0 = cx(node) - bw / 2, cy(node) - bh / 2
        parts.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{bw}" height="{bh}" rx="6" '
                     f'fill="{share_colour(r["share_A"])}" stroke="#444" '
                     f'stroke-width="{2 if r["is_leaf"] else 1}"><title>'
                     f'{html.escape(str(r["condition"] or "all accounts"))}</title></rect>')
        lines = [cond, f"n = {int(r['n']):,}", f"mean {float(r['mean_score']):,.0f}",
                 f"{float(r['share_A']):.0%} in A"]
        for k, line in enumerate(lines):
            weight = ' font-weight="bold"' if k == 0 else ""
            parts.append(f'<text x="{cx(node):.1f}" y="{y0 + 16 + 15 * k:.1f}" '
                         f'text-anchor="middle"{weight}>{html.escape(line)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def gains_svg(view: Mapping[str, Any], top_share: float = 0.25, size: int = 300) -> str:
    """The gains curve of a :func:`root_view` with random and perfect, as inline SVG.

    Parameters
    ----------
    view : Mapping
        A :func:`root_view`.
    top_share : float
        The share the perfect curve reaches 100 % at (as in :func:`root_view`).
    size : int
        Width and height in pixels.

    Returns
    -------
    str
        One ``<svg>`` element.
    """
    from helpers.present.report import PALETTE

    pad, w = 42, size
    inner = w - pad - 12

    def pt(x: float, y: float) -> str:
        return f"{pad + x * inner:.1f},{12 + (1 - y) * inner:.1f}"

    g = view["gains"]
    curve = " ".join(pt(x, y) for x, y in zip(g["x"], g["y"], strict=True))
    ticks = "".join(
        f'<text x="{pad + t * inner:.1f}" y="{w - 14}" text-anchor="middle">{t:.0%}</text>'
        f'<text x="{pad - 4}" y="{16 + (1 - t) * inner:.1f}" text-anchor="end">{t:.0%}</text>'
        for t in (0, 0.25, 0.5, 0.75, 1.0))
    label = html.escape(f"tree, root {view['root'] or AUTO}")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{w}" '
            f'viewBox="0 0 {w} {w}" font-family="sans-serif" font-size="10">'
            f'<rect x="{pad}" y="12" width="{inner}" height="{inner}" fill="none" '
            f'stroke="#ccc"/>{ticks}'
            f'<polyline points="{pt(0, 0)} {pt(1, 1)}" fill="none" stroke="grey" '
            f'stroke-dasharray="2,3"/>'
            f'<polyline points="{pt(0, 0)} {pt(top_share, 1)} {pt(1, 1)}" fill="none" '
            f'stroke="grey" stroke-dasharray="6,3,2,3"/>'
            f'<polyline points="{curve}" fill="none" stroke="{PALETTE[0]}" stroke-width="2.5"/>'
            f'<text x="{pad + 6}" y="26">{label}: accuracy ratio '
            f'{view["accuracy_ratio"]:.2f}</text>'
            f'<text x="{pad + inner - 4}" y="{12 + inner - 6}" text-anchor="end" fill="grey">'
            f'dotted: random; dash-dot: perfect</text></svg>')


def leaves_html(view: Mapping[str, Any]) -> str:
    """The leaf table and the summary line of a :func:`root_view` as escaped HTML.

    Parameters
    ----------
    view : Mapping
        A :func:`root_view`.

    Returns
    -------
    str
        A bold summary paragraph and an HTML table.
    """
    fm = {"mean_score": lambda v: f"{v:,.0f}", "share_A": lambda v: f"{v:.0%}"}
    table = view["leaves"].to_html(index=False, formatters=fm, escape=True, border=0)
    return f"<p><b>{html.escape(view['summary'])}</b></p>{table}"


def root_picker(table: pd.DataFrame, variables: Sequence[str], kinds: Mapping[str, str],
                params: Tree, interactive: bool, *, top_share: float = 0.25, seed: int = 0,
                fitted: dict[str | None, Any] | None = None,
                save_to: Path | None = None) -> Any:
    """The root picker of notebook 04.

    Parameters
    ----------
    table : pd.DataFrame
        The analysis table (one row per account, ``score`` and the variables).
    variables, kinds : Sequence[str], Mapping[str, str]
        The segmentation variables and their kinds; the roots offered are
        :func:`root_options`.
    params : Tree
        The tree parameters; ``params.forced_root`` is the root shown first.
    interactive : bool
        True: widgets (see Returns); False (papermill, HTML export): no widgets.
    top_share, seed : float, int
        As in :func:`root_view`.
    fitted : dict, optional
        Trees already fitted, by root (Step 4's root comparison); new fits are added to it.
    save_to : Path, optional
        Where "save as parameters" writes :func:`root_yaml`; None disables the button.

    Returns
    -------
    ipywidgets.VBox or dict
        ``interactive=True``: a VBox whose first row is the root slider (a
        ``SelectionSlider``), a hint, the "save as parameters" button and its status, then
        the tree and the gains curve as SVG and the leaf table (HTML widgets), redrawn on
        every change of the slider. ``interactive=False``: the :func:`root_view` of the
        parameters' root.
    """
    fitted = {} if fitted is None else fitted

    def view_of(root: str | None) -> dict[str, Any]:
        return root_view(table, variables, kinds, params, root, top_share=top_share, seed=seed,
                         fitted=fitted)

    if not interactive:
        return view_of(params.forced_root)
    options = root_options(variables, kinds)
    start = params.forced_root if params.forced_root in options else AUTO
    return _picker_panel(options, start, view_of, top_share, save_to)


def _root_of(label: str) -> str | None:
    return None if label == AUTO else label


def _picker_panel(options: list[str], start: str, view_of: Callable[[str | None], Any],
                  top_share: float, save_to: Path | None) -> Any:
    """The widgets of the interactive picker. The roots are on a ``SelectionSlider``: in
    JupyterLab 4 the arrow keys on a focused dropdown (or toggle buttons) also move the
    notebook's active cell, on a slider they only step the root (checked in
    ``tests/test_lab_browser.py``). ``continuous_update``: dragging redraws at each root
    passed, each costing one cached drawing or one tree draw (the trees are fitted by Step
    4's root comparison before the picker opens)."""
    import ipywidgets as widgets  # lazy: only the interactive notebook needs it

    pick = widgets.SelectionSlider(options=options, value=start, description="tree root",
                                   continuous_update=True, style={"description_width": "6em"},
                                   layout=widgets.Layout(width="30em"))
    pick.add_class("wb-root-picker")
    hint = widgets.HTML(f"<span style='color:#666; white-space:nowrap'>{len(options)} roots: "
                        "drag, or click and press ← →</span>")
    tree_view = widgets.HTML(layout=widgets.Layout(overflow="auto", max_width="100%"))
    gains_view, leaves, status = widgets.HTML(), widgets.HTML(), widgets.HTML()
    save = widgets.Button(description="save as parameters", icon="save",
                          disabled=save_to is None)
    rendered: dict[str, tuple[str, str, str]] = {}

    def show(*_: Any) -> None:
        label = pick.value
        if label not in rendered:
            v = view_of(_root_of(label))
            rendered[label] = (tree_svg(v), gains_svg(v, top_share), leaves_html(v))
        tree_view.value, gains_view.value, leaves.value = rendered[label]
        status.value = ""

    def on_save(_: Any) -> None:
        if save_to is not None:
            p = save_root(_root_of(pick.value), save_to)
            status.value = f"saved to <code>{html.escape(str(p))}</code>"

    pick.observe(show, names="value")
    save.on_click(on_save)
    show()
    row = widgets.HBox([pick, hint, save, status], layout=widgets.Layout(align_items="center"))
    return widgets.VBox([row, tree_view, widgets.HBox([gains_view, leaves])])

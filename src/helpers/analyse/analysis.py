"""Step 4 glue: which hypotheses to test, the candidate schemes to compare, the core variables
for synthesis, and the prospect list prepared like the customers. Small functions the analysis
notebook calls so that no logic lives only in the notebook."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from helpers.analyse.lift import Scheme, column_scheme, group_mean_scheme, model_scheme
from helpers.analyse.segments import composite_scheme
from helpers.collect import collection as C
from helpers.collect import hypotheses as H
from helpers.core.io import normalise_domain, read_table
from helpers.core.parallel import ordered_map
from helpers.core.params import Params


def tested_hypotheses(hypotheses: pd.DataFrame, quality_report: pd.DataFrame,
                      table: pd.DataFrame) -> pd.DataFrame:
    """The hypotheses Step 4 tests: selected in Step 2, not sent back by Step 3's QA, and
    with a measure column in the analysis table. Adds ``tested`` and ``not_tested_reason``."""
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
    variable but behavioural ones (product usage is only known after the sale)."""
    if observable is not None:
        keep = tested["variable"].isin(set(observable))
    else:
        keep = tested["lens"].astype(str) != "behavioural"
    return tested.loc[keep, "variable"].tolist()


def kinds_of(hypotheses: pd.DataFrame) -> dict[str, str]:
    """variable -> kind (numeric | categorical | boolean)."""
    return dict(zip(hypotheses["variable"], hypotheses["kind"], strict=True))


def core_variables(verdicts: pd.DataFrame, regression_kept: Sequence[str] = (),
                   tree_variables: Sequence[str] = (), max_variables: int = 3,
                   observable: Sequence[str] | None = None) -> list[str]:
    """The 2-3 core segmentation variables.

    Candidates: variables with a real effect — validated, or significant with an effect
    against the expected direction (the hypothesis as stated is rejected, but the variable
    still separates good from bad customers) — that a prospect list can carry. Order: the
    tree's split order first (the tree shows the cut-offs stakeholders understand), then
    variables the regression kept, then absolute effect size; ties on the variable name."""
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
    training mean score of each value."""
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
    """The segmentation tree as a scheme: refit on each training fold, score = leaf mean."""
    from helpers.analyse.tree import fit_tree

    def fit(train: pd.DataFrame) -> Any:
        return fit_tree(train, list(variables), dict(kinds), params.analysis.tree,
                        forced_root=forced_root, seed=params.seed)

    return model_scheme("tree", fit, "segmentation tree (refit per fold)")


def regression_scheme(variables: Sequence[str], kinds: Mapping[str, str], params: Params) -> Scheme:
    """The regression's linear predictor as a scheme: backward elimination refit per fold."""
    from helpers.analyse.regression import backward_eliminate, build_design

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
    on the validated segmentation ``variables``."""
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


def score_components(scored: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """The signed score components per account and unit weights (score = sum), the input of
    :func:`helpers.analyse.robustness.weight_perturbation`."""
    comps = [c for c in scored.columns if c.startswith("c_")]
    used = [c for c in comps if (scored[c] != 0).any()]
    return scored[["account_id", *used]], {c: 1.0 for c in used}


def prepare_prospects(params: Params, register: pd.DataFrame) -> pd.DataFrame | None:
    """The prospect list read like the customers (mapping, industry map, derived measures);
    None when the parameters name no prospect file."""
    src = params.inputs.prospects
    if src is None:
        return None
    prospects = read_table(src, what="prospects")
    if "domain" in prospects.columns:
        prospects["domain"] = normalise_domain(prospects["domain"])
    if "industry" in prospects.columns and params.inputs.industry_map:
        canonical, _ = C.standardise_industry(prospects["industry"],
                                              C.load_industry_map(params.inputs.industry_map))
        prospects["industry"] = canonical
    prospects, _ = C.coerce_numeric(prospects, [c for c in prospects.columns
                                                if c in params.collection.plausible_ranges],
                                    source_name="prospects")
    derived, _log = H.derive_measures(prospects, register)
    return derived


def observable_fields(prospects: pd.DataFrame | None) -> list[str] | None:
    """Fields a prospect list carries (segment rules may use only these): the columns of the
    prepared prospect list (:func:`prepare_prospects`: mapped, standardised, with the
    register's derived measures) that hold at least one value; None without a prospect list
    (then every tested variable but behavioural ones counts as observable)."""
    if prospects is None:
        return None
    return sorted(str(c) for c in prospects.columns[prospects.notna().any().to_numpy()])


def root_candidates(table: pd.DataFrame, variables: Sequence[str], kinds: Mapping[str, str],
                    tree_params: Any, seed: int = 0,
                    fitted: dict[str | None, Any] | None = None) -> pd.DataFrame:
    """Try the tree with each categorical / boolean variable forced as the first split (and
    unforced): leaves, smallest leaf and the share of score variance explained, so the
    analyst sees how much the root shapes the tree. ``fitted`` (root -> tree, None =
    unforced) receives every tree fitted here, for reuse by the caller."""
    from helpers.analyse.tree import fit_tree

    score = pd.to_numeric(table["score"], errors="coerce")
    total = float(((score - score.mean()) ** 2).sum()) or 1.0
    roots: list[str | None] = [None] + [v for v in variables if kinds.get(v) != "numeric"]

    def row(root: str | None) -> dict[str, Any]:
        try:
            res = fit_tree(table, list(variables), dict(kinds), tree_params, forced_root=root,
                           seed=seed)
        except Exception as exc:  # noqa: BLE001 - report the root as unusable, keep the others
            return {"root": root or "(best split)", "leaves": 0, "smallest_leaf": 0,
                    "variance_explained": np.nan, "first_split": "", "note": str(exc)}
        if fitted is not None:
            fitted[root] = res
        pred = res.predict(table)
        sse = float(((score - pred) ** 2).sum())
        leaves = res.nodes[res.nodes["is_leaf"]]
        first = res.nodes.loc[res.nodes["depth"] == 1, "condition"].astype(str).tolist()
        return {"root": root or "(best split)", "leaves": int(len(leaves)),
                "smallest_leaf": int(leaves["n"].min()), "variance_explained": 1 - sse / total,
                "first_split": " | ".join(first), "note": ""}

    rows = ordered_map(row, roots, desc="trees per root")  # side by side (helpers.core.parallel)
    return pd.DataFrame(rows).sort_values("variance_explained", ascending=False, kind="stable",
                                          na_position="last").reset_index(drop=True)


def _fits(reg: Any, split: Any) -> list[tuple[str, Any]]:
    fits = [("all accounts", reg)]
    if split is not None:
        fits += [(f"{split.by} = {g}", r) for g, r in split.groups.items()]
    return fits


def regression_steps(reg: Any, split: Any = None) -> pd.DataFrame:
    """Every elimination step of the pooled fit and of each sub-population fit (``fit``)."""
    frames = [r.steps.assign(fit=name) for name, r in _fits(reg, split)]
    return pd.concat(frames, ignore_index=True)


def regression_coefs(reg: Any, split: Any = None) -> pd.DataFrame:
    """Final coefficients of the pooled fit and of each sub-population fit, with fit stats."""
    frames = []
    for name, r in _fits(reg, split):
        c = r.coefs.copy()
        c["fit"] = name
        c["n"] = r.n
        c["adj_r2"] = float(r.fit.rsquared_adj) if r.fit is not None else np.nan
        c["target"] = r.target
        frames.append(c)
    return pd.concat(frames, ignore_index=True)


def empty_comparison() -> pd.DataFrame:
    return pd.DataFrame(columns=["model", "n", "k", "r2", "adj_r2", "aic", "f_test_p"])


def empty_stability() -> pd.DataFrame:
    return pd.DataFrame(columns=["segment", "mean_jaccard", "verdict"])


def decile_lift(table: pd.DataFrame, schemes: Sequence[Scheme], top_share: float,
                scores: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """In-sample decile lift table of every scheme (fit on all accounts, one table).
    ``scores``: in-sample scores already computed (scheme name -> scores in ``table`` row
    order, e.g. from ``lift.evaluate_schemes(in_sample_scores=...)``); others are fitted."""
    from helpers.analyse.lift import decile_table, top_label

    is_top = top_label(table["score"], top_share, ids=table["account_id"])
    frames = []
    for sch in schemes:
        got = (scores or {}).get(sch.name)
        scored = got if got is not None else sch.fit(table)(table)
        frames.append(decile_table(scored, is_top).assign(scheme=sch.name))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out[["scheme", *[c for c in out.columns if c != "scheme"]]] if len(out) else out


def segment_output(priorities: Any, names: Mapping[str, str]) -> pd.DataFrame:
    """The prioritised segment table with display names (overrides from the parameters)."""
    out = priorities.table.copy()
    out["name"] = out["segment"].map(dict(names)).fillna(out.get("name", out["segment"]))
    return out


def assignment_table(table: pd.DataFrame, assignment: pd.Series,
                     names: Mapping[str, str]) -> pd.DataFrame:
    """account_id, segment, segment_name, quartile, score for every analysed account."""
    seg = pd.Series(np.asarray(assignment, dtype=object), index=table.index)
    return pd.DataFrame({"account_id": table["account_id"], "segment": seg,
                         "segment_name": seg.map(dict(names)),
                         "quartile": table["quartile"].astype(str), "score": table["score"]})


def segmenter(core: Sequence[str], top_share: float, min_share: float):
    """The segmentation as a function of a frame (for bootstrap stability)."""
    from helpers.analyse.segments import assign, synthesise

    def run(frame: pd.DataFrame) -> pd.Series:
        return assign(frame, synthesise(frame, list(core), top_share=top_share,
                                        min_share=min_share))

    return run


def needs_layer(survey: pd.DataFrame | None, table: pd.DataFrame, assignment: pd.Series,
                seg_params: Any, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Needs clusters of the surveyed accounts, their description, the cross with the value
    segments and the diamonds in the rough; {} when there is no survey. Large surveys are
    clustered on a seeded sample (``helpers.analyse.needs.SAMPLE_ROWS``), the rest assigned to the
    nearest medoid."""
    from helpers.analyse.needs import cluster_needs, cross_with_value, describe_clusters, diamonds

    if survey is None or survey.empty:
        return {}
    cols = list(seg_params.needs_columns) or [c for c in survey.columns if c != "account_id"]
    missing = [c for c in cols if c not in survey.columns]
    if missing:
        from helpers.core.errors import InputDataError

        raise InputDataError("needs survey lacks the columns named in segments.needs_columns",
                             column=missing[0], hint="fix segments.needs_columns")
    nc = cluster_needs(survey, cols, tuple(seg_params.needs_k_range), seed=seed)
    outcome = seg_params.needs_outcome_column if seg_params.needs_outcome_column in cols else cols[0]
    described = describe_clusters(survey, nc.labels, cols, outcome_col=outcome)
    cross = cross_with_value(nc.labels, table, assignment).reset_index()
    cross.columns = [str(c) for c in cross.columns]
    dia = diamonds(table, nc.labels, seg_params.diamond_value_share)
    return {"needs_clusters": described, "needs_silhouette": nc.silhouettes,
            "needs_cross": cross, "diamonds": dia}


def _split_sentence(res: Mapping[str, Any]) -> str:
    split = res.get("best_split")
    return split.get("sentence", "") if isinstance(split, dict) else str(split or "")


def explorer_profile(res: Mapping[str, Any]) -> pd.DataFrame:
    """One explored variable's profile as a compact table: numerics one row per statistic
    (mean, median, accounts), categories one row per category (share), a column per group."""
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
    of a numeric, the share of the commonest categories otherwise. Returns the Figure."""
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
    """The explorer's view of one variable: best split, chart and compact table (escaped)."""
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
    notebooks and under any kernel client; text is escaped)."""
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

    import ipywidgets as W

    pick = W.SelectionSlider(options=options, value=options[0], description="variable",
                             continuous_update=False, layout=W.Layout(width="44em"))
    pick.add_class("wb-explorer-picker")
    hint = W.HTML(f"<span style='color:#666'>{len(options)} variables: drag the slider, or "
                  "click it and step with ← →</span>")
    view = W.HTML().add_class("wb-explorer")

    def show(change: Any = None) -> None:
        view.value = explorer_html(explore(table, pick.value, kinds[pick.value],
                                           n_groups=n_groups), group)

    pick.observe(show, names="value")
    show()
    return W.VBox([W.HBox([pick, hint], layout=W.Layout(align_items="center")), view],
                  layout=W.Layout(width="100%"))


def beats_random(scheme_summary: pd.DataFrame) -> bool:
    """Whether any scheme finds top accounts better than random on accounts it never saw:
    an out-of-sample accuracy ratio whose bootstrap interval lies above 0 (the ratio itself
    when there is no interval). False when there is no scheme at all."""
    if scheme_summary is None or not len(scheme_summary) or "sample" not in scheme_summary:
        return False
    oos = scheme_summary[scheme_summary["sample"] == "out_of_sample"]
    col = "accuracy_ratio_ci_low" if "accuracy_ratio_ci_low" in oos.columns and \
        oos["accuracy_ratio_ci_low"].notna().any() else "accuracy_ratio"
    return bool((pd.to_numeric(oos[col], errors="coerce") > 0).any())


def accounts_for_power(n: float, power: float, target: float, alpha: float) -> float:
    """Accounts a test would need for ``target`` power, from its ``power`` at ``n`` accounts
    (normal approximation of :func:`helpers.analyse.profiling.delta_power`: the standard error falls
    with the square root of the accounts, group shares unchanged); NaN when not computable."""
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
    those ruled out with adequate power)."""
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
    scheme beating random, ``null_result`` says so (:func:`null_result`)."""
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


def profile_wide(profile: pd.DataFrame, stat: str = "mean") -> pd.DataFrame:
    """The long quartile/decile profile as a readable wide table: one row per variable (mean)
    or per variable and category (share), one column per score group, best first."""
    part = profile[profile["stat"] == stat]
    if part.empty:
        return pd.DataFrame()
    index = ["variable"] if stat != "share" else ["variable", "category"]
    wide = part.pivot_table(index=index, columns="group", values="value", aggfunc="first",
                            observed=True, sort=False)
    order = [g for g in part["group"].drop_duplicates() if g != "all"] + ["all"]
    return wide.reindex(columns=[g for g in order if g in wide.columns])

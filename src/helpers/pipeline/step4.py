"""Step 4, analysis (notebook 04_analysis): profile and test the hypotheses, fit the tree and
the regression, judge each hypothesis, compare segmentation schemes on gains, build the
segments, test their robustness, and compare with the previous run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from helpers.analyse import analysis, lift, lightweight, profiling
from helpers.analyse.regression import backward_eliminate, split_regressions, tree_thresholds
from helpers.analyse.robustness import (
    segment_stability,
    stability_sentence,
    weight_perturbation,
    weights_sentence,
)
from helpers.analyse.segments import (
    as_segments,
    assign,
    coverage_model,
    representative_accounts,
    segment_names,
    segment_table,
    synthesise,
)
from helpers.analyse.segments import prioritise as prioritise_segments
from helpers.analyse.tree import fit_tree
from helpers.analyse.verdicts import verdicts as hypothesis_verdicts
from helpers.run.session import Session


@dataclass
class Step4Context:
    """The analysis table and the hypotheses under test."""

    table: pd.DataFrame
    hyps: pd.DataFrame
    tested: pd.DataFrame
    variables: list[str]
    kinds: dict[str, str]
    seg_vars: list[str]
    observable: list[str] | None
    n_groups: int
    extra: dict[str, Any] = field(default_factory=dict)


def context(s: Session) -> Step4Context:
    """Read Step 3's table, decide what is tested and on which variables segments may rest."""
    p, a = s.params, s.params.analysis
    table = s.store.read("analysis_table")
    hyps = analysis.tested_hypotheses(s.store.read("hypotheses"), s.store.read("quality_report"), table)
    tested = hyps[hyps["tested"]]
    prospects = analysis.prepare_prospects(p, hyps)  # read once: observability and prospect scoring
    observable = analysis.observable_fields(prospects)
    n_groups = profiling.groups_for(len(table), a.deciles_from)
    tiebreak = table["account_id"]
    table["quartile"] = profiling.score_groups(table["score"], 4, tiebreak=tiebreak)
    table["group"] = profiling.score_groups(table["score"], n_groups, tiebreak=tiebreak)
    ctx = Step4Context(table=table, hyps=hyps, tested=tested,
                       variables=tested["variable"].tolist(), kinds=analysis.kinds_of(tested),
                       seg_vars=analysis.segmentation_variables(tested, observable),
                       observable=observable, n_groups=n_groups,
                       extra={"prospects": prospects})
    choose_path(s, ctx)
    return ctx


def choose_path(s: Session, ctx: Step4Context) -> dict[str, Any]:
    """Full or lightweight analysis (``analysis.mode``; see helpers.analyse.lightweight): on the
    lightweight path, merges rare categories on the base's scale and keeps the scaled Step 4
    parameters in ``ctx.extra["analysis"]``; writes analysis_path.json (and
    lightweight_merges)."""
    a = s.params.analysis
    n = len(ctx.table)
    merges = None
    if lightweight.path_for(a, n) == lightweight.LIGHTWEIGHT:
        ctx.table, merges = lightweight.merge_categories(ctx.table, ctx.kinds, lightweight.min_category(a, n),
                                                keep=a.lightweight.keep_categories)
        ctx.extra["analysis"] = lightweight.scaled(a, n)
        s.store.write("lightweight_merges", merges, step=s.step)
    doc = lightweight.record(a, n, merges)
    ctx.extra["path"] = doc
    s.store.write_json("analysis_path", doc, step=s.step)
    return doc


def _analysis(s: Session, ctx: Step4Context) -> Any:
    """The Step 4 parameters in force (scaled to the base on the lightweight path)."""
    return ctx.extra.get("analysis", s.params.analysis)


def _lightweight(ctx: Step4Context) -> bool:
    return ctx.extra.get("path", {}).get("path") == "lightweight"


def thresholds(s: Session, ctx: Step4Context) -> pd.DataFrame:
    """Threshold finder over every tested numeric variable; writes thresholds."""
    thresholds = profiling.thresholds_table(ctx.table, ctx.tested, params=s.params.analysis)
    s.store.write("thresholds", thresholds, step=s.step)
    if _lightweight(ctx):
        s.store.write("lightweight_table", lightweight.account_table(ctx.table, ctx.variables),
                      step=s.step)
        s.store.write("lightweight_separation",
                      lightweight.separation(ctx.table, thresholds, ctx.kinds, s.params.analysis.top_share),
                      step=s.step)
    return thresholds


def profile_and_tests(s: Session, ctx: Step4Context) -> dict[str, pd.DataFrame]:
    """Quartile/decile profile and the per-hypothesis tests (BH-adjusted)."""
    a = _analysis(s, ctx)
    profile = profiling.quartile_profile(ctx.table, ctx.tested, group_col="group",
                                         n_groups=ctx.n_groups)
    tests = profiling.test_hypotheses(ctx.table, ctx.tested, a, seed=s.params.seed)
    s.store.write("quartile_profile", profile, step=s.step)
    s.store.write("hypothesis_tests", tests, step=s.step)
    return {"profile": profile, "tests": tests}


def tree(s: Session, ctx: Step4Context) -> dict[str, Any]:
    """The segmentation tree on the observable variables and the root comparison."""
    p = s.params
    trees = ctx.extra.setdefault("trees", {})  # root -> tree on the segmentation variables
    roots = analysis.root_candidates(ctx.table, ctx.seg_vars, ctx.kinds, _analysis(s, ctx).tree,
                              seed=p.seed, fitted=trees)
    result = _tree(s, ctx, p.analysis.tree.forced_root)
    s.store.write("tree_nodes", result.nodes, step=s.step)
    s.store.write("tree_roots", roots, step=s.step)
    return {"tree": result, "roots": roots}


def _tree(s: Session, ctx: Step4Context, forced_root: str | None) -> Any:
    """The tree on the segmentation variables with this root (fitted once per run: the
    root comparison, the main tree and the split regression's thresholds share it)."""
    p, trees = s.params, ctx.extra.setdefault("trees", {})
    if forced_root not in trees:
        trees[forced_root] = fit_tree(ctx.table, ctx.seg_vars, ctx.kinds, _analysis(s, ctx).tree,
                                        forced_root=forced_root, seed=p.seed)
    return trees[forced_root]


def regression(s: Session, ctx: Step4Context) -> dict[str, Any]:
    """Backward elimination, pooled and per sub-population (with the tree's thresholds)."""
    a = s.params.analysis
    if _lightweight(ctx):  # the method's lightweight recipe has no regression
        reg = lightweight.RegressionNotRun("lightweight path (" + ctx.extra["path"]["reason"] + ")")
        for name, cols in (("regression_steps", reg.steps), ("regression_coefs", reg.coefs)):
            s.store.write(name, cols, step=s.step)
        s.store.write("regression_comparison", analysis.empty_comparison(), step=s.step)
        return {"regression": reg, "split": None}
    reg = backward_eliminate(ctx.table, ctx.seg_vars, ctx.kinds, a.regression,
                                        min_accounts=a.min_accounts)
    split = None
    by = a.regression.split_by
    if by and by in ctx.table.columns and by in ctx.seg_vars:
        from helpers.core.errors import AnalysisError

        try:  # a small base may not support one regression per sub-population: pooled only
            split_tree = _tree(s, ctx, by)
            split = split_regressions(
                ctx.table, ctx.seg_vars, ctx.kinds, by=by, params=a.regression,
                group_thresholds=tree_thresholds(split_tree),
                min_accounts=a.min_accounts)
        except AnalysisError as exc:
            s.warn([f"no regression per {by}: {exc}; the pooled regression stands alone"],
                   "regression")
    s.store.write("regression_steps", analysis.regression_steps(reg, split), step=s.step)
    s.store.write("regression_coefs", analysis.regression_coefs(reg, split), step=s.step)
    s.store.write("regression_comparison",
                  split.comparison if split is not None else analysis.empty_comparison(), step=s.step)
    return {"regression": reg, "split": split}


def verdicts(s: Session, ctx: Step4Context, tests: pd.DataFrame, tree_result: Any,
                   reg: Any, split: Any) -> pd.DataFrame:
    """One verdict per hypothesis; writes hypothesis_verdicts (Parquet and CSV)."""
    if isinstance(reg, lightweight.RegressionNotRun):
        reg = None
    table = hypothesis_verdicts(ctx.table, ctx.hyps, _analysis(s, ctx), tree_result=tree_result,
                       regression_result=split if split is not None else reg, tests=tests,
                       seed=s.params.seed)
    s.store.write("hypothesis_verdicts", table, step=s.step, csv=True)
    return table


def schemes(s: Session, ctx: Step4Context, verdict_table: pd.DataFrame,
                  tree_result: Any, reg: Any, split: Any) -> dict[str, Any]:
    """Core variables, candidate schemes, gains in- and out-of-sample; writes lift,
    scheme_summary and decile_lift."""
    p, a = s.params, s.params.analysis
    kept = split.pooled.kept if split is not None else reg.kept
    core = analysis.core_variables(verdict_table, regression_kept=kept,
                            tree_variables=tree_result.split_variables,
                            max_variables=min(3, p.charter.scope.max_segments),
                            observable=ctx.observable)
    schemes = analysis.candidate_schemes(verdict_table, ctx.tested, p, core, ctx.seg_vars)
    if not schemes:
        # a legitimate result: nothing to compare with random. The tables are written (the
        # random and perfect curves only, no scheme rows) so the report can say so plainly
        s.warn(["no validated observable variable: no segmentation scheme to compare"], "lift")
        lift_long, summary = lift.evaluate_schemes(ctx.table[["account_id", "score"]], [],
                                                   top_share=a.top_share, seed=p.seed)
        s.store.write("lift", lift_long, step=s.step)
        s.store.write("scheme_summary", summary, step=s.step)
        s.store.write("decile_lift", analysis.decile_lift(ctx.table, [], a.top_share), step=s.step)
        return {"core": core, "schemes": [], "lift": lift_long, "summary": summary}
    # the schemes read only the id, the score and the segmentation variables: the folds copy
    # those columns, not the whole analysis table (5 folds x 3 repeats x every scheme)
    # (and the quartile, so that a fold's tree need not re-rank its accounts for share_A)
    used = [c for c in dict.fromkeys(["account_id", "score", "quartile", *ctx.seg_vars, *core,
                                      *([a.tree.forced_root] if a.tree.forced_root else [])])
            if c in ctx.table.columns]
    if _lightweight(ctx):
        return _schemes_in_sample(s, ctx, verdict_table, core, used)
    fitted: dict[str, Any] = {}  # in-sample scores, reused by the decile table
    lift_long, summary = lift.evaluate_schemes(ctx.table[used], schemes, top_share=a.top_share,
                                               folds=a.cv_folds, repeats=a.cv_repeats,
                                               bootstrap=a.bootstrap, seed=p.seed,
                                               in_sample_scores=fitted)
    s.store.write("lift", lift_long, step=s.step)
    s.store.write("scheme_summary", summary, step=s.step)
    s.store.write("decile_lift", analysis.decile_lift(ctx.table, schemes, a.top_share, scores=fitted),
                  step=s.step)
    return {"core": core, "schemes": schemes, "lift": lift_long, "summary": summary}


def _schemes_in_sample(s: Session, ctx: Step4Context, verdict_table: pd.DataFrame,
                       core: list[str], used: list[str]) -> dict[str, Any]:
    """The lightweight path's schemes (no regression scheme), fitted and scored on all accounts
    (no cross-validation); writes lift, scheme_summary and decile_lift."""
    p, a = s.params, _analysis(s, ctx)
    schemes = [sch for sch in analysis.candidate_schemes(verdict_table, ctx.tested,
                                                  p.model_copy(update={"analysis": a}),
                                                  core, ctx.seg_vars)
               if sch.name != "regression"]
    fitted: dict[str, Any] = {}
    lift_long, summary = lightweight.in_sample_gains(ctx.table[used], schemes, a.top_share, fitted)
    s.store.write("lift", lift_long, step=s.step)
    s.store.write("scheme_summary", summary, step=s.step)
    s.store.write("decile_lift", analysis.decile_lift(ctx.table, schemes, a.top_share, scores=fitted),
                  step=s.step)
    return {"core": core, "schemes": schemes, "lift": lift_long, "summary": summary}


def segments(s: Session, ctx: Step4Context, core: list[str]) -> dict[str, Any]:
    """Synthesis, criteria, prioritisation, examples, coverage model; writes segments,
    segment_defs.json, segment_assignments, segment_examples and coverage."""
    p, a = s.params, s.params.analysis
    table = ctx.table
    defs = synthesise(table, core, top_share=a.top_share,
                               min_share=p.segments.min_share) if core else []
    assignment = assign(table, defs)
    names = segment_names(defs, p.segments.names)
    seg_table = segment_table(table, assignment, top_share=a.top_share,
                                       segment_defs=defs, prospect_fields=ctx.observable,
                                       min_share=p.segments.min_share)
    examples = representative_accounts(table, assignment, n=p.segments.examples)
    priorities = prioritise_segments(seg_table, p.segments, examples=examples)
    seg_out = analysis.segment_output(priorities, names)
    coverage = coverage_model(seg_table, p.segments.cs)
    s.store.write("segments", seg_out, step=s.step)
    s.store.write_json("segment_defs", {
        "segments": [d.to_dict() for d in as_segments(defs)],
        "recommended": priorities.recommended, "names": names, "message": priorities.message,
        "rule": priorities.rule, "core_variables": core}, step=s.step)
    s.store.write("segment_assignments", analysis.assignment_table(table, assignment, names), step=s.step)
    s.store.write("segment_examples", examples, step=s.step)
    s.store.write("coverage", coverage, step=s.step)
    return {"defs": defs, "assignment": assignment, "names": names, "table": seg_table,
            "examples": examples, "priorities": priorities, "segments": seg_out,
            "coverage": coverage}


def robustness(s: Session, ctx: Step4Context, core: list[str],
                     names: dict[str, str]) -> dict[str, Any]:
    """Score-weight perturbation and bootstrap segment stability."""
    p, a = s.params, s.params.analysis
    components, unit = analysis.score_components(s.store.read("scored_accounts"))
    wp = weight_perturbation(components, unit, draws=p.robustness.draws,
                                        concentration=p.robustness.concentration,
                                        top_share=a.top_share,
                                        robust_share=p.robustness.robust_share, seed=p.seed)
    s.store.write("robustness_draws", wp.draws, step=s.step)
    s.store.write("robustness_summary", wp.summary, step=s.step)
    s.store.write("robust_top", wp.accounts, step=s.step)
    # the segmentation reads only the id, the score and the core variables: resample those
    stability = (segment_stability(
        ctx.table[list(dict.fromkeys(["account_id", "score", *core]))],
        analysis.segmenter(core, a.top_share, p.segments.min_share),
        n_boot=p.robustness.segment_bootstrap, seed=p.seed) if core else analysis.empty_stability())
    s.store.write("segment_stability", stability, step=s.step)
    sentences = {"weights": weights_sentence(wp),
                 "segments": (stability_sentence(stability, names) if len(stability)
                              else "No segments to test.")}
    return {"weights": wp, "stability": stability, "sentences": sentences}


def needs(s: Session, ctx: Step4Context, assignment: pd.Series) -> dict[str, pd.DataFrame]:
    """Needs clusters from the survey, crossed with the value segments."""
    from helpers.core.io import read_table

    p = s.params
    survey = read_table(p.inputs.survey, what="needs survey") if p.inputs.survey else None
    result = analysis.needs_layer(survey, ctx.table, assignment, p.segments, seed=p.seed)
    for name, frame in result.items():
        s.store.write(name, frame, step=s.step)
    return result


def prospects(s: Session, ctx: Step4Context, seg: dict[str, Any]) -> pd.DataFrame | None:
    """The segment rules applied to the prospect list; writes prospects_scored."""
    from helpers.analyse.prospects import score_prospects

    prospect_list = ctx.extra.get("prospects")
    if prospect_list is None or not seg["defs"]:
        return None
    scored = score_prospects(prospect_list, seg["defs"], seg["table"], seg["names"])
    s.store.write("prospects_scored", scored, step=s.step)
    return scored


def findings(s: Session, seg: dict[str, Any], schemes: dict[str, Any],
                   verdict_table: pd.DataFrame, robust: dict[str, Any],
                   split: Any) -> dict[str, Any]:
    """Headline facts for the report; writes findings.json."""
    summary = schemes["summary"] if len(schemes["summary"]) else pd.DataFrame(
        columns=["scheme", "sample", "accuracy_ratio"])
    found = analysis.findings(seg["segments"], seg["priorities"], summary, verdict_table,
                       robust["sentences"], split, params=s.params)
    found["core_variables"] = schemes["core"]
    s.store.write_json("findings", found, step=s.step)
    return found


def run_all(s: Session) -> dict[str, Any]:
    """Every Step 4 section in order (what 04_analysis runs)."""
    ctx = context(s)
    out: dict[str, Any] = {"ctx": ctx, "thresholds": thresholds(s, ctx)}
    out.update(profile_and_tests(s, ctx))
    out.update(tree(s, ctx))
    out.update(regression(s, ctx))
    out["verdicts"] = verdicts(s, ctx, out["tests"], out["tree"], out["regression"],
                                     out["split"])
    out["schemes"] = schemes(s, ctx, out["verdicts"], out["tree"], out["regression"],
                                   out["split"])
    out["segments"] = segments(s, ctx, out["schemes"]["core"])
    out["robustness"] = robustness(s, ctx, out["schemes"]["core"],
                                         out["segments"]["names"])
    out["needs"] = needs(s, ctx, out["segments"]["assignment"])
    out["prospects"] = prospects(s, ctx, out["segments"])
    out["findings"] = findings(s, out["segments"], out["schemes"], out["verdicts"],
                                     out["robustness"], out["split"])
    out["since_previous"] = since_previous(s)
    return out


def since_previous(s: Session) -> dict[str, Any]:
    """Compare with the previous run (parameter, input, ranking and segment changes) and
    migrate accounts from the previous quarter (matrix, retention, movers); writes
    comparison.json and, when there is something to compare with, change_* and migration_*
    tables, retention and target_movers (see helpers.analyse.quarterly)."""
    from helpers.analyse import quarterly
    from helpers.run.runs import list_runs

    p = s.params
    ids = pd.read_parquet(s.store.table_path("accounts_raw"), columns=["account_id"])[
        "account_id"].astype("str")
    cmp = quarterly.resolve_comparisons(s.run_id, p.as_of.isoformat(), list_runs(),
                                previous=p.previous_run,
                                previous_quarter=p.quarterly.previous_quarter_run,
                                lineage=p.lineage or p.charter.project,
                                shares_accounts=lambda run: quarterly.shares_accounts(run, ids))
    s.warn(list(cmp.notes), "comparison")
    doc: dict[str, Any] = {**cmp.to_dict(), "run_id": s.run_id, "as_of": p.as_of.isoformat()}
    out: dict[str, Any] = {"comparisons": cmp, "tables": {}}
    if cmp.previous_run or cmp.previous_quarter_run:
        cur = quarterly.load_run(s.run_id, s.store)
    if cmp.previous_run:
        prev = quarterly.load_run(cmp.previous_run)
        doc["previous_as_of"] = prev.as_of
        out["tables"].update(quarterly.compare_runs(prev, cur))
    if cmp.previous_quarter_run:
        prevq = quarterly.load_run(cmp.previous_quarter_run)
        doc["previous_quarter_as_of"] = prevq.as_of
        out["tables"].update(quarterly.migrate_runs(prevq, cur, tolerance=p.quarterly.mrr_change_tolerance,
                                            movers_max=p.quarterly.movers_max))
        summ = out["tables"]["migration_summary"].set_index("measure")["value"]
        doc["migration"] = {k: int(v) for k, v in summ.items()}
    for name, frame in out["tables"].items():
        s.store.write(name, frame, step=s.step)
    s.store.write_json("comparison", doc, step=s.step)
    out["doc"] = doc
    return out



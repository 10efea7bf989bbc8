"""The five steps as functions: each computes one notebook section's results from the run's
parameters and the earlier steps' tables, writes its tables to the run store, and returns
what the notebook shows. The notebooks call these section by section; tests and the
benchmark call the same functions in one process (``run_in_process``), so the numbers a
report shows always come from this code path.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pandas as pd

from helpers.collect import collection as C
from helpers.collect import hypotheses
from helpers.collect import sources as SRC
from helpers.run.session import Session
from helpers.setup import charter as CH
from helpers.setup import customers, score


class _OnFirstUse:
    """A helper module imported when first used: the Step 4 modules bring statsmodels,
    scikit-learn and scipy.stats (~1.5 s of imports) that notebooks 01-03 and 05 never need."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        module: ModuleType = importlib.import_module(f"{__package__}.{self._name}")
        return getattr(module, attr)


A = _OnFirstUse("analyse.analysis")
LW = _OnFirstUse("analyse.lightweight")
lift = _OnFirstUse("analyse.lift")
profiling = _OnFirstUse("analyse.profiling")
regression = _OnFirstUse("analyse.regression")
robustness = _OnFirstUse("analyse.robustness")
segments = _OnFirstUse("analyse.segments")
T = _OnFirstUse("analyse.tree")
V = _OnFirstUse("analyse.verdicts")

# ----------------------------------------------------------------------------- Step 1


def step1_charter(s: Session) -> dict[str, pd.DataFrame]:
    """Charter tables; writes charter.json."""
    s.store.write_json("charter", CH.charter_record(s.params.charter), step=s.step)
    return CH.charter_tables(s.params.charter)


def step1_customer_list(s: Session) -> dict[str, Any]:
    """Load the export, apply the exclusion rules, reconcile; writes accounts_raw,
    account_type_labels, exclusions and reconciliation."""
    p = s.params
    if SRC.has_tickets(p.inputs) and "tickets" not in s.pending:
        # the ticket file is scanned (DuckDB) while pandas reads the export; the score needs it
        from helpers.core.parallel import in_background

        s.pending["tickets"] = in_background(SRC.ticket_input, p.inputs, p.as_of,
                                             p.collection.ticket_window_days, p.aggregation)
    accounts, load_warnings = _load_account_list(s)
    s.warn(load_warnings, "accounts")
    flagged = customers.apply_exclusions(accounts, p.exclusions, p.as_of)
    recon = customers.reconciliation(flagged)
    load_warnings = s.warn([*load_warnings, *customers.status_mix_warnings(flagged)],
                           "accounts")
    s.store.write("accounts_raw", accounts, step=s.step)
    s.store.write("account_type_labels", customers.account_type_labels(accounts), step=s.step)
    s.store.write("exclusions", flagged[["account_id", "excluded", "exclusion_rule",
                                         "exclusion_reason", "rules_fired"]], step=s.step)
    s.store.write("reconciliation", recon, step=s.step)
    customers.check_enough_accounts(flagged, p)  # after writing: the tables show why
    excluded = flagged.loc[flagged["excluded"], ["account_id", "account_name", "mrr",
                                                 "exclusion_rule", "exclusion_reason"]]
    return {"accounts": accounts, "flagged": flagged, "reconciliation": recon,
            "excluded": excluded, "warnings": load_warnings}


def _load_account_list(s: Session) -> tuple[pd.DataFrame, list[str]]:
    """The account export, or the account list built from deals / subscriptions
    (helpers.setup.deals; writes account_list_rows, account_list_reconciliation and, with an export
    beside them, account_list_match)."""
    p = s.params
    if p.inputs.deals is None and p.inputs.subscriptions is None:
        return customers.load_accounts(p)
    from helpers.setup import deals

    built = deals.build_account_list(p)
    for name, frame in built.tables.items():
        s.store.write(name, frame, step=s.step)
    return built.accounts, built.warnings


def step1_score(s: Session, flagged: pd.DataFrame) -> pd.DataFrame:
    """Quality score of the kept accounts (cost to serve from the ticket file when given);
    writes scored_accounts."""
    p = s.params
    kept = flagged.loc[~flagged["excluded"]].drop(
        columns=["excluded", "exclusion_rule", "exclusion_reason", "rules_fired"])
    tickets = None
    if SRC.has_tickets(p.inputs):
        pending = s.pending.pop("tickets", None)  # started by step1_customer_list
        counts = pending.result() if pending is not None else SRC.ticket_input(
            p.inputs, p.as_of, p.collection.ticket_window_days, p.aggregation)
        tickets = SRC.ticket_attach(counts, kept["account_id"])
        s.warn(tickets.attrs.get("warnings", []), "tickets")
    scored = score.quality_score(kept, p.score, tickets)
    s.warn(scored.attrs.get("warnings", []), "score")
    s.store.write("scored_accounts", scored, step=s.step)
    return scored


# ----------------------------------------------------------------------------- Step 2


def step2_hypotheses(s: Session) -> dict[str, pd.DataFrame]:
    """Register, collection costs, shared sources, prioritisation; writes hypotheses."""
    p = s.params
    n_accounts = len(s.store.read("scored_accounts"))
    register = hypotheses.load_register(p.hypotheses.register_file)
    costed = hypotheses.collection_cost(register, n_accounts)
    ranked = hypotheses.prioritise(costed, p.hypotheses,
                                   max_hypotheses=p.charter.scope.max_hypotheses)
    s.store.write("hypotheses", ranked, step=s.step)
    # positive categories against the customer export: only a warning here (most measures
    # arrive, and labels are standardised, in Step 3, which stops on a category not found)
    s.warn([f"{m} in the customer export; checked again after Step 3 joins the sources"
            for m in hypotheses.check_positive_categories(
                register, s.store.read("scored_accounts"), strict=False)], "hypotheses")
    return {"register": register, "costed": costed, "shared": hypotheses.shared_sources(register),
            "ranked": ranked, "n_accounts": n_accounts}


# ----------------------------------------------------------------------------- Step 3

STEP3_REPORTS = ("join_report", "quality_report", "standardisation_log", "measure_log",
                 "unmatched_source_rows", "unmapped_industries", "worksheet_provenance")


def step3_collect(s: Session) -> dict[str, Any]:
    """Data manifest, joins, standardisation, QA; writes analysis_table and the reports."""
    from helpers.core.parallel import in_background

    p = s.params
    # the input manifest (SHA-256 and row count of every file) is read in the background
    pending_manifest = in_background(C.data_manifest, C.input_paths(p))
    scored = s.store.read("scored_accounts")
    table, reports = C.build_analysis_table(p, scored, register=s.store.read("hypotheses"))
    manifest = pending_manifest.result()
    s.store.write("data_manifest", manifest, step=s.step)
    if len(table) != len(scored):
        from helpers.core.errors import AnalysisError

        raise AnalysisError(f"the analysis table has {len(table)} rows for {len(scored)} "
                            "scored accounts: a join dropped or duplicated accounts")
    s.store.write("analysis_table", table, step=s.step)
    _label_typos(s, table, reports)
    for name in STEP3_REPORTS:
        if name in reports:
            s.store.write(name, reports[name], step=s.step)
    joins = reports["join_report"]
    s.warn([f"{r.source}: {r.unmatched_accounts} account(s) not matched"
            for r in joins.itertuples() if getattr(r, "unmatched_accounts", 0)], "joins")
    quality = reports["quality_report"]
    sent_back = quality[quality["send_back"].astype(bool)]
    # every measure is now in the table: a positive_category matching no value stops here
    hypotheses.check_positive_categories(reports["hypotheses"], table)
    s.warn([f"{r.id} ({r.variable}) sent back to Step 2: {r.reason}"
            for r in sent_back.itertuples()], "quality")
    return {"manifest": manifest, "table": table, "reports": reports, "sent_back": sent_back}


def _label_typos(s: Session, table: pd.DataFrame, reports: dict[str, pd.DataFrame]) -> None:
    """Category labels that look like typos of a known one (helpers.collect.labels): writes
    label_suggestions, adds them to the quality report and the run's warnings."""
    from helpers.collect import labels

    p = s.params
    found = labels.suggestions(table, reports["hypotheses"], reports["unmapped_industries"],
                               C.load_industry_map(p.inputs.industry_map),
                               p.collection.typo_similarity, p.inputs.industry_map)
    reports["quality_report"] = labels.annotate_quality(reports["quality_report"], found,
                                                        reports["hypotheses"])
    s.store.write("label_suggestions", found, step=s.step)
    s.warn([f"{r.field} label '{r.label}' ({r.rows} rows) looks like '{r.suggestion}': {r.fix}"
            for r in found.itertuples()], "labels")


def step3_worksheet(s: Session, table: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    """The collection worksheet of missing values (reports/<run>/collection_worksheet.xlsx)."""
    return C.make_worksheet(table, register, s.report_dir / "collection_worksheet.xlsx")


# ----------------------------------------------------------------------------- Step 4


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


def step4_context(s: Session) -> Step4Context:
    """Read Step 3's table, decide what is tested and on which variables segments may rest."""
    p, a = s.params, s.params.analysis
    table = s.store.read("analysis_table")
    hyps = A.tested_hypotheses(s.store.read("hypotheses"), s.store.read("quality_report"), table)
    tested = hyps[hyps["tested"]]
    prospects = A.prepare_prospects(p, hyps)  # read once: observability and prospect scoring
    observable = A.observable_fields(prospects)
    n_groups = profiling.groups_for(len(table), a.deciles_from)
    tiebreak = table["account_id"]
    table["quartile"] = profiling.score_groups(table["score"], 4, tiebreak=tiebreak)
    table["group"] = profiling.score_groups(table["score"], n_groups, tiebreak=tiebreak)
    ctx = Step4Context(table=table, hyps=hyps, tested=tested,
                       variables=tested["variable"].tolist(), kinds=A.kinds_of(tested),
                       seg_vars=A.segmentation_variables(tested, observable),
                       observable=observable, n_groups=n_groups,
                       extra={"prospects": prospects})
    step4_path(s, ctx)
    return ctx


def step4_path(s: Session, ctx: Step4Context) -> dict[str, Any]:
    """Full or lightweight analysis (``analysis.mode``; see helpers.analyse.lightweight): on the
    lightweight path, merges rare categories on the base's scale and keeps the scaled Step 4
    parameters in ``ctx.extra["analysis"]``; writes analysis_path.json (and
    lightweight_merges)."""
    a = s.params.analysis
    n = len(ctx.table)
    merges = None
    if LW.path_for(a, n) == LW.LIGHTWEIGHT:
        ctx.table, merges = LW.merge_categories(ctx.table, ctx.kinds, LW.min_category(a, n),
                                                keep=a.lightweight.keep_categories)
        ctx.extra["analysis"] = LW.scaled(a, n)
        s.store.write("lightweight_merges", merges, step=s.step)
    doc = LW.record(a, n, merges)
    ctx.extra["path"] = doc
    s.store.write_json("analysis_path", doc, step=s.step)
    return doc


def _analysis(s: Session, ctx: Step4Context) -> Any:
    """The Step 4 parameters in force (scaled to the base on the lightweight path)."""
    return ctx.extra.get("analysis", s.params.analysis)


def _lightweight(ctx: Step4Context) -> bool:
    return ctx.extra.get("path", {}).get("path") == "lightweight"


def step4_lightweight(s: Session, ctx: Step4Context) -> pd.DataFrame:
    """Threshold finder over every tested numeric variable; writes thresholds."""
    thresholds = profiling.thresholds_table(ctx.table, ctx.tested, params=s.params.analysis)
    s.store.write("thresholds", thresholds, step=s.step)
    if _lightweight(ctx):
        s.store.write("lightweight_table", LW.account_table(ctx.table, ctx.variables),
                      step=s.step)
        s.store.write("lightweight_separation",
                      LW.separation(ctx.table, thresholds, ctx.kinds, s.params.analysis.top_share),
                      step=s.step)
    return thresholds


def step4_profile_and_tests(s: Session, ctx: Step4Context) -> dict[str, pd.DataFrame]:
    """Quartile/decile profile and the per-hypothesis tests (BH-adjusted)."""
    a = _analysis(s, ctx)
    profile = profiling.quartile_profile(ctx.table, ctx.tested, group_col="group",
                                         n_groups=ctx.n_groups)
    tests = profiling.test_hypotheses(ctx.table, ctx.tested, a, seed=s.params.seed)
    s.store.write("quartile_profile", profile, step=s.step)
    s.store.write("hypothesis_tests", tests, step=s.step)
    return {"profile": profile, "tests": tests}


def step4_tree(s: Session, ctx: Step4Context) -> dict[str, Any]:
    """The segmentation tree on the observable variables and the root comparison."""
    p = s.params
    trees = ctx.extra.setdefault("trees", {})  # root -> tree on the segmentation variables
    roots = A.root_candidates(ctx.table, ctx.seg_vars, ctx.kinds, _analysis(s, ctx).tree,
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
        trees[forced_root] = T.fit_tree(ctx.table, ctx.seg_vars, ctx.kinds, _analysis(s, ctx).tree,
                                        forced_root=forced_root, seed=p.seed)
    return trees[forced_root]


def step4_regression(s: Session, ctx: Step4Context) -> dict[str, Any]:
    """Backward elimination, pooled and per sub-population (with the tree's thresholds)."""
    a = s.params.analysis
    if _lightweight(ctx):  # the method's lightweight recipe has no regression
        reg = LW.RegressionNotRun("lightweight path (" + ctx.extra["path"]["reason"] + ")")
        for name, cols in (("regression_steps", reg.steps), ("regression_coefs", reg.coefs)):
            s.store.write(name, cols, step=s.step)
        s.store.write("regression_comparison", A.empty_comparison(), step=s.step)
        return {"regression": reg, "split": None}
    reg = regression.backward_eliminate(ctx.table, ctx.seg_vars, ctx.kinds, a.regression,
                                        min_accounts=a.min_accounts)
    split = None
    by = a.regression.split_by
    if by and by in ctx.table.columns and by in ctx.seg_vars:
        from helpers.core.errors import AnalysisError

        try:  # a small base may not support one regression per sub-population: pooled only
            split_tree = _tree(s, ctx, by)
            split = regression.split_regressions(
                ctx.table, ctx.seg_vars, ctx.kinds, by=by, params=a.regression,
                group_thresholds=regression.tree_thresholds(split_tree),
                min_accounts=a.min_accounts)
        except AnalysisError as exc:
            s.warn([f"no regression per {by}: {exc}; the pooled regression stands alone"],
                   "regression")
    s.store.write("regression_steps", A.regression_steps(reg, split), step=s.step)
    s.store.write("regression_coefs", A.regression_coefs(reg, split), step=s.step)
    s.store.write("regression_comparison",
                  split.comparison if split is not None else A.empty_comparison(), step=s.step)
    return {"regression": reg, "split": split}


def step4_verdicts(s: Session, ctx: Step4Context, tests: pd.DataFrame, tree_result: Any,
                   reg: Any, split: Any) -> pd.DataFrame:
    """One verdict per hypothesis; writes hypothesis_verdicts (Parquet and CSV)."""
    if isinstance(reg, LW.RegressionNotRun):
        reg = None
    table = V.verdicts(ctx.table, ctx.hyps, _analysis(s, ctx), tree_result=tree_result,
                       regression_result=split if split is not None else reg, tests=tests,
                       seed=s.params.seed)
    s.store.write("hypothesis_verdicts", table, step=s.step, csv=True)
    return table


def step4_schemes(s: Session, ctx: Step4Context, verdict_table: pd.DataFrame,
                  tree_result: Any, reg: Any, split: Any) -> dict[str, Any]:
    """Core variables, candidate schemes, gains in- and out-of-sample; writes lift,
    scheme_summary and decile_lift."""
    p, a = s.params, s.params.analysis
    kept = split.pooled.kept if split is not None else reg.kept
    core = A.core_variables(verdict_table, regression_kept=kept,
                            tree_variables=tree_result.split_variables,
                            max_variables=min(3, p.charter.scope.max_segments),
                            observable=ctx.observable)
    schemes = A.candidate_schemes(verdict_table, ctx.tested, p, core, ctx.seg_vars)
    if not schemes:
        # a legitimate result: nothing to compare with random. The tables are written (the
        # random and perfect curves only, no scheme rows) so the report can say so plainly
        s.warn(["no validated observable variable: no segmentation scheme to compare"], "lift")
        lift_long, summary = lift.evaluate_schemes(ctx.table[["account_id", "score"]], [],
                                                   top_share=a.top_share, seed=p.seed)
        s.store.write("lift", lift_long, step=s.step)
        s.store.write("scheme_summary", summary, step=s.step)
        s.store.write("decile_lift", A.decile_lift(ctx.table, [], a.top_share), step=s.step)
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
    s.store.write("decile_lift", A.decile_lift(ctx.table, schemes, a.top_share, scores=fitted),
                  step=s.step)
    return {"core": core, "schemes": schemes, "lift": lift_long, "summary": summary}


def _schemes_in_sample(s: Session, ctx: Step4Context, verdict_table: pd.DataFrame,
                       core: list[str], used: list[str]) -> dict[str, Any]:
    """The lightweight path's schemes (no regression scheme), fitted and scored on all accounts
    (no cross-validation); writes lift, scheme_summary and decile_lift."""
    p, a = s.params, _analysis(s, ctx)
    schemes = [sch for sch in A.candidate_schemes(verdict_table, ctx.tested,
                                                  p.model_copy(update={"analysis": a}),
                                                  core, ctx.seg_vars)
               if sch.name != "regression"]
    fitted: dict[str, Any] = {}
    lift_long, summary = LW.in_sample_gains(ctx.table[used], schemes, a.top_share, fitted)
    s.store.write("lift", lift_long, step=s.step)
    s.store.write("scheme_summary", summary, step=s.step)
    s.store.write("decile_lift", A.decile_lift(ctx.table, schemes, a.top_share, scores=fitted),
                  step=s.step)
    return {"core": core, "schemes": schemes, "lift": lift_long, "summary": summary}


def step4_segments(s: Session, ctx: Step4Context, core: list[str]) -> dict[str, Any]:
    """Synthesis, criteria, prioritisation, examples, coverage model; writes segments,
    segment_defs.json, segment_assignments, segment_examples and coverage."""
    p, a = s.params, s.params.analysis
    table = ctx.table
    defs = segments.synthesise(table, core, top_share=a.top_share,
                               min_share=p.segments.min_share) if core else []
    assignment = segments.assign(table, defs)
    names = segments.segment_names(defs, p.segments.names)
    seg_table = segments.segment_table(table, assignment, top_share=a.top_share,
                                       segment_defs=defs, prospect_fields=ctx.observable,
                                       min_share=p.segments.min_share)
    examples = segments.representative_accounts(table, assignment, n=p.segments.examples)
    priorities = segments.prioritise(seg_table, p.segments, examples=examples)
    seg_out = A.segment_output(priorities, names)
    coverage = segments.coverage_model(seg_table, p.segments.cs)
    s.store.write("segments", seg_out, step=s.step)
    s.store.write_json("segment_defs", {
        "segments": [d.to_dict() for d in segments.as_segments(defs)],
        "recommended": priorities.recommended, "names": names, "message": priorities.message,
        "rule": priorities.rule, "core_variables": core}, step=s.step)
    s.store.write("segment_assignments", A.assignment_table(table, assignment, names), step=s.step)
    s.store.write("segment_examples", examples, step=s.step)
    s.store.write("coverage", coverage, step=s.step)
    return {"defs": defs, "assignment": assignment, "names": names, "table": seg_table,
            "examples": examples, "priorities": priorities, "segments": seg_out,
            "coverage": coverage}


def step4_robustness(s: Session, ctx: Step4Context, core: list[str],
                     names: dict[str, str]) -> dict[str, Any]:
    """Score-weight perturbation and bootstrap segment stability."""
    p, a = s.params, s.params.analysis
    components, unit = A.score_components(s.store.read("scored_accounts"))
    wp = robustness.weight_perturbation(components, unit, draws=p.robustness.draws,
                                        concentration=p.robustness.concentration,
                                        top_share=a.top_share,
                                        robust_share=p.robustness.robust_share, seed=p.seed)
    s.store.write("robustness_draws", wp.draws, step=s.step)
    s.store.write("robustness_summary", wp.summary, step=s.step)
    s.store.write("robust_top", wp.accounts, step=s.step)
    # the segmentation reads only the id, the score and the core variables: resample those
    stability = (robustness.segment_stability(
        ctx.table[list(dict.fromkeys(["account_id", "score", *core]))],
        A.segmenter(core, a.top_share, p.segments.min_share),
        n_boot=p.robustness.segment_bootstrap, seed=p.seed) if core else A.empty_stability())
    s.store.write("segment_stability", stability, step=s.step)
    sentences = {"weights": robustness.weights_sentence(wp),
                 "segments": (robustness.stability_sentence(stability, names) if len(stability)
                              else "No segments to test.")}
    return {"weights": wp, "stability": stability, "sentences": sentences}


def step4_needs(s: Session, ctx: Step4Context, assignment: pd.Series) -> dict[str, pd.DataFrame]:
    """Needs clusters from the survey, crossed with the value segments."""
    from helpers.core.io import read_table

    p = s.params
    survey = read_table(p.inputs.survey, what="needs survey") if p.inputs.survey else None
    result = A.needs_layer(survey, ctx.table, assignment, p.segments, seed=p.seed)
    for name, frame in result.items():
        s.store.write(name, frame, step=s.step)
    return result


def step4_prospects(s: Session, ctx: Step4Context, seg: dict[str, Any]) -> pd.DataFrame | None:
    """The segment rules applied to the prospect list; writes prospects_scored."""
    from helpers.analyse.prospects import score_prospects

    prospect_list = ctx.extra.get("prospects")
    if prospect_list is None or not seg["defs"]:
        return None
    scored = score_prospects(prospect_list, seg["defs"], seg["table"], seg["names"])
    s.store.write("prospects_scored", scored, step=s.step)
    return scored


def step4_findings(s: Session, seg: dict[str, Any], schemes: dict[str, Any],
                   verdict_table: pd.DataFrame, robust: dict[str, Any],
                   split: Any) -> dict[str, Any]:
    """Headline facts for the report; writes findings.json."""
    summary = schemes["summary"] if len(schemes["summary"]) else pd.DataFrame(
        columns=["scheme", "sample", "accuracy_ratio"])
    found = A.findings(seg["segments"], seg["priorities"], summary, verdict_table,
                       robust["sentences"], split, params=s.params)
    found["core_variables"] = schemes["core"]
    s.store.write_json("findings", found, step=s.step)
    return found


def step4_all(s: Session) -> dict[str, Any]:
    """Every Step 4 section in order (what 04_analysis runs)."""
    ctx = step4_context(s)
    out: dict[str, Any] = {"ctx": ctx, "thresholds": step4_lightweight(s, ctx)}
    out.update(step4_profile_and_tests(s, ctx))
    out.update(step4_tree(s, ctx))
    out.update(step4_regression(s, ctx))
    out["verdicts"] = step4_verdicts(s, ctx, out["tests"], out["tree"], out["regression"],
                                     out["split"])
    out["schemes"] = step4_schemes(s, ctx, out["verdicts"], out["tree"], out["regression"],
                                   out["split"])
    out["segments"] = step4_segments(s, ctx, out["schemes"]["core"])
    out["robustness"] = step4_robustness(s, ctx, out["schemes"]["core"],
                                         out["segments"]["names"])
    out["needs"] = step4_needs(s, ctx, out["segments"]["assignment"])
    out["prospects"] = step4_prospects(s, ctx, out["segments"])
    out["findings"] = step4_findings(s, out["segments"], out["schemes"], out["verdicts"],
                                     out["robustness"], out["split"])
    out["since_previous"] = step4_since_previous(s)
    return out


def step4_since_previous(s: Session) -> dict[str, Any]:
    """Compare with the previous run (parameter, input, ranking and segment changes) and
    migrate accounts from the previous quarter (matrix, retention, movers); writes
    comparison.json and, when there is something to compare with, change_* and migration_*
    tables, retention and target_movers (see helpers.analyse.quarterly)."""
    from helpers.analyse import quarterly as Q
    from helpers.run.runs import list_runs

    p = s.params
    ids = pd.read_parquet(s.store.table_path("accounts_raw"), columns=["account_id"])[
        "account_id"].astype("str")
    cmp = Q.resolve_comparisons(s.run_id, p.as_of.isoformat(), list_runs(),
                                previous=p.previous_run,
                                previous_quarter=p.quarterly.previous_quarter_run,
                                lineage=p.lineage or p.charter.project,
                                shares_accounts=lambda run: Q.shares_accounts(run, ids))
    s.warn(list(cmp.notes), "comparison")
    doc: dict[str, Any] = {**cmp.to_dict(), "run_id": s.run_id, "as_of": p.as_of.isoformat()}
    out: dict[str, Any] = {"comparisons": cmp, "tables": {}}
    if cmp.previous_run or cmp.previous_quarter_run:
        cur = Q.load_run(s.run_id, s.store)
    if cmp.previous_run:
        prev = Q.load_run(cmp.previous_run)
        doc["previous_as_of"] = prev.as_of
        out["tables"].update(Q.compare_runs(prev, cur))
    if cmp.previous_quarter_run:
        prevq = Q.load_run(cmp.previous_quarter_run)
        doc["previous_quarter_as_of"] = prevq.as_of
        out["tables"].update(Q.migrate_runs(prevq, cur, tolerance=p.quarterly.mrr_change_tolerance,
                                            movers_max=p.quarterly.movers_max))
        summ = out["tables"]["migration_summary"].set_index("measure")["value"]
        doc["migration"] = {k: int(v) for k, v in summ.items()}
    for name, frame in out["tables"].items():
        s.store.write(name, frame, step=s.step)
    s.store.write_json("comparison", doc, step=s.step)
    out["doc"] = doc
    return out


# ----------------------------------------------------------------------------- all steps


def run_in_process(run_id: str, params_path: str, *, report: bool = True) -> dict[str, Any]:
    """The whole chain in one Python process, without notebooks (tests, benchmark)."""
    from helpers.run.session import start

    out: dict[str, Any] = {}
    s = start(run_id, params_path, step="01_setup")
    step1_charter(s)
    lst = step1_customer_list(s)
    out["scored"] = step1_score(s, lst["flagged"])
    out["step2"] = step2_hypotheses(start(run_id, params_path, step="02_hypotheses"))
    out["step3"] = step3_collect(start(run_id, params_path, step="03_data_collection"))
    out["step4"] = step4_all(start(run_id, params_path, step="04_analysis"))
    if report:
        s5 = start(run_id, params_path, step="05_presentation")
        out["report"] = step5_report(s5)
    return out


def step5_report(s: Session) -> dict[str, Any]:
    """The stakeholder report and its data file (reports/<run>/report.html, report.xlsx)."""
    from helpers.present import deck

    html = deck.build_report(s.store, s.params, s.report_dir / "report.html")
    xlsx = deck.build_xlsx(s.store, s.params, s.report_dir / "report.xlsx")
    return {"html": html, "xlsx": xlsx, "crm": step5_crm_export(s)}


def step5_crm_export(s: Session) -> dict[str, Any]:
    """The CRM hand-back files reports/<run>/crm_<format>.csv (quarterly.crm_formats; only
    changed accounts with quarterly.crm_changed_only, against comparison.json's previous run)."""
    from helpers.analyse import quarterly as Q
    from helpers.core.export import safe_csv
    from helpers.core.store import RunStore

    q = s.params.quarterly
    assign = s.store.read("segment_assignments")
    cmp = s.store.read_json("comparison") if s.store.has("comparison") else {}
    prev = None
    if q.crm_changed_only and cmp.get("previous_run"):
        prev = RunStore(cmp["previous_run"]).read("segment_assignments")
    return {fmt: safe_csv(Q.crm_export(assign, s.run_id, fmt, previous=prev,
                                       changed_only=q.crm_changed_only),
                          s.report_dir / f"crm_{fmt}.csv") for fmt in q.crm_formats}

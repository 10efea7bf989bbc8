"""Step 4, analysis (notebook 04_analysis): profile and test the hypotheses, fit the tree and
the regression, judge each hypothesis, compare segmentation schemes on gains, build the
segments, test their robustness, and compare with the previous run.

Each section returns a frozen dataclass naming what it computed (and the tables it wrote);
a section that needs earlier results takes them as keyword arguments, e.g.
``verdicts(s, ctx, tests=..., tree=..., regression=...)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from helpers.analyse import lift, lightweight, profiling
from helpers.analyse.findings import findings as headline_facts
from helpers.analyse.lift import Scheme
from helpers.analyse.needs import needs_layer
from helpers.analyse.prospects import observable_fields, prepare_prospects, score_prospects
from helpers.analyse.regression import (
    RegressionResult,
    SplitResult,
    backward_eliminate,
    empty_comparison,
    regression_coefs,
    regression_steps,
    split_regressions,
    tree_thresholds,
)
from helpers.analyse.robustness import (
    WeightPerturbation,
    empty_stability,
    score_components,
    segment_stability,
    stability_sentence,
    weight_perturbation,
    weights_sentence,
)
from helpers.analyse.schemes import candidate_schemes, core_variables, decile_lift
from helpers.analyse.segments import (
    Prioritisation,
    Segment,
    as_segments,
    assign,
    assignment_table,
    coverage_model,
    representative_accounts,
    segment_names,
    segment_output,
    segment_table,
    segmenter,
    synthesise,
)
from helpers.analyse.segments import prioritise as prioritise_segments
from helpers.analyse.tested import kinds_of, segmentation_variables, tested_hypotheses
from helpers.analyse.tree import TreeResult, fit_tree, root_candidates
from helpers.analyse.verdicts import verdicts as hypothesis_verdicts
from helpers.collect.read import read_industry_map
from helpers.core.io import read_table
from helpers.core.params import Analysis, Params
from helpers.run.session import Session

if TYPE_CHECKING:  # imported where used: only since_previous needs the module
    from helpers.analyse.quarterly import Comparisons


@dataclass
class Step4Context:
    """What every Step 4 section reads: the analysis table and the hypotheses under test.

    Mutable on purpose: :func:`choose_path` replaces ``table`` (rare categories merged),
    ``analysis`` and ``path`` on the lightweight path while :func:`context` builds it, and
    ``trees`` is a cache the sections (and the notebook's root picker) fill as they run.

    Attributes
    ----------
    table
        The analysis table (Step 3's ``analysis_table``) with ``quartile`` and ``group``.
    hyps
        Every hypothesis with ``tested`` and ``not_tested_reason``.
    tested
        The hypotheses tested (``hyps[hyps["tested"]]``).
    variables
        Their measure columns.
    kinds
        variable -> numeric | categorical | boolean.
    seg_vars
        The tested variables a segment rule may use (observable on a prospect list).
    observable
        Fields the prospect list carries; None without a prospect list.
    n_groups
        4 (quartiles) or 10 (deciles) score groups.
    prospects
        The prepared prospect list (``inputs.prospects``), None without one.
    analysis
        The Step 4 parameters in force (scaled to the base on the lightweight path).
    path
        The analysis path (full or lightweight, and why: :class:`AnalysisPath`); None until
        :func:`choose_path` ran.
    trees
        root (None = best split) -> tree on ``seg_vars``, each fitted once per run.
    """

    table: pd.DataFrame
    hyps: pd.DataFrame
    tested: pd.DataFrame
    variables: list[str]
    kinds: dict[str, str]
    seg_vars: list[str]
    observable: list[str] | None
    n_groups: int
    analysis: Analysis
    prospects: pd.DataFrame | None = None
    path: AnalysisPath | None = None
    trees: dict[str | None, TreeResult] = field(default_factory=dict)

    @property
    def lightweight(self) -> bool:
        """Whether the lightweight path runs."""
        return self.path is not None and self.path.name == lightweight.LIGHTWEIGHT


@dataclass(frozen=True)
class AnalysisPath:
    """The analysis path: ``name`` (full | lightweight), ``reason`` (in words), ``merges``
    (rare categories merged on the base's scale, table ``lightweight_merges``; None on the
    full path) and ``record`` (the ``analysis_path.json`` document)."""

    name: str
    reason: str
    merges: pd.DataFrame | None
    record: dict[str, Any]


@dataclass(frozen=True)
class Tests:
    """Profiles and tests: ``profile`` (table ``quartile_profile``, long: one row per variable,
    group and statistic) and ``tests`` (table ``hypothesis_tests``, one row per hypothesis,
    BH-adjusted)."""

    profile: pd.DataFrame
    tests: pd.DataFrame


@dataclass(frozen=True)
class TreeFit:
    """The segmentation tree: ``tree`` (nodes in table ``tree_nodes``) and ``roots`` (table
    ``tree_roots``: every categorical root tried)."""

    tree: TreeResult
    roots: pd.DataFrame


@dataclass(frozen=True)
class RegressionFit:
    """Backward elimination: ``pooled`` on all accounts (a ``RegressionNotRun`` on the
    lightweight path) and ``split`` per sub-population (None when not asked or not possible);
    tables ``regression_steps``, ``regression_coefs`` and ``regression_comparison``."""

    pooled: RegressionResult | lightweight.RegressionNotRun
    split: SplitResult | None


@dataclass(frozen=True)
class Schemes:
    """Scheme comparison: ``core`` (the 2-3 core variables, in ``segment_defs.json`` and
    ``findings.json``), ``schemes`` (the candidates compared), ``lift`` (table ``lift``:
    gains curves) and ``summary`` (table ``scheme_summary``); the decile table is written to
    ``decile_lift``."""

    core: list[str]
    schemes: list[Scheme]
    lift: pd.DataFrame
    summary: pd.DataFrame


@dataclass(frozen=True)
class Segments:
    """The segments: ``defs`` (rules, ``segment_defs.json``), ``assignment`` (segment per
    account, table ``segment_assignments``), ``names`` (id -> display name), ``table``
    (the criteria per segment), ``examples`` (table ``segment_examples``), ``priorities``
    (recommended targets), ``segments`` (table ``segments``) and ``coverage`` (table
    ``coverage``)."""

    defs: list[Segment]
    assignment: pd.Series
    names: dict[str, str]
    table: pd.DataFrame
    examples: pd.DataFrame
    priorities: Prioritisation
    segments: pd.DataFrame
    coverage: pd.DataFrame


@dataclass(frozen=True)
class Robustness:
    """Robustness: ``weights`` (score-weight perturbation: tables ``robustness_draws``,
    ``robustness_summary``, ``robust_top``), ``stability`` (table ``segment_stability``) and
    ``sentences`` (weights / segments, for the report's ``findings.json``)."""

    weights: WeightPerturbation
    stability: pd.DataFrame
    sentences: dict[str, str]


@dataclass(frozen=True)
class Findings:
    """The report's headline facts, written to ``findings.json`` (:meth:`to_dict`; fields in
    the document's order): see :func:`helpers.analyse.findings.findings`, plus
    ``core_variables`` from :class:`Schemes`."""

    beats_random: bool
    null_result: dict[str, Any] | None
    recommended: list[str]
    recommended_names: list[str]
    coverage: float
    top_capture: float
    feasible: bool
    prioritisation_message: str
    prioritisation_rule: str
    validated: int
    rejected: int
    inconclusive: int
    best_scheme_out_of_sample: str | None
    best_scheme_accuracy_ratio: float | None
    robustness: dict[str, str]
    split_regression: str | None
    core_variables: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The ``findings.json`` document."""
        return asdict(self)


@dataclass(frozen=True)
class SincePrevious:
    """The comparison with earlier runs: ``comparisons`` (which runs and why), ``tables``
    (``change_*``, ``migration_*``, ``retention``, ``target_movers`` when there is something
    to compare with) and ``doc`` (``comparison.json``)."""

    comparisons: Comparisons
    tables: dict[str, pd.DataFrame]
    doc: dict[str, Any]


@dataclass(frozen=True)
class Results:
    """Every Step 4 section's result, as :func:`run_all` runs them (what 04_analysis shows):
    ``ctx`` (:class:`Step4Context`), ``thresholds`` (table ``thresholds``), ``tests``,
    ``tree``, ``regression`` (:class:`Tests`, :class:`TreeFit`, :class:`RegressionFit`),
    ``verdicts`` (table ``hypothesis_verdicts``), ``schemes``, ``segments``, ``robustness``
    (:class:`Schemes`, :class:`Segments`, :class:`Robustness`), ``needs`` (table name ->
    frame, {} without a survey), ``prospects`` (table ``prospects_scored``, None without a
    prospect list), ``findings`` (:class:`Findings`) and ``since_previous``
    (:class:`SincePrevious`)."""

    ctx: Step4Context
    thresholds: pd.DataFrame
    tests: Tests
    tree: TreeFit
    regression: RegressionFit
    verdicts: pd.DataFrame
    schemes: Schemes
    segments: Segments
    robustness: Robustness
    needs: dict[str, pd.DataFrame]
    prospects: pd.DataFrame | None
    findings: Findings
    since_previous: SincePrevious


def context(s: Session) -> Step4Context:
    """Read Step 3's table, decide what is tested and on which variables segments may rest.

    Parameters
    ----------
    s
        The Step 4 session.

    Returns
    -------
    Step4Context
        The table with its score groups, the hypotheses, the prospect list and the path
        (full or lightweight, :func:`choose_path`).
    """
    p, a = s.params, s.params.analysis
    table = s.store.read("analysis_table")
    hyps = tested_hypotheses(s.store.read("hypotheses"), s.store.read("quality_report"), table)
    tested = hyps[hyps["tested"]]
    prospects = _read_prospects(p, hyps)  # read once: observability and prospect scoring
    observable = observable_fields(prospects)
    n_groups = profiling.groups_for(len(table), a.deciles_from)
    tiebreak = table["account_id"]
    table["quartile"] = profiling.score_groups(table["score"], 4, tiebreak=tiebreak)
    table["group"] = profiling.score_groups(table["score"], n_groups, tiebreak=tiebreak)
    ctx = Step4Context(table=table, hyps=hyps, tested=tested,
                       variables=tested["variable"].tolist(), kinds=kinds_of(tested),
                       seg_vars=segmentation_variables(tested, observable),
                       observable=observable, n_groups=n_groups, analysis=a,
                       prospects=prospects)
    choose_path(s, ctx)
    return ctx


def _read_prospects(p: Params, register: pd.DataFrame) -> pd.DataFrame | None:
    """The prospect file (``inputs.prospects``) read and prepared like the customers; None
    when the parameters name none."""
    if p.inputs.prospects is None:
        return None
    raw = read_table(p.inputs.prospects, what="prospects")
    industry_map = (read_industry_map(p.inputs.industry_map)
                    if "industry" in raw.columns and p.inputs.industry_map else None)
    return prepare_prospects(raw, register, industry_map=industry_map,
                             numeric_columns=list(p.collection.plausible_ranges))


def choose_path(s: Session, ctx: Step4Context) -> AnalysisPath:
    """Full or lightweight analysis (``analysis.mode``; see helpers.analyse.lightweight).

    On the lightweight path, merges rare categories on the base's scale and keeps the scaled
    Step 4 parameters in ``ctx.analysis``; writes analysis_path.json (and lightweight_merges).

    Parameters
    ----------
    s
        The Step 4 session.
    ctx
        The context; ``path`` is set, and on the lightweight path ``table`` and
        ``analysis`` are replaced.

    Returns
    -------
    AnalysisPath
        The path chosen and why (also in ``ctx.path``).
    """
    a = s.params.analysis
    n = len(ctx.table)
    merges = None
    if lightweight.path_for(a, n) == lightweight.LIGHTWEIGHT:
        ctx.table, merges = lightweight.merge_categories(
            ctx.table, ctx.kinds, lightweight.min_category(a, n),
            keep=a.lightweight.keep_categories)
        ctx.analysis = lightweight.scaled(a, n)
        s.store.write("lightweight_merges", merges, step=s.step)
    doc = lightweight.record(a, n, merges)
    ctx.path = AnalysisPath(name=doc["path"], reason=doc["reason"], merges=merges, record=doc)
    s.store.write_json("analysis_path", doc, step=s.step)
    return ctx.path


def thresholds(s: Session, ctx: Step4Context) -> pd.DataFrame:
    """Threshold finder over every tested numeric variable; writes thresholds (and, on the
    lightweight path, lightweight_table and lightweight_separation).

    Parameters
    ----------
    s
        The Step 4 session.
    ctx
        The Step 4 context.

    Returns
    -------
    pandas.DataFrame
        One row per numeric variable with its cut-off and sentence.
    """
    found = profiling.thresholds_table(ctx.table, ctx.tested, params=s.params.analysis)
    s.store.write("thresholds", found, step=s.step)
    if ctx.lightweight:
        s.store.write("lightweight_table", lightweight.account_table(ctx.table, ctx.variables),
                      step=s.step)
        s.store.write("lightweight_separation",
                      lightweight.separation(ctx.table, found, ctx.kinds,
                                             s.params.analysis.top_share),
                      step=s.step)
    return found


def profile_and_tests(s: Session, ctx: Step4Context) -> Tests:
    """Quartile/decile profile and the per-hypothesis tests (BH-adjusted); writes
    quartile_profile and hypothesis_tests.

    Parameters
    ----------
    s
        The Step 4 session.
    ctx
        The Step 4 context.

    Returns
    -------
    Tests
        The profile and the tests.
    """
    profile = profiling.quartile_profile(ctx.table, ctx.tested, group_col="group",
                                         n_groups=ctx.n_groups)
    tests = profiling.test_hypotheses(ctx.table, ctx.tested, ctx.analysis, seed=s.params.seed)
    s.store.write("quartile_profile", profile, step=s.step)
    s.store.write("hypothesis_tests", tests, step=s.step)
    return Tests(profile=profile, tests=tests)


def tree(s: Session, ctx: Step4Context) -> TreeFit:
    """The segmentation tree on the observable variables and the root comparison; writes
    tree_nodes and tree_roots.

    Parameters
    ----------
    s
        The Step 4 session.
    ctx
        The Step 4 context (its tree cache is filled).

    Returns
    -------
    TreeFit
        The tree with the parameters' root and every root tried.
    """
    p = s.params
    roots = root_candidates(ctx.table, ctx.seg_vars, ctx.kinds, ctx.analysis.tree,
                            seed=p.seed, fitted=ctx.trees)
    result = _tree(s, ctx, p.analysis.tree.forced_root)
    s.store.write("tree_nodes", result.nodes, step=s.step)
    s.store.write("tree_roots", roots, step=s.step)
    return TreeFit(tree=result, roots=roots)


def _tree(s: Session, ctx: Step4Context, forced_root: str | None) -> TreeResult:
    """The tree on the segmentation variables with this root (fitted once per run: the
    root comparison, the main tree and the split regression's thresholds share it)."""
    if forced_root not in ctx.trees:
        ctx.trees[forced_root] = fit_tree(ctx.table, ctx.seg_vars, ctx.kinds,
                                          ctx.analysis.tree, forced_root=forced_root,
                                          seed=s.params.seed)
    return ctx.trees[forced_root]


def regression(s: Session, ctx: Step4Context) -> RegressionFit:
    """Backward elimination, pooled and per sub-population (with the tree's thresholds);
    writes regression_steps, regression_coefs and regression_comparison.

    Parameters
    ----------
    s
        The Step 4 session.
    ctx
        The Step 4 context.

    Returns
    -------
    RegressionFit
        The pooled fit and the split fits (None when not asked for or not possible).
    """
    a = s.params.analysis
    if ctx.lightweight:  # the method's lightweight recipe has no regression
        skipped = lightweight.RegressionNotRun(f"lightweight path ({ctx.path.reason})")
        for name, cols in (("regression_steps", skipped.steps),
                           ("regression_coefs", skipped.coefs)):
            s.store.write(name, cols, step=s.step)
        s.store.write("regression_comparison", empty_comparison(), step=s.step)
        return RegressionFit(pooled=skipped, split=None)
    pooled = backward_eliminate(ctx.table, ctx.seg_vars, ctx.kinds, a.regression,
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
    s.store.write("regression_steps", regression_steps(pooled, split), step=s.step)
    s.store.write("regression_coefs", regression_coefs(pooled, split), step=s.step)
    s.store.write("regression_comparison",
                  split.comparison if split is not None else empty_comparison(), step=s.step)
    return RegressionFit(pooled=pooled, split=split)


def verdicts(s: Session, ctx: Step4Context, *, tests: Tests, tree: TreeFit,
             regression: RegressionFit) -> pd.DataFrame:
    """One verdict per hypothesis; writes hypothesis_verdicts (Parquet and CSV).

    Parameters
    ----------
    s
        The Step 4 session.
    ctx
        The Step 4 context.
    tests, tree, regression
        The results of :func:`profile_and_tests`, :func:`tree` and :func:`regression`.

    Returns
    -------
    pandas.DataFrame
        One row per hypothesis: verdict, reason and evidence.
    """
    pooled = (None if isinstance(regression.pooled, lightweight.RegressionNotRun)
              else regression.pooled)
    evidence = regression.split if regression.split is not None else pooled
    table = hypothesis_verdicts(ctx.table, ctx.hyps, ctx.analysis, tree_result=tree.tree,
                                regression_result=evidence, tests=tests.tests,
                                seed=s.params.seed)
    s.store.write("hypothesis_verdicts", table, step=s.step, csv=True)
    return table


def schemes(s: Session, ctx: Step4Context, *, verdicts: pd.DataFrame, tree: TreeFit,
            regression: RegressionFit) -> Schemes:
    """Core variables, candidate schemes, gains in- and out-of-sample; writes lift,
    scheme_summary and decile_lift.

    Parameters
    ----------
    s
        The Step 4 session.
    ctx
        The Step 4 context.
    verdicts, tree, regression
        The results of :func:`verdicts`, :func:`tree` and :func:`regression`.

    Returns
    -------
    Schemes
        The core variables, the schemes compared and their gains (no scheme when no
        observable variable was validated: a result the report states).
    """
    p, a = s.params, s.params.analysis
    split = regression.split
    kept = split.pooled.kept if split is not None else regression.pooled.kept
    core = core_variables(verdicts, regression_kept=kept,
                          tree_variables=tree.tree.split_variables,
                          max_variables=min(3, p.charter.scope.max_segments),
                          observable=ctx.observable)
    candidates = candidate_schemes(verdicts, ctx.tested, p, core, ctx.seg_vars)
    if not candidates:
        # a legitimate result: nothing to compare with random. The tables are written (the
        # random and perfect curves only, no scheme rows) so the report can say so plainly
        s.warn(["no validated observable variable: no segmentation scheme to compare"], "lift")
        lift_long, summary = lift.evaluate_schemes(ctx.table[["account_id", "score"]], [],
                                                   top_share=a.top_share, seed=p.seed)
        _write_gains(s, lift_long, summary, decile_lift(ctx.table, [], a.top_share))
        return Schemes(core=core, schemes=[], lift=lift_long, summary=summary)
    # the schemes read only the id, the score and the segmentation variables: the folds copy
    # those columns, not the whole analysis table (5 folds x 3 repeats x every scheme)
    # (and the quartile, so that a fold's tree need not re-rank its accounts for share_A)
    used = [c for c in dict.fromkeys(["account_id", "score", "quartile", *ctx.seg_vars, *core,
                                      *([a.tree.forced_root] if a.tree.forced_root else [])])
            if c in ctx.table.columns]
    if ctx.lightweight:
        return _schemes_in_sample(s, ctx, verdicts, core, used)
    fitted: dict[str, Any] = {}  # in-sample scores, reused by the decile table
    lift_long, summary = lift.evaluate_schemes(ctx.table[used], candidates,
                                               top_share=a.top_share,
                                               folds=a.cv_folds, repeats=a.cv_repeats,
                                               bootstrap=a.bootstrap, seed=p.seed,
                                               in_sample_scores=fitted)
    _write_gains(s, lift_long, summary,
                 decile_lift(ctx.table, candidates, a.top_share, scores=fitted))
    return Schemes(core=core, schemes=candidates, lift=lift_long, summary=summary)


def _write_gains(s: Session, lift_long: pd.DataFrame, summary: pd.DataFrame,
                 deciles: pd.DataFrame) -> None:
    """Writes lift, scheme_summary and decile_lift."""
    s.store.write("lift", lift_long, step=s.step)
    s.store.write("scheme_summary", summary, step=s.step)
    s.store.write("decile_lift", deciles, step=s.step)


def _schemes_in_sample(s: Session, ctx: Step4Context, verdict_table: pd.DataFrame,
                       core: list[str], used: list[str]) -> Schemes:
    """The lightweight path's schemes (no regression scheme), fitted and scored on all accounts
    (no cross-validation); writes lift, scheme_summary and decile_lift."""
    p, a = s.params, ctx.analysis
    candidates = [sch for sch in candidate_schemes(verdict_table, ctx.tested,
                                                   p.model_copy(update={"analysis": a}),
                                                   core, ctx.seg_vars)
                  if sch.name != "regression"]
    fitted: dict[str, Any] = {}
    lift_long, summary = lightweight.in_sample_gains(ctx.table[used], candidates, a.top_share,
                                                     fitted)
    _write_gains(s, lift_long, summary,
                 decile_lift(ctx.table, candidates, a.top_share, scores=fitted))
    return Schemes(core=core, schemes=candidates, lift=lift_long, summary=summary)


def segments(s: Session, ctx: Step4Context, *, core: list[str]) -> Segments:
    """Synthesis, criteria, prioritisation, examples, coverage model; writes segments,
    segment_defs.json, segment_assignments, segment_examples and coverage.

    Parameters
    ----------
    s
        The Step 4 session.
    ctx
        The Step 4 context.
    core
        The core variables (:attr:`Schemes.core`); none: every account in the rest of base.

    Returns
    -------
    Segments
        The segment rules, the assignment and the prioritised table.
    """
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
    seg_out = segment_output(priorities, names)
    coverage = coverage_model(seg_table, p.segments.cs)
    s.store.write("segments", seg_out, step=s.step)
    s.store.write_json("segment_defs", {
        "segments": [d.to_dict() for d in as_segments(defs)],
        "recommended": priorities.recommended, "names": names, "message": priorities.message,
        "rule": priorities.rule, "core_variables": core}, step=s.step)
    s.store.write("segment_assignments", assignment_table(table, assignment, names),
                  step=s.step)
    s.store.write("segment_examples", examples, step=s.step)
    s.store.write("coverage", coverage, step=s.step)
    return Segments(defs=defs, assignment=assignment, names=names, table=seg_table,
                    examples=examples, priorities=priorities, segments=seg_out,
                    coverage=coverage)


def robustness(s: Session, ctx: Step4Context, *, core: list[str],
               names: dict[str, str]) -> Robustness:
    """Score-weight perturbation and bootstrap segment stability; writes robustness_draws,
    robustness_summary, robust_top and segment_stability.

    Parameters
    ----------
    s
        The Step 4 session.
    ctx
        The Step 4 context.
    core
        The core variables (:attr:`Schemes.core`).
    names
        Segment id -> display name (:attr:`Segments.names`).

    Returns
    -------
    Robustness
        The weight draws, the segment stability and a sentence for each.
    """
    p, a = s.params, s.params.analysis
    components, unit = score_components(s.store.read("scored_accounts"))
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
        segmenter(core, a.top_share, p.segments.min_share),
        n_boot=p.robustness.segment_bootstrap, seed=p.seed) if core else empty_stability())
    s.store.write("segment_stability", stability, step=s.step)
    sentences = {"weights": weights_sentence(wp),
                 "segments": (stability_sentence(stability, names) if len(stability)
                              else "No segments to test.")}
    return Robustness(weights=wp, stability=stability, sentences=sentences)


def needs(s: Session, ctx: Step4Context, *, assignment: pd.Series) -> dict[str, pd.DataFrame]:
    """Needs clusters from the survey, crossed with the value segments; writes
    needs_clusters, needs_silhouette, needs_cross and diamonds.

    Parameters
    ----------
    s
        The Step 4 session.
    ctx
        The Step 4 context.
    assignment
        The value segment per account (:attr:`Segments.assignment`).

    Returns
    -------
    dict
        Table name -> frame; {} without a survey (``inputs.survey``).
    """
    p = s.params
    survey = read_table(p.inputs.survey, what="needs survey") if p.inputs.survey else None
    result = needs_layer(survey, ctx.table, assignment, p.segments, seed=p.seed)
    for name, frame in result.items():
        s.store.write(name, frame, step=s.step)
    return result


def prospects(s: Session, ctx: Step4Context, *, segments: Segments) -> pd.DataFrame | None:
    """The segment rules applied to the prospect list; writes prospects_scored.

    Parameters
    ----------
    s
        The Step 4 session.
    ctx
        The Step 4 context (its prepared prospect list).
    segments
        The result of :func:`segments`.

    Returns
    -------
    pandas.DataFrame or None
        Each prospect's segment and expected quality; None without a prospect list or
        without segments.
    """
    if ctx.prospects is None or not segments.defs:
        return None
    scored = score_prospects(ctx.prospects, segments.defs, segments.table, segments.names)
    # the prospect file's attrs (its absolute path, the column mapping) ride along through
    # pandas and would land in the Parquet metadata: not a result, and machine-specific
    scored.attrs = {}
    s.store.write("prospects_scored", scored, step=s.step)
    return scored


def findings(s: Session, *, segments: Segments, schemes: Schemes, verdicts: pd.DataFrame,
             robustness: Robustness, regression: RegressionFit) -> Findings:
    """Headline facts for the report; writes findings.json.

    Parameters
    ----------
    s
        The Step 4 session.
    segments, schemes, verdicts, robustness, regression
        The results of the sections of the same names.

    Returns
    -------
    Findings
        The facts written to ``findings.json``.
    """
    summary = schemes.summary if len(schemes.summary) else pd.DataFrame(
        columns=["scheme", "sample", "accuracy_ratio"])
    facts = headline_facts(segments.segments, segments.priorities, summary, verdicts,
                           robustness.sentences, regression.split, params=s.params)
    found = Findings(**facts, core_variables=schemes.core)
    s.store.write_json("findings", found.to_dict(), step=s.step)
    return found


def run_all(s: Session) -> Results:
    """Every Step 4 section in order (what 04_analysis runs).

    Parameters
    ----------
    s
        The Step 4 session.

    Returns
    -------
    Results
        Every section's result.
    """
    ctx = context(s)
    found_thresholds = thresholds(s, ctx)
    tests = profile_and_tests(s, ctx)
    tree_fit = tree(s, ctx)
    reg = regression(s, ctx)
    verdict_table = verdicts(s, ctx, tests=tests, tree=tree_fit, regression=reg)
    compared = schemes(s, ctx, verdicts=verdict_table, tree=tree_fit, regression=reg)
    seg = segments(s, ctx, core=compared.core)
    robust = robustness(s, ctx, core=compared.core, names=seg.names)
    needs_tables = needs(s, ctx, assignment=seg.assignment)
    scored_prospects = prospects(s, ctx, segments=seg)
    found = findings(s, segments=seg, schemes=compared, verdicts=verdict_table,
                     robustness=robust, regression=reg)
    return Results(ctx=ctx, thresholds=found_thresholds, tests=tests, tree=tree_fit,
                   regression=reg, verdicts=verdict_table, schemes=compared, segments=seg,
                   robustness=robust, needs=needs_tables, prospects=scored_prospects,
                   findings=found, since_previous=since_previous(s))


def since_previous(s: Session) -> SincePrevious:
    """Compare with the previous run and migrate accounts from the previous quarter.

    Parameter, input, ranking and segment changes against the previous run; the migration
    matrix, retention and movers against the previous quarter (see helpers.analyse.quarterly).
    Writes comparison.json and, when there is something to compare with, change_* and
    migration_* tables, retention and target_movers.

    Parameters
    ----------
    s
        The Step 4 session.

    Returns
    -------
    SincePrevious
        The runs compared with, the comparison tables and the ``comparison.json`` record.
    """
    from helpers.analyse import quarterly
    from helpers.run.runs import list_runs

    p = s.params
    ids = pd.read_parquet(s.store.table_path("accounts_raw"), columns=["account_id"])[
        "account_id"].astype("str")
    cmp = quarterly.resolve_comparisons(
        s.run_id, p.as_of.isoformat(), list_runs(), previous=p.previous_run,
        previous_quarter=p.quarterly.previous_quarter_run,
        lineage=p.lineage or p.charter.project,
        shares_accounts=lambda run: quarterly.shares_accounts(run, ids))
    s.warn(list(cmp.notes), "comparison")
    doc: dict[str, Any] = {**cmp.to_dict(), "run_id": s.run_id, "as_of": p.as_of.isoformat()}
    tables: dict[str, pd.DataFrame] = {}
    if cmp.previous_run or cmp.previous_quarter_run:
        cur = quarterly.load_run(s.run_id, s.store)
    if cmp.previous_run:
        prev = quarterly.load_run(cmp.previous_run)
        doc["previous_as_of"] = prev.as_of
        tables.update(quarterly.compare_runs(prev, cur))
    if cmp.previous_quarter_run:
        prevq = quarterly.load_run(cmp.previous_quarter_run)
        doc["previous_quarter_as_of"] = prevq.as_of
        tables.update(quarterly.migrate_runs(prevq, cur,
                                             tolerance=p.quarterly.mrr_change_tolerance,
                                             movers_max=p.quarterly.movers_max))
        summ = tables["migration_summary"].set_index("measure")["value"]
        doc["migration"] = {k: int(v) for k, v in summ.items()}
    for name, frame in tables.items():
        s.store.write(name, frame, step=s.step)
    s.store.write_json("comparison", doc, step=s.step)
    return SincePrevious(comparisons=cmp, tables=tables, doc=doc)

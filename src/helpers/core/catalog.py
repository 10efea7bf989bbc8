"""The table catalog: every table and document a run writes to ``data/processed/<run>/``.

One entry per name: its kind (``table``: Parquet; ``document``: JSON; ``manifest``: the run's
``manifest.json``, written by the store itself), the pipeline function that writes it (a dotted
path, kept as a string: ``core`` imports nothing above it; a test resolves every one), the
notebook that runs that function, its key columns, one line on what it holds, and the parts of
the report that read it (the section ids of :data:`helpers.present.deck.SECTIONS`, plus
``xlsx`` for the analyst's ``report.xlsx``). An entry with ``only_when`` is written on some
paths only (a survey given, a previous run found, the lightweight analysis...).

:class:`helpers.core.store.RunStore` refuses a name that is not here, records the producer
in the manifest, and the report's analyst appendix prints each section's sources from here.
``python -m helpers.core.catalog --markdown`` prints the list kept in docs/architecture.md.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from helpers.core.errors import RunError

#: the three kinds of file a run holds
KINDS = ("table", "document", "manifest")
#: the pseudo-section of the analyst's data file (report.xlsx)
XLSX = "xlsx"
#: the notebook field of an entry every notebook writes to (warnings.json, the manifest)
EVERY_NOTEBOOK = "every notebook"


@dataclass(frozen=True)
class Entry:
    """One table or document of a run."""

    name: str
    kind: str
    producer: str
    notebook: str
    keys: tuple[str, ...]
    description: str
    sections: tuple[str, ...] = ()
    only_when: str = ""

    @property
    def optional(self) -> bool:
        """True when only some runs write it (see ``only_when``)."""
        return bool(self.only_when)

    @property
    def file(self) -> str:
        """The file name inside the run folder."""
        return f"{self.name}.parquet" if self.kind == "table" else f"{self.name}.json"


_S1 = "helpers.pipeline.step1"
_S2 = "helpers.pipeline.step2"
_S3 = "helpers.pipeline.step3"
_S4 = "helpers.pipeline.step4"
_DEALS = "the account list is built from deals or subscriptions (inputs.deals / subscriptions)"
_LIGHT = "the lightweight analysis ran (a small base, analysis.mode)"
_NEEDS = "a needs survey is given (inputs.survey)"
_PREV = "a previous run of the lineage is found (previous_run)"
_PREVQ = "a previous quarter's run is found (quarterly.previous_quarter_run)"
#: (producer, notebook) of the tables written by one function under variable names
_STEP3 = (f"{_S3}.collect", "03_data_collection")
_SINCE = (f"{_S4}.since_previous", "04_analysis")


def _t(name: str, producer: str, notebook: str, keys: Sequence[str], description: str,
       sections: Sequence[str] = (), only_when: str = "") -> Entry:
    return Entry(name, "table", producer, notebook, tuple(keys), description, tuple(sections),
                 only_when)


def _d(name: str, producer: str, notebook: str, description: str,
       sections: Sequence[str] = (), only_when: str = "") -> Entry:
    return Entry(name, "document", producer, notebook, (), description, tuple(sections),
                 only_when)


CATALOG: tuple[Entry, ...] = (
    # ------------------------------------------------------------ run-wide
    Entry("manifest", "manifest", "helpers.core.store.RunStore.update_manifest", EVERY_NOTEBOOK,
          (), "the run record (parameters and their hash, inputs with SHA-256, versions, "
          "status) and every table and document with its rows, SHA-256, notebook and producer",
          ("appendix", XLSX)),
    _d("warnings", "helpers.run.session.Session.warn", EVERY_NOTEBOOK,
       "every warning a step recorded, by notebook and source", ("method-data-gaps",)),
    # ------------------------------------------------------------ Step 1: 01_setup
    _d("charter", f"{_S1}.charter", "01_setup",
       "the project charter: objective, goals, stakeholders, scope, milestones",
       ("recap", "next-steps")),
    _t("accounts_raw", f"{_S1}.customer_list", "01_setup", ("account_id",),
       "the customer list in canonical columns, before the exclusion rules",
       ("method-data-gaps", XLSX)),
    _t("account_type_labels", f"{_S1}.customer_list", "01_setup", ("label",),
       "each account_type label of the export, its accounts and its treatment",
       ("method-reconciliation",)),
    _t("exclusions", f"{_S1}.customer_list", "01_setup", ("account_id",),
       "every account: excluded or kept, the rule that fired and why",
       ("method-reconciliation", XLSX)),
    _t("reconciliation", f"{_S1}.customer_list", "01_setup", ("rule",),
       "from the raw export to the kept accounts, rule by rule (raw = kept + excluded)",
       ("method-reconciliation", "method-hypotheses", XLSX)),
    _t("account_list_rows", f"{_S1}.customer_list", "01_setup", ("row",),
       "every deal or subscription row: used (and how) or ignored with its reason", (), _DEALS),
    _t("account_list_reconciliation", f"{_S1}.customer_list", "01_setup",
       ("used", "outcome"),
       "the deal or subscription rows summed by use and reason", ("method-reconciliation",),
       _DEALS),
    _t("account_list_match", f"{_S1}.customer_list", "01_setup", ("outcome",),
       "the accounts built from deals matched with the account export",
       ("method-reconciliation",), "an account export is given beside the deals or "
       "subscriptions"),
    _t("scored_accounts", f"{_S1}.scored_accounts", "01_setup", ("account_id",),
       "the kept accounts with the quality score, its components, rank and quartile",
       ("method-score", "method-best-worst", "method-data-gaps", XLSX)),
    # ------------------------------------------------------------ Step 2: 02_hypotheses
    _t("hypotheses", f"{_S2}.hypotheses", "02_hypotheses", ("id",),
       "the register costed and prioritised within the charter's budget",
       ("method-hypotheses", XLSX)),
    # ------------------------------------------------------------ Step 3: 03_data_collection
    _t("data_manifest", *_STEP3, ("file",),
       "every input file with its size, rows and SHA-256"),
    _t("analysis_table", *_STEP3, ("account_id",),
       "one row per scored account with every measure joined and standardised"),
    _t("join_report", *_STEP3, ("source",),
       "each source's join: accounts matched and unmatched", ("method-data-gaps",)),
    _t("quality_report", *_STEP3, ("id", "variable"),
       "each measure's completeness, staleness, range and whether it goes back to Step 2",
       ("method-data-gaps",)),
    _t("standardisation_log", *_STEP3, ("field", "rule"),
       "what standardisation changed in each measure (units, labels, dates)"),
    _t("measure_log", *_STEP3, ("variable",),
       "how each measure was derived from its source"),
    _t("unmatched_source_rows", *_STEP3, ("source", "source_row"),
       "source rows that matched no account, with the reason"),
    _t("unmapped_industries", *_STEP3, ("source", "label"),
       "industry labels the industry map does not cover"),
    _t("worksheet_provenance", *_STEP3, ("account_id", "field"),
       "values that came from the filled-in collection worksheet"),
    _t("label_suggestions", *_STEP3, ("field", "label"),
       "category labels that look like typos of a known one, with the fix",
       ("method-data-gaps",)),
    # ------------------------------------------------------------ Step 4: 04_analysis
    _d("analysis_path", f"{_S4}.choose_path", "04_analysis",
       "which analysis ran (full or lightweight) and why",
       ("executive-summary", "recap", "method-models")),
    _t("lightweight_merges", f"{_S4}.choose_path", "04_analysis", ("variable", "category"),
       "rare categories merged on the base's scale", (), _LIGHT),
    _t("thresholds", f"{_S4}.thresholds", "04_analysis", ("variable",),
       "each numeric variable's threshold that separates top accounts, in words",
       ("method-hypotheses",)),
    _t("lightweight_table", f"{_S4}.thresholds", "04_analysis", ("account_id",),
       "the accounts sorted by score with the tested fields", (), _LIGHT),
    _t("lightweight_separation", f"{_S4}.thresholds", "04_analysis", ("variable", "group"),
       "each field's groups and their share in the top against the base",
       ("method-models",), _LIGHT),
    _t("quartile_profile", f"{_S4}.profile_and_tests", "04_analysis",
       ("variable", "grouping", "group", "category", "stat"),
       "each tested variable profiled by score quartile (or decile)"),
    _t("hypothesis_tests", f"{_S4}.profile_and_tests", "04_analysis", ("hypothesis_id",),
       "each hypothesis's test, effect size and BH-adjusted p-value"),
    _t("tree_nodes", f"{_S4}.tree", "04_analysis", ("node_id",),
       "the segmentation tree's nodes and leaves with their rules", ("method-models",)),
    _t("tree_roots", f"{_S4}.tree", "04_analysis", ("root",),
       "the tree fitted from each candidate root, compared"),
    _t("regression_steps", f"{_S4}.regression", "04_analysis", ("fit", "step"),
       "the backward elimination, step by step"),
    _t("regression_coefs", f"{_S4}.regression", "04_analysis", ("fit", "term"),
       "the final regression's coefficients, pooled and per sub-population",
       ("method-models",)),
    _t("regression_comparison", f"{_S4}.regression", "04_analysis", ("model",),
       "the pooled model against one model per sub-population", ("method-models",)),
    _t("hypothesis_verdicts", f"{_S4}.verdicts", "04_analysis", ("hypothesis_id",),
       "one verdict per hypothesis with its evidence (also written as CSV)",
       ("method-hypotheses", XLSX)),
    _t("lift", f"{_S4}.schemes", "04_analysis", ("scheme", "sample", "x"),
       "the gains curve of each segmentation scheme, in- and out-of-sample",
       ("method-models",)),
    _t("scheme_summary", f"{_S4}.schemes", "04_analysis", ("scheme", "sample"),
       "each scheme's accuracy ratio and capture", ("method-models",)),
    _t("decile_lift", f"{_S4}.schemes", "04_analysis", ("scheme", "bin"),
       "each scheme's lift by decile of its ranking"),
    _t("segments", f"{_S4}.segments", "04_analysis", ("segment",),
       "one row per segment: rule, size, share in the top, lift, value, priority",
       ("executive-summary", "findings", "concentration", "segment-top-share", "trade-off",
        "method-robustness", "customer-success", "next-steps", XLSX)),
    _d("segment_defs", f"{_S4}.segments", "04_analysis",
       "the segment rules, names, the recommendation and the core variables"),
    _t("segment_assignments", f"{_S4}.segments", "04_analysis", ("account_id",),
       "every account's segment and its name", (XLSX,)),
    _t("segment_examples", f"{_S4}.segments", "04_analysis", ("segment", "example_rank"),
       "representative accounts of each segment", ("findings",)),
    _t("coverage", f"{_S4}.segments", "04_analysis", ("segment",),
       "the customer-success coverage model per segment", ("customer-success", XLSX)),
    _t("robustness_draws", f"{_S4}.robustness", "04_analysis", ("draw",),
       "each perturbation of the score weights and how the ranking moved"),
    _t("robustness_summary", f"{_S4}.robustness", "04_analysis", (),
       "the weight perturbation in figures", ("method-robustness",)),
    _t("robust_top", f"{_S4}.robustness", "04_analysis", ("account_id",),
       "how often each account stays in the top across the perturbations"),
    _t("segment_stability", f"{_S4}.robustness", "04_analysis", ("segment",),
       "each segment's bootstrap stability (Jaccard) and verdict", ("method-robustness",)),
    _t("needs_clusters", f"{_S4}.needs", "04_analysis", ("needs_cluster",),
       "the needs clusters of the surveyed accounts, described", (), _NEEDS),
    _t("needs_silhouette", f"{_S4}.needs", "04_analysis", ("k",),
       "the silhouette of each number of needs clusters tried", (), _NEEDS),
    _t("needs_cross", f"{_S4}.needs", "04_analysis", ("needs_cluster",),
       "the needs clusters crossed with the value segments", (), _NEEDS),
    _t("diamonds", f"{_S4}.needs", "04_analysis", ("account_id",),
       "low-value surveyed accounts with the needs of the best-fit cluster",
       ("customer-success",), _NEEDS),
    _t("prospects_scored", f"{_S4}.prospects", "04_analysis", (),
       "the prospect list with the segment each prospect falls in", ("next-steps",),
       "a prospect list is given (inputs.prospects) and segments were found"),
    _d("findings", f"{_S4}.findings", "04_analysis",
       "the headline facts of the analysis for the report",
       ("executive-summary", "method-robustness", "next-steps")),
    _d("comparison", *_SINCE,
       "which earlier runs this one is compared with and why, and the migration in figures",
       ("since-previous",)),
    _t("change_params", *_SINCE, ("parameter",), "parameters changed since the previous run",
       ("since-previous", XLSX), _PREV),
    _t("change_inputs", *_SINCE, ("role",), "input files changed since the previous run",
       ("since-previous", XLSX), _PREV),
    _t("change_ranking", *_SINCE, (), "how the ranking moved since the previous run",
       ("since-previous", XLSX), _PREV),
    _t("change_quartiles", *_SINCE, ("account_id",),
       "accounts whose quartile changed since the previous run", (XLSX,), _PREV),
    _t("change_segments", *_SINCE, ("rule",),
       "the segment rules of both runs and how each changed", ("since-previous",), _PREV),
    _t("migration_accounts", *_SINCE, ("account_id",),
       "every account of either quarter: state then and now, movement", (XLSX,), _PREVQ),
    _t("migration_matrix", *_SINCE, ("row", "column"),
       "accounts and ARR moving between states since the previous quarter",
       ("since-previous", XLSX), _PREVQ),
    _t("migration_summary", *_SINCE, ("measure",), "the migration in figures", (XLSX,),
       _PREVQ),
    _t("retention", *_SINCE, ("segment",),
       "gross and net revenue retention of last quarter's segments",
       ("since-previous", XLSX), _PREVQ),
    _t("target_movers", *_SINCE, ("account_id",),
       "accounts that entered or left the recommended segments",
       ("since-previous", XLSX), _PREVQ),
    _t("migration_segments", *_SINCE, ("rule",),
       "the segment rules of both quarters and how each changed",
       ("since-previous", XLSX), _PREVQ),
)

_BY_NAME = {e.name: e for e in CATALOG}


class UnknownTableError(RunError):
    """A table or document name that is not in the catalog."""


def entry(name: str) -> Entry:
    """The catalog entry of ``name``.

    Parameters
    ----------
    name
        A table or document name (``segments``, ``charter``...).

    Returns
    -------
    Entry
        Its entry; an unknown name raises :class:`UnknownTableError` naming the catalog and
        the closest names.
    """
    found = _BY_NAME.get(name)
    if found is None:
        close = difflib.get_close_matches(str(name), list(_BY_NAME), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownTableError(
            f"'{name}' is not in the table catalog (helpers.core.catalog).{hint} A new table "
            "needs an entry there (producer, notebook, keys, description) before a run "
            "writes it.")
    return found


def names(kind: str | None = None, *, optional: bool | None = None) -> tuple[str, ...]:
    """The catalog's names, in catalog order.

    Parameters
    ----------
    kind
        Only this kind (``table``, ``document``, ``manifest``); all kinds when None.
    optional
        Only the optional (True) or the always-written (False) ones; both when None.

    Returns
    -------
    tuple of str
    """
    return tuple(e.name for e in CATALOG if (kind is None or e.kind == kind)
                 and (optional is None or e.optional == optional))


def read_by(section: str) -> tuple[str, ...]:
    """The tables and documents a report section (or ``xlsx``) declares it reads.

    Parameters
    ----------
    section
        A section id of :data:`helpers.present.deck.SECTIONS`, or ``xlsx``.

    Returns
    -------
    tuple of str
        Names in catalog order (empty for a section that reads no table).
    """
    return tuple(e.name for e in CATALOG if section in e.sections)


def markdown() -> str:
    """The catalog as the Markdown table kept in docs/architecture.md (between the
    ``tables:begin`` / ``tables:end`` markers).

    Returns
    -------
    str
        One row per entry, in catalog order (the method's order).
    """
    lines = ["| file | notebook | written by | keys | holds | read by the report |",
             "|---|---|---|---|---|---|"]
    for e in CATALOG:
        keys = ", ".join(f"`{k}`" for k in e.keys) or "–"
        read = ", ".join(f"`{s}`" for s in e.sections) or "–"
        holds = e.description + (f" (only when {e.only_when})" if e.optional else "")
        lines.append(f"| `{e.file}` | `{e.notebook}` | `{e.producer}` | {keys} | {holds} "
                     f"| {read} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m helpers.core.catalog --markdown``: print the table list."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["--markdown"]:
        print("usage: python -m helpers.core.catalog --markdown", file=sys.stderr)
        return 2
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Step 3, data collection (notebook 03_data_collection): the data manifest, the joins,
standardisation and quality checks that build the analysis table, and the collection
worksheet of missing values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from helpers.collect import collection, read
from helpers.collect.hypotheses import check_positive_categories
from helpers.run.session import Session

STEP3_REPORTS = ("join_report", "quality_report", "standardisation_log", "measure_log",
                 "unmatched_source_rows", "unmapped_industries", "worksheet_provenance")


@dataclass(frozen=True)
class Collected:
    """The collected data: ``manifest`` (every input file's SHA-256 and rows, table
    ``data_manifest``), ``table`` (table ``analysis_table``), ``reports`` (name -> frame:
    the tables of ``STEP3_REPORTS``, each written under its name, plus ``hypotheses``, the
    register with its measure status) and ``sent_back`` (hypotheses the quality checks send
    back to Step 2)."""

    manifest: pd.DataFrame
    table: pd.DataFrame
    reports: dict[str, pd.DataFrame]
    sent_back: pd.DataFrame


def collect(s: Session) -> Collected:
    """Data manifest, joins, standardisation, QA; writes analysis_table and the reports.

    Parameters
    ----------
    s
        The Step 3 session.

    Returns
    -------
    Collected
        The analysis table, the collection reports and the hypotheses sent back.
    """
    from helpers.core.parallel import in_background

    p = s.params
    # the input manifest (SHA-256 and row count of every file) is read in the background
    pending_manifest = in_background(read.data_manifest, read.manifest_files(p))
    scored = s.store.read("scored_accounts")
    sources = read.read_sources(p.inputs, p.as_of, p.collection, p.aggregation)
    table, reports = collection.build_analysis_table(
        sources, scored, s.store.read("hypotheses"), rules=p.collection, currency=p.currency,
        as_of=p.as_of)
    manifest = pending_manifest.result()
    s.store.write("data_manifest", manifest, step=s.step)
    if len(table) != len(scored):
        from helpers.core.errors import AnalysisError

        raise AnalysisError(f"the analysis table has {len(table)} rows for {len(scored)} "
                            "scored accounts: a join dropped or duplicated accounts")
    s.store.write("analysis_table", table, step=s.step)
    _label_typos(s, table, reports, sources.industry_map)
    for name in STEP3_REPORTS:
        if name in reports:
            s.store.write(name, reports[name], step=s.step)
    joins = reports["join_report"]
    s.warn([f"{r.source}: {r.unmatched_accounts} account(s) not matched"
            for r in joins.itertuples() if getattr(r, "unmatched_accounts", 0)], "joins")
    quality = reports["quality_report"]
    sent_back = quality[quality["send_back"].astype(bool)]
    # every measure is now in the table: a positive_category matching no value stops here
    check_positive_categories(reports["hypotheses"], table)
    s.warn([f"{r.id} ({r.variable}) sent back to Step 2: {r.reason}"
            for r in sent_back.itertuples()], "quality")
    return Collected(manifest=manifest, table=table, reports=reports, sent_back=sent_back)


def _label_typos(s: Session, table: pd.DataFrame, reports: dict[str, pd.DataFrame],
                 industry_map: Mapping[str, str]) -> None:
    """Category labels that look like typos of a known one (helpers.collect.labels): writes
    label_suggestions, adds them to the quality report and the run's warnings.
    ``industry_map``: the one read with the sources (``Sources.industry_map``)."""
    from helpers.collect import labels

    p = s.params
    found = labels.suggestions(table, reports["hypotheses"], reports["unmapped_industries"],
                               industry_map,
                               p.collection.typo_similarity, p.inputs.industry_map)
    reports["quality_report"] = labels.annotate_quality(reports["quality_report"], found,
                                                        reports["hypotheses"])
    s.store.write("label_suggestions", found, step=s.step)
    s.warn([f"{r.field} label '{r.label}' ({r.rows} rows) looks like '{r.suggestion}': {r.fix}"
            for r in found.itertuples()], "labels")


def worksheet(s: Session, *, table: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    """The collection worksheet of missing values (reports/<run>/collection_worksheet.xlsx).

    Parameters
    ----------
    s
        The Step 3 session.
    table
        The analysis table (:attr:`Collected.table`).
    register
        The register with its measure status (``Collected.reports["hypotheses"]``).

    Returns
    -------
    pandas.DataFrame
        One row per missing value to collect.
    """
    return collection.make_worksheet(table, register, s.report_dir / "collection_worksheet.xlsx")


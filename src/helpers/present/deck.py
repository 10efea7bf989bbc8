"""Step 5: the stakeholder deck (one self-contained HTML file) and the analyst's XLSX.

:func:`build_report` and :func:`build_xlsx` read a run's tables through :class:`RunStore` and
recompute nothing: every number in the text comes from a stored table (segment shares, lift,
capture, coverage...), formatted by the section builders. A section whose tables are missing
says so in one line ("not available in this run") instead of failing, so a report can be built
after any step.

Sections, in the method's order (docs/method.md, Step 5; :data:`SECTIONS`), each built by one
function of the module for its part of the report:

- :mod:`helpers.present.story`: agenda; executive summary; stakeholder recap; key findings
  (segments in priority order); chart (a) concentration of the top accounts; chart (b) each
  segment's share of top accounts; the trade-off;
- :mod:`helpers.present.changes`: what changed since the previous run;
- :mod:`helpers.present.methodology`: score, best and worst accounts, customer-list
  reconciliation, hypotheses, data gaps and biases, regression and lift, robustness;
- :mod:`helpers.present.actions`: customer-success view; next steps;
- :mod:`helpers.present.appendix`: the appendix for analysts, with each part's sources.

What they share (reading, the context, the headline figures) is in
:mod:`helpers.present.context`; the XLSX in :mod:`helpers.present.workbook_xlsx`. The tables
each section reads are declared in the table catalog (:mod:`helpers.core.catalog`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from helpers.core.params import Params, params_hash
from helpers.core.store import RunStore
from helpers.present import actions, appendix, changes, methodology, report, story
from helpers.present.appendix import default_links
from helpers.present.context import (
    NOT_AVAILABLE,
    SECTIONS,
    Context,
    fmt_lift,
    headline,
    make_context,
    standard_segments,
    stored_document,
)
from helpers.present.report import fmt_num, fmt_pct
from helpers.present.story import headline_sentences
from helpers.present.workbook_xlsx import build_xlsx, xlsx_sheets

#: the builder of each section of :data:`SECTIONS`, by id; the tables each one reads are
#: declared in the table catalog (:func:`helpers.core.catalog.read_by`)
BUILDERS: dict[str, Callable[[Context], report.Section]] = {
    "agenda": story.agenda,
    "executive-summary": story.executive_summary,
    "recap": story.recap,
    "findings": story.key_findings,
    "concentration": story.concentration_chart,
    "segment-top-share": story.segment_top_share_chart,
    "trade-off": story.trade_off,
    "since-previous": changes.since_previous,
    "method-score": methodology.score,
    "method-best-worst": methodology.best_and_worst,
    "method-reconciliation": methodology.reconciliation,
    "method-hypotheses": methodology.hypotheses,
    "method-data-gaps": methodology.data_gaps,
    "method-models": methodology.models,
    "method-robustness": methodology.robustness,
    "customer-success": actions.customer_success,
    "next-steps": actions.next_steps,
    "appendix": appendix.appendix,
}


def build_sections(store: RunStore, params: Params,
                   appendix_links: Mapping[str, str] | None = None) -> list[report.Section]:
    """Every report section in the method's order (see :data:`SECTIONS`).

    Parameters
    ----------
    store
        The run's tables.
    params
        The run's parameters.
    appendix_links
        The appendix's file list; None for :func:`default_links`.

    Returns
    -------
    list of Section
    """
    ctx = make_context(store, params, appendix_links)
    return [BUILDERS[sid](ctx) for sid, _ in SECTIONS]


def build_report(store: RunStore, params: Params, out_path: str | Path, *,
                 appendix_links: dict[str, str] | None = None) -> Path:
    """Write the stakeholder report (one self-contained HTML file).

    Parameters
    ----------
    store
        The run's tables.
    params
        The run's parameters (title, anonymisation, formats).
    out_path
        Where to write the HTML file.
    appendix_links
        The appendix's file list; None for :func:`default_links`.

    Returns
    -------
    Path
        The file written.
    """
    sections = build_sections(store, params, appendix_links)
    ch = stored_document(store, "charter") or {}
    m = store.manifest()
    subtitle = [str(ch.get("project") or params.charter.project),
                f"Run {store.run_id} · data as of {params.as_of:%d %B %Y}"
                + (" · anonymised" if params.report.anonymise else "")]
    params_sha = str(m.get("params_hash") or params_hash(params))
    footer = [f"Run {store.run_id}; parameters hash {params_sha[:16]}.",
              "Every figure is computed from the run's stored tables (data/processed/"
              f"{store.run_id}/)."]
    html = report.render(params.report.title, subtitle, sections, footer)
    return report.write(html, out_path)


def preview(store: RunStore, params: Params) -> pd.DataFrame:
    """The headline figures as a small table (for the notebook's preview).

    Parameters
    ----------
    store
        The run's tables.
    params
        The run's parameters.

    Returns
    -------
    DataFrame
        Columns ``figure`` and ``value``; one row saying "not available in this run" without
        a recommendation.
    """
    h = headline(make_context(store, params))
    if not h:
        return pd.DataFrame({"figure": ["recommended segments"], "value": [NOT_AVAILABLE]})
    rows = [("recommended segments", ", ".join(h["names"])),
            ("coverage (share of accounts)", fmt_pct(h["coverage"])),
            (f"share of the top {fmt_pct(params.analysis.top_share)} accounts",
             fmt_pct(h["capture"])),
            ("lift over the base", fmt_lift(h["lift"])),
            ("top accounts missed", fmt_num(h["n_top_missed"]))]
    return pd.DataFrame(rows, columns=["figure", "value"])


__all__: Sequence[str] = ("build_report", "build_xlsx", "build_sections", "headline",
                          "headline_sentences", "standard_segments", "xlsx_sheets", "preview",
                          "default_links", "make_context", "Context", "BUILDERS", "SECTIONS",
                          "NOT_AVAILABLE")

"""The report's "What changed since the previous run" section: the run-to-run diff and the
quarter-to-quarter migration, from the tables of ``helpers.pipeline.step4.since_previous``
(comparison.json, change_*, migration_*, retention, target_movers).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from helpers.present import report
from helpers.present.context import (
    Context,
    as_float,
    not_available,
    stored_document,
    stored_table,
)
from helpers.present.report import fmt_num, fmt_pct


def since_previous(ctx: Context) -> report.Section:
    """Run-to-run diff and quarter-to-quarter migration, from the tables of step4.since_previous
    (comparison.json, change_*, migration_*, retention...).

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``since-previous``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    s = report.Section("since-previous", "What changed since the previous run")
    doc = stored_document(ctx.store, "comparison")
    if not isinstance(doc, Mapping):
        return not_available(s, "The comparison with the previous run")
    prev, prevq = doc.get("previous_run"), doc.get("previous_quarter_run")
    notes = [str(n) for n in doc.get("notes") or []]
    if not prev and not prevq:
        s.add(report.note("First run: there is no earlier complete run of this lineage to compare "
                          "with."))
        return s.add(report.bullets(notes)) if notes else s
    if notes:
        s.add(report.p("Runs not compared with:"), report.bullets(notes))
    if prev:
        _run_diff(ctx, s, doc, prev)
    if prevq:
        _migration(ctx, s, doc, prev, prevq)
    _segment_rules(ctx, s)
    return s


def _run_diff(ctx: Context, s: report.Section, doc: Mapping[str, Any], prev: str) -> None:
    """The diff with the previous run: parameters, inputs, ranking (change_* tables)."""
    s.add(report.h3(f"Compared with run {prev} (as of {doc.get('previous_as_of', '–')})"),
          report.note(f"Chosen as: {doc.get('previous_rule', '')}."))
    cp = stored_table(ctx.store, "change_params")
    if cp is not None:
        s.add(report.p(f"{len(cp)} parameter(s) differ." if len(cp) else
                       "The parameters are the same."))
        if len(cp):
            s.add(report.table(cp, max_rows=30))
    ci = stored_table(ctx.store, "change_inputs")
    if ci is not None and len(ci):
        s.add(report.table(ci[[c for c in ("role", "change", "path_prev", "path_cur",
                                           "rows_prev", "rows_cur") if c in ci.columns]],
                           caption="Input files (by SHA-256)"))
    rk = stored_table(ctx.store, "change_ranking")
    if rk is not None and len(rk):
        r = rk.iloc[0]
        s.add(report.p(f"Ranking: of {fmt_num(int(r['accounts']))} accounts scored in both "
                       "runs the scores correlate at Spearman "
                       f"{as_float(r['spearman']):.3f} (Kendall "
                       f"{as_float(r['kendall']):.3f}); {fmt_num(int(r['changed_quartile']))} "
                       "changed quartile and "
                       f"{fmt_pct(as_float(r['top_quartile_kept']))} of the "
                       "previous top quartile stayed in it."))


def _migration(ctx: Context, s: report.Section, doc: Mapping[str, Any], prev: str | None,
               prevq: str) -> None:
    """The migration since the previous quarter: in figures, the matrix, retention and the
    accounts into and out of the target segments (migration_* tables)."""
    from helpers.analyse.quarterly import matrix_wide

    as_of = doc.get("previous_quarter_as_of", "–")
    s.add(report.h3(f"Migration since {prevq} (as of {as_of})"))
    if prevq != prev:
        s.add(report.note(f"Chosen as: {doc.get('quarter_rule', '')}."))
    mig = doc.get("migration") or {}
    if mig:
        s.add(report.p(
            f"{fmt_num(mig.get('movement: won', 0))} account(s) won, "
            f"{fmt_num(mig.get('churned (customer before, not now)', 0))} churned, "
            f"{fmt_num(mig.get('movement: upgraded', 0))} upgraded and "
            f"{fmt_num(mig.get('movement: downgraded', 0))} downgraded (MRR); "
            f"{fmt_num(mig.get('changed segment (customers in both, segmented in both)', 0))}"
            " changed segment; "
            f"{fmt_num(mig.get('moved into the target segments', 0))} moved into and "
            f"{fmt_num(mig.get('moved out of the target segments', 0))} out of the target "
            "segments. Every account of either snapshot appears once below"
            + (" (reconciled)." if mig.get("reconciles") else " (DOES NOT RECONCILE).")))
    mm = stored_table(ctx.store, "migration_matrix")
    if mm is not None and len(mm):
        s.add(report.table(matrix_wide(mm, "accounts"), caption="Accounts: previous state "
                           "(rows) to current state (columns)", max_rows=40))
        s.add(report.table(matrix_wide(mm, "arr_cur"), caption="Current ARR by cell (churned: "
                           "0; the ARR lost is in the retention table)", max_rows=40,
                           formats={c: ctx.money
                                    for c in matrix_wide(mm, "arr_cur").columns[1:]}))
    rt = stored_table(ctx.store, "retention")
    if rt is not None and len(rt):
        s.add(report.p("Gross revenue retention = (start ARR − churned − contraction) / "
                       "start ARR; "
                       "net revenue retention adds expansion (customers of the previous run)."),
              report.table(rt, formats={**{c: ctx.money for c in ("start_arr", "churned_arr",
                                                                  "contraction_arr",
                                                                  "expansion_arr", "end_arr")},
                                        "grr": lambda v: fmt_pct(v, 1),
                                        "nrr": lambda v: fmt_pct(v, 1)}))
    tm = stored_table(ctx.store, "target_movers")
    if tm is not None:
        s.add(report.h3("Accounts into and out of the target segments (for customer success)"),
              report.table(ctx.accounts(tm), max_rows=25,
                           formats={"arr_prev": ctx.money, "arr_cur": ctx.money},
                           caption="Full list in report.xlsx, sheet 'target movers'"))


def _segment_rules(ctx: Context, s: report.Section) -> None:
    """How the segment rules changed (migration_segments, else change_segments)."""
    seg = stored_table(ctx.store, "migration_segments")
    if seg is None:
        seg = stored_table(ctx.store, "change_segments")
    if seg is not None and len(seg):
        same = int((seg["status"] == "same rule").sum())
        s.add(report.h3("Stability of the segment definitions"),
              report.p(f"{same} of {len(seg)} segment rule(s) are the same in both runs."),
              report.table(seg[[c for c in ("rule", "status", "name_cur", "recommended_prev",
                                            "recommended_cur", "accounts_prev", "accounts_cur",
                                            "share_change", "jaccard") if c in seg.columns]],
                           formats={"share_change": lambda v: fmt_pct(v, 1)}))

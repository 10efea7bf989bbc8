"""Step 5, presentation (notebook 05_presentation): the stakeholder report, its data file and
the CRM hand-back files.
"""

from __future__ import annotations

from typing import Any

from helpers.run.session import Session


def report(s: Session) -> dict[str, Any]:
    """The stakeholder report and its data file (reports/<run>/report.html, report.xlsx)."""
    from helpers.present import deck

    html = deck.build_report(s.store, s.params, s.report_dir / "report.html")
    xlsx = deck.build_xlsx(s.store, s.params, s.report_dir / "report.xlsx")
    return {"html": html, "xlsx": xlsx, "crm": crm_export(s)}


def crm_export(s: Session) -> dict[str, Any]:
    """The CRM hand-back files reports/<run>/crm_<format>.csv (quarterly.crm_formats; only
    changed accounts with quarterly.crm_changed_only, against comparison.json's previous run)."""
    from helpers.analyse import quarterly
    from helpers.core.export import safe_csv
    from helpers.core.store import RunStore

    q = s.params.quarterly
    assign = s.store.read("segment_assignments")
    cmp = s.store.read_json("comparison") if s.store.has("comparison") else {}
    prev = None
    if q.crm_changed_only and cmp.get("previous_run"):
        prev = RunStore(cmp["previous_run"]).read("segment_assignments")
    return {fmt: safe_csv(quarterly.crm_export(assign, s.run_id, fmt, previous=prev,
                                       changed_only=q.crm_changed_only),
                          s.report_dir / f"crm_{fmt}.csv") for fmt in q.crm_formats}

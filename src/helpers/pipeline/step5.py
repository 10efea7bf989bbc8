"""Step 5, presentation (notebook 05_presentation): the stakeholder report, its data file and
the CRM hand-back files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from helpers.run.session import Session


@dataclass(frozen=True)
class Report:
    """The files Step 5 writes under reports/<run>/: ``html`` (report.html), ``xlsx``
    (report.xlsx, the analyst's workbook) and ``crm`` (format -> crm_<format>.csv)."""

    html: Path
    xlsx: Path
    crm: dict[str, Path]


def report(s: Session) -> Report:
    """The stakeholder report, its data file and the CRM hand-back files.

    Parameters
    ----------
    s
        The Step 5 session.

    Returns
    -------
    Report
        The paths written (reports/<run>/report.html, report.xlsx, crm_<format>.csv).
    """
    from helpers.present import deck

    html = deck.build_report(s.store, s.params, s.report_dir / "report.html")
    xlsx = deck.build_xlsx(s.store, s.params, s.report_dir / "report.xlsx")
    return Report(html=html, xlsx=xlsx, crm=crm_export(s))


def crm_export(s: Session) -> dict[str, Path]:
    """The CRM hand-back files reports/<run>/crm_<format>.csv.

    One file per format in ``quarterly.crm_formats``; only the changed accounts with
    ``quarterly.crm_changed_only``, against comparison.json's previous run.

    Parameters
    ----------
    s
        The Step 5 session.

    Returns
    -------
    dict
        Format -> path of the file written.
    """
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

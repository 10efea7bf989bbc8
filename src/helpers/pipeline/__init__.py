"""The five steps as functions, one module per step (``step1`` ... ``step5``, named like the
notebooks that call them). Each function computes one notebook section's results from the
run's parameters and the earlier steps' tables, writes its tables to the run store, and
returns what the notebook shows. Tests, the calibration study and the benchmark call the
same functions in one process (``run_in_process``), so the numbers a report shows always
come from this code path.
"""

from __future__ import annotations

from typing import Any


def run_in_process(run_id: str, params_path: str, *, report: bool = True) -> dict[str, Any]:
    """The whole chain in one Python process, without notebooks (tests, benchmark)."""
    from helpers.pipeline import step1, step2, step3, step4, step5
    from helpers.run.session import start

    out: dict[str, Any] = {}
    s = start(run_id, params_path, step="01_setup")
    step1.charter(s)
    lst = step1.customer_list(s)
    out["scored"] = step1.scored_accounts(s, lst["flagged"])
    out["step2"] = step2.hypotheses(start(run_id, params_path, step="02_hypotheses"))
    out["step3"] = step3.collect(start(run_id, params_path, step="03_data_collection"))
    out["step4"] = step4.run_all(start(run_id, params_path, step="04_analysis"))
    if report:
        s5 = start(run_id, params_path, step="05_presentation")
        out["report"] = step5.report(s5)
    return out


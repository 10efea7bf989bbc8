"""The five steps as functions, one module per step (``step1`` ... ``step5``, named like the
notebooks that call them). Each function computes one notebook section's results from the
run's parameters and the earlier steps' tables, writes its tables to the run store, and
returns what the notebook shows (a frozen dataclass naming each result and the table it was
written to, e.g. ``step4.Results``). Tests, the calibration study and the benchmark call the
same functions in one process (``run_in_process``), so the numbers a report shows always
come from this code path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # the step modules are imported when the chain runs
    from helpers.pipeline.step2 import Hypotheses
    from helpers.pipeline.step3 import Collected
    from helpers.pipeline.step4 import Results
    from helpers.pipeline.step5 import Report


@dataclass(frozen=True)
class ChainResult:
    """What :func:`run_in_process` returns: ``scored`` (table ``scored_accounts``),
    ``step2`` (:class:`helpers.pipeline.step2.Hypotheses`), ``step3``
    (:class:`helpers.pipeline.step3.Collected`), ``step4``
    (:class:`helpers.pipeline.step4.Results`) and ``report``
    (:class:`helpers.pipeline.step5.Report`, None with ``report=False``)."""

    scored: pd.DataFrame
    step2: Hypotheses
    step3: Collected
    step4: Results
    report: Report | None = None


def run_in_process(run_id: str, params_path: str, *, report: bool = True) -> ChainResult:
    """The whole chain in one Python process, without notebooks (tests, benchmark).

    Parameters
    ----------
    run_id
        The run to write (data/processed/<run_id>, reports/<run_id>).
    params_path
        The parameter file.
    report
        Whether to run Step 5 (the report and the CRM files).

    Returns
    -------
    ChainResult
        Every step's result.
    """
    from helpers.pipeline import step1, step2, step3, step4, step5
    from helpers.run.session import start

    s = start(run_id, params_path, step="01_setup")
    step1.charter(s)
    listed = step1.customer_list(s)
    scored = step1.scored_accounts(s, flagged=listed.flagged)
    hypotheses = step2.hypotheses(start(run_id, params_path, step="02_hypotheses"))
    collected = step3.collect(start(run_id, params_path, step="03_data_collection"))
    results = step4.run_all(start(run_id, params_path, step="04_analysis"))
    built = step5.report(start(run_id, params_path, step="05_presentation")) if report else None
    return ChainResult(scored=scored, step2=hypotheses, step3=collected, step4=results,
                       report=built)

"""Step 1 charter: objective, stakeholders, scope, deliverables and milestones as tables."""

from __future__ import annotations

import pandas as pd

from helpers.core.params import Charter


def charter_tables(charter: Charter) -> dict[str, pd.DataFrame]:
    """The charter as small tables (stakeholders, scope, deliverables, milestones).

    Parameters
    ----------
    charter : Charter
        The ``charter`` parameters.

    Returns
    -------
    dict[str, pd.DataFrame]
        Tables keyed ``stakeholders``, ``scope``, ``deliverables``, ``milestones``.
    """
    scope = charter.scope
    scope_rows = [
        ("Share of accounts analysed", f"{scope.share_of_accounts:.0%}"),
        ("Maximum hypotheses to test", str(scope.max_hypotheses)),
        ("Maximum segments", str(scope.max_segments)),
    ] + [(f"Time for {stage.replace('_', ' ')} (days)", f"{days:g}")
         for stage, days in scope.time_per_stage_days.items()]
    return {
        "stakeholders": pd.DataFrame([s.model_dump() for s in charter.stakeholders],
                                     columns=["name", "role", "goal"]),
        "scope": pd.DataFrame(scope_rows, columns=["item", "value"]),
        "deliverables": pd.DataFrame({"deliverable": charter.deliverables}),
        "milestones": pd.DataFrame([m.model_dump() for m in charter.milestones],
                                   columns=["name", "due"]),
    }


def charter_record(charter: Charter) -> dict:
    """The charter as JSON-able data (written to charter.json for the report).

    Parameters
    ----------
    charter : Charter
        The ``charter`` parameters.

    Returns
    -------
    dict
        The charter as JSON-able data.
    """
    return charter.model_dump(mode="json")

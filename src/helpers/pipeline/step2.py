"""Step 2, hypotheses (notebook 02_hypotheses): the register, its collection costs and shared
sources, and the prioritised list within the charter's budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers.collect.hypotheses import (
    check_positive_categories,
    collection_cost,
    prioritise,
    shared_sources,
)
from helpers.collect.read import read_register
from helpers.run.session import Session


@dataclass(frozen=True)
class Hypotheses:
    """The hypotheses: ``register`` (as read), ``costed`` (with collection costs),
    ``shared`` (sources shared by several hypotheses), ``ranked`` (prioritised within the
    budget, table ``hypotheses``) and ``n_accounts`` (scored accounts the costs are for)."""

    register: pd.DataFrame
    costed: pd.DataFrame
    shared: pd.DataFrame
    ranked: pd.DataFrame
    n_accounts: int


def hypotheses(s: Session) -> Hypotheses:
    """Register, collection costs, shared sources, prioritisation; writes hypotheses.

    Parameters
    ----------
    s
        The Step 2 session.

    Returns
    -------
    Hypotheses
        The register, its costs and the prioritised list.
    """
    p = s.params
    n_accounts = len(s.store.read("scored_accounts"))
    register = read_register(p.hypotheses.register_file)
    costed = collection_cost(register, n_accounts)
    ranked = prioritise(costed, p.hypotheses,
                                   max_hypotheses=p.charter.scope.max_hypotheses)
    s.store.write("hypotheses", ranked, step=s.step)
    # positive categories against the customer export: only a warning here (most measures
    # arrive, and labels are standardised, in Step 3, which stops on a category not found)
    s.warn([f"{m} in the customer export; checked again after Step 3 joins the sources"
            for m in check_positive_categories(
                register, s.store.read("scored_accounts"), strict=False)], "hypotheses")
    return Hypotheses(register=register, costed=costed, shared=shared_sources(register),
                      ranked=ranked, n_accounts=n_accounts)


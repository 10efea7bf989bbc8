"""Step 1, set-up (notebook 01_setup): the charter, the customer list with its exclusions
and reconciliation, and the quality score of the kept accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers.collect import sources
from helpers.run.session import Session
from helpers.setup import customers
from helpers.setup.charter import charter_record, charter_tables
from helpers.setup.score import quality_score


@dataclass(frozen=True)
class CustomerList:
    """The customer list: ``accounts`` (the export as loaded, table ``accounts_raw``),
    ``flagged`` (every account with its exclusion flags, table ``exclusions``),
    ``reconciliation`` (table ``reconciliation``), ``excluded`` (the excluded accounts with
    rule and reason) and ``warnings`` (load and status-mix warnings, in the run's log)."""

    accounts: pd.DataFrame
    flagged: pd.DataFrame
    reconciliation: pd.DataFrame
    excluded: pd.DataFrame
    warnings: list[str]


def charter(s: Session) -> dict[str, pd.DataFrame]:
    """Charter tables; writes charter.json.

    Parameters
    ----------
    s
        The Step 1 session.

    Returns
    -------
    dict
        Table name (objective, stakeholders, scope, ...) -> frame, for the notebook.
    """
    s.store.write_json("charter", charter_record(s.params.charter), step=s.step)
    return charter_tables(s.params.charter)


def customer_list(s: Session) -> CustomerList:
    """Load the export, apply the exclusion rules, reconcile; writes accounts_raw,
    account_type_labels, exclusions and reconciliation.

    Parameters
    ----------
    s
        The Step 1 session.

    Returns
    -------
    CustomerList
        The accounts, their exclusion flags and the reconciliation.
    """
    p = s.params
    if sources.has_tickets(p.inputs) and "tickets" not in s.pending:
        # the ticket file is scanned (DuckDB) while pandas reads the export; the score needs it
        from helpers.core.parallel import in_background

        s.pending["tickets"] = in_background(sources.ticket_input, p.inputs, p.as_of,
                                             p.collection.ticket_window_days, p.aggregation)
    accounts, load_warnings = _load_account_list(s)
    s.warn(load_warnings, "accounts")
    flagged = customers.apply_exclusions(accounts, p.exclusions, p.as_of)
    recon = customers.reconciliation(flagged)
    load_warnings = s.warn([*load_warnings, *customers.status_mix_warnings(flagged)],
                           "accounts")
    s.store.write("accounts_raw", accounts, step=s.step)
    s.store.write("account_type_labels", customers.account_type_labels(accounts), step=s.step)
    s.store.write("exclusions", flagged[["account_id", "excluded", "exclusion_rule",
                                         "exclusion_reason", "rules_fired"]], step=s.step)
    s.store.write("reconciliation", recon, step=s.step)
    customers.check_enough_accounts(flagged, p)  # after writing: the tables show why
    excluded = flagged.loc[flagged["excluded"], ["account_id", "account_name", "mrr",
                                                 "exclusion_rule", "exclusion_reason"]]
    return CustomerList(accounts=accounts, flagged=flagged, reconciliation=recon,
                        excluded=excluded, warnings=list(load_warnings))


def _load_account_list(s: Session) -> tuple[pd.DataFrame, list[str]]:
    """The account export, or the account list built from deals / subscriptions
    (helpers.setup.deals; writes account_list_rows, account_list_reconciliation and, with an export
    beside them, account_list_match)."""
    p = s.params
    if p.inputs.deals is None and p.inputs.subscriptions is None:
        export = customers.read_account_export(p.inputs.accounts)
        return customers.prepare_accounts(export, p.inputs.accounts, p.exclusions, p.currency,
                                          p.as_of)
    from helpers.setup import deals

    records = deals.read_account_records(p.inputs)
    built = deals.build_account_list(records, p.exclusions, p.currency, p.as_of)
    for name, frame in built.tables.items():
        s.store.write(name, frame, step=s.step)
    return built.accounts, built.warnings


def scored_accounts(s: Session, *, flagged: pd.DataFrame) -> pd.DataFrame:
    """Quality score of the kept accounts (cost to serve from the ticket file when given);
    writes scored_accounts.

    Parameters
    ----------
    s
        The Step 1 session.
    flagged
        Every account with its exclusion flags (:attr:`CustomerList.flagged`).

    Returns
    -------
    pandas.DataFrame
        The kept accounts with their score components and score.
    """
    p = s.params
    kept = flagged.loc[~flagged["excluded"]].drop(
        columns=["excluded", "exclusion_rule", "exclusion_reason", "rules_fired"])
    tickets = None
    if sources.has_tickets(p.inputs):
        pending = s.pending.pop("tickets", None)  # started by customer_list
        counts = pending.result() if pending is not None else sources.ticket_input(
            p.inputs, p.as_of, p.collection.ticket_window_days, p.aggregation)
        tickets = sources.ticket_attach(counts, kept["account_id"])
        s.warn(tickets.attrs.get("warnings", []), "tickets")
    scored = quality_score(kept, p.score, tickets)
    s.warn(scored.attrs.get("warnings", []), "score")
    s.store.write("scored_accounts", scored, step=s.step)
    return scored



"""Read-then-transform in one call, as the pipeline layer does it (helpers.pipeline.step1 /
step2 / step3), for tests that start from files: the domain functions themselves take
DataFrames and read nothing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.collect import collection, read
from helpers.core.params import Params
from helpers.setup import customers, deals


def load_accounts(params: Params) -> tuple[pd.DataFrame, list[str]]:
    """``inputs.accounts`` read and turned into canonical accounts, with the warnings."""
    export = customers.read_account_export(params.inputs.accounts)
    return customers.prepare_accounts(export, params.inputs.accounts, params.exclusions,
                                      params.currency, params.as_of)


def build_account_list(params: Params) -> deals.AccountList:
    """The account list built from ``inputs.deals`` / ``inputs.subscriptions``."""
    records = deals.read_account_records(params.inputs)
    return deals.build_account_list(records, params.exclusions, params.currency, params.as_of)


def build_analysis_table(params: Params, scored: pd.DataFrame,
                         register: pd.DataFrame | None = None
                         ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Step 3's sources read, then the analysis table built (register: the register file of
    the parameters unless given)."""
    if register is None:
        register = read.read_register(params.hypotheses.register_file)
    sources = read.read_sources(params.inputs, params.as_of, params.collection,
                                params.aggregation)
    return collection.build_analysis_table(sources, scored, register, rules=params.collection,
                                           currency=params.currency, as_of=params.as_of)


def import_worksheet(path: str | Path, table: pd.DataFrame
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A filled worksheet read, then its values filled into ``table``."""
    return collection.fill_from_worksheet(table, read.read_worksheet(path))

"""Stable pseudonyms for account names, domains and contacts in stakeholder outputs."""

from __future__ import annotations

import hashlib

import pandas as pd

IDENTIFYING = ("account_name", "domain", "website", "owner", "contact", "email", "company_name")


def pseudonym(account_id: str, prefix: str = "Account") -> str:
    """A stable, non-reversible pseudonym for an account id (same id -> same pseudonym)."""
    digest = hashlib.sha256(f"segmentation-workbook:{account_id}".encode()).hexdigest()
    return f"{prefix} {digest[:6].upper()}"


def anonymise_frame(df: pd.DataFrame, id_col: str = "account_id") -> pd.DataFrame:
    """Replace identifying columns by pseudonyms derived from ``id_col`` (ids are hashed too)."""
    out = df.copy()
    if id_col in out.columns:
        ids = out[id_col].astype("string")
        names = ids.map(pseudonym, na_action="ignore")
        for col in IDENTIFYING:
            if col in out.columns:
                out[col] = names if col in ("account_name", "company_name") else pd.NA
        out[id_col] = names.str.replace("Account ", "ID-", regex=False)
    else:
        for col in IDENTIFYING:
            if col in out.columns:
                out[col] = pd.NA
    return out

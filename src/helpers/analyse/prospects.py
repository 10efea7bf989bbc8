"""Score a prospect list with the segment rules (same rules, same priority order as customers).

Each prospect gets its segment, the rule text that placed it, and the segment's expected
quality: the quartile band of the segment's mean score, its share of top accounts and lift.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.analyse.segments import REST, Segment, as_segments, assign, rule_text, segment_names
from helpers.collect import collection, hypotheses
from helpers.core.errors import InputDataError
from helpers.core.io import normalise_domain


def score_prospects(prospects_df: pd.DataFrame, segment_defs: Sequence[Segment | Mapping],
                    segment_table: pd.DataFrame,
                    names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The prospect list (canonical columns) plus: segment, segment_name, matched_rule,
    quality_band (quartile letter of the segment's mean score), expected_share_top,
    expected_lift, expected_score_mean, missing_fields (rule fields empty for the prospect,
    which can keep it out of a segment). Row order is kept.

    Raises InputDataError naming the rule fields the prospect list lacks.

    Parameters
    ----------
    prospects_df
        The prepared prospect list (:func:`prepare_prospects`).
    segment_defs
        The segment rules, in priority order.
    segment_table
        The segments' measures (``score_band``, ``share_top``, ``lift``, ``score_mean``).
    names
        Segment id -> display name.

    Returns
    -------
    pandas.DataFrame
        The prospects with their segment, rule and expected quality.
    """
    defs = as_segments(segment_defs)
    needed = sorted({c.variable for s in defs for c in s.conditions})
    absent = [v for v in needed if v not in prospects_df.columns]
    if absent:
        raise InputDataError(f"prospect list lacks fields used by the segment rules: {absent}",
                             column=absent[0],
                             hint="map them to the canonical names (inputs.prospects.mapping) "
                                  "or derive them as for customers")
    seg = assign(prospects_df, defs)
    tab = segment_table.set_index("segment")
    label = segment_names(defs, names)
    if "display_name" in tab.columns:
        label.update({k: v for k, v in tab["display_name"].items() if isinstance(v, str)})
    rules = {s.id: rule_text(s.conditions) for s in defs}
    rules[REST] = "no segment rule matched"
    out = prospects_df.copy()
    out["segment"] = seg.to_numpy()
    out["segment_name"] = seg.map(label).to_numpy()
    out["matched_rule"] = seg.map(rules).to_numpy()
    for src, dst in (("score_band", "quality_band"), ("share_top", "expected_share_top"),
                     ("lift", "expected_lift"), ("score_mean", "expected_score_mean")):
        out[dst] = seg.map(tab[src]).to_numpy() if src in tab.columns else np.nan
    text = pd.Series("", index=prospects_df.index, dtype="str")
    for v in needed:  # loop over rule fields, vectorised over prospects
        text = text + np.where(prospects_df[v].isna().to_numpy(), v + ", ", "")
    out["missing_fields"] = text.str.removesuffix(", ").to_numpy()
    return out


def prepare_prospects(prospects: pd.DataFrame, register: pd.DataFrame, *,
                      industry_map: Mapping[str, str] | None = None,
                      numeric_columns: Collection[str] = ()) -> pd.DataFrame:
    """The prospect list prepared like the customers: domains normalised, industries mapped
    to the canonical labels, numeric measures parsed, the register's derived measures added.
    The reading of the file is the caller's (``helpers.pipeline.step4``).

    Parameters
    ----------
    prospects
        The prospect list as read (canonical column names).
    register
        The hypothesis register (its measures are derived on the prospects as on customers).
    industry_map
        raw label -> canonical industry (``inputs.industry_map``); None or empty: kept as is.
    numeric_columns
        Columns parsed as numbers (those with a plausible range, ``collection.plausible_ranges``).

    Returns
    -------
    pandas.DataFrame
        A new frame; ``prospects`` is not modified.
    """
    out = prospects.copy()
    if "domain" in out.columns:
        out["domain"] = normalise_domain(out["domain"])
    if "industry" in out.columns and industry_map:
        out["industry"], _ = collection.standardise_industry(out["industry"], dict(industry_map))
    out, _ = collection.coerce_numeric(out, [c for c in out.columns if c in set(numeric_columns)],
                                       source_name="prospects")
    derived, _log = hypotheses.derive_measures(out, register)
    return derived


def observable_fields(prospects: pd.DataFrame | None) -> list[str] | None:
    """Fields a prospect list carries (segment rules may use only these): the columns of the
    prepared prospect list (:func:`prepare_prospects`: mapped, standardised, with the
    register's derived measures) that hold at least one value; None without a prospect list
    (then every tested variable but behavioural ones counts as observable).

    Parameters
    ----------
    prospects
        The prepared prospect list, or None.

    Returns
    -------
    list of str or None
        The fields, sorted.
    """
    if prospects is None:
        return None
    return sorted(str(c) for c in prospects.columns[prospects.notna().any().to_numpy()])

"""Score a prospect list with the segment rules (same rules, same priority order as customers).

Each prospect gets its segment, the rule text that placed it, and the segment's expected
quality: the quartile band of the segment's mean score, its share of top accounts and lift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.analyse.segments import REST, Segment, as_segments, assign, rule_text, segment_names
from helpers.core.errors import InputDataError


def score_prospects(prospects_df: pd.DataFrame, segment_defs: Sequence[Segment | Mapping],
                    segment_table: pd.DataFrame,
                    names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The prospect list (canonical columns) plus: segment, segment_name, matched_rule,
    quality_band (quartile letter of the segment's mean score), expected_share_top,
    expected_lift, expected_score_mean, missing_fields (rule fields empty for the prospect,
    which can keep it out of a segment). Row order is kept.

    Raises InputDataError naming the rule fields the prospect list lacks.
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

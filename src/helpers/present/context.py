"""What every part of the report shares: the outline (:data:`SECTIONS`), reading a run's
tables (a missing or damaged one is None, so a report can be built after any step), the
:class:`Context` each section builder receives (the segment table, findings.json and the
pseudonyms read on first use), and the headline figures of the recommendation.

One colour per segment everywhere (:func:`helpers.present.plots.segment_colours`, priority
order, Rest of base grey). With ``params.report.anonymise`` account names, domains, owners and
ids become stable pseudonyms (:mod:`helpers.present.anonymise`) in the HTML and the XLSX.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from helpers.core.params import Params
from helpers.core.store import RunStore
from helpers.present import report
from helpers.present.anonymise import pseudonym
from helpers.present.report import fmt_money

REST = "Rest of base"


NOT_AVAILABLE = "not available in this run"


SECTIONS: tuple[tuple[str, str], ...] = (
    ("agenda", "Agenda"),
    ("executive-summary", "Executive summary"),
    ("recap", "Goals, agreed method and milestones"),
    ("findings", "Key findings: the segments in priority order"),
    ("concentration", "Where the top accounts are"),
    ("segment-top-share", "How much of each segment is top quality"),
    ("trade-off", "The trade-off: what focusing gains and misses"),
    ("since-previous", "What changed since the previous run"),
    ("method-score", "Methodology: the quality score"),
    ("method-best-worst", "Methodology: the best and worst accounts"),
    ("method-reconciliation", "Methodology: the customer list"),
    ("method-hypotheses", "Methodology: hypotheses validated and rejected"),
    ("method-data-gaps", "Methodology: data gaps and possible biases"),
    ("method-models", "Methodology: regression and lift"),
    ("method-robustness", "Methodology: how robust the result is"),
    ("customer-success", "Customer-success view per segment"),
    ("next-steps", "Next steps"),
    ("appendix", "Appendix for analysts"),
)


def stored_table(store: RunStore, name: str) -> pd.DataFrame | None:
    """A stored table, or None when the run lacks it (or it cannot be read).

    Parameters
    ----------
    store
        The run's tables.
    name
        A table of the catalog (an unknown name raises, naming the catalog).

    Returns
    -------
    DataFrame or None
    """
    if not store.has(name):
        return None
    try:
        return store.read(name)
    except Exception:  # noqa: BLE001 - a damaged optional table must not stop the report
        return None


def stored_document(store: RunStore, name: str) -> Any:
    """A stored document, or None when the run lacks it (or it cannot be read).

    Parameters
    ----------
    store
        The run's tables.
    name
        A document of the catalog (an unknown name raises, naming the catalog).

    Returns
    -------
    Any
        The parsed JSON, or None.
    """
    if not store.has(name):
        return None
    try:
        return store.read_json(name)
    except Exception:  # noqa: BLE001
        return None


def strings_in(obj: Any) -> list[str]:
    """Every string in a JSON document (depth-first, in stored order).

    Parameters
    ----------
    obj
        A parsed JSON value.

    Returns
    -------
    list of str
    """
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, Mapping):
        return [s for v in obj.values() for s in strings_in(v)]
    if isinstance(obj, list | tuple):
        return [s for v in obj for s in strings_in(v)]
    return []


def first_column(df: pd.DataFrame, *names: str) -> str | None:
    """The first of ``names`` that is a column of ``df``.

    Parameters
    ----------
    df
        Any frame.
    *names
        Column names, in order of preference.

    Returns
    -------
    str or None
    """
    return next((n for n in names if n in df.columns), None)


def as_float(v: Any) -> float:
    """``v`` as a float; NaN when it is not a number.

    Parameters
    ----------
    v
        Any value.

    Returns
    -------
    float
    """
    try:
        f = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return f


@dataclass
class Context:
    """What every section builder needs: the store, parameters and derived display helpers.

    The tables shared by several sections (the segment table, findings.json, the pseudonyms)
    are read on first use, so a section reads only the tables it uses (see
    :func:`helpers.core.catalog.read_by` and tests/test_catalog.py)."""

    store: RunStore
    params: Params
    #: label -> relative href of the appendix's file list (None: :func:`default_links`)
    appendix_links: Mapping[str, str] | None = field(default=None, repr=False)

    @cached_property
    def segs(self) -> pd.DataFrame | None:
        """The standardised segment table (priority order), or None without one."""
        seg = stored_table(self.store, "segments")
        if seg is not None and {"segment", "share_of_base", "top_capture", "share_top"} <= set(
                seg.columns):
            return standard_segments(seg, self.params)
        return None

    @cached_property
    def colours(self) -> dict[str, str]:
        """One colour per segment (priority order, Rest of base grey)."""
        if self.segs is None:
            return {}
        from helpers.present.plots import segment_colours

        return segment_colours(list(self.segs["segment"]))

    @cached_property
    def scrub(self) -> dict[str, str]:
        """Real identifier -> pseudonym (empty unless anonymising)."""
        return scrub_map(self.store) if self.anonymise else {}

    @cached_property
    def findings(self) -> Any:
        """The analysis's findings.json (None when the run lacks it)."""
        return stored_document(self.store, "findings")

    @property
    def anonymise(self) -> bool:
        return bool(self.params.report.anonymise)

    @property
    def top_share(self) -> float:
        return float(self.params.analysis.top_share)

    def money(self, v: Any) -> str:
        return fmt_money(v, self.params.currency.base)

    def accounts(self, df: pd.DataFrame) -> pd.DataFrame:
        """An account-level frame as a stakeholder may see it."""
        return report.display_frame(df, self.anonymise)

    def text(self, s: str) -> str:
        """Free text (warnings) with real identifiers replaced when anonymising."""
        return self.texts([s])[0]

    def texts(self, items: Sequence[str]) -> list[str]:
        """:meth:`text` for many strings with one pass over the identifiers."""
        items = list(items)
        if not self.anonymise or not self.scrub:
            return items
        keys = relevant_keys(self.scrub, items)
        out = []
        for s in items:
            for k in keys:
                if k in s:
                    s = s.replace(k, self.scrub[k])
            out.append(s)
        return out


def standard_segments(segments: pd.DataFrame, params: Params) -> pd.DataFrame:
    """The stored ``segments`` table with display columns: ``label`` (display name >
    name; params.segments.names override), ``recommended`` and ``priority`` (filled when
    absent), ``is_rest``; ordered recommended first, then by priority, Rest of base last.

    Parameters
    ----------
    segments
        The stored ``segments`` table.
    params
        The run's parameters (segment names, number recommended).

    Returns
    -------
    DataFrame
    """
    t = segments.copy()
    t["segment"] = t["segment"].astype("str")
    name_col = first_column(t, "display_name", "segment_name", "name")
    t["label"] = t[name_col].astype("str") if name_col else t["segment"]
    overrides = params.segments.names
    if overrides:
        t["label"] = t["segment"].map(overrides).fillna(t["label"])
    t["is_rest"] = (t["is_rest"].fillna(False).astype(bool) if "is_rest" in t.columns
                    else t["segment"] == REST)
    if "priority" not in t.columns:
        order = t[~t["is_rest"]].sort_values(["lift", "segment"], ascending=[False, True],
                                             kind="stable")
        t["priority"] = pd.Series(np.arange(1, len(order) + 1), index=order.index)
    t["priority"] = pd.to_numeric(t["priority"], errors="coerce")
    if "recommended" not in t.columns:
        t["recommended"] = (~t["is_rest"]) & (t["priority"] <= params.segments.n_recommended)
    t["recommended"] = t["recommended"].fillna(False).astype(bool) & ~t["is_rest"]
    t["_r"] = np.where(t["is_rest"], 2, np.where(t["recommended"], 0, 1))
    t = t.sort_values(["_r", "priority", "segment"], kind="stable", na_position="last")
    return t.drop(columns="_r").reset_index(drop=True)


def scrub_map(store: RunStore) -> dict[str, str]:
    """Real account names, domains, owners and ids -> pseudonyms (for free text).

    Parameters
    ----------
    store
        The run's tables (reads accounts_raw).

    Returns
    -------
    dict
        Empty without accounts_raw.
    """
    raw = stored_table(store, "accounts_raw")
    if raw is None or "account_id" not in raw.columns:
        return {}
    ids = raw["account_id"].astype("str")
    pseudo = ids.map(pseudonym)
    out: dict[str, str] = {}
    for col in ("account_name", "domain", "owner"):
        if col in raw.columns:
            vals = raw[col].astype("string")
            ok = vals.notna() & (vals.str.len() >= 3)
            rep = pseudo if col != "owner" else pd.Series("an account owner", index=raw.index)
            out.update(dict(zip(vals[ok], rep[ok], strict=True)))
    out.update(dict(zip(ids, pseudo.str.replace("Account ", "ID-", regex=False), strict=True)))
    return out


def make_context(store: RunStore, params: Params,
                 appendix_links: Mapping[str, str] | None = None) -> Context:
    """The context of one report (its shared tables are read on first use).

    Parameters
    ----------
    store
        The run's tables.
    params
        The run's parameters.
    appendix_links
        The appendix's file list (label -> relative href); None for :func:`default_links`.

    Returns
    -------
    Context
    """
    return Context(store, params, appendix_links)


def headline(ctx: Context) -> dict[str, Any]:
    """The headline figures of the recommendation, all from the segment table.

    Keys: segments (ids), names, coverage (share of accounts), capture (share of the top
    accounts), lift (capture / coverage), n_top_missed, score_focus, score_rest, score_base,
    accounts, top_accounts. Empty dict without a segment table or recommendation.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    dict
    """
    t = ctx.segs
    if t is None or not t["recommended"].any():
        return {}
    rec = t[t["recommended"]]
    other = t[~t["recommended"]]
    n = float(t["accounts"].sum())
    n_top = float(t["top_accounts"].sum()) if "top_accounts" in t.columns else float("nan")
    coverage = float(rec["share_of_base"].sum())
    capture = float(rec["top_capture"].sum())

    def wmean(d: pd.DataFrame) -> float:
        a = d["accounts"].astype(float)
        return float((d["score_mean"].astype(float) * a).sum() / a.sum()) if a.sum() else \
            float("nan")

    return {
        "segments": list(rec["segment"]), "names": list(rec["label"]),
        "coverage": coverage, "capture": capture,
        "lift": capture / coverage if coverage else float("nan"),
        "accounts": int(n), "top_accounts": int(n_top) if np.isfinite(n_top) else None,
        "focus_accounts": int(rec["accounts"].sum()),
        "top_in_focus": int(rec["top_accounts"].sum()) if "top_accounts" in rec else None,
        "n_top_missed": int(other["top_accounts"].sum()) if "top_accounts" in other else None,
        "score_focus": wmean(rec) if "score_mean" in t else float("nan"),
        "score_rest": wmean(other) if "score_mean" in t and len(other) else float("nan"),
        "score_base": wmean(t) if "score_mean" in t else float("nan"),
    }


def fmt_lift(v: float) -> str:
    """A lift as '2.1x' ('–' when not finite).

    Parameters
    ----------
    v
        The lift.

    Returns
    -------
    str
    """
    return "–" if not np.isfinite(v) else f"{v:.1f}x"


def relevant_keys(scrub: Mapping[str, str], texts: Sequence[str]) -> list[str]:
    """The identifiers of ``scrub`` that occur in any of ``texts``, longest first (one pass
    over the identifiers against the joined text, so 1M accounts cost about a second).

    Parameters
    ----------
    scrub
        Real identifier -> pseudonym.
    texts
        The texts to scrub.

    Returns
    -------
    list of str
    """
    big = "\n".join(texts)
    if not big:
        return []
    return sorted((k for k in scrub if k and k in big), key=len, reverse=True)


def not_available(section: report.Section, what: str) -> report.Section:
    """Add the one-line "<what>: not available in this run." note.

    Parameters
    ----------
    section
        The section that lacks its table.
    what
        What is missing, for the reader.

    Returns
    -------
    Section
        ``section``, with the note.
    """
    return section.add(report.note(f"{what}: {NOT_AVAILABLE}."))


def null_result(findings: Any) -> Mapping[str, Any] | None:
    """findings.json's ``null_result`` (no scheme beats random), when present.

    Parameters
    ----------
    findings
        The parsed findings.json (or None).

    Returns
    -------
    Mapping or None
    """
    if isinstance(findings, Mapping) and isinstance(findings.get("null_result"), Mapping):
        return findings["null_result"]
    return None

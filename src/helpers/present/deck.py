"""Step 5: the stakeholder deck (one self-contained HTML file) and the analyst's XLSX.

:func:`build_report` and :func:`build_xlsx` read a run's tables through :class:`RunStore` and
recompute nothing: every number in the text comes from a stored table (segment shares, lift,
capture, coverage...), formatted here. A section whose tables are missing says so in one line
("not available in this run") instead of failing, so a report can be built after any step.

Sections, in the method's order (docs/method.md, Step 5): agenda; executive summary;
stakeholder recap; key findings (segments in priority order); chart (a) concentration of the
top accounts; chart (b) each segment's share of top accounts; the trade-off; methodology
(score, best and worst accounts, customer-list reconciliation, hypotheses, data gaps and
biases, regression and lift, robustness); customer-success view; next steps; appendix.

One colour per segment everywhere (:func:`helpers.present.plots.segment_colours`, priority order,
Rest of base grey). With ``params.report.anonymise`` account names, domains, owners and ids
become stable pseudonyms (:mod:`helpers.present.anonymise`) in the HTML and the XLSX.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from helpers.core import catalog
from helpers.core.params import Params, params_hash
from helpers.core.paths import NOTEBOOKS
from helpers.core.runinfo import overrides_text
from helpers.core.store import RunStore
from helpers.present import report as R
from helpers.present.anonymise import anonymise_frame, pseudonym

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
#: Excel's hard row limit (minus the header row)
EXCEL_MAX_ROWS = 1_048_575
#: accounts the stakeholder XLSX lists at most (the best by score rank): an XLSX writer does
#: ~100k cells/s, so 1M accounts would take minutes; the full scored list stays in the run's
#: Parquet files (data/processed/<run>/scored_accounts.parquet, segment_assignments.parquet)
XLSX_ACCOUNT_ROWS = 20_000
XLSX_ACCOUNT_COLUMNS = (
    "account_id", "account_name", "domain", "owner", "status", "account_type", "start_date",
    "churn_date", "industry", "country", "employees", "mrr", "mrr_prev", "tickets",
    "success_hours", "acquisition_cost", "c_acv", "c_tickets", "c_success", "c_acquisition",
    "c_growth", "c_churn", "c_large_logo", "growth_rate", "score", "score_rank", "score_pct",
    "quartile")


# ----------------------------------------------------------------------------- reading
def _table(store: RunStore, name: str) -> pd.DataFrame | None:
    """A stored table, or None when the run lacks it (or it cannot be read)."""
    if not store.has(name):
        return None
    try:
        return store.read(name)
    except Exception:  # noqa: BLE001 - a damaged optional table must not stop the report
        return None


def _doc(store: RunStore, name: str) -> Any:
    """A stored document, or None when the run lacks it (or it cannot be read)."""
    if not store.has(name):
        return None
    try:
        return store.read_json(name)
    except Exception:  # noqa: BLE001
        return None


def _strings(obj: Any) -> list[str]:
    """Every string in a JSON document (depth-first, in stored order)."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, Mapping):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list | tuple):
        return [s for v in obj for s in _strings(v)]
    return []


def headline_sentences(findings: Any) -> list[str]:
    """Stakeholder sentences from the analysis's ``findings.json`` (only keys known to hold
    sentences or counts; robustness sentences have their own section)."""
    if isinstance(findings, list):
        return [s for s in _strings(findings) if s]
    if not isinstance(findings, Mapping):
        return []
    out = _strings(findings.get("headlines", []))
    if isinstance(findings.get("prioritisation_message"), str):
        out.append(findings["prioritisation_message"])
    counts = {k: findings.get(k) for k in ("validated", "rejected", "inconclusive")}
    if all(isinstance(v, int) for v in counts.values()):
        out.append(f"Of {sum(counts.values())} hypotheses, {counts['validated']} were validated, "
                   f"{counts['rejected']} rejected and {counts['inconclusive']} inconclusive.")
    best, ar = findings.get("best_scheme_out_of_sample"), findings.get("best_scheme_accuracy_ratio")
    if isinstance(best, str) and isinstance(ar, int | float):
        out.append(f"Scored on accounts it never saw, the best segmentation scheme is '{best}' "
                   f"(accuracy ratio {ar:.2f}; 0 = random, 1 = perfect).")
    if isinstance(findings.get("split_regression"), str):
        out.append(findings["split_regression"])
    return out


def _col(df: pd.DataFrame, *names: str) -> str | None:
    return next((n for n in names if n in df.columns), None)


def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return f


# ----------------------------------------------------------------------------- context
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
        seg = _table(self.store, "segments")
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
        return _scrub_map(self.store) if self.anonymise else {}

    @cached_property
    def findings(self) -> Any:
        """The analysis's findings.json (None when the run lacks it)."""
        return _doc(self.store, "findings")

    @property
    def anonymise(self) -> bool:
        return bool(self.params.report.anonymise)

    @property
    def top_share(self) -> float:
        return float(self.params.analysis.top_share)

    def money(self, v: Any) -> str:
        return R.fmt_money(v, self.params.currency.base)

    def accounts(self, df: pd.DataFrame) -> pd.DataFrame:
        """An account-level frame as a stakeholder may see it."""
        return R.display_frame(df, self.anonymise)

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
    absent), ``is_rest``; ordered recommended first, then by priority, Rest of base last."""
    t = segments.copy()
    t["segment"] = t["segment"].astype("str")
    name_col = _col(t, "display_name", "segment_name", "name")
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


def _scrub_map(store: RunStore) -> dict[str, str]:
    """Real account names, domains, owners and ids -> pseudonyms (for free text)."""
    raw = _table(store, "accounts_raw")
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


# ----------------------------------------------------------------------------- headline
def headline(ctx: Context) -> dict[str, Any]:
    """The headline figures of the recommendation, all from the segment table.

    Keys: segments (ids), names, coverage (share of accounts), capture (share of the top
    accounts), lift (capture / coverage), n_top_missed, score_focus, score_rest, score_base,
    accounts, top_accounts. Empty dict without a segment table or recommendation.
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
    """A lift as '2.1x'."""
    return "–" if not np.isfinite(v) else f"{v:.1f}x"


# ----------------------------------------------------------------------------- sections
def _na(section: R.Section, what: str) -> R.Section:
    return section.add(R.note(f"{what}: {NOT_AVAILABLE}."))


def _agenda(ctx: Context) -> R.Section:
    s = R.Section("agenda", "Agenda")
    items = [title for sid, title in SECTIONS if sid not in ("agenda",)]
    return s.add(R.bullets(items))


def _null_result(findings: Any) -> Mapping[str, Any] | None:
    """findings.json's ``null_result`` (no scheme beats random), when present."""
    if isinstance(findings, Mapping) and isinstance(findings.get("null_result"), Mapping):
        return findings["null_result"]
    return None


def _null_section(s: R.Section, null: Mapping[str, Any]) -> None:
    """No scheme beats random: say so, list the hypotheses tried with their power, and what
    to collect next."""
    s.add(R.lead(str(null.get("sentence", ""))))
    tried = pd.DataFrame(null.get("hypotheses") or [])
    if len(tried):
        cols = [c for c in ("hypothesis_id", "statement", "verdict", "n", "power",
                            "accounts_needed", "next") if c in tried.columns]
        s.add(R.h3("Hypotheses tried and the power each had"),
              R.table(tried[cols], formats={
                  "power": lambda x: R.fmt_pct(_num(x)) if np.isfinite(_num(x)) else "–",
                  "accounts_needed": lambda x: (R.fmt_num(int(_num(x)))
                                                if np.isfinite(_num(x)) else "–"),
                  "n": lambda x: R.fmt_num(int(_num(x))) if np.isfinite(_num(x)) else "–"},
                  caption=f"Power: the chance the test had to detect an effect of |Cliff's "
                          f"delta| {null.get('min_effect', '')} or more; accounts needed: for "
                          f"{R.fmt_pct(_num(null.get('min_power', float('nan'))))} power."))
    if null.get("next_steps"):
        s.add(R.h3("What to collect next"), R.bullets(_strings(null["next_steps"])))


def _executive(ctx: Context) -> R.Section:
    s = R.Section("executive-summary", "Executive summary")
    findings = ctx.findings
    h = headline(ctx)
    null = _null_result(findings)
    if null is not None:
        _null_section(s, null)
    elif not h:
        _na(s, "Recommended segments")
    else:
        names = ", ".join(f"“{n}”" for n in h["names"])
        s.add(R.lead(
            f"Focus on {len(h['names'])} segment(s): {names}. Together they hold "
            f"{R.fmt_pct(h['coverage'])} of our accounts but {R.fmt_pct(h['capture'])} of the "
            f"top {R.fmt_pct(ctx.top_share)} accounts by quality score — "
            f"{fmt_lift(h['lift'])} the rate of the whole base."))
        s.add(R.cards([
            ("of accounts in the recommended segments (coverage)", R.fmt_pct(h["coverage"])),
            (f"of the top {R.fmt_pct(ctx.top_share)} accounts they hold",
             R.fmt_pct(h["capture"])),
            ("lift over the whole base", fmt_lift(h["lift"])),
            ("mean quality score in focus vs rest",
             f"{ctx.money(h['score_focus'])} vs {ctx.money(h['score_rest'])}"),
        ]))
        rec = ctx.segs[ctx.segs["recommended"]]
        s.add(R.cards([(f"{r.label}: {R.fmt_pct(r.share_top)} in the top, "
                        f"{R.fmt_pct(r.share_of_base)} of accounts",
                        fmt_lift(_num(r.lift)), ctx.colours.get(r.segment, ""))
                       for r in rec.itertuples()]))
        cmin, cmax = ctx.params.segments.coverage_min, ctx.params.segments.coverage_max
        inside = cmin - 1e-9 <= h["coverage"] <= cmax + 1e-9
        s.add(R.p(f"The method aims for segments covering {R.fmt_pct(cmin)}–{R.fmt_pct(cmax)} "
                  f"of accounts; this recommendation covers {R.fmt_pct(h['coverage'])}"
                  + (" (inside the band)." if inside else " (outside the band: see the "
                     "trade-off section).")))
    sentences = headline_sentences(findings)
    if sentences:
        s.add(R.h3("Headlines from the analysis"), R.bullets(sentences[:8]))
    path = _doc(ctx.store, "analysis_path")
    if path and path.get("path") == "lightweight":
        s.add(R.note(f"Small base ({R.fmt_num(path['n_accounts'])} accounts): the method's "
                     "lightweight analysis ran; see “Methodology: regression and lift” for "
                     "what a larger base would add."))
    return s


def _method_bullets(ctx: Context) -> list[str]:
    """How hypotheses were tested and schemes compared, as the path that ran did it: the
    lightweight path (a small base) has no regression and no cross-validated lift."""
    from helpers.analyse.lightweight import LIGHTWEIGHT

    if (_doc(ctx.store, "analysis_path") or {}).get("path") == LIGHTWEIGHT:
        return ["Hypotheses about what makes a good customer were listed, costed, collected and "
                "tested against the score the lightweight way for a small base: accounts sorted "
                "by score and by each field, thresholds in words, exact or permutation tests "
                "and a small decision tree (no regression).",
                "Segments built from the validated thresholds and compared by in-sample gains "
                "(too few accounts for out-of-sample lift)."]
    return ["Hypotheses about what makes a good customer were listed, costed, collected and "
            "tested against the score (significance, effect size, decision tree and regression).",
            "Segments built from the validated variables and compared by lift and gains charts "
            "(in- and out-of-sample)."]


def _recap(ctx: Context) -> R.Section:
    s = R.Section("recap", "Goals, agreed method and milestones")
    ch = _doc(ctx.store, "charter")
    if not isinstance(ch, Mapping):
        return _na(s, "The project charter")
    s.add(R.lead(f"{ch.get('project', '')}: {ch.get('objective', '')}"))
    if ch.get("business_goals"):
        s.add(R.h3("Business goals"), R.bullets(ch["business_goals"]))
    people = pd.DataFrame(ch.get("stakeholders") or [])
    if len(people):
        s.add(R.h3("Stakeholders"),
              R.table(people[[c for c in ("name", "role", "goal") if c in people.columns]]))
    scope = ch.get("scope") or {}
    p = ctx.params
    s.add(R.h3("Scope and agreed method"), R.bullets([
        f"Accounts analysed: {R.fmt_pct(scope.get('share_of_accounts', 1.0))} of the customer "
        f"list as of {p.as_of:%d %B %Y}; at most {scope.get('max_hypotheses', '–')} hypotheses "
        f"and {scope.get('max_segments', '–')} recommended segments.",
        "Quality score: an objective proxy for lifetime profit per account (formula in the "
        "methodology section); top accounts = the best "
        f"{R.fmt_pct(p.analysis.top_share)} by score.",
        *_method_bullets(ctx),
        "Segments prioritised within a "
        f"{R.fmt_pct(p.segments.coverage_min)}–{R.fmt_pct(p.segments.coverage_max)} "
        "coverage band.",
    ]))
    if ch.get("deliverables"):
        s.add(R.h3("Deliverables"), R.bullets(ch["deliverables"]))
    ms = pd.DataFrame(ch.get("milestones") or [])
    if len(ms):
        s.add(R.h3("Milestones"), R.table(ms[[c for c in ("name", "due") if c in ms.columns]]
                                          .rename(columns={"name": "milestone"})))
    return s


def _examples(ctx: Context) -> dict[str, str]:
    ex = _table(ctx.store, "segment_examples")
    if ex is None or "segment" not in ex.columns:
        return {}
    ex = ctx.accounts(ex)
    lab = _col(ex, "account_name", "account_id")
    if lab is None:
        return {}
    if "example_rank" in ex.columns:
        ex = ex.sort_values(["segment", "example_rank"], kind="stable")
    ex = ex.assign(_l=ex[lab].astype("string").fillna("(unnamed)"))
    k = ctx.params.segments.examples
    return {str(seg): ", ".join(g["_l"].head(k)) for seg, g in ex.groupby("segment", sort=False)}


def _segment_overview(t: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    cols = {"label": "segment", "rule": "rule", "accounts": "accounts",
            "share_of_base": "share of accounts", "share_top": "share in top",
            "top_capture": "share of all top accounts", "lift": "lift",
            "score_mean": "mean score", "score_band": "score band",
            "revenue_share": "share of revenue", "recommended": "recommended"}
    out = t[[c for c in cols if c in t.columns]].rename(columns=cols)
    return out


def _overview_formats(ctx: Context) -> dict:
    pct = R.fmt_pct
    return {"share of accounts": pct, "share in top": pct, "share of all top accounts": pct,
            "share of revenue": pct, "lift": lambda v: fmt_lift(_num(v)), "mean score": ctx.money}


def _findings(ctx: Context) -> R.Section:
    s = R.Section("findings", "Key findings: the segments in priority order")
    t = ctx.segs
    if t is None:
        return _na(s, "The segment table")
    h = headline(ctx)
    base_score = h.get("score_base", float("nan")) if h else float("nan")
    examples = _examples(ctx)
    s.add(R.p(f"{len(t[~t['is_rest']])} segment(s) were found; segments are listed in "
              "priority order (highest share of top accounts first), Rest of base last. "
              "The quality score applied to each segment's accounts confirms the order: "
              "the mean score of each segment is shown against the whole base"
              + (f" ({ctx.money(base_score)})." if np.isfinite(base_score) else ".")))
    s.add(R.legend([(r.label, ctx.colours.get(r.segment, R.REST_COLOUR))
                    for r in t.itertuples()]))
    for i, r in enumerate(t.itertuples(), start=1):
        if r.is_rest:
            continue
        tag = "recommended" if r.recommended else "not recommended"
        s.add(R.h3(f"{i}. {r.label} ({tag})"))
        facts = [f"Rule: {getattr(r, 'rule', '') or '–'}",
                 f"{R.fmt_num(int(r.accounts))} accounts ({R.fmt_pct(r.share_of_base)} of the "
                 f"base); {R.fmt_pct(r.share_top)} of them are in the top "
                 f"{R.fmt_pct(ctx.top_share)} — {fmt_lift(_num(r.lift))} the base rate — "
                 f"holding {R.fmt_pct(r.top_capture)} of all top accounts."]
        if "score_mean" in t.columns:
            band = getattr(r, "score_band", "")
            facts.append(f"Mean quality score {ctx.money(r.score_mean)}"
                         + (f" (quartile {band} of the base)" if band else "")
                         + (f" vs {ctx.money(base_score)} for the whole base."
                            if np.isfinite(base_score) else "."))
        if "revenue_share" in t.columns and np.isfinite(_num(r.revenue_share)):
            facts.append(f"{R.fmt_pct(r.revenue_share)} of recurring revenue; mean ACV "
                         f"{ctx.money(getattr(r, 'mean_acv', float('nan')))}.")
        if examples.get(r.segment):
            facts.append(f"Example accounts: {examples[r.segment].rstrip('.')}.")
        colour = ctx.colours.get(r.segment, "")
        s.add(R.cards([(f"in the top {R.fmt_pct(ctx.top_share)}", R.fmt_pct(r.share_top), colour),
                       ("lift over the base", fmt_lift(_num(r.lift)), colour),
                       ("of all accounts", R.fmt_pct(r.share_of_base), colour)]),
              R.bullets(facts))
    s.add(R.h3("All segments side by side"),
          R.table(_segment_overview(t, ctx), formats=_overview_formats(ctx),
                  caption="Share in top = share of the segment's accounts in the top "
                          f"{R.fmt_pct(ctx.top_share)} by quality score; lift = that share "
                          "divided by the whole base's."))
    return s


def _chart_a(ctx: Context) -> R.Section:
    from helpers.present.plots import top_concentration

    s = R.Section("concentration", "Where the top accounts are")
    t, h = ctx.segs, headline(ctx)
    if t is None or not h:
        return _na(s, "Chart of the top accounts by segment")
    k = len(h["segments"])
    title = (f"{k} prioritised segment(s) hold {R.fmt_pct(h['capture'])} of the top "
             f"{R.fmt_pct(ctx.top_share)} accounts with {R.fmt_pct(h['coverage'])} of all "
             "accounts")
    fig = top_concentration(t, ctx.colours, ctx.top_share, title=title)
    s.add(R.figure(fig, alt=title, caption=(
        f"Each bar splits accounts by segment: the upper bar all {R.fmt_num(h['accounts'])} "
        f"analysed accounts, the lower bar the {R.fmt_num(h['top_accounts'])} accounts in the "
        f"top {R.fmt_pct(ctx.top_share)} by quality score. Segments in priority order; Rest of "
        "base in grey. Source: the run's segments table.")))
    return s


def _chart_b(ctx: Context) -> R.Section:
    from helpers.present.plots import over_phrase, segment_top_share

    s = R.Section("segment-top-share", "How much of each segment is top quality")
    t = ctx.segs
    if t is None:
        return _na(s, "Chart of each segment's share of top accounts")
    best = t[~t["is_rest"]].sort_values("share_top", ascending=False, kind="stable")
    if best.empty:
        return _na(s, "Segments other than the rest of the base")
    b = best.iloc[0]
    title = (f"{over_phrase(float(b['share_top'])).capitalize()} of “{b['label']}” is in the "
             f"top {R.fmt_pct(ctx.top_share)} (whole base: {R.fmt_pct(ctx.top_share)})")
    fig = segment_top_share(t, ctx.colours, ctx.top_share, title=title)
    s.add(R.figure(fig, alt=title, caption=(
        f"Share of each segment's accounts that are in the top {R.fmt_pct(ctx.top_share)} by "
        "quality score; the dashed line is the share in the whole base. Segments in priority "
        "order, Rest of base last.")))
    s.add(R.bullets([f"{over_phrase(float(r.share_top)).capitalize()} of “{r.label}” is in the "
                     f"top {R.fmt_pct(ctx.top_share)} ({R.fmt_num(int(r.top_accounts))} of "
                     f"{R.fmt_num(int(r.accounts))} accounts)."
                     for r in t.itertuples() if "top_accounts" in t.columns]))
    return s


def _tradeoff(ctx: Context) -> R.Section:
    s = R.Section("trade-off", "The trade-off: what focusing gains and misses")
    t, h = ctx.segs, headline(ctx)
    if t is None or not h:
        return _na(s, "The trade-off")
    other = t[~t["recommended"]]
    n_other = int(other["accounts"].sum())
    share_other_top = (h["n_top_missed"] / n_other) if n_other and h["n_top_missed"] is not None \
        else float("nan")
    missed_share = 1 - h["capture"]
    s.add(R.lead(
        f"Focusing on the recommended segments means working {R.fmt_num(h['focus_accounts'])} "
        f"accounts ({R.fmt_pct(h['coverage'])}) that include {R.fmt_num(h['top_in_focus'])} top "
        f"accounts. It misses {R.fmt_num(h['n_top_missed'])} top accounts "
        f"({R.fmt_pct(missed_share)} of them) — but finding those would mean chasing "
        f"{R.fmt_num(n_other)} more accounts of which only {R.fmt_pct(share_other_top)} are top "
        "quality."))
    rows = pd.DataFrame({
        "": ["recommended segments", "everything else"],
        "accounts": [h["focus_accounts"], n_other],
        "share of accounts": [h["coverage"], 1 - h["coverage"]],
        "top accounts": [h["top_in_focus"], h["n_top_missed"]],
        "share of them in the top": [h["top_in_focus"] / h["focus_accounts"]
                                     if h["focus_accounts"] else float("nan"), share_other_top],
        "mean quality score": [h["score_focus"], h["score_rest"]],
    })
    s.add(R.table(rows, formats={"share of accounts": R.fmt_pct,
                                 "share of them in the top": R.fmt_pct,
                                 "mean quality score": ctx.money}))
    if np.isfinite(h["score_rest"]) and np.isfinite(h["score_focus"]):
        s.add(R.p(f"An average account in focus is worth {ctx.money(h['score_focus'])} a year "
                  f"on the quality score, against {ctx.money(h['score_rest'])} elsewhere: the "
                  "few misses cost far less than spreading effort over low-value accounts."))
    return s


def _method_score(ctx: Context) -> R.Section:
    from helpers.setup.score import score_formula

    s = R.Section("method-score", "Methodology: the quality score")
    s.add(R.p("Every account gets one objective number, a proxy for the net present value of its "
              "lifetime profit, from contract value, cost to serve, acquisition cost, growth and "
              f"churn (amounts in {ctx.params.currency.base} per year):"),
          R.pre(score_formula(ctx.params.score)))
    sc = _table(ctx.store, "scored_accounts")
    if sc is not None and "score" in sc.columns:
        q = sc["score"].quantile([0.1, 0.5, 0.9])
        s.add(R.p(f"Across {R.fmt_num(len(sc))} scored accounts the median score is "
                  f"{ctx.money(q.loc[0.5])}; 10 % score below {ctx.money(q.loc[0.1])} and 10 % "
                  f"above {ctx.money(q.loc[0.9])}."))
    return s


def _method_best_worst(ctx: Context) -> R.Section:
    from helpers.setup.score import top_bottom

    s = R.Section("method-best-worst", "Methodology: the best and worst accounts")
    sc = _table(ctx.store, "scored_accounts")
    if sc is None or "score_rank" not in sc.columns:
        return _na(s, "Scored accounts")
    n = ctx.params.report.top_bottom_n
    top, bottom = top_bottom(sc, n)
    cols = [c for c in ("account_name", "account_id", "score", "quartile", "status", "mrr", "why")
            if c in top.columns]
    fm = {"score": ctx.money, "mrr": ctx.money}
    s.add(R.p("The score behaves as intended when the extremes make sense to people who know "
              "the accounts: the 'why' column names the two components that move each score "
              "most."))
    nice = {"account_name": "account", "account_id": "id", "mrr": "MRR",
            "why": "why (largest score components)"}
    fm = {nice.get(k, k): f for k, f in fm.items()}
    s.add(R.h3(f"The {n} best accounts"),
          R.table(ctx.accounts(top)[cols].rename(columns=nice), formats=fm))
    s.add(R.h3(f"The {n} worst accounts"),
          R.table(ctx.accounts(bottom)[cols].rename(columns=nice), formats=fm))
    return s


def _method_reconciliation(ctx: Context) -> R.Section:
    s = R.Section("method-reconciliation", "Methodology: the customer list")
    rec = _table(ctx.store, "reconciliation")
    if rec is None or "rule" not in rec.columns:
        return _na(s, "The customer-list reconciliation")
    get = rec.set_index("rule")["accounts"]
    raw, kept = get.get("raw"), get.get("kept")
    if raw is not None and kept is not None:
        s.add(R.lead(f"{R.fmt_num(int(kept))} of {R.fmt_num(int(raw))} accounts in the export "
                     f"were kept for the analysis; {R.fmt_num(int(raw - kept))} were excluded by "
                     "explicit rules, each with its reason (raw = kept + excluded)."))
    fm = {"share": R.fmt_pct, "mrr": ctx.money}
    s.add(R.table(rec, formats=fm, caption="Accounts removed per rule (each account counted "
                  "once, under the first rule that fires); MRR in the base currency."))
    _account_list_source(ctx, s)
    if "not_data" in get.index:
        s.add(R.note(f"{R.fmt_num(int(get['not_data']))} row(s) at the end of the file are "
                     "not accounts (a report footer or blank lines) and were not read."))
    labels = _table(ctx.store, "account_type_labels")
    if labels is not None and len(labels):
        s.add(R.h3("Account types in the export and how each was treated"),
              R.table(labels, caption="Each distinct account_type label, its number of "
                      "accounts and its treatment (matched by meaning; the label lists are "
                      "parameters under exclusions)."))
    exc = _table(ctx.store, "exclusions")
    if exc is not None and "exclusion_rule" in exc.columns:
        bad = exc[exc["exclusion_rule"].astype(str) == "invalid"]
        if len(bad):
            s.add(R.h3("Unusable rows excluded"),
                  R.table(ctx.accounts(bad[["account_id", "exclusion_reason"]]),
                          caption="Rows without an id or a readable start date (at most "
                          "exclusions.max_invalid_share of the rows)."))
    return s


def _account_list_source(ctx: Context, s: R.Section) -> None:
    """The account list built from deals or subscriptions (helpers.setup.deals): every input row
    used or ignored with its reason, and the match with the account export."""
    rows = _table(ctx.store, "account_list_reconciliation")
    if rows is None or not len(rows):
        return
    s.add(R.h3("The account list from the deals / subscriptions"),
          R.table(rows, max_rows=30, formats={"amount": ctx.money},
                  caption="Every row of the deal or subscription file: used (and how) or "
                          "ignored with its reason; the rows add up to the file "
                          "(amount: deal amount, or subscription MRR, in the base currency)."))
    match = _table(ctx.store, "account_list_match")
    if match is not None and len(match):
        s.add(R.table(match, caption="Accounts matched with the account export."))


def _method_hypotheses(ctx: Context) -> R.Section:
    s = R.Section("method-hypotheses", "Methodology: hypotheses validated and rejected")
    v = _table(ctx.store, "hypothesis_verdicts")
    if v is None or "verdict" not in v.columns:
        hyp = _table(ctx.store, "hypotheses")
        _na(s, "Hypothesis verdicts")
        if hyp is not None:
            cols = [c for c in ("id", "statement", "lens", "selected", "deprioritised_reason")
                    if c in hyp.columns]
            s.add(R.p(f"{R.fmt_num(len(hyp))} hypotheses were listed; "
                      f"{R.fmt_num(int(hyp['selected'].fillna(False).sum())) if 'selected' in hyp else '–'}"
                      " were selected for testing."), R.table(hyp[cols]))
        return s
    counts = v["verdict"].value_counts()
    s.add(R.lead(", ".join(f"{R.fmt_num(int(counts.get(k, 0)))} {k}"
                           for k in ("validated", "rejected", "inconclusive"))
                 + f" of {R.fmt_num(len(v))} hypotheses."))
    # the category a categorical / yes-no hypothesis is about: its sign is that category's
    named = "category" in v.columns and v["category"].fillna("").astype(str).ne("").any()
    cols = [c for c in ("hypothesis_id", "statement", "category" if named else "", "direction",
                        "effect_size", "p_value_adjusted", "evidence", "reason") if c in v.columns]
    fm = {"effect_size": lambda x: f"{_num(x):+.2f}",
          "p_value_adjusted": lambda x: f"{_num(x):.3g}"}
    for verdict, blurb in (("validated", "significant, large enough to act on, in the expected "
                            "direction"),
                           ("rejected", "no effect with adequate power, or the opposite of the "
                            "expectation"),
                           ("inconclusive", "too little data, or an effect too small to act on")):
        part = v[v["verdict"] == verdict]
        if len(part):
            s.add(R.h3(f"{verdict.capitalize()} ({blurb})"), R.table(part[cols], formats=fm))
    s.add(R.note("Effect size: Cliff's delta of the score (top vs bottom quartile for numbers, the "
                 "category the hypothesis names vs the rest otherwise: a + means accounts in "
                 "that category score higher); p-values adjusted for testing many "
                 "hypotheses at once (Benjamini-Hochberg)."))
    s.add(R.note(_calibration_note(ctx, v)))
    th = _table(ctx.store, "thresholds")
    if th is not None and "sentence" in th.columns and len(th):
        s.add(R.h3("Thresholds that separate top accounts"),
              R.bullets(th["sentence"].astype("string").dropna().head(10)))
    return s


def _calibration_note(ctx: Context, verdicts: pd.DataFrame) -> str:
    """What the calibration study (helpers.synthetic.calibration) says at this run's base size: the
    kept accounts of the reconciliation, else the most accounts any hypothesis was tested on."""
    from helpers.synthetic.calibration import calibration_sentence

    rec = _table(ctx.store, "reconciliation")
    n = None
    if rec is not None and "rule" in rec.columns:
        n = rec.set_index("rule")["accounts"].get("kept")
    if n is None and "n" in verdicts.columns:
        n = pd.to_numeric(verdicts["n"], errors="coerce").max()
    return calibration_sentence(int(n)) if n is not None and n == n else \
        calibration_sentence(0)


def _method_data_gaps(ctx: Context) -> R.Section:
    s = R.Section("method-data-gaps", "Methodology: data gaps and possible biases")
    any_ = False
    jr = _table(ctx.store, "join_report")
    if jr is not None and "match_rate" in jr.columns:
        any_ = True
        s.add(R.h3("Matching the data sources to the accounts"),
              R.bullets([f"{r.source}: {R.fmt_pct(r.match_rate)} of accounts matched "
                         f"({R.fmt_num(int(r.unmatched_accounts))} without data)"
                         for r in jr.itertuples()]))
    from helpers.collect.sources import source_paths

    paths = source_paths(ctx.params.inputs, ctx.params.aggregation)
    if paths:  # row-level files aggregated here, or per-account summaries made elsewhere
        any_ = True
        s.add(R.h3("Where the ticket and usage figures come from"), R.bullets(paths))
    qr = _table(ctx.store, "quality_report")
    if qr is not None and "completeness" in qr.columns:
        any_ = True
        cols = [c for c in ("id", "variable", "completeness", "stale_share", "out_of_range",
                            "unreadable", "send_back", "reason") if c in qr.columns]
        s.add(R.h3("Completeness of each measure"),
              R.table(qr[cols], formats={"completeness": R.fmt_pct, "stale_share": R.fmt_pct},
                      caption="Share of accounts with a value, share of stale records, values "
                              "outside the plausible range, unreadable values (N/A, TBD, -, ? "
                              "or text that is not a number: counted as missing); measures "
                              "sent back were not tested."))
        if "unreadable" in qr.columns:
            unread = qr.loc[pd.to_numeric(qr["unreadable"], errors="coerce").fillna(0) > 0]
            if len(unread):
                s.add(R.p("Unreadable values, counted as missing: " + "; ".join(
                    f"{r.id} ({r.variable}): {R.fmt_num(int(r.unreadable))} account(s)"
                    for r in unread.itertuples()) + "."))
    typos = _table(ctx.store, "label_suggestions")
    if typos is not None and len(typos):
        any_ = True
        s.add(R.h3("Labels that look like typos"),
              R.table(typos, max_rows=30, caption="Category labels close to a known one: "
                      "add the line to the industry map (or correct the export) and re-run."))
    biases = []
    sc = _table(ctx.store, "scored_accounts")
    if sc is not None and "status" in sc.columns:
        former = int((sc["status"].astype("string") == "former").sum())
        biases.append(f"The list includes {R.fmt_num(former)} former customers, so the score "
                      "sees churn, not only survivors.")
    if jr is not None and "match_rate" in jr.columns:
        low = jr[jr["match_rate"] < 0.9]
        for r in low.itertuples():
            biases.append(f"Only {R.fmt_pct(r.match_rate)} of accounts matched {r.source}: "
                          "findings on its fields describe the matched accounts, which may "
                          "differ from the rest (e.g. survey respondents self-select).")
    biases.append("Segments describe today's best customers; they reflect past sales focus as "
                  "well as fit, and should be re-checked each quarter.")
    s.add(R.h3("Possible biases"), R.bullets(biases))
    warns = _doc(ctx.store, "warnings")
    lines = ctx.texts(_strings(warns))
    if lines:
        any_ = True
        shown = [w if len(w) <= 300 else w[:297] + "..." for w in lines[:25]]
        s.add(R.h3("Warnings recorded during the run"), R.bullets(shown))
    if not any_:
        _na(s, "Data-quality tables")
    return s


def _analysis_path(ctx: Context, s: R.Section) -> None:
    """Which Step 4 path ran (full or lightweight, helpers.analyse.lightweight) and, on the
    lightweight path, the accounts sorted by each field (does one group stand out?)."""
    from helpers.analyse.lightweight import sentence

    doc = _doc(ctx.store, "analysis_path")
    if not doc:
        return
    s.add(R.h3("Which analysis ran"), R.p(sentence(doc)))
    sep = _table(ctx.store, "lightweight_separation")
    if sep is not None and len(sep):
        s.add(R.table(sep, max_rows=40, formats={"top_rate": R.fmt_pct,
                                                 "lift": lambda x: f"{_num(x):.1f}x",
                                                 "mean_score": ctx.money},
                      caption="Accounts sorted by each field (cut at its threshold, or by "
                              f"category): the share of each group in the top "
                              f"{R.fmt_pct(ctx.top_share)}, against the whole base (lift)."))


def _method_models(ctx: Context) -> R.Section:
    from helpers.present.plots import scheme_colours, scheme_gains

    s = R.Section("method-models", "Methodology: regression and lift")
    _analysis_path(ctx, s)
    coefs = _table(ctx.store, "regression_coefs")
    if coefs is not None and len(coefs):
        cols = [c for c in ("group", "term", "coef", "se", "p") if c in coefs.columns]
        s.add(R.h3("Regression: what moves the score when all else is equal"),
              R.table(coefs[cols], max_rows=25, formats={"p": lambda x: f"{_num(x):.3g}",
                                                         "coef": lambda x: f"{_num(x):+.3g}",
                                                         "se": lambda x: f"{_num(x):.3g}"},
                      caption="Ordinary least squares after backward elimination (robust "
                              f"errors); target: {ctx.params.analysis.regression.target}."))
        comp = _table(ctx.store, "regression_comparison")
        if comp is not None and len(comp):
            s.add(R.table(comp, max_rows=10, caption="Pooled vs split models."))
    else:
        _na(s, "Regression results")
    tree = _table(ctx.store, "tree_nodes")
    if tree is not None and {"is_leaf", "rule", "n", "mean_score"} <= set(tree.columns):
        leaves = tree[tree["is_leaf"].astype(bool)].sort_values("mean_score", ascending=False,
                                                               kind="stable")
        cols = [c for c in ("rule", "n", "mean_score", "share_A") if c in leaves.columns]
        s.add(R.h3("Decision tree: the leaves, best first"),
              R.table(leaves[cols], max_rows=12,
                      formats={"mean_score": ctx.money, "share_A": R.fmt_pct},
                      caption="share_A = share of the leaf's accounts in the best quartile."))
    lift = _table(ctx.store, "lift")
    summ = _table(ctx.store, "scheme_summary")
    if lift is not None and {"scheme", "sample", "x", "y"} <= set(lift.columns) and len(lift):
        from helpers.analyse.lift import gains_finding

        for c in ("y_min", "y_max"):
            if c not in lift.columns:
                lift[c] = lift["y"]
        title = gains_finding(lift)
        colours = scheme_colours(lift)
        s.add(R.h3("Lift: how well each scheme finds the top accounts"),
              R.figure(scheme_gains(lift, title=title), alt=title, caption=(
                  "Gains chart: accounts ranked best first by each scheme (x) against the share "
                  f"of the top {R.fmt_pct(ctx.top_share)} accounts found (y). One colour per "
                  "scheme, best first in the legend; solid lines: cross-validated (scored on "
                  "accounts the scheme did not see), the best scheme thick with its band over "
                  "the repeats; dashed: the best scheme fitted and scored on all accounts "
                  "(in-sample). Dotted diagonal: random; dash-dot: perfect.")),
              R.legend([(name, colour) for name, colour in colours.items()]))
    else:
        colours = {}
        _na(s, "Gains chart")
    if summ is not None and "accuracy_ratio" in summ.columns and len(summ):
        cap = [c for c in summ.columns if re.fullmatch(r"capture_\d+", c)]
        cols = ["scheme", "sample", "accuracy_ratio", *cap]
        fm = {c: R.fmt_pct for c in cap} | {"accuracy_ratio": lambda x: f"{_num(x):.2f}"}
        if colours and "scheme" in summ.columns:  # the chart's order: best scheme first
            rank = {name: k for k, name in enumerate(colours)}
            summ = summ.assign(_r=summ["scheme"].astype(str).map(rank).fillna(len(rank))) \
                .sort_values(["_r", "sample"], kind="stable")
        s.add(R.table(summ[[c for c in cols if c in summ.columns]], formats=fm,
                      caption="Accuracy ratio: 0 = random, 1 = perfect. capture_25 = share of "
                              "top accounts in the scheme's best 25 % of accounts."))
    return s


def _method_robustness(ctx: Context) -> R.Section:
    from helpers.analyse.robustness import stability_sentence, weights_sentence

    s = R.Section("method-robustness", "Methodology: how robust the result is")
    out = []
    rs = _table(ctx.store, "robustness_summary")
    need = {"draws", "spearman_median", "retention_mean", "robust_top_of_base_top",
            "robust_share"}
    if rs is not None and len(rs) and need <= set(rs.columns):
        out.append(weights_sentence(SimpleNamespace(summary=rs)))  # type: ignore[arg-type]
    st = _table(ctx.store, "segment_stability")
    if st is not None and len(st) and {"segment", "verdict", "mean_jaccard"} <= set(st.columns):
        names = dict(zip(ctx.segs["segment"], ctx.segs["label"], strict=True)) \
            if ctx.segs is not None else {}
        out.append(stability_sentence(st, names))
    findings = ctx.findings if not out else None
    if not out and isinstance(findings, Mapping):
        out = [str(v) for k, v in findings.items()
               if isinstance(v, str) and ("robust" in k or "stabil" in k)]
    if not out:
        return _na(s, "Robustness checks")
    return s.add(R.bullets(out))


def _since_previous(ctx: Context) -> R.Section:
    """Run-to-run diff and quarter-to-quarter migration, from the tables of
    step4.since_previous (comparison.json, change_*, migration_*, retention...)."""
    from helpers.analyse.quarterly import matrix_wide

    s = R.Section("since-previous", "What changed since the previous run")
    doc = _doc(ctx.store, "comparison")
    if not isinstance(doc, Mapping):
        return _na(s, "The comparison with the previous run")
    prev, prevq = doc.get("previous_run"), doc.get("previous_quarter_run")
    notes = [str(n) for n in doc.get("notes") or []]
    if not prev and not prevq:
        s.add(R.note("First run: there is no earlier complete run of this lineage to compare "
                     "with."))
        return s.add(R.bullets(notes)) if notes else s
    if notes:
        s.add(R.p("Runs not compared with:"), R.bullets(notes))
    if prev:
        s.add(R.h3(f"Compared with run {prev} (as of {doc.get('previous_as_of', '–')})"),
              R.note(f"Chosen as: {doc.get('previous_rule', '')}."))
        cp = _table(ctx.store, "change_params")
        if cp is not None:
            s.add(R.p(f"{len(cp)} parameter(s) differ." if len(cp) else
                      "The parameters are the same."))
            if len(cp):
                s.add(R.table(cp, max_rows=30))
        ci = _table(ctx.store, "change_inputs")
        if ci is not None and len(ci):
            s.add(R.table(ci[[c for c in ("role", "change", "path_prev", "path_cur", "rows_prev",
                                          "rows_cur") if c in ci.columns]],
                          caption="Input files (by SHA-256)"))
        rk = _table(ctx.store, "change_ranking")
        if rk is not None and len(rk):
            r = rk.iloc[0]
            s.add(R.p(f"Ranking: of {R.fmt_num(int(r['accounts']))} accounts scored in both runs "
                      f"the scores correlate at Spearman {_num(r['spearman']):.3f} (Kendall "
                      f"{_num(r['kendall']):.3f}); {R.fmt_num(int(r['changed_quartile']))} "
                      f"changed quartile and {R.fmt_pct(_num(r['top_quartile_kept']))} of the "
                      "previous top quartile stayed in it."))
    if prevq:
        s.add(R.h3(f"Migration since {prevq} (as of {doc.get('previous_quarter_as_of', '–')})"))
        if prevq != prev:
            s.add(R.note(f"Chosen as: {doc.get('quarter_rule', '')}."))
        mig = doc.get("migration") or {}
        if mig:
            s.add(R.p(
                f"{R.fmt_num(mig.get('movement: won', 0))} account(s) won, "
                f"{R.fmt_num(mig.get('churned (customer before, not now)', 0))} churned, "
                f"{R.fmt_num(mig.get('movement: upgraded', 0))} upgraded and "
                f"{R.fmt_num(mig.get('movement: downgraded', 0))} downgraded (MRR); "
                f"{R.fmt_num(mig.get('changed segment (customers in both, segmented in both)', 0))}"
                " changed segment; "
                f"{R.fmt_num(mig.get('moved into the target segments', 0))} moved into and "
                f"{R.fmt_num(mig.get('moved out of the target segments', 0))} out of the target "
                "segments. Every account of either snapshot appears once below"
                + (" (reconciled)." if mig.get("reconciles") else " (DOES NOT RECONCILE).")))
        mm = _table(ctx.store, "migration_matrix")
        if mm is not None and len(mm):
            s.add(R.table(matrix_wide(mm, "accounts"), caption="Accounts: previous state "
                          "(rows) to current state (columns)", max_rows=40))
            s.add(R.table(matrix_wide(mm, "arr_cur"), caption="Current ARR by cell (churned: "
                          "0; the ARR lost is in the retention table)", max_rows=40,
                          formats={c: ctx.money for c in matrix_wide(mm, "arr_cur").columns[1:]}))
        rt = _table(ctx.store, "retention")
        if rt is not None and len(rt):
            s.add(R.p("Gross revenue retention = (start ARR − churned − contraction) / start ARR; "
                      "net revenue retention adds expansion (customers of the previous run)."),
                  R.table(rt, formats={**{c: ctx.money for c in ("start_arr", "churned_arr",
                                                                  "contraction_arr",
                                                                  "expansion_arr", "end_arr")},
                                       "grr": lambda v: R.fmt_pct(v, 1),
                                       "nrr": lambda v: R.fmt_pct(v, 1)}))
        tm = _table(ctx.store, "target_movers")
        if tm is not None:
            s.add(R.h3("Accounts into and out of the target segments (for customer success)"),
                  R.table(ctx.accounts(tm), max_rows=25,
                          formats={"arr_prev": ctx.money, "arr_cur": ctx.money},
                          caption="Full list in report.xlsx, sheet 'target movers'"))
    seg = _table(ctx.store, "migration_segments")
    if seg is None:
        seg = _table(ctx.store, "change_segments")
    if seg is not None and len(seg):
        same = int((seg["status"] == "same rule").sum())
        s.add(R.h3("Stability of the segment definitions"),
              R.p(f"{same} of {len(seg)} segment rule(s) are the same in both runs."),
              R.table(seg[[c for c in ("rule", "status", "name_cur", "recommended_prev",
                                       "recommended_cur", "accounts_prev", "accounts_cur",
                                       "share_change", "jaccard") if c in seg.columns]],
                      formats={"share_change": lambda v: R.fmt_pct(v, 1)}))
    return s


def _customer_success(ctx: Context) -> R.Section:
    s = R.Section("customer-success", "Customer-success view per segment")
    cov = _table(ctx.store, "coverage")
    if cov is None or "model" not in cov.columns:
        _na(s, "The coverage model")
    else:
        cs = ctx.params.segments.cs
        s.add(R.p(f"Dedicated managers (about {cs.accounts_per_manager_min}–"
                  f"{cs.accounts_per_manager_max} accounts each, fewer for higher value) where "
                  f"the mean ACV reaches {ctx.money(cs.dedicated_min_value)}; a pooled model "
                  f"(one manager per {R.fmt_num(cs.pooled_accounts_per_manager)} accounts) with "
                  "automated tech-touch flows elsewhere."))
        cov = cov.copy()
        if ctx.segs is not None:
            lab = dict(zip(ctx.segs["segment"], ctx.segs["label"], strict=True))
            cov["name"] = cov["segment"].astype("str").map(lab).fillna(
                cov["name"] if "name" in cov.columns else cov["segment"])
        cols = [c for c in ("name", "accounts", "mean_acv", "model", "accounts_per_manager",
                            "managers", "touch", "churn_kpi") if c in cov.columns]
        s.add(R.table(cov[cols], formats={"mean_acv": ctx.money}))
        total = cov[cov["segment"].astype("str") == "Total"]
        if len(total) and "managers" in cov.columns:
            s.add(R.p(f"In total {R.fmt_num(int(total['managers'].iloc[0]))} named managers; "
                      f"{total['touch'].iloc[0] if 'touch' in total else ''}."))
    s.add(R.bullets([
        "Churn KPI per segment as listed: by dollars where a few large accounts hold most of "
        "the revenue, by volume elsewhere; a segment with time-limited usage churns more by "
        "nature and is balanced against its revenue growth.",
        "Accounts move between segments as they grow or shrink: track the moves each quarter "
        "and change their content and coverage with them.",
        "Content follows context: no small-business content for large enterprises, no "
        "onboarding material for long-time customers.",
    ]))
    dia = _table(ctx.store, "diamonds")
    if dia is not None and "diamond" in dia.columns:
        n_d = int(dia["diamond"].fillna(False).astype(bool).sum())
        share = ctx.params.segments.diamond_value_share
        s.add(R.h3("Diamonds in the rough"),
              R.p(f"{R.fmt_num(n_d)} surveyed account(s) in the bottom {R.fmt_pct(share)} by "
                  f"value share the needs of the best-fit needs cluster "
                  f"(of {R.fmt_num(len(dia))} surveyed accounts): candidates for growth "
                  "plays rather than low-touch treatment."))
    return s


def _prospect_counts(ctx: Context) -> pd.DataFrame | None:
    pr = _table(ctx.store, "prospects_scored")
    if pr is None or "segment" not in pr.columns:
        return None
    counts = pr["segment"].astype("str").value_counts()
    out = pd.DataFrame({"segment": counts.index, "prospects": counts.to_numpy()})
    if ctx.segs is not None:
        lab = dict(zip(ctx.segs["segment"], ctx.segs["label"], strict=True))
        order = {s: i for i, s in enumerate(ctx.segs["segment"])}
        out["name"] = out["segment"].map(lab).fillna(out["segment"])
        out["_o"] = out["segment"].map(order).fillna(len(order))
        out = out.sort_values(["_o", "segment"], kind="stable").drop(columns="_o")
    out["share"] = out["prospects"] / out["prospects"].sum()
    return out.reset_index(drop=True)


def _next_steps(ctx: Context) -> R.Section:
    s = R.Section("next-steps", "Next steps")
    null = _null_result(ctx.findings)
    if null is not None and null.get("next_steps"):
        s.add(R.h3("0. No segment beats random yet: collect what the tests lacked"),
              R.bullets(_strings(null["next_steps"])))
    h = headline(ctx)
    names = ", ".join(f"“{n}”" for n in h["names"]) if h else "the recommended segments"
    ch = _doc(ctx.store, "charter") or {}
    people = ", ".join(f"{p.get('name')} ({p.get('role')})"
                       for p in (ch.get("stakeholders") or []) if isinstance(p, Mapping))
    s.add(R.h3("1. Feedback and sign-off first"), R.bullets([
        "Challenge the segments, names and rules"
        + (f" — {people}" if people else "") + "; small adjustments to the data or method are "
        "expected and re-run from the versioned files without redoing the work.",
        "Agree the final segment names and the target list, then sign off.",
    ]))
    s.add(R.h3("2. What each team does with the segments"), R.bullets([
        f"Product: prioritise the roadmap for the needs of {names}; use the needs clusters to "
        "spot under-served groups.",
        f"Go-to-market: position and price for {names}; qualify new leads with the same rules.",
        f"Sales: assign territories and account plans to {names}; score the prospect list with "
        "the segment rules.",
        f"Marketing: target campaigns and content at {names} (look-alike audiences from the "
        "example accounts).",
        "Service / customer success: apply the coverage model per segment and track accounts "
        "that move between segments.",
    ]))
    pc = _prospect_counts(ctx)
    s.add(R.h3("3. Prospect coverage"))
    if pc is None:
        _na(s, "Scored prospects")
    else:
        in_rec = pc[pc["segment"].isin(h.get("segments", []))] if h else pc.iloc[0:0]
        s.add(R.p(f"{R.fmt_num(int(in_rec['prospects'].sum()))} of "
                  f"{R.fmt_num(int(pc['prospects'].sum()))} prospects "
                  f"({R.fmt_pct(in_rec['prospects'].sum() / pc['prospects'].sum())}) fall in "
                  "the recommended segments."),
              R.table(pc[[c for c in ("name", "prospects", "share") if c in pc.columns]],
                      formats={"share": R.fmt_pct}))
    s.add(R.h3("4. Keep it fresh"), R.p(
        "Results have a shelf life: implement quickly, measure the impact, and re-run the "
        "process each quarter (a new parameter file that extends this one)."))
    return s


def _appendix(ctx: Context) -> R.Section:
    s = R.Section("appendix", "Appendix for analysts")
    links = dict(ctx.appendix_links) if ctx.appendix_links is not None else default_links()
    s.add(R.h3("Files"), R.links(list(links.items())))
    if ctx.anonymise:
        s.add(R.note("This report is anonymised; the executed notebooks are analyst material "
                     "and show real account names."))
    m = ctx.store.manifest()
    info = pd.DataFrame([
        ("run id", ctx.store.run_id), ("as of", str(ctx.params.as_of)),
        ("parameter file", str(m.get("params_file", "–"))),
        ("parameters hash (SHA-256)", str(m.get("params_hash") or params_hash(ctx.params))),
        ("parameter overrides in notebooks", overrides_text(m)),
        ("effective parameters hash", str(m.get("effective_params_hash")
                                          or m.get("params_hash") or params_hash(ctx.params))),
        ("started", str(m.get("started_at", "–"))),
    ], columns=["item", "value"])  # no status: the report is built inside the run it describes
    s.add(R.h3("Run"), R.table(info))
    inputs = m.get("inputs") or {}
    if inputs:
        df = pd.DataFrame([{"input": k, "path": v.get("path"), "bytes": v.get("size_bytes"),
                            "sha256": v.get("sha256")} for k, v in inputs.items()])
        s.add(R.h3("Inputs and their hashes"), R.table(df))
    tables = m.get("tables") or {}
    if tables:
        df = pd.DataFrame([{"table": k, "rows": v.get("rows"), "step": v.get("step"),
                            "sha256": str(v.get("sha256", ""))[:16]}
                           for k, v in sorted(tables.items())])
        s.add(R.h3("Tables this report reads from"), R.table(df, max_rows=80))
    vers = m.get("versions") or {}
    if vers:
        s.add(R.h3("Versions"), R.p("; ".join(f"{k} {v}" for k, v in sorted(vers.items()))))
    s.add(R.h3("Where each part of the report comes from"),
          R.note("Each part's tables in this run and the function that wrote them "
                 "(helpers.pipeline; the full list is in docs/architecture.md)."))
    written = {*tables, *(m.get("documents") or {}), "manifest"}
    parts = [*((title, f"#{sid}", sid) for sid, title in SECTIONS),
             ("Data file (report.xlsx)", "report.xlsx", catalog.XLSX)]
    for title, href, sid in parts:
        found = [catalog.entry(n) for n in catalog.read_by(sid) if n in written]
        if found:
            s.add(R.sources(title, href, [(_KIND_LABEL[e.kind], e.file if e.kind != "table"
                                           else e.name, e.producer) for e in found]))
    return s


#: how the appendix's Source lines name each kind of the catalog
_KIND_LABEL = {"table": "table", "document": "document", "manifest": "run record"}


def default_links() -> dict[str, str]:
    """Relative links from report.html: the executed notebooks and the data file."""
    out = {f"Executed notebook {nb}": f"notebooks/{nb}.html" for nb in NOTEBOOKS}
    out["Data file (XLSX): scored accounts, segments, verdicts, reconciliation"] = "report.xlsx"
    return out


#: the builder of each section of :data:`SECTIONS`, by id; the tables each one reads are
#: declared in the table catalog (:func:`helpers.core.catalog.read_by`)
BUILDERS: dict[str, Callable[[Context], R.Section]] = {
    "agenda": _agenda, "executive-summary": _executive, "recap": _recap,
    "findings": _findings, "concentration": _chart_a, "segment-top-share": _chart_b,
    "trade-off": _tradeoff, "since-previous": _since_previous, "method-score": _method_score,
    "method-best-worst": _method_best_worst, "method-reconciliation": _method_reconciliation,
    "method-hypotheses": _method_hypotheses, "method-data-gaps": _method_data_gaps,
    "method-models": _method_models, "method-robustness": _method_robustness,
    "customer-success": _customer_success, "next-steps": _next_steps, "appendix": _appendix,
}


def build_sections(store: RunStore, params: Params,
                   appendix_links: Mapping[str, str] | None = None) -> list[R.Section]:
    """Every report section in the method's order (see :data:`SECTIONS`).

    Parameters
    ----------
    store
        The run's tables.
    params
        The run's parameters.
    appendix_links
        The appendix's file list; None for :func:`default_links`.

    Returns
    -------
    list of Section
    """
    ctx = make_context(store, params, appendix_links)
    return [BUILDERS[sid](ctx) for sid, _ in SECTIONS]


def build_report(store: RunStore, params: Params, out_path: str | Path, *,
                 appendix_links: dict[str, str] | None = None) -> Path:
    """Write the stakeholder report (one self-contained HTML file) and return its path."""
    sections = build_sections(store, params, appendix_links)
    ch = _doc(store, "charter") or {}
    m = store.manifest()
    subtitle = [str(ch.get("project") or params.charter.project),
                f"Run {store.run_id} · data as of {params.as_of:%d %B %Y}"
                + (" · anonymised" if params.report.anonymise else "")]
    footer = [f"Run {store.run_id}; parameters hash {str(m.get('params_hash') or params_hash(params))[:16]}.",
              "Every figure is computed from the run's stored tables (data/processed/"
              f"{store.run_id}/)."]
    html = R.render(params.report.title, subtitle, sections, footer)
    return R.write(html, out_path)


# ----------------------------------------------------------------------------- XLSX
def scrub_frame(df: pd.DataFrame, scrub: Mapping[str, str]) -> pd.DataFrame:
    """Replace real identifiers inside the text cells of a small table (segment examples,
    verdict evidence...) by their pseudonyms. Meant for aggregate tables, not account lists."""
    if not scrub:
        return df
    out = df.copy()
    cols = [c for c in out.columns
            if out[c].dtype == object or pd.api.types.is_string_dtype(out[c])]
    cells = [v for c in cols for v in out[c].tolist() if isinstance(v, str)]
    keys = relevant_keys(scrub, cells)
    if not keys:
        return out

    def fix(v: Any) -> Any:
        if not isinstance(v, str):
            return v
        for k in keys:
            if k in v:
                v = v.replace(k, scrub[k])
        return v

    for c in cols:
        out[c] = out[c].map(fix)
    return out


def relevant_keys(scrub: Mapping[str, str], texts: Sequence[str]) -> list[str]:
    """The identifiers of ``scrub`` that occur in any of ``texts``, longest first (one pass
    over the identifiers against the joined text, so 1M accounts cost about a second)."""
    big = "\n".join(texts)
    if not big:
        return []
    return sorted((k for k in scrub if k and k in big), key=len, reverse=True)


def xlsx_sheets(store: RunStore, params: Params) -> dict[str, pd.DataFrame]:
    """The tables of the analyst's data file (anonymised when the parameter says so)."""
    anon = params.report.anonymise
    sheets: dict[str, pd.DataFrame] = {}
    notes: list[tuple[str, str]] = []
    sc = _table(store, "scored_accounts")
    if sc is not None:
        acc = sc[[c for c in XLSX_ACCOUNT_COLUMNS if c in sc.columns]].copy()
        sa = _table(store, "segment_assignments")
        if sa is not None and "account_id" in sa.columns:
            keep = [c for c in ("account_id", "segment", "segment_name") if c in sa.columns]
            acc = acc.merge(sa[keep].astype({"account_id": "str"}), on="account_id",
                            how="left", validate="one_to_one")
            seg_rules = _table(store, "segments")
            if "segment" in acc.columns and seg_rules is not None and \
                    {"segment", "rule"} <= set(seg_rules.columns):  # the full rule beside the name
                rules = dict(zip(seg_rules["segment"].astype(str),
                                 seg_rules["rule"].astype(str), strict=True))
                acc["segment_rule"] = acc["segment"].astype("str").map(rules)
        cap = min(EXCEL_MAX_ROWS, XLSX_ACCOUNT_ROWS)
        if len(acc) > cap:
            if "score_rank" in acc.columns:
                acc = acc.sort_values(["score_rank", "account_id"], kind="stable")
            notes.append(("scored accounts", f"the best {cap:,} of {len(acc):,} accounts by "
                          "score rank; the full table is in the run's Parquet files "
                          "(scored_accounts, segment_assignments)"))
            acc = acc.head(cap).reset_index(drop=True)
        sheets["scored accounts"] = anonymise_frame(acc) if anon else acc
    seg = _table(store, "segments")
    if seg is not None:
        sheets["segments"] = seg
    cov = _table(store, "coverage")
    if cov is not None:
        sheets["coverage"] = cov
    v = _table(store, "hypothesis_verdicts")
    if v is not None:
        sheets["hypothesis verdicts"] = v
    else:
        hyp = _table(store, "hypotheses")
        if hyp is not None:
            sheets["hypotheses"] = hyp
    rec = _table(store, "reconciliation")
    if rec is not None:
        sheets["reconciliation"] = rec
    for table, sheet in (("migration_matrix", "migration matrix"),
                         ("migration_summary", "migration summary"),
                         ("retention", "retention"), ("target_movers", "target movers"),
                         ("migration_accounts", "migration accounts"),
                         ("migration_segments", "segment definitions"),
                         ("change_params", "changes parameters"),
                         ("change_inputs", "changes inputs"), ("change_ranking", "changes ranking"),
                         ("change_quartiles", "changes quartiles")):
        frame = _table(store, table)
        if frame is not None:
            acc_level = table in ("target_movers", "migration_accounts", "change_quartiles")
            sheets[sheet] = anonymise_frame(frame) if anon and acc_level else frame
    exc = _table(store, "exclusions")
    if exc is not None:
        raw = _table(store, "accounts_raw")
        exc = exc[exc["excluded"].fillna(False).astype(bool)] if "excluded" in exc else exc
        if raw is not None and "account_name" in raw.columns:
            exc = exc.merge(raw[["account_id", "account_name"]], on="account_id", how="left")
        sheets["exclusions"] = anonymise_frame(exc) if anon else exc
    m = store.manifest()
    info = [("run id", store.run_id), ("as of", str(params.as_of)),
            ("parameter file", str(m.get("params_file", ""))),
            ("parameters hash", str(m.get("params_hash") or params_hash(params))),
            ("parameter overrides in notebooks", overrides_text(m)),
            ("effective parameters hash", str(m.get("effective_params_hash")
                                              or m.get("params_hash") or params_hash(params))),
            ("anonymised", "yes" if anon else "no"),
            *[(f"note: {k}", v) for k, v in notes],
            *[(f"input {k}", f"{d.get('path')} sha256 {d.get('sha256')}")
              for k, d in (m.get("inputs") or {}).items()],
            *[(f"version {k}", str(ver)) for k, ver in sorted((m.get("versions") or {}).items())]]
    sheets["run info"] = pd.DataFrame(info, columns=["item", "value"])
    if anon:
        scrub = _scrub_map(store)
        for name in ("segments", "coverage", "hypothesis verdicts", "hypotheses",
                     "reconciliation"):
            if name in sheets:
                sheets[name] = scrub_frame(sheets[name], scrub)
    return sheets


#: what each sheet of report.xlsx holds (its "contents" sheet)
XLSX_CONTENTS = {
    "scored accounts": "every analysed account: quality score, quartile, segment and its name",
    "segments": "one row per segment: name, full rule, size, share in the top, lift, value",
    "coverage": "customer-success coverage per segment (managers, accounts per manager)",
    "hypothesis verdicts": "each hypothesis with its test, effect size and verdict",
    "hypotheses": "the hypotheses of the run",
    "reconciliation": "from the raw export to the analysed accounts, rule by rule",
    "migration matrix": "accounts moving between segments since the previous quarter",
    "migration summary": "the migration in figures",
    "retention": "retention of last quarter's segments",
    "target movers": "accounts that entered or left the recommended segments",
    "migration accounts": "every account's segment then and now",
    "segment definitions": "the segment rules of both quarters",
    "changes parameters": "parameters changed since the previous run",
    "changes inputs": "input files changed since the previous run",
    "changes ranking": "how the ranking moved since the previous run",
    "changes quartiles": "accounts whose quartile changed since the previous run",
    "exclusions": "accounts excluded from the analysis, with the reason",
    "run info": "run id, as-of date, parameter hash, input files and versions",
}


def build_xlsx(store: RunStore, params: Params, out_path: str | Path) -> Path:
    """Write the analyst's workbook (formula-injection safe, a contents sheet first; frozen
    headers, filters, widths and money/percent formats on every sheet) and return its path."""
    from helpers.core.export import safe_xlsx

    sheets = xlsx_sheets(store, params)
    contents = {name: XLSX_CONTENTS.get(name, "") for name in sheets}
    return safe_xlsx(sheets, out_path, contents=contents, currency=params.currency.base)


def preview(store: RunStore, params: Params) -> pd.DataFrame:
    """The headline figures as a small table (for the notebook's preview)."""
    h = headline(make_context(store, params))
    if not h:
        return pd.DataFrame({"figure": ["recommended segments"], "value": [NOT_AVAILABLE]})
    rows = [("recommended segments", ", ".join(h["names"])),
            ("coverage (share of accounts)", R.fmt_pct(h["coverage"])),
            (f"share of the top {R.fmt_pct(params.analysis.top_share)} accounts",
             R.fmt_pct(h["capture"])),
            ("lift over the base", fmt_lift(h["lift"])),
            ("top accounts missed", R.fmt_num(h["n_top_missed"]))]
    return pd.DataFrame(rows, columns=["figure", "value"])


__all__: Sequence[str] = ("build_report", "build_xlsx", "build_sections", "headline",
                          "standard_segments", "xlsx_sheets", "preview", "default_links",
                          "SECTIONS", "NOT_AVAILABLE")

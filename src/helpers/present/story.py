"""The stakeholder story of the report: agenda; executive summary (or, when no scheme beats
random, the null result); goals, agreed method and milestones; the segments in priority order;
chart (a) where the top accounts are; chart (b) each segment's share of top accounts; the
trade-off. Each builder takes the report's :class:`~helpers.present.context.Context` and returns
its :class:`~helpers.present.report.Section`; the tables it reads are declared in the table
catalog (:func:`helpers.core.catalog.read_by` with the section id).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from helpers.present import report
from helpers.present.context import (
    SECTIONS,
    Context,
    as_float,
    first_column,
    fmt_lift,
    headline,
    not_available,
    null_result,
    stored_document,
    stored_table,
    strings_in,
)
from helpers.present.report import fmt_num, fmt_pct


def agenda(ctx: Context) -> report.Section:
    """The agenda: every section's title.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``agenda``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    s = report.Section("agenda", "Agenda")
    items = [title for sid, title in SECTIONS if sid not in ("agenda",)]
    return s.add(report.bullets(items))


def headline_sentences(findings: Any) -> list[str]:
    """Stakeholder sentences from the analysis's ``findings.json`` (only keys known to hold
    sentences or counts; robustness sentences have their own section)."""
    if isinstance(findings, list):
        return [s for s in strings_in(findings) if s]
    if not isinstance(findings, Mapping):
        return []
    out = strings_in(findings.get("headlines", []))
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


def _null_section(s: report.Section, null: Mapping[str, Any]) -> None:
    """No scheme beats random: say so, list the hypotheses tried with their power, and what
    to collect next."""
    s.add(report.lead(str(null.get("sentence", ""))))
    tried = pd.DataFrame(null.get("hypotheses") or [])
    if len(tried):
        cols = [c for c in ("hypothesis_id", "statement", "verdict", "n", "power",
                            "accounts_needed", "next") if c in tried.columns]
        s.add(report.h3("Hypotheses tried and the power each had"),
              report.table(tried[cols], formats={
                  "power": lambda x: fmt_pct(as_float(x)) if np.isfinite(as_float(x)) else "–",
                  "accounts_needed": lambda x: (fmt_num(int(as_float(x)))
                                                if np.isfinite(as_float(x)) else "–"),
                  "n": lambda x: fmt_num(int(as_float(x))) if np.isfinite(as_float(x)) else "–"},
                           caption="Power: the chance the test had to detect an effect of "
                           "|Cliff's "
                           f"delta| {null.get('min_effect', '')} or more; accounts needed: for "
                           f"{fmt_pct(as_float(null.get('min_power', float('nan'))))} power."))
    if null.get("next_steps"):
        s.add(report.h3("What to collect next"), report.bullets(strings_in(null["next_steps"])))


def executive_summary(ctx: Context) -> report.Section:
    """The executive summary: the recommended segments in figures, or the null result when no
    scheme beats random, and the analysis's headlines.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``executive-summary``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    s = report.Section("executive-summary", "Executive summary")
    findings = ctx.findings
    h = headline(ctx)
    null = null_result(findings)
    if null is not None:
        _null_section(s, null)
    elif not h:
        not_available(s, "Recommended segments")
    else:
        names = ", ".join(f"“{n}”" for n in h["names"])
        s.add(report.lead(
            f"Focus on {len(h['names'])} segment(s): {names}. Together they hold "
            f"{fmt_pct(h['coverage'])} of our accounts but {fmt_pct(h['capture'])} of the "
            f"top {fmt_pct(ctx.top_share)} accounts by quality score — "
            f"{fmt_lift(h['lift'])} the rate of the whole base."))
        s.add(report.cards([
            ("of accounts in the recommended segments (coverage)", fmt_pct(h["coverage"])),
            (f"of the top {fmt_pct(ctx.top_share)} accounts they hold",
             fmt_pct(h["capture"])),
            ("lift over the whole base", fmt_lift(h["lift"])),
            ("mean quality score in focus vs rest",
             f"{ctx.money(h['score_focus'])} vs {ctx.money(h['score_rest'])}"),
        ]))
        rec = ctx.segs[ctx.segs["recommended"]]
        s.add(report.cards([(f"{r.label}: {fmt_pct(r.share_top)} in the top, "
                             f"{fmt_pct(r.share_of_base)} of accounts",
                             fmt_lift(as_float(r.lift)), ctx.colours.get(r.segment, ""))
                            for r in rec.itertuples()]))
        cmin, cmax = ctx.params.segments.coverage_min, ctx.params.segments.coverage_max
        inside = cmin - 1e-9 <= h["coverage"] <= cmax + 1e-9
        s.add(report.p(f"The method aims for segments covering {fmt_pct(cmin)}–{fmt_pct(cmax)} "
                       f"of accounts; this recommendation covers {fmt_pct(h['coverage'])}"
                       + (" (inside the band)." if inside else " (outside the band: see the "
                          "trade-off section).")))
    sentences = headline_sentences(findings)
    if sentences:
        s.add(report.h3("Headlines from the analysis"), report.bullets(sentences[:8]))
    path = stored_document(ctx.store, "analysis_path")
    if path and path.get("path") == "lightweight":
        s.add(report.note(f"Small base ({fmt_num(path['n_accounts'])} accounts): the method's "
                          "lightweight analysis ran; see “Methodology: regression and lift” "
                          "for "
                          "what a larger base would add."))
    return s


def _method_bullets(ctx: Context) -> list[str]:
    """How hypotheses were tested and schemes compared, as the path that ran did it: the
    lightweight path (a small base) has no regression and no cross-validated lift."""
    from helpers.analyse.lightweight import LIGHTWEIGHT

    if (stored_document(ctx.store, "analysis_path") or {}).get("path") == LIGHTWEIGHT:
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


def recap(ctx: Context) -> report.Section:
    """Goals, agreed method and milestones, from the charter.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``recap``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    s = report.Section("recap", "Goals, agreed method and milestones")
    ch = stored_document(ctx.store, "charter")
    if not isinstance(ch, Mapping):
        return not_available(s, "The project charter")
    s.add(report.lead(f"{ch.get('project', '')}: {ch.get('objective', '')}"))
    if ch.get("business_goals"):
        s.add(report.h3("Business goals"), report.bullets(ch["business_goals"]))
    people = pd.DataFrame(ch.get("stakeholders") or [])
    if len(people):
        s.add(report.h3("Stakeholders"),
              report.table(people[[c for c in ("name", "role", "goal") if c in people.columns]]))
    scope = ch.get("scope") or {}
    p = ctx.params
    s.add(report.h3("Scope and agreed method"), report.bullets([
        f"Accounts analysed: {fmt_pct(scope.get('share_of_accounts', 1.0))} of the customer "
        f"list as of {p.as_of:%d %B %Y}; at most {scope.get('max_hypotheses', '–')} hypotheses "
        f"and {scope.get('max_segments', '–')} recommended segments.",
        "Quality score: an objective proxy for lifetime profit per account (formula in the "
        "methodology section); top accounts = the best "
        f"{fmt_pct(p.analysis.top_share)} by score.",
        *_method_bullets(ctx),
        "Segments prioritised within a "
        f"{fmt_pct(p.segments.coverage_min)}–{fmt_pct(p.segments.coverage_max)} "
        "coverage band.",
    ]))
    if ch.get("deliverables"):
        s.add(report.h3("Deliverables"), report.bullets(ch["deliverables"]))
    ms = pd.DataFrame(ch.get("milestones") or [])
    if len(ms):
        s.add(report.h3("Milestones"),
              report.table(ms[[c for c in ("name", "due") if c in ms.columns]]
                           .rename(columns={"name": "milestone"})))
    return s


def _examples(ctx: Context) -> dict[str, str]:
    ex = stored_table(ctx.store, "segment_examples")
    if ex is None or "segment" not in ex.columns:
        return {}
    ex = ctx.accounts(ex)
    lab = first_column(ex, "account_name", "account_id")
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
    pct = fmt_pct
    return {"share of accounts": pct, "share in top": pct, "share of all top accounts": pct,
            "share of revenue": pct, "lift": lambda v: fmt_lift(as_float(v)),
            "mean score": ctx.money}


def key_findings(ctx: Context) -> report.Section:
    """The segments in priority order, each with its rule, figures and example accounts.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``findings``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    s = report.Section("findings", "Key findings: the segments in priority order")
    t = ctx.segs
    if t is None:
        return not_available(s, "The segment table")
    h = headline(ctx)
    base_score = h.get("score_base", float("nan")) if h else float("nan")
    examples = _examples(ctx)
    s.add(report.p(f"{len(t[~t['is_rest']])} segment(s) were found; segments are listed in "
                   "priority order (highest share of top accounts first), Rest of base last. "
                   "The quality score applied to each segment's accounts confirms the order: "
                   "the mean score of each segment is shown against the whole base"
                   + (f" ({ctx.money(base_score)})." if np.isfinite(base_score) else ".")))
    s.add(report.legend([(r.label, ctx.colours.get(r.segment, report.REST_COLOUR))
                         for r in t.itertuples()]))
    for i, r in enumerate(t.itertuples(), start=1):
        if r.is_rest:
            continue
        tag = "recommended" if r.recommended else "not recommended"
        s.add(report.h3(f"{i}. {r.label} ({tag})"))
        facts = [f"Rule: {getattr(r, 'rule', '') or '–'}",
                 f"{fmt_num(int(r.accounts))} accounts ({fmt_pct(r.share_of_base)} of the "
                 f"base); {fmt_pct(r.share_top)} of them are in the top "
                 f"{fmt_pct(ctx.top_share)} — {fmt_lift(as_float(r.lift))} the base rate — "
                 f"holding {fmt_pct(r.top_capture)} of all top accounts."]
        if "score_mean" in t.columns:
            band = getattr(r, "score_band", "")
            facts.append(f"Mean quality score {ctx.money(r.score_mean)}"
                         + (f" (quartile {band} of the base)" if band else "")
                         + (f" vs {ctx.money(base_score)} for the whole base."
                            if np.isfinite(base_score) else "."))
        if "revenue_share" in t.columns and np.isfinite(as_float(r.revenue_share)):
            facts.append(f"{fmt_pct(r.revenue_share)} of recurring revenue; mean ACV "
                         f"{ctx.money(getattr(r, 'mean_acv', float('nan')))}.")
        if examples.get(r.segment):
            facts.append(f"Example accounts: {examples[r.segment].rstrip('.')}.")
        colour = ctx.colours.get(r.segment, "")
        s.add(report.cards([(f"in the top {fmt_pct(ctx.top_share)}", fmt_pct(r.share_top), colour),
                            ("lift over the base", fmt_lift(as_float(r.lift)), colour),
                            ("of all accounts", fmt_pct(r.share_of_base), colour)]),
              report.bullets(facts))
    s.add(report.h3("All segments side by side"),
          report.table(_segment_overview(t, ctx), formats=_overview_formats(ctx),
                       caption="Share in top = share of the segment's accounts in the top "
                       f"{fmt_pct(ctx.top_share)} by quality score; lift = that share "
                       "divided by the whole base's."))
    return s


def concentration_chart(ctx: Context) -> report.Section:
    """Chart (a): where the top accounts are, by segment.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``concentration``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    from helpers.present.plots import top_concentration

    s = report.Section("concentration", "Where the top accounts are")
    t, h = ctx.segs, headline(ctx)
    if t is None or not h:
        return not_available(s, "Chart of the top accounts by segment")
    k = len(h["segments"])
    title = (f"{k} prioritised segment(s) hold {fmt_pct(h['capture'])} of the top "
             f"{fmt_pct(ctx.top_share)} accounts with {fmt_pct(h['coverage'])} of all "
             "accounts")
    fig = top_concentration(t, ctx.colours, ctx.top_share, title=title)
    s.add(report.figure(fig, alt=title, caption=(
        f"Each bar splits accounts by segment: the upper bar all {fmt_num(h['accounts'])} "
        f"analysed accounts, the lower bar the {fmt_num(h['top_accounts'])} accounts in the "
        f"top {fmt_pct(ctx.top_share)} by quality score. Segments in priority order; Rest of "
        "base in grey. Source: the run's segments table.")))
    return s


def segment_top_share_chart(ctx: Context) -> report.Section:
    """Chart (b): each segment's share of top accounts.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``segment-top-share``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    from helpers.present.plots import over_phrase, segment_top_share

    s = report.Section("segment-top-share", "How much of each segment is top quality")
    t = ctx.segs
    if t is None:
        return not_available(s, "Chart of each segment's share of top accounts")
    best = t[~t["is_rest"]].sort_values("share_top", ascending=False, kind="stable")
    if best.empty:
        return not_available(s, "Segments other than the rest of the base")
    b = best.iloc[0]
    title = (f"{over_phrase(float(b['share_top'])).capitalize()} of “{b['label']}” is in the "
             f"top {fmt_pct(ctx.top_share)} (whole base: {fmt_pct(ctx.top_share)})")
    fig = segment_top_share(t, ctx.colours, ctx.top_share, title=title)
    s.add(report.figure(fig, alt=title, caption=(
        f"Share of each segment's accounts that are in the top {fmt_pct(ctx.top_share)} by "
        "quality score; the dashed line is the share in the whole base. Segments in priority "
        "order, Rest of base last.")))
    s.add(report.bullets([f"{over_phrase(float(r.share_top)).capitalize()} of “{r.label}” "
                          "is in the "
                          f"top {fmt_pct(ctx.top_share)} ({fmt_num(int(r.top_accounts))} of "
                          f"{fmt_num(int(r.accounts))} accounts)."
                          for r in t.itertuples() if "top_accounts" in t.columns]))
    return s


def trade_off(ctx: Context) -> report.Section:
    """The trade-off: what focusing on the recommended segments gains and misses.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``trade-off``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    s = report.Section("trade-off", "The trade-off: what focusing gains and misses")
    t, h = ctx.segs, headline(ctx)
    if t is None or not h:
        return not_available(s, "The trade-off")
    other = t[~t["recommended"]]
    n_other = int(other["accounts"].sum())
    share_other_top = (h["n_top_missed"] / n_other) if n_other and h["n_top_missed"] is not None \
        else float("nan")
    missed_share = 1 - h["capture"]
    s.add(report.lead(
        f"Focusing on the recommended segments means working {fmt_num(h['focus_accounts'])} "
        f"accounts ({fmt_pct(h['coverage'])}) that include {fmt_num(h['top_in_focus'])} top "
        f"accounts. It misses {fmt_num(h['n_top_missed'])} top accounts "
        f"({fmt_pct(missed_share)} of them) — but finding those would mean chasing "
        f"{fmt_num(n_other)} more accounts of which only {fmt_pct(share_other_top)} are top "
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
    s.add(report.table(rows, formats={"share of accounts": fmt_pct,
                                      "share of them in the top": fmt_pct,
                                      "mean quality score": ctx.money}))
    if np.isfinite(h["score_rest"]) and np.isfinite(h["score_focus"]):
        s.add(report.p(f"An average account in focus is worth {ctx.money(h['score_focus'])} a year "
                       f"on the quality score, against {ctx.money(h['score_rest'])} elsewhere: the "
                       "few misses cost far less than spreading effort over low-value accounts."))
    return s

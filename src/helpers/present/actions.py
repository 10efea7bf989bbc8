"""What to do with the segments: the customer-success view per segment (coverage model,
diamonds in the rough) and the next steps (sign-off, each team's use, prospect coverage).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from helpers.present import report
from helpers.present.context import (
    Context,
    headline,
    not_available,
    null_result,
    stored_document,
    stored_table,
    strings_in,
)
from helpers.present.report import fmt_num, fmt_pct


def customer_success(ctx: Context) -> report.Section:
    """The customer-success view: coverage model per segment and diamonds in the rough.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``customer-success``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    s = report.Section("customer-success", "Customer-success view per segment")
    cov = stored_table(ctx.store, "coverage")
    if cov is None or "model" not in cov.columns:
        not_available(s, "The coverage model")
    else:
        cs = ctx.params.segments.cs
        s.add(report.p(f"Dedicated managers (about {cs.accounts_per_manager_min}–"
                       f"{cs.accounts_per_manager_max} accounts each, fewer for higher value) "
                       "where "
                       f"the mean ACV reaches {ctx.money(cs.dedicated_min_value)}; a pooled model "
                       f"(one manager per {fmt_num(cs.pooled_accounts_per_manager)} accounts) with "
                       "automated tech-touch flows elsewhere."))
        cov = cov.copy()
        if ctx.segs is not None:
            lab = dict(zip(ctx.segs["segment"], ctx.segs["label"], strict=True))
            cov["name"] = cov["segment"].astype("str").map(lab).fillna(
                cov["name"] if "name" in cov.columns else cov["segment"])
        cols = [c for c in ("name", "accounts", "mean_acv", "model", "accounts_per_manager",
                            "managers", "touch", "churn_kpi") if c in cov.columns]
        s.add(report.table(cov[cols], formats={"mean_acv": ctx.money}))
        total = cov[cov["segment"].astype("str") == "Total"]
        if len(total) and "managers" in cov.columns:
            s.add(report.p(f"In total {fmt_num(int(total['managers'].iloc[0]))} named managers; "
                           f"{total['touch'].iloc[0] if 'touch' in total else ''}."))
    s.add(report.bullets([
        "Churn KPI per segment as listed: by dollars where a few large accounts hold most of "
        "the revenue, by volume elsewhere; a segment with time-limited usage churns more by "
        "nature and is balanced against its revenue growth.",
        "Accounts move between segments as they grow or shrink: track the moves each quarter "
        "and change their content and coverage with them.",
        "Content follows context: no small-business content for large enterprises, no "
        "onboarding material for long-time customers.",
    ]))
    dia = stored_table(ctx.store, "diamonds")
    if dia is not None and "diamond" in dia.columns:
        n_d = int(dia["diamond"].fillna(False).astype(bool).sum())
        share = ctx.params.segments.diamond_value_share
        s.add(report.h3("Diamonds in the rough"),
              report.p(f"{fmt_num(n_d)} surveyed account(s) in the bottom {fmt_pct(share)} by "
                       f"value share the needs of the best-fit needs cluster "
                       f"(of {fmt_num(len(dia))} surveyed accounts): candidates for growth "
                       "plays rather than low-touch treatment."))
    return s


def _prospect_counts(ctx: Context) -> pd.DataFrame | None:
    pr = stored_table(ctx.store, "prospects_scored")
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


def next_steps(ctx: Context) -> report.Section:
    """Next steps: sign-off, each team's use of the segments, prospect coverage, refresh.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``next-steps``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    s = report.Section("next-steps", "Next steps")
    null = null_result(ctx.findings)
    if null is not None and null.get("next_steps"):
        s.add(report.h3("0. No segment beats random yet: collect what the tests lacked"),
              report.bullets(strings_in(null["next_steps"])))
    h = headline(ctx)
    names = ", ".join(f"“{n}”" for n in h["names"]) if h else "the recommended segments"
    ch = stored_document(ctx.store, "charter") or {}
    people = ", ".join(f"{p.get('name')} ({p.get('role')})"
                       for p in (ch.get("stakeholders") or []) if isinstance(p, Mapping))
    s.add(report.h3("1. Feedback and sign-off first"), report.bullets([
        "Challenge the segments, names and rules"
        + (f" — {people}" if people else "") + "; small adjustments to the data or method are "
        "expected and re-run from the versioned files without redoing the work.",
        "Agree the final segment names and the target list, then sign off.",
    ]))
    s.add(report.h3("2. What each team does with the segments"), report.bullets([
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
    s.add(report.h3("3. Prospect coverage"))
    if pc is None:
        not_available(s, "Scored prospects")
    else:
        in_rec = pc[pc["segment"].isin(h.get("segments", []))] if h else pc.iloc[0:0]
        s.add(report.p(f"{fmt_num(int(in_rec['prospects'].sum()))} of "
                       f"{fmt_num(int(pc['prospects'].sum()))} prospects "
                       f"({fmt_pct(in_rec['prospects'].sum() / pc['prospects'].sum())}) fall in "
                       "the recommended segments."),
              report.table(pc[[c for c in ("name", "prospects", "share") if c in pc.columns]],
                           formats={"share": fmt_pct}))
    s.add(report.h3("4. Keep it fresh"), report.p(
        "Results have a shelf life: implement quickly, measure the impact, and re-run the "
        "process each quarter (a new parameter file that extends this one)."))
    return s

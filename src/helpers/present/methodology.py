"""The methodology sections of the report: the quality score, the best and worst accounts,
the customer list and its reconciliation, hypotheses validated and rejected, data gaps and
possible biases, regression and lift, robustness. Each builder takes the report's
:class:`~helpers.present.context.Context` and returns its
:class:`~helpers.present.report.Section`; the tables it reads are declared in the table catalog
(:func:`helpers.core.catalog.read_by` with the section id).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import SimpleNamespace

import pandas as pd

from helpers.present import report
from helpers.present.context import (
    Context,
    as_float,
    not_available,
    stored_document,
    stored_table,
    strings_in,
)
from helpers.present.report import fmt_num, fmt_pct


def score(ctx: Context) -> report.Section:
    """The quality score: its formula and spread.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``method-score``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    from helpers.setup.score import score_formula

    s = report.Section("method-score", "Methodology: the quality score")
    s.add(report.p("Every account gets one objective number, a proxy for the net present "
                   "value of its lifetime profit, from contract value, cost to serve, "
                   "acquisition cost, growth and "
                   f"churn (amounts in {ctx.params.currency.base} per year):"),
          report.pre(score_formula(ctx.params.score)))
    sc = stored_table(ctx.store, "scored_accounts")
    if sc is not None and "score" in sc.columns:
        q = sc["score"].quantile([0.1, 0.5, 0.9])
        s.add(report.p(f"Across {fmt_num(len(sc))} scored accounts the median score is "
                       f"{ctx.money(q.loc[0.5])}; 10 % score below {ctx.money(q.loc[0.1])} "
                       "and 10 % "
                       f"above {ctx.money(q.loc[0.9])}."))
    return s


def best_and_worst(ctx: Context) -> report.Section:
    """The best and worst accounts by score, with why.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``method-best-worst``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    from helpers.setup.score import top_bottom

    s = report.Section("method-best-worst", "Methodology: the best and worst accounts")
    sc = stored_table(ctx.store, "scored_accounts")
    if sc is None or "score_rank" not in sc.columns:
        return not_available(s, "Scored accounts")
    n = ctx.params.report.top_bottom_n
    top, bottom = top_bottom(sc, n)
    cols = [c for c in ("account_name", "account_id", "score", "quartile", "status", "mrr", "why")
            if c in top.columns]
    fm = {"score": ctx.money, "mrr": ctx.money}
    s.add(report.p("The score behaves as intended when the extremes make sense to people who know "
                   "the accounts: the 'why' column names the two components that move each score "
                   "most."))
    nice = {"account_name": "account", "account_id": "id", "mrr": "MRR",
            "why": "why (largest score components)"}
    fm = {nice.get(k, k): f for k, f in fm.items()}
    s.add(report.h3(f"The {n} best accounts"),
          report.table(ctx.accounts(top)[cols].rename(columns=nice), formats=fm))
    s.add(report.h3(f"The {n} worst accounts"),
          report.table(ctx.accounts(bottom)[cols].rename(columns=nice), formats=fm))
    return s


def reconciliation(ctx: Context) -> report.Section:
    """The customer list: from the export to the kept accounts, rule by rule.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``method-reconciliation``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    s = report.Section("method-reconciliation", "Methodology: the customer list")
    rec = stored_table(ctx.store, "reconciliation")
    if rec is None or "rule" not in rec.columns:
        return not_available(s, "The customer-list reconciliation")
    get = rec.set_index("rule")["accounts"]
    raw, kept = get.get("raw"), get.get("kept")
    if raw is not None and kept is not None:
        s.add(report.lead(f"{fmt_num(int(kept))} of {fmt_num(int(raw))} accounts in the export "
                          f"were kept for the analysis; {fmt_num(int(raw - kept))} were "
                          "excluded by "
                          "explicit rules, each with its reason (raw = kept + excluded)."))
    fm = {"share": fmt_pct, "mrr": ctx.money}
    s.add(report.table(rec, formats=fm, caption="Accounts removed per rule (each account counted "
                       "once, under the first rule that fires); MRR in the base currency."))
    _account_list_source(ctx, s)
    if "not_data" in get.index:
        s.add(report.note(f"{fmt_num(int(get['not_data']))} row(s) at the end of the file are "
                          "not accounts (a report footer or blank lines) and were not read."))
    labels = stored_table(ctx.store, "account_type_labels")
    if labels is not None and len(labels):
        s.add(report.h3("Account types in the export and how each was treated"),
              report.table(labels, caption="Each distinct account_type label, its number of "
                           "accounts and its treatment (matched by meaning; the label lists are "
                           "parameters under exclusions)."))
    exc = stored_table(ctx.store, "exclusions")
    if exc is not None and "exclusion_rule" in exc.columns:
        bad = exc[exc["exclusion_rule"].astype(str) == "invalid"]
        if len(bad):
            s.add(report.h3("Unusable rows excluded"),
                  report.table(ctx.accounts(bad[["account_id", "exclusion_reason"]]),
                               caption="Rows without an id or a readable start date (at most "
                               "exclusions.max_invalid_share of the rows)."))
    return s


def _account_list_source(ctx: Context, s: report.Section) -> None:
    """The account list built from deals or subscriptions (helpers.setup.deals): every input row
    used or ignored with its reason, and the match with the account export."""
    rows = stored_table(ctx.store, "account_list_reconciliation")
    if rows is None or not len(rows):
        return
    s.add(report.h3("The account list from the deals / subscriptions"),
          report.table(rows, max_rows=30, formats={"amount": ctx.money},
                       caption="Every row of the deal or subscription file: used (and how) or "
                       "ignored with its reason; the rows add up to the file "
                       "(amount: deal amount, or subscription MRR, in the base currency)."))
    match = stored_table(ctx.store, "account_list_match")
    if match is not None and len(match):
        s.add(report.table(match, caption="Accounts matched with the account export."))


def hypotheses(ctx: Context) -> report.Section:
    """Hypotheses validated, rejected and inconclusive, with the thresholds.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``method-hypotheses``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    s = report.Section("method-hypotheses", "Methodology: hypotheses validated and rejected")
    v = stored_table(ctx.store, "hypothesis_verdicts")
    if v is None or "verdict" not in v.columns:
        hyp = stored_table(ctx.store, "hypotheses")
        not_available(s, "Hypothesis verdicts")
        if hyp is not None:
            cols = [c for c in ("id", "statement", "lens", "selected", "deprioritised_reason")
                    if c in hyp.columns]
            n_selected = (fmt_num(int(hyp["selected"].fillna(False).sum()))
                          if "selected" in hyp else "–")
            s.add(report.p(f"{fmt_num(len(hyp))} hypotheses were listed; "
                           f"{n_selected}"
                           " were selected for testing."), report.table(hyp[cols]))
        return s
    counts = v["verdict"].value_counts()
    s.add(report.lead(", ".join(f"{fmt_num(int(counts.get(k, 0)))} {k}"
                                for k in ("validated", "rejected", "inconclusive"))
                      + f" of {fmt_num(len(v))} hypotheses."))
    # the category a categorical / yes-no hypothesis is about: its sign is that category's
    named = "category" in v.columns and v["category"].fillna("").astype(str).ne("").any()
    cols = [c for c in ("hypothesis_id", "statement", "category" if named else "", "direction",
                        "effect_size", "p_value_adjusted", "evidence", "reason") if c in v.columns]
    fm = {"effect_size": lambda x: f"{as_float(x):+.2f}",
          "p_value_adjusted": lambda x: f"{as_float(x):.3g}"}
    for verdict, blurb in (("validated", "significant, large enough to act on, in the expected "
                            "direction"),
                           ("rejected", "no effect with adequate power, or the opposite of the "
                            "expectation"),
                           ("inconclusive", "too little data, or an effect too small to act on")):
        part = v[v["verdict"] == verdict]
        if len(part):
            s.add(report.h3(f"{verdict.capitalize()} ({blurb})"),
                  report.table(part[cols], formats=fm))
    s.add(report.note("Effect size: Cliff's delta of the score (top vs bottom quartile for "
                      "numbers, the "
                      "category the hypothesis names vs the rest otherwise: a + means accounts in "
                      "that category score higher); p-values adjusted for testing many "
                      "hypotheses at once (Benjamini-Hochberg)."))
    s.add(report.note(_calibration_note(ctx, v)))
    th = stored_table(ctx.store, "thresholds")
    if th is not None and "sentence" in th.columns and len(th):
        s.add(report.h3("Thresholds that separate top accounts"),
              report.bullets(th["sentence"].astype("string").dropna().head(10)))
    return s


def _calibration_note(ctx: Context, verdicts: pd.DataFrame) -> str:
    """What the calibration study (helpers.synthetic.calibration) says at this run's base size: the
    kept accounts of the reconciliation, else the most accounts any hypothesis was tested on."""
    from helpers.synthetic.calibration import calibration_sentence

    rec = stored_table(ctx.store, "reconciliation")
    n = None
    if rec is not None and "rule" in rec.columns:
        n = rec.set_index("rule")["accounts"].get("kept")
    if n is None and "n" in verdicts.columns:
        n = pd.to_numeric(verdicts["n"], errors="coerce").max()
    return calibration_sentence(int(n)) if n is not None and n == n else \
        calibration_sentence(0)


def data_gaps(ctx: Context) -> report.Section:
    """Data gaps and possible biases: joins, completeness, typos, warnings.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``method-data-gaps``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    s = report.Section("method-data-gaps", "Methodology: data gaps and possible biases")
    any_ = False
    jr = stored_table(ctx.store, "join_report")
    if jr is not None and "match_rate" in jr.columns:
        any_ = True
        s.add(report.h3("Matching the data sources to the accounts"),
              report.bullets([f"{r.source}: {fmt_pct(r.match_rate)} of accounts matched "
                              f"({fmt_num(int(r.unmatched_accounts))} without data)"
                              for r in jr.itertuples()]))
    from helpers.collect.sources import source_paths

    paths = source_paths(ctx.params.inputs, ctx.params.aggregation)
    if paths:  # row-level files aggregated here, or per-account summaries made elsewhere
        any_ = True
        s.add(report.h3("Where the ticket and usage figures come from"), report.bullets(paths))
    qr = stored_table(ctx.store, "quality_report")
    if qr is not None and "completeness" in qr.columns:
        any_ = True
        cols = [c for c in ("id", "variable", "completeness", "stale_share", "out_of_range",
                            "unreadable", "send_back", "reason") if c in qr.columns]
        s.add(report.h3("Completeness of each measure"),
              report.table(qr[cols], formats={"completeness": fmt_pct, "stale_share": fmt_pct},
                           caption="Share of accounts with a value, share of stale records, values "
                           "outside the plausible range, unreadable values (N/A, TBD, -, ? "
                           "or text that is not a number: counted as missing); measures "
                           "sent back were not tested."))
        if "unreadable" in qr.columns:
            unread = qr.loc[pd.to_numeric(qr["unreadable"], errors="coerce").fillna(0) > 0]
            if len(unread):
                s.add(report.p("Unreadable values, counted as missing: " + "; ".join(
                    f"{r.id} ({r.variable}): {fmt_num(int(r.unreadable))} account(s)"
                    for r in unread.itertuples()) + "."))
    typos = stored_table(ctx.store, "label_suggestions")
    if typos is not None and len(typos):
        any_ = True
        s.add(report.h3("Labels that look like typos"),
              report.table(typos, max_rows=30, caption="Category labels close to a known one: "
                           "add the line to the industry map (or correct the export) and re-run."))
    biases = []
    sc = stored_table(ctx.store, "scored_accounts")
    if sc is not None and "status" in sc.columns:
        former = int((sc["status"].astype("string") == "former").sum())
        biases.append(f"The list includes {fmt_num(former)} former customers, so the score "
                      "sees churn, not only survivors.")
    if jr is not None and "match_rate" in jr.columns:
        low = jr[jr["match_rate"] < 0.9]
        for r in low.itertuples():
            biases.append(f"Only {fmt_pct(r.match_rate)} of accounts matched {r.source}: "
                          "findings on its fields describe the matched accounts, which may "
                          "differ from the rest (e.g. survey respondents self-select).")
    biases.append("Segments describe today's best customers; they reflect past sales focus as "
                  "well as fit, and should be re-checked each quarter.")
    s.add(report.h3("Possible biases"), report.bullets(biases))
    warns = stored_document(ctx.store, "warnings")
    lines = ctx.texts(strings_in(warns))
    if lines:
        any_ = True
        shown = [w if len(w) <= 300 else w[:297] + "..." for w in lines[:25]]
        s.add(report.h3("Warnings recorded during the run"), report.bullets(shown))
    if not any_:
        not_available(s, "Data-quality tables")
    return s


def _analysis_path(ctx: Context, s: report.Section) -> None:
    """Which Step 4 path ran (full or lightweight, helpers.analyse.lightweight) and, on the
    lightweight path, the accounts sorted by each field (does one group stand out?)."""
    from helpers.analyse.lightweight import sentence

    doc = stored_document(ctx.store, "analysis_path")
    if not doc:
        return
    s.add(report.h3("Which analysis ran"), report.p(sentence(doc)))
    sep = stored_table(ctx.store, "lightweight_separation")
    if sep is not None and len(sep):
        s.add(report.table(sep, max_rows=40, formats={"top_rate": fmt_pct,
                                                      "lift": lambda x: f"{as_float(x):.1f}x",
                                                      "mean_score": ctx.money},
                           caption="Accounts sorted by each field (cut at its threshold, or by "
                           f"category): the share of each group in the top "
                           f"{fmt_pct(ctx.top_share)}, against the whole base (lift)."))


def models(ctx: Context) -> report.Section:
    """Regression and lift: the analysis path, coefficients, tree leaves, gains chart.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``method-models``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    from helpers.present.plots import scheme_colours, scheme_gains

    s = report.Section("method-models", "Methodology: regression and lift")
    _analysis_path(ctx, s)
    coefs = stored_table(ctx.store, "regression_coefs")
    if coefs is not None and len(coefs):
        cols = [c for c in ("group", "term", "coef", "se", "p") if c in coefs.columns]
        s.add(report.h3("Regression: what moves the score when all else is equal"),
              report.table(coefs[cols], max_rows=25,
                           formats={"p": lambda x: f"{as_float(x):.3g}",
                                    "coef": lambda x: f"{as_float(x):+.3g}",
                                    "se": lambda x: f"{as_float(x):.3g}"},
                           caption="Ordinary least squares after backward elimination (robust "
                           f"errors); target: {ctx.params.analysis.regression.target}."))
        comp = stored_table(ctx.store, "regression_comparison")
        if comp is not None and len(comp):
            s.add(report.table(comp, max_rows=10, caption="Pooled vs split models."))
    else:
        not_available(s, "Regression results")
    tree = stored_table(ctx.store, "tree_nodes")
    if tree is not None and {"is_leaf", "rule", "n", "mean_score"} <= set(tree.columns):
        leaves = tree[tree["is_leaf"].astype(bool)].sort_values("mean_score", ascending=False,
                                                                kind="stable")
        cols = [c for c in ("rule", "n", "mean_score", "share_A") if c in leaves.columns]
        s.add(report.h3("Decision tree: the leaves, best first"),
              report.table(leaves[cols], max_rows=12,
                           formats={"mean_score": ctx.money, "share_A": fmt_pct},
                           caption="share_A = share of the leaf's accounts in the best quartile."))
    lift = stored_table(ctx.store, "lift")
    summ = stored_table(ctx.store, "scheme_summary")
    if lift is not None and {"scheme", "sample", "x", "y"} <= set(lift.columns) and len(lift):
        from helpers.analyse.lift import gains_finding

        for c in ("y_min", "y_max"):
            if c not in lift.columns:
                lift[c] = lift["y"]
        title = gains_finding(lift)
        colours = scheme_colours(lift)
        s.add(report.h3("Lift: how well each scheme finds the top accounts"),
              report.figure(scheme_gains(lift, title=title), alt=title, caption=(
                  "Gains chart: accounts ranked best first by each scheme (x) against the share "
                  f"of the top {fmt_pct(ctx.top_share)} accounts found (y). One colour per "
                  "scheme, best first in the legend; solid lines: cross-validated (scored on "
                  "accounts the scheme did not see), the best scheme thick with its band over "
                  "the repeats; dashed: the best scheme fitted and scored on all accounts "
                  "(in-sample). Dotted diagonal: random; dash-dot: perfect.")),
              report.legend([(name, colour) for name, colour in colours.items()]))
    else:
        colours = {}
        not_available(s, "Gains chart")
    if summ is not None and "accuracy_ratio" in summ.columns and len(summ):
        cap = [c for c in summ.columns if re.fullmatch(r"capture_\d+", c)]
        cols = ["scheme", "sample", "accuracy_ratio", *cap]
        fm = {c: fmt_pct for c in cap} | {"accuracy_ratio": lambda x: f"{as_float(x):.2f}"}
        if colours and "scheme" in summ.columns:  # the chart's order: best scheme first
            rank = {name: k for k, name in enumerate(colours)}
            summ = summ.assign(_r=summ["scheme"].astype(str).map(rank).fillna(len(rank))) \
                .sort_values(["_r", "sample"], kind="stable")
        s.add(report.table(summ[[c for c in cols if c in summ.columns]], formats=fm,
                           caption="Accuracy ratio: 0 = random, 1 = perfect. capture_25 = share of "
                           "top accounts in the scheme's best 25 % of accounts."))
    return s


def robustness(ctx: Context) -> report.Section:
    """How robust the result is: weight perturbation and segment stability.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``method-robustness``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    from helpers.analyse.robustness import stability_sentence, weights_sentence

    s = report.Section("method-robustness", "Methodology: how robust the result is")
    out = []
    rs = stored_table(ctx.store, "robustness_summary")
    need = {"draws", "spearman_median", "retention_mean", "robust_top_of_base_top",
            "robust_share"}
    if rs is not None and len(rs) and need <= set(rs.columns):
        out.append(weights_sentence(SimpleNamespace(summary=rs)))  # type: ignore[arg-type]
    st = stored_table(ctx.store, "segment_stability")
    if st is not None and len(st) and {"segment", "verdict", "mean_jaccard"} <= set(st.columns):
        names = dict(zip(ctx.segs["segment"], ctx.segs["label"], strict=True)) \
            if ctx.segs is not None else {}
        out.append(stability_sentence(st, names))
    findings = ctx.findings if not out else None
    if not out and isinstance(findings, Mapping):
        out = [str(v) for k, v in findings.items()
               if isinstance(v, str) and ("robust" in k or "stabil" in k)]
    if not out:
        return not_available(s, "Robustness checks")
    return s.add(report.bullets(out))

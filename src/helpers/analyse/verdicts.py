"""Step 4a: one verdict per hypothesis (the ``hypothesis_verdicts`` table) and the quick
variable explorer of the analysis notebook.

The verdict rule (alpha = ``params.bh_alpha``, min_effect = ``params.min_effect``):
- **inconclusive** when the variable cannot be tested (missing column, all missing, fewer than
  ``min_accounts`` accounts with a value, constant, a single category...: "data too sparse");
- **validated** when the BH-adjusted p-value (Benjamini-Hochberg across all tested hypotheses
  of the run) is below alpha AND |effect| >= min_effect AND the observed sign matches the
  expected direction (``direction`` of the hypothesis; no expectation = any sign);
- **rejected** when significant but in the opposite direction ("contradicts expected
  direction");
- **inconclusive** when significant but |effect| < min_effect ("effect too small to act on");
- **rejected** when not significant and the test had adequate power (at least
  ``params.min_power`` to detect |effect| = min_effect: "not significant");
- **inconclusive** when not significant on a small base (power below ``min_power``: "data too
  sparse to rule out an effect").
The effect is Cliff's delta (numeric: quartile A vs D; categorical / boolean: the score of the
hypothesis's ``positive_category`` vs the rest — "yes" for a boolean without one — else of the
category that carries the effect), so min_effect is on one scale for all kinds; the sign, the
evidence (tree side, regression coefficient) and ``category`` all refer to that category.
``direction`` is the observed sign for validated hypotheses, "" when rejected. Tree and
regression results only add evidence (``in_tree``, ``in_regression``, collinearity notes);
they never overturn the test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from helpers.analyse.profiling import (
    _groups,
    as_labels,
    fmt_measure,
    score_groups,
    test_hypotheses,
    threshold_finder,
    words,
)
from helpers.core.errors import InputDataError
from helpers.core.params import Analysis

VERDICT_COLUMNS = ["hypothesis_id", "variable", "kind", "statement", "expected_direction",
                   "verdict", "direction", "effect_size", "effect_measure", "p_value",
                   "p_value_adjusted", "category", "in_tree", "in_regression", "evidence",
                   "reason", "n", "power", "test"]


def _coef_text(term: str, coef: float, p: float, variable: str, category: str,
               terms: list[str], where: str) -> str:
    """One coefficient as evidence; for a hypothesis about a category, the sign is that
    category's (a reference-level category of a two-level variable gets the negated term,
    else the others' terms are stated against it)."""
    if category:
        own = f"{words(variable)} = {category}"
        if term == own:
            return f"'{category}' vs rest {coef:+.3g} (p {p:.2g}){where}"
        if own not in terms:
            if len(terms) == 1:
                other = term.split(" = ", 1)[-1]
                return f"'{category}' vs '{other}' {-coef:+.3g} (p {p:.2g}){where}"
            return f"{term} {coef:+.3g} vs '{category}' (p {p:.2g}){where}"
    return f"{term} {coef:+.3g} (p {p:.2g}){where}"


def _regression_parts(regression_result: Any) -> tuple[set[str], pd.DataFrame, list[Any]]:
    """Kept variables, all recorded steps and the fits (pooled, then each sub-population)."""
    if regression_result is None:
        return set(), pd.DataFrame(columns=["variable", "reason", "action"]), []
    fits = [regression_result]
    if hasattr(regression_result, "groups") and hasattr(regression_result, "pooled"):
        fits = [regression_result.pooled, *regression_result.groups.values()]
    kept: set[str] = set(regression_result.kept)
    steps = pd.concat([f.steps.assign(group=f.group or "pooled") for f in fits], ignore_index=True)
    return kept, steps, fits


def _coef_note(fits: list[Any], variable: str, category: str) -> str:
    """The variable's coefficients in the fits (at most 3), signs of ``category`` if named."""
    notes: list[str] = []
    for f in fits:
        if f.coefs is None or f.coefs.empty:
            continue
        own = f.coefs[f.coefs["variable"] == variable]
        terms = own["term"].astype(str).tolist()
        where = f" [{f.group}]" if f.group else ""
        notes += [_coef_text(str(r["term"]), float(r["coef"]), float(r["p"]), variable,
                             category, terms, where) for _, r in own.iterrows()]
    return "; ".join(notes[:3])


def _tree_note(tree_result: Any, variable: str, category: str) -> str:
    """The variable's first splits in words; for a hypothesis about a category, on which side
    (better / worse mean score) that category falls."""
    nd = tree_result.nodes.set_index("node_id")
    parts = []
    for node in nd.index[nd["split_variable"] == variable][:3]:
        text = f"split {words(variable)} {nd.at[node, 'split_right']}"
        split, left, right = tree_result.splits.get(node, (None, -1, -1))
        if category and split is not None and split.kind != "numeric" \
                and category in split.categories:
            side = right if category in (split.right or ()) else left
            other = left if side == right else right
            better = nd.at[side, "mean_score"] >= nd.at[other, "mean_score"]
            text += (f", '{category}' on the {'better' if better else 'worse'} side (mean "
                     f"score {fmt_measure(round(nd.at[side, 'mean_score']))} vs "
                     f"{fmt_measure(round(nd.at[other, 'mean_score']))})")
        parts.append(text)
    return "; ".join(parts)


def _verdict_rule(t: pd.Series, expected: str, params: Analysis) -> tuple[str, str]:
    """The verdict and its reason for one tested hypothesis (the rule of the module docstring)."""
    sign = str(t["effect_direction"] or "")
    eff, padj = t["effect_size"], t["p_value_adjusted"]
    if not bool(t["testable"]):
        return "inconclusive", f"data too sparse / untestable: {t['reason']}"
    if padj < params.bh_alpha:
        if expected in ("+", "-") and sign and sign != expected:
            about = f" for '{t['category']}'" if t["category"] else ""
            return "rejected", ("contradicts expected direction (significant "
                                f"effect {sign}{about}, expected {expected})")
        if abs(eff) < params.min_effect:
            return "inconclusive", (f"effect too small to act on (|{eff:.3f}| < "
                                    f"{params.min_effect})")
        return "validated", "significant after BH with a large enough effect"
    if t["power"] >= params.min_power:
        return "rejected", (f"not significant (BH p = {padj:.3g}) with "
                            f"{t['power']:.0%} power to detect |effect| "
                            f"{params.min_effect}")
    return "inconclusive", (f"data too sparse to rule out an effect (not "
                            f"significant, power {t['power']:.0%})")


def _test_evidence(t: pd.Series) -> list[str]:
    """The test's own evidence: effect and p-values (or why untestable), Spearman, Cramér."""
    ev = [f"{t['effect_measure']} {t['effect_size']:+.2f}, p {t['p_value']:.2g} "
          f"(BH {t['p_value_adjusted']:.2g})"
          if bool(t["testable"]) else str(t["reason"])]
    if pd.notna(t.get("spearman_rho")):
        ev.append(f"Spearman rho {t['spearman_rho']:+.2f}")
    if pd.notna(t.get("cramers_v")):
        ev.append(f"Cramér's V {t['cramers_v']:.2f}")
    return ev


def _model_evidence(var: str, cat: str, tree_result: Any, tree_vars: set[str],
                    regression_result: Any, kept: set[str], fits: list[Any],
                    drop: pd.DataFrame) -> list[str]:
    """What the tree and the regression say about the variable (signs of ``cat`` if named)."""
    ev = []
    if tree_result is not None:
        ev.append(f"tree: {_tree_note(tree_result, var, cat)}" if var in tree_vars
                  else "tree: not used")
    if regression_result is not None:
        if var in kept:
            ev.append(f"regression: kept ({_coef_note(fits, var, cat)})")
        elif len(drop):
            ev.append(f"regression: dropped ({drop['reason'].iloc[0]})")
        else:
            ev.append("regression: not a candidate")
    return ev


def _typed_verdicts(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The verdict rows as a table with exactly ``VERDICT_COLUMNS`` and fixed dtypes."""
    out = pd.DataFrame(rows)
    for c in VERDICT_COLUMNS:
        if c not in out.columns:
            out[c] = np.nan
    out = out[VERDICT_COLUMNS]
    for c in ("effect_size", "p_value", "p_value_adjusted", "power"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    out["n"] = pd.to_numeric(out["n"], errors="coerce").astype("Int64")
    out["in_tree"] = out["in_tree"].astype(bool)
    out["in_regression"] = out["in_regression"].astype(bool)
    return out


def _tested_row(by_id: pd.DataFrame, h: pd.Series, expected: str, params: Analysis,
                tree_result: Any, tree_vars: set[str], regression_result: Any,
                kept: set[str], steps: pd.DataFrame, fits: list[Any]) -> dict[str, Any]:
    """The verdict fields of one tested hypothesis: rule, collinearity note, evidence."""
    var = str(h["variable"])
    t = by_id.loc[h["id"]]
    if isinstance(t, pd.DataFrame):
        t = t.iloc[0]
    verdict, reason = _verdict_rule(t, expected, params)
    drop = steps[(steps["variable"] == var) & (steps["action"] == "drop")]
    coll = drop[drop["reason"].str.contains("collinear|VIF", regex=True, na=False)]
    if len(coll):
        reason += f"; in the regression: {coll['reason'].iloc[0]}"
    # a hypothesis about a category: tree side and coefficient signs are that category's
    cat = t["category"] if h["kind"] != "numeric" and isinstance(t["category"], str) else ""
    ev = _test_evidence(t) + _model_evidence(var, cat, tree_result, tree_vars,
                                             regression_result, kept, fits, drop)
    sign = str(t["effect_direction"] or "")
    return {"verdict": verdict, "direction": sign if verdict == "validated" else "",
            "effect_size": t["effect_size"], "effect_measure": t["effect_measure"] or "",
            "p_value": t["p_value"], "p_value_adjusted": t["p_value_adjusted"],
            "category": t["category"] or "", "reason": reason,
            "evidence": "; ".join(ev), "n": t["n"], "power": t["power"],
            "test": t["test"] or ""}


def verdicts(table: pd.DataFrame, hypotheses: pd.DataFrame, params: Analysis | None = None,
             tree_result: Any = None, regression_result: Any = None,
             tests: pd.DataFrame | None = None, score_col: str = "score",
             group_col: str = "quartile", seed: int = 0) -> pd.DataFrame:
    """The ``hypothesis_verdicts`` table: one row per hypothesis (rule in the module docstring).

    ``tests`` is the output of ``profiling.test_hypotheses`` (computed here when None).
    Hypotheses not selected in Step 2 get a row with verdict "inconclusive" and reason
    "not selected for testing (deprioritised in Step 2)".
    """
    params = params or Analysis()
    for col in ("id", "variable", "kind"):
        if col not in hypotheses.columns:
            raise InputDataError("the hypotheses table lacks a column", column=col,
                                 hint="build it with helpers.collect.hypotheses in 02_hypotheses")
    if tests is None:
        tests = test_hypotheses(table, hypotheses, params, score_col, group_col, seed)
    by_id = tests.set_index("hypothesis_id")
    tree_vars = set(tree_result.split_variables) if tree_result is not None else set()
    kept, steps, fits = _regression_parts(regression_result)
    rows = []
    for _, h in hypotheses.iterrows():
        hid, var = h["id"], str(h["variable"])
        expected = str(h.get("direction") or "").strip() if "direction" in h else ""
        selected = bool(h["selected"]) if "selected" in hypotheses.columns and pd.notna(
            h["selected"]) else True
        base = {"hypothesis_id": hid, "variable": var, "kind": h["kind"],
                "statement": h.get("statement", ""), "expected_direction": expected,
                "in_tree": var in tree_vars, "in_regression": var in kept,
                "category": "", "direction": "", "effect_measure": "", "test": ""}
        if not selected or hid not in by_id.index:
            rows.append({**base, "verdict": "inconclusive",
                         "reason": "not selected for testing (deprioritised in Step 2)",
                         "evidence": ""})
            continue
        rows.append({**base, **_tested_row(by_id, h, expected, params, tree_result, tree_vars,
                                           regression_result, kept, steps, fits)})
    return _typed_verdicts(rows)


# --------------------------------------------------------------------------- explorer
def _infer_kind(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_numeric_dtype(values):
        return "numeric"
    return "categorical"


def _histogram_by_group(xv: np.ndarray, g: pd.Series, bins: int) -> pd.DataFrame:
    """Counts per score group on ``bins`` equal-width bins of the non-missing values ``xv``."""
    ok = ~np.isnan(xv)
    if not ok.any():
        return pd.DataFrame(columns=["bin_low", "bin_high", "group", "count"])
    edges = np.histogram_bin_edges(xv[ok], bins=bins)
    b = np.clip(np.searchsorted(edges, xv[ok], side="right") - 1, 0, bins - 1)
    codes = g.cat.codes.to_numpy().astype(np.int64)[ok]  # int8 * bins overflows
    keep = codes >= 0
    counts = np.bincount(codes[keep] * bins + b[keep],
                         minlength=len(g.cat.categories) * bins
                         ).reshape(len(g.cat.categories), bins)
    return pd.DataFrame({
        "bin_low": np.tile(edges[:-1], len(g.cat.categories)),
        "bin_high": np.tile(edges[1:], len(g.cat.categories)),
        "group": np.repeat(list(map(str, g.cat.categories)), bins),
        "count": counts.ravel()})


def _explore_numeric(table: pd.DataFrame, variable: str, g: pd.Series, score_col: str,
                     bins: int, top_share: float) -> dict[str, Any]:
    """n, n_missing, profile, distribution and best_split of a numeric variable."""
    x = pd.to_numeric(table[variable], errors="coerce")
    d = pd.DataFrame({"group": g, "x": x})
    return {"n": int(x.notna().sum()), "n_missing": int(x.isna().sum()),
            "profile": d.groupby("group", observed=False)["x"].agg(
                ["mean", "median", "count"]).reset_index(),
            "distribution": _histogram_by_group(x.to_numpy(dtype=float), g, bins),
            "best_split": threshold_finder(table, variable, score_col=score_col,
                                           top_share=top_share)}


def _best_category_split(lab: pd.Series, s: pd.Series, variable: str,
                         top: pd.Series | None) -> dict[str, Any] | None:
    """The grouping of the categories (sorted by mean score) that best separates the score
    (largest between-group sum of squares), as lists, means and a sentence; None if fewer
    than two categories. ``top``: top-quartile flags for the share of A in the better group."""
    means = pd.DataFrame({"c": lab, "s": s}).dropna().groupby("c")["s"].agg(["mean", "count"])
    if len(means) < 2:
        return None
    m = means.sort_values("mean", kind="stable")
    cn, cs = m["count"].cumsum().to_numpy(), (m["mean"] * m["count"]).cumsum().to_numpy()
    n, tot = cn[-1], cs[-1]
    gain = cs[:-1] ** 2 / cn[:-1] + (tot - cs[:-1]) ** 2 / (n - cn[:-1]) - tot ** 2 / n
    k = int(np.argmax(gain))
    hi_c, lo_c = list(m.index[k + 1:]), list(m.index[:k + 1])
    mean_hi = (tot - cs[k]) / (n - cn[k])
    mean_lo = cs[k] / cn[k]
    best = {"better": hi_c, "worse": lo_c, "mean_better": float(mean_hi),
            "mean_worse": float(mean_lo),
            "sentence": (f"{words(variable)} in {{{', '.join(map(str, hi_c))}}}: mean score "
                         f"{fmt_measure(round(mean_hi))} vs {fmt_measure(round(mean_lo))} "
                         "for the rest")}
    if top is not None:
        in_hi = lab.isin(hi_c).fillna(False).to_numpy(dtype=bool)
        best["share_A_better"] = float(top[in_hi].mean()) if in_hi.any() else float("nan")
    return best


def _explore_categorical(table: pd.DataFrame, variable: str, kind: str, g: pd.Series,
                         score_col: str, top_share: float) -> dict[str, Any]:
    """n, n_missing, distribution, profile (shares) and best_split of a categorical."""
    lab = as_labels(table[variable], kind)
    out: dict[str, Any] = {"n": int(lab.notna().sum()), "n_missing": int(lab.isna().sum())}
    ct = pd.crosstab(g, lab)
    out["distribution"] = ct.stack().rename("count").reset_index().rename(
        columns={"row_0": "group", "col_0": "category"})
    out["distribution"].columns = ["group", "category", "count"]
    share = ct.div(ct.sum(axis=1).where(lambda s: s > 0), axis=0)
    out["profile"] = share.stack().rename("share").reset_index()
    out["profile"].columns = ["group", "category", "share"]
    s = pd.to_numeric(table[score_col], errors="coerce")
    top = score_groups(s, 4) == "A" if top_share == 0.25 else None
    out["best_split"] = _best_category_split(lab, s, variable, top)
    return out


def explore(table: pd.DataFrame, variable: str, kind: str | None = None,
            score_col: str = "score", group_col: str = "quartile", bins: int = 20,
            top_share: float = Analysis().top_share, n_groups: int = 4) -> dict[str, Any]:
    """What the variable-explorer widget shows, fast (no model refits).

    Returns ``variable, kind, n, n_missing``, ``profile`` (per score group: mean / median /
    count for numerics, share per category otherwise), ``distribution`` (histogram counts per
    group for numerics on ``bins`` equal-width bins; counts per category and group otherwise),
    and ``best_split`` (``threshold_finder`` for numerics; for categories the grouping by mean
    score with the best separation, as a sentence). ``n_groups``: 4 (quartiles, ``group_col``
    when the table has it) or 10 (deciles, computed as Step 4 does).
    """
    if variable not in table.columns:
        raise InputDataError("explore: no such column in the analysis table", column=variable)
    kind = kind or _infer_kind(table[variable])
    g = _groups(table, score_col, group_col, n_groups)
    if kind == "numeric":
        return {"variable": variable, "kind": kind,
                **_explore_numeric(table, variable, g, score_col, bins, top_share)}
    return {"variable": variable, "kind": kind,
            **_explore_categorical(table, variable, kind, g, score_col, top_share)}


# --------------------------------------------------------------------------- planted example
def planted_example(n_accounts: int = 1500, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A synthetic analysis table with known truths and its hypotheses (for tests and demos).

    Truth: better accounts have more employees with a B2B/B2C threshold interaction (B2B good
    from 500 employees, B2C from 100), hospitals are worse, multinationals (3+ countries) are
    worse, bigger ad budgets are better, smaller IT teams are better; social-media followers,
    region, founding year and Glassdoor rating are noise.
    """
    rng = np.random.default_rng(seed)
    n = n_accounts
    bm = np.where(rng.random(n) < 0.6, "B2B", "B2C")
    employees = np.round(np.exp(rng.normal(np.log(300), 1.4, n))).clip(2, 200000)
    industry = rng.choice(["Hospital", "Retail", "Software", "Manufacturing", "Finance"], n,
                          p=[0.15, 0.2, 0.25, 0.2, 0.2])
    countries = rng.choice([1, 2, 3, 5, 10], n, p=[0.45, 0.25, 0.12, 0.1, 0.08])
    multinational = countries >= 3
    ad = np.round(np.exp(rng.normal(np.log(50000), 1.0, n)), -2)
    it = np.round(np.exp(rng.normal(np.log(15), 0.9, n))).clip(1, None)

    def z(v: np.ndarray) -> np.ndarray:
        return (v - v.mean()) / v.std()

    size_ok = np.where(bm == "B2B", employees >= 500, employees >= 100)
    latent = (1.6 * size_ok - 1.2 * (industry == "Hospital") - 1.0 * multinational
              + 0.5 * z(np.log(ad)) - 0.5 * z(np.log(it)) + rng.normal(0, 1, n))
    t = pd.DataFrame({
        "account_id": [f"A{i:05d}" for i in range(n)],
        "score": np.round(20000 + 6000 * latent, 2),
        "business_model": bm, "employees": employees, "industry": industry,
        "multinational": multinational, "countries_of_operation": countries,
        "ad_budget_usd": ad, "it_team_size": it,
        "social_media_followers": np.round(np.exp(rng.normal(8, 1.5, n))),
        "hq_region": rng.choice(["EMEA", "NA", "APAC", "LATAM"], n),
        "founded_year": rng.integers(1950, 2022, n),
        "glassdoor_rating": np.round(rng.uniform(2.5, 4.8, n), 1)})
    t["score_rank"] = t["score"].rank(ascending=False, method="first").astype(int)
    t["quartile"] = score_groups(t["score"], 4, tiebreak=t["account_id"]).astype(str)
    hyp = pd.DataFrame([
        ("H01", "employees", "numeric", "+", None, "Larger companies make better customers"),
        ("H02", "industry", "categorical", "-", "Hospital", "Hospitals make worse customers"),
        ("H03", "multinational", "boolean", "-", None, "Multinationals make worse customers"),
        ("H04", "ad_budget_usd", "numeric", "+", None, "Big ad budgets make better customers"),
        ("H05", "it_team_size", "numeric", "-", None, "A small IT team makes a better customer"),
        ("H06", "social_media_followers", "numeric", "-", None,
         "Companies very active on social media make worse customers"),
        ("H07", "hq_region", "categorical", "+", None, "Region matters"),
        ("H08", "founded_year", "numeric", "-", None, "Older companies make better customers"),
        ("H09", "glassdoor_rating", "numeric", "+", None, "Good employers make better customers"),
    ], columns=["id", "variable", "kind", "direction", "positive_category", "statement"])
    hyp["selected"] = True
    return t, hyp

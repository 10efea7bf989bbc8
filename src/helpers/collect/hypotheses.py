"""Step 2 of the method: the hypothesis register.

"Companies with more X make better / worse customers": each entry names the observable
characteristic X, its best numeric measure, a source, the cost of collecting it and how much
its answer could change what the company does. This module validates the register
(``params/hypotheses/*.yaml``), costs it (manual look-up vs buying records), shows which
sources serve several hypotheses, applies a transparent prioritisation rule, and derives the
measure columns of ``analysis_table`` (column / safe arithmetic expression / named helper).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from helpers.collect.labels import (
    BOOL_FALSE,
    BOOL_TRUE,
    as_labels,
    positive_category_of,
    resolve_category,
)
from helpers.core.errors import AnalysisError, InputDataError, ParameterError
from helpers.core.params import Hypotheses, Scope

LENSES = ("demographic", "firmographic", "geographic", "psychographic", "technographic",
          "behavioural", "needs-based", "value-based")
KINDS = ("numeric", "categorical", "boolean")
COLLECTION_METHODS = ("public lookup", "paid source", "internal system", "survey", "none")
#: collection methods where a money cost is not countable: the 0-5 effort score is used instead
EFFORT_ONLY = ("internal system", "survey")
EFFORT_SCALE = 5

REGISTER_COLUMNS = [
    "id", "statement", "direction", "lens", "variable", "kind", "measure_type", "measure",
    "measure_args", "positive_category", "source", "proxy_notes", "collection",
    "minutes_per_point", "hourly_rate", "price_per_record", "effort", "expected_coverage",
    "data_quality", "actionability", "notes",
]


# --------------------------------------------------------------------------- register schema
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Measure(_Strict):
    """How the measure of X is obtained: exactly one of column / expr / helper."""

    column: str | None = None
    expr: str | None = None
    helper: str | None = None
    args: dict[str, float | int | str] = Field(default_factory=dict,
                                               description="helper keyword arguments")

    @model_validator(mode="after")
    def _exactly_one(self) -> Measure:
        given = [k for k in ("column", "expr", "helper") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("measure needs exactly one of column / expr / helper "
                             f"(got {given or 'none'})")
        if self.helper and self.helper not in HELPERS:
            raise ValueError(f"unknown helper '{self.helper}'; known: {sorted(HELPERS)}")
        if self.args and not self.helper:
            raise ValueError("args are only used with a helper measure")
        return self


class Cost(_Strict):
    minutes_per_point: float | None = Field(None, ge=0)
    hourly_rate: float | None = Field(None, ge=0)
    price_per_record: float | None = Field(None, ge=0)
    effort: int | None = Field(None, ge=0, le=EFFORT_SCALE)


class Entry(_Strict):
    """One hypothesis of the register."""

    id: str = Field(min_length=1)
    statement: str = Field(min_length=1)
    direction: Literal["+", "-"]
    lens: Literal[LENSES]  # type: ignore[valid-type]
    variable: str = Field(min_length=1)
    kind: Literal[KINDS]  # type: ignore[valid-type]
    measure: Measure
    positive_category: str | None = Field(
        None, description="categorical: the category the direction refers to (e.g. B2B)")
    source: str | None = None
    proxy_notes: str = ""
    collection: Literal[COLLECTION_METHODS] = "public lookup"  # type: ignore[valid-type]
    cost: Cost = Field(default_factory=Cost)
    expected_coverage: float = Field(ge=0, le=1)
    data_quality: int = Field(ge=0, le=5)
    actionability: int = Field(ge=0, le=5)
    notes: str = ""

    @model_validator(mode="after")
    def _positive_category_fits_kind(self) -> Entry:
        pc = (self.positive_category or "").strip()
        if not pc:
            return self
        if self.kind == "numeric":
            raise ValueError("positive_category is only used with a categorical or boolean "
                             "measure (a numeric one has no category)")
        if self.kind == "boolean" and pc.lower() not in BOOL_TRUE | BOOL_FALSE:
            raise ValueError(f"a boolean's positive_category must be a yes/no word (yes, no, "
                             f"true, false, 1, 0...), got {pc!r}")
        return self


def _entry_errors(path: str, index: int, raw: Any, exc: ValidationError) -> list[str]:
    eid = raw.get("id", f"#{index + 1}") if isinstance(raw, dict) else f"#{index + 1}"
    out = []
    for err in exc.errors():
        key = ".".join(str(x) for x in err["loc"]) or "(entry)"
        if err["type"] == "extra_forbidden":
            out.append(f"  - entry {eid}: unknown key '{key}'")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            out.append(f"  - entry {eid}: '{key}': {msg} (got {err.get('input')!r})")
    return out


def validate_register(entries: Any, origin: str = "<register>") -> pd.DataFrame:
    """Validate a list of register entries (dicts) and return the flat register table.

    Parameters
    ----------
    entries : Any
        The parsed YAML (a list, or a mapping with ``hypotheses``).
    origin : str
        Names the register in errors (its file).

    Returns
    -------
    pd.DataFrame
        One row per hypothesis (``REGISTER_COLUMNS``); ParameterError lists every
        problem.
    """
    if isinstance(entries, dict) and "hypotheses" in entries:
        entries = entries["hypotheses"]
    if not isinstance(entries, list) or not entries:
        raise ParameterError(f"{origin}: the register must be a non-empty list of entries")
    problems: list[str] = []
    models: list[Entry] = []
    for i, raw in enumerate(entries):
        if not isinstance(raw, dict):
            problems.append(f"  - entry #{i + 1}: must be a mapping, got {type(raw).__name__}")
            continue
        try:
            models.append(Entry.model_validate(raw))
        except ValidationError as exc:
            problems.extend(_entry_errors(origin, i, raw, exc))
    ids = pd.Series([m.id for m in models], dtype="str")
    for dup in sorted(ids[ids.duplicated()].unique()):
        problems.append(f"  - entry {dup}: duplicate id")
    variables = pd.Series([m.variable for m in models], dtype="str")
    for dup in sorted(variables[variables.duplicated()].unique()):
        owners = [m.id for m in models if m.variable == dup]
        problems.append(f"  - entries {', '.join(owners)}: same variable '{dup}' "
                        "(one measure column per hypothesis)")
    if problems:
        raise ParameterError(f"{origin}: {len(problems)} problem(s) in the hypothesis register\n"
                             + "\n".join(problems))
    rows = []
    for m in models:
        mtype = next(k for k in ("column", "expr", "helper") if getattr(m.measure, k))
        rows.append({
            "id": m.id, "statement": m.statement, "direction": m.direction, "lens": m.lens,
            "variable": m.variable, "kind": m.kind, "measure_type": mtype,
            "measure": getattr(m.measure, mtype),
            "measure_args": json.dumps(m.measure.args, sort_keys=True),
            "positive_category": m.positive_category, "source": m.source,
            "proxy_notes": m.proxy_notes, "collection": m.collection,
            "minutes_per_point": m.cost.minutes_per_point, "hourly_rate": m.cost.hourly_rate,
            "price_per_record": m.cost.price_per_record, "effort": m.cost.effort,
            "expected_coverage": m.expected_coverage, "data_quality": m.data_quality,
            "actionability": m.actionability, "notes": m.notes,
        })
    out = pd.DataFrame(rows, columns=REGISTER_COLUMNS)
    for col in ("minutes_per_point", "hourly_rate", "price_per_record", "effort",
                "expected_coverage"):
        out[col] = pd.to_numeric(out[col]).astype("float64")
    return out


def check_positive_categories(register: pd.DataFrame, table: pd.DataFrame, *,
                              strict: bool = True) -> list[str]:
    """Check every ``positive_category`` against the values of its measure in ``table``.

    ``table`` is any account table: the analysis table (measure columns present) or an earlier
    one (the customer export), from which the measure is derived when its source columns are
    there (:func:`derive_measures`); a measure that cannot be computed from ``table`` is
    skipped. Labels are compared as the analysis reads them (``labels.resolve_category``:
    yes/no words for booleans, case-insensitive for categories). Returns one message per
    problem; with ``strict`` (default) raises InputDataError naming every hypothesis, its
    category and the values found — a category is never silently replaced by another.

    Parameters
    ----------
    register : pd.DataFrame
        The register rows.
    table : pd.DataFrame
        An account table.
    strict : bool
        Raise on a category matching no value (else return the messages).

    Returns
    -------
    list[str]
        The problems found (empty when none).
    """
    if "positive_category" not in register.columns or not len(register):
        return []
    rows = [r for _, r in register.iterrows()
            if positive_category_of(r) is not None and r.get("kind") in ("categorical", "boolean")]
    if not rows:
        return []
    sub = pd.DataFrame(rows)
    absent = sub.loc[~sub["variable"].isin(table.columns)]
    derived = table
    if len(absent) and {"measure_type", "measure"} <= set(absent.columns):
        needed = set(measure_columns(absent)["source_column"])
        derived, _ = derive_measures(table[[c for c in table.columns if c in needed]], absent)
    problems: list[str] = []
    bad: list[str] = []
    for _, r in sub.iterrows():
        var = str(r["variable"])
        values = (table[var] if var in table.columns
                  else derived[var] if var in derived.columns else None)
        if values is None:
            continue
        found = sorted(map(str, as_labels(values, str(r["kind"])).dropna().unique()))
        if not found:
            continue  # no value at all: the quality report and Step 4 say so
        pc = positive_category_of(r)
        if resolve_category(pc, str(r["kind"]), found) is None:
            shown = ", ".join(found[:12]) + (f" (+{len(found) - 12} more)" if len(found) > 12
                                              else "")
            problems.append(f"hypothesis {r.get('id', var)}: positive_category {pc!r} is not "
                            f"among the values of '{var}' ({shown or 'no values'})")
            bad.append(var)
    if problems and strict:
        raise InputDataError(
            f"{len(problems)} positive_category value(s) match no value in the data:\n  - "
            + "\n  - ".join(problems), column=bad[0],
            hint="write positive_category as one of the values found (for a yes/no measure: "
                 "yes or no) in the hypothesis register")
    return problems


# --------------------------------------------------------------------------- costs
def collection_cost(register: pd.DataFrame, n_accounts: int) -> pd.DataFrame:
    """Cost of collecting each hypothesis's measure for ``n_accounts`` accounts.

    ``collection_hours`` = minutes_per_point x n / 60; ``cost_manual_usd`` = hours x
    hourly_rate; ``cost_bought_usd`` = price_per_record x n; ``cost_usd`` = the cheaper of the
    two that are available and ``cheaper_option`` says which ("manual" / "bought"); internal
    systems and surveys, whose cost is not countable, carry ``cheaper_option`` = "effort" and are
    weighed by their 0-5 effort score instead (``cost_usd`` NaN); no source -> "none".

    Parameters
    ----------
    register : pd.DataFrame
        The register rows.
    n_accounts : int
        The kept accounts to collect for.

    Returns
    -------
    pd.DataFrame
        The register with the cost columns.
    """
    if n_accounts < 0:
        raise AnalysisError(f"n_accounts must be >= 0 (got {n_accounts})")
    out = register.copy()
    n = float(n_accounts)
    out["collection_hours"] = out["minutes_per_point"] * n / 60.0
    out["cost_manual_usd"] = out["collection_hours"] * out["hourly_rate"]
    out["cost_bought_usd"] = out["price_per_record"] * n
    out["cost_usd"] = out[["cost_manual_usd", "cost_bought_usd"]].min(axis=1, skipna=True)
    manual_cheaper = out["cost_manual_usd"].le(out["cost_bought_usd"]) | (
        out["cost_manual_usd"].notna() & out["cost_bought_usd"].isna())
    bought = out["cost_bought_usd"].notna() & ~manual_cheaper
    no_source = _no_source(out)
    effort_only = out["cost_usd"].isna() & out["collection"].isin(EFFORT_ONLY)
    out["cheaper_option"] = np.select(
        [no_source, manual_cheaper, bought, effort_only],
        ["none", "manual", "bought", "effort"], default="unknown")
    out.loc[no_source, "cost_usd"] = np.nan
    return out


def _no_source(register: pd.DataFrame) -> pd.Series:
    src = register["source"].astype("str").str.strip()
    return register["source"].isna() | src.eq("") | register["collection"].eq("none")


def shared_sources(register: pd.DataFrame) -> pd.DataFrame:
    """Which sources serve several hypotheses: source, n_hypotheses, ids, variables, shared.

    Parameters
    ----------
    register : pd.DataFrame
        The register rows.

    Returns
    -------
    pd.DataFrame
        One row per source.
    """
    reg = register.loc[~_no_source(register)]
    if reg.empty:
        return pd.DataFrame(columns=["source", "n_hypotheses", "ids", "variables", "shared"])
    key = reg["source"].str.strip()
    g = reg.assign(_src=key).groupby("_src", sort=True)
    out = pd.DataFrame({
        "n_hypotheses": g["id"].size(),
        "ids": g["id"].agg(lambda s: ", ".join(sorted(s))),
        "variables": g["variable"].agg(lambda s: ", ".join(sorted(s))),
    }).rename_axis("source").reset_index()
    out["shared"] = out["n_hypotheses"] > 1
    return out.sort_values(["n_hypotheses", "source"], ascending=[False, True],
                           kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- prioritisation
def prioritise(costed: pd.DataFrame, rules: Hypotheses | None = None,
               max_hypotheses: int | None = None) -> pd.DataFrame:
    """Select the hypotheses to test with a transparent, parameterised rule.

    ``priority_score`` (0-1) = weighted mean of actionability/5, expected_coverage and
    data_quality/5 (weights ``rules.value_weights``). A hypothesis is deprioritised, with the
    reason in words, when it has no source, costs more than ``max_cost_usd``, needs more effort
    than ``max_effort``, is expected to cover less than ``min_expected_coverage`` of accounts,
    or scores below ``min_actionability``. The rest are ranked by value per cost,
    ``value_per_cost`` = priority_score / (1 + relative cost), relative cost = cost_usd /
    max_cost_usd (or effort / 5 where cost is not countable); the best ``max_hypotheses``
    (default charter.scope.max_hypotheses) are ``selected``.

    Parameters
    ----------
    costed : pd.DataFrame
        The register with costs (:func:`collection_cost`).
    rules : Hypotheses or None
        The ``hypotheses`` parameters (defaults when None).
    max_hypotheses : int or None
        The charter's cap (None: the default scope).

    Returns
    -------
    pd.DataFrame
        The register with ``priority_score``, ``selected`` and ``deprioritised_reason``,
        ranked.
    """
    rules = rules or Hypotheses()
    cap = max_hypotheses if max_hypotheses is not None else Scope().max_hypotheses
    out = costed.copy()
    if "cost_usd" not in out.columns:
        raise AnalysisError("prioritise needs the costed register: run collection_cost first")
    w = {"actionability": 1.0, "coverage": 1.0, "quality": 1.0, **rules.value_weights}
    unknown = set(w) - {"actionability", "coverage", "quality"}
    if unknown:
        raise ParameterError(f"hypotheses.value_weights: unknown key(s) {sorted(unknown)}; "
                             "use actionability, coverage, quality")
    total = sum(w.values())
    if total <= 0:
        raise ParameterError("hypotheses.value_weights must not all be zero")
    out["priority_score"] = (w["actionability"] * out["actionability"] / EFFORT_SCALE
                             + w["coverage"] * out["expected_coverage"]
                             + w["quality"] * out["data_quality"] / EFFORT_SCALE) / total
    rel_cost = out["cost_usd"] / rules.max_cost_usd if rules.max_cost_usd > 0 else out["cost_usd"]
    rel_cost = rel_cost.fillna(out["effort"] / EFFORT_SCALE).fillna(0.0)
    out["value_per_cost"] = out["priority_score"] / (1.0 + rel_cost)

    no_source = _no_source(out)
    reasons = [
        (no_source, "no data source (no public, paid or internal source for the measure)"),
        (out["cost_usd"] > rules.max_cost_usd,
         "too costly: " + out["cost_usd"].map(lambda v: f"${v:,.0f}") +
         f" > max ${rules.max_cost_usd:,.0f}"),
        (out["effort"] > rules.max_effort,
         "too much effort: " + out["effort"].map(lambda v: f"{v:.0f}") +
         f" > max {rules.max_effort}"),
        (out["expected_coverage"] < rules.min_expected_coverage,
         "low expected coverage: " + out["expected_coverage"].map(lambda v: f"{v:.0%}") +
         f" < {rules.min_expected_coverage:.0%}"),
        (out["actionability"] < rules.min_actionability,
         "result could not be acted on: actionability " + out["actionability"].astype("str") +
         f" < {rules.min_actionability}"),
    ]
    reason = pd.Series("", index=out.index, dtype="str")
    for mask, text in reasons:
        mask = mask.fillna(False).astype(bool)
        text = text if isinstance(text, pd.Series) else pd.Series(text, index=out.index)
        reason = reason.where(~mask, reason.where(reason.eq(""), reason + "; ") + text)
    reason = reason.str.removeprefix("; ")
    eligible = reason.eq("")
    order = out.assign(_elig=eligible).sort_values(
        ["_elig", "value_per_cost", "priority_score", "id"],
        ascending=[False, False, False, True], kind="stable")
    out["priority_rank"] = pd.Series(np.arange(1, len(out) + 1), index=order.index)
    elig_rank = order.loc[order["_elig"]].index
    over_cap = pd.Index(elig_rank[cap:])
    reason.loc[over_cap] = (f"over the cap of {cap} hypotheses (charter scope): rank "
                            + out.loc[over_cap, "priority_rank"].astype("str"))
    out["selected"] = reason.eq("")
    out["deprioritised_reason"] = reason.where(~out["selected"], None)
    return out.sort_values("priority_rank", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- measures
def _num(table: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(table[col], errors="coerce").astype("float64")


def _text(table: pd.DataFrame, col: str) -> pd.Series:
    return table[col].astype("str").str.strip().str.casefold().where(table[col].notna())


def _bool(mask: pd.Series, valid: pd.Series) -> pd.Series:
    return mask.astype("boolean").where(valid, pd.NA)


def _is_multinational(t: pd.DataFrame, threshold: float = 3) -> pd.Series:
    x = _num(t, "countries_of_operation")
    return _bool(x >= threshold, x.notna())


def _is_hospital(t: pd.DataFrame, label: str = "healthcare") -> pd.Series:
    x = _text(t, "industry")
    return _bool(x == label.strip().casefold(), x.notna())


def _is_b2b(t: pd.DataFrame, label: str = "B2B") -> pd.Series:
    x = _text(t, "business_model")
    return _bool(x == label.strip().casefold(), x.notna())


def _small_it_team(t: pd.DataFrame, threshold: float = 5) -> pd.Series:
    x = _num(t, "it_team_size")
    return _bool(x <= threshold, x.notna())


def _large_company(t: pd.DataFrame, threshold: float = 500) -> pd.Series:
    x = _num(t, "employees")
    return _bool(x >= threshold, x.notna())


def _per_employee(t: pd.DataFrame, col: str, scale: float) -> pd.Series:
    emp = _num(t, "employees")
    return (_num(t, col) / emp.where(emp > 0) * scale).astype("float64")


def _tickets_per_100_employees(t: pd.DataFrame, per: float = 100) -> pd.Series:
    return _per_employee(t, "tickets", per)


def _revenue_per_employee(t: pd.DataFrame) -> pd.Series:
    return _per_employee(t, "annual_revenue", 1.0)


def _company_age_years(t: pd.DataFrame, as_of_year: float) -> pd.Series:
    return (float(as_of_year) - _num(t, "founded_year")).astype("float64")


def _active_user_share(t: pd.DataFrame) -> pd.Series:
    scope = _num(t, "users_in_scope")
    return (_num(t, "avg_active_users") / scope.where(scope > 0)).astype("float64")


#: named derivations: helper -> (function, source columns it needs, description)
HELPERS: dict[str, tuple[Callable[..., pd.Series], tuple[str, ...], str]] = {
    "is_multinational": (_is_multinational, ("countries_of_operation",),
                         "countries_of_operation >= threshold (default 3)"),
    "is_hospital": (_is_hospital, ("industry",),
                    "canonical industry == label (default 'healthcare')"),
    "is_b2b": (_is_b2b, ("business_model",), "business_model == label (default 'B2B')"),
    "small_it_team": (_small_it_team, ("it_team_size",), "it_team_size <= threshold"),
    "large_company": (_large_company, ("employees",), "employees >= threshold"),
    "tickets_per_100_employees": (_tickets_per_100_employees, ("tickets", "employees"),
                                  "tickets in the window per 100 employees"),
    "revenue_per_employee": (_revenue_per_employee, ("annual_revenue", "employees"),
                             "annual revenue (base currency) per employee"),
    "company_age_years": (_company_age_years, ("founded_year",),
                          "as_of_year (required arg) - founded_year"),
    "active_user_share": (_active_user_share, ("avg_active_users", "users_in_scope"),
                          "average active users / users in scope"),
}

_ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Name,
                  ast.Load, ast.Constant, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv,
                  ast.Mod, ast.Pow, ast.USub, ast.UAdd, ast.Not, ast.Invert, ast.BitAnd,
                  ast.BitOr, ast.And, ast.Or, ast.Gt, ast.GtE, ast.Lt, ast.LtE, ast.Eq,
                  ast.NotEq)


def expr_columns(expr: str) -> list[str]:
    """Column names an expression uses, after checking it is plain arithmetic.

    Allowed: column names, numbers, + - * / // % **, comparisons, & | ~ and/or/not.
    Anything else (attribute access, calls, subscripts, strings, lambdas...) raises
    ParameterError.

    Parameters
    ----------
    expr : str
        The measure expression.

    Returns
    -------
    list[str]
        The column names it uses.
    """
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ParameterError(f"measure expr {expr!r} is not a valid expression: "
                             f"{exc.msg}") from None
    names: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ParameterError(
                f"measure expr {expr!r}: {type(node).__name__} is not allowed; use column "
                "names, numbers and arithmetic / comparisons only (no calls, attributes, "
                "subscripts or strings)")
        if isinstance(node, ast.Constant) and (
                isinstance(node.value, bool) or not isinstance(node.value, int | float)):
            raise ParameterError(f"measure expr {expr!r}: only numeric constants are allowed "
                                 f"(got {node.value!r})")
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise ParameterError(f"measure expr {expr!r}: name {node.id!r} is not allowed")
            if node.id not in names:
                names.append(node.id)
    return names


def safe_eval(table: pd.DataFrame, expr: str) -> pd.Series:
    """Evaluate a checked arithmetic expression over ``table``'s columns (pandas.eval).

    Parameters
    ----------
    table : pd.DataFrame
        The table.
    expr : str
        The expression.

    Returns
    -------
    pd.Series
        The values, same index.
    """
    names = expr_columns(expr)
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise KeyError(missing)
    local = {n: _num(table, n) for n in names}
    result = pd.eval(expr, local_dict=local, global_dict={}, engine="python", parser="pandas")
    if not isinstance(result, pd.Series):  # constant expression
        result = pd.Series(result, index=table.index)
    if pd.api.types.is_bool_dtype(result):
        return result
    result = pd.to_numeric(result, errors="coerce").astype("float64")
    return result.where(np.isfinite(result))


def measure_columns(register: pd.DataFrame) -> pd.DataFrame:
    """Source columns each hypothesis needs: id, variable, source_column (long).

    Parameters
    ----------
    register : pd.DataFrame
        The register rows.

    Returns
    -------
    pd.DataFrame
        Columns ``id, variable, source_column``.
    """
    rows = []
    for r in register[["id", "variable", "measure_type", "measure"]].itertuples(index=False):
        if r.measure_type == "column":
            cols: list[str] = [r.measure]
        elif r.measure_type == "expr":
            cols = expr_columns(r.measure)
        else:
            cols = list(HELPERS[r.measure][1])
        rows += [{"id": r.id, "variable": r.variable, "source_column": c} for c in cols]
    return pd.DataFrame(rows, columns=["id", "variable", "source_column"])


def _cast(values: pd.Series, kind: str) -> pd.Series:
    if kind == "numeric":
        if pd.api.types.is_bool_dtype(values):
            return values.astype("float64")
        if pd.api.types.is_numeric_dtype(values):
            return values.astype("float64")
        from helpers.core.io import parse_number  # text numbers: separators, k/M suffixes

        parsed, _ = parse_number(values)
        return pd.Series(np.asarray(parsed, dtype="float64"), index=values.index)
    if kind == "boolean":
        if pd.api.types.is_bool_dtype(values):
            return values.astype("boolean")
        if pd.api.types.is_numeric_dtype(values):
            return values.map({1: True, 0: False}).astype("boolean")
        words = values.astype("str").str.strip().str.casefold()
        mapped = words.map({"true": True, "yes": True, "y": True, "1": True,
                            "false": False, "no": False, "n": False, "0": False})
        return mapped.where(values.notna()).astype("boolean")
    text = values.astype("str").str.strip().where(values.notna())
    return text.where(text.ne("")).astype("str")


def resolve_column(name: str, columns: Iterable[str]) -> str | None:
    """The column a measure's name means: the name itself; else the column whose name matches
    ignoring case, spaces and punctuation (``annual_revenue`` = "Annual Revenue"); else the
    canonical column a column preset renamed it to (``revenue`` -> ``annual_revenue``, as the
    export's "Revenue" column becomes on reading). None when nothing matches.

    Parameters
    ----------
    name : str
        The name a measure uses.
    columns : Iterable[str]
        The columns available.

    Returns
    -------
    str | None
        The column, or None.
    """
    from helpers.core.io import PRESETS, _key, load_preset

    cols = list(columns)
    if name in cols:
        return name
    key = _key(name)
    by_key = {_key(c): c for c in cols}
    if key in by_key:
        return by_key[key]
    for preset in PRESETS:
        for canonical, accepted in load_preset(preset).items():
            if canonical in cols and key in {_key(a) for a in accepted}:
                return canonical
    return None


def derive_measures(table: pd.DataFrame, register: pd.DataFrame
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add each hypothesis's ``variable`` column to ``table`` and log what happened.

    Column measures copy the mapped column; expr measures are evaluated safely
    (:func:`safe_eval`); helper measures call the named derivation in ``HELPERS`` with the
    entry's ``measure_args``. A missing source column flags the hypothesis (status
    ``missing source column``) instead of failing; the variable is then absent.
    Log columns: id, variable, measure_type, measure, status, missing_columns, non_missing,
    rows, flagged.

    Parameters
    ----------
    table : pd.DataFrame
        The account table.
    register : pd.DataFrame
        The register rows.

    Returns
    -------
    tuple[pd.DataFrame, pd.DataFrame]
        ``(table, measure_log)``.
    """
    out = table.copy()
    log = []
    new_cols: dict[str, pd.Series] = {}
    aliases: dict[str, pd.Series] = {}  # measure names found under another column name
    for r in register.itertuples(index=False):
        needed = (measure_columns(pd.DataFrame([r._asdict()]))["source_column"].tolist())
        avail = set(out.columns) | set(new_cols)
        found = {c: resolve_column(c, avail) for c in needed if c not in avail}
        for name, col in found.items():  # an export's own column name, e.g. "Revenue"
            if col is not None:
                aliases[name] = new_cols[col] if col in new_cols else out[col]
                avail.add(name)
        missing = [c for c in needed if c not in avail]
        entry = {"id": r.id, "variable": r.variable, "measure_type": r.measure_type,
                 "measure": r.measure, "missing_columns": ", ".join(missing), "rows": len(out)}
        if missing:
            log.append({**entry, "status": "missing source column", "non_missing": 0,
                        "flagged": True})
            continue
        extra = {**aliases, **new_cols}
        view = out.assign(**extra) if extra else out
        if r.measure_type == "column":
            values = view[r.measure]
        elif r.measure_type == "expr":
            values = safe_eval(view, r.measure)
        else:
            fn = HELPERS[r.measure][0]
            args = json.loads(r.measure_args) if isinstance(r.measure_args, str) else {}
            try:
                values = fn(view, **args)
            except TypeError as exc:
                raise ParameterError(f"hypothesis {r.id}: helper '{r.measure}' does not accept "
                                     f"args {args}: {exc}") from None
        given = int(values.notna().sum()) if r.measure_type == "column" else None
        values = _cast(values, r.kind)
        new_cols[r.variable] = values
        nn = int(values.notna().sum())
        lost = given - nn if given is not None else 0
        status = "ok" if nn else "all missing"
        if lost:
            status += f"; {lost} value(s) not readable as {r.kind}, left missing"
        log.append({**entry, "status": status, "non_missing": nn, "flagged": nn == 0})
    for name, values in new_cols.items():
        out[name] = values
    cols = ["id", "variable", "measure_type", "measure", "status", "missing_columns",
            "non_missing", "rows", "flagged"]
    return out, pd.DataFrame(log, columns=cols)


def helper_catalogue() -> pd.DataFrame:
    """The named derivations a register may use: helper, needs, description.

    Parameters
    ----------

    Returns
    -------
    pd.DataFrame
        Columns ``helper, needs, description``.
    """
    return pd.DataFrame([{"helper": k, "needs": ", ".join(v[1]), "description": v[2]}
                         for k, v in sorted(HELPERS.items())])

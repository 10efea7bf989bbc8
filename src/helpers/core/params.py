"""Run parameters: one YAML file per run under params/, validated before any notebook starts.

A parameter file may inherit from another with ``extends: base.yaml`` (deep-merged, the child
wins), so a quarter states only what changed. Unknown keys, wrong types and typos fail here,
naming the key and suggesting the closest valid one. Every default below is the method's
(docs/method.md): 4x outlier rule, top 25 %, 25-50 % coverage, 10-100 accounts per
manager, and so on.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from helpers.core.errors import ParameterError
from helpers.core.paths import resolve


class _Strict(BaseModel):
    """A parameter model: unknown keys are errors, and the parameters are read-only once
    validated (frozen), so no assignment can bypass the validation or the run record; a
    notebook changes them with :func:`with_overrides` (``Session.with_params``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __setattr__(self, name: str, value: Any) -> None:
        raise ParameterError(
            f"parameters are read-only: cannot assign {type(self).__name__}.{name} = "
            f"{value!r}; in a notebook use s = s.with_params({{'<section>.{name}': value}}) "
            "(validated like the parameter file and recorded in the run manifest), or change "
            "the parameter file")


# --------------------------------------------------------------------------- Step 1: charter
class Stakeholder(_Strict):
    name: str
    role: str
    goal: str = ""


class Milestone(_Strict):
    name: str
    due: dt.date


class Scope(_Strict):
    share_of_accounts: float = Field(1.0, gt=0, le=1, description="Share of accounts analysed")
    max_hypotheses: int = Field(15, ge=1)
    max_segments: int = Field(3, ge=1)
    time_per_stage_days: dict[str, float] = Field(default_factory=dict)


class Charter(_Strict):
    project: str = "Best current customer segmentation"
    objective: str = "Find the few segments that look most like our best current customers."
    business_goals: list[str] = Field(default_factory=list)
    stakeholders: list[Stakeholder] = Field(default_factory=list)
    scope: Scope = Field(default_factory=Scope)
    deliverables: list[str] = Field(default_factory=lambda: [
        "Presentation of the main segments with a representative customer list per segment",
        "Data file with the analysis behind it",
        "Raw, intermediate and output data files kept for the record",
    ])
    milestones: list[Milestone] = Field(default_factory=list)


# --------------------------------------------------------------------------- inputs
class Source(_Strict):
    """One input file and how its columns map to the workbook's canonical names."""

    path: str
    format: Literal["auto", "csv", "xlsx", "parquet"] = "auto"
    sheet: str | int | None = None
    encoding: str | None = None
    delimiter: str | None = None
    date_format: str | None = Field(None, description="strftime format of the file's dates, "
                                    "e.g. '%m/%d/%Y' for a US export; null = detect")
    preset: Literal["generic", "salesforce", "hubspot"] | None = None
    mapping: dict[str, str] = Field(default_factory=dict,
                                    description="canonical name -> column name in the file")
    header_row: int | None = Field(None, ge=1, description="file row holding the column names "
                                   "(1 = the first line), for exports with title lines above "
                                   "the header; null = row 1")


class JoinSource(Source):
    """An enrichment source joined onto the customer list."""

    join_on: Literal["account_id", "domain", "name"] = "account_id"


class DealsSource(Source):
    """Salesforce opportunities / HubSpot deals: the account list built from the won deals
    (helpers.setup.deals). ``preset`` names the CRM whose standard deal columns are expected."""

    won_stages: list[str] = Field(
        default_factory=lambda: ["Closed Won", "closedwon", "Won"],
        description="stage labels of a won deal (case and spaces ignored)")
    one_off_labels: list[str] = Field(
        default_factory=lambda: ["one-off", "one off", "one-time", "one time", "non-recurring",
                                 "services", "professional services", "setup",
                                 "implementation", "training"],
        description="revenue_type / type labels of one-off amounts (kept apart from "
                    "recurring value); any other label is recurring")
    amount_basis: Literal["total", "annual", "monthly"] = Field(
        "total", description="what a deal's amount is: the total over its term, per year, "
                             "or per month")
    default_term_months: float = Field(12.0, gt=0, description="term of a recurring deal "
                                       "without an end date or term column")
    join_on: Literal["account_id", "name"] = Field(
        "account_id", description="how deals join the account export (when there is one)")


class SubscriptionsSource(Source):
    """A Stripe subscriptions export: MRR per customer (helpers.setup.deals)."""

    preset: Literal["stripe", "generic"] | None = "stripe"  # type: ignore[assignment]
    ended_statuses: list[str] = Field(
        default_factory=lambda: ["canceled", "cancelled", "ended", "incomplete_expired"],
        description="statuses of a subscription no longer in force (with its end date)")
    ignored_statuses: list[str] = Field(
        default_factory=lambda: ["incomplete", "incomplete_expired"],
        description="statuses of a subscription that never started (ignored, with reason)")
    join_on: Literal["account_id", "name"] = Field(
        "account_id", description="how customers join the account export (when there is one)")


class Inputs(_Strict):
    accounts: Source | None = Field(None, description="the account export (optional with "
                                    "deals or subscriptions)")
    deals: DealsSource | None = None
    subscriptions: SubscriptionsSource | None = None
    previous_accounts: Source | None = None
    firmographics: JoinSource | None = None
    tickets: Source | None = Field(None, description="row-level tickets: a CSV / Parquet file, "
                                   "or a directory / glob of Parquet files (hive-partitioned)")
    usage: Source | None = Field(None, description="row-level monthly usage (file, directory "
                                 "or glob, as tickets)")
    ticket_summary: Source | None = Field(None, description="instead of tickets: one row per "
                                          "account (account_id, tickets, ticket_minutes), e.g. "
                                          "from `workbook sql` run in the warehouse")
    usage_summary: Source | None = Field(None, description="instead of usage: one row per account "
                                         "(account_id, months_active, avg_active_users, "
                                         "avg_sessions, avg_feature_adoption, usage_trend)")
    survey: JoinSource | None = None
    prospects: Source | None = None
    worksheet: Source | None = None
    industry_map: str | None = Field(None, description="YAML: raw label -> canonical industry")

    @model_validator(mode="after")
    def _account_list(self) -> Inputs:
        if self.accounts is None and self.deals is None and self.subscriptions is None:
            raise ValueError("name the account list: inputs.accounts, inputs.deals or "
                             "inputs.subscriptions")
        if self.deals is not None and self.subscriptions is not None:
            raise ValueError("use inputs.deals or inputs.subscriptions, not both")
        for rows, summary in (("tickets", "ticket_summary"), ("usage", "usage_summary")):
            if getattr(self, rows) is not None and getattr(self, summary) is not None:
                raise ValueError(f"give inputs.{rows} (row-level) or inputs.{summary} "
                                 "(per-account summary), not both")
        return self


class Currency(_Strict):
    base: str = "USD"
    rates: dict[str, float] = Field(default_factory=lambda: {"USD": 1.0},
                                    description="units of base currency per unit of currency")


class Aggregation(_Strict):
    """How the row-level ticket / usage files are aggregated on this machine (DuckDB)."""

    duckdb_memory_limit: str | None = Field(None, description="DuckDB memory_limit, e.g. '3GB'; "
                                            "a larger scan spills to duckdb_temp_directory; "
                                            "null = DuckDB's default (80 % of RAM)")
    duckdb_temp_directory: str | None = Field(None, description="where DuckDB spills; null = "
                                              "DuckDB's default")
    duckdb_threads: int = Field(1, ge=1, description="1 = the same sums in the same order on "
                                "every run (bit-identical averages); more = faster scans")


# --------------------------------------------------------------------------- Step 1: list
class Exclusions(_Strict):
    drop_test_accounts: bool = True
    outlier_mrr_ratio: float | None = Field(4.0, gt=1, description="drop the largest account if "
                                            "its MRR exceeds k x the next largest; null = off")
    min_tenure_days: int | None = Field(90, ge=0, description="too new to show patterns")
    won_after: dt.date | None = None
    won_before: dt.date | None = None
    mrr_floor: float | None = Field(None, ge=0, description="drop accounts below this MRR")
    manual_exclude: list[str] = Field(default_factory=list)
    manual_reason: str = "excluded by analyst"
    test_type_labels: list[str] = Field(
        default_factory=lambda: ["Test", "Proof of Concept", "POC", "Pilot", "Sandbox",
                                 "Internal", "Demo"],
        description="account_type labels that mark test / proof-of-concept accounts (matched "
        "by meaning: case, spaces and punctuation ignored, a label's words anywhere in the "
        "type, so 'Test / POC' and 'test account' match 'Test')")
    not_customer_type_labels: list[str] = Field(
        default_factory=lambda: ["Prospect", "Partner", "Competitor", "Reseller", "Lead",
                                 "Opportunity", "Subscriber", "Marketing Qualified Lead",
                                 "Sales Qualified Lead", "Vendor"],
        description="account_type labels of records that are not customers (excluded)")
    trial_type_labels: list[str] = Field(
        default_factory=lambda: ["Trial", "Free", "Freemium"],
        description="account_type labels of trial / free accounts (like zero MRR)")
    keep_trials: bool = Field(False, description="keep trial / free accounts (type or zero "
                              "MRR); false = exclude them with the reason")
    former_type_labels: list[str] = Field(
        default_factory=lambda: ["Former Customer", "Former", "Churned", "Cancelled",
                                 "Canceled", "Ex-Customer", "Past Customer", "Lost Customer"],
        description="account_type labels of former customers (former even with a blank churn "
                    "date: churn date unknown)")
    customer_type_labels: list[str] = Field(
        default_factory=lambda: ["Customer", "Client", "Active", "Paying", "Evangelist"],
        description="account_type labels of (current or former) customers; any other label "
                    "is kept as a customer with a warning naming it")
    max_invalid_share: float = Field(
        0.02, ge=0, lt=1, description="rows with a blank id or a blank / unreadable start "
        "date are excluded with their reason when at most this share of the rows; above it "
        "the run stops")


# --------------------------------------------------------------------------- Step 1: score
class Score(_Strict):
    acv_weight: float = 1.0
    cost_per_ticket: float = Field(30.0, ge=0)
    success_hour_cost: float = Field(75.0, ge=0)
    acquisition_cost_weight: float = Field(1.0, ge=0)
    acquisition_amortisation_years: float = Field(3.0, gt=0)
    growth_bonus_weight: float = Field(0.5, ge=0, description="x ACV x growth rate (capped)")
    growth_cap: float = Field(1.0, gt=0, description="growth rate cap, e.g. 1.0 = +100 %")
    churn_penalty: float = Field(5000.0, ge=0, description="fixed deduction for former customers")
    large_logo_bonus: float = Field(5000.0, ge=0)
    large_logo_min_employees: int = Field(5000, ge=1)
    quantiles: Literal[4, 10] = 4


# --------------------------------------------------------------------------- Step 2
class Hypotheses(_Strict):
    register_file: str = "params/hypotheses/demo.yaml"
    max_cost_usd: float = Field(2000.0, ge=0, description="deprioritise above this cost")
    max_effort: int = Field(4, ge=0, le=5)
    min_expected_coverage: float = Field(0.5, ge=0, le=1)
    min_actionability: int = Field(2, ge=0, le=5)
    value_weights: dict[str, float] = Field(default_factory=lambda: {
        "actionability": 1.0, "coverage": 1.0, "quality": 1.0})


# --------------------------------------------------------------------------- Step 3
class Collection(_Strict):
    ticket_window_days: int = Field(365, ge=1)
    usage_window_months: int = Field(12, ge=1)
    stale_after_days: int = Field(730, ge=1)
    min_completeness: float = Field(0.6, ge=0, le=1, description="below: send back to Step 2")
    name_match: bool = True
    max_stale_share: float = Field(0.5, ge=0, le=1, description="above: too stale, send back")
    plausible_ranges: dict[str, tuple[float | None, float | None]] = Field(
        default_factory=lambda: {
            "employees": (1, None), "annual_revenue": (0, None),
            "countries_of_operation": (1, 250), "ad_budget_usd": (0, None),
            "it_team_size": (0, None), "social_media_followers": (0, None),
            "founded_year": (1800, None), "glassdoor_rating": (0, 5), "tickets": (0, None),
            "ticket_minutes": (0, None), "months_active": (0, None),
            "avg_active_users": (0, None), "avg_sessions": (0, None),
            "avg_feature_adoption": (0, 1), "tickets_per_100_employees": (0, None),
            "onboarding_help": (1, 5), "integration_importance": (1, 5),
            "reporting_depth": (1, 5), "users_in_scope": (0, None)},
        description="field -> (min, max) inclusive plausible values; null = open")
    needs_judgement: list[str] = Field(
        default_factory=lambda: ["industry", "business_model", "is_hospital"],
        description="qualitative fields whose values need a human judgement")
    money_columns: list[str] = Field(
        default_factory=lambda: ["annual_revenue"],
        description="mixed-format money fields parsed into the base currency")
    typo_similarity: float = Field(0.8, gt=0, le=1, description="a category label this "
                                   "close to a known one (difflib ratio) is suggested as a typo")
    prefer_enrichment: bool = Field(
        True, description="a field in both the account list and an enrichment source takes "
        "the source's value (the account value fills gaps); false = the reverse")


# --------------------------------------------------------------------------- Step 4
class Tree(_Strict):
    max_depth: int = Field(3, ge=1, le=6)
    min_samples_leaf: int = Field(40, ge=1)
    forced_root: str | None = None
    min_category_size: int = Field(20, ge=1, description="merge rarer categories into 'other'")
    round_tolerance: float = Field(0.02, ge=0, lt=1, description="round a split threshold to a "
                                   "readable value if it keeps at least (1 - this) of the "
                                   "split's gain")


class Regression(_Strict):
    target: Literal["score", "rank"] = "rank"
    alpha: float = Field(0.05, gt=0, lt=1)
    vif_max: float = Field(5.0, gt=1)
    split_by: str | None = "business_model"
    log_skew: float | None = Field(2.0, gt=0, description="log1p non-negative numeric variables "
                                   "whose skewness exceeds this; null = never")


class Lightweight(_Strict):
    """The method's lightweight analysis for a small base (Step 4: "small base, few
    hypotheses"): sorted table, thresholds in words, exact/permutation tests, the tree as a
    picture; no regression and no cross-validated lift (too few top accounts per fold)."""

    below: int = Field(200, ge=20, description="mode auto: lightweight path below this many "
                       "kept accounts (at 200, a 5-fold test fold holds 10 top-25 % accounts: "
                       "a cross-validated capture rate moves in steps of 10 points)")
    min_accounts: int = Field(20, ge=4, description="fewest kept accounts any report is built "
                              "from; below, a clear message")
    min_tested: int = Field(10, ge=4, description="accounts with a value needed to test a "
                            "hypothesis (the full path's analysis.min_accounts, capped)")
    leaf_share: float = Field(0.1, gt=0, lt=0.5, description="tree leaf minimum as a share of "
                              "the accounts (at least leaf_min)")
    leaf_min: int = Field(5, ge=2)
    category_share: float = Field(0.05, gt=0, lt=0.5, description="merge categories rarer than "
                                  "this share of the accounts (at least category_min) into "
                                  "'other'")
    category_min: int = Field(3, ge=1)
    keep_categories: int = Field(2, ge=2, description="the largest categories never merged, "
                                 "so a field never collapses into one 'other'")


class Analysis(_Strict):
    mode: Literal["auto", "lightweight", "full"] = Field(
        "auto", description="auto: the lightweight path below lightweight.below kept accounts")
    lightweight: Lightweight = Field(default_factory=Lightweight)
    top_share: float = Field(0.25, gt=0, lt=1)
    deciles_from: int = Field(1000, ge=10, description="use deciles at or above this many accounts")
    bh_alpha: float = Field(0.05, gt=0, lt=1)
    small_base: int = Field(200, ge=10, description="below: exact/permutation tests")
    min_accounts: int = Field(30, ge=4)
    min_effect: float = Field(0.147, ge=0, description="|Cliff's delta| / |rho| below = too small")
    permutations: int = Field(2000, ge=100)
    min_power: float = Field(0.8, gt=0, lt=1, description="power to detect min_effect needed to "
                             "call a non-significant hypothesis rejected (else inconclusive)")
    tree: Tree = Field(default_factory=Tree)
    regression: Regression = Field(default_factory=Regression)
    cv_folds: int = Field(5, ge=2)
    cv_repeats: int = Field(3, ge=1)
    bootstrap: int = Field(200, ge=10)


class Robustness(_Strict):
    draws: int = Field(200, ge=10)
    concentration: float = Field(50.0, gt=0, description="Dirichlet concentration around weights")
    robust_share: float = Field(0.8, gt=0, le=1)
    segment_bootstrap: int = Field(50, ge=5)


class Coverage(_Strict):
    dedicated_min_value: float = Field(50000.0, ge=0,
                                       description="mean ACV for a dedicated manager")
    accounts_per_manager_min: int = Field(10, ge=1)
    accounts_per_manager_max: int = Field(100, ge=1)
    pooled_accounts_per_manager: int = Field(1000, ge=1)
    dedicated_max_value: float = Field(500000.0, ge=0, description="mean ACV at/above which a "
                                       "manager covers only accounts_per_manager_min accounts")
    tech_touch_max_value: float = Field(1200.0, ge=0, description="mean ACV below which a "
                                        "segment is tech-touch only (no named manager); 0 = off")
    concentration_top_share: float = Field(0.2, gt=0, lt=1, description="largest accounts' "
                                           "share used to measure value concentration")
    dollar_kpi_concentration: float = Field(0.5, gt=0, le=1, description="measure churn in "
                                            "dollars when the largest accounts hold this share")


class Segments(_Strict):
    coverage_min: float = Field(0.25, ge=0, le=1)
    coverage_max: float = Field(0.50, ge=0, le=1)
    n_recommended: int = Field(3, ge=1, le=5)
    min_share: float = Field(0.05, ge=0, le=1)
    names: dict[str, str] = Field(default_factory=dict, description="segment id (S1 ...) or "
                                  "full rule text -> display name (stakeholders rename)")
    examples: int = Field(5, ge=0)
    needs_k_range: tuple[int, int] = (2, 6)
    needs_columns: list[str] = Field(default_factory=list,
                                     description="survey answers to cluster; empty = all but ids")
    needs_outcome_column: str = "primary_outcome"
    diamond_value_share: float = Field(0.8, gt=0, lt=1, description="bottom share by value")
    cs: Coverage = Field(default_factory=Coverage)

    @model_validator(mode="after")
    def _order(self) -> Segments:
        if self.coverage_min > self.coverage_max:
            raise ValueError("coverage_min must not exceed coverage_max")
        return self


# --------------------------------------------------------------------------- Step 5
class Report(_Strict):
    title: str = "Best current customer segments"
    anonymise: bool = False
    top_bottom_n: int = Field(10, ge=1)


class Quarterly(_Strict):
    """Quarter to quarter: comparison with the previous run, migration, CRM hand-back."""

    previous_quarter_run: str | None = Field(
        None, description="run the migration compares with; null = the latest complete run "
        "with an earlier as_of (ties: the greatest run id)")
    mrr_change_tolerance: float = Field(0.0, ge=0, description="relative MRR change at or "
                                        "below which a retained account counts as unchanged")
    crm_formats: list[Literal["salesforce", "hubspot"]] = Field(
        default_factory=lambda: ["salesforce", "hubspot"], description="CRM exports to write")
    crm_changed_only: bool = Field(False, description="export only accounts that are new or whose "
                                   "segment or quartile changed since the previous run")
    movers_max: int | None = Field(None, ge=1, description="cap on listed movers; null = all")


class Params(_Strict):
    """All parameters of one run."""

    as_of: dt.date
    seed: int = 42
    previous_run: str | None = None
    lineage: str | None = Field(
        None, description="name of the series of runs this run belongs to: previous-run and "
        "previous-quarter discovery only consider runs of the same lineage; null = the charter's "
        "project name")
    charter: Charter = Field(default_factory=Charter)
    inputs: Inputs
    currency: Currency = Field(default_factory=Currency)
    aggregation: Aggregation = Field(default_factory=Aggregation)
    exclusions: Exclusions = Field(default_factory=Exclusions)
    score: Score = Field(default_factory=Score)
    hypotheses: Hypotheses = Field(default_factory=Hypotheses)
    collection: Collection = Field(default_factory=Collection)
    analysis: Analysis = Field(default_factory=Analysis)
    robustness: Robustness = Field(default_factory=Robustness)
    segments: Segments = Field(default_factory=Segments)
    report: Report = Field(default_factory=Report)
    quarterly: Quarterly = Field(default_factory=Quarterly)


# --------------------------------------------------------------------------- loading
def _deep_merge(base: dict, child: dict) -> dict:
    out = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


class _Loader(yaml.SafeLoader):
    """YAML safe loader whose impossible dates (``2026-13-01``) stay text, so the parameter
    check names the key and the value instead of a raw ``ValueError`` from the YAML reader."""

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def _tab_lines(text: str) -> list[int]:
    """Line numbers (1-based) whose indentation holds a tab character."""
    return [i for i, line in enumerate(text.splitlines(), 1)
            if "\t" in line[:len(line) - len(line.lstrip(" \t"))]]


def _yaml_error(p: Path, text: str, exc: yaml.YAMLError) -> ParameterError:
    tabs = _tab_lines(text)
    if tabs:
        shown = ", ".join(map(str, tabs[:10])) + (" ..." if len(tabs) > 10 else "")
        return ParameterError(f"{p} is not valid YAML: line(s) {shown} indented with a tab "
                              "character; YAML indents with spaces only: replace each tab with "
                              "spaces")
    return ParameterError(f"{p} is not valid YAML: {exc}")


def _read_chain(path: str | Path, _seen: tuple[Path, ...] = ()
                ) -> tuple[dict[str, Any], list[str]]:
    """The merged mapping of a parameter file and the files it ``extends``, and their texts."""
    p = resolve(path)
    if not p.is_file():
        raise ParameterError(f"parameter file not found: {p}")
    if p in _seen:
        raise ParameterError(f"parameter file {p} extends itself "
                             f"(cycle: {[str(s) for s in _seen]})")
    text = p.read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=_Loader) or {}  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise _yaml_error(p, text, exc) from None
    if not isinstance(data, dict):
        raise ParameterError(f"{p} must hold a mapping of keys at the top level")
    texts = [text]
    parent = data.pop("extends", None)
    if parent:
        parent_path = (p.parent / parent) if not Path(parent).is_absolute() else Path(parent)
        base, more = _read_chain(parent_path, (*_seen, p))
        data, texts = _deep_merge(base, data), texts + more
    return data, texts


def read_params_yaml(path: str | Path) -> dict[str, Any]:
    """The merged mapping of a parameter file and the files it ``extends`` (not validated).

    Parameters
    ----------
    path
        The parameter file (relative paths start at the project root).

    Returns
    -------
    dict
        The file's keys, deep-merged over the files it extends (the child wins).
    """
    return _read_chain(path)[0]


def _number_texts(texts: list[str]) -> dict[Any, str]:
    """Unquoted scalars YAML read as numbers -> the text as written (``000123`` -> 83)."""
    out: dict[Any, str] = {}
    for text in texts:
        try:
            tokens = list(yaml.scan(text, Loader=yaml.SafeLoader))
        except yaml.YAMLError:
            continue
        for tok in tokens:
            if isinstance(tok, yaml.ScalarToken) and tok.plain:
                try:
                    value = yaml.safe_load(tok.value)
                except yaml.YAMLError:
                    continue
                if isinstance(value, int | float) and not isinstance(value, bool):
                    out.setdefault(value, tok.value)
    return out


def _fields_at(loc: tuple) -> list[str]:
    model: type[BaseModel] | None = Params
    for part in loc[:-1]:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return []
        ann = model.model_fields[part].annotation
        args = getattr(ann, "__args__", ()) or ()
        cands = [a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        model = cands[0] if cands else None
    return list(model.model_fields) if model else []


def _format_errors(where: str | Path, exc: ValidationError, texts: list[str]) -> str:
    lines = [f"{where}: {exc.error_count()} problem(s) in the parameters"]
    numbers: dict[Any, str] | None = None
    for err in exc.errors():
        key = ".".join(str(x) for x in err["loc"])
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(err["loc"][-1]), _fields_at(err["loc"]), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            lines.append(f"  - unknown key '{key}'{hint}")
        elif err["type"] == "string_type" and isinstance(err.get("input"), int | float) \
                and not isinstance(err.get("input"), bool):
            if numbers is None:
                numbers = _number_texts(texts)
            value = err["input"]
            written = numbers.get(value, str(value))
            how = (f"{written} was read as the number {value!r}" + (
                " (YAML reads an unquoted number with a leading 0 as octal)"
                if written != str(value) and written.lstrip("+-").startswith("0") else ""))
            lines.append(f"  - '{key}': {how}; quote ids and other text: ['{written}']")
        else:
            lines.append(f"  - '{key}': {err['msg']} (got {err.get('input')!r})")
    return "\n".join(lines)


#: inputs whose mapping accepts only their canonical names (the others also pass further
#: columns through under the names given: enrichment fields for hypotheses)
CLOSED_INPUTS = ("tickets", "usage", "worksheet")


def canonical_names(role: str) -> tuple[str, ...]:
    """The canonical column names a mapping of input ``role`` (a field of :class:`Inputs`)
    expects: the account columns of the presets for the account list and the enrichment
    sources, the deal / subscription columns of their presets, the scanned columns for tickets
    and usage; none for the worksheet (its columns are fixed).

    Parameters
    ----------
    role
        The input (``accounts``, ``tickets``, ``deals`` ...).

    Returns
    -------
    tuple of str
        The canonical names, in preset order.
    """
    if role in ("tickets", "usage"):
        from helpers.collect import (
            sources,  # imports DuckDB: only when a ticket / usage mapping is checked
        )

        return sources.TICKET_COLUMNS if role == "tickets" else sources.USAGE_COLUMNS
    if role == "worksheet":
        return ()
    if role in ("deals", "subscriptions"):  # their own presets: presets/<role>_<crm>.yaml
        from helpers.setup.deals import PRESET_DIR
        from helpers.setup.deals import load_preset as records_preset

        return tuple(dict.fromkeys(
            k for f in sorted(PRESET_DIR.glob(f"{role}_*.yaml"))
            for k in records_preset(role, f.stem.removeprefix(f"{role}_"))))
    from helpers.core.io import PRESETS, load_preset  # the reader module imports this one

    names = dict.fromkeys(k for name in PRESETS for k in load_preset(name))
    return tuple(names)


def mapping_problems(params: Params) -> list[str]:
    """Mapping keys that are not canonical names: a key close to a canonical name is a typo
    (``curency`` -> did you mean 'currency'; unnoticed, the file's currency column would not be
    read and every amount taken in the base currency), and a closed input accepts no other
    key. One line per problem.

    Parameters
    ----------
    params
        Validated parameters.

    Returns
    -------
    list of str
        The problems (empty when every mapping key is fine).
    """
    out: list[str] = []
    for role in Inputs.model_fields:
        src = getattr(params.inputs, role)
        if not isinstance(src, Source) or not src.mapping:
            continue
        names = canonical_names(role)
        for key in src.mapping:
            if key in names:
                continue
            close = difflib.get_close_matches(key, names, n=1, cutoff=0.8)
            where = f"inputs.{role}.mapping.{key}"
            if close:
                out.append(f"  - '{where}': '{key}' is not a canonical column name (did you "
                           f"mean '{close[0]}'?)")
            elif role == "worksheet":
                out.append(f"  - '{where}': the collection worksheet has fixed columns; "
                           "remove its mapping")
            elif role in CLOSED_INPUTS:
                out.append(f"  - '{where}': '{key}' is not a column the workbook reads from "
                           f"{role} (canonical names: {', '.join(names)})")
    return out


def _validated(raw: dict[str, Any], where: str | Path, texts: list[str], *,
               check_mappings: bool) -> Params:
    """``raw`` validated as :class:`Params`; every problem named in one ParameterError."""
    try:
        params = Params.model_validate(raw)
    except ValidationError as exc:
        raise ParameterError(_format_errors(where, exc, texts)) from None
    problems = mapping_problems(params) if check_mappings else []
    if problems:
        raise ParameterError(f"{where}: {len(problems)} problem(s) in the parameters\n"
                             + "\n".join(problems))
    return params


def load(path: str | Path, *, check_mappings: bool = True) -> Params:
    """Read, merge and validate a parameter file.

    Parameters
    ----------
    path
        The parameter file (relative paths start at the project root); it may ``extends``
        another.
    check_mappings
        Also check that every input mapping key is a canonical column name.

    Returns
    -------
    Params
        The validated, read-only parameters.

    Raises
    ------
    ParameterError
        Naming every bad key (with a plain hint for YAML pitfalls: tabs, unquoted ids read as
        numbers, impossible dates) and every mapping key that is not a canonical name.
    """
    p = resolve(path)
    raw, texts = _read_chain(p)
    return _validated(raw, p, texts, check_mappings=check_mappings)


OVERRIDES = "parameter overrides"


def _set_dotted(data: dict[str, Any], key: object, value: Any) -> None:
    """Set ``data[a][b][c] = value`` for the dotted key ``a.b.c`` (a mapping value is merged
    into the section it names, as a child parameter file is); a missing or null section on
    the way is created, so the validation names an unknown key in full."""
    parts = key.split(".") if isinstance(key, str) else []
    if not parts or not all(part.strip() == part and part for part in parts):
        raise ParameterError(f"{OVERRIDES}: {key!r} is not a dotted parameter key (write e.g. "
                             "'analysis.tree.forced_root')")
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            raise ParameterError(f"{OVERRIDES}: '{key}': '{'.'.join(parts[:i + 1])}' is a "
                                 f"value ({child!r}), not a section with keys")
        node = child
    last = parts[-1]
    if isinstance(value, Mapping) and isinstance(node.get(last), dict):
        node[last] = _deep_merge(node[last], dict(value))
    else:
        node[last] = value


def with_overrides(params: Params, overrides: Mapping[str, Any]) -> Params:
    """New parameters: ``params`` with ``overrides`` applied, validated like a parameter file.

    Parameters
    ----------
    params
        Validated parameters (left unchanged).
    overrides
        Dotted key -> value, e.g. ``{"analysis.tree.forced_root": "industry"}``; a mapping
        value is merged into the section it names.

    Returns
    -------
    Params
        The new, read-only parameters (``params`` itself when ``overrides`` is empty).

    Raises
    ------
    ParameterError
        Naming each dotted key that is unknown (with the closest valid one) or whose value
        fails validation (wrong type, out of range), exactly as for the parameter file.
    """
    if not isinstance(overrides, Mapping):
        raise ParameterError(f"{OVERRIDES} must be a mapping of dotted keys to values, e.g. "
                             "{'analysis.tree.forced_root': 'industry'}; got "
                             f"{type(overrides).__name__}")
    if not overrides:
        return params
    data = params.model_dump()
    for key, value in overrides.items():
        _set_dotted(data, key, value)
    # only an input's mapping can fail the mapping check, which ``params`` has passed
    touches_inputs = any(str(key).split(".")[0] == "inputs" for key in overrides)
    return _validated(data, OVERRIDES, [], check_mappings=touches_inputs)


def effective(params: Params) -> dict[str, Any]:
    """The full effective parameters as plain JSON-able data (written beside every run).

    Parameters
    ----------
    params
        The parameters.

    Returns
    -------
    dict
        Every parameter, defaults included (dates as ISO text, tuples as lists).
    """
    return json.loads(params.model_dump_json())


def params_hash(params: Params) -> str:
    """SHA-256 of the effective parameters (stable key order).

    Parameters
    ----------
    params
        The parameters.

    Returns
    -------
    str
        The hex digest of :func:`effective` as sorted-key JSON.
    """
    blob = json.dumps(effective(params), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()

"""Random data rooms with known truths, for the calibration study (``workbook calibrate``).

Separate from the demo (``helpers.synthetic.demo``), which is one realistic room the tests know
by heart: a factory room is drawn at random from a seed, so the workbook meets column names,
label conventions and effects it was never shown. A room is ONE accounts export (CSV) carrying
the hypothesis columns, a hypothesis register (YAML) and a parameter file (YAML), plus its
truth.

How a room is drawn (all from ``numpy.random.default_rng(seed)``)
----------------------------------------------------------------
- **Columns**: a preset (salesforce / hubspot / generic) with either the preset's own column
  names or random names mapped explicitly in the parameter file; hypothesis columns get random
  names in random styles ("Seat Count", "seat_count", "SEAT COUNT"), never a name a preset maps.
- **Hypotheses** (numeric / categorical / boolean): 2-4 planted effects with random signs and
  sizes, 2-4 null columns (no effect), 0-2 nuisance columns (correlated with a planted numeric
  variable, no effect of their own) and, in most rooms, one interaction: a numeric variable
  whose effect exists only inside one category of a categorical / boolean variable (which has
  a main effect of its own). Categorical and boolean hypotheses name a ``positive_category``
  (for booleans the file's own label, e.g. "Y", "FALSE" or "1.0"). About one planted
  hypothesis in five is registered in the wrong direction (the analyst's belief is wrong: the
  right verdict is "rejected", and validating it is a wrong-sign validation).
- **Labels**: booleans as Yes/No, Y/N, TRUE/FALSE, true/false, 1/0 or 1.0/0.0; categories with
  spaces in their names and, in some rooms, case / padding variants ("annual", " Annual").
- **The effect acts on the quality score**: a latent quality ``q = sum of effects + N(0, 1)``
  drives MRR (log-normal, ``0.6 q``), churn (``P(former) = sigmoid(-1.2 - 0.6 q)``) and MRR
  growth, i.e. every input of the workbook's default score (ACV, growth bonus, churn penalty).
- **Warts**: test / proof-of-concept accounts (``Type``), one MRR outlier (8x the next
  largest), accounts won in the last 80 days (too new), blanks in every hypothesis column
  and in MRR 12 months ago, mixed currencies in some rooms, US dates in some rooms.

The truth (:class:`RoomTruth`) holds, per hypothesis, its status (planted / null /
nuisance), its true sign, the stated (register) direction and its Cliff's delta on the same
scale as the workbook's effect (numeric: the variable in the best score quartile vs the worst;
categorical / boolean: the score of ``positive_category`` vs the rest), both realised (this
room's kept accounts, scored with the default score formula) and population (a 20,000-account
draw of the same model without warts).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

AS_OF = dt.date(2026, 9, 30)
PRESETS = ("salesforce", "hubspot", "generic")
BOOL_CONVENTIONS: dict[str, tuple[str, str]] = {
    "Yes/No": ("Yes", "No"), "Y/N": ("Y", "N"), "TRUE/FALSE": ("TRUE", "FALSE"),
    "true/false": ("true", "false"), "1/0": ("1", "0"), "1.0/0.0": ("1.0", "0.0"),
}
RATES = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}  # USD per unit
POPULATION = 20_000  # accounts drawn for the population delta

# canonical account columns: preset names, and random names used with an explicit mapping
_PRESET_NAMES = {
    "salesforce": {"account_id": "Account ID", "account_name": "Account Name",
                   "account_type": "Type", "start_date": "Customer Since",
                   "churn_date": "Churn Date", "mrr": "MRR", "currency": "Currency",
                   "mrr_prev": "MRR 12 Months Ago"},
    "hubspot": {"account_id": "Record ID", "account_name": "Company name",
                "account_type": "Type", "start_date": "Became a Customer Date",
                "churn_date": "Churn Date", "mrr": "Monthly Recurring Revenue",
                "currency": "Company Currency", "mrr_prev": "Previous MRR"},
    "generic": {"account_id": "account_id", "account_name": "account_name",
                "account_type": "account_type", "start_date": "start_date",
                "churn_date": "churn_date", "mrr": "mrr", "currency": "currency",
                "mrr_prev": "mrr_prev"},
}
_RANDOM_NAMES = {
    "account_id": ["Cust Ref", "Client No", "Acct Key", "Customer Code"],
    "account_name": ["Client", "Organisation", "Legal Entity", "Customer Title"],
    "account_type": ["Acct Kind", "Relationship", "Client Category"],
    "start_date": ["Signed On", "Contract Start", "First Invoice", "Go Live"],
    "churn_date": ["Cancelled On", "Offboarded", "Last Day"],
    "mrr": ["Monthly Fee", "Recurring Monthly", "Subscription Value (mo)"],
    "currency": ["Ccy", "Billing Currency Code"],
    "mrr_prev": ["Monthly Fee Prior Year", "Recurring Monthly LY"],
}
_NUMERIC_NAMES = ["Seat Count", "Integrations Enabled", "NPS Score", "Onboarding Days",
                  "Ad Spend", "Engineering Headcount", "Office Locations", "Web Visits",
                  "Contract Months", "Discount Percent", "Data Volume GB", "Admin Logins",
                  "Partner Referrals", "Training Hours", "Warehouse Count", "Fleet Size"]
_BOOLEAN_NAMES = ["Annual Billing", "Uses SSO", "Partner Sourced", "Has API Access",
                  "Attended Webinar", "Publicly Listed", "Multi Entity", "Signed DPA",
                  "Champion Identified", "Executive Sponsor"]
_CATEGORIES = {
    "Plan Tier": ["Starter", "Growth Plus", "Enterprise"],
    "Billing Cycle": ["Monthly", "Annual", "Two Year"],
    "Acquisition Channel": ["Partner", "Direct Sales", "Marketplace", "Inbound"],
    "Sales Region": ["North America", "EMEA", "APAC"],
    "Company Segment": ["SMB", "Mid Market", "Large Enterprise"],
    "Onboarding Type": ["Self Serve", "Guided", "White Glove"],
    "Deployment": ["Cloud", "Hybrid", "On Premise"],
}
_LENSES = ["firmographic", "demographic", "geographic", "psychographic", "technographic",
           "value-based"]
_RESERVED = {"account_id", "account_name", "name_key", "domain", "account_type", "is_test",
             "start_date", "churn_date", "status", "mrr", "mrr_local", "currency", "mrr_prev",
             "arr", "industry", "country", "employees", "owner", "success_hours",
             "acquisition_cost", "score", "quartile", "group", "acv", "tickets"}


@dataclass(frozen=True)
class HypothesisTruth:
    """What is true of one hypothesis of a room."""

    id: str
    variable: str  # the register's variable (analysis_table column)
    column: str  # the export's column
    kind: str  # numeric | categorical | boolean
    status: str  # planted | null | nuisance
    true_sign: str  # "+" / "-" for planted (towards positive_category), "" otherwise
    stated_direction: str  # the register's direction
    positive_category: str | None  # as written in the register
    true_label: str | None  # booleans: the file's label for True
    delta_population: float
    delta_realised: float
    beta: float = 0.0  # effect on the latent quality (sd units); 0 for null / nuisance
    interaction_with: str | None = None  # planted numeric: the variable it interacts with
    correlated_with: str | None = None  # nuisance: the planted variable it shadows
    label_convention: str | None = None


@dataclass(frozen=True)
class RoomTruth:
    """The truth of a room: per hypothesis, the interaction and the warts."""

    seed: int
    n_accounts: int
    preset: str
    random_names: bool
    hypotheses: tuple[HypothesisTruth, ...]
    interaction: tuple[str, str] | None  # (numeric variable, categorical/boolean variable)
    interaction_category: str | None
    warts: dict[str, Any] = field(default_factory=dict)

    def by_variable(self) -> dict[str, HypothesisTruth]:
        """variable -> truth.

        Returns
        -------
        dict
            Variable -> its :class:`HypothesisTruth`.
        """
        return {h.variable: h for h in self.hypotheses}

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able).

        Returns
        -------
        dict
            The truth as plain data.
        """
        return asdict(self)


@dataclass
class Room:
    """A generated data room: the export, the register, the parameters and the truth."""

    name: str
    accounts: pd.DataFrame  # every cell as text, as written to the CSV
    register: list[dict[str, Any]]
    params: dict[str, Any]
    truth: RoomTruth


# --------------------------------------------------------------------------- helpers
def cliffs_delta(x: np.ndarray, y: np.ndarray) -> float:
    """Cliff's delta P(X > Y) - P(X < Y), counting by binary search in sorted y (O(n log n)).

    Parameters
    ----------
    x, y
        The two samples.

    Returns
    -------
    float
        The delta in [-1, 1] (NaN when a sample is empty).
    """
    x, y = np.asarray(x, float), np.sort(np.asarray(y, float))
    if not len(x) or not len(y):
        return float("nan")
    below = np.searchsorted(y, x, side="left")
    above = len(y) - np.searchsorted(y, x, side="right")
    return float((below.sum() - above.sum()) / (len(x) * len(y)))


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", name.casefold())


def _preset_keys() -> set[str]:
    from helpers.core.io import load_preset

    keys: set[str] = set()
    for preset in PRESETS:
        for canonical, names in load_preset(preset).items():
            keys |= {_key(canonical), *(_key(n) for n in names)}
    return keys


def _styled(rng: np.random.Generator, name: str) -> str:
    style = int(rng.integers(0, 4))
    if style == 1:
        return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")
    if style == 2:
        return name.upper()
    if style == 3:
        return name.replace(" ", "")
    return name


def _slug(name: str) -> str:
    slug = re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")
    return f"h_{slug}" if slug in _RESERVED else slug


def default_score(mrr: np.ndarray, prev: np.ndarray, former: np.ndarray) -> np.ndarray:
    """The workbook's default quality score for an export with MRR, MRR 12 months ago and a
    churn date only (``params.Score`` defaults: ACV + 0.5 x ACV x growth (capped at 100 %)
    - 5,000 if former; no tickets, success hours, acquisition cost or employees).

    Parameters
    ----------
    mrr
        MRR at as_of.
    prev
        MRR 12 months before.
    former
        Whether each account is a former customer.

    Returns
    -------
    ndarray
        The score of each account.
    """
    from helpers.core.params import Score

    w = Score()
    acv = 12.0 * mrr
    ok = np.isfinite(prev) & (prev > 0)
    growth = np.where(ok, mrr / np.where(ok, prev, 1.0) - 1.0, 0.0)
    growth = np.clip(growth, -w.growth_cap, w.growth_cap)
    return (w.acv_weight * acv + w.growth_bonus_weight * acv * growth
            - np.where(former, w.churn_penalty, 0.0))


def effect_delta(kind: str, values: pd.Series, score: np.ndarray,
                 positive: str | None = None) -> float:
    """Cliff's delta on the workbook's scale: numeric = the variable in the best score quartile
    vs the worst; categorical / boolean = the score of ``positive`` (a canonical label, or True)
    vs the rest. Missing values are left out.

    Parameters
    ----------
    kind
        ``numeric``, ``categorical`` or ``boolean``.
    values
        The variable's values.
    score
        The quality score, same order.
    positive
        The category the effect is about (categorical / boolean).

    Returns
    -------
    float
        Cliff's delta.
    """
    ok = values.notna().to_numpy()
    if kind == "numeric":  # quartiles of every account (as the workbook cuts them)
        n = len(score)
        rank = np.empty(n, dtype=np.int64)
        rank[np.argsort(-score, kind="stable")] = np.arange(n)
        bucket = rank * 4 // max(n, 1)
        x = values.to_numpy(float)
        return cliffs_delta(x[ok & (bucket == 0)], x[ok & (bucket == 3)])
    m = (values[ok] == positive).to_numpy(bool)
    return cliffs_delta(score[ok][m], score[ok][~m])


# --------------------------------------------------------------------------- the model
@dataclass
class _Var:
    kind: str
    name: str  # file column
    variable: str
    status: str
    beta: float = 0.0
    categories: list[str] = field(default_factory=list)
    probs: list[float] = field(default_factory=list)
    positive: str | None = None  # canonical category (categorical) / None (boolean)
    dist: str = "normal"
    shape: str = "linear"
    correlated_with: str | None = None
    rho: float = 0.0
    convention: str | None = None
    p_true: float = 0.5
    interaction_with: str | None = None
    blank_share: float = 0.0


def _design(rng: np.random.Generator) -> tuple[list[_Var], tuple[str, str, str, float] | None]:
    """Draw the hypothesis variables of a room and its interaction."""
    pk = _preset_keys()
    used: set[str] = set()

    def name_from(pool: list[str]) -> str:
        while True:
            name = _styled(rng, str(rng.choice(pool)))
            if _key(name) not in pk and _key(name) not in used:
                used.add(_key(name))
                return name

    def numeric(status: str) -> _Var:
        name = name_from(_NUMERIC_NAMES)
        return _Var("numeric", name, _slug(name), status,
                    dist=str(rng.choice(["normal", "lognormal", "count", "scale"])),
                    shape=str(rng.choice(["linear", "linear", "step"])),
                    blank_share=float(rng.uniform(0.0, 0.08)))

    def boolean(status: str) -> _Var:
        name = name_from(_BOOLEAN_NAMES)
        return _Var("boolean", name, _slug(name), status,
                    convention=str(rng.choice(list(BOOL_CONVENTIONS))),
                    p_true=float(rng.uniform(0.3, 0.7)), blank_share=float(rng.uniform(0, 0.08)))

    def categorical(status: str) -> _Var:
        pool = [n for n in _CATEGORIES if _key(n) not in used]
        if not pool:
            return boolean(status)
        base = str(rng.choice(pool))
        name = _styled(rng, base)
        used.add(_key(name))
        used.add(_key(base))
        cats = list(_CATEGORIES[base])
        p = rng.dirichlet(np.full(len(cats), 6.0))
        return _Var("categorical", name, _slug(name), status, categories=cats,
                    probs=list(p), positive=cats[int(np.argmax(p))] if rng.random() < 0.5
                    else str(rng.choice(cats)), blank_share=float(rng.uniform(0, 0.08)))

    makers = {"numeric": numeric, "boolean": boolean, "categorical": categorical}
    out: list[_Var] = []
    for _ in range(int(rng.integers(2, 5))):
        kind = str(rng.choice(["numeric", "numeric", "boolean", "categorical"]))
        v = makers[kind]("planted")
        v.beta = float(rng.choice([-1, 1]) * rng.uniform(0.05, 0.9))
        out.append(v)
    for _ in range(int(rng.integers(2, 5))):
        out.append(makers[str(rng.choice(["numeric", "boolean", "categorical"]))]("null"))
    planted_num = [v for v in out if v.status == "planted" and v.kind == "numeric"]
    for _ in range(int(rng.integers(0, 3)) if planted_num else 0):
        v = numeric("nuisance")
        src = planted_num[int(rng.integers(0, len(planted_num)))]
        v.correlated_with, v.rho, v.dist = src.variable, float(rng.uniform(0.4, 0.8)), "normal"
        out.append(v)
    interaction = None
    if rng.random() < 0.8:
        by, x, interaction = _interaction(rng, makers)
        out += [by, x]
    order = rng.permutation(len(out))
    return [out[i] for i in order], interaction


def _interaction(rng: np.random.Generator, makers: dict[str, Callable[[str], _Var]]
                 ) -> tuple[_Var, _Var, tuple[str, str, str, float]]:
    """A planted categorical / boolean variable ``by`` and a planted numeric ``x`` whose effect
    acts only inside one category of ``by``: (by, x, (x, by, inside category, beta inside))."""
    by = makers[str(rng.choice(["boolean", "categorical"]))]("planted")
    by.beta = float(rng.choice([-1, 1]) * rng.uniform(0.2, 0.6))
    x = makers["numeric"]("planted")
    x.dist, x.shape = "normal", "linear"
    inside = by.positive if by.kind == "categorical" else "true"
    beta_in = float(rng.choice([-1, 1]) * rng.uniform(0.6, 1.2))
    x.interaction_with, x.beta = by.variable, beta_in
    return by, x, (x.variable, by.variable, inside, beta_in)


def _draw_values(rng: np.random.Generator, var: _Var, n: int,
                 z_of: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(values, standardised feature z) of one variable for n accounts."""
    if var.kind == "numeric":
        if var.correlated_with:
            z = var.rho * z_of[var.correlated_with] + np.sqrt(1 - var.rho ** 2) * \
                rng.standard_normal(n)
        else:
            z = rng.standard_normal(n)
        if var.dist == "lognormal":
            vals = np.round(np.exp(3.0 + 1.1 * z), 0)
        elif var.dist == "count":
            vals = np.round(np.exp(1.2 + 0.6 * z)).astype(float)  # monotone in z
        elif var.dist == "scale":
            vals = np.clip(np.round(3 + 1.1 * z), 1, 5)
        else:
            vals = np.round(50 + 12 * z, 1)
        feat = (z > 0.5).astype(float) * 2 - 0.6 if var.shape == "step" else z
        return vals, feat
    if var.kind == "boolean":
        b = rng.random(n) < var.p_true
        return b, b.astype(float) - var.p_true
    idx = rng.choice(len(var.categories), size=n, p=np.asarray(var.probs) / sum(var.probs))
    cats = np.asarray(var.categories, dtype=object)[idx]
    is_pos = (cats == var.positive).astype(float)
    return cats, is_pos - is_pos.mean()


def _latent(rng: np.random.Generator, design: list[_Var],
            interaction: tuple[str, str, str, float] | None, n: int
            ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Values of every variable and the latent quality q for n accounts."""
    values: dict[str, np.ndarray] = {}
    z_of: dict[str, np.ndarray] = {}
    for var in sorted(design, key=lambda v: v.correlated_with is not None):
        values[var.variable], z_of[var.variable] = _draw_values(rng, var, n, z_of)
    q = rng.standard_normal(n)
    for var in design:
        if var.status == "planted" and var.interaction_with is None:
            q = q + var.beta * z_of[var.variable]
    if interaction is not None:
        xv, byv, inside, beta_in = interaction
        by = next(v for v in design if v.variable == byv)
        inside_mask = (values[byv] == inside) if by.kind == "categorical" else values[byv]
        q = q + beta_in * z_of[xv] * inside_mask.astype(float)
    return values, q


def _outcomes(rng: np.random.Generator, q: np.ndarray, start_days: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(MRR in USD, MRR 12 months ago in USD or NaN, former flag) from q."""
    n = len(q)
    mrr = np.round(np.exp(np.log(450) + 0.6 * q + 0.5 * rng.standard_normal(n)), 2)
    former = rng.random(n) < 1 / (1 + np.exp(1.2 + 0.6 * q))
    g = 0.05 + 0.12 * q + 0.2 * rng.standard_normal(n)
    prev = np.round(mrr / np.exp(g), 2)
    prev = np.where(start_days <= -365, prev, np.nan)
    return mrr, prev, former


def _population_deltas(seed: int, design: list[_Var],
                       interaction: tuple[str, str, str, float] | None) -> dict[str, float]:
    """Cliff's delta of every hypothesis on a large draw of the same model, no warts."""
    rng = np.random.default_rng([seed, 1])
    values, q = _latent(rng, design, interaction, POPULATION)
    mrr, prev, former = _outcomes(rng, q, np.full(POPULATION, -800))
    score = default_score(mrr, prev, former)
    return {v.variable: effect_delta(v.kind, pd.Series(values[v.variable]), score,
                                     True if v.kind == "boolean" else v.positive)
            for v in design}


# --------------------------------------------------------------------------- the room
def generate_room(seed: int, n_accounts: int = 1500, name: str | None = None) -> Room:
    """Draw a random data room of ``n_accounts`` accounts (warts included) from ``seed``.

    The parts are drawn from one generator in a fixed order (design, layout, accounts, export,
    register); the population deltas use their own generator. Changing the order changes
    every room.

    Parameters
    ----------
    seed
        The room's seed (same seed, same room).
    n_accounts
        Rows of the export.
    name
        The room's name (None: from the seed).

    Returns
    -------
    Room
        The files, the parameters and the planted truth.
    """
    if n_accounts < 100:
        raise ValueError("a factory room needs at least 100 accounts")
    rng = np.random.default_rng(seed)
    name = name or f"room-{seed}"
    design, interaction = _design(rng)
    layout = _layout(rng)
    accts = _accounts(rng, design, interaction, n_accounts, layout.has_prev)
    accounts, ids, truth_values = _export(rng, layout, design, accts)
    # truth on the kept accounts
    kept = accts.role == "regular"
    score = default_score(accts.mrr, accts.prev, accts.former)
    realised = {v.variable: effect_delta(v.kind, truth_values[v.variable][kept].reset_index(
        drop=True), score[kept], True if v.kind == "boolean" else v.positive) for v in design}
    population = _population_deltas(seed, design, interaction)
    register, truths = _register(rng, design, population, realised)
    inter = (interaction[0], interaction[1]) if interaction else None
    truth = RoomTruth(seed=seed, n_accounts=n_accounts, preset=layout.preset,
                      random_names=layout.random_names, hypotheses=tuple(truths),
                      interaction=inter, interaction_category=_inside_label(design, interaction),
                      warts=_warts(accts, ids, accounts, design, layout))
    return Room(name=name, accounts=accounts, register=register,
                params=_room_params(name, seed, layout, accounts, inter), truth=truth)


@dataclass(frozen=True)
class _Layout:
    """How a room's export looks: its preset, column names and conventions."""

    preset: str
    random_names: bool
    cols: dict[str, str]  # canonical column -> the export's name
    mapping: dict[str, str]  # the explicit mapping of the parameter file (random names only)
    multi_currency: bool
    us_dates: bool
    has_prev: bool
    case_variants: bool


def _layout(rng: np.random.Generator) -> _Layout:
    """Draw the preset, the column names and the conventions of a room's export."""
    preset = str(rng.choice(PRESETS))
    random_names = bool(rng.random() < 0.5)
    cols = dict(_PRESET_NAMES[preset])
    mapping: dict[str, str] = {}
    if random_names:
        for canonical, pool in _RANDOM_NAMES.items():
            cols[canonical] = str(rng.choice(pool))
            mapping[canonical] = cols[canonical]
    multi_currency = bool(rng.random() < 0.3)
    us_dates = bool(rng.random() < 0.3)
    has_prev = bool(rng.random() < 0.7)
    case_variants = bool(rng.random() < 0.5)
    return _Layout(preset=preset, random_names=random_names, cols=cols, mapping=mapping,
                   multi_currency=multi_currency, us_dates=us_dates, has_prev=has_prev,
                   case_variants=case_variants)


@dataclass(frozen=True)
class _Accounts:
    """A room's accounts before they are written: values, roles, dates and MRR in USD."""

    values: dict[str, np.ndarray]  # variable -> its true values
    role: np.ndarray  # regular | test | new | outlier
    start: np.ndarray  # days relative to as_of
    churn: np.ndarray  # days relative to as_of (0 unless former)
    mrr: np.ndarray
    prev: np.ndarray  # MRR 12 months ago (NaN when unknown)
    former: np.ndarray
    outlier: int  # row of the MRR outlier


def _accounts(rng: np.random.Generator, design: list[_Var],
              interaction: tuple[str, str, str, float] | None, n: int,
              has_prev: bool) -> _Accounts:
    """Warts first decided, then the latent model for everyone, then the wart values."""
    n_test = max(2, int(round(0.01 * n)))
    n_new = max(3, int(round(0.03 * n)))
    values, q = _latent(rng, design, interaction, n)
    start = -rng.integers(120, 6 * 365, n)  # days relative to as_of
    role = np.array(["regular"] * n, dtype=object)
    picks = rng.permutation(n)
    role[picks[:n_test]] = "test"
    role[picks[n_test:n_test + n_new]] = "new"
    role[picks[n_test + n_new]] = "outlier"
    start = np.where(role == "new", -rng.integers(5, 81, n), start)
    mrr, prev, former = _outcomes(rng, q, start)
    former &= role == "regular"
    churn = np.where(former, start + ((-start - 1) * rng.random(n)).astype(int) + 1, 0)
    prev = np.where(start <= -365, prev, np.nan) if has_prev else np.full(n, np.nan)
    mrr = np.where(role == "test", np.where(rng.random(n) < 0.5, 0.0, 49.0), mrr)
    out_i = int(np.flatnonzero(role == "outlier")[0])
    mrr[out_i] = round(8.0 * float(mrr[role != "outlier"].max()), 2)
    prev[out_i] = np.nan if not has_prev else round(mrr[out_i] / 1.1, 2)
    return _Accounts(values=values, role=role, start=start, churn=churn, mrr=mrr, prev=prev,
                     former=former, outlier=out_i)


def _date_text(days: np.ndarray, blank: np.ndarray, fmt: str) -> list[str]:
    """Dates ``days`` after as_of in ``fmt``; blank rows become empty strings."""
    as_of = np.datetime64(AS_OF.isoformat())
    d = pd.to_datetime(as_of + days.astype("timedelta64[D]")).strftime(fmt)
    return ["" if b else s for s, b in zip(d, blank, strict=True)]


def _hypothesis_text(rng: np.random.Generator, var: _Var, raw: np.ndarray,
                     case_variants: bool) -> tuple[np.ndarray, pd.Series]:
    """(the export's text, the true values with blanks as missing) of one hypothesis column."""
    n = len(raw)
    blank = rng.random(n) < var.blank_share
    if var.kind == "numeric":
        text = np.array([str(int(v)) if float(v).is_integer() else f"{v:.1f}"
                         for v in raw], dtype=object)
        truth = pd.Series(np.where(blank, np.nan, raw))
    elif var.kind == "boolean":
        yes, no = BOOL_CONVENTIONS[var.convention or "Yes/No"]
        text = np.where(raw, yes, no).astype(object)
        truth = pd.Series(raw).where(~blank)
    else:
        text = raw.astype(object).copy()
        if case_variants:
            k = rng.random(n) < 0.05
            variant = rng.integers(0, 3, n)
            for i in np.flatnonzero(k):
                c = str(text[i])
                text[i] = (c.lower(), c.upper(), f" {c} ")[int(variant[i])]
        truth = pd.Series(raw).where(~blank)
    text[blank] = ""
    return text, truth


def _export(rng: np.random.Generator, layout: _Layout, design: list[_Var],
            accts: _Accounts) -> tuple[pd.DataFrame, np.ndarray, dict[str, pd.Series]]:
    """(the accounts export as text, shuffled; the account IDs; variable -> true values)."""
    n, cols = len(accts.role), layout.cols
    currency = np.where(rng.random(n) < (0.35 if layout.multi_currency else 0.0),
                        rng.choice(["EUR", "GBP"], n), "USD")
    rate = np.vectorize(RATES.get)(currency).astype(float)
    ids = np.char.add("ACC-", np.char.zfill(rng.choice(10 ** 6, n, replace=False).astype(str), 6))
    fmt = "%m/%d/%Y" if layout.us_dates else "%Y-%m-%d"
    role, former = accts.role, accts.former
    acc: dict[str, Any] = {
        cols["account_id"]: ids,
        cols["account_name"]: [f"Company {i:05d}" for i in rng.permutation(n)],
        cols["account_type"]: np.where(role == "test", rng.choice(["Test", "Proof of Concept"], n),
                                       np.where(former, "Former Customer", "Customer")),
        cols["start_date"]: _date_text(accts.start, np.zeros(n, bool), fmt),
        cols["churn_date"]: _date_text(accts.churn, ~former, fmt),
        cols["mrr"]: [f"{v:.2f}" for v in accts.mrr / rate],
    }
    if layout.multi_currency:
        acc[cols["currency"]] = currency
    if layout.has_prev:
        acc[cols["mrr_prev"]] = ["" if np.isnan(v) else f"{v:.2f}" for v in accts.prev / rate]
    truth_values: dict[str, pd.Series] = {}
    for var in design:
        acc[var.name], truth_values[var.variable] = _hypothesis_text(
            rng, var, accts.values[var.variable], layout.case_variants)
    accounts = pd.DataFrame(acc).astype(str)
    order = rng.permutation(n)
    return accounts.iloc[order].reset_index(drop=True), ids, truth_values


def _register(rng: np.random.Generator, design: list[_Var], population: dict[str, float],
              realised: dict[str, float]) -> tuple[list[dict[str, Any]], list[HypothesisTruth]]:
    """The hypothesis register (about one planted hypothesis in five stated the wrong way)
    and the truth of each hypothesis."""
    register: list[dict[str, Any]] = []
    truths: list[HypothesisTruth] = []
    for i, var in enumerate(design, start=1):
        hid = f"H{i:02d}"
        pop, real = population[var.variable], realised[var.variable]
        if var.status == "planted":
            true_sign = "+" if pop > 0 else "-"
            stated = true_sign if rng.random() < 0.8 else ("-" if true_sign == "+" else "+")
        else:
            true_sign, stated = "", str(rng.choice(["+", "-"]))
        positive, true_label = None, None
        if var.kind == "categorical":
            positive = var.positive
        elif var.kind == "boolean":
            yes, no = BOOL_CONVENTIONS[var.convention or "Yes/No"]
            true_label = yes
            if rng.random() < 0.3:  # "accounts WITHOUT x are ...": name the false label
                positive = no
                stated = "-" if stated == "+" else "+"
                true_sign = {"+": "-", "-": "+", "": ""}[true_sign]
                pop, real = -pop, -real
            else:
                positive = yes
        register.append(_register_entry(rng, hid, var, stated, positive))
        truths.append(HypothesisTruth(
            id=hid, variable=var.variable, column=var.name, kind=var.kind, status=var.status,
            true_sign=true_sign, stated_direction=stated, positive_category=positive,
            true_label=true_label, delta_population=round(float(pop), 4),
            delta_realised=round(float(real), 4), beta=round(var.beta, 4),
            interaction_with=var.interaction_with, correlated_with=var.correlated_with,
            label_convention=var.convention))
    return register, truths


def _register_entry(rng: np.random.Generator, hid: str, var: _Var, stated: str,
                    positive: str | None) -> dict[str, Any]:
    """One register entry (its lens drawn at random)."""
    entry = {
        "id": hid,
        "statement": _statement(var, stated, positive),
        "direction": stated,
        "lens": str(rng.choice(_LENSES)),
        "variable": var.variable,
        "kind": var.kind,
        "measure": {"column": var.name},
        "source": "accounts export",
        "collection": "internal system",
        "cost": {"effort": 1},
        "expected_coverage": 0.9,
        "data_quality": 4,
        "actionability": 4,
    }
    if positive is not None:
        entry["positive_category"] = positive
    return entry


def _room_params(name: str, seed: int, layout: _Layout, accounts: pd.DataFrame,
                 inter: tuple[str, str] | None) -> dict[str, Any]:
    """The room's parameter file (as plain data)."""
    source: dict[str, Any] = {"path": f"data/raw/{name}/accounts.csv", "preset": layout.preset}
    if layout.mapping:
        source["mapping"] = {k: v for k, v in layout.mapping.items() if v in accounts.columns}
    if layout.us_dates:
        source["date_format"] = "%m/%d/%Y"
    return {
        "as_of": AS_OF.isoformat(),
        "seed": int(seed % 2 ** 31),
        "charter": {"project": f"Calibration room {name}"},
        "inputs": {"accounts": source},
        "currency": {"base": "USD",
                     "rates": dict(RATES) if layout.multi_currency else {"USD": 1.0}},
        "hypotheses": {"register_file": f"params/hypotheses/{name}.yaml"},
        "analysis": {"regression": {"split_by": inter[1] if inter else None}},
    }


def _warts(accts: _Accounts, ids: np.ndarray, accounts: pd.DataFrame, design: list[_Var],
           layout: _Layout) -> dict[str, Any]:
    """The warts of a room, for its truth."""
    role = accts.role
    return {
        "test_accounts": sorted(ids[role == "test"].tolist()),
        "too_new": sorted(ids[role == "new"].tolist()),
        "outlier": str(ids[accts.outlier]),
        "former": int(accts.former.sum()),
        "blank_cells": int(sum(int((accounts[v.name] == "").sum()) for v in design)),
        "kept": int((role == "regular").sum()),
        "multi_currency": layout.multi_currency, "us_dates": layout.us_dates,
        "mrr_prev": layout.has_prev, "case_variants": layout.case_variants,
    }


def _inside_label(design: list[_Var], interaction: tuple[str, str, str, float] | None
                  ) -> str | None:
    """The category (as written in the file) inside which the interaction acts."""
    if interaction is None:
        return None
    by = next(v for v in design if v.variable == interaction[1])
    return BOOL_CONVENTIONS[by.convention or "Yes/No"][0] if by.kind == "boolean" else \
        interaction[2]


def _statement(var: _Var, direction: str, positive: str | None) -> str:
    better = "better" if direction == "+" else "worse"
    if var.kind == "numeric":
        return f"Companies with more {var.name.lower()} make {better} customers"
    return f"Companies with {var.name.lower()} = {positive} make {better} customers"


def write_room(room: Room, root: str | Path) -> Path:
    """Write the room into the project folder ``root`` (data/raw/<name>/accounts.csv,
    params/hypotheses/<name>.yaml, params/<name>.yaml); returns the parameter file's path
    relative to ``root``.

    Parameters
    ----------
    room
        :func:`generate_room`.
    root
        The project folder.

    Returns
    -------
    Path
        The parameter file, relative to ``root``.
    """
    root = Path(root)
    raw = root / "data" / "raw" / room.name
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "accounts.csv").write_bytes(room.accounts.to_csv(index=False, lineterminator="\n")
                                       .encode("utf-8"))
    (root / "params" / "hypotheses").mkdir(parents=True, exist_ok=True)
    (root / "params" / "hypotheses" / f"{room.name}.yaml").write_text(
        yaml.safe_dump(room.register, sort_keys=False, allow_unicode=True), encoding="utf-8")
    rel = Path("params") / f"{room.name}.yaml"
    (root / rel).write_text(yaml.safe_dump(room.params, sort_keys=False, allow_unicode=True),
                            encoding="utf-8")
    return rel

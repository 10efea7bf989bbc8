"""The demo data room: a realistic, reproducible B2B SaaS export with planted truths and warts.

``generate()`` builds every file in memory; ``write_demo()`` writes them (CSV with fixed float
formats and ``\\n`` line endings, so the same seed gives byte-identical files); ``main(argv)``
is the ``python -m helpers demo`` entry point. Everything is drawn from one
``numpy.random.default_rng(seed)``; dates are relative to the fixed as-of dates
(2026-06-30 for Q2, 2026-09-30 for Q3), never today's date. Fully vectorised: 20,000 accounts
generate in a few seconds.

Files (names and columns as in docs/architecture.md "The demo data room"):
``crm_accounts_2026Q2.csv``, ``crm_accounts_2026Q3.csv``, ``firmographics_vendor.csv``,
``support_tickets.csv``, ``product_usage_monthly.csv``, ``needs_survey.csv``,
``prospects.csv``, ``industry_map.yaml``.

Warts, on purpose (counts for the committed data: 1,500 accounts, seed 20260930)
-------------------------------------------------------------------------------
- Test and proof-of-concept accounts: 1 % of accounts, 15 (9 ``Test``, 6 ``Proof of
  Concept``); no vendor record, MRR 0 (Test) or small (POC).
- Exactly one MRR outlier: a USD customer whose MRR is 5x the next largest (in USD and in the
  raw MRR column, in both snapshots).
- Accounts won in the 90 days before the as-of date (too new): 90 in Q3 (exactly the 90
  accounts absent from Q2), 71 in Q2. Q2 has 1,410 rows, Q3 1,500.
- Accounts current in Q2 that churned during Q3: 20 (Q3: ``Former Customer`` + Churn Date).
  Former customers overall in Q3: 455. MRR differs between the snapshots for 218 of the 945
  accounts that are current in both (upgrades / downgrades).
- Firmographics keyed by a messy ``domain`` (scheme, ``www.``, case, trailing ``/``), as is the
  CRM ``Website`` (which is blank for 8 accounts). Of the 1,485 real accounts 1,338 (90.1 %)
  match by normalised domain, 24 more only by company name (vendor domain differs: 91.7 %
  matched in all), 123 have no vendor record; 150 of the 1,512 vendor rows are companies that
  are neither customers nor prospects.
- Private companies without revenue: 263 vendor rows with empty ``annual_revenue``; the
  rest in mixed formats and currencies ("$5.2M", "5,200,000", "EUR 4.8M", "£4.1m", "$850K",
  "5200000").
- Stale vendor records (``record_updated`` more than 730 days before 2026-09-30): 104 rows;
  their ``employees`` are 60-95 % of today's headcount.
- Inconsistent industry labels: 44 raw labels, 42 of them mapped onto 10 canonical industries
  (e.g. "Hospital", "Healthcare", "health care"; "Software", "SaaS", "software & services";
  "Hospitality" is travel, not health). ``industry_map.yaml`` maps every one of them except the
  two rare labels ``Agritech`` and ``Maritime`` (unmapped on purpose: Step 3 must list them).
  CRM Industry is blank for about 10 % of accounts.
- MRR in mixed currencies (``Currency`` USD / EUR / GBP by billing country; USD per unit:
  EUR 1.08, GBP 1.27). ``Acquisition Cost`` is in USD.
- CRM ``Employees`` is sparse (filled for about half the accounts) and stale for about a
  third of the filled ones (below the vendor's count).
- ``MRR 12 Months Ago`` is empty for accounts won less than 12 months before the as-of date.
  For former customers ``MRR`` and ``MRR 12 Months Ago`` are the final contract's values
  (at churn, and 12 months before churn).

Planted truths (the analysis must find them from the files alone)
----------------------------------------------------------------
A latent account quality ``q`` is built from the true firmographics (coefficients in
``QUALITY``):
  ``q = 1.3 * [employees >= 500 if B2B, >= 100 if B2C] + 0.12 * log(employees / 250)
  - 1.15 * [healthcare] - 0.90 * [countries_of_operation >= 3] + 0.35 * z(log ad_budget)
  - 0.55 * z(log it_team_size) + N(0, 0.6)``.
Ad budget, IT team size and multinational status rise mildly with size (realistic confounding;
the regression has to separate them). Social-media followers, HQ region, founded year and
Glassdoor rating are drawn independently of everything else (no effect). From ``q`` plus noise:
MRR (log-normal, rising with ``q`` and size), churn hazard (falling with ``q``), ticket rate
and urgency (rising as ``q`` falls), success hours and acquisition cost (rising as ``q``
falls), and 12-month MRR growth (rising with ``q``). So the workbook's default quality score
(ACV - tickets*30 - success hours*75 - acquisition cost/3 + 0.5*ACV*growth - 5000*former +
5000*[employees >= 5000]) ranks accounts by ``q``: on 1,500 accounts each planted effect is
significant at p < 0.001 (Spearman), on 300 accounts the directions hold. Product usage
(feature adoption) also rises with ``q``.
The needs survey (40 % of real accounts respond) has three latent clusters - "self-serve
growth" (small / B2C), "compliance-heavy enterprise" (large, healthcare / finance) and
"integration-centric" (software, logistics, manufacturing) - visible in the answers; the
cluster label is not in the file.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.core.paths import resolve

AS_OF_Q2 = dt.date(2026, 6, 30)
AS_OF_Q3 = dt.date(2026, 9, 30)
DEFAULT_SEED = 20260930
RATES = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}  # USD per unit (same as params/base.yaml)
TOO_NEW_DAYS = 90
STALE_DAYS = 730
QUALITY = {"size_step": 1.3, "log_size": 0.12, "healthcare": -1.15, "multinational": -0.90,
           "ad_budget": 0.35, "it_team": -0.55, "noise": 0.6,
           "b2b_min_employees": 500, "b2c_min_employees": 100, "multinational_countries": 3}

CRM_COLUMNS = ["Account ID", "Account Name", "Website", "Type", "Customer Since", "Churn Date",
               "MRR", "Currency", "MRR 12 Months Ago", "Industry", "Billing Country",
               "Employees", "Account Owner", "Success Hours (12m)", "Acquisition Cost"]
VENDOR_COLUMNS = ["domain", "company_name", "employees", "annual_revenue", "industry",
                  "business_model", "countries_of_operation", "ad_budget_usd", "it_team_size",
                  "social_media_followers", "hq_region", "founded_year", "glassdoor_rating",
                  "record_updated"]
TICKET_COLUMNS = ["ticket_id", "account_id", "created_at", "priority", "minutes_spent"]
USAGE_COLUMNS = ["account_id", "month", "active_users", "sessions", "feature_adoption"]
SURVEY_COLUMNS = ["account_id", "respondent_role", "primary_outcome", "onboarding_help",
                  "integration_importance", "self_serve_preference", "reporting_depth",
                  "users_in_scope"]
PROSPECT_COLUMNS = ["Company", "Website", "Employees", "Industry", "Business Model", "Countries",
                    "Ad Budget", "IT Team Size", "Region"]

FILES = {
    "crm_accounts_2026Q2.csv": "%.2f",
    "crm_accounts_2026Q3.csv": "%.2f",
    "firmographics_vendor.csv": "%.1f",
    "support_tickets.csv": "%.2f",
    "product_usage_monthly.csv": "%.3f",
    "needs_survey.csv": "%.2f",
    "prospects.csv": "%.2f",
    "industry_map.yaml": None,
}

# canonical industry -> (share of companies, P(B2C), raw labels with weights)
INDUSTRIES: dict[str, tuple[float, float, dict[str, float]]] = {
    "Software": (0.22, 0.20, {"Software": 0.4, "SaaS": 0.25, "software & services": 0.15,
                              "Computer Software": 0.12, "IT Services": 0.08}),
    "Healthcare": (0.12, 0.35, {"Healthcare": 0.35, "Hospital": 0.25, "health care": 0.15,
                                "Hospitals & Clinics": 0.15, "Health Care Services": 0.10}),
    "Financial Services": (0.12, 0.35, {"Financial Services": 0.4, "Banking": 0.2, "fintech": 0.15,
                                        "Insurance": 0.15, "financial services": 0.10}),
    "Retail & E-commerce": (0.12, 0.75, {"Retail": 0.4, "E-commerce": 0.25, "ecommerce": 0.15,
                                         "Consumer Goods": 0.2}),
    "Manufacturing": (0.10, 0.10, {"Manufacturing": 0.5, "Industrial": 0.2, "manufacturing": 0.15,
                                   "Industrial Machinery": 0.15}),
    "Professional Services": (0.08, 0.10, {"Professional Services": 0.45, "Consulting": 0.3,
                                           "Legal Services": 0.15, "Accounting": 0.10}),
    "Media & Entertainment": (0.07, 0.60, {"Media": 0.45, "Entertainment": 0.2, "Publishing": 0.2,
                                           "media & entertainment": 0.15}),
    "Education": (0.06, 0.40, {"Education": 0.45, "EdTech": 0.25, "Higher Education": 0.2,
                               "E-Learning": 0.10}),
    "Logistics & Transportation": (0.06, 0.15, {"Logistics": 0.45, "Transportation": 0.25,
                                                "Supply Chain": 0.2, "logistics & freight": 0.10}),
    "Travel & Hospitality": (0.04, 0.70, {"Travel": 0.45, "Hospitality": 0.35,
                                          "Hotels & Resorts": 0.20}),
    # rare labels, deliberately left out of industry_map.yaml
    "Agritech": (0.005, 0.20, {"Agritech": 1.0}),
    "Maritime": (0.005, 0.10, {"Maritime": 1.0}),
}
UNMAPPED = ("Agritech", "Maritime")
HEALTHCARE = "Healthcare"

COUNTRIES = {  # billing country -> (share, currency)
    "United States": (0.52, "USD"), "Canada": (0.06, "USD"), "United Kingdom": (0.12, "GBP"),
    "Germany": (0.08, "EUR"), "France": (0.05, "EUR"), "Netherlands": (0.04, "EUR"),
    "Spain": (0.02, "EUR"), "Ireland": (0.02, "EUR"), "Australia": (0.04, "USD"),
    "Singapore": (0.02, "USD"), "Brazil": (0.02, "USD"), "Japan": (0.01, "USD"),
}
REGIONS = {"North America": 0.55, "EMEA": 0.30, "APAC": 0.10, "LATAM": 0.05}
OWNERS = ["Alex Morgan", "Jordan Lee", "Sam Patel", "Casey Nguyen", "Riley Chen", "Taylor Brooks",
          "Morgan Diaz", "Jamie Walsh", "Avery Kim", "Drew Santos"]

_FIRST = ["Apex", "Arbor", "Aspen", "Atlas", "Aurora", "Beacon", "Birch", "Blue", "Bold",
          "Bright", "Cardinal", "Cedar", "Clear", "Cobalt", "Coral", "Crest", "Crystal", "Delta",
          "Eagle", "Ember", "Evergreen", "Falcon", "Fern", "Flint", "Forge", "Golden", "Granite",
          "Green", "Harbor", "Hawk", "Horizon", "Iron", "Ivory", "Juniper", "Keystone", "Lake",
          "Lantern", "Linden", "Maple", "Meridian", "Nimbus", "North", "Oak", "Onyx", "Orchid",
          "Pacific", "Pine", "Pioneer", "Polar", "Prairie", "Quartz", "Raven", "Redwood",
          "Ridge", "River", "Sage", "Sierra", "Silver", "Sky", "Stone", "Summit", "Sun",
          "Terra", "Tidal", "Timber", "True", "Vertex", "West", "Willow", "Zenith"]
_SECOND = ["bay", "bridge", "brook", "canyon", "cloud", "creek", "field", "forest", "gate",
           "grove", "harvest", "haven", "hill", "island", "leaf", "light", "line", "loop",
           "mark", "mesa", "mill", "moon", "path", "peak", "point", "port", "rock", "shore",
           "spring", "star", "stream", "trail", "vale", "view", "wave", "well", "wind", "wing",
           "wood", "works"]
_THIRD = ["Analytics", "Brands", "Capital", "Collective", "Company", "Dynamics", "Group",
          "Holdings", "Industries", "Interactive", "Labs", "Networks", "Partners", "Solutions",
          "Studios", "Systems", "Technologies", "Ventures", "Enterprises", "Innovations",
          "Global", "International", "Digital", "Works"]
_LEGAL = {"": 0.5, " Inc.": 0.2, " LLC": 0.1, " Ltd": 0.1, " GmbH": 0.05, " Corp.": 0.05}
_TLDS = {".com": 0.72, ".io": 0.1, ".co": 0.06, ".net": 0.07, ".ai": 0.05}

# needs clusters: typical outcome, roles, and the mean answers
_CLUSTERS = ("self-serve growth", "compliance-heavy enterprise", "integration-centric")
_OUTCOMES = ["Grow self-serve sign-ups", "Launch new markets quickly",
             "Pass compliance audits", "Centralise reporting for leadership",
             "Connect our data stack", "Automate workflows across tools"]
_OUTCOME_P = np.array([[0.45, 0.30, 0.02, 0.08, 0.07, 0.08],
                       [0.03, 0.05, 0.45, 0.35, 0.05, 0.07],
                       [0.05, 0.05, 0.03, 0.07, 0.45, 0.35]])
_ROLES = ["Founder", "Growth Lead", "Product Manager", "Compliance Officer", "IT Director",
          "Operations Director", "CTO", "Engineering Manager", "Solutions Architect"]
_ROLE_P = np.array([[0.30, 0.30, 0.25, 0.01, 0.03, 0.05, 0.03, 0.02, 0.01],
                    [0.01, 0.02, 0.05, 0.35, 0.27, 0.22, 0.03, 0.03, 0.02],
                    [0.03, 0.03, 0.08, 0.02, 0.10, 0.04, 0.25, 0.25, 0.20]])
_ANSWER_MEANS = {  # per cluster: self-serve growth, compliance-heavy, integration-centric
    "onboarding_help": (1.7, 4.5, 2.6),
    "integration_importance": (2.0, 2.8, 4.7),
    "reporting_depth": (1.8, 4.6, 3.0),
    "self_serve_yes": (0.92, 0.06, 0.12),
    "log_users": (np.log(8), np.log(150), np.log(40)),
}
_ANSWER_NOISE = 0.55  # sd of the 1-5 answers around their cluster mean
_USERS_NOISE = 0.5  # sd of log users_in_scope

_EPOCH = np.datetime64("1970-01-01", "D")


# --------------------------------------------------------------------------- small tools
def _days(d: dt.date) -> int:
    return int((np.datetime64(d, "D") - _EPOCH).astype(np.int64))


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category index per row from a (rows x k) probability matrix (or one k-vector)."""
    probs = np.atleast_2d(probs)
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(cum.shape[0])
    return np.minimum((u[:, None] > cum).sum(axis=1), probs.shape[1] - 1)


def _pick_n(rng: np.random.Generator, weights: Sequence[float], n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    cum = np.cumsum(w / w.sum())
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(w) - 1)


def _date_str(days: np.ndarray, missing: np.ndarray | None = None) -> pd.Series:
    """ISO dates (YYYY-MM-DD) from day numbers; missing rows become NA."""
    s = np.datetime_as_string(np.asarray(days, dtype=np.int64).astype("datetime64[D]"), unit="D")
    out = pd.Series(s, dtype="str")
    if missing is not None:
        out[np.asarray(missing, dtype=bool)] = pd.NA
    return out


def _str_where(values: np.ndarray, missing: np.ndarray) -> pd.Series:
    out = pd.Series(values, dtype="str")
    out[np.asarray(missing, dtype=bool)] = pd.NA
    return out


def _int_where(values: np.ndarray, missing: np.ndarray) -> pd.Series:
    out = pd.Series(np.asarray(values, dtype=np.int64), dtype="Int64")
    out[np.asarray(missing, dtype=bool)] = pd.NA
    return out


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() or 1.0)


def _messy(rng: np.random.Generator, domains: np.ndarray) -> np.ndarray:
    """Scheme, www., upper/title case and trailing slashes, at random."""
    n = len(domains)
    d = domains.astype(str)
    case = _pick_n(rng, [0.7, 0.2, 0.1], n)
    d = np.where(case == 1, np.char.capitalize(d), d)
    d = np.where(case == 2, np.char.upper(d), d)
    www = np.where(rng.random(n) < 0.45, np.where(case == 2, "WWW.", "www."), "")
    scheme = np.array(["", "http://", "https://"])[_pick_n(rng, [0.45, 0.15, 0.40], n)]
    slash = np.where(rng.random(n) < 0.25, "/", "")
    return np.char.add(np.char.add(np.char.add(scheme, www), d), slash)


# --------------------------------------------------------------------------- companies
def _companies(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """n distinct companies with true firmographics (names, domains unique)."""
    n_combo = len(_FIRST) * len(_SECOND) * len(_THIRD)
    if n > n_combo:
        raise ValueError(f"the demo name lists hold {n_combo} companies; asked for {n}")
    combo = rng.choice(n_combo, size=n, replace=False)
    i1, rest = np.divmod(combo, len(_SECOND) * len(_THIRD))
    i2, i3 = np.divmod(rest, len(_THIRD))
    stem = np.char.add(np.array(_FIRST)[i1], np.array(_SECOND)[i2])
    third = np.array(_THIRD)[i3]
    legal = np.array(list(_LEGAL))[_pick_n(rng, list(_LEGAL.values()), n)]
    name = np.char.add(np.char.add(np.char.add(stem, " "), third), legal)
    sep = np.where(rng.random(n) < 0.25, "-", "")
    tld = np.array(list(_TLDS))[_pick_n(rng, list(_TLDS.values()), n)]
    domain = np.char.add(np.char.add(np.char.add(np.char.lower(stem), sep),
                                      np.char.lower(third)), tld)

    canon = list(INDUSTRIES)
    ind = _pick_n(rng, [v[0] for v in INDUSTRIES.values()], n)
    p_b2c = np.array([v[1] for v in INDUSTRIES.values()])[ind]
    b2c = rng.random(n) < p_b2c
    employees = np.clip(np.round(np.exp(np.log(220) + 1.45 * rng.standard_normal(n))), 3, 250_000)
    log_emp = np.log(employees / 250)
    multi = rng.random(n) < 1 / (1 + np.exp(-(-0.9 + 0.10 * log_emp)))
    countries = np.where(multi, 3 + rng.geometric(0.25, n) - 1,
                         1 + (rng.random(n) < 0.3).astype(int))
    ad_budget = np.round(np.exp(np.log(60_000) + 0.30 * log_emp + 0.9 * rng.standard_normal(n)),
                         -2)
    it_team = np.maximum(1, np.round(np.exp(np.log(6) + 0.05 * log_emp
                                            + 0.75 * rng.standard_normal(n))))
    revenue = employees * np.exp(np.log(170_000) + 0.45 * rng.standard_normal(n))
    # raw industry labels, one draw for the vendor and one for the CRM
    raw_vendor = np.empty(n, dtype=object)
    raw_crm = np.empty(n, dtype=object)
    for k, name_k in enumerate(canon):  # loop over the 12 industries, not accounts
        rows = np.flatnonzero(ind == k)
        labels = np.array(list(INDUSTRIES[name_k][2]))
        w = list(INDUSTRIES[name_k][2].values())
        raw_vendor[rows] = labels[_pick_n(rng, w, len(rows))]
        raw_crm[rows] = labels[_pick_n(rng, w, len(rows))]
    # pure noise, independent of everything
    followers = np.round(np.exp(np.log(4_000) + 1.6 * rng.standard_normal(n)))
    region = np.array(list(REGIONS))[_pick_n(rng, list(REGIONS.values()), n)]
    founded = rng.integers(1955, 2023, n)
    glassdoor = np.round(np.clip(3.8 + 0.45 * rng.standard_normal(n), 1.0, 5.0), 1)
    return pd.DataFrame({
        "name": name, "domain": domain, "stem": np.char.lower(stem), "third": third,
        "industry": np.array(canon)[ind], "raw_vendor": raw_vendor, "raw_crm": raw_crm,
        "b2c": b2c, "employees": employees.astype(np.int64), "countries": countries,
        "ad_budget": ad_budget.astype(np.int64), "it_team": it_team.astype(np.int64),
        "revenue": revenue, "followers": followers.astype(np.int64), "region": region,
        "founded": founded, "glassdoor": glassdoor,
    })


def _quality(rng: np.random.Generator, c: pd.DataFrame) -> np.ndarray:
    """The latent account quality (see the module docstring)."""
    k = QUALITY
    emp = c["employees"].to_numpy(float)
    big = np.where(c["b2c"].to_numpy(), emp >= k["b2c_min_employees"],
                   emp >= k["b2b_min_employees"])
    return (k["size_step"] * big + k["log_size"] * np.log(emp / 250)
            + k["healthcare"] * (c["industry"].to_numpy() == HEALTHCARE)
            + k["multinational"] * (c["countries"].to_numpy() >= k["multinational_countries"])
            + k["ad_budget"] * _z(np.log(c["ad_budget"].to_numpy(float)))
            + k["it_team"] * _z(np.log(c["it_team"].to_numpy(float)))
            + k["noise"] * rng.standard_normal(len(c)))


# --------------------------------------------------------------------------- revenue text
def _revenue_text(rng: np.random.Generator, revenue: np.ndarray, private: np.ndarray) -> pd.Series:
    n = len(revenue)
    fmt = _pick_n(rng, [0.35, 0.25, 0.12, 0.10, 0.18], n)
    m = revenue / 1e6
    usd_m = np.char.add(np.char.add("$", np.char.mod("%.1f", m)), "M")
    usd_k = np.char.add(np.char.add("$", np.char.mod("%.0f", revenue / 1e3)), "K")
    usd_b = np.char.add(np.char.add("$", np.char.mod("%.1f", m / 1e3)), "B")
    usd_m = np.where(m < 1, usd_k, np.where(m >= 1e3, usd_b, usd_m))
    r = np.round(revenue, -3).astype(np.int64)
    b, mil, th = r // 10**9, (r // 10**6) % 1000, (r // 10**3) % 1000
    thousands = np.select(
        [b > 0, mil > 0],
        [np.char.add(np.char.add(np.char.add(np.char.mod("%d,", b), np.char.mod("%03d,", mil)),
                                 np.char.mod("%03d", th)), ",000"),
         np.char.add(np.char.add(np.char.mod("%d,", mil), np.char.mod("%03d", th)), ",000")],
        np.char.add(np.char.mod("%d", th), ",000"))
    eur = np.char.add(np.char.add("EUR ", np.char.mod("%.1f", m / RATES["EUR"])), "M")
    gbp = np.char.add(np.char.add("£", np.char.mod("%.1f", m / RATES["GBP"])), "m")
    plain = np.char.mod("%d", np.round(revenue, -3).astype(np.int64))
    text = np.select([fmt == 0, fmt == 1, fmt == 2, fmt == 3], [usd_m, thousands, eur, gbp], plain)
    return _str_where(text, private)


# --------------------------------------------------------------------------- generate
def generate(n_accounts: int = 1500, seed: int = DEFAULT_SEED,
             n_prospects: int = 300) -> dict[str, pd.DataFrame | str]:
    """Every file of the demo data room, keyed by file name (CSV frames and the YAML text).

    ``n_accounts`` is the row count of the Q3 CRM export (current, former, test and POC). The
    parts are drawn from one generator in a fixed order (companies, real accounts, test
    accounts, account IDs, vendor, tickets, usage, survey, prospects): changing the order
    changes every file.

    Parameters
    ----------
    n_accounts
        Rows of the Q3 export.
    seed
        The random seed (same seed, same files).
    n_prospects
        Rows of the prospect list.

    Returns
    -------
    dict
        File name -> DataFrame (CSV) or text (YAML).
    """
    if n_accounts < 50:
        raise ValueError("the demo data room needs at least 50 accounts")
    rng = np.random.default_rng(seed)
    q3, q2 = _days(AS_OF_Q3), _days(AS_OF_Q2)
    n_test = max(2, round(0.01 * n_accounts))
    n_real = n_accounts - n_test
    n_extra = max(10, round(0.10 * n_accounts))  # vendor rows that are not customers
    comp = _companies(rng, n_real + n_prospects + n_extra)
    cust = comp.iloc[:n_real].reset_index(drop=True)
    pros = comp.iloc[n_real:n_real + n_prospects].reset_index(drop=True)
    extra = comp.iloc[n_real + n_prospects:].reset_index(drop=True)
    real = _real_accounts(rng, cust, q3, q2)
    test = _test_accounts(rng, n_test, round(0.4 * n_test), q3, q2)
    acc = _account_table(rng, real, test)
    in_q2 = acc["start"].to_numpy() <= q2
    return {
        "crm_accounts_2026Q2.csv": _crm_frame(acc[in_q2].reset_index(drop=True),
                                              snapshot="q2", as_of=q2),
        "crm_accounts_2026Q3.csv": _crm_frame(acc, snapshot="q3", as_of=q3),
        "firmographics_vendor.csv": _vendor(rng, acc, cust, extra, q3),
        "support_tickets.csv": _tickets(rng, acc, q3),
        "product_usage_monthly.csv": _usage(rng, acc, q3),
        "needs_survey.csv": _survey(rng, acc, cust, q3),
        "prospects.csv": _prospects(rng, pros),
        "industry_map.yaml": industry_map_yaml(),
    }


# --------------------------------------------------------------------------- accounts
# the columns of the internal account table (real accounts, then test accounts)
_ACCOUNT_FIELDS = ("name", "website", "start", "churn", "former", "is_test", "type_test",
                   "mrr3", "mrr2", "cur", "prev3", "prev2", "no_prev3", "no_prev2", "ind",
                   "ind_blank", "country", "emp", "emp_blank", "owner", "owner2", "hours3",
                   "hours2", "acq", "web_blank", "q", "emp_true", "real_idx")


def _lifecycle(rng: np.random.Generator, cust: pd.DataFrame, q3: int,
               q2: int) -> dict[str, np.ndarray]:
    """Quality (centred), start, churn, Q3 MRR in USD, growth and the outlier's row."""
    q = _quality(rng, cust)
    qz = q - q.mean()
    n_real = len(cust)
    emp = cust["employees"].to_numpy(float)
    log_emp = np.log(emp / 250)
    tenure_years = 9.0 * rng.random(n_real) ** 1.3
    start = q3 - np.floor(tenure_years * 365.25).astype(np.int64)
    hazard = 0.085 * np.exp(-0.75 * qz)  # churns per year
    churn = start + np.ceil(rng.exponential(1 / hazard) * 365.25).astype(np.int64)
    former = churn <= q3
    churn = np.where(former, churn, 0)
    mrr_usd = np.exp(np.log(1_400) + 0.55 * qz + 0.12 * log_emp + 0.45 * rng.standard_normal(n_real))
    growth = np.clip(0.06 + 0.14 * qz + 0.15 * rng.standard_normal(n_real), -0.85, 3.0)
    # the outlier: the largest current B2B account by employees
    cand = np.flatnonzero(~former & ~cust["b2c"].to_numpy() & (start <= q2 - 400))
    outlier = cand[np.argmax(emp[cand])]
    return {"qz": qz, "emp": emp, "log_emp": log_emp, "start": start, "churn": churn,
            "former": former, "mrr_usd": mrr_usd, "growth": growth, "outlier": outlier}


def _money(rng: np.random.Generator, life: dict[str, np.ndarray], q3: int,
           q2: int) -> dict[str, np.ndarray]:
    """Billing country, currency, local MRR and MRR 12 months ago in both snapshots."""
    qz, start, churn, former = life["qz"], life["start"], life["churn"], life["former"]
    outlier, n_real = life["outlier"], len(qz)
    mrr_usd, growth = life["mrr_usd"].copy(), life["growth"].copy()
    country_names = np.array(list(COUNTRIES))
    country = country_names[_pick_n(rng, [v[0] for v in COUNTRIES.values()], n_real)]
    currency = pd.Series(country).map({k: v[1] for k, v in COUNTRIES.items()}).to_numpy(str)
    currency[outlier] = "USD"
    rate = pd.Series(currency).map(RATES).to_numpy(float)
    # MRR between snapshots: about a quarter of accounts current in both change
    q2_change = (rng.random(n_real) < 0.25) & (start <= q2) & ~(former & (churn <= q2))
    f_q = np.where(q2_change, np.exp(0.04 + 0.10 * qz + 0.15 * rng.standard_normal(n_real)), 1.0)
    mrr_usd_q2 = mrr_usd / f_q
    mrr_usd_q2 = np.where(former & (churn <= q2), mrr_usd, mrr_usd_q2)
    top = max(mrr_usd[np.arange(n_real) != outlier].max(),
              mrr_usd_q2[np.arange(n_real) != outlier].max())
    mrr_usd[outlier] = mrr_usd_q2[outlier] = 5.0 * top
    growth[outlier] = 0.10
    mrr_local = np.round(mrr_usd / rate)
    mrr_local_q2 = np.round(mrr_usd_q2 / rate)
    ref3 = np.where(former, churn, q3)  # the date the MRR columns refer to
    prev_local = np.round(mrr_local / (1 + growth))
    growth_q2 = np.clip(growth + 0.05 * rng.standard_normal(n_real), -0.85, 3.0)
    prev_local_q2 = np.round(mrr_local_q2 / (1 + growth_q2))
    ref2 = np.where(former & (churn <= q2), churn, q2)
    return {"country": country, "cur": currency, "mrr3": mrr_local, "mrr2": mrr_local_q2,
            "prev3": prev_local, "prev2": prev_local_q2,
            "no_prev3": start > ref3 - 365, "no_prev2": start > ref2 - 365}


def _service_costs(rng: np.random.Generator, life: dict[str, np.ndarray], q3: int,
                   q2: int) -> dict[str, np.ndarray]:
    """Success hours in both snapshots and acquisition cost (rising as quality falls)."""
    qz, log_emp, start = life["qz"], life["log_emp"], life["start"]
    churn, former, n_real = life["churn"], life["former"], len(life["qz"])
    hours_rate = np.exp(np.log(22) - 0.40 * qz + 0.20 * log_emp + 0.5 * rng.standard_normal(n_real))

    def active_share(as_of: int) -> np.ndarray:
        end = np.where(former & (churn <= as_of), churn, as_of)
        return np.clip((end - np.maximum(start, as_of - 365)) / 365, 0, 1)

    hours3 = np.round(hours_rate * active_share(q3), 1)
    hours2 = np.round(hours_rate * active_share(q2) * np.exp(0.15 * rng.standard_normal(n_real)), 1)
    acq = np.round(np.exp(np.log(9_000) + 0.30 * log_emp - 0.30 * qz
                          + 0.5 * rng.standard_normal(n_real)), 2)
    return {"hours3": hours3, "hours2": hours2, "acq": acq}


def _crm_fields(rng: np.random.Generator, cust: pd.DataFrame) -> dict[str, np.ndarray]:
    """CRM employees (sparse, sometimes stale), owners, blank industries and messy websites."""
    n_real = len(cust)
    emp = cust["employees"].to_numpy(float)
    crm_emp_filled = rng.random(n_real) < 0.5
    crm_stale = rng.random(n_real) < 0.33
    crm_emp = np.where(crm_stale, np.round(emp * rng.uniform(0.5, 0.95, n_real)), emp)
    crm_emp = np.maximum(crm_emp, 1)
    owner = np.array(OWNERS)[rng.integers(0, len(OWNERS), n_real)]
    owner_q2 = np.where(rng.random(n_real) < 0.05,
                        np.array(OWNERS)[rng.integers(0, len(OWNERS), n_real)], owner)
    crm_ind_blank = rng.random(n_real) < 0.10
    website = _messy(rng, cust["domain"].to_numpy(str))
    website_blank = rng.random(n_real) < 0.005
    return {"emp": crm_emp, "emp_blank": ~crm_emp_filled, "owner": owner, "owner2": owner_q2,
            "ind_blank": crm_ind_blank, "website": website, "web_blank": website_blank}


def _real_accounts(rng: np.random.Generator, cust: pd.DataFrame, q3: int,
                   q2: int) -> dict[str, np.ndarray]:
    """The account-table fields of the real customers (lifecycle, money, costs, CRM fields)."""
    n_real = len(cust)
    life = _lifecycle(rng, cust, q3, q2)
    money = _money(rng, life, q3, q2)
    costs = _service_costs(rng, life, q3, q2)
    crm = _crm_fields(rng, cust)
    return {
        "name": cust["name"].to_numpy(str), "start": life["start"], "churn": life["churn"],
        "former": life["former"], "is_test": np.zeros(n_real, bool),
        "type_test": np.full(n_real, ""), "ind": cust["raw_crm"].to_numpy(str),
        "q": life["qz"], "emp_true": life["emp"], "real_idx": np.arange(n_real),
        **money, **costs, **crm,
    }


def _test_accounts(rng: np.random.Generator, n_test: int, n_poc: int, q3: int,
                   q2: int) -> dict[str, np.ndarray]:
    """The account-table fields of the test and proof-of-concept accounts."""
    t_start = q3 - rng.integers(20, 900, n_test)
    t_poc = np.arange(n_test) < n_poc
    t_num = np.arange(1, n_test + 1).astype(str)
    t_names = np.char.add(np.where(t_poc, "POC - pilot ", "Internal Test Account "), t_num)
    t_web = np.char.add(np.char.add("sandbox-", t_num), ".ourapp.io")
    t_mrr = np.where(t_poc, np.round(rng.uniform(50, 400, n_test), 0), 0.0)
    return {
        "name": t_names, "website": t_web, "start": t_start,
        "churn": np.zeros(n_test, np.int64), "former": np.zeros(n_test, bool),
        "is_test": np.ones(n_test, bool),
        "type_test": np.where(t_poc, "Proof of Concept", "Test"),
        "mrr3": t_mrr, "mrr2": t_mrr, "cur": np.full(n_test, "USD"),
        "prev3": t_mrr, "prev2": t_mrr,
        "no_prev3": t_start > q3 - 365, "no_prev2": t_start > q2 - 365,
        "ind": np.full(n_test, "Software"), "ind_blank": np.ones(n_test, bool),
        "country": np.full(n_test, "United States"),
        "emp": np.zeros(n_test), "emp_blank": np.ones(n_test, bool),
        "owner": np.full(n_test, OWNERS[0]), "owner2": np.full(n_test, OWNERS[0]),
        "hours3": np.zeros(n_test), "hours2": np.zeros(n_test), "acq": np.zeros(n_test),
        "web_blank": np.zeros(n_test, bool),
        "q": rng.standard_normal(n_test),  # drawn last: after the test accounts' MRR
        "emp_true": np.full(n_test, 5.0), "real_idx": np.full(n_test, -1),
    }


def _account_table(rng: np.random.Generator, real: dict[str, np.ndarray],
                   test: dict[str, np.ndarray]) -> pd.DataFrame:
    """Real then test accounts, shuffled, with Salesforce-style 16-character IDs."""
    acc = pd.DataFrame({k: np.r_[real[k], test[k]] for k in _ACCOUNT_FIELDS})
    n = len(acc)
    order = rng.permutation(n)
    acc = acc.iloc[order].reset_index(drop=True)
    ids = rng.choice(36 ** 6, size=n, replace=False)
    alphabet = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    acc_id = np.full(n, "0015g00000")
    for k in range(5, -1, -1):  # six base-36 characters, vectorised per position
        acc_id = np.char.add(acc_id, alphabet[(ids // 36 ** k) % 36])
    acc["id"] = acc_id
    return acc


def _crm_frame(acc: pd.DataFrame, snapshot: str, as_of: int) -> pd.DataFrame:
    start = acc["start"].to_numpy()
    churn = acc["churn"].to_numpy()
    former = acc["former"].to_numpy() & (churn <= as_of)
    test_type = acc["type_test"].to_numpy(str)
    typ = np.where(test_type != "", test_type, np.where(former, "Former Customer", "Customer"))
    suffix = "3" if snapshot == "q3" else "2"
    mrr = acc[f"mrr{suffix}"].to_numpy(float)
    prev = acc[f"prev{suffix}"].to_numpy(float)
    no_prev = acc[f"no_prev{suffix}"].to_numpy(bool)
    web = acc["website"].to_numpy(str)
    return pd.DataFrame({
        "Account ID": pd.Series(acc["id"].to_numpy(str), dtype="str"),
        "Account Name": pd.Series(acc["name"].to_numpy(str), dtype="str"),
        "Website": _str_where(web, acc["web_blank"].to_numpy()),
        "Type": pd.Series(typ, dtype="str"),
        "Customer Since": _date_str(start),
        "Churn Date": _date_str(churn, ~former),
        "MRR": mrr,
        "Currency": pd.Series(acc["cur"].to_numpy(str), dtype="str"),
        "MRR 12 Months Ago": np.where(no_prev, np.nan, prev),
        "Industry": _str_where(acc["ind"].to_numpy(str), acc["ind_blank"].to_numpy()),
        "Billing Country": pd.Series(acc["country"].to_numpy(str), dtype="str"),
        "Employees": _int_where(acc["emp"].to_numpy(), acc["emp_blank"].to_numpy()),
        "Account Owner": pd.Series(acc["owner" if snapshot == "q3" else "owner2"]
                                   .to_numpy(str), dtype="str"),
        "Success Hours (12m)": acc[f"hours{suffix}"].to_numpy(float),
        "Acquisition Cost": acc["acq"].to_numpy(float),
    })[CRM_COLUMNS]


def _vendor(rng: np.random.Generator, acc: pd.DataFrame, cust: pd.DataFrame,
            extra: pd.DataFrame, as_of: int) -> pd.DataFrame:
    """Vendor firmographics: ~91 % of customers by domain, ~1 % by name only, plus non-customers."""
    n_real = len(cust)
    u = rng.random(n_real)
    by_domain = u < 0.915
    by_name = (u >= 0.915) & (u < 0.927)
    rows = cust[by_domain | by_name].copy()
    alt = np.char.add(np.char.add(rows["stem"].to_numpy(str), rows["third"].to_numpy(str).astype(
        str)), np.array(["hq.com", "group.net", ".co.uk"])[rng.integers(0, 3, len(rows))])
    alt = np.char.lower(alt)
    rows["domain"] = np.where(by_name[by_domain | by_name], alt, rows["domain"].to_numpy(str))
    allv = pd.concat([rows, extra], ignore_index=True)
    m = len(allv)
    emp = allv["employees"].to_numpy(float)
    stale = rng.random(m) < 0.075
    updated = np.where(stale, as_of - rng.integers(STALE_DAYS + 1, 5 * 365, m),
                       as_of - rng.integers(5, STALE_DAYS - 30, m))
    emp_v = np.where(stale, np.maximum(1, np.round(emp * rng.uniform(0.6, 0.95, m))), emp)
    private = rng.random(m) < 0.20
    out = pd.DataFrame({
        "domain": pd.Series(_messy(rng, allv["domain"].to_numpy(str)), dtype="str"),
        "company_name": pd.Series(allv["name"].to_numpy(str), dtype="str"),
        "employees": emp_v.astype(np.int64),
        "annual_revenue": _revenue_text(rng, allv["revenue"].to_numpy(float), private),
        "industry": pd.Series(allv["raw_vendor"].to_numpy(str), dtype="str"),
        "business_model": pd.Series(np.where(allv["b2c"].to_numpy(), "B2C", "B2B"), dtype="str"),
        "countries_of_operation": allv["countries"].to_numpy(np.int64),
        "ad_budget_usd": allv["ad_budget"].to_numpy(np.int64),
        "it_team_size": allv["it_team"].to_numpy(np.int64),
        "social_media_followers": allv["followers"].to_numpy(np.int64),
        "hq_region": pd.Series(allv["region"].to_numpy(str), dtype="str"),
        "founded_year": allv["founded"].to_numpy(np.int64),
        "glassdoor_rating": allv["glassdoor"].to_numpy(float),
        "record_updated": _date_str(updated),
    })
    return out.iloc[rng.permutation(m)].reset_index(drop=True)[VENDOR_COLUMNS]


def _tickets(rng: np.random.Generator, acc: pd.DataFrame, as_of: int) -> pd.DataFrame:
    """~20 tickets per account-year over the two years before as-of, more for worse accounts."""
    qz = acc["q"].to_numpy(float)
    emp = acc["emp_true"].to_numpy(float)
    rate = 23.0 * np.exp(-0.40 * qz + 0.08 * np.log(emp / 250) + 0.25 * rng.standard_normal(len(acc)))
    win0 = as_of - 730
    lo = np.maximum(acc["start"].to_numpy(), win0)
    hi = np.where(acc["former"].to_numpy(), acc["churn"].to_numpy(), as_of) + 1
    span = np.maximum(hi - lo, 0)
    counts = rng.poisson(rate * span / 365.25)
    idx = np.repeat(np.arange(len(acc)), counts)
    secs = (lo[idx] * 86_400 + (rng.random(len(idx)) * span[idx] * 86_400)).astype(np.int64)
    secs = np.minimum(secs, (as_of + 1) * 86_400 - 1)
    order = np.lexsort((idx, secs))
    idx, secs = idx[order], secs[order]
    p_bad = 1 / (1 + np.exp(-(-1.6 - 0.5 * qz[idx])))
    u = rng.random(len(idx))
    pri = np.where(u < 0.25 * p_bad, 3, np.where(u < p_bad, 2, np.where(u < 0.6, 1, 0)))
    minutes = np.maximum(2, np.round(np.exp(np.log(22) + 0.35 * pri
                                            + 0.8 * rng.standard_normal(len(idx)))))
    created = np.datetime_as_string(secs.astype("datetime64[s]"), unit="s")
    return pd.DataFrame({
        "ticket_id": pd.Series(np.char.add("TCK-", np.char.zfill(
            np.arange(1, len(idx) + 1).astype(str), 7)), dtype="str"),
        "account_id": pd.Series(acc["id"].to_numpy(str)[idx], dtype="str"),
        "created_at": pd.Series(created, dtype="str"),
        "priority": pd.Series(np.array(["Low", "Normal", "High", "Urgent"])[pri], dtype="str"),
        "minutes_spent": minutes.astype(np.int64),
    })


def _usage(rng: np.random.Generator, acc: pd.DataFrame, as_of: int) -> pd.DataFrame:
    """One row per account and active month over the 18 months up to the as-of month."""
    months = np.arange(np.datetime64(AS_OF_Q3, "M") - 17, np.datetime64(AS_OF_Q3, "M") + 1)
    m_start = months.astype("datetime64[D]").astype(np.int64)
    m_end = (months + 1).astype("datetime64[D]").astype(np.int64) - 1
    start = acc["start"].to_numpy()
    end = np.where(acc["former"].to_numpy(), acc["churn"].to_numpy(), as_of)
    first = np.searchsorted(m_end, start, side="left")  # first month whose end >= start
    last = np.searchsorted(m_start, end, side="right") - 1  # last month whose start <= end
    counts = np.maximum(last - first + 1, 0)
    idx = np.repeat(np.arange(len(acc)), counts)
    offs = np.arange(len(idx)) - np.repeat(np.cumsum(counts) - counts, counts)
    mi = first[idx] + offs
    qz = acc["q"].to_numpy(float)[idx]
    emp = acc["emp_true"].to_numpy(float)[idx]
    seats = np.exp(np.log(12) + 0.45 * np.log(emp / 250) + 0.3 * qz)
    users = np.maximum(1, np.round(seats * np.exp(0.25 * rng.standard_normal(len(idx)))))
    sessions = rng.poisson(users * 18 * np.exp(0.1 * qz))
    adoption = 1 / (1 + np.exp(-(0.2 + 0.5 * qz + 0.35 * rng.standard_normal(len(idx)))))
    return pd.DataFrame({
        "account_id": pd.Series(acc["id"].to_numpy(str)[idx], dtype="str"),
        "month": pd.Series(np.datetime_as_string(months[mi], unit="M"), dtype="str"),
        "active_users": users.astype(np.int64),
        "sessions": sessions.astype(np.int64),
        "feature_adoption": np.round(adoption, 3),
    })


def _survey(rng: np.random.Generator, acc: pd.DataFrame, cust: pd.DataFrame,
            as_of: int) -> pd.DataFrame:
    """Needs survey: current and recently churned real accounts, three latent clusters."""
    real = acc["real_idx"].to_numpy()
    former = acc["former"].to_numpy()
    recent = former & (acc["churn"].to_numpy() > as_of - 540)
    p = np.where(acc["is_test"].to_numpy(), 0.0, np.where(~former, 0.52, np.where(recent, 0.35, 0)))
    resp = np.flatnonzero(rng.random(len(acc)) < p)
    c = cust.iloc[real[resp]]
    emp = c["employees"].to_numpy(float)
    ind = c["industry"].to_numpy(str)
    util = np.stack([
        1.6 * c["b2c"].to_numpy() + 1.0 * (emp < 200),
        1.6 * np.isin(ind, ["Healthcare", "Financial Services"]) + 1.2 * (emp >= 1000),
        1.6 * np.isin(ind, ["Software", "Logistics & Transportation", "Manufacturing"]) + 0.3,
    ], axis=1)
    prob = np.exp(util)
    cl = _pick(rng, prob / prob.sum(axis=1, keepdims=True))
    k = len(resp)

    def scale(means: tuple[float, ...]) -> np.ndarray:
        return np.clip(np.round(np.array(means)[cl] + _ANSWER_NOISE * rng.standard_normal(k)), 1, 5)

    yes = rng.random(k) < np.array(_ANSWER_MEANS["self_serve_yes"])[cl]
    users = np.maximum(1, np.round(np.exp(np.array(_ANSWER_MEANS["log_users"])[cl]
                                          + _USERS_NOISE * rng.standard_normal(k))))
    out = pd.DataFrame({
        "account_id": pd.Series(acc["id"].to_numpy(str)[resp], dtype="str"),
        "respondent_role": pd.Series(np.array(_ROLES)[_pick(rng, _ROLE_P[cl])], dtype="str"),
        "primary_outcome": pd.Series(np.array(_OUTCOMES)[_pick(rng, _OUTCOME_P[cl])], dtype="str"),
        "onboarding_help": scale(_ANSWER_MEANS["onboarding_help"]).astype(np.int64),
        "integration_importance": scale(_ANSWER_MEANS["integration_importance"]).astype(np.int64),
        "self_serve_preference": pd.Series(np.where(yes, "yes", "no"), dtype="str"),
        "reporting_depth": scale(_ANSWER_MEANS["reporting_depth"]).astype(np.int64),
        "users_in_scope": users.astype(np.int64),
    })
    return out.sort_values("account_id", kind="stable").reset_index(drop=True)


def _prospects(rng: np.random.Generator, pros: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Company": pd.Series(pros["name"].to_numpy(str), dtype="str"),
        "Website": pd.Series(_messy(rng, pros["domain"].to_numpy(str)), dtype="str"),
        "Employees": pros["employees"].to_numpy(np.int64),
        "Industry": pd.Series(pros["raw_vendor"].to_numpy(str), dtype="str"),
        "Business Model": pd.Series(np.where(pros["b2c"].to_numpy(), "B2C", "B2B"), dtype="str"),
        "Countries": pros["countries"].to_numpy(np.int64),
        "Ad Budget": pros["ad_budget"].to_numpy(np.int64),
        "IT Team Size": pros["it_team"].to_numpy(np.int64),
        "Region": pd.Series(pros["region"].to_numpy(str), dtype="str"),
    })


def industry_map_yaml() -> str:
    """``industry_map.yaml``: every raw label the generator uses -> canonical, minus UNMAPPED.

    Returns
    -------
    str
        The YAML text.
    """
    lines = ["# Raw industry label -> canonical industry (demo data room).",
             "# Labels not listed here are unmapped and must be reviewed in Step 3."]
    for canon, (_, _, labels) in INDUSTRIES.items():
        if canon in UNMAPPED:
            continue
        lines += [f'"{label}": "{canon}"' for label in labels]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- write / CLI
def write_demo(out_dir: str | Path, n_accounts: int = 1500, seed: int = DEFAULT_SEED,
               n_prospects: int = 300) -> list[Path]:
    """Write the demo data room into ``out_dir`` (relative paths from the project root; created
    if needed); returns the written paths.

    Parameters
    ----------
    out_dir
        The data room folder.
    n_accounts
        Rows of the Q3 export.
    seed
        The random seed.
    n_prospects
        Rows of the prospect list.

    Returns
    -------
    list of Path
        The files written.
    """
    out = resolve(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = generate(n_accounts=n_accounts, seed=seed, n_prospects=n_prospects)
    written = []
    for name, content in files.items():
        path = out / name
        if isinstance(content, str):
            path.write_bytes(content.encode("utf-8"))
        else:
            text = content.to_csv(index=False, lineterminator="\n", float_format=FILES[name])
            path.write_bytes(text.encode("utf-8"))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m helpers demo --out DIR [--accounts N] [--seed S] [--prospects P]``.

    Parameters
    ----------
    argv
        The arguments (None: the command line).

    Returns
    -------
    int
        The exit code (0).
    """
    parser = argparse.ArgumentParser(prog="helpers demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="data/raw/demo")
    parser.add_argument("--accounts", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--prospects", type=int, default=300)
    args = parser.parse_args(list(argv) if argv is not None else None)
    for path in write_demo(args.out, n_accounts=args.accounts, seed=args.seed,
                           n_prospects=args.prospects):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

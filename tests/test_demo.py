"""The demo data room: reproducible, shaped as documented, warts present, planted truths findable.

The self-check recomputes the workbook's default quality score with plain pandas (independent
of the analysis modules) and checks the planted directions with Spearman correlations.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from helpers.synthetic import demo

COMMITTED = Path(__file__).resolve().parents[1] / "data" / "raw" / "demo"
Q3 = pd.Timestamp("2026-09-30")
Q2 = pd.Timestamp("2026-06-30")
RATES = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}
REAL = ["Customer", "Former Customer"]

# wart counts of the committed data room (1,500 accounts, seed 20260930); the module docstring
# of helpers.synthetic.demo states the same numbers
EXPECTED = {
    "rows_q3": 1500, "rows_q2": 1410, "test": 9, "poc": 6, "former_q3": 455,
    "too_new_q3": 90, "too_new_q2": 71, "only_q3": 90, "churned_in_q3": 20, "mrr_changed": 218,
    "blank_website": 8, "matched_domain": 1338, "matched_name_only": 24, "unmatched": 123,
    "vendor_non_customers": 150, "private_no_revenue": 263, "stale_records": 104,
}


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=True)


def _norm(s: pd.Series) -> pd.Series:
    s = s.astype("str").str.strip().str.lower()
    s = s.str.replace(r"^[a-z]+://", "", regex=True).str.replace(r"^www\.", "", regex=True)
    return s.str.replace(r"/.*$", "", regex=True)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    demo.write_demo(out)
    return out


@pytest.fixture(scope="module")
def room() -> dict[str, pd.DataFrame | str]:
    """The committed files as read back from disk."""
    files: dict[str, pd.DataFrame | str] = {}
    for name in demo.FILES:
        p = COMMITTED / name
        files[name] = p.read_text(encoding="utf-8") if name.endswith(".yaml") else _read(p)
    return files


# --------------------------------------------------------------------------- reproducibility
def test_committed_files_are_byte_identical_to_a_regeneration(regenerated: Path) -> None:
    names = sorted(p.name for p in regenerated.iterdir())
    assert names == sorted(demo.FILES)
    for name in names:
        assert _sha(regenerated / name) == _sha(COMMITTED / name), name
        assert b"\r\n" not in (regenerated / name).read_bytes()[:5000]


def test_same_seed_same_data_different_seed_different() -> None:
    a, b = demo.generate(200, seed=7), demo.generate(200, seed=7)
    c = demo.generate(200, seed=8)
    for name in demo.FILES:
        if isinstance(a[name], str):
            assert a[name] == b[name]
        else:
            pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["crm_accounts_2026Q3.csv"].equals(c["crm_accounts_2026Q3.csv"])
    assert not a["support_tickets.csv"].equals(c["support_tickets.csv"])


def test_main_writes_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main(["--out", str(tmp_path), "--accounts", "120", "--seed", "3"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(demo.FILES)
    assert len(_read(tmp_path / "crm_accounts_2026Q3.csv")) == 120
    assert "crm_accounts_2026Q3.csv" in capsys.readouterr().out


def test_twenty_thousand_accounts_generate() -> None:
    # speed is measured by benchmarks/bench.py, never asserted here
    files = demo.generate(20_000, seed=1)
    assert len(files["crm_accounts_2026Q3.csv"]) == 20_000
    assert files["crm_accounts_2026Q3.csv"]["Account ID"].is_unique


def test_name_lists_give_unique_domains() -> None:
    stems = [f"{a}{b}".lower() for a in demo._FIRST for b in demo._SECOND]
    assert len(set(stems)) == len(stems)
    assert len({(s, t.lower()) for s in stems for t in demo._THIRD}) == len(
        {s + t.lower() for s in stems for t in demo._THIRD})


# --------------------------------------------------------------------------- shapes and keys
def test_columns_and_keys(room: dict) -> None:
    q3, q2 = room["crm_accounts_2026Q3.csv"], room["crm_accounts_2026Q2.csv"]
    for crm in (q2, q3):
        assert list(crm.columns) == demo.CRM_COLUMNS
        assert crm["Account ID"].is_unique
        assert crm["Account ID"].str.fullmatch(r"0015g00000[0-9A-Z]{6}").all()
        assert crm["Account Name"].is_unique
        assert set(crm["Currency"]) == set(RATES)
        assert crm["Customer Since"].notna().all()
    assert set(q2["Account ID"]) <= set(q3["Account ID"])
    v = room["firmographics_vendor.csv"]
    assert list(v.columns) == demo.VENDOR_COLUMNS
    assert _norm(v["domain"]).is_unique
    assert set(v["business_model"]) == {"B2B", "B2C"}
    t = room["support_tickets.csv"]
    assert list(t.columns) == demo.TICKET_COLUMNS
    assert t["ticket_id"].is_unique and set(t["account_id"]) <= set(q3["Account ID"])
    assert set(t["priority"]) == {"Low", "Normal", "High", "Urgent"}
    created = pd.to_datetime(t["created_at"])
    assert created.max() <= Q3 + pd.Timedelta(days=1) and created.min() >= Q3 - pd.Timedelta(
        days=731)
    u = room["product_usage_monthly.csv"]
    assert list(u.columns) == demo.USAGE_COLUMNS
    assert not u.duplicated(["account_id", "month"]).any()
    assert u["month"].min() == "2025-04" and u["month"].max() == "2026-09"
    assert u["feature_adoption"].between(0, 1).all()
    s = room["needs_survey.csv"]
    assert list(s.columns) == demo.SURVEY_COLUMNS
    assert s["account_id"].is_unique and set(s["account_id"]) <= set(q3["Account ID"])
    for col in ("onboarding_help", "integration_importance", "reporting_depth"):
        assert s[col].between(1, 5).all()
    real = q3["Type"].isin(REAL).sum()
    assert 0.35 < len(s) / real < 0.45
    p = room["prospects.csv"]
    assert list(p.columns) == demo.PROSPECT_COLUMNS and len(p) == 300
    assert not set(_norm(p["Website"])) & set(_norm(q3["Website"].dropna()))
    assert not set(p["Company"]) & set(q3["Account Name"])
    assert not set(_norm(p["Website"])) & set(_norm(v["domain"]))


def test_former_customers_and_dates_are_consistent(room: dict) -> None:
    q3 = room["crm_accounts_2026Q3.csv"]
    former = q3["Type"] == "Former Customer"
    assert q3.loc[former, "Churn Date"].notna().all()
    assert q3.loc[~former, "Churn Date"].isna().all()
    churn = pd.to_datetime(q3.loc[former, "Churn Date"])
    assert (churn <= Q3).all()
    assert (churn >= pd.to_datetime(q3.loc[former, "Customer Since"])).all()
    start = pd.to_datetime(q3["Customer Since"])
    ref = pd.to_datetime(q3["Churn Date"]).fillna(Q3)
    assert q3.loc[start > ref - pd.Timedelta(days=365), "MRR 12 Months Ago"].isna().all()


def test_tickets_fall_inside_each_accounts_active_period(room: dict) -> None:
    q3, t = room["crm_accounts_2026Q3.csv"], room["support_tickets.csv"]
    acc = q3.set_index("Account ID")
    start = pd.to_datetime(t["account_id"].map(acc["Customer Since"]))
    end = pd.to_datetime(t["account_id"].map(acc["Churn Date"])).fillna(Q3)
    day = pd.to_datetime(t["created_at"]).dt.normalize()
    assert ((day >= start) & (day <= end)).all()


# --------------------------------------------------------------------------- warts
def _wart_counts(room: dict) -> dict[str, int]:
    q3, q2 = room["crm_accounts_2026Q3.csv"], room["crm_accounts_2026Q2.csv"]
    v = room["firmographics_vendor.csv"]
    both = q3.merge(q2, on="Account ID", suffixes=("", "_q2"))
    stay = (both["Type"] == "Customer") & (both["Type_q2"] == "Customer")
    real = q3[q3["Type"].isin(REAL)]
    dom = _norm(real["Website"])
    vdom = _norm(v["domain"])
    by_domain = dom.isin(set(vdom)) & real["Website"].notna()
    by_name = ~by_domain & real["Account Name"].isin(set(v["company_name"]))
    customer_keys = set(dom[by_domain]) | set(real["Account Name"])
    non_cust = ~vdom.isin(customer_keys) & ~v["company_name"].isin(customer_keys)
    updated = pd.to_datetime(v["record_updated"])
    return {
        "rows_q3": len(q3), "rows_q2": len(q2),
        "test": int((q3["Type"] == "Test").sum()),
        "poc": int((q3["Type"] == "Proof of Concept").sum()),
        "former_q3": int((q3["Type"] == "Former Customer").sum()),
        "too_new_q3": int((pd.to_datetime(q3["Customer Since"]) > Q3 - pd.Timedelta(days=90)).sum()),
        "too_new_q2": int((pd.to_datetime(q2["Customer Since"]) > Q2 - pd.Timedelta(days=90)).sum()),
        "only_q3": len(set(q3["Account ID"]) - set(q2["Account ID"])),
        "churned_in_q3": int(((both["Type"] == "Former Customer")
                              & (both["Type_q2"] == "Customer")).sum()),
        "mrr_changed": int((both.loc[stay, "MRR"] != both.loc[stay, "MRR_q2"]).sum()),
        "blank_website": int(real["Website"].isna().sum()),
        "matched_domain": int(by_domain.sum()), "matched_name_only": int(by_name.sum()),
        "unmatched": int((~by_domain & ~by_name).sum()),
        "vendor_non_customers": int(non_cust.sum()),
        "private_no_revenue": int(v["annual_revenue"].isna().sum()),
        "stale_records": int((updated < Q3 - pd.Timedelta(days=730)).sum()),
    }


def test_wart_counts(room: dict) -> None:
    assert _wart_counts(room) == EXPECTED


def test_one_mrr_outlier_in_both_snapshots(room: dict) -> None:
    for name in ("crm_accounts_2026Q3.csv", "crm_accounts_2026Q2.csv"):
        crm = room[name]
        usd = (crm["MRR"] * crm["Currency"].map(RATES)).sort_values(ascending=False)
        assert usd.iloc[0] > 4 * usd.iloc[1]
        assert usd.iloc[1] <= 4 * usd.iloc[2]
        assert crm["MRR"].nlargest(2).pipe(lambda s: s.iloc[0] > 4 * s.iloc[1])


def test_messy_fields(room: dict) -> None:
    q3, v = room["crm_accounts_2026Q3.csv"], room["firmographics_vendor.csv"]
    for col in (q3["Website"].dropna(), v["domain"]):
        assert col.str.startswith("https://").any() and col.str.startswith("http://").any()
        assert col.str.contains("www.", case=False, regex=False).any()
        assert col.str.endswith("/").any() and (col != col.str.lower()).any()
    rev = v["annual_revenue"].dropna()
    for pattern in (r"\$[\d.]+M", r"\d{1,3}(,\d{3})+", r"EUR [\d.]+M", r"£[\d.]+m", r"\$\d+K",
                    r"\d+"):
        assert rev.str.fullmatch(pattern).any(), pattern
    emp = q3.loc[q3["Type"].isin(REAL), "Employees"]
    assert 0.4 < emp.notna().mean() < 0.6
    merged = q3.assign(d=_norm(q3["Website"])).merge(
        v.assign(d=_norm(v["domain"])), on="d").dropna(subset=["Employees"])
    stale_crm = merged["Employees"] < merged["employees"]
    assert 0.2 < stale_crm.mean() < 0.45


def test_industry_labels_and_map(room: dict) -> None:
    mapping = yaml.safe_load(room["industry_map.yaml"])
    used = set(room["firmographics_vendor.csv"]["industry"]) | set(
        room["crm_accounts_2026Q3.csv"]["Industry"].dropna()) | set(
        room["prospects.csv"]["Industry"])
    assert used - set(mapping) == {"Agritech", "Maritime"}
    assert set(mapping) <= used
    assert {"Hospital", "Healthcare", "health care", "Software", "SaaS",
            "software & services"} <= set(mapping)
    assert mapping["Hospital"] == mapping["health care"] == "Healthcare"
    assert mapping["Hospitality"] != "Healthcare"
    assert len(set(mapping.values())) == 10
    assert room["crm_accounts_2026Q3.csv"]["Industry"].isna().mean() > 0.05


# --------------------------------------------------------------------------- planted truths
def _score_table(files: dict) -> pd.DataFrame:
    """The default quality score, from the files alone, on the kept accounts."""
    crm = files["crm_accounts_2026Q3.csv"].copy()
    v = files["firmographics_vendor.csv"].copy()
    t = files["support_tickets.csv"]
    imap = yaml.safe_load(files["industry_map.yaml"])
    rate = crm["Currency"].map(RATES)
    crm["mrr"], crm["prev"] = crm["MRR"] * rate, crm["MRR 12 Months Ago"] * rate
    crm["dom"] = _norm(crm["Website"])
    v["dom"] = _norm(v["domain"])
    crm = crm.merge(v.drop(columns=["domain"]), on="dom", how="left")
    created = pd.to_datetime(t["created_at"])
    recent = t[(created > Q3 - pd.Timedelta(days=365)) & (created <= Q3 + pd.Timedelta(days=1))]
    crm["tickets"] = crm["Account ID"].map(recent.groupby("account_id").size()).fillna(0)
    acv = 12 * crm["mrr"]
    growth = (crm["mrr"] / crm["prev"] - 1).clip(-1, 1).fillna(0)
    emp = crm["employees"].astype(float).fillna(crm["Employees"].astype(float))
    crm["score"] = (acv - (crm["tickets"] * 30 + crm["Success Hours (12m)"] * 75)
                    - crm["Acquisition Cost"] / 3 + 0.5 * acv * growth
                    - 5000 * (crm["Type"] == "Former Customer") + 5000 * (emp >= 5000))
    keep = crm["Type"].isin(REAL)
    keep &= pd.to_datetime(crm["Customer Since"]) <= Q3 - pd.Timedelta(days=90)
    top2 = crm.loc[keep, "mrr"].nlargest(2)
    keep &= ~((crm["mrr"] == top2.iloc[0]) & (top2.iloc[0] > 4 * top2.iloc[1]))
    out = crm[keep & crm["employees"].notna()].copy()
    out["healthcare"] = (out["industry"].map(imap) == "Healthcare").astype(int)
    out["multinational"] = (out["countries_of_operation"] >= 3).astype(int)
    return out


PLANTED = {"employees": 1, "healthcare": -1, "multinational": -1, "ad_budget_usd": 1,
           "it_team_size": -1}
NULLS = ["social_media_followers", "founded_year", "glassdoor_rating"]


def _check_planted(d: pd.DataFrame, alpha: float, min_significant: int) -> None:
    significant = 0
    for col, sign in PLANTED.items():
        rho, p = stats.spearmanr(d[col], d["score"])
        assert np.sign(rho) == sign, (col, rho)
        significant += p < alpha
    assert significant >= min_significant
    for col in NULLS:
        rho, _ = stats.spearmanr(d[col], d["score"])
        assert abs(rho) < 0.1, (col, rho)
    regions = [g["score"] for _, g in d.groupby("hq_region")]
    assert stats.kruskal(*regions).pvalue > 0.01
    # the interaction: B2B good from 500 employees, B2C from 100
    b2b, b2c = d[d["business_model"] == "B2B"], d[d["business_model"] == "B2C"]
    for grp, cut in ((b2b, 500), (b2c, 100)):
        hi, lo = grp.loc[grp["employees"] >= cut, "score"], grp.loc[grp["employees"] < cut, "score"]
        assert hi.median() > lo.median()
        assert stats.mannwhitneyu(hi, lo).pvalue < alpha
    mid = d[d["employees"].between(100, 499)]
    mid_b2c = mid.loc[mid["business_model"] == "B2C", "score"]
    mid_b2b = mid.loc[mid["business_model"] == "B2B", "score"]
    assert mid_b2c.median() > mid_b2b.median()
    assert stats.mannwhitneyu(mid_b2c, mid_b2b).pvalue < alpha


def test_planted_truths_on_the_committed_room(room: dict) -> None:
    d = _score_table(room)
    assert len(d) > 1200
    _check_planted(d, alpha=0.001, min_significant=len(PLANTED))
    # A vs D quartiles differ on every planted variable
    quart = pd.qcut(d["score"].rank(method="first"), 4, labels=["D", "C", "B", "A"])
    for col in PLANTED:
        a, dd = d.loc[quart == "A", col], d.loc[quart == "D", col]
        assert stats.mannwhitneyu(a, dd).pvalue < 0.001, col


def test_planted_truths_on_300_accounts() -> None:
    files = demo.generate(300)
    d = _score_table(files)
    assert len(d) > 220
    _check_planted(d, alpha=0.05, min_significant=4)


def test_in_memory_frames_match_the_files(room: dict) -> None:
    files = demo.generate()
    q3 = files["crm_accounts_2026Q3.csv"]
    pd.testing.assert_series_equal(q3["Account ID"], room["crm_accounts_2026Q3.csv"]["Account ID"],
                                   check_dtype=False)
    assert np.allclose(q3["MRR"], room["crm_accounts_2026Q3.csv"]["MRR"])


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(50, 400), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_for_any_size_and_seed(n: int, seed: int) -> None:
    f = demo.generate(n, seed=seed, n_prospects=40)
    q3, q2 = f["crm_accounts_2026Q3.csv"], f["crm_accounts_2026Q2.csv"]
    assert len(q3) == n and q3["Account ID"].is_unique and q3["Account Name"].is_unique
    assert set(q2["Account ID"]) <= set(q3["Account ID"])
    usd = (q3["MRR"] * q3["Currency"].map(RATES)).sort_values(ascending=False)
    assert usd.iloc[0] > 4 * usd.iloc[1]
    assert (q3["Type"].isin(["Test", "Proof of Concept"])).sum() >= 2
    assert set(f["support_tickets.csv"]["account_id"]) <= set(q3["Account ID"])
    assert len(f["prospects.csv"]) == 40
    v = f["firmographics_vendor.csv"]
    assert _norm(v["domain"]).is_unique


def test_needs_survey_has_three_visible_clusters(room: dict) -> None:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    s = room["needs_survey.csv"]
    x = s[["onboarding_help", "integration_importance", "reporting_depth"]].astype(float).assign(
        yes=s["self_serve_preference"].eq("yes").astype(float),
        users=np.log(s["users_in_scope"]))
    z = StandardScaler().fit_transform(x)
    sil = {k: silhouette_score(z, KMeans(k, n_init=3, random_state=0).fit_predict(z))
           for k in range(2, 7)}
    assert max(sil, key=sil.get) == 3
    by_outcome = x.groupby(s["primary_outcome"]).mean()
    assert (by_outcome.loc["Pass compliance audits", "reporting_depth"]
            > by_outcome.loc["Grow self-serve sign-ups", "reporting_depth"] + 1.5)
    assert (by_outcome.loc["Connect our data stack", "integration_importance"]
            > by_outcome.loc["Pass compliance audits", "integration_importance"] + 1)

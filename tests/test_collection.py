"""Step 3: joins, standardisation, QA, worksheet round trip, manifest, orchestration."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from readers import build_analysis_table, import_worksheet

from helpers.collect import collection, hypotheses
from helpers.collect.read import data_manifest, read_industry_map
from helpers.core.errors import InputDataError
from helpers.core.params import Collection, Currency, Params
from helpers.core.params import load as load_params
from helpers.core.paths import project_root


def accounts() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": ["A1", "A2", "A3", "A4", "A5"],
        "account_name": ["Acme Inc.", "Beta LLC", "Gamma GmbH", "Delta", "Epsilon"],
        "domain": ["acme.com", "beta.io", "gamma.de", None, "eps.com"],
        "employees": [100.0, np.nan, 50.0, 10.0, np.nan],
    })


def vendor() -> pd.DataFrame:
    return pd.DataFrame({
        "domain": ["https://WWW.Acme.com/", "acme.com", "beta.io/", "other.com", "zzz.com",
                   "", "nomatch.org"],
        "company_name": ["Acme", "Acme Old", "Beta", "Gamma", "Delta LLC", "Nameless",
                         "Stranger"],
        "employees": [120, 90, 30, 55, 12, 5, 7],
        "record_updated": ["2026-01-01", "2024-01-01", "2025-06-01", "2025-01-01",
                           "2025-01-01", "2025-01-01", "2025-01-01"],
    })


# --------------------------------------------------------------------------- joins
def test_join_by_domain_then_name_with_duplicates():
    joined, rep, um = collection.join_source(accounts(), vendor(), "domain", source_name="vendor")
    assert len(joined) == 5 and joined["account_id"].tolist() == ["A1", "A2", "A3", "A4", "A5"]
    # duplicate acme.com: the most recent record (2026-01-01) wins, whatever the file order
    assert joined.loc[0, "employees_vendor"] == 120
    assert joined["vendor_match"].tolist()[:4] == ["domain", "domain", "name", "name"]
    assert pd.isna(joined.loc[4, "vendor_match"])
    assert joined.loc[2, "employees_vendor"] == 55  # Gamma GmbH ~ Gamma by name
    assert joined.loc[3, "employees_vendor"] == 12  # Delta ~ Delta LLC
    assert joined.loc[0, "employees"] == 100  # account column untouched
    assert rep["matched"] == 4 and rep["matched_by_key"] == 2 and rep["matched_by_name"] == 2
    assert rep["match_rate"] == pytest.approx(0.8)
    assert rep["unmatched_accounts"] == 1
    assert rep["duplicate_source_keys"] == 1 and rep["blank_source_keys"] == 1
    assert rep["unmatched_source_rows"] == 3
    reasons = dict(zip(um["company_name"], um["reason"], strict=True))
    assert reasons == {"Acme Old": "duplicate key (older record kept out)",
                       "Nameless": "no matching account", "Stranger": "no matching account"}
    assert um["source_row"].tolist() == [1, 5, 6]


def test_join_without_name_fallback_and_by_id():
    _, rep, _ = collection.join_source(accounts(), vendor(), "domain", name_fallback=False)
    assert rep["matched"] == 2 and rep["matched_by_name"] == 0
    survey = pd.DataFrame({"account_id": [" A2", "A9", "A2"], "answer": ["x", "y", "z"]})
    joined, rep, um = collection.join_source(accounts(), survey, "account_id", source_name="survey",
                                    date_column=None)
    # duplicate A2 without a date: the later row in the file is kept
    assert joined.set_index("account_id").loc["A2", "answer"] == "z"
    assert rep["matched"] == 1 and rep["duplicate_source_keys"] == 1
    assert sorted(um["reason"]) == ["duplicate key (older record kept out)",
                                    "no matching account"]
    assert "account_id_survey" not in joined.columns


def test_join_errors_are_clear():
    with pytest.raises(InputDataError, match="not unique"):
        collection.join_source(pd.concat([accounts(), accounts()]), vendor(), "domain")
    with pytest.raises(InputDataError, match="no 'domain' column"):
        collection.join_source(accounts(), vendor().drop(columns="domain"), "domain")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_acc=st.integers(0, 25), keys=st.lists(st.integers(0, 12), max_size=40),
       fallback=st.booleans())
def test_join_never_drops_or_duplicates_accounts(n_acc, keys, fallback):
    acc = pd.DataFrame({"account_id": [f"a{i}" for i in range(n_acc)],
                        "account_name": [f"Co {i % 9}" for i in range(n_acc)],
                        "domain": [f"d{i % 11}.com" if i % 5 else None for i in range(n_acc)]})
    src = pd.DataFrame({"domain": [f"WWW.d{k}.com/" for k in keys],
                        "company_name": [f"co {k % 7}" for k in keys],
                        "value": np.arange(len(keys)),
                        "record_updated": ["2025-01-01"] * len(keys)})
    joined, rep, um = collection.join_source(acc, src, "domain", name_fallback=fallback)
    assert len(joined) == n_acc
    assert joined["account_id"].tolist() == acc["account_id"].tolist()
    assert rep["matched"] + rep["unmatched_accounts"] == n_acc
    # every source row is either used or reported as unmatched
    used = set(joined["value"].dropna().astype(int))
    assert used.isdisjoint(set(um["source_row"]))
    assert len(used) + len(um) == len(src)
    by_domain = joined["source_match"].eq("domain").to_numpy()
    got = joined.loc[by_domain, "domain_source"].astype("str").str.lower()
    want = "www." + joined.loc[by_domain, "domain"].astype("str") + "/"
    assert (got == want).all()


# --------------------------------------------------------------------------- standardising
def test_standardise_money_mixed_formats():
    df = pd.DataFrame({"rev": ["$5M", "5,000,000", "EUR 4.2M", "", "lots", "£1m"]})
    cur = Currency(base="USD", rates={"USD": 1.0, "EUR": 1.1, "GBP": 1.25})
    out, log = collection.standardise_money(df, "rev", cur)
    np.testing.assert_allclose(out["rev"], [5e6, 5e6, 4.2e6 * 1.1, np.nan, np.nan, 1.25e6])
    assert out["rev_raw"].tolist()[0] == "$5M"
    assert out["rev_currency"].tolist()[2] == "EUR"
    lg = log.set_index("rule")
    parsed = lg.loc[lg.index.str.startswith("text amount")].iloc[0]
    assert parsed["rows_fixed"] == 4 and parsed["rows_left"] == 1  # "lots" left
    conv = lg.loc["converted to USD"]
    assert conv["rows_fixed"] == 2 and "EUR: 1" in conv["detail"] and "GBP: 1" in conv["detail"]


def test_standardise_industry_case_whitespace_and_unmapped():
    s = pd.Series(["Hospital", "  health   CARE ", "SaaS", "Maritime", None, "maritime", ""])
    canon, unmapped = collection.standardise_industry(
        s, {"Hospital": "Healthcare", "health care": "Healthcare", "saas": "Software"})
    assert canon.tolist()[:4] == ["Healthcare", "Healthcare", "Software", "Maritime"]
    assert pd.isna(canon[4]) and pd.isna(canon[6])
    assert unmapped.to_dict("records") == [{"label": "Maritime", "rows": 1},
                                           {"label": "maritime", "rows": 1}]
    log = collection.industry_log(s, canon)
    assert log.loc[0, "rows_fixed"] == 3


def test_load_industry_map_formats(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump({"Healthcare": ["Hospital", "health care"]}))
    assert read_industry_map(p) == {"Hospital": "Healthcare",
                                               "health care": "Healthcare",
                                               "Healthcare": "Healthcare"}
    with pytest.raises(InputDataError, match="not found"):
        read_industry_map(tmp_path / "none.yaml")


def test_coerce_numeric_and_out_of_range():
    df = pd.DataFrame({"employees": ["1,200", "0", "abc", None], "glassdoor_rating": [
        4.5, 7.0, -1.0, 3.0]})
    out, log = collection.coerce_numeric(df, ["employees", "glassdoor_rating", "absent"])
    assert out["employees"].tolist()[:2] == [1200.0, 0.0]
    assert log.loc[0, "rows_fixed"] == 1 and log.loc[0, "rows_left"] == 1
    fixed, flog = collection.flag_out_of_range(out)
    assert fixed["employees"].isna().tolist() == [False, True, True, True]
    np.testing.assert_allclose(fixed["glassdoor_rating"], [4.5, np.nan, np.nan, 3.0])
    assert dict(zip(flog["field"], flog["rows_left"], strict=True)) == {
        "employees": 1, "glassdoor_rating": 2}


# --------------------------------------------------------------------------- quality
def _qa_register() -> pd.DataFrame:
    base = {"statement": "s", "direction": "+", "lens": "firmographic", "source": "v",
            "expected_coverage": 0.9, "data_quality": 3, "actionability": 3}
    return hypotheses.validate_register([
        {**base, "id": "E", "variable": "employees", "kind": "numeric",
         "measure": {"column": "employees"}},
        {**base, "id": "R", "variable": "glassdoor_rating", "kind": "numeric",
         "measure": {"column": "glassdoor_rating"}},
        {**base, "id": "B", "variable": "business_model", "kind": "categorical",
         "measure": {"column": "business_model"}, "collection": "internal system"},
        {**base, "id": "G", "variable": "ghost", "kind": "numeric", "measure": {"column": "gx"}},
    ])


def test_quality_report_flags():
    t = pd.DataFrame({
        "employees": [10, -5, np.nan, 40, 50],
        "glassdoor_rating": [4.0, 6.0, np.nan, np.nan, np.nan],
        "business_model": ["B2B", "B2C", "B2B", "B2B", None],
        "updated": pd.to_datetime(["2026-01-01", "2020-01-01", "2020-01-01", "2019-01-01",
                                   "2026-06-01"]),
    })
    reg = _qa_register()
    _, mlog = hypotheses.derive_measures(t, reg)
    slog = pd.DataFrame([collection._log(
        "employees", "outside plausible range [1, None]: set to missing", 0, 2)])
    rules = Collection(stale_after_days=730, min_completeness=0.6, max_stale_share=0.5)
    q = collection.quality_report(t, reg, "2026-09-30", rules, "updated", standardisation_log=slog,
                         measure_log=mlog).set_index("id")
    assert q.loc["E", "completeness"] == pytest.approx(0.8)
    # employees non-missing rows 0,1,3,4 -> stale 1 and 3 (older than 2024-09-30)
    assert q.loc["E", "stale_share"] == pytest.approx(0.5)
    assert q.loc["E", "out_of_range"] == 1 + 2  # -5 in the table, 2 already blanked (log)
    assert not q.loc["E", "send_back"]
    assert q.loc["R", "completeness"] == pytest.approx(0.4) and q.loc["R", "send_back"]
    assert "completeness 40% < 60%" in q.loc["R", "reason"]
    assert q.loc["R", "out_of_range"] == 1 and q.loc["R", "stale_share"] == pytest.approx(0.5)
    assert q.loc["B", "needs_judgement"] and not q.loc["E", "needs_judgement"]
    assert np.isnan(q.loc["B", "stale_share"])  # internal data: staleness not applied
    assert q.loc["G", "send_back"] and "missing source column" in q.loc["G", "reason"]
    stale = collection.quality_report(t, reg, "2026-09-30",
                             Collection(max_stale_share=0.4), {"E": "updated"}).set_index("id")
    assert stale.loc["E", "send_back"] and "older than 730 days" in stale.loc["E", "reason"]


# --------------------------------------------------------------------------- worksheet
def _ws_register() -> pd.DataFrame:
    base = {"statement": "s", "direction": "+", "lens": "firmographic", "source": "web",
            "expected_coverage": 0.9, "data_quality": 3, "actionability": 3,
            "cost": {"minutes_per_point": 3, "hourly_rate": 18}}
    return hypotheses.validate_register([
        {**base, "id": "E", "variable": "employees", "kind": "numeric",
         "measure": {"column": "employees"}},
        {**base, "id": "M", "variable": "bm", "kind": "categorical",
         "measure": {"column": "business_model"}},
        {**base, "id": "T", "variable": "tp", "kind": "numeric",
         "measure": {"expr": "tickets / employees"}},
    ])


def test_worksheet_round_trip(tmp_path):
    t = pd.DataFrame({"account_id": ["A1", "A2", "A3"],
                      "account_name": ["=HYPERLINK(\"x\")", "Beta", "Gamma"],
                      "employees": [10.0, np.nan, np.nan], "tickets": [1.0, 2.0, 3.0],
                      "business_model": ["B2B", None, "B2C"]})
    path = tmp_path / "ws.xlsx"
    rows = collection.make_worksheet(t, _ws_register(), path)
    assert sorted(zip(rows["account_id"], rows["field"], strict=True)) == [
        ("A2", "business_model"), ("A2", "employees"), ("A3", "employees")]
    wb = load_workbook(path)
    assert set(wb.sheetnames) == {"worksheet", "instructions"}
    instr = pd.read_excel(path, sheet_name="instructions")
    emp = instr.set_index("field").loc["employees"]
    assert emp["rows_missing"] == 2 and emp["estimated_minutes"] == 6
    assert "number" in emp["enter_as"]
    assert set(instr["hypotheses"]) >= {"E, T"}
    # formula injection neutralised in the export
    names = [c.value for c in wb["worksheet"]["B"]]
    assert all(not str(v).startswith("=") for v in names if v)
    # fill in the worksheet like a collector would
    ws = wb["worksheet"]
    header = [c.value for c in ws[1]]
    vcol = header.index("value") + 1
    for r in range(2, ws.max_row + 1):
        field = ws.cell(r, header.index("field") + 1).value
        acc = ws.cell(r, 1).value
        if field == "employees" and acc == "A2":
            ws.cell(r, vcol, "1,250")
        if field == "business_model":
            ws.cell(r, vcol, "B2B")
    ws.append(["A1", None, "employees", "99"])  # A1 has a value already: not overwritten
    wb.save(path)
    filled, prov = import_worksheet(path, t)
    assert filled["employees"].tolist()[:2] == [10.0, 1250.0] and np.isnan(filled["employees"][2])
    assert filled["business_model"].tolist() == ["B2B", "B2B", "B2C"]
    assert prov[["account_id", "field"]].values.tolist() == [["A2", "business_model"],
                                                             ["A2", "employees"]]
    assert (prov["source"] == "worksheet:ws.xlsx").all()
    assert len(filled) == len(t)


def test_import_worksheet_validation(tmp_path):
    t = pd.DataFrame({"account_id": ["A1"], "employees": [np.nan], "bm": [None]})

    def sheet(rows):
        p = tmp_path / "w.xlsx"
        pd.DataFrame(rows, columns=["account_id", "field", "value"]).to_excel(
            p, sheet_name="worksheet", index=False)
        return p

    with pytest.raises(InputDataError, match="account ids not in"):
        import_worksheet(sheet([["ZZ", "employees", "3"]]), t)
    with pytest.raises(InputDataError, match="fields not in"):
        import_worksheet(sheet([["A1", "nope", "3"]]), t)
    with pytest.raises(InputDataError, match="not valid for 'employees'") as exc:
        import_worksheet(sheet([["A1", "employees", "lots"]]), t)
    assert "rows: 2" in str(exc.value)
    with pytest.raises(InputDataError, match="several values"):
        import_worksheet(sheet([["A1", "bm", "x"], ["A1", "bm", "y"]]), t)
    with pytest.raises(InputDataError, match="cannot read"):
        import_worksheet(tmp_path / "missing.xlsx", t)


# --------------------------------------------------------------------------- manifest
def test_data_manifest_hashes_and_rows(tmp_path):
    csv = tmp_path / "a.csv"
    csv.write_text('x,y\n1,"a\nb"\n2,c\n')
    pq = tmp_path / "b.parquet"
    pd.DataFrame({"x": range(7)}).to_parquet(pq)
    yml = tmp_path / "c.yaml"
    yml.write_text("a: 1\nb: 2\n")
    m = data_manifest([csv, pq, yml])
    assert m["rows"].tolist() == [2, 7, 2]
    assert m.loc[0, "sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert m.loc[1, "size_bytes"] == pq.stat().st_size
    with pytest.raises(InputDataError, match="does not exist"):
        data_manifest([tmp_path / "nope.csv"])


# --------------------------------------------------------------------------- orchestration
def _tiny_project(tmp_path) -> Params:
    (tmp_path / "firmo.csv").write_text(
        "domain,company_name,employees,annual_revenue,industry,business_model,"
        "countries_of_operation,record_updated\n"
        "WWW.ACME.COM/,Acme,1200,$5M,Hospital,B2B,4,2026-01-01\n"
        "beta.io,Beta,80,\"EUR 2M\",saas,B2C,1,2020-01-01\n"
        "x.com,Gamma,30,,Maritime,B2B,1,2026-01-01\n")
    (tmp_path / "tickets.csv").write_text(
        "ticket_id,account_id,created_at,priority,minutes_spent\n"
        "t1,A1,2026-09-01,high,30\nt2,A1,2026-08-01,low,10\nt3,A2,2020-01-01,low,5\n")
    (tmp_path / "usage.csv").write_text(
        "account_id,month,active_users,sessions,feature_adoption\n"
        "A1,2026-09,10,100,0.5\nA2,2026-08,4,20,0.25\n")
    (tmp_path / "survey.csv").write_text(
        "account_id,respondent_role,primary_outcome,onboarding_help,integration_importance,"
        "self_serve_preference,reporting_depth,users_in_scope\nA3,CTO,x,2,3,yes,4,10\n")
    (tmp_path / "map.yaml").write_text("Hospital: Healthcare\nSaaS: Software\n")
    reg = [
        {"id": "H1", "statement": "s", "direction": "+", "lens": "firmographic",
         "variable": "employees", "kind": "numeric", "measure": {"column": "employees"},
         "source": "v", "expected_coverage": 0.9, "data_quality": 3, "actionability": 3},
        {"id": "H2", "statement": "s", "direction": "-", "lens": "firmographic",
         "variable": "is_hospital", "kind": "boolean", "measure": {"helper": "is_hospital"},
         "source": "v", "expected_coverage": 0.9, "data_quality": 3, "actionability": 3},
        {"id": "H3", "statement": "s", "direction": "-", "lens": "behavioural",
         "variable": "tickets_per_100_employees", "kind": "numeric",
         "measure": {"helper": "tickets_per_100_employees"}, "source": "t",
         "collection": "internal system", "expected_coverage": 0.9, "data_quality": 3,
         "actionability": 3},
        {"id": "H4", "statement": "s", "direction": "+", "lens": "firmographic",
         "variable": "annual_revenue", "kind": "numeric", "measure": {"column": "annual_revenue"},
         "source": "v", "expected_coverage": 0.9, "data_quality": 3, "actionability": 3},
        {"id": "H5", "statement": "s", "direction": "+", "lens": "needs-based",
         "variable": "self_serve", "kind": "boolean",
         "measure": {"column": "self_serve_preference"}, "source": "s",
         "collection": "survey", "expected_coverage": 0.9, "data_quality": 3,
         "actionability": 3},
        {"id": "H6", "statement": "s", "direction": "+", "lens": "technographic",
         "variable": "stack", "kind": "numeric", "measure": {"column": "stack"},
         "source": "s", "expected_coverage": 0.9, "data_quality": 3, "actionability": 3},
    ]
    (tmp_path / "reg.yaml").write_text(yaml.safe_dump(reg))
    (tmp_path / "acc.csv").write_text("account_id\nA1\n")
    return Params.model_validate({
        "as_of": "2026-09-30",
        "inputs": {"accounts": {"path": str(tmp_path / "acc.csv")},
                   "firmographics": {"path": str(tmp_path / "firmo.csv"), "join_on": "domain"},
                   "tickets": {"path": str(tmp_path / "tickets.csv")},
                   "usage": {"path": str(tmp_path / "usage.csv")},
                   "survey": {"path": str(tmp_path / "survey.csv"), "join_on": "account_id"},
                   "industry_map": str(tmp_path / "map.yaml")},
        "currency": {"base": "USD", "rates": {"USD": 1.0, "EUR": 1.1}},
        "hypotheses": {"register_file": str(tmp_path / "reg.yaml")},
    })


def test_build_analysis_table_tiny(tmp_path):
    prm = _tiny_project(tmp_path)
    scored = pd.DataFrame({"account_id": ["A1", "A2", "A3"],
                           "account_name": ["Acme Inc", "Beta", "Gamma"],
                           "domain": ["acme.com", "beta.io", "gamma.com"],
                           "industry": [None, "Retail", "Software"],
                           "employees": [1000.0, np.nan, 25.0],
                           "score": [3.0, 2.0, 1.0], "quartile": ["A", "B", "D"]})
    table, rep = build_analysis_table(prm, scored)
    assert table["account_id"].tolist() == ["A1", "A2", "A3"]
    assert {"score", "quartile"} <= set(table.columns)
    t = table.set_index("account_id")
    # vendor value preferred (prefer_enrichment), account value fills gaps
    assert t["employees"].tolist() == [1200.0, 80.0, 30.0]
    assert t["is_hospital"].tolist() == [True, False, False]
    assert t.loc["A1", "tickets"] == 2 and t.loc["A2", "tickets"] == 0
    assert t.loc["A1", "tickets_per_100_employees"] == pytest.approx(2 / 1200 * 100)
    np.testing.assert_allclose(t["annual_revenue"], [5e6, 2.2e6, np.nan])
    assert t["self_serve"].tolist()[2] is True or t["self_serve"].tolist()[2] == True  # noqa: E712
    assert t["firmographics_match"].tolist() == ["domain", "domain", "name"]
    assert t.loc["A3", "industry"] == "Maritime" and t.loc["A3", "industry_unmapped"]
    jr = rep["join_report"].set_index("source")
    assert jr.loc["firmographics", "matched"] == 3 and jr.loc["survey", "matched"] == 1
    q = rep["quality_report"].set_index("id")
    assert q.loc["H6", "send_back"]
    assert q.loc["H1", "stale_share"] == pytest.approx(1 / 3)
    assert "Maritime" in rep["unmapped_industries"]["label"].tolist()
    assert set(rep) >= {"join_report", "quality_report", "standardisation_log"}
    assert len(rep["standardisation_log"]) > 0


@pytest.mark.skipif(not (project_root() / "data/raw/demo/firmographics_vendor.csv").exists(),
                    reason="demo data not generated")
def test_build_on_demo_data():
    from helpers.core import io as wio

    prm = load_params(project_root() / "params/demo.yaml")
    acc = wio.read_table(prm.inputs.accounts, what="accounts")
    acc = acc.drop_duplicates("account_id").reset_index(drop=True).assign(score=1.0)
    table, rep = build_analysis_table(prm, acc)
    assert len(table) == len(acc) and table["account_id"].is_unique
    jr = rep["join_report"].set_index("source").loc["firmographics"]
    assert jr["matched_by_key"] >= 1300 and jr["matched_by_name"] >= 20
    assert set(rep["unmapped_industries"]["label"]) == {"Agritech", "Maritime"}
    q = rep["quality_report"].set_index("id")
    assert not q.loc["H01", "send_back"] and q.loc["H16", "send_back"]


def test_long_worksheet_is_capped_in_xlsx_and_whole_in_csv(tmp_path):
    n = 30
    t = pd.DataFrame({"account_id": [f"A{i:02d}" for i in range(n)],
                      "account_name": ["x"] * n, "employees": np.nan, "tickets": 1.0,
                      "business_model": [None] * 3 + ["B2B"] * (n - 3)})
    path = tmp_path / "ws.xlsx"
    rows = collection.make_worksheet(t, _ws_register(), path, max_xlsx_rows=10)
    assert len(rows) == n + 3  # every missing pair is returned and in the CSV
    xlsx = pd.read_excel(path, sheet_name="worksheet")
    # equal shares of 10, business_model only needs 3: employees gets the other 7
    assert xlsx["field"].value_counts().to_dict() == {"business_model": 3, "employees": 7}
    instr = pd.read_excel(path, sheet_name="instructions").set_index("field")
    assert instr.loc["employees", "rows_missing"] == n and instr.loc["employees", "rows_in_xlsx"] == 7
    full = pd.read_csv(path.with_suffix(".csv"), encoding="utf-8-sig", dtype="str")
    assert len(full) == n + 3
    full.loc[(full["account_id"] == "A29") & (full["field"] == "employees"), "value"] = "42"
    full.to_csv(path.with_suffix(".csv"), index=False)
    filled, prov = import_worksheet(path.with_suffix(".csv"), t)
    assert filled["employees"].iloc[29] == 42.0 and len(prov) == 1

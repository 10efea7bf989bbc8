"""Issue 20 (part B): `workbook check` means "this run will start", mapping keys are canonical
names, YAML pitfalls get a plain hint, previous runs are found in the same lineage only, and
unreadable values in a hypothesis column are counted (docs/bad-input.md, last section)."""

from __future__ import annotations

import datetime as dt
import html as _html
import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import use_project
from readers import build_analysis_table

from helpers.analyse import quarterly
from helpers.core.errors import ParameterError
from helpers.core.params import Params
from helpers.core.params import load as load_params
from helpers.core.store import RunStore
from helpers.present import deck, report
from helpers.run.cli import main

ENTRY = {"statement": "s", "direction": "+", "lens": "firmographic", "source": "CRM",
         "collection": "internal system", "cost": {"minutes_per_point": 0, "hourly_rate": 0},
         "expected_coverage": 0.9, "data_quality": 4, "actionability": 5}


def _entry(hid: str, variable: str, kind: str = "numeric", column: str | None = None,
           **extra) -> dict:
    return {"id": hid, "variable": variable, "kind": kind,
            "measure": {"column": column or variable}, **ENTRY, **extra}


def _accounts(n: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "Account ID": [f"A{i:03d}" for i in range(n)],
        "Account Name": [f"Company {i}" for i in range(n)],
        "Website": [f"c{i}.com" for i in range(n)],
        "Customer Since": "2022-01-15", "Churn Date": "",
        "MRR": rng.integers(100, 2000, n).astype(str), "Currency": "USD",
        "Industry": rng.choice(["Software", "Retail"], n), "Employees": "120"})


def _project(tmp_path, params: str, register: list[dict], files: dict[str, pd.DataFrame]):
    root = tmp_path / "project"
    (root / "params" / "hypotheses").mkdir(parents=True)
    (root / "data" / "raw").mkdir(parents=True)
    (root / "params" / "p.yaml").write_text(params, encoding="utf-8")
    (root / "params" / "hypotheses" / "h.yaml").write_text(yaml.safe_dump(register, sort_keys=False),
                                                           encoding="utf-8")
    for name, df in files.items():
        df.to_csv(root / "data" / "raw" / name, index=False)
    return root


GOOD = """as_of: 2026-09-30
inputs:
  accounts: {path: data/raw/accounts.csv, preset: salesforce}
hypotheses: {register_file: params/hypotheses/h.yaml}
"""


def _check(root, capsys) -> tuple[int, str]:
    with use_project(root):
        rc = main(["check", "--params", "params/p.yaml"])
    out = capsys.readouterr()
    return rc, out.err if rc else out.out  # a file that is not valid: on stderr


# --------------------------------------------------------------------------- workbook check
def test_check_lists_every_problem_of_a_broken_parameter_file(tmp_path, capsys):
    """Before: `workbook check` only validated the YAML schema and called this file valid."""
    params = """as_of: 2026-09-30
inputs:
  accounts:
    path: data/raw/accounts.csv
    preset: salesforce
    mapping: {curency: Currency}
  tickets: {path: data/raw/tickets_missing.csv}
  survey: {path: data/raw/survey.csv, join_on: domain}
  firmographics: {path: data/raw/firmo.csv, join_on: domain}
hypotheses: {register_file: params/hypotheses/h.yaml}
previous_run: 2026Q2
"""
    register = [_entry("H01", "employees"),
                _entry("H02", "business_model", "categorical", positive_category="B2X"),
                _entry("H03", "ad_budget", column="ad_budgett"),
                _entry("H03", "industry", "categorical", positive_category="Software"),
                {**_entry("H04", "ratio"), "measure": {"expr": "employees +* 2"}}]
    firmo = pd.DataFrame({"domain": ["c1.com", "c2.com"], "business_model": ["B2B", "B2C"],
                          "ad_budget": ["10", "20"]})
    survey = pd.DataFrame({"account_id": ["A001"], "primary_outcome": ["speed"]})
    root = _project(tmp_path, params, register, {"accounts.csv": _accounts(10),
                                                "firmo.csv": firmo, "survey.csv": survey})
    rc, out = _check(root, capsys)
    assert rc == 2
    expected = [
        r"error: parameters: 'inputs\.accounts\.mapping\.curency': 'curency' is not a canonical "
        r"column name \(did you mean 'currency'\?\)",
        r"error: inputs\.tickets: input file not found",
        r"error: inputs\.survey: no 'domain' column to join on \(join_on: domain\)",
        r"error: hypotheses\.register_file: .*entry H03: duplicate id",
        r"error: hypotheses H03 \(ad_budget\): column 'ad_budgett' is in no input \(did you "
        r"mean 'ad_budget'\?\)",
        r"error: hypotheses H02: positive_category 'B2X' is not a value of column "
        r"'business_model' \(did you mean 'B2C'\?\); values: B2B, B2C",
        r"error: previous runs: previous_run '2026Q2' does not exist",
        r"error: exclusions: only 10 account\(s\) are kept",
        r"error: hypotheses H04: measure expr 'employees \+\* 2' is not a valid expression",
        r"NOT valid: 9 error\(s\)",
    ]
    for pattern in expected:
        assert re.search(pattern, out, re.S), (pattern, out)


def test_check_passes_a_good_file_and_the_demo(tmp_path, capsys, root):
    register = [_entry("H01", "industry", "categorical", positive_category="software")]
    good = _project(tmp_path, GOOD, register, {"accounts.csv": _accounts()})
    rc, out = _check(good, capsys)
    assert rc == 0 and "params/p.yaml: valid (as_of 2026-09-30" in out and "error" not in out
    with use_project(root):
        for name in ("demo.yaml", "examples/salesforce-deals.yaml"):
            assert main(["check", "--params", f"params/{name}"]) == 0
            assert f"params/{name}: valid" in capsys.readouterr().out


def test_check_names_misspelt_column_parameters(tmp_path, capsys):
    """Before: a misspelt split was skipped silently; a misspelt forced root or survey column
    stopped Step 4 after minutes of work."""
    params = GOOD + """  survey: {path: data/raw/survey.csv, join_on: account_id}
analysis: {tree: {forced_root: employes}, regression: {split_by: industri}}
segments: {needs_columns: [primary_outcome, onboarding_hlp]}
collection: {money_columns: [anual_revenue]}
"""
    params = params.replace("hypotheses: {register_file: params/hypotheses/h.yaml}\n", "") + \
        "hypotheses: {register_file: params/hypotheses/h.yaml}\n"
    register = [_entry("H01", "employees"),
                _entry("H02", "industry", "categorical")]
    survey = pd.DataFrame({"account_id": ["A001"], "primary_outcome": ["speed"],
                           "onboarding_help": ["3"]})
    root = _project(tmp_path, params, register, {"accounts.csv": _accounts(),
                                                "survey.csv": survey})
    rc, out = _check(root, capsys)
    assert rc == 2, out
    for line in [
        "error: analysis.tree.forced_root: 'employes' is not a hypothesis variable (did you "
        "mean 'employees'?)",
        "error: analysis.regression.split_by: 'industri' is not a hypothesis variable (did you "
        "mean 'industry'?)",
        "error: segments.needs_columns: 'onboarding_hlp' is not a column of the survey (did you "
        "mean 'onboarding_help'?)",
        "warning: collection.money_columns: 'anual_revenue' is not a column of the inputs",
        "NOT valid: 3 error(s)"]:
        assert line in out, (line, out)


def test_check_reports_a_broken_yaml_file_without_traceback(tmp_path, capsys):
    root = _project(tmp_path, "as_of: 2026-13-01\ninputs:\n  accounts: {path: a.csv}\n", [],
                    {})
    rc, out = _check(root, capsys)
    assert rc == 2
    assert "'as_of': Input should be a valid date" in out and "'2026-13-01'" in out
    assert "Traceback" not in out


# --------------------------------------------------------------------------- mapping keys
def test_mapping_key_typo_is_refused_at_run_start(tmp_path):
    """Before: `curency:` was accepted and every EUR row was converted at the base rate."""
    (tmp_path / "p.yaml").write_text(
        "as_of: 2026-09-30\ninputs:\n  accounts: {path: a.csv, mapping: {curency: Currency}}\n"
        "  previous_accounts: {path: b.csv, mapping: {acount_id: Id}}\n"
        "  prospects: {path: c.csv, mapping: {employes: Staff, ad_budget_usd: Budget}}\n"
        "  tickets: {path: t.csv, mapping: {opened: Opened}}\n"
        "  worksheet: {path: w.xlsx, mapping: {field: Field}}\n"
        "  deals: {path: d.csv, mapping: {close_dat: Closed}}\n", encoding="utf-8")
    with pytest.raises(ParameterError) as err:
        load_params(tmp_path / "p.yaml")
    msg = str(err.value)
    assert "6 problem(s)" in msg
    assert "'inputs.deals.mapping.close_dat': 'close_dat' is not a canonical column name (did " \
           "you mean 'close_date'?)" in msg
    assert "'inputs.accounts.mapping.curency': 'curency' is not a canonical column name (did " \
           "you mean 'currency'?)" in msg
    assert "(did you mean 'account_id'?)" in msg and "(did you mean 'employees'?)" in msg
    assert "'inputs.tickets.mapping.opened': 'opened' is not a column the workbook reads from " \
           "tickets (canonical names: account_id, created_at, minutes_spent)" in msg
    assert "'inputs.worksheet.mapping.field': the collection worksheet has fixed columns" in msg
    assert "ad_budget_usd" not in msg  # an enrichment field passed through for a hypothesis


# --------------------------------------------------------------------------- YAML pitfalls
def test_tab_in_parameter_file_gets_a_plain_hint(tmp_path):
    (tmp_path / "p.yaml").write_text("as_of: 2026-09-30\ninputs:\n\taccounts:\n\t\tpath: a.csv\n",
                                     encoding="utf-8")
    with pytest.raises(ParameterError) as err:
        load_params(tmp_path / "p.yaml")
    msg = str(err.value)
    assert "line(s) 3, 4 indented with a tab character" in msg
    assert "YAML indents with spaces only: replace each tab with spaces" in msg


def test_unquoted_ids_read_as_numbers_get_a_quote_hint(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "as_of: 2026-09-30\ninputs:\n  accounts: {path: a.csv}\n", encoding="utf-8")
    (tmp_path / "p.yaml").write_text(
        "extends: base.yaml\nexclusions:\n  manual_exclude: [000123, 4567, 'A9']\n",
        encoding="utf-8")
    with pytest.raises(ParameterError) as err:
        load_params(tmp_path / "p.yaml")
    msg = str(err.value)
    assert "'exclusions.manual_exclude.0': 000123 was read as the number 83 (YAML reads an " \
           "unquoted number with a leading 0 as octal); quote ids and other text: " \
           "['000123']" in msg
    assert "'exclusions.manual_exclude.1': 4567 was read as the number 4567; quote ids and " \
           "other text: ['4567']" in msg


def test_impossible_date_names_the_key_and_the_value(tmp_path):
    """Before: a raw `ValueError: month must be in 1..12` traceback from the YAML reader."""
    (tmp_path / "p.yaml").write_text("as_of: 2026-13-01\ninputs:\n  accounts: {path: a.csv}\n",
                                     encoding="utf-8")
    with pytest.raises(ParameterError) as err:
        load_params(tmp_path / "p.yaml")
    lines = str(err.value).splitlines()
    assert "1 problem(s)" in lines[0]
    assert lines[1].startswith("  - 'as_of': Input should be a valid date")
    assert lines[1].endswith("(got '2026-13-01')")


# --------------------------------------------------------------------------- lineage
RUNS = pd.DataFrame({
    "run_id": ["2026Q2", "other-2026Q3", "2026Q3"],
    "as_of": ["2026-06-30", "2026-09-30", "2026-09-30"],
    "complete": [True, True, True], "status": ["complete"] * 3,
    "lineage": ["Acme segmentation", "Other project", "Acme segmentation"]})


def test_previous_run_discovery_keeps_to_the_lineage():
    c = quarterly.resolve_comparisons("2026Q4", "2026-12-31", RUNS, lineage="Acme segmentation")
    assert c.previous_run == "2026Q3"  # not other-2026Q3 (greater run id, same as-of date)
    assert any("other-2026Q3 (as of 2026-09-30) not considered: it belongs to 'Other project'"
               in n for n in c.notes)
    c = quarterly.resolve_comparisons("new-2026Q4", "2026-12-31", RUNS, lineage="New project")
    assert c.previous_run is None and c.previous_quarter_run is None
    assert c.previous_rule == "no complete run before this one in this lineage"
    # without a lineage (older callers) the greatest run id still wins
    assert quarterly.resolve_comparisons("x", "2026-12-31", RUNS).previous_run == "other-2026Q3"


def test_candidate_without_shared_accounts_is_skipped_with_a_note():
    c = quarterly.resolve_comparisons("2026Q4", "2026-12-31", RUNS, lineage="Acme segmentation",
                              shares_accounts=lambda run: run != "2026Q3")
    assert (c.previous_run, c.previous_quarter_run) == ("2026Q2", "2026Q2")
    assert "run 2026Q3 (as of 2026-09-30) skipped: no account ids in common with this run" \
        in c.notes
    assert c.to_dict()["notes"] == list(c.notes)


def _fake_run(root, run_id: str, as_of: str, project: str, ids: list[str]) -> None:
    store = RunStore(run_id, root / "data" / "processed" / run_id)
    store.path.mkdir(parents=True)
    store.write("accounts_raw", pd.DataFrame({"account_id": ids}))
    store.update_manifest(status="complete", as_of=as_of,
                          effective_params={"charter": {"project": project}, "lineage": None})


def test_unrelated_run_is_not_compared_in_the_report(tmp_path):
    """Before: a new export's report showed a migration matrix against an unrelated project's
    run (0 accounts in common, every one of its customers 'churned')."""
    from helpers.pipeline import step4
    from helpers.run.session import Session

    root = _project(tmp_path, GOOD + "charter: {project: New export}\n", [], {})
    with use_project(root):
        _fake_run(root, "demo-2026Q2", "2026-06-30", "Best current customer segmentation",
                  [f"D{i}" for i in range(50)])
        _fake_run(root, "old-2026Q2", "2026-06-30", "New export", [f"X{i}" for i in range(5)])
        params = load_params(root / "params" / "p.yaml")
        store = RunStore("new-2026Q3", root / "data" / "processed" / "new-2026Q3")
        store.path.mkdir(parents=True)
        store.write("accounts_raw", pd.DataFrame({"account_id": ["A1", "A2"]}))
        s = Session(run_id="new-2026Q3", params=params, store=store, interactive=False,
                    step="04_analysis")
        out = step4.since_previous(s)
        doc = out.doc
        assert doc["previous_run"] is None and doc["previous_quarter_run"] is None
        assert not store.has("migration_matrix")
        assert "run old-2026Q2 (as of 2026-06-30) skipped: no account ids in common with this " \
               "run" in doc["notes"]
        assert any("demo-2026Q2" in n and "not considered" in n for n in doc["notes"])
        warns = json.loads((store.path / "warnings.json").read_text())
        assert warns["04_analysis:comparison"] == doc["notes"]
        section = deck.BUILDERS["since-previous"](deck.Context(store, params))
        page = report.render("t", [], [section])
    text = _html.unescape(page)
    assert "no earlier complete run of this lineage" in text
    assert "old-2026Q2 (as of 2026-06-30) skipped: no account ids in common" in text
    assert "churned" not in text


def test_check_warns_about_a_named_run_of_another_lineage(tmp_path, capsys):
    register = [_entry("H01", "industry", "categorical")]
    root = _project(tmp_path, GOOD + "previous_run: other-2026Q2\n", register,
                    {"accounts.csv": _accounts()})
    with use_project(root):
        _fake_run(root, "other-2026Q2", "2026-06-30", "Other project", ["Z1", "Z2"])
    rc, out = _check(root, capsys)
    assert rc == 0, out
    assert "warning: previous_run: run 'other-2026Q2' belongs to lineage 'Other project', this " \
           "run to 'Best current customer segmentation'" in out
    assert "warning: previous_run: run 'other-2026Q2' has no account id in common with this " \
           "export" in out


# --------------------------------------------------------------------------- unreadable values
def test_unreadable_values_are_counted_per_column(tmp_path):
    """Before: N/A, TBD, -, ? became categories of a categorical column (or silently missing
    in a numeric one) and showed only as rows of the standardisation log."""
    reg = [_entry("H1", "employees"), _entry("H2", "business_model", "categorical"),
           _entry("H3", "competitor", "categorical")]
    (tmp_path / "reg.yaml").write_text(yaml.safe_dump(reg), encoding="utf-8")
    pd.DataFrame({"domain": ["a.com", "b.com", "c.com", "d.com", "zz.com"],
                  "employees": ["1200", "TBD", "?", "n/a", "?"],
                  "business_model": ["B2B", "N/A", "B2C", "-", "tbd"]}
                 ).to_csv(tmp_path / "firmo.csv", index=False)
    prm = Params.model_validate({
        "as_of": "2026-09-30", "inputs": {
            "accounts": {"path": str(tmp_path / "acc.csv")},
            "firmographics": {"path": str(tmp_path / "firmo.csv"), "join_on": "domain"}},
        "hypotheses": {"register_file": str(tmp_path / "reg.yaml")}})
    scored = pd.DataFrame({"account_id": ["A1", "A2", "A3", "A4"],
                           "account_name": ["Acme", "Beta", "Gamma", "Delta"],
                           "domain": ["a.com", "b.com", "c.com", "d.com"],
                           "employees": [np.nan, 50.0, np.nan, np.nan],
                           "competitor": ["Yes", "TBD", " ? ", "No"], "score": [4.0, 3, 2, 1]})
    table, rep = build_analysis_table(prm, scored)
    t = table.set_index("account_id")
    assert set(t["competitor"].dropna()) == {"Yes", "No"}  # no 'TBD' / '?' category
    assert set(t["business_model"].dropna()) == {"B2B", "B2C"}
    q = rep["quality_report"].set_index("variable")["unreadable"]
    # employees: A2 keeps its account value (50), A3 '?' and A4 'n/a' are gaps; zz.com is no
    # account of the list
    assert q.to_dict() == {"employees": 2, "business_model": 2, "competitor": 2}
    store = RunStore("r", tmp_path / "run")
    store.path.mkdir()
    store.write("quality_report", rep["quality_report"])
    section = deck.BUILDERS["method-data-gaps"](deck.Context(store, prm))
    page = _html.unescape(report.render("t", [], [section]))
    assert "Unreadable values, counted as missing: H1 (employees): 2 account(s); H2 " \
           "(business_model): 2 account(s); H3 (competitor): 2 account(s)." in page


def test_as_of_is_a_date_after_the_yaml_fix(tmp_path):
    (tmp_path / "p.yaml").write_text("as_of: 2026-09-30\ninputs:\n  accounts: {path: a.csv}\n",
                                     encoding="utf-8")
    assert load_params(tmp_path / "p.yaml").as_of == dt.date(2026, 9, 30)


# (kind, positive_category, the column's values, whether it matches)
CATEGORY_CASES = [
    ("boolean", "yes", ["Y", "N"], True),
    ("boolean", "Yes", ["1", "0"], True),
    ("boolean", "no", [1, 0], True),
    ("boolean", "TRUE", ["TRUE", "FALSE"], True),
    ("boolean", "y", [True, False], True),
    ("boolean", "no", ["true", "True"], False),  # every value says yes
    ("categorical", "b2b", ["B2B", "B2C"], True),
    ("categorical", " B2B ", ["B2B ", "B2C"], True),
    ("categorical", "software", ["Software", "SOFTWARE"], False),  # two labels: ambiguous
    ("categorical", "Health care", ["Health  care", "Retail"], False),  # inner spaces differ
    ("categorical", "B2X", ["B2B", "B2C"], False),
]


def test_check_and_step3_agree_on_which_positive_category_matches():
    """`workbook check` and Step 3 share one definition of "matches a value"
    (helpers.collect.labels.resolve_category): they flag the same hypotheses."""
    from helpers.collect.hypotheses import check_positive_categories
    from helpers.run.checks import positive_category_problems

    register = pd.DataFrame([
        {"id": f"H{i:02d}", "variable": f"v{i}", "kind": kind, "positive_category": positive,
         "measure_type": "column", "measure": f"v{i}"}
        for i, (kind, positive, _, _) in enumerate(CATEGORY_CASES)])
    table = pd.DataFrame({f"v{i}": pd.Series(values, dtype=object)
                          for i, (_, _, values, _) in enumerate(CATEGORY_CASES)})
    by_check = {hid for hid, _ in positive_category_problems(
        register, {c: table[c].tolist() for c in table.columns})}
    by_step3 = {m.split(":")[0].removeprefix("hypothesis ")
                for m in check_positive_categories(register, table, strict=False)}
    expected = {f"H{i:02d}" for i, case in enumerate(CATEGORY_CASES) if not case[3]}
    assert by_check == by_step3 == expected

"""helpers.analyse.quarterly on tiny hand-made frames: run discovery, diffs, migration, retention, CRM."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.analyse import quarterly
from helpers.core.errors import RunError
from helpers.core.io import read_table
from helpers.core.params import Source


def _runs(rows):
    return pd.DataFrame(rows, columns=["run_id", "as_of", "complete", "status"])


RUNS = _runs([("2026Q2", "2026-06-30", True, "complete"),
              ("2026Q3", "2026-09-30", True, "complete"),
              ("2026Q3-v2", "2026-09-30", True, "complete"),
              ("2026Q1", "2026-03-31", False, "failed at notebook 3 (03_data_collection)"),
              ("2026Q4", "2026-12-31", False, "failed at notebook 4 (04_analysis)")])


def test_previous_run_is_latest_by_as_of_then_run_id_and_skips_incomplete():
    assert quarterly.previous_run("2026Q3-v2", "2026-09-30", RUNS) == "2026Q3"
    assert quarterly.previous_run("2026Q3", "2026-09-30", RUNS) == "2026Q2"
    assert quarterly.previous_run("2026Q3-v2", "2026-09-30", RUNS, earlier_as_of=True) == "2026Q2"
    assert quarterly.previous_run("2026Q2", "2026-06-30", RUNS) is None  # 2026Q1 failed: skipped
    assert quarterly.previous_run("2027Q1", "2027-03-31", RUNS) == "2026Q3-v2"  # Q4 failed


def test_resolve_comparisons_for_a_feedback_iteration_and_named_runs():
    c = quarterly.resolve_comparisons("2026Q3-v2", "2026-09-30", RUNS)
    assert (c.previous_run, c.previous_quarter_run) == ("2026Q3", "2026Q2")
    c = quarterly.resolve_comparisons("2026Q3", "2026-09-30", RUNS)
    assert (c.previous_run, c.previous_quarter_run) == ("2026Q2", "2026Q2")
    c = quarterly.resolve_comparisons("2026Q2", "2026-06-30", RUNS)
    assert (c.previous_run, c.previous_quarter_run) == (None, None)
    with pytest.raises(RunError, match="does not exist"):
        quarterly.resolve_comparisons("2026Q3", "2026-09-30", RUNS, previous="nope")
    with pytest.raises(RunError, match="not complete"):
        quarterly.resolve_comparisons("2027Q1", "2027-03-31", RUNS, previous="2026Q4")


def test_param_diff_lists_changed_added_removed_keys():
    a = {"as_of": "2026-06-30", "score": {"churn_penalty": 5000, "acv_weight": 1.0},
         "exclusions": {"manual_exclude": []}, "old": 1}
    b = {"as_of": "2026-09-30", "score": {"churn_penalty": 8000, "acv_weight": 1.0},
         "exclusions": {"manual_exclude": ["X1"]}, "new": True}
    d = quarterly.param_diff(a, b).set_index("parameter")
    assert set(d.index) == {"as_of", "score.churn_penalty", "exclusions.manual_exclude", "old",
                            "new"}
    assert d.loc["score.churn_penalty", ["previous", "current", "change"]].tolist() == [
        "5000", "8000", "changed"]
    assert d.loc["exclusions.manual_exclude", "current"] == '["X1"]'
    assert d.loc["old", "change"] == "removed" and d.loc["new", "change"] == "added"
    assert quarterly.param_diff(a, a).empty


def test_input_diff_by_hash_with_rows():
    prev = {"accounts": {"path": "a2.csv", "size_bytes": 10, "sha256": "h1"},
            "tickets": {"path": "t.csv", "size_bytes": 5, "sha256": "t"},
            "survey": {"path": "s.csv", "size_bytes": 1, "sha256": "s"}}
    cur = {"accounts": {"path": "a3.csv", "size_bytes": 12, "sha256": "h2"},
           "tickets": {"path": "t.csv", "size_bytes": 5, "sha256": "t"},
           "usage": {"path": "u.csv", "size_bytes": 3, "sha256": "u"}}
    files = pd.DataFrame({"file": ["a2.csv", "t.csv"], "rows": [7, 3]})
    d = quarterly.input_diff(prev, cur, files, None).set_index("role")
    assert d["change"].to_dict() == {"accounts": "changed", "survey": "removed",
                                     "tickets": "same", "usage": "added"}
    assert d.loc["accounts", "rows_prev"] == 7


# ----------------------------------------------------------------------------- migration
def _snapshot(rows):
    """rows: (id, status, is_test, mrr, excluded, segment or None, quartile, score)."""
    df = pd.DataFrame(rows, columns=["account_id", "status", "is_test", "mrr", "excluded",
                                     "segment", "quartile", "score"])
    acc = df[["account_id", "status", "is_test", "mrr"]].assign(account_name=df["account_id"]
                                                                + " Ltd")
    exc = df[["account_id", "excluded"]].assign(
        exclusion_rule=df["excluded"].map({True: "min_tenure", False: "kept"}))
    sa = df[df["segment"].notna()][["account_id", "segment", "quartile", "score"]]
    sa = sa.assign(segment_name=sa["segment"].map({"S1": "Big", "S2": "Small"}))
    return acc, exc, sa


PREV = _snapshot([
    ("a", "current", False, 100.0, False, "S1", "A", 10.0),
    ("b", "current", False, 50.0, False, "S2", "B", 5.0),
    ("c", "former", False, 30.0, False, "S2", "D", -1.0),
    ("d", "current", False, 40.0, True, None, None, None),
    ("e", "current", True, 0.0, True, None, None, None),
    ("h", "current", False, 80.0, False, "S1", "B", 8.0),
])
CUR = _snapshot([
    ("a", "current", False, 120.0, False, "S2", "B", 9.0),    # upgraded, moved S1 -> S2
    ("b", "former", False, 50.0, False, "S2", "D", -3.0),     # churned
    ("c", "former", False, 30.0, False, "S2", "D", -1.0),     # still not a customer
    ("d", "current", False, 40.0, False, "S1", "A", 12.0),    # was excluded, now S1
    ("f", "current", False, 70.0, True, None, None, None),    # won (too new: excluded)
    ("g", "former", False, 20.0, True, None, None, None),     # won and lost in between
    ("h", "current", False, 60.0, False, "S1", "A", 11.0),    # downgraded, stays S1
])


def _mig(tol=0.0):
    ps = quarterly.account_states(*PREV, recommended=["S1"])
    cs = quarterly.account_states(*CUR, recommended=["S1"])
    return ps, cs, quarterly.migration(ps, cs, tolerance=tol)


def test_every_account_once_with_hand_computed_rows_columns_and_movements():
    _, _, m = _mig()
    got = m.set_index("account_id")[["row", "column", "movement"]].apply(tuple, axis=1).to_dict()
    assert got == {
        "a": ("Big", "Small", "upgraded"), "b": ("Small", "churned", "churned"),
        "c": ("not a customer", "not a customer", "not a customer"),
        "d": ("excluded", "Big", "unchanged"), "e": ("not a customer", "not a customer",
                                                     "not a customer"),
        "f": ("new", "excluded", "won"), "g": ("new", "churned", "churned"),
        "h": ("Big", "Big", "downgraded")}
    r = m.set_index("account_id")
    assert r.loc["a", "target_move"] == "out of target" and r.loc["a", "segment_changed"]
    assert r.loc["d", "target_move"] == "into target"
    assert r.loc["d", "target_reason"] == "newly analysed (was excluded)"
    assert r.loc["h", "quartile_move"] == "up" and r.loc["a", "quartile_move"] == "down"
    assert r.loc["b", "arr_prev"] == 600.0 and r.loc["b", "arr_cur"] == 0.0


def test_matrix_summary_and_retention_reconcile():
    ps, cs, m = _mig()
    mat = quarterly.migration_matrix(m)
    assert mat["accounts"].sum() == 8
    cell = mat.set_index(["row", "column"])
    assert cell.loc[("Big", "Small"), "arr_cur"] == 1440.0
    summ = quarterly.migration_summary(m, ps, cs).set_index("measure")["value"]
    assert summ["reconciles"] == 1
    assert summ["won (new in the current snapshot, current customer)"] == 1
    assert summ["churned (customer before, not now)"] == 1
    wide = quarterly.matrix_wide(mat)
    assert wide.iloc[-1]["total"] == 8
    ret = quarterly.retention(m).set_index("segment")
    # start ARR: a 1200, b 600, d 480, h 960 (test account e has no ARR) = 3240
    tot = ret.loc["Total"]
    assert tot["start_arr"] == 3240.0 and tot["churned_arr"] == 600.0
    assert tot["contraction_arr"] == 240.0 and tot["expansion_arr"] == 240.0
    assert tot["grr"] == pytest.approx((3240 - 600 - 240) / 3240)
    assert tot["nrr"] == pytest.approx((3240 - 600 - 240 + 240) / 3240)
    assert ret.loc["Big", "start_arr"] == 2160.0


def test_tolerance_makes_small_changes_unchanged():
    _, _, m = _mig(tol=0.5)
    assert m.set_index("account_id").loc[["a", "h"], "movement"].tolist() == ["unchanged"] * 2


def test_a_kept_customer_without_segment_raises():
    acc, exc, sa = PREV
    with pytest.raises(Exception, match="no segment"):
        quarterly.account_states(acc, exc, sa[sa["account_id"] != "a"])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["current", "former"]),
                          st.booleans(), st.sampled_from(["S1", "S2", None])),
                min_size=1, max_size=40),
       st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["current", "former"]),
                          st.booleans(), st.sampled_from(["S1", "S2", None])),
                min_size=1, max_size=40))
def test_property_every_account_of_either_snapshot_exactly_once(prev_rows, cur_rows):
    def snap(rows):
        seen, out = set(), []
        for i, status, mrr_up, seg in rows:
            if i in seen:
                continue
            seen.add(i)
            out.append((f"x{i}", status, False, 10.0 + 5 * mrr_up, seg is None, seg,
                        None if seg is None else "A", None if seg is None else 1.0))
        return _snapshot(out)
    ps, cs = quarterly.account_states(*snap(prev_rows)), quarterly.account_states(*snap(cur_rows))
    m = quarterly.migration(ps, cs)
    ids = set(ps["account_id"]) | set(cs["account_id"])
    assert len(m) == len(ids) and set(m["account_id"]) == ids
    assert quarterly.migration_matrix(m)["accounts"].sum() == len(ids)
    assert quarterly.migration_summary(m, ps, cs).set_index("measure")["value"]["reconciles"] == 1


def test_segment_definitions_match_rules_and_jaccard():
    defs_p = {"segments": [{"id": "S1", "rule": "big"}, {"id": "S2", "rule": "small"}],
              "recommended": ["S1"], "names": {"S1": "Big", "S2": "Small"}}
    defs_c = {"segments": [{"id": "S1", "rule": "small"}, {"id": "S2", "rule": "huge"}],
              "recommended": ["S1"], "names": {"S1": "Small", "S2": "Huge"}}
    pa = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "segment": ["S1", "S1", "S2", "S2"]})
    ca = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "segment": ["S2", "S1", "S1", "S1"]})
    d = quarterly.segment_definitions(defs_p, defs_c, pa, ca).set_index("rule")
    assert d["status"].to_dict() == {"small": "same rule", "huge": "new rule",
                                     "big": "dropped rule"}
    # "small": prev {c, d}, cur {b, c, d}: 2 / 3
    assert d.loc["small", "jaccard"] == pytest.approx(2 / 3)
    assert d.loc["small", "id_prev"] == "S2" and d.loc["small", "id_cur"] == "S1"


def test_ranking_change_and_quartile_changes():
    pa = pd.DataFrame({"account_id": list("abcd"), "score": [4.0, 3, 2, 1],
                       "quartile": list("ABCD"), "segment_name": ["x"] * 4})
    ca = pd.DataFrame({"account_id": list("abcd"), "score": [3.0, 4, 2, 1],
                       "quartile": list("BACD"), "segment_name": ["x", "x", "y", "x"]})
    r = quarterly.ranking_change(pa, ca).iloc[0]
    assert r["accounts"] == 4 and r["spearman"] == pytest.approx(0.8)
    assert r["changed_quartile"] == 2 and r["changed_segment"] == 1
    assert r["top_quartile_kept"] == 0.0
    assert quarterly.quartile_changes(pa, ca)["account_id"].tolist() == ["a", "b"]


# ----------------------------------------------------------------------------- CRM
ASSIGN = pd.DataFrame({"account_id": ["0015B", "0015A", "0015C"], "segment": ["S1", "S2", "S1"],
                       "segment_name": ["Big", "=HYPERLINK(\"x\")", "Big"],
                       "quartile": ["A", "C", "B"], "score": [12.5, -3.25, 7.0]})


@pytest.mark.parametrize("fmt,preset,id_col", [("salesforce", "salesforce", "Id"),
                                               ("hubspot", "hubspot", "Record ID")])
def test_crm_export_shape_and_reimport(tmp_path, fmt, preset, id_col):
    from helpers.core.export import safe_csv

    out = quarterly.crm_export(ASSIGN, "2026Q3", fmt)
    assert list(out.columns) == [id_col, "Segment", "Segment Name", "Quartile", "Quality Score",
                                 "Segmentation Run"]
    assert out[id_col].tolist() == ["0015A", "0015B", "0015C"]
    path = safe_csv(out, tmp_path / "crm.csv")
    assert "'=HYPERLINK" in path.read_text(encoding="utf-8-sig")  # formula neutralised
    back = read_table(Source(path=str(path), preset=preset,
                             mapping={"segment": "Segment", "quartile": "Quartile",
                                      "score": "Quality Score"}),
                      numeric=("score",))
    assert back["account_id"].tolist() == out[id_col].tolist()
    assert back["segment"].tolist() == out["Segment"].tolist()
    assert back["quartile"].tolist() == out["Quartile"].tolist()
    assert back["score"].tolist() == out["Quality Score"].tolist()


def test_crm_changed_only():
    prev = ASSIGN.iloc[[0, 1]].assign(quartile=["A", "D"])
    out = quarterly.crm_export(ASSIGN, "r", "salesforce", previous=prev, changed_only=True)
    assert out["Id"].tolist() == ["0015A", "0015C"]  # A changed quartile, C is new
    with pytest.raises(Exception, match="unknown CRM format"):
        quarterly.crm_export(ASSIGN, "r", "dynamics")  # type: ignore[arg-type]

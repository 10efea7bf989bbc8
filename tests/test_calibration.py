"""Issue 14: the calibration study (helpers.synthetic.calibrate) on a small fixed sample of factory rooms,
its summary figures, and the report's sentence on the detectable effect (helpers.synthetic.calibration)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from helpers.synthetic import calibrate, calibration
from helpers.synthetic.factory import HypothesisTruth

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = {"date": "2026-12-03", "rooms": 200, "sizes": {
    "300": {"min_detectable_effect_80": 0.40}, "1500": {"min_detectable_effect_80": 0.20},
    "5000": {"min_detectable_effect_80": 0.10}}}


# --------------------------------------------------------------------------- a sample of rooms
SEEDS = (100, 102, 106)  # each room's truth holds a strong numeric main effect (asserted below)


def _strong(truth: dict) -> list[str]:
    """Planted numeric main effects with |delta| >= 0.3 (population and realised), stated in
    the right direction: the effects a 300-account base must find."""
    return [h["variable"] for h in truth["hypotheses"] if h["status"] == "planted"
            and h["kind"] == "numeric" and h["interaction_with"] is None
            and min(abs(h["delta_population"]), abs(h["delta_realised"])) >= 0.3
            and h["stated_direction"] == h["true_sign"]]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """Three 300-account rooms run through the calibration runner."""
    work = tmp_path_factory.mktemp("calibration")
    env = {k: os.environ.get(k) for k in ("WORKBOOK_ROOT", "WORKBOOK_JOBS")}
    out = [calibrate.run_room(s, 300, work) for s in SEEDS]
    assert {k: os.environ.get(k) for k in env} == env  # the runner leaves the environment as found
    assert not list(work.iterdir())  # and no scratch project behind
    return out


def test_every_room_completes_or_fails_with_a_named_error(sample):
    assert len(sample) == 3
    for r in sample:
        assert r["status"] in ("ok", "failed")
        if r["status"] == "failed":
            assert r["error"].split(":")[0].endswith("Error"), r["error"]
    assert any(r["status"] == "ok" for r in sample), [r.get("error") for r in sample]


def test_every_account_is_reconciled_and_every_wart_excluded(sample):
    for r in (r for r in sample if r["status"] == "ok"):
        rec = r["reconciliation"]
        assert rec["raw"] == 300 and rec["all_accounted"], rec
        assert rec["tests_excluded"] and rec["new_excluded"] and rec["outlier_excluded"], rec
        assert rec["kept_as_planted"], rec


def test_strong_planted_effects_found_with_their_sign_and_no_wrong_sign(sample):
    for r in (r for r in sample if r["status"] == "ok"):
        truth = {h["variable"]: h for h in r["truth"]["hypotheses"]}
        got = {h["variable"]: h for h in r["hypotheses"]}
        strong = _strong(r["truth"])
        assert strong, r["seed"]
        for v in strong:
            assert got[v]["verdict"] == "validated", (r["seed"], v, got[v]["reason"])
            assert got[v]["sign"] == truth[v]["true_sign"], v
        for h in got.values():  # never a validated planted effect with the wrong sign
            if h["status"] == "planted" and h["verdict"] == "validated":
                assert h["sign"] == h["true_sign"], h


def test_summary_of_the_sample_counts_what_happened(sample):
    s = calibrate.summarise(sample)
    ok = [r for r in sample if r["status"] == "ok"]
    assert s["rooms"] == 3 and s["completed"] == len(ok) and s["failed"] == 3 - len(ok)
    planted_right = [h for r in ok for h in r["hypotheses"]
                     if h["status"] == "planted" and h["stated"] == h["true_sign"]]
    assert s["planted_effects"] == len(planted_right)
    hits = sum(h["verdict"] == "validated" and h["sign"] == h["true_sign"] for h in planted_right)
    assert s["recall"] == pytest.approx(hits / len(planted_right), abs=1e-4)
    assert s["wrong_sign"] == 0
    assert sum(b["effects"] for b in s["recall_by_effect_size"].values()) == len(planted_right)


# --------------------------------------------------------------------------- summary logic
def _h(status, true_sign, stated, delta, verdict, sign):
    return {"variable": "x", "kind": "numeric", "status": status, "true_sign": true_sign,
            "stated": stated, "delta": delta, "delta_population": delta, "verdict": verdict,
            "sign": sign, "reason": "", "in_regression": False}


def test_study_json_round_trips():
    doc = {"date": "2026-12-03", "sizes": {"300": {"recall": 0.5}},
           "rooms_detail": {"300": [{"seed": 1, "status": "ok"}, {"seed": 2, "status": "failed"}],
                            "1500": []}}
    assert json.loads(calibrate.to_json(doc)) == doc


def test_summarise_recall_wrong_signs_nulls_and_interactions():
    rooms = [
        {"status": "ok", "seconds": 2.0, "interaction": True, "interaction_tree": True,
         "interaction_split": False, "reconciliation": {"all_accounted": True},
         "hypotheses": [_h("planted", "+", "+", 0.5, "validated", "+"),
                        _h("planted", "-", "-", 0.1, "rejected", ""),
                        _h("planted", "+", "-", 0.4, "validated", "-"),  # misstated, validated
                        _h("null", "", "+", 0.01, "validated", "+"),
                        _h("null", "", "-", 0.0, "rejected", "")]},
        {"status": "ok", "seconds": 4.0, "interaction": True, "interaction_tree": False,
         "interaction_split": False, "reconciliation": {"all_accounted": True},
         "hypotheses": [_h("planted", "-", "-", -0.25, "validated", "-"),
                        _h("null", "", "+", 0.0, "inconclusive", "")]},
        {"status": "failed", "seconds": 1.0, "error": "KeyError: 'sample'", "seed": 9},
    ]
    s = calibrate.summarise(rooms)
    assert (s["rooms"], s["completed"], s["failed"]) == (3, 2, 1)
    assert s["failures"] == [{"error": "KeyError: 'sample'", "rooms": 1}]
    assert s["planted_effects"] == 3 and s["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert s["recall_strong"] == 1.0 and s["strong_effects"] == 2
    assert s["wrong_sign"] == 1 and s["planted_misstated"] == 1
    assert s["null_validated_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["interaction_recall"] == 0.5 and s["interaction_recall_split"] == 0.0
    assert s["seconds_per_room_mean"] == pytest.approx(7 / 3, abs=1e-3)


def test_validated_sign_is_read_in_the_truths_frame():
    def truth(kind, positive, true_label=None):
        return HypothesisTruth("H1", "v", "V", kind, "planted", "+", "+", positive, true_label,
                               0.3, 0.3)

    assert calibrate._validated_sign({"direction": "+", "category": "Annual"},
                               truth("categorical", "Annual")) == "+"
    assert calibrate._validated_sign({"direction": "-", "category": "Monthly"},
                               truth("categorical", "Annual")) == "+"
    # a boolean named by its false label ("N"): the workbook's "yes" flips the frame
    assert calibrate._validated_sign({"direction": "+", "category": "yes"},
                               truth("boolean", "N", "Y")) == "-"
    assert calibrate._validated_sign({"direction": "+", "category": "yes"},
                               truth("boolean", "1.0", "1.0")) == "+"
    assert calibrate._validated_sign({"direction": "+", "category": "1"},
                               truth("boolean", "0.0", "1.0")) == "-"


def test_min_detectable_effect_from_a_logistic_fit():
    d = np.linspace(0, 0.6, 121)
    rng = np.random.default_rng(0)
    found = rng.random(len(d)) < 1 / (1 + np.exp(-(d - 0.25) * 30))
    mde = calibrate.min_detectable_effect(d, found)
    # the true 80 % point of this curve: 0.25 + ln(4) / 30 = 0.296
    assert mde is not None and abs(mde - 0.296) < 0.05
    assert calibrate.min_detectable_effect(d, np.ones_like(d, bool)) is None  # no curve to fit


# --------------------------------------------------------------------------- the report
def test_detectable_effect_interpolates_on_log_n():
    at = calibration.detectable_effect(300, SUMMARY)
    assert (at.delta, at.how) == (0.40, "at")
    mid = calibration.detectable_effect(int(round(np.sqrt(300 * 1500))), SUMMARY)
    assert mid.how == "interpolated" and mid.delta == pytest.approx(0.30, abs=0.002)
    assert (mid.lo, mid.hi) == (300, 1500)
    below = calibration.detectable_effect(120, SUMMARY)
    assert (below.delta, below.how) == (0.40, "below")
    above = calibration.detectable_effect(20_000, SUMMARY)
    assert (above.delta, above.how) == (0.10, "above")
    assert calibration.detectable_effect(1000, {"sizes": {}}) is None


def test_calibration_sentence_words_the_figure():
    text = calibration.calibration_sentence(670, SUMMARY)
    assert "With 670 accounts" in text and "0.30 or more 80 % of the time" in text
    assert "interpolated between 300 and 1,500 accounts" in text and "200 simulated" in text
    assert "smallest size studied" in calibration.calibration_sentence(120, SUMMARY)
    assert "No calibration figures" in calibration.calibration_sentence(670, {"sizes": {}})


def test_shipped_summary_matches_the_newest_committed_results():
    results = sorted((ROOT / "benchmarks" / "results").glob("calibration-*.json"))
    assert results, "commit the study's results (workbook calibrate)"
    doc = json.loads(results[-1].read_text(encoding="utf-8"))
    shipped = calibration.load_summary()
    assert shipped is not None, "run workbook calibrate --package-summary"
    assert shipped["sizes"] == calibration.summary_of(doc)["sizes"]
    assert shipped["date"] == doc["date"] and shipped["rooms"] == doc["rooms"]


def test_report_states_the_detectable_effect_escaped(tmp_path, monkeypatch):
    from test_deck import N_ACCOUNTS, load_params, make_run

    from helpers.present import deck

    hostile = dict(SUMMARY, date="<script>alert(1)</script>")
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(hostile), encoding="utf-8")
    monkeypatch.setattr(calibration, "PACKAGE_SUMMARY", path)
    html = deck.build_report(make_run(tmp_path), load_params(), tmp_path / "r.html").read_text(
        encoding="utf-8")
    assert f"With {N_ACCOUNTS} accounts" in html
    assert "0.40 or more 80 % of the time" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html

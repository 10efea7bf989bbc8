"""helpers.core.parallel and the Step-4 work it spreads over cores: same numbers whatever the
number of workers ($WORKBOOK_JOBS)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

from helpers.analyse import robustness
from helpers.analyse.segments import segmenter
from helpers.core import parallel
from helpers.core.errors import ParameterError


def test_ordered_map_keeps_input_order_and_runs_side_by_side():
    threads = set()

    def slow(x: int) -> int:
        threads.add(threading.get_ident())
        time.sleep(0.02 * (5 - x))  # later items finish first
        return x * x

    assert parallel.ordered_map(slow, range(5), n_jobs=3) == [0, 1, 4, 9, 16]
    assert len(threads) > 1
    assert parallel.ordered_map(slow, [], n_jobs=3) == []


def test_ordered_map_consumes_items_lazily():
    made: list[int] = []
    done: list[int] = []

    def items():
        for i in range(10):
            made.append(i)
            yield i

    def work(x: int) -> int:
        # never more than n_jobs items drawn ahead of the results handed back
        assert len(made) - len(done) <= 3
        done.append(x)
        return x

    assert parallel.ordered_map(work, items(), n_jobs=2) == list(range(10))


def test_ordered_map_reraises_the_first_error():
    def boom(x: int) -> int:
        if x == 3:
            raise ValueError("bad item 3")
        return x

    with pytest.raises(ValueError, match="bad item 3"):
        parallel.ordered_map(boom, range(6), n_jobs=2)


def test_workers_from_environment(monkeypatch):
    monkeypatch.setenv("WORKBOOK_JOBS", "3")
    assert parallel.workers() == 3
    monkeypatch.delenv("WORKBOOK_JOBS")
    assert parallel.workers() >= 1
    for bad in ("0", "-2", "two"):
        monkeypatch.setenv("WORKBOOK_JOBS", bad)
        with pytest.raises(ParameterError, match="WORKBOOK_JOBS"):
            parallel.workers()


def _accounts(n: int = 600, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    emp = rng.integers(5, 3000, n).astype(float)
    b2b = rng.random(n) < 0.6
    return pd.DataFrame({
        "account_id": [f"A{i:05d}" for i in rng.permutation(n)],
        "employees": emp, "b2b": b2b,
        "score": np.round(np.log(emp) + 1.5 * b2b + rng.normal(0, 1, n), 1),
        "c_revenue": rng.gamma(2, 500, n).round(), "c_cost": -rng.gamma(2, 50, n).round(),
        "c_churn": -500.0 * (rng.random(n) < 0.1),
    })


@pytest.mark.parametrize("jobs", ["2", "3"])
def test_robustness_matches_serial(monkeypatch, jobs):
    t = _accounts()
    comps, weights = t[["account_id", "c_revenue", "c_cost", "c_churn"]], \
        {"c_revenue": 1.0, "c_cost": 1.0, "c_churn": 1.0}
    seg = segmenter(["b2b", "employees"], 0.25, 0.05)
    monkeypatch.setenv("WORKBOOK_JOBS", "1")
    wp1 = robustness.weight_perturbation(comps, weights, draws=40, seed=2, kendall_max_n=200,
                                         batch=7)
    st1 = robustness.segment_stability(t[["account_id", "score", "b2b", "employees"]], seg,
                                       n_boot=12, seed=2)
    monkeypatch.setenv("WORKBOOK_JOBS", jobs)
    # a different batch size and worker count: every draw's numbers are its own
    wp2 = robustness.weight_perturbation(comps, weights, draws=40, seed=2, kendall_max_n=200,
                                         batch=3, max_cells=600 * 5)
    st2 = robustness.segment_stability(t[["account_id", "score", "b2b", "employees"]], seg,
                                       n_boot=12, seed=2)
    for a, b in ((wp1.draws, wp2.draws), (wp1.accounts, wp2.accounts),
                 (wp1.summary, wp2.summary), (st1, st2)):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_in_background_returns_the_result_or_the_error(monkeypatch, jobs):
    monkeypatch.setenv("WORKBOOK_JOBS", jobs)
    assert parallel.in_background(lambda a, b=0: a + b, 2, b=3).result() == 5

    def fail() -> None:
        raise ValueError("scan failed")

    handle = parallel.in_background(fail)  # the error waits for result()
    with pytest.raises(ValueError, match="scan failed"):
        handle.result()

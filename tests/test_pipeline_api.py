"""The pipeline's interface (issue 15): every step returns a frozen dataclass, not a
string-keyed dict; a section that needs earlier results takes them by keyword; the findings
document keeps its keys and their order."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from types import SimpleNamespace

import pandas as pd
import pytest

from helpers import pipeline
from helpers.analyse.findings import findings as headline_facts
from helpers.pipeline import step1, step2, step3, step4, step5

STEPS = (step1, step2, step3, step4, step5)


def _public_functions():
    for module in STEPS:
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                yield module, name, fn


@pytest.mark.parametrize("module,name,fn", list(_public_functions()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_no_step_returns_a_string_keyed_dict_of_anything(module, name, fn):
    hints = typing.get_type_hints(fn, vars(module) | vars(pipeline))
    assert hints["return"] != dict[str, typing.Any], f"{module.__name__}.{name}"


@pytest.mark.parametrize("fn,inputs", [
    (step1.scored_accounts, {"flagged"}),
    (step3.worksheet, {"table", "register"}),
    (step4.verdicts, {"tests", "tree", "regression"}),
    (step4.schemes, {"verdicts", "tree", "regression"}),
    (step4.segments, {"core"}),
    (step4.robustness, {"core", "names"}),
    (step4.needs, {"assignment"}),
    (step4.prospects, {"segments"}),
    (step4.findings, {"segments", "schemes", "verdicts", "robustness", "regression"}),
])
def test_earlier_results_are_passed_by_keyword(fn, inputs):
    params = inspect.signature(fn).parameters.values()
    keyword_only = {p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert keyword_only == inputs


@pytest.mark.parametrize("cls", [step1.CustomerList, step2.Hypotheses, step3.Collected,
                                 step4.Tests, step4.TreeFit, step4.RegressionFit,
                                 step4.Schemes, step4.Segments, step4.Robustness,
                                 step4.Findings, step4.SincePrevious, step4.Results,
                                 step4.AnalysisPath, step5.Report, pipeline.ChainResult])
def test_step_results_are_frozen_and_documented(cls):
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    assert cls.__doc__ and all(f.name in cls.__doc__ for f in dataclasses.fields(cls)
                               if cls is not step4.Findings)


def test_findings_document_keeps_its_keys_in_order():
    """findings.json is the report's source (and its SHA-256 is checked run to run): the
    typed Findings writes the facts in the order helpers.analyse.findings builds them, with
    core_variables last."""
    seg_out = pd.DataFrame({"segment": ["S1"], "name": ["Big B2B"]})
    priorities = SimpleNamespace(recommended=["S1"], coverage=0.3, top_capture=0.6,
                                 feasible=True, message="Recommend 1 segment", rule="rule")
    summary = pd.DataFrame({"scheme": ["tree"], "sample": ["out_of_sample"],
                            "accuracy_ratio": [0.4], "accuracy_ratio_ci_low": [0.2]})
    verdicts = pd.DataFrame({"verdict": ["validated", "rejected"]})
    facts = headline_facts(seg_out, priorities, summary, verdicts,
                           {"weights": "w", "segments": "s"})
    found = step4.Findings(**facts, core_variables=["employees"])
    assert list(found.to_dict()) == [*facts, "core_variables"]
    assert found.to_dict() == {**facts, "core_variables": ["employees"]}
    assert found.recommended_names == ["Big B2B"] and found.beats_random is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.beats_random = False  # type: ignore[misc]

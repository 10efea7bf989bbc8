"""Issue 15: parameter overrides from a notebook cell (``s = s.with_params({...})``), validated
like the parameter file, recorded in the run manifest and the report, and read-only
parameters (no assignment can bypass the validation or the record)."""

from __future__ import annotations

import hashlib
from dataclasses import FrozenInstanceError

import pytest
from conftest import scratch_project, use_project

from helpers.analyse import lightweight
from helpers.core.errors import ParameterError
from helpers.core.params import Analysis, Lightweight, Tree, load, params_hash, with_overrides
from helpers.core.runinfo import effective_params_hash, overrides_text
from helpers.run.session import start

FORCED = {"analysis.tree.forced_root": "business_model"}


@pytest.fixture
def project(tmp_path):
    root = scratch_project(tmp_path / "project", demo=None)
    with use_project(root):
        yield root


def _problems(exc: pytest.ExceptionInfo) -> list[str]:
    """The problem lines of a ParameterError (without the line naming the file)."""
    return str(exc.value).splitlines()[1:]


@pytest.mark.parametrize(("overrides", "yaml", "expected"), [
    ({"analysis.tree.forced_rot": "industry"}, "analysis: {tree: {forced_rot: industry}}",
     "unknown key 'analysis.tree.forced_rot' (did you mean 'forced_root'?)"),
    ({"analysis.cv_folds": "five"}, "analysis: {cv_folds: five}",
     "'analysis.cv_folds': Input should be a valid integer"),
    ({"analysis.top_share": 2}, "analysis: {top_share: 2}",
     "'analysis.top_share': Input should be less than 1 (got 2)"),
])
def test_an_override_is_validated_like_the_parameter_file(project, overrides, yaml, expected):
    params = load("params/demo.yaml")
    with pytest.raises(ParameterError) as by_override:
        with_overrides(params, overrides)
    (project / "params" / "bad.yaml").write_text(f"extends: demo.yaml\n{yaml}\n")
    with pytest.raises(ParameterError) as by_file:
        load("params/bad.yaml")
    assert str(by_override.value).startswith("parameter overrides: 1 problem(s)")
    assert _problems(by_override) == _problems(by_file)
    assert expected in _problems(by_override)[0]


def test_an_override_through_a_value_or_without_a_key_names_it(project):
    params = load("params/demo.yaml")
    with pytest.raises(ParameterError, match="'seed.x': 'seed' is a value"):
        with_overrides(params, {"seed.x": 1})
    with pytest.raises(ParameterError, match="'analysis..top_share' is not a dotted"):
        with_overrides(params, {"analysis..top_share": 0.3})
    with pytest.raises(ParameterError, match="must be a mapping"):
        with_overrides(params, [("seed", 1)])  # type: ignore[arg-type]


def test_a_section_override_is_merged_like_a_child_parameter_file(project):
    params = load("params/demo.yaml")
    out = with_overrides(params, {"analysis.tree": {"max_depth": 2}})
    assert out.analysis.tree.max_depth == 2
    assert out.analysis.tree.min_samples_leaf == params.analysis.tree.min_samples_leaf
    assert with_overrides(params, {}) is params


def test_with_params_leaves_the_session_unchanged_and_records_the_override(project):
    s = start("ov", "params/demo.yaml", step="04_analysis", plots=False)
    s.store.update_manifest(params_hash=params_hash(s.params))
    s.pending["background"] = object()  # started with the old parameters
    s2 = s.with_params(FORCED)
    assert s.params.analysis.tree.forced_root is None and s.overrides == {}
    assert s2.params.analysis.tree.forced_root == "business_model"
    assert s2.overrides == FORCED and s2.pending == {} and s2.store is s.store
    m = s.store.manifest()
    assert m["overrides"] == {"04_analysis": FORCED}
    assert m["step_params_hash"] == {"04_analysis": params_hash(s2.params)}
    assert m["effective_params_hash"] not in (None, m["params_hash"])
    assert overrides_text(m) == "04_analysis: analysis.tree.forced_root = 'business_model'"
    # a later call adds to the earlier ones; the record follows the latest session
    s3 = s2.with_params({"analysis.tree.max_depth": 2})
    assert s3.overrides == {**FORCED, "analysis.tree.max_depth": 2}
    assert s.store.manifest()["overrides"]["04_analysis"] == s3.overrides
    assert s.store.manifest()["effective_params_hash"] != m["effective_params_hash"]


def test_an_override_that_changes_no_value_keeps_the_hash(project):
    s = start("ov", "params/demo.yaml", step="04_analysis", plots=False)
    s.store.update_manifest(params_hash=params_hash(s.params))
    s.with_params({"seed": s.params.seed})
    m = s.store.manifest()
    assert m["overrides"] == {"04_analysis": {"seed": s.params.seed}}
    assert m["step_params_hash"] == {} and m["effective_params_hash"] == m["params_hash"]


def test_starting_the_notebook_again_clears_its_overrides_only(project):
    s = start("ov", "params/demo.yaml", step="04_analysis", plots=False)
    s.store.update_manifest(params_hash=params_hash(s.params))
    s.with_params(FORCED)
    start("ov", "params/demo.yaml", step="02_hypotheses", plots=False).with_params(
        {"hypotheses.max_cost_usd": 1234})
    start("ov", "params/demo.yaml", step="04_analysis", plots=False)
    m = s.store.manifest()
    assert list(m["overrides"]) == ["02_hypotheses"] and list(m["step_params_hash"]) == [
        "02_hypotheses"]
    assert m["effective_params_hash"] == effective_params_hash(m["params_hash"],
                                                               m["step_params_hash"])


def test_a_direct_assignment_raises_and_changes_nothing(project):
    s = start("ov", "params/demo.yaml", step="04_analysis", plots=False)
    with pytest.raises(ParameterError, match=r"read-only.*Analysis\.top_share.*with_params"):
        s.params.analysis.top_share = 2
    with pytest.raises(ParameterError, match="read-only"):  # a valid value is no exception
        s.params.analysis.tree.forced_root = "industry"
    assert s.params.analysis.top_share == 0.25 and s.params.analysis.tree.forced_root is None
    with pytest.raises(FrozenInstanceError):  # nor can the session's parameters be swapped
        s.params = with_overrides(s.params, {"analysis.top_share": 0.3})  # type: ignore[misc]


@pytest.mark.parametrize("n_accounts", [20, 199, 5000])
def test_the_lightweight_copy_of_the_parameters_is_valid(n_accounts):
    """``model_copy(update=...)`` does not validate: the lightweight path's copy must be a
    value the validation accepts, at the smallest bounds the models allow."""
    low = Analysis(min_accounts=4, lightweight=Lightweight(min_tested=4, leaf_min=2,
                                                           category_min=1),
                   tree=Tree(min_samples_leaf=1, min_category_size=1))
    for analysis in (Analysis(), low):
        scaled = lightweight.scaled(analysis, n_accounts)
        assert Analysis.model_validate(scaled.model_dump()) == scaled


def test_an_override_in_a_run_changes_the_tree_root_not_the_file(tmp_path):
    from helpers.pipeline import step1, step2, step3, step4
    from helpers.present.deck import xlsx_sheets

    root = scratch_project(tmp_path / "project", demo=400, seed=5)
    yaml_file = root / "params" / "demo.yaml"
    before = hashlib.sha256(yaml_file.read_bytes()).hexdigest()
    with use_project(root):
        s = start("ov", "params/demo.yaml", step="01_setup", plots=False)
        step1.charter(s)
        step1.scored_accounts(s, flagged=step1.customer_list(s).flagged)
        step2.hypotheses(start("ov", "params/demo.yaml", step="02_hypotheses", plots=False))
        step3.collect(start("ov", "params/demo.yaml", step="03_data_collection", plots=False))
        s4 = start("ov", "params/demo.yaml", step="04_analysis", plots=False)
        natural = step4.tree(s4, step4.context(s4)).tree.nodes
        root_before = natural.iloc[0]["split_variable"]
        s4 = s4.with_params(FORCED)
        forced = step4.tree(s4, step4.context(s4)).tree.nodes
        stored = s4.store.read("tree_nodes")
        info = dict(xlsx_sheets(s4.store, s4.params)["run info"].to_numpy().tolist())
    assert root_before != "business_model"  # else the override would show nothing
    assert forced.iloc[0]["split_variable"] == stored.iloc[0]["split_variable"] == "business_model"
    assert info["parameter overrides in notebooks"] == (
        "04_analysis: analysis.tree.forced_root = 'business_model'")
    assert info["effective parameters hash"] != info["parameters hash"]
    assert hashlib.sha256(yaml_file.read_bytes()).hexdigest() == before

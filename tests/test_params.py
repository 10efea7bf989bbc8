"""Parameter files are validated before any notebook runs."""

from __future__ import annotations

import pytest

from helpers.core.errors import ParameterError
from helpers.core.params import Params, load, params_hash


def _write(tmp_path, text, name="p.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


MINIMAL = "as_of: 2026-09-30\ninputs:\n  accounts: {path: accounts.csv}\n"


def test_demo_params_are_valid_and_inherit_from_base(root):
    p = load(root / "params" / "demo.yaml")
    assert str(p.as_of) == "2026-09-30"
    assert p.inputs.firmographics is not None  # from base.yaml
    assert p.inputs.previous_accounts is not None  # from demo.yaml
    assert p.currency.rates["EUR"] == 1.08


def test_method_defaults():
    p = Params.model_validate({"as_of": "2026-09-30", "inputs": {"accounts": {"path": "a.csv"}}})
    assert p.exclusions.outlier_mrr_ratio == 4.0
    assert p.analysis.top_share == 0.25
    assert (p.segments.coverage_min, p.segments.coverage_max) == (0.25, 0.50)
    assert (p.segments.cs.accounts_per_manager_min, p.segments.cs.accounts_per_manager_max) == (10, 100)
    assert p.segments.cs.pooled_accounts_per_manager == 1000
    assert p.robustness.robust_share == 0.8


def test_unknown_key_is_named_with_a_suggestion(tmp_path):
    f = _write(tmp_path, MINIMAL + "exclusions:\n  outlier_mrr_raito: 3\n")
    with pytest.raises(ParameterError) as exc:
        load(f)
    msg = str(exc.value)
    assert "exclusions.outlier_mrr_raito" in msg and "did you mean 'outlier_mrr_ratio'" in msg


def test_wrong_type_is_named(tmp_path):
    f = _write(tmp_path, MINIMAL + "analysis:\n  top_share: lots\n")
    with pytest.raises(ParameterError, match="analysis.top_share"):
        load(f)


def test_top_level_typo(tmp_path):
    f = _write(tmp_path, MINIMAL + "exclusion:\n  mrr_floor: 3\n")
    with pytest.raises(ParameterError, match="did you mean 'exclusions'"):
        load(f)


def test_missing_required_key(tmp_path):
    f = _write(tmp_path, "inputs:\n  accounts: {path: a.csv}\n")
    with pytest.raises(ParameterError, match="as_of"):
        load(f)


def test_extends_merges_deeply_and_child_wins(tmp_path):
    _write(tmp_path, MINIMAL + "score:\n  churn_penalty: 100\n  cost_per_ticket: 7\n", "base.yaml")
    f = _write(tmp_path, "extends: base.yaml\nas_of: 2026-12-31\nscore:\n  churn_penalty: 9\n")
    p = load(f)
    assert str(p.as_of) == "2026-12-31"
    assert p.score.churn_penalty == 9 and p.score.cost_per_ticket == 7


def test_extends_cycle_is_refused(tmp_path):
    _write(tmp_path, "extends: b.yaml\n", "a.yaml")
    _write(tmp_path, "extends: a.yaml\n", "b.yaml")
    with pytest.raises(ParameterError, match="extends itself"):
        load(tmp_path / "a.yaml")


def test_not_yaml_and_not_found(tmp_path):
    with pytest.raises(ParameterError, match="not found"):
        load(tmp_path / "nope.yaml")
    with pytest.raises(ParameterError, match="not valid YAML"):
        load(_write(tmp_path, "as_of: [unclosed\n"))


def test_coverage_bounds_must_be_ordered(tmp_path):
    f = _write(tmp_path, MINIMAL + "segments:\n  coverage_min: 0.6\n  coverage_max: 0.5\n")
    with pytest.raises(ParameterError, match="coverage_min"):
        load(f)


def test_hash_changes_with_any_value(tmp_path):
    a = load(_write(tmp_path, MINIMAL, "a.yaml"))
    b = load(_write(tmp_path, MINIMAL + "seed: 7\n", "b.yaml"))
    assert params_hash(a) != params_hash(b)
    assert params_hash(a) == params_hash(load(tmp_path / "a.yaml"))

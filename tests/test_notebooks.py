"""Notebooks are committed clean: no outputs, one parameters cell of literals, thin cells."""

from __future__ import annotations

import ast
import json

import pytest

from helpers.core.paths import NOTEBOOKS

PARAMETER_NAMES = {"run_id", "params_path", "interactive"}


def _nb(root, name):
    return json.loads((root / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_without_outputs(root, name):
    for cell in _nb(root, name)["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs", []) == [], f"{name}: a cell has outputs"
            assert cell.get("execution_count") is None, f"{name}: a cell has an execution count"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_one_parameters_cell_of_literals(root, name):
    cells = [c for c in _nb(root, name)["cells"]
             if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{name}: exactly one cell tagged 'parameters'"
    tree = ast.parse("".join(cells[0]["source"]))
    assigned = set()
    for node in tree.body:
        assert isinstance(node, ast.Assign), f"{name}: parameters cell holds assignments only"
        ast.literal_eval(node.value)  # literals only
        assigned |= {t.id for t in node.targets}
    assert assigned == PARAMETER_NAMES


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_no_relative_parent_paths_and_kernel_named(root, name):
    nb = _nb(root, name)
    text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "../" not in text, f"{name}: paths come from helpers.core.paths, not '../'"
    assert nb["metadata"]["kernelspec"]["name"] == "segmentation-workbook"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_stay_thin(root, name):
    """No logic that lives only in a notebook: no function or class definitions."""
    for cell in _nb(root, name)["cells"]:
        if cell["cell_type"] == "code":
            tree = ast.parse("".join(cell["source"]))
            defs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)]
            assert not defs, f"{name}: move {defs[0].name} into src/helpers"

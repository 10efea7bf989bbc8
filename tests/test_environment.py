"""The lock, its conda twin and the declared dependencies agree."""

from __future__ import annotations

import re
import tomllib

import yaml


def _lock(root):
    return [ln.strip() for ln in (root / "requirements.lock").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]


def test_every_lock_line_is_an_exact_pin(root):
    for line in _lock(root):
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+!\-]+", line), line


def test_environment_yml_is_the_conda_twin_of_the_lock(root):
    env = yaml.safe_load((root / "environment.yml").read_text())
    deps = env["dependencies"]
    python = [d for d in deps if isinstance(d, str) and d.startswith("python")]
    assert python and re.fullmatch(r"python=3\.1[1-9]", python[0])
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert "-e ." in pip, "the package itself is installed in editable mode"
    assert [p for p in pip if p != "-e ."] == _lock(root)


def test_every_declared_dependency_is_locked(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]
    locked = {ln.split("==")[0].lower().replace("_", "-") for ln in _lock(root)}
    for dep in declared:
        name = re.split(r"[<>=\[ ;]", dep)[0].lower().replace("_", "-")
        assert name in locked, f"{name} is declared in pyproject.toml but not locked"


def test_design_card_packages_are_dependencies(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=\[ ;]", d)[0].lower() for d in project["dependencies"]}
    for pkg in ("jupyterlab", "pandas", "seaborn", "statsmodels", "scikit-learn", "papermill",
                "ipywidgets"):
        assert pkg in names

"""The lock, its conda twin and the declared dependencies agree."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from importlib.metadata import version as installed_version

import yaml
from packaging.requirements import Requirement
from packaging.version import Version


def _sync_env(root):
    spec = importlib.util.spec_from_file_location("sync_env", root / "tools" / "sync_env.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _lock(root):
    return _sync_env(root).lock_pins(root / "requirements.lock")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _project(root):
    return tomllib.loads((root / "pyproject.toml").read_text())


def test_every_lock_line_is_an_exact_pin(root):
    assert len(_lock(root)) > 50
    for line in _lock(root):
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+!\-]+", line), line


def test_every_locked_package_carries_its_hashes(root):
    """`pip install --require-hashes` (make env) needs a hash under every pin."""
    text = (root / "requirements.lock").read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9_.\-]+==)", text.split("\n", 2)[-1])
    pins = [b for b in blocks if re.match(r"[A-Za-z0-9_.\-]+==", b)]
    assert len(pins) == len(_lock(root))
    for block in pins:
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", block), block.splitlines()[0]


def test_lock_parser_reads_hashed_and_plain_lines(tmp_path, root):
    lock = tmp_path / "r.lock"
    lock.write_text("# header\npandas==3.1.1 \\\n    --hash=sha256:" + "a" * 64 +
                    "\n    # via x\nJinja2==3.1.6\n")
    assert _sync_env(root).lock_pins(lock) == ["pandas==3.1.1", "Jinja2==3.1.6"]


def test_license_is_an_spdx_string_not_a_table(root):
    """setuptools warns three times per build about `license = {text = ...}`."""
    project = _project(root)["project"]
    assert isinstance(project["license"], str)
    requires = _project(root)["build-system"]["requires"]
    setuptools = next(Requirement(r) for r in requires if r.startswith("setuptools"))
    assert setuptools.specifier.contains("77.0")
    assert not setuptools.specifier.contains("76.0")


def test_declared_dependencies_have_lower_bounds_met_by_the_lock(root):
    project = _project(root)["project"]
    pins = {_norm(p.split("==")[0]): Version(p.split("==")[1]) for p in _lock(root)}
    for dep in project["dependencies"] + project["optional-dependencies"]["dev"]:
        req = Requirement(dep)
        assert any(s.operator == ">=" for s in req.specifier), f"{dep}: no lower bound"
        assert req.specifier.contains(pins[_norm(req.name)]), f"lock breaks {dep}"
    bounds = {_norm(Requirement(d).name): Requirement(d).specifier
              for d in project["dependencies"]}
    assert not bounds["pandas"].contains("2.2.3") and bounds["pandas"].contains("3.0.0")
    assert not bounds["scikit-learn"].contains("1.2.2")  # missing_go_to_left needs 1.3


def _imports(path, source: str) -> set[str]:
    tree = ast.parse(source, filename=str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def _code_imports(root, folders) -> dict[str, str]:
    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            for mod in _imports(path, path.read_text(encoding="utf-8")):
                found.setdefault(mod, str(path.relative_to(root)))
        for path in sorted((root / folder).glob("*.ipynb")):
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
            code = "\n".join(ln for ln in code.splitlines() if not ln.lstrip().startswith(("%", "!")))
            for mod in _imports(path, code):
                found.setdefault(mod, str(path.relative_to(root)))
    return found


def _undeclared(found: dict[str, str], declared: set[str], local: set[str]) -> list[str]:
    dists = packages_distributions()
    missing = []
    for mod, where in sorted(found.items()):
        if mod in sys.stdlib_module_names or mod in local or mod == "__future__":
            continue
        names = {_norm(d) for d in dists.get(mod, [mod])}
        if not names & declared:
            missing.append(f"{mod} (imported in {where}; distribution {sorted(names)})")
    return missing


def test_everything_the_code_imports_is_declared(root):
    """Runtime code (package, notebooks, tools, benchmarks) imports only declared
    dependencies; tests may also use the dev extra. psutil used to come in through ipython."""
    project = _project(root)["project"]
    # optional features (extra `spark`: helpers.collect.aggregate imports pyspark only when asked)
    optional = [d for extra, deps in project["optional-dependencies"].items() if extra != "dev"
                for d in deps]
    runtime = {_norm(Requirement(d).name) for d in project["dependencies"] + optional}
    dev = runtime | {_norm(Requirement(d).name)
                     for d in project["optional-dependencies"]["dev"]}
    local = {"helpers", "conftest", "sync_env", "bench"} | {
        p.stem for p in (root / "tests").glob("*.py")} | {
        p.stem for p in (root / "benchmarks").glob("*.py")}
    assert _undeclared(_code_imports(root, ["src", "notebooks", "tools", "benchmarks"]),
                       runtime, local) == []
    assert _undeclared(_code_imports(root, ["tests"]), dev, local) == []
    # the check itself can fail: an import of a package nobody declared is caught
    assert _undeclared({"psutil": "x.py"}, runtime - {"psutil"}, local)


def test_installed_versions_meet_the_declared_bounds(root):
    for dep in _project(root)["project"]["dependencies"]:
        req = Requirement(dep)
        assert req.specifier.contains(installed_version(req.name)), dep


def test_environment_yml_is_the_conda_twin_of_the_lock(root):
    env = yaml.safe_load((root / "environment.yml").read_text())
    deps = env["dependencies"]
    python = [d for d in deps if isinstance(d, str) and d.startswith("python")]
    assert python and re.fullmatch(r"python=3\.1[1-9]", python[0])
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert "-e ." in pip, "the package itself is installed in editable mode"
    assert [p for p in pip if p != "-e ."] == _lock(root)


def test_every_declared_dependency_is_locked(root):
    project = _project(root)["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]
    locked = {_norm(ln.split("==")[0]) for ln in _lock(root)}
    for dep in declared:
        name = _norm(Requirement(dep).name)
        assert name in locked, f"{name} is declared in pyproject.toml but not locked"


def test_design_card_packages_are_dependencies(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=\[ ;]", d)[0].lower() for d in project["dependencies"]}
    for pkg in ("jupyterlab", "pandas", "seaborn", "statsmodels", "scikit-learn", "papermill",
                "ipywidgets"):
        assert pkg in names

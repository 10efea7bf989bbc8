"""Run the five notebooks in order with papermill: one command, fully parameterised.

``run_chain`` validates the parameter file before any notebook starts, registers the workbook's
own Jupyter kernel, executes each notebook with its working directory and a timeout, keeps a
partially executed notebook when a cell fails, renders the executed notebooks to HTML for the
analyst appendix, and never overwrites an existing run without ``force``.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .errors import RunError
from .params import Params, load
from .paths import KERNEL_NAME, NOTEBOOKS, notebooks_dir, project_root, report_dir, run_dir
from .runinfo import now, run_record
from .store import RunStore

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SAFE_PATH = re.compile(r"^[^\"'\\\n\r\t\x00]+$")


def check_run_id(run_id: str) -> str:
    """A run id names folders and is injected into notebooks: letters, digits, . _ - only."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id) or ".." in run_id:
        raise RunError(f"invalid run id {run_id!r}: use 1-64 letters, digits, '.', '_' or '-' "
                       "(e.g. 2026Q3 or 2026Q3-v2)")
    return run_id


def check_injectable_path(value: str, what: str) -> str:
    """Refuse a path that could break out of the string literal papermill injects."""
    if not _SAFE_PATH.fullmatch(value):
        raise RunError(f"{what} {value!r} contains quotes, backslashes or control characters; "
                       "rename the file or move it to a plain path")
    return value


def ensure_kernel(name: str = KERNEL_NAME) -> str:
    """Register (or refresh) the workbook kernel for this interpreter; return its name."""
    from jupyter_client.kernelspec import KernelSpecManager

    ksm = KernelSpecManager()
    try:
        spec = ksm.get_kernel_spec(name)
        if Path(spec.argv[0]).resolve() == Path(sys.executable).resolve():
            return name
    except Exception:  # noqa: BLE001 - missing or unreadable spec: (re)install below
        pass
    from ipykernel.kernelspec import install

    install(kernel_name=name, display_name="Segmentation workbook (Python 3)", prefix=sys.prefix)
    return name


def _notebook_index(name: str) -> int:
    key = name.removesuffix(".ipynb")
    matches = [i for i, nb in enumerate(NOTEBOOKS) if nb == key or nb.startswith(key)]
    if len(matches) != 1:
        raise RunError(f"unknown notebook {name!r}; choose one of {', '.join(NOTEBOOKS)}")
    return matches[0]


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(project_root()))
    except ValueError:
        return str(path)


def render_html(executed: Path, out: Path, *, hide_code: bool = False) -> Path:
    """Render an executed notebook to one self-contained HTML file (images inline)."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = hide_code
    exporter.exclude_input_prompt = hide_code
    exporter.exclude_output_prompt = hide_code
    nb = nbformat.read(executed, as_version=4)
    body, _ = exporter.from_notebook_node(nb)
    out.write_text(body, encoding="utf-8")
    return out


def run_status(run_id: str) -> dict:
    """The manifest's status fields for a run ({} when the run does not exist)."""
    store = RunStore(run_id)
    if not (store.path / "manifest.json").exists():
        return {}
    return store.manifest()


def run_chain(params_file: str | os.PathLike, run_id: str, *, force: bool = False,
              start_from: str | None = None, timeout: int = 1800,
              echo: Callable[[str], None] = print) -> Path:
    """Execute the chain for one run and return the path of the stakeholder report."""
    check_run_id(run_id)
    params_file = str(params_file)
    check_injectable_path(params_file, "parameter file path")
    params: Params = load(params_file)  # fails here, naming the key, before any notebook runs
    record = run_record(params, run_id, params_file)
    store = RunStore(run_id)
    reports = report_dir(run_id)
    previous = run_status(run_id)
    first = 0

    if start_from is not None:
        first = _notebook_index(start_from)
        _check_resumable(previous, record, first, run_id)
    elif previous:
        same = (previous.get("params_hash") == record["params_hash"]
                and previous.get("inputs") == record["inputs"])
        if previous.get("status") == "complete" and same and not force:
            report = reports / "report.html"
            echo(f"run '{run_id}' is complete and up to date (same parameters and inputs).")
            return report
        if not force:
            raise RunError(
                f"run '{run_id}' already exists ({_rel(run_dir(run_id))}, status "
                f"{previous.get('status', 'unknown')}). Choose a new run id (e.g. "
                f"'{run_id}-v2'), resume with --from <notebook>, or replace it with --force.")
        shutil.rmtree(run_dir(run_id), ignore_errors=True)
        shutil.rmtree(reports, ignore_errors=True)

    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    kernel = ensure_kernel()
    (reports / "notebooks").mkdir(parents=True, exist_ok=True)
    store.path.mkdir(parents=True, exist_ok=True)
    done = dict(previous.get("notebooks", {})) if start_from else {}
    store.update_manifest(**record, status="running", started_at=now(), ended_at=None,
                          failed_notebook=None, notebooks=done)
    parameters = {"run_id": run_id, "params_path": params_file, "interactive": False}
    total_start = time.perf_counter()
    echo(f"run '{run_id}' ({params.as_of}) with {params_file}: "
         f"{len(NOTEBOOKS) - first} notebook(s) -> {_rel(reports)}")
    for i, name in enumerate(NOTEBOOKS[first:], start=first + 1):
        src = notebooks_dir() / f"{name}.ipynb"
        dst = reports / "notebooks" / f"{name}.ipynb"
        echo(f"  [{i}/{len(NOTEBOOKS)}] {name} ...")
        t0 = time.perf_counter()
        try:
            pm.execute_notebook(
                str(src), str(dst), parameters=parameters, kernel_name=kernel,
                cwd=str(notebooks_dir()), execution_timeout=timeout, progress_bar=False,
                log_output=False, report_mode=False,
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
        except PapermillExecutionError as exc:
            store.update_manifest(status="failed", failed_notebook=name, ended_at=now())
            raise RunError(
                f"notebook {name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}\n"
                f"  the partially executed notebook is kept at {_rel(dst)}") from None
        except Exception as exc:
            store.update_manifest(status="failed", failed_notebook=name, ended_at=now())
            raise RunError(f"notebook {name} could not run: {type(exc).__name__}: {exc}") from None
        elapsed = time.perf_counter() - t0
        done[name] = {"seconds": round(elapsed, 2), "params_hash": record["params_hash"],
                      "inputs": record["inputs"]}
        store.update_manifest(notebooks=done)
        echo(f"        done in {elapsed:.1f} s")
        render_html(dst, dst.with_suffix(".html"))
    store.update_manifest(status="complete", ended_at=now(),
                          seconds=round(time.perf_counter() - total_start, 2))
    report = reports / "report.html"
    echo(f"run '{run_id}' complete in {time.perf_counter() - total_start:.1f} s")
    return report


def _check_resumable(previous: dict, record: dict, first: int, run_id: str) -> None:
    if not previous:
        raise RunError(f"cannot resume: run '{run_id}' does not exist yet; run it in full first")
    done = previous.get("notebooks", {})
    for name in NOTEBOOKS[:first]:
        info = done.get(name)
        if info is None:
            raise RunError(f"cannot resume from {NOTEBOOKS[first]}: {name} has not completed in "
                           f"run '{run_id}'")
        if info.get("params_hash") != record["params_hash"]:
            raise RunError(f"cannot resume from {NOTEBOOKS[first]}: the parameters changed since "
                           f"{name} ran; start a new run id or run in full with --force")
        if info.get("inputs") != record["inputs"]:
            changed = sorted(k for k in record["inputs"]
                             if info.get("inputs", {}).get(k) != record["inputs"][k])
            raise RunError(f"cannot resume from {NOTEBOOKS[first]}: input file(s) changed since "
                           f"{name} ran: {', '.join(changed)}")

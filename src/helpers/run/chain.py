"""Run the five notebooks in order with papermill: one command, fully parameterised.

``run_chain`` validates the parameter file before any notebook starts, registers the workbook's
own Jupyter kernel, executes each notebook with its working directory and a timeout, keeps a
partially executed notebook when a cell fails, renders the executed notebooks to HTML for the
analyst appendix, and never overwrites an existing run without ``force``.

Atomic runs (nothing lost)
--------------------------
A run is built in a staging folder and moved into place only when it completes:

* ``data/processed/.staging/<run>/data/`` holds the tables and ``manifest.json``,
  ``data/processed/.staging/<run>/reports/`` the executed notebooks and the report.
  The chain sets ``$WORKBOOK_STAGING=<run>``; papermill's kernels inherit the environment, so
  ``helpers.core.store.run_path`` / ``report_path`` (used by ``RunStore`` and ``Session``) point the
  notebooks at the staging folders. JupyterLab (no chain, no variable) writes in place.
* The staging manifest says ``status: running`` with the chain's ``pid`` and the notebook being
  executed. When the chain completes it marks the manifest ``complete``, drops a ``COMMIT``
  marker and swaps the folders in with ``os.replace`` (an earlier run of the same id, kept
  until then, is set aside and deleted last). Every step of the swap can be repeated, so a
  swap cut short is finished by :func:`recover` at the start of the next ``workbook run``.
* A notebook that fails marks the staging manifest ``failed`` (naming the notebook). If no
  *complete* run of that id exists, the failed attempt is moved into place so that
  ``workbook runs`` lists it ``failed at <notebook>`` and the partial notebook sits in
  ``reports/<run>/notebooks/``; if a complete run exists (``--force``, ``--from``) it stays
  untouched and the failed attempt stays in staging.
* A chain killed outright (SIGKILL, power cut) leaves only its staging folder (``running``,
  dead pid). Earlier runs are untouched and nothing under ``data/processed/<run>/`` claims to
  be complete. The next ``workbook run`` of that id marks it ``failed`` (interrupted) and
  starts afresh; ``--from <notebook>`` resumes from it, reusing the notebooks that finished
  (same parameters and input hashes only).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from helpers.core.errors import RunError
from helpers.core.params import Params, load
from helpers.core.paths import (
    KERNEL_NAME,
    NOTEBOOKS,
    notebooks_dir,
    project_root,
    report_dir,
    run_dir,
)
from helpers.core.runinfo import now, run_record
from helpers.core.store import MANIFEST, STAGING_ENV, RunStore, staging_dir

COMMIT_MARK = "COMMIT"

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SAFE_PATH = re.compile(r"^[^\"'\\\n\r\t\x00]+$")


def check_run_id(run_id: str) -> str:
    """A run id names folders and is injected into notebooks: letters, digits, . _ - only.

    Parameters
    ----------
    run_id : str
        The proposed run id.

    Returns
    -------
    str
        The run id; RunError when invalid.
    """
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id) or ".." in run_id:
        raise RunError(f"invalid run id {run_id!r}: use 1-64 letters, digits, '.', '_' or '-' "
                       "(e.g. 2026Q3 or 2026Q3-v2)")
    return run_id


def check_injectable_path(value: str, what: str) -> str:
    """Refuse a path that could break out of the string literal papermill injects.

    Parameters
    ----------
    value : str
        The path.
    what : str
        What it is (for the message).

    Returns
    -------
    str
        The path; RunError when unsafe.
    """
    if not _SAFE_PATH.fullmatch(value):
        raise RunError(f"{what} {value!r} contains quotes, backslashes or control characters; "
                       "rename the file or move it to a plain path")
    return value


def ensure_kernel(name: str = KERNEL_NAME) -> str:
    """Register (or refresh) the workbook kernel for this interpreter; return its name.

    Parameters
    ----------
    name : str
        The kernel name.

    Returns
    -------
    str
        The kernel name.
    """
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


KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]


class _KernelQueue:
    """Kernels started ahead of use: ``prepare()`` launches one (the process boots on its
    own), ``take()`` hands out the oldest, ``stop()`` shuts one down, ``close()`` every one
    not taken. Kernels inherit the environment at launch (``$WORKBOOK_STAGING`` included).
    A kernel that cannot be launched ahead is handed out as None: papermill then starts the
    notebook's kernel itself (and reports any error as it always did)."""

    def __init__(self, kernel_name: str, cwd: Path, extra_arguments: list[str]) -> None:
        self.kernel_name, self.cwd, self.args = kernel_name, cwd, extra_arguments
        self.ready: list = []

    def prepare(self) -> None:
        from jupyter_client.manager import AsyncKernelManager  # the kind nbclient makes
        from jupyter_core.utils import run_sync

        try:
            km = AsyncKernelManager(kernel_name=self.kernel_name)
            run_sync(km.start_kernel)(cwd=str(self.cwd), extra_arguments=list(self.args))
        except Exception:  # noqa: BLE001 - papermill starts (and explains) it instead
            km = None
        self.ready.append(km)

    def take(self):  # noqa: ANN201 - a jupyter_client KernelManager
        if not self.ready:
            self.prepare()
        return self.ready.pop(0)

    @staticmethod
    def stop(km) -> None:  # noqa: ANN001
        from jupyter_core.utils import run_sync

        try:
            if km is not None and km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - a kernel that is already gone is stopped
            pass

    def close(self) -> None:
        while self.ready:
            self.stop(self.ready.pop())


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
    """Render an executed notebook to one self-contained HTML file (images inline).

    Parameters
    ----------
    executed : Path
        The executed notebook.
    out : Path
        The HTML file to write.
    hide_code : bool
        Leave the code cells out.

    Returns
    -------
    Path
        ``out``.
    """
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
    """The manifest's status fields for a run ({} when the run does not exist).

    Parameters
    ----------
    run_id : str
        The run id.

    Returns
    -------
    dict
        The manifest, or {}.
    """
    store = RunStore(run_id, root=run_dir(run_id))  # the run in place, never its staging
    if not (store.path / "manifest.json").exists():
        return {}
    return store.manifest()


def staged_status(run_id: str) -> dict:
    """The staging manifest of a run being built or left over by a failed / killed chain.

    Parameters
    ----------
    run_id : str
        The run id.

    Returns
    -------
    dict
        The staging manifest, or {}.
    """
    m = staging_dir(run_id) / "data" / MANIFEST
    if not m.exists():
        return {}
    return RunStore(run_id, root=m.parent).manifest()


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped) is not running
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _swap_into_place(run_id: str) -> None:
    """Move the staging folders into place (idempotent: safe to repeat after a crash)."""
    stage = staging_dir(run_id)
    pairs = [(stage / "data", run_dir(run_id), stage / "old" / "data"),
             (stage / "reports", report_dir(run_id), stage / "old" / "reports")]
    for new, final, aside in pairs:  # an earlier run of this id goes aside first
        if new.exists() and final.exists():
            aside.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(aside, ignore_errors=True)
            os.replace(final, aside)
    for new, final, _ in pairs:
        if new.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(new, final)
    shutil.rmtree(stage, ignore_errors=True)


def _commit(run_id: str) -> None:
    stage = staging_dir(run_id)
    (stage / COMMIT_MARK).write_text(now(), encoding="utf-8")
    _swap_into_place(run_id)


def _discard_staging(run_id: str) -> None:
    stage = staging_dir(run_id)
    if stage.exists():  # rename first: a stray kernel still writing cannot revive it
        trash = stage.with_name(f".trash-{run_id}-{os.getpid()}-{time.time_ns()}")
        os.replace(stage, trash)
        shutil.rmtree(trash, ignore_errors=True)


def recover(run_id: str, echo: Callable[[str], None] = print) -> dict:
    """Tidy what a cut-short chain left for ``run_id``; return the staging manifest ({} if none).

    A swap that started (``COMMIT`` marker) is finished; a ``running`` staging folder whose
    chain process is gone is marked ``failed`` (``interrupted``). A live chain building the
    same run id is refused.

    Parameters
    ----------
    run_id : str
        The run id.
    echo : Callable[[str], None]
        Receives what was done.

    Returns
    -------
    dict
        The staging manifest left, or {}.
    """
    stage = staging_dir(run_id)
    if (stage / COMMIT_MARK).exists():
        _swap_into_place(run_id)
        echo(f"run '{run_id}': finished moving a completed run into place")
        return {}
    info = staged_status(run_id)
    if info.get("status") == "running":
        if _alive(info.get("pid")):
            raise RunError(f"run '{run_id}' is being built by process {info.get('pid')} "
                           f"(started {info.get('started_at')}); wait for it or stop it first")
        RunStore(run_id, root=stage / "data").update_manifest(
            status="failed", failed_notebook=info.get("current_notebook"), interrupted=True,
            ended_at=info.get("ended_at"))
        echo(f"run '{run_id}': an earlier attempt was interrupted during "
             f"{info.get('current_notebook')} (kept in {_rel(stage)}, marked failed)")
        info = staged_status(run_id)
    return info


def run_chain(params_file: str | os.PathLike, run_id: str, *, force: bool = False,
              start_from: str | None = None, timeout: int = 1800,
              echo: Callable[[str], None] = print) -> Path:
    """Execute the chain for one run and return the path of the stakeholder report.

    The run is built in ``data/processed/.staging/<run>/`` and moved into place only when it
    completes (module docstring); an earlier run of the same id stays intact until then.

    Parameters
    ----------
    params_file : str or os.PathLike
        The parameter file (validated before any notebook starts).
    run_id : str
        The run id (:func:`check_run_id`).
    force : bool
        Replace an existing run of this id.
    start_from : str or None
        Resume from this notebook (name or unique prefix), reusing the notebooks before it.
    timeout : int
        Seconds a cell may run.
    echo : callable
        Receives the progress lines.

    Returns
    -------
    pathlib.Path
        ``reports/<run>/report.html``. A failed notebook raises RunError naming the cell and
        where the partial notebook is kept.
    """
    check_run_id(run_id)
    params_file = str(params_file)
    check_injectable_path(params_file, "parameter file path")
    params: Params = load(params_file)  # fails here, naming the key, before any notebook runs
    record = run_record(params, run_id, params_file)
    staged_before = recover(run_id, echo)
    previous = run_status(run_id)
    if start_from is not None:
        first = _notebook_index(start_from)
        done = _resume(run_id, record, first, staged_before, previous, echo)
    else:
        if _up_to_date(run_id, record, previous, force, echo):
            return report_dir(run_id) / "report.html"
        _discard_staging(run_id)
        first, done = 0, {}
    kernel = ensure_kernel()
    store = _open_staging(run_id, record, done)
    total_start = time.perf_counter()
    echo(f"run '{run_id}' ({params.as_of}) with {params_file}: "
         f"{len(NOTEBOOKS) - first} notebook(s) -> {_rel(report_dir(run_id))}")
    _execute_notebooks(_Attempt(run_id, params_file, record, store, kernel, timeout, echo),
                       first, done)
    store.update_manifest(status="complete", ended_at=now(), current_notebook=None,
                          seconds=round(time.perf_counter() - total_start, 2))
    _commit(run_id)
    _refresh_index(echo)
    echo(f"run '{run_id}' complete in {time.perf_counter() - total_start:.1f} s")
    return report_dir(run_id) / "report.html"


def _resume(run_id: str, record: dict, first: int, staged_before: dict, previous: dict,
            echo: Callable[[str], None]) -> dict:
    """Stage a resumed run (``--from``): its unfinished attempt, else a copy of the run in
    place; returns the notebooks before ``first`` that already ran."""
    from_stage = bool(staged_before)  # a failed / interrupted attempt is the newer state
    base = staged_before if from_stage else previous
    _check_resumable(base, record, first, run_id)
    stage = staging_dir(run_id)
    if not from_stage:
        _discard_staging(run_id)
        shutil.copytree(run_dir(run_id), stage / "data")
        if report_dir(run_id).exists():
            shutil.copytree(report_dir(run_id), stage / "reports")
    else:
        echo(f"resuming run '{run_id}' from its unfinished attempt in {_rel(stage)}")
    return {k: v for k, v in base.get("notebooks", {}).items() if k in NOTEBOOKS[:first]}


def _up_to_date(run_id: str, record: dict, previous: dict, force: bool,
                echo: Callable[[str], None]) -> bool:
    """True when a complete run with the same parameters and inputs exists (and no
    ``force``); an existing run without ``force`` is refused (RunError)."""
    if not previous:
        return False
    same = (previous.get("params_hash") == record["params_hash"]
            and previous.get("inputs") == record["inputs"])
    if previous.get("status") == "complete" and same and not force:
        echo(f"run '{run_id}' is complete and up to date (same parameters and inputs).")
        return True
    if not force:
        raise RunError(
            f"run '{run_id}' already exists ({_rel(run_dir(run_id))}, status "
            f"{previous.get('status', 'unknown')}). Choose a new run id (e.g. "
            f"'{run_id}-v2'), resume with --from <notebook>, or replace it with --force.")
    return False


def _open_staging(run_id: str, record: dict, done: dict) -> RunStore:
    """The staging folders and their manifest (``running``, this process's pid)."""
    stage = staging_dir(run_id)
    (stage / "reports" / "notebooks").mkdir(parents=True, exist_ok=True)
    store = RunStore(run_id, root=stage / "data")
    store.path.mkdir(parents=True, exist_ok=True)
    store.update_manifest(**record, status="running", pid=os.getpid(), started_at=now(),
                          ended_at=None, failed_notebook=None, current_notebook=None,
                          interrupted=False, notebooks=done)
    return store


@dataclass(frozen=True)
class _Attempt:
    """What every notebook execution of one chain attempt shares."""

    run_id: str
    params_file: str
    record: dict
    store: RunStore
    kernel: str
    timeout: int
    echo: Callable[[str], None]


def _execute_notebooks(attempt: _Attempt, first: int, done: dict) -> None:
    """Run the notebooks from ``first`` in staging (``$WORKBOOK_STAGING`` set meanwhile),
    each in a fresh kernel started while the previous one runs, each rendered to HTML on a
    thread while the next one runs; every rendering is done before returning."""
    env_before = os.environ.get(STAGING_ENV)
    os.environ[STAGING_ENV] = attempt.run_id
    renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbook-render")
    renders: list[Future] = []
    kernels = _KernelQueue(attempt.kernel, notebooks_dir(), KERNEL_ARGS)
    kernels.prepare()
    try:
        for i, name in enumerate(NOTEBOOKS[first:], start=first + 1):
            dst, seconds = _execute_one(attempt, i, name, kernels, renders)
            done[name] = {"seconds": round(seconds, 2),
                          "params_hash": attempt.record["params_hash"],
                          "inputs": attempt.record["inputs"]}
            attempt.store.update_manifest(notebooks=done)
            attempt.echo(f"        done in {seconds:.1f} s")
            renders.append(renderer.submit(render_html, dst, dst.with_suffix(".html")))
        for f in renders:
            f.result()  # a rendering error stops the run here, as it did inline
    finally:
        kernels.close()
        renderer.shutdown(wait=True)
        if env_before is None:
            os.environ.pop(STAGING_ENV, None)
        else:
            os.environ[STAGING_ENV] = env_before


def _execute_one(attempt: _Attempt, i: int, name: str, kernels: _KernelQueue,
                 renders: list[Future]) -> tuple[Path, float]:
    """Execute notebook ``name`` (the ``i``-th) with papermill; a failure marks the attempt
    failed (after the running renderings finish) and raises RunError. Returns the executed
    notebook's path and the seconds it took."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    run_id, store = attempt.run_id, attempt.store
    src = notebooks_dir() / f"{name}.ipynb"
    dst = staging_dir(run_id) / "reports" / "notebooks" / f"{name}.ipynb"
    attempt.echo(f"  [{i}/{len(NOTEBOOKS)}] {name} ...")
    store.update_manifest(current_notebook=name)
    t0 = time.perf_counter()
    km = kernels.take()
    if i < len(NOTEBOOKS):
        kernels.prepare()  # the next notebook's kernel boots meanwhile
    parameters = {"run_id": run_id, "params_path": attempt.params_file, "interactive": False}
    try:
        papermill.execute_notebook(
            str(src), str(dst), parameters=parameters, kernel_name=attempt.kernel, km=km,
            cwd=str(notebooks_dir()), execution_timeout=attempt.timeout, progress_bar=False,
            log_output=False, report_mode=False, extra_arguments=KERNEL_ARGS,
        )
    except PapermillExecutionError as exc:
        _settle(renders)
        kept = _fail(run_id, store, name)
        raise RunError(
            f"notebook {name} failed in cell {exc.exec_count}: {exc.ename}: "
            f"{exc.evalue}\n  the partially executed notebook is kept at "
            f"{_rel(kept / 'notebooks' / dst.name)}") from None
    except Exception as exc:
        _settle(renders)
        _fail(run_id, store, name)
        raise RunError(f"notebook {name} could not run: {type(exc).__name__}: "
                       f"{exc}") from None
    except BaseException:  # Ctrl-C: mark the attempt failed, keep earlier runs
        store.update_manifest(status="failed", failed_notebook=name, interrupted=True,
                              ended_at=now())
        raise
    finally:
        kernels.stop(km)
    return dst, time.perf_counter() - t0


def _settle(renders: list[Future]) -> None:
    """Let running renderings finish before the attempt is moved."""
    for f in renders:
        f.exception()


def _refresh_index(echo: Callable[[str], None] = print) -> None:
    """Rewrite reports/index.html (every run's report, newest first); never fails a run."""
    from helpers.run.runs import write_index

    try:
        write_index()
    except Exception as exc:  # noqa: BLE001 - the index is a convenience, the run is done
        echo(f"warning: reports/index.html not updated: {type(exc).__name__}: {exc}")


def _fail(run_id: str, store: RunStore, name: str) -> Path:
    """Mark the staged attempt failed; move it into place unless a complete run is there.
    Returns the folder now holding the attempt's reports."""
    store.update_manifest(status="failed", failed_notebook=name, ended_at=now())
    if run_status(run_id).get("status") == "complete":
        return staging_dir(run_id) / "reports"
    _commit(run_id)
    _refresh_index()
    return report_dir(run_id)


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

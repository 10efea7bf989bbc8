"""What every notebook does first: load the run's parameters, open its store, set display."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from helpers.core.params import Params, load, with_overrides
from helpers.core.paths import NOTEBOOKS
from helpers.core.store import RunStore, report_path


@dataclass(frozen=True)
class Session:
    """The context a notebook works in. Frozen, like the parameters: a notebook changes its
    parameters with :meth:`with_params` (validated and recorded), never by assigning
    ``s.params``."""

    run_id: str
    params: Params
    store: RunStore
    interactive: bool
    step: str
    #: work started in the background by one section for a later one (helpers.core.parallel)
    pending: dict[str, Any] = field(default_factory=dict, repr=False)
    #: the parameter overrides this notebook made (:meth:`with_params`), dotted key -> value
    overrides: dict[str, Any] = field(default_factory=dict)

    def with_params(self, overrides: Mapping[str, Any]) -> Session:
        """A new session whose parameters are this one's with ``overrides`` applied, to try
        a step differently from a notebook cell without editing the shared parameter file::

            s = s.with_params({"analysis.tree.forced_root": "business_model"})

        The overrides are validated like the parameter file and recorded in the run manifest
        (``overrides``, ``effective_params_hash``: :func:`helpers.core.runinfo.overrides_record`)
        and so in the report's run information. This session is left unchanged.

        Parameters
        ----------
        overrides
            Dotted parameter key -> value; a mapping value is merged into the section it
            names. Later calls add to earlier ones.

        Returns
        -------
        Session
            The new session (same run, store and step; no pending background work, which
            was started with the old parameters).

        Raises
        ------
        ParameterError
            Naming each unknown dotted key or invalid value.
        """
        from helpers.core.runinfo import overrides_record
        from helpers.core.store import dumps

        params = with_overrides(self.params, overrides)
        merged = {**self.overrides, **json.loads(dumps(dict(overrides)))}
        self.store.update_manifest(**overrides_record(self.store.manifest(), self.step, merged,
                                                      params))
        return replace(self, params=params, overrides=merged, pending={})

    @property
    def report_dir(self) -> Path:
        """The folder of this run's report and executed notebooks.

        Returns
        -------
        Path
            ``reports/<run>/`` (its staging folder while the chain builds the run).
        """
        return report_path(self.run_id)

    def warn(self, messages: list[str] | tuple[str, ...], source: str = "") -> list[str]:
        """Record warnings for this step (carried into the report) and return them.

        Parameters
        ----------
        messages
            The warnings (empty ones are dropped).
        source
            The section that warns; its earlier warnings are replaced.

        Returns
        -------
        list of str
            The warnings recorded.
        """
        messages = [str(m) for m in messages if m]
        doc = self.store.read_json("warnings") if self.store.has("warnings") else {}
        key = f"{self.step}:{source}" if source else self.step
        doc[key] = messages
        self.store.write_json("warnings", doc, step=self.step)
        return messages

    def require(self, *tables: str) -> None:
        """Fail early, naming the notebook to run, when an earlier step's table is missing.

        Parameters
        ----------
        *tables
            The tables this step reads.

        Raises
        ------
        RunError
            Naming the missing tables and the notebooks to run first.
        """
        missing = [t for t in tables if not self.store.has(t)]
        if missing:
            from helpers.core.errors import RunError

            raise RunError(
                f"run '{self.run_id}' lacks {', '.join(missing)}: run the earlier notebooks "
                f"({', '.join(NOTEBOOKS[:NOTEBOOKS.index(self.step)])}) for this run id first, "
                f"or `workbook run --params ... --run-id {self.run_id}`")


def inline_charts() -> bool:
    """In a Jupyter kernel, draw charts inline (``%matplotlib inline``) whatever $MPLBACKEND
    says, so JupyterLab and the batch-executed notebooks both hold the images; outside a
    kernel (scripts, tests) nothing changes. Returns whether inline was switched on.

    Returns
    -------
    bool
        Whether inline charts were switched on.
    """
    import sys

    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return False
    shell.run_line_magic("matplotlib", "inline")
    return True


def start(run_id: str, params_path: str, step: str, interactive: bool = False,
          plots: bool = True) -> Session:
    """Validate parameters, open the run store and set display defaults.

    Parameters
    ----------
    run_id
        The run (letters, digits, ``.``, ``_``, ``-``).
    params_path
        The parameter file.
    step
        The notebook starting (one of :data:`helpers.core.paths.NOTEBOOKS`); the parameter
        overrides it recorded in an earlier execution are cleared (it starts from the file).
    interactive
        Whether widgets are shown (JupyterLab) rather than their defaults used (batch).
    plots
        Also set the chart defaults (seaborn theme, figure size: ~1 s of imports a notebook
        without charts does without).

    Returns
    -------
    Session
        The notebook's session, with the parameter file's parameters.
    """
    import pandas as pd

    from helpers.run.chain import check_run_id

    check_run_id(run_id)
    params = load(params_path)
    store = RunStore(run_id)
    store.path.mkdir(parents=True, exist_ok=True)
    report_path(run_id).mkdir(parents=True, exist_ok=True)
    pd.set_option("display.max_columns", 40)
    pd.set_option("display.width", 160)
    pd.set_option("display.float_format", lambda v: f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}")
    if plots:
        import matplotlib
        import seaborn as sns

        inline_charts()
        sns.set_theme(style="whitegrid", palette="colorblind")
        matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100,
                                    "figure.figsize": (8, 4.5)})
    if step == NOTEBOOKS[0] and "params_hash" not in store.manifest():
        # Run interactively (not through `workbook run`): stamp the run metadata here.
        from helpers.core.runinfo import now, run_record

        store.update_manifest(**run_record(params, run_id, params_path), status="interactive",
                              started_at=now())
    manifest = store.manifest()
    if step in (manifest.get("overrides") or {}):  # this notebook starts again from the file
        from helpers.core.runinfo import overrides_record

        store.update_manifest(**overrides_record(manifest, step, {}, params))
    return Session(run_id=run_id, params=params, store=store, interactive=interactive, step=step)

"""What every notebook does first: load the run's parameters, open its store, set display."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.core.params import Params, load
from helpers.core.paths import NOTEBOOKS
from helpers.core.store import RunStore, report_path


@dataclass
class Session:
    """The context a notebook works in."""

    run_id: str
    params: Params
    store: RunStore
    interactive: bool
    step: str
    #: work started in the background by one section for a later one (helpers.core.parallel)
    pending: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def report_dir(self) -> Path:
        return report_path(self.run_id)

    def warn(self, messages: list[str] | tuple[str, ...], source: str = "") -> list[str]:
        """Record warnings for this step (carried into the report) and return them."""
        messages = [str(m) for m in messages if m]
        doc = self.store.read_json("warnings") if self.store.has("warnings") else {}
        key = f"{self.step}:{source}" if source else self.step
        doc[key] = messages
        self.store.write_json("warnings", doc, step=self.step)
        return messages

    def require(self, *tables: str) -> None:
        """Fail early, naming the notebook to run, when an earlier step's table is missing."""
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
    kernel (scripts, tests) nothing changes. Returns whether inline was switched on."""
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
    """Validate parameters, open the run store and set display defaults; with ``plots`` also
    the chart defaults (seaborn theme, figure size: ~1 s of imports a notebook without charts
    does without)."""
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
    return Session(run_id=run_id, params=params, store=store, interactive=interactive, step=step)

"""Progress bars for the long steps (cross-validation folds, bootstrap and weight draws, the
hypothesis tests, tree roots): ``tqdm.auto`` where someone is watching, nothing otherwise.

- In JupyterLab (a kernel that is not part of a ``workbook run``): the notebook's widget bar.
- Under ``workbook run`` (``$WORKBOOK_STAGING`` set in the kernel): the bar is drawn on the
  terminal that started the run (the kernel's original stderr, which ipykernel keeps beside
  the notebook's captured one), when that is a terminal.
- In a script or a test: on stderr when it is a terminal.
- Never when ``$CI`` is set, when the output is a log file, or when the bar is turned off
  with ``$WORKBOOK_PROGRESS=0``.
A bar never changes a result: it only counts finished items.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

SWITCH_ENV = "WORKBOOK_PROGRESS"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def _in_kernel() -> bool:
    ip = sys.modules.get("IPython")
    shell = ip.get_ipython() if ip is not None and hasattr(ip, "get_ipython") else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _is_tty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


_TERMINAL: list[TextIO | None] = []


def _launching_terminal() -> TextIO | None:
    """The stderr of the process that started this kernel. ipykernel sends file descriptor 2
    to the notebook and keeps a copy of the original (``_original_stdstream_copy``); outside
    a kernel it is ``sys.__stderr__``. Opened once per process."""
    fd = getattr(sys.stderr, "_original_stdstream_copy", None)
    if not isinstance(fd, int):
        return sys.__stderr__
    if not _TERMINAL:
        try:
            _TERMINAL.append(os.fdopen(os.dup(fd), "w", buffering=1, encoding="utf-8"))
        except OSError:
            _TERMINAL.append(None)
    return _TERMINAL[0]


def target() -> tuple[str, TextIO | None]:
    """Where a bar goes: ("off", None), ("widget", None) or ("terminal", stream).

    Returns
    -------
    tuple of (str, TextIO or None)
        The kind of display and, for a terminal, its stream.
    """
    if _truthy(os.environ.get("CI")) or os.environ.get(SWITCH_ENV, "1").strip() == "0":
        return "off", None
    from helpers.core.store import STAGING_ENV

    if os.environ.get(STAGING_ENV):  # a batch run: the terminal that started it, if any
        stream = _launching_terminal()
        return ("terminal", stream) if _is_tty(stream) else ("off", None)
    if _in_kernel():
        return "widget", None
    return ("terminal", sys.stderr) if _is_tty(sys.stderr) else ("off", None)


def bar(total: int | None, desc: str, **kwargs: Any):  # noqa: ANN201 - a tqdm bar
    """A progress bar of ``total`` items (call ``.update(n)`` and ``.close()``); a disabled
    bar (same interface, draws nothing) where nobody is watching (:func:`target`).

    Parameters
    ----------
    total
        The number of items (None: unknown).
    desc
        The bar's label.
    **kwargs
        Passed to tqdm.

    Returns
    -------
    tqdm
        The bar.
    """
    from tqdm import tqdm as plain
    from tqdm.auto import tqdm as auto

    where, stream = target()
    opts = {"total": total, "desc": desc, "leave": False, "dynamic_ncols": True,
            "mininterval": 0.5, **kwargs}
    if where == "widget":
        return auto(**opts)
    if where == "terminal":
        return plain(file=stream, **opts)
    return plain(disable=True, **opts)

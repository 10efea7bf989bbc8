"""Use the machine's cores for the repeated work of Step 4 (cross-validation folds, bootstrap
draws, weight draws) without changing a single number.

Work items run in a thread pool: the heavy parts (NumPy sorts and counts, Arrow kernels,
scikit-learn's tree builder) release the GIL, the data are shared rather than copied, and
results come back in input order, so the output is identical to a serial loop whatever the
number of workers. Every random draw is made by the caller, in order, before the work is
handed out.

The number of workers is a property of the machine, not of the analysis, so it is not a run
parameter (it cannot change a result): ``$WORKBOOK_JOBS`` (``1`` = serial), else the cores
this process may use.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from helpers.core.errors import ParameterError

T = TypeVar("T")
R = TypeVar("R")

ENV = "WORKBOOK_JOBS"


def workers() -> int:
    """Worker threads to use: ``$WORKBOOK_JOBS`` if set (>= 1), else the usable cores.

    Returns
    -------
    int
        The number of worker threads (at least 1).
    """
    raw = os.environ.get(ENV, "").strip()
    if raw:
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise ParameterError(f"{ENV}={raw!r}: expected a whole number of workers >= 1 "
                              "(1 = no parallel work)")
        return n
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def ordered_map(fn: Callable[[T], R], items: Iterable[T], n_jobs: int | None = None, *,
                desc: str | None = None, total: int | None = None) -> list[R]:
    """``[fn(x) for x in items]``, run on ``n_jobs`` threads (default :func:`workers`).

    Results are in input order; the first exception raised by ``fn`` is re-raised. ``items``
    is consumed lazily, at most ``n_jobs`` items ahead of the results (a generator of large
    bootstrap draws never holds more than that many draws). With one worker it is a plain
    loop (no threads). ``desc`` shows a progress bar of the finished items
    (:mod:`helpers.core.progress`; ``total`` defaults to ``len(items)`` when it has one).

    Parameters
    ----------
    fn
        The function applied to each item.
    items
        The items (consumed lazily).
    n_jobs
        Worker threads (None: :func:`workers`).
    desc
        The progress bar's label (None: no bar).
    total
        The number of items, for the bar (default ``len(items)`` when it has one).

    Returns
    -------
    list
        ``fn(x)`` for each item, in input order.
    """
    from helpers.core.progress import bar

    n = workers() if n_jobs is None else max(1, int(n_jobs))
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    shown = bar(total, desc) if desc else None

    def done(value: R) -> R:
        if shown is not None:
            shown.update(1)
        return value

    try:
        if n == 1:
            return [done(fn(x)) for x in items]
        out: list[R] = []
        pending: deque[Future[R]] = deque()
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="workbook") as pool:
            for x in items:
                pending.append(pool.submit(fn, x))
                if len(pending) >= n:
                    out.append(done(pending.popleft().result()))
            while pending:
                out.append(done(pending.popleft().result()))
        release_memory()
        return out
    finally:
        if shown is not None:
            shown.close()


def release_memory() -> None:
    """Give memory freed by worker threads back to the operating system. glibc keeps what a
    thread frees in that thread's arena; after a pool of threads has worked through a 1M-row
    table, hundreds of MB stay counted in the process's resident memory until trimmed.
    A no-op where there is no glibc."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class _Done:
    """A finished result with the ``Future.result()`` interface (serial mode)."""

    def __init__(self, fn: Callable[..., R], *args: object, **kwargs: object) -> None:
        try:
            self._value, self._error = fn(*args, **kwargs), None
        except Exception as exc:  # noqa: BLE001 - re-raised by result(), like a Future
            self._value, self._error = None, exc

    def result(self) -> object:
        if self._error is not None:
            raise self._error
        return self._value


def in_background(fn: Callable[..., R], *args: object, **kwargs: object) -> Future[R] | _Done:
    """Start ``fn(*args, **kwargs)`` on its own thread (e.g. a DuckDB scan while pandas works
    on another source) and return a handle whose ``result()`` waits for it and re-raises its
    error. With one worker it runs at once, in this thread.

    Parameters
    ----------
    fn
        The work.
    *args, **kwargs
        Its arguments.

    Returns
    -------
    Future
        The handle (an already completed one with one worker).
    """
    if workers() == 1:
        return _Done(fn, *args, **kwargs)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbook-bg")
    try:
        return pool.submit(fn, *args, **kwargs)
    finally:
        pool.shutdown(wait=False)  # the thread ends when fn returns

"""Progress bars: shown where someone watches, never in CI or a log; never change results."""

from __future__ import annotations

import io

from helpers.core import parallel, progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_target_is_off_in_ci_and_logs(monkeypatch):
    monkeypatch.delenv("WORKBOOK_STAGING", raising=False)
    monkeypatch.setattr("sys.stderr", _Tty())
    monkeypatch.setenv("CI", "true")
    assert progress.target() == ("off", None)
    monkeypatch.delenv("CI")
    assert progress.target()[0] == "terminal"
    monkeypatch.setenv("WORKBOOK_PROGRESS", "0")
    assert progress.target() == ("off", None)
    monkeypatch.delenv("WORKBOOK_PROGRESS")
    monkeypatch.setattr("sys.stderr", io.StringIO())  # a log file, not a terminal
    assert progress.target() == ("off", None)


def test_batch_run_draws_on_the_launching_terminal(monkeypatch):
    tty = _Tty()
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("WORKBOOK_STAGING", "r1")
    monkeypatch.setattr("sys.__stderr__", tty)
    assert progress.target() == ("terminal", tty)
    monkeypatch.setattr("sys.__stderr__", io.StringIO())
    assert progress.target() == ("off", None)


def test_ordered_map_with_a_bar_counts_items_and_keeps_results(monkeypatch):
    tty = _Tty()
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("WORKBOOK_STAGING", raising=False)
    monkeypatch.setattr("sys.stderr", tty)
    out = parallel.ordered_map(lambda x: x * x, range(7), n_jobs=2, desc="squares", total=7)
    assert out == [x * x for x in range(7)]
    assert "squares" in tty.getvalue()
    monkeypatch.setenv("CI", "1")
    quiet = _Tty()
    monkeypatch.setattr("sys.stderr", quiet)
    assert parallel.ordered_map(lambda x: -x, [1, 2, 3], n_jobs=1, desc="neg") == [-1, -2, -3]
    assert quiet.getvalue() == ""


def test_batch_run_in_a_kernel_uses_the_original_stderr(monkeypatch, tmp_path):
    """In a kernel, fd 2 goes to the notebook; the launching terminal is ipykernel's copy."""
    class _KernelStream(io.StringIO):
        _original_stdstream_copy = 2

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("WORKBOOK_STAGING", "r1")
    monkeypatch.setattr("sys.stderr", _KernelStream())
    monkeypatch.setattr("sys.__stderr__", io.StringIO())  # captured: not a terminal
    monkeypatch.setattr(progress, "_TERMINAL", [])
    stream = progress._launching_terminal()
    assert stream is not None and stream is progress._launching_terminal()  # opened once
    assert stream.fileno() != 2  # a duplicate of the original descriptor
    assert progress.target() == ((("terminal", stream)) if stream.isatty() else ("off", None))

"""Errors the workbook raises on bad input: short, specific, and actionable.

Every error names what was wrong (file, column, rows or parameter key) and what to do.
The chain prints these without a library traceback.
"""

from __future__ import annotations


class WorkbookError(Exception):
    """Base class for every error the workbook raises on purpose."""


class ParameterError(WorkbookError):
    """A parameter file is missing, malformed, or fails validation."""


class InputDataError(WorkbookError):
    """An input file cannot be read or does not have the declared shape."""

    def __init__(self, message: str, *, file: str | None = None, column: str | None = None,
                 rows: list | None = None, hint: str | None = None) -> None:
        self.file, self.column, self.rows, self.hint = file, column, rows, hint
        parts = [message]
        if file:
            parts.append(f"file: {file}")
        if column:
            parts.append(f"column: {column}")
        if rows:
            shown = ", ".join(str(r) for r in rows[:10])
            more = f" (+{len(rows) - 10} more)" if len(rows) > 10 else ""
            parts.append(f"rows: {shown}{more}")
        if hint:
            parts.append(f"what to do: {hint}")
        super().__init__("\n  ".join(parts))


class AnalysisError(WorkbookError):
    """The data cannot support the requested analysis (too few accounts, no variation...)."""


class RunError(WorkbookError):
    """The chain cannot start or continue (run exists, notebook failed, inputs changed...)."""

"""Readable notebook output: what an analyst sees in JupyterLab (not the stakeholder report).

Wide tables are cut to the few columns that matter (the rest stay in the stored table), the
score-group column is named for what it is (``quartile`` for 4 groups, ``decile`` for 10), warning
lists are collapsed to a count and the first few ids, and tables rendered into HTML widgets are
escaped and styled like JupyterLab's own output (``jp-RenderedHTMLCommon``).
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

#: columns an account table shows first, in this order (when present)
ACCOUNT_COLUMNS = ("account_name", "score", "quartile", "why", "status", "mrr", "score_rank",
                   "account_id")
MAX_COLUMNS = 8
#: ids a collapsed warning keeps before "... and N more"
WARNING_IDS = 5
_COUNT = re.compile(r"(?P<n>\d[\d,]*) (?:account|row|id|prospect)")


def group_name(n_groups: int) -> str:
    """What a score group is called: 'quartile' (4 groups) or 'decile' (10)."""
    return {4: "quartile", 10: "decile"}.get(int(n_groups), "score group")


def name_groups(frame: pd.DataFrame, n_groups: int, column: str = "quartile") -> pd.DataFrame:
    """``frame`` with its score-group column renamed for what it holds (a shallow copy)."""
    name = group_name(n_groups)
    if column not in frame.columns or name == column:
        return frame
    return frame.rename(columns={column: name})


def compact(frame: pd.DataFrame, first: Sequence[str] = ACCOUNT_COLUMNS,
            max_columns: int = MAX_COLUMNS) -> pd.DataFrame:
    """The columns that matter first (``first``, in that order, when present), then the others,
    cut to ``max_columns``; rows untouched. Group columns renamed by :func:`name_groups` are
    found under either name."""
    named = [n for n in ("quartile", "decile", "score group") if n in frame.columns][:1]
    wanted = [named[0] if c == "quartile" and named else c for c in first]
    order = list(dict.fromkeys(c for c in wanted if c in frame.columns))
    order += [c for c in frame.columns if c not in order]
    return frame[order[:max_columns]]


def collapse_ids(message: str, keep: int = WARNING_IDS) -> str:
    """A warning ending in a comma-separated id list (after its last ": ") keeps its first
    ``keep`` ids and says how many more there are, counting from the message's own
    "N account(s)" when it has one (the list itself may already be a sample); any other
    message is returned unchanged."""
    head, sep, tail = message.rpartition(": ")
    ids = tail.split(", ") if sep else []
    if len(ids) <= keep or any(":" in i or len(i) > 60 for i in ids):
        return message
    count = _COUNT.search(head)
    total = int(count["n"].replace(",", "")) if count else len(ids)
    more = max(total - keep, len(ids) - keep)
    return f"{head}: {', '.join(ids[:keep])} and {more:,} more"


def warning_lines(warnings: Sequence[str], where: str | None = None,
                  keep: int = WARNING_IDS) -> list[str]:
    """Warnings for a notebook: a count line (naming the file with the full list), then each
    warning with its id list collapsed (:func:`collapse_ids`)."""
    warnings = [str(w) for w in warnings if w]
    if not warnings:
        return []
    head = f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}"
    if where:
        head += f" (full text in {where})"
    return [head + ":", *(f"  - {collapse_ids(w, keep)}" for w in warnings)]


def html_table(frame: pd.DataFrame, max_rows: int | None = None, index: bool = False) -> str:
    """A DataFrame as escaped HTML in JupyterLab's table style (numbers right-aligned,
    no wrapping inside cells so rows stay one line high)."""
    shown = frame if max_rows is None else frame.head(max_rows)
    body = shown.to_html(index=index, escape=True, border=0, na_rep="",
                         float_format=lambda v: f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}",
                         classes="wb-table")
    style = ("<style>.wb-table td,.wb-table th{white-space:nowrap;padding:2px 8px;}"
             ".wb-table td{max-width:28em;overflow:hidden;text-overflow:ellipsis;}</style>")
    return f"<div class='jp-RenderedHTMLCommon wb-view'>{style}{body}</div>"


def html_text(text: str, tag: str = "p") -> str:
    """Escaped text in a block element (``pre`` keeps line breaks)."""
    return f"<{tag}>{html.escape(str(text))}</{tag}>"


def print_warnings(warnings: Sequence[str], where: str | Path | None = None,
                   keep: int = WARNING_IDS) -> None:
    """Print :func:`warning_lines` (nothing when there is no warning); ``where`` is shown
    relative to the project root when it lies inside it."""
    if where is not None:
        from helpers.core.paths import project_root

        with contextlib.suppress(ValueError):  # outside the project: shown as given
            where = Path(where).resolve().relative_to(project_root().resolve())
    lines = warning_lines(warnings, None if where is None else str(where), keep)
    if lines:
        print("\n".join(lines))


def component_table(summary: pd.DataFrame) -> pd.DataFrame:
    """``score.component_summary`` for reading: the component in words, its mean and median,
    share of the score and accounts touched, and its mean in the best and worst score group."""
    groups = [c for c in summary.columns if c.startswith("mean_")]
    first = ("description", "mean", "median", "share_of_abs", "nonzero_accounts",
             *groups[:1], *groups[-1:])
    return compact(summary, first=first, max_columns=len(first))

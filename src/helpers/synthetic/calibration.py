"""What the calibration study says at the user's base size (the report's methodology section).

The study (``workbook calibrate``, ``helpers.synthetic.calibrate``) writes its full results to
``benchmarks/results/calibration-<date>.json`` in the repository. The report must work from an
installed package, where ``benchmarks/`` does not exist, so the per-size summary the report
needs is shipped as package data (``helpers/synthetic/calibration.json``, written by
``workbook calibrate --package-summary``; a test checks it matches the newest committed
results file). :func:`detectable_effect` interpolates the minimum detectable |Cliff's delta|
at 80 % recall for a base of n accounts (linear in log n between the sizes studied; outside
them the nearest size's figure is quoted, said as such); :func:`calibration_sentence` words it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE_SUMMARY = Path(__file__).with_name("calibration.json")


def summary_of(doc: dict[str, Any], source: str = "") -> dict[str, Any]:
    """The package summary of a study's JSON document: date, rooms, and per size the minimum
    detectable effect at 80 % recall, recall and the null-validated share.

    Parameters
    ----------
    doc
        A study's JSON document (:func:`helpers.synthetic.calibrate.study`).
    source
        Where it came from (shown in the summary).

    Returns
    -------
    dict
        The summary.
    """
    sizes = {}
    for size, s in doc["sizes"].items():
        sizes[str(size)] = {k: s.get(k) for k in ("rooms", "completed", "recall", "recall_strong",
                                                  "min_detectable_effect_80",
                                                  "null_validated_share", "wrong_sign")}
    return {"source": source, "date": doc.get("date"), "rooms": doc.get("rooms"),
            "command": doc.get("command"), "sizes": sizes}


def load_summary(path: str | Path | None = None) -> dict[str, Any] | None:
    """The shipped summary (or the one at ``path``); None when there is none.

    Parameters
    ----------
    path
        A summary file (None: the one shipped with the package).

    Returns
    -------
    dict or None
        The summary.
    """
    p = Path(path) if path is not None else PACKAGE_SUMMARY
    if not p.is_file():
        return None
    return json.loads(p.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Detectable:
    """The minimum detectable |Cliff's delta| at 80 % recall for a base of ``n`` accounts."""

    n: int
    delta: float
    how: str  # "interpolated" | "at" | "below" | "above"
    lo: int  # the studied size(s) the figure comes from
    hi: int
    date: str
    rooms: int


def detectable_effect(n: int, summary: dict[str, Any] | None = None) -> Detectable | None:
    """Interpolate the minimum detectable effect at ``n`` accounts (None without figures).

    Parameters
    ----------
    n
        The number of kept accounts.
    summary
        The figures (None: :func:`load_summary`).

    Returns
    -------
    Detectable or None
        The effect and how it was found (interpolated, at a studied size, or beyond them).
    """
    summary = summary if summary is not None else load_summary()
    if not summary:
        return None
    pts = sorted((int(k), float(v["min_detectable_effect_80"]))
                 for k, v in summary.get("sizes", {}).items()
                 if v.get("min_detectable_effect_80") is not None)
    if not pts or n <= 0:
        return None
    date, rooms = str(summary.get("date") or ""), int(summary.get("rooms") or 0)
    if n <= pts[0][0]:
        how = "at" if n == pts[0][0] else "below"
        return Detectable(n, pts[0][1], how, pts[0][0], pts[0][0], date, rooms)
    if n >= pts[-1][0]:
        how = "at" if n == pts[-1][0] else "above"
        return Detectable(n, pts[-1][1], how, pts[-1][0], pts[-1][0], date, rooms)
    for (n0, d0), (n1, d1) in zip(pts[:-1], pts[1:], strict=True):
        if n0 <= n <= n1:
            if n in (n0, n1):
                d = d0 if n == n0 else d1
                return Detectable(n, d, "at", n, n, date, rooms)
            t = (math.log(n) - math.log(n0)) / (math.log(n1) - math.log(n0))
            return Detectable(n, d0 + t * (d1 - d0), "interpolated", n0, n1, date, rooms)
    return None  # pragma: no cover - the sizes are sorted


def calibration_sentence(n: int, summary: dict[str, Any] | None = None) -> str:
    """The report's sentence (plain text; the caller escapes it).

    Parameters
    ----------
    n
        The number of kept accounts.
    summary
        The figures (None: :func:`load_summary`).

    Returns
    -------
    str
        The sentence (saying so when there are no figures).
    """
    d = detectable_effect(n, summary)
    if d is None:
        return ("No calibration figures are available for this version of the workbook, so "
                "the smallest effect it reliably finds at this base size is not stated.")
    study = (f"the calibration study ({d.rooms} simulated data rooms per size"
             f"{', ' + d.date if d.date else ''})")
    head = (f"With {n:,} accounts, {study} finds an effect of |Cliff's delta| "
            f"{d.delta:.2f} or more 80 % of the time")
    if d.how == "interpolated":
        where = f" (interpolated between {d.lo:,} and {d.hi:,} accounts)"
    elif d.how == "below":
        where = (f"; this is the figure at {d.lo:,} accounts, the smallest size studied: with "
                 "fewer accounts the detectable effect is larger")
    elif d.how == "above":
        where = (f"; this is the figure at {d.lo:,} accounts, the largest size studied: with "
                 "more accounts smaller effects are found too")
    else:
        where = ""
    return (head + where + ". Smaller true effects may go undetected and show as rejected or "
            "inconclusive.")

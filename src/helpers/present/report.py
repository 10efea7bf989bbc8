"""Step 5: the stakeholder report, one self-contained HTML file built from a run's tables.

The report recomputes nothing: it reads ``data/processed/<run>/`` through :class:`RunStore`.
Every data value passes through Jinja2's autoescaping (account names are user data); the page
carries a Content-Security-Policy that forbids scripts and any network request; charts are
PNG images inlined as data URIs, so the file opens offline from an e-mail attachment.
"""

from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from helpers.present.anonymise import anonymise_frame

# Okabe-Ito: colour-blind safe; one colour per segment across every chart.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
REST_COLOUR = "#BBBBBB"


# ----------------------------------------------------------------------------- formatting
def fmt_money(v: Any, currency: str = "USD") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "–"
    sym = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency, "")
    a = abs(float(v))
    sign = "-" if float(v) < 0 else ""
    if a >= 1e6:
        return f"{sign}{sym}{a / 1e6:,.1f}M"
    if a >= 1e4:
        return f"{sign}{sym}{a / 1e3:,.0f}k"
    return f"{sign}{sym}{a:,.0f}"


def fmt_pct(v: Any, digits: int = 0) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{float(v) * 100:.{digits}f} %"


def fmt_num(v: Any, digits: int = 0) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int) or (isinstance(v, float) and float(v).is_integer() and digits == 0):
        return f"{int(v):,}"
    return f"{float(v):,.{digits}f}"


def _cell(v: Any) -> tuple[str, bool]:
    if isinstance(v, bool):
        return ("yes" if v else "no", False)
    if isinstance(v, int | float) and not isinstance(v, bool):
        if isinstance(v, float) and math.isnan(v):
            return ("–", True)
        if isinstance(v, float) and not v.is_integer():
            return (f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}", True)
        return (f"{int(v):,}", True)
    if v is None or v is pd.NA or v is pd.NaT:
        return ("–", False)
    if hasattr(v, "isoformat"):
        return (str(v)[:10], False)
    return (str(v), False)


# ----------------------------------------------------------------------------- blocks
def p(text: str) -> dict:
    return {"kind": "p", "text": text}


def h3(text: str) -> dict:
    return {"kind": "h3", "text": text}


def note(text: str) -> dict:
    return {"kind": "note", "text": text}


def warning(text: str) -> dict:
    return {"kind": "warning", "text": text}


def bullets(items: Iterable[str]) -> dict:
    return {"kind": "list", "items": list(items)}


def lead(text: str) -> dict:
    """A slightly larger opening paragraph (the 'so what' of a section)."""
    return {"kind": "lead", "text": text}


def pre(text: str) -> dict:
    """Preformatted text (a formula), escaped like everything else."""
    return {"kind": "pre", "text": text}


_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def _colour(c: str | None) -> str:
    if c is None or c == "":
        return ""
    if not _COLOUR.match(str(c)):
        raise ValueError(f"colour must be #RRGGBB, got {c!r}")
    return str(c)


def cards(items: Sequence[tuple[str, str]] | Sequence[tuple[str, str, str]]) -> dict:
    """Headline figures: (label, value) or (label, value, '#RRGGBB' accent colour)."""
    out = []
    for item in items:
        label, value, *rest = item
        out.append((label, value, _colour(rest[0] if rest else None)))
    return {"kind": "cards", "items": out}


def links(items: Sequence[tuple[str, str]]) -> dict:
    """(label, relative href) pairs; absolute or scripted URLs are refused (offline report)."""
    for _label, href in items:
        if re.match(r"^\s*[a-zA-Z][a-zA-Z0-9+.-]*:", href) or href.startswith("//"):
            raise ValueError(f"report links must be relative paths, got {href!r}")
    return {"kind": "links", "items": list(items)}


def legend(items: Sequence[tuple[str, str]]) -> dict:
    """Colour legend: (label, '#RRGGBB') pairs."""
    return {"kind": "legend", "items": [(label, _colour(c)) for label, c in items]}


def table(df: pd.DataFrame, caption: str = "", max_rows: int = 50,
          formats: dict[str, Any] | None = None) -> dict:
    """A table block; every cell becomes text (escaped by the template). At most max_rows."""
    formats = formats or {}
    shown = df.head(max_rows)
    rows = []
    for rec in shown.itertuples(index=False, name=None):
        row = []
        for col, v in zip(shown.columns, rec, strict=True):
            if col in formats and not (v is None or v is pd.NA or
                                       (isinstance(v, float) and math.isnan(v))):
                row.append((formats[col](v), True))
            else:
                row.append(_cell(v))
        rows.append(row)
    if len(df) > max_rows:
        caption = (caption + " " if caption else "") + f"(first {max_rows} of {len(df):,} rows)"
    return {"kind": "table", "columns": [str(c) for c in shown.columns], "rows": rows,
            "caption": caption}


def sources(title: str, href: str, items: Sequence[tuple[str, str, str]]) -> dict:
    """Where one report part's figures come from: its title linked to ``href`` (a relative
    link, e.g. ``#findings``) and one ``Source: <kind> <name> · <producer>`` line per
    (kind, name, producer)."""
    links([(title, href)])  # validates the href
    return {"kind": "sources", "title": title, "href": href,
            "items": [(str(k), str(n), str(f)) for k, n, f in items]}


def figure(fig: Any, caption: str, alt: str, dpi: int = 110) -> dict:
    """A matplotlib figure inlined as a PNG data URI (a pyplot figure is closed).

    ``savefig`` renders with Agg into bytes: the kernel's backend (inline in a notebook) is
    never switched."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    if getattr(fig.canvas, "manager", None) is not None:  # made by pyplot: free its window
        import matplotlib.pyplot as plt

        plt.close(fig)
    src = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return {"kind": "figure", "src": src, "caption": caption, "alt": alt}


@dataclass
class Section:
    id: str
    title: str
    blocks: list[dict] = field(default_factory=list)

    def add(self, *blocks: dict) -> Section:
        self.blocks.extend(blocks)
        return self


# ----------------------------------------------------------------------------- rendering
def template_env() -> Environment:
    """The Jinja2 environment of the workbook's HTML pages (``helpers/templates``; every
    value autoescaped)."""
    return Environment(loader=PackageLoader("helpers.present", "templates"),
                       autoescape=select_autoescape(["html", "j2"], default=True),
                       trim_blocks=True, lstrip_blocks=True)


def render(title: str, subtitle: Sequence[str], sections: Sequence[Section],
           footer: Sequence[str] = ()) -> str:
    """Render the report HTML (autoescaped; no scripts; no external resources)."""
    return template_env().get_template("report.html.j2").render(
        title=title, subtitle=list(subtitle), sections=list(sections), footer=list(footer))


def write(html: str, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def display_frame(df: pd.DataFrame, anonymise: bool) -> pd.DataFrame:
    """What a stakeholder may see of an account-level frame (pseudonyms when anonymising)."""
    return anonymise_frame(df) if anonymise else df

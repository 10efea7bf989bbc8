"""The report's appendix for analysts: links to the executed notebooks and the data file,
the run record, inputs and tables with their hashes, and where each part of the report comes
from (``Source: table <name> · <producing function>``, from the table catalog).
"""

from __future__ import annotations

import pandas as pd

from helpers.core import catalog
from helpers.core.params import params_hash
from helpers.core.paths import NOTEBOOKS
from helpers.core.runinfo import overrides_text
from helpers.present import report
from helpers.present.context import SECTIONS, Context


def appendix(ctx: Context) -> report.Section:
    """The appendix for analysts: files, run record, inputs, tables and where each part of the
    report comes from.

    Parameters
    ----------
    ctx
        The report's context.

    Returns
    -------
    Section
        Section ``appendix``; the tables it reads: ``helpers.core.catalog.read_by``.
    """
    s = report.Section("appendix", "Appendix for analysts")
    links = dict(ctx.appendix_links) if ctx.appendix_links is not None else default_links()
    s.add(report.h3("Files"), report.links(list(links.items())))
    if ctx.anonymise:
        s.add(report.note("This report is anonymised; the executed notebooks are analyst material "
                          "and show real account names."))
    m = ctx.store.manifest()
    info = pd.DataFrame([
        ("run id", ctx.store.run_id), ("as of", str(ctx.params.as_of)),
        ("parameter file", str(m.get("params_file", "–"))),
        ("parameters hash (SHA-256)", str(m.get("params_hash") or params_hash(ctx.params))),
        ("parameter overrides in notebooks", overrides_text(m)),
        ("effective parameters hash", str(m.get("effective_params_hash")
                                          or m.get("params_hash") or params_hash(ctx.params))),
        ("started", str(m.get("started_at", "–"))),
    ], columns=["item", "value"])  # no status: the report is built inside the run it describes
    s.add(report.h3("Run"), report.table(info))
    inputs = m.get("inputs") or {}
    if inputs:
        df = pd.DataFrame([{"input": k, "path": v.get("path"), "bytes": v.get("size_bytes"),
                            "sha256": v.get("sha256")} for k, v in inputs.items()])
        s.add(report.h3("Inputs and their hashes"), report.table(df))
    tables = m.get("tables") or {}
    if tables:
        df = pd.DataFrame([{"table": k, "rows": v.get("rows"), "step": v.get("step"),
                            "sha256": str(v.get("sha256", ""))[:16]}
                           for k, v in sorted(tables.items())])
        s.add(report.h3("Tables this report reads from"), report.table(df, max_rows=80))
    vers = m.get("versions") or {}
    if vers:
        s.add(report.h3("Versions"),
              report.p("; ".join(f"{k} {v}" for k, v in sorted(vers.items()))))
    s.add(report.h3("Where each part of the report comes from"),
          report.note("Each part's tables in this run and the function that wrote them "
                      "(helpers.pipeline; the full list is in docs/architecture.md)."))
    written = {*tables, *(m.get("documents") or {}), "manifest"}
    parts = [*((title, f"#{sid}", sid) for sid, title in SECTIONS),
             ("Data file (report.xlsx)", "report.xlsx", catalog.XLSX)]
    for title, href, sid in parts:
        found = [catalog.entry(n) for n in catalog.read_by(sid) if n in written]
        if found:
            s.add(report.sources(title, href, [(_KIND_LABEL[e.kind], e.file if e.kind != "table"
                                                else e.name, e.producer) for e in found]))
    return s


#: how the appendix's Source lines name each kind of the catalog
_KIND_LABEL = {"table": "table", "document": "document", "manifest": "run record"}


def default_links() -> dict[str, str]:
    """Relative links from report.html: the executed notebooks and the data file.

    Returns
    -------
    dict
        Label -> relative href.
    """
    out = {f"Executed notebook {nb}": f"notebooks/{nb}.html" for nb in NOTEBOOKS}
    out["Data file (XLSX): scored accounts, segments, verdicts, reconciliation"] = "report.xlsx"
    return out

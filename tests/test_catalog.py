"""The table catalog (helpers.core.catalog) against the code and the runs: every producer
resolves, the store refuses names not in it, real runs write exactly its tables (the demo;
two quarters, for the comparison tables; the 85-account deals example, for the lightweight and
account-list tables), each report section reads only the tables it declares, and the list in
docs/architecture.md is the generated one."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import ROOT, scratch_project, use_project

from helpers.core import catalog
from helpers.core.errors import RunError
from helpers.core.params import load
from helpers.core.paths import NOTEBOOKS
from helpers.core.store import RunStore
from helpers.present import deck

FAST = "analysis: {bootstrap: 20, cv_repeats: 1}\nrobustness: {draws: 20, segment_bootstrap: 5}\n"
BEGIN, END = "<!-- tables:begin -->", "<!-- tables:end -->"


def resolve(dotted: str) -> Any:
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


class RecordingStore(RunStore):
    """A run store that notes every name asked for (read, read_json, has, the manifest)."""

    def __init__(self, run_id: str, root: Path) -> None:
        super().__init__(run_id, root)
        self.seen: set[str] = set()

    def has(self, name: str) -> bool:
        self.seen.add(name)
        return super().has(name)

    def read(self, name: str) -> pd.DataFrame:
        self.seen.add(name)
        return super().read(name)

    def read_json(self, name: str) -> Any:
        self.seen.add(name)
        return super().read_json(name)

    def manifest(self) -> dict[str, Any]:
        self.seen.add("manifest")
        return super().manifest()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """Run id -> (project root, params file): the demo; 2026Q2 then 2026Q3 (which compares
    with and migrates from 2026Q2); the deals example (85 accounts: lightweight path)."""
    from helpers.pipeline import run_in_process

    root = scratch_project(tmp_path_factory.mktemp("catalog") / "project")
    for q in ("2026Q2", "2026Q3"):
        (root / "params" / f"f{q}.yaml").write_text(f"extends: {q}.yaml\n{FAST}")
    out = {}
    with use_project(root):
        run_in_process("demo", "params/demo.yaml", report=True)
        out["demo"] = (root, root / "params/demo.yaml")
        for q in ("2026Q2", "2026Q3"):
            run_in_process(q, f"params/f{q}.yaml", report=q == "2026Q3")
            RunStore(q).update_manifest(status="complete")  # what the chain stamps
            out[q] = (root, root / f"params/f{q}.yaml")
    sf = tmp_path_factory.mktemp("catalog-sf") / "project"
    shutil.copytree(ROOT / "params", sf / "params")
    shutil.copytree(ROOT / "data/raw/examples", sf / "data/raw/examples")
    with use_project(sf):
        run_in_process("sf", "params/examples/salesforce-deals.yaml", report=True)
    out["sf"] = (sf, sf / "params/examples/salesforce-deals.yaml")
    return out


def _run_dir(runs: dict, run_id: str) -> Path:
    return runs[run_id][0] / "data" / "processed" / run_id


# ----------------------------------------------------------------------------- the entries
def test_every_producer_resolves_to_a_callable():
    for e in catalog.CATALOG:
        assert callable(resolve(e.producer)), e.name


def test_entries_are_consistent_with_the_notebooks_and_the_report():
    names = [e.name for e in catalog.CATALOG]
    assert len(names) == len(set(names))
    section_ids = {sid for sid, _ in deck.SECTIONS} | {catalog.XLSX}
    assert set(deck.BUILDERS) == {sid for sid, _ in deck.SECTIONS}
    for e in catalog.CATALOG:
        assert e.kind in catalog.KINDS and e.description, e.name
        assert set(e.sections) <= section_ids, (e.name, e.sections)
        assert e.notebook in (*NOTEBOOKS, catalog.EVERY_NOTEBOOK), e.name
        assert e.kind == "table" or not e.keys, e.name
        if e.producer.startswith("helpers.pipeline.step"):  # step<k> is notebook k
            k = int(e.producer.split(".")[2].removeprefix("step"))
            assert e.notebook == NOTEBOOKS[k - 1], e.name


# ----------------------------------------------------------------------------- the store
def test_the_store_refuses_names_not_in_the_catalog(tmp_path):
    store = RunStore("t", root=tmp_path)
    df = pd.DataFrame({"account_id": ["a"]})
    with pytest.raises(catalog.UnknownTableError, match=r"not in the table catalog \(helpers"):
        store.write("no_such_table", df)
    with pytest.raises(RunError, match="Did you mean segments"):
        store.write("segmnets", df)
    with pytest.raises(RunError, match="not in the table catalog"):
        store.write_json("no_such_document", {})
    assert not any(tmp_path.iterdir())  # nothing written, not even the manifest
    with pytest.raises(RunError, match="Did you mean scored_accounts"):
        store.read("scored_acounts")
    with pytest.raises(RunError, match="Did you mean comparison"):
        store.read_json("comparisons")
    with pytest.raises(RunError, match="not in the table catalog"):
        store.has("no_such_table")


def test_the_store_refuses_a_table_as_a_document_and_back(tmp_path):
    store = RunStore("t", root=tmp_path)
    with pytest.raises(RunError, match="'charter' is a document"):
        store.write("charter", pd.DataFrame({"a": [1]}))
    with pytest.raises(RunError, match="'segments' is a table"):
        store.write_json("segments", {})
    with pytest.raises(RunError, match="'manifest' is the manifest"):
        store.write_json("manifest", {})


# ----------------------------------------------------------------------------- the runs
@pytest.mark.parametrize("run_id", ["demo", "2026Q3", "sf"])
def test_a_run_writes_the_catalog_tables_and_nothing_else(runs, run_id):
    run = _run_dir(runs, run_id)
    m = RunStore(run_id, run).manifest()
    written = set(m["tables"]) | set(m["documents"]) | {"manifest"}
    assert set(catalog.names(optional=False)) <= written, \
        set(catalog.names(optional=False)) - written
    assert written <= set(catalog.names())
    files = {p.name for p in run.iterdir()}
    assert files == {catalog.entry(n).file for n in written} | {"hypothesis_verdicts.csv"}
    for kind in ("tables", "documents"):
        for name, rec in m[kind].items():
            e = catalog.entry(name)
            assert rec["producer"] == e.producer, name
            assert e.notebook in (rec["step"], catalog.EVERY_NOTEBOOK), name


def test_the_optional_tables_appear_on_their_paths(runs):
    def written(run_id: str) -> set[str]:
        m = RunStore(run_id, _run_dir(runs, run_id)).manifest()
        return set(m["tables"]) | set(m["documents"])

    q3, sf, demo = written("2026Q3"), written("sf"), written("demo")
    assert {e.name for e in catalog.CATALOG
            if e.optional and e.producer.endswith(".since_previous")} <= q3
    assert {"lightweight_merges", "lightweight_table", "lightweight_separation",
            "account_list_rows", "account_list_reconciliation", "account_list_match"} <= sf
    assert {"needs_clusters", "diamonds", "prospects_scored"} <= demo
    # every optional entry is written by at least one of these runs
    assert set(catalog.names(optional=True)) <= q3 | sf | demo


@pytest.mark.parametrize("run_id", ["demo", "2026Q3", "sf"])
def test_key_columns_identify_the_rows(runs, run_id):
    run = _run_dir(runs, run_id)
    for name in catalog.names("table"):
        path = run / catalog.entry(name).file
        keys = list(catalog.entry(name).keys)
        if not path.exists() or not keys:
            continue
        df = pd.read_parquet(path)
        if df.empty:  # a placeholder (the lightweight path's regression tables)
            continue
        assert set(keys) <= set(df.columns), (name, keys, list(df.columns))
        assert not df.duplicated(keys).any(), (name, keys)


@pytest.mark.parametrize("run_id", ["demo", "2026Q3", "sf"])
def test_no_table_carries_the_machines_file_paths(runs, run_id):
    """A run's tables hold results, not where the analyst's files sit: pandas keeps a frame's
    ``attrs`` in the Parquet metadata, and a table that inherited an input file's attrs carried
    its absolute path (the same data gave different bytes on another machine)."""
    import pyarrow.parquet as pq

    root = str(runs[run_id][0])
    for path in sorted(_run_dir(runs, run_id).glob("*.parquet")):
        meta = pq.read_metadata(path).metadata or {}
        assert not any(root.encode() in value for value in meta.values()), path.name


# ----------------------------------------------------------------------------- the report
@pytest.mark.parametrize("run_id", ["demo", "2026Q3", "sf"])
@pytest.mark.parametrize("anonymise", [False, True])
def test_each_report_section_reads_only_the_tables_it_declares(runs, run_id, anonymise):
    root, params_file = runs[run_id]
    params = load(params_file)
    params = params.model_copy(update={"report": params.report.model_copy(
        update={"anonymise": anonymise})})
    store = RecordingStore(run_id, _run_dir(runs, run_id))
    for sid, _ in deck.SECTIONS:
        ctx = deck.make_context(store, params)  # fresh: its shared tables are read on use
        store.seen.clear()
        deck.BUILDERS[sid](ctx)
        assert store.seen <= set(catalog.read_by(sid)), (sid, store.seen - set(
            catalog.read_by(sid)))
    store.seen.clear()
    deck.xlsx_sheets(store, params)
    assert store.seen <= set(catalog.read_by(catalog.XLSX)), store.seen - set(
        catalog.read_by(catalog.XLSX))


def test_the_appendix_names_each_sections_sources(runs):
    root, _ = runs["2026Q3"]
    html = (root / "reports/2026Q3/report.html").read_text(encoding="utf-8")
    appendix = html[html.index('<section id="appendix">'):]
    assert ("Source: table <code>segments</code> · <code>helpers.pipeline.step4.segments"
            "</code>") in appendix
    assert ("Source: table <code>migration_matrix</code> · <code>helpers.pipeline.step4."
            "since_previous</code>") in appendix
    assert "Source: document <code>findings.json</code>" in appendix
    # the stakeholder body names no code
    assert "helpers.pipeline" not in html[:html.index('<section id="appendix">')]
    # no Source line for a table this run lacks (the lightweight tables of a full run)
    assert "lightweight_separation" not in appendix


def test_the_sources_block_escapes_and_refuses_absolute_links():
    from helpers.present import report

    page = report.render("t", [], [report.Section("appendix", "A").add(report.sources(
        "<b>x</b>", "#appendix", [("table", "<i>n</i>", "helpers.f")]))])
    assert "<b>x</b>" not in page and "&lt;i&gt;n&lt;/i&gt;" in page
    with pytest.raises(ValueError, match="relative"):
        report.sources("x", "https://example.com", [])


# ----------------------------------------------------------------------------- the docs
def test_the_docs_table_list_is_the_generated_one():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert doc.count(BEGIN) == 1 and doc.count(END) == 1
    kept = doc[doc.index(BEGIN) + len(BEGIN):doc.index(END)].strip("\n") + "\n"
    assert kept == catalog.markdown(), (
        "docs/architecture.md's table list differs from the catalog: regenerate it with "
        "`python -m helpers.core.catalog --markdown`")


def test_the_markdown_command(capsys):
    assert catalog.main(["--markdown"]) == 0
    out = capsys.readouterr().out
    assert out == catalog.markdown()
    assert "| `segments.parquet` | `04_analysis` | `helpers.pipeline.step4.segments` |" in out
    assert catalog.main([]) == 2

"""The stakeholder deck (helpers.present.deck) built from fixture run tables.

``make_run`` writes a small, plausible run into a RunStore under tmp_path, using the real
helpers (segments, lift, verdicts) on the planted synthetic table; other test files import it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.analyse import lift, segments, verdicts
from helpers.core import params
from helpers.core.store import RunStore
from helpers.present import deck, report
from helpers.present.anonymise import pseudonym

HOSTILE_NAME = "<script>alert(1)</script>"
FORMULA_NAME = '=HYPERLINK("http://x")'
N_ACCOUNTS = 240


def load_params(anonymise: bool = False) -> params.Params:
    return params.with_overrides(params.load("params/demo.yaml"),
                                 {"report.anonymise": anonymise})


def make_run(root: Path, *, step4: bool = True, seed: int = 3) -> RunStore:
    """A fixture run: Step 1-3 tables always, Step 4 tables when ``step4``."""
    store = RunStore("fixture", root=root / "run")
    table, hyp = verdicts.planted_example(n_accounts=N_ACCOUNTS, seed=seed)
    table = table.sort_values("score_rank", kind="stable").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    n = len(table)
    names = [f"Company {i:03d} Holdings" for i in range(n)]
    names[0], names[-1] = HOSTILE_NAME, FORMULA_NAME  # the best and the worst account
    table["account_name"] = names
    table["domain"] = [f"company{i:03d}.example" for i in range(n)]
    table["owner"] = rng.choice(["Owner Alvarez", "Owner Brennan", "Owner Castellano"], n)
    table["status"] = np.where(rng.random(n) < 0.1, "former", "current")
    table["mrr"] = np.round(np.clip(table["score"] / 12, 50, None), 2)
    table["mrr_prev"] = np.round(table["mrr"] * rng.uniform(0.7, 1.1, n), 2)
    table["c_acv"] = table["score"]
    for c in ("c_tickets", "c_success", "c_acquisition", "c_growth", "c_churn", "c_large_logo"):
        table[c] = 0.0
    table["c_churn"] = np.where(table["status"] == "former", -5000.0, 0.0)
    table["c_acv"] = table["score"] - table["c_churn"]
    table["quartile"] = pd.Categorical(table["quartile"], categories=list("ABCD"), ordered=True)
    ids = table["account_id"]
    store.write("accounts_raw", table[["account_id", "account_name", "domain", "owner",
                                       "status", "mrr"]])
    store.write("scored_accounts", table)
    store.write("analysis_table", table)
    store.write("exclusions", pd.DataFrame({"account_id": ids, "excluded": False,
                                            "exclusion_rule": "kept",
                                            "exclusion_reason": "passes every exclusion rule"}))
    store.write("reconciliation", pd.DataFrame({
        "rule": ["raw", "test", "excluded", "kept"],
        "description": ["all accounts in the export", "test account", "excluded", "kept"],
        "accounts": [n + 4, 4, 4, n], "share": [1.0, 4 / (n + 4), 4 / (n + 4), n / (n + 4)],
        "mrr": [1e6, 100.0, 100.0, 999900.0]}))
    store.write("hypotheses", hyp)
    store.write("join_report", pd.DataFrame({
        "source": ["firmographics", "survey"], "join_on": ["domain", "account_id"],
        "accounts": [n, n], "matched": [n - 20, 90], "match_rate": [(n - 20) / n, 90 / n],
        "unmatched_accounts": [20, n - 90]}))
    store.write("quality_report", pd.DataFrame({
        "id": ["H01", "H02"], "variable": ["employees", "industry"], "completeness": [1.0, 0.8],
        "stale_share": [0.0, 0.1], "out_of_range": [0, 0], "send_back": [False, False],
        "reason": ["", ""]}))
    store.write_json("charter", {
        "project": "Fixture project", "objective": "Find the best segments.",
        "business_goals": ["Grow ARR"],
        "stakeholders": [{"name": "Dana Example", "role": "VP Sales", "goal": "territories"}],
        "scope": {"share_of_accounts": 1.0, "max_hypotheses": 15, "max_segments": 3},
        "deliverables": ["Deck"], "milestones": [{"name": "Sign-off", "due": "2026-11-20"}]})
    store.write_json("warnings", {"01_setup:accounts": [
        f"accounts: 1 account(s) with zero MRR: {ids.iloc[5]} ({table['account_name'].iloc[5]})"]})
    store.update_manifest(params_hash="abc123", params_file="params/demo.yaml",
                          inputs={"accounts": {"path": "data/raw/x.csv", "sha256": "f" * 64,
                                               "size_bytes": 10}},
                          versions={"pandas": pd.__version__})
    if not step4:
        return store
    p = load_params()
    defs = segments.synthesise(table, ["business_model", "employees"], top_share=0.25,
                               min_share=0.05)
    lab = segments.assign(table, defs)
    seg_tab = segments.segment_table(table, lab, top_share=0.25, segment_defs=defs)
    examples = segments.representative_accounts(table, lab, n=3)
    pri = segments.prioritise(seg_tab, p.segments, examples=examples)
    store.write("segments", pri.table)
    store.write("segment_examples", examples)
    names_map = segments.segment_names(defs)
    store.write("segment_assignments", pd.DataFrame({
        "account_id": ids, "segment": lab.to_numpy(),
        "segment_name": lab.map(names_map).to_numpy()}))
    store.write("coverage", segments.coverage_model(pri.table, p.segments.cs))
    lift_long, summary = lift.evaluate_schemes(
        table, [lift.column_scheme("employees", "employees"),
                lift.group_mean_scheme("business model", ["business_model"])],
        folds=3, repeats=1, bootstrap=0)
    store.write("lift", lift_long)
    store.write("scheme_summary", summary)
    store.write("hypothesis_verdicts", verdicts.verdicts(table, hyp))
    store.write("prospects_scored", pd.DataFrame({"account_name": ["P1", "P2", "P3"],
                                                  "segment": [defs[0].id, "Rest of base",
                                                              defs[0].id]}))
    store.write_json("findings", {"prioritisation_message": pri.message, "validated": 1,
                                  "rejected": 2, "inconclusive": 3})
    return store


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> RunStore:
    return make_run(tmp_path_factory.mktemp("deck"))


@pytest.fixture(scope="module")
def html_path(run, tmp_path_factory) -> Path:
    return deck.build_report(run, load_params(), tmp_path_factory.mktemp("out") / "report.html")


def _text(html: str) -> str:
    """Visible text, roughly: tags removed, entities kept."""
    return re.sub(r"<[^>]+>", " ", html)


def test_sections_in_order(html_path):
    html = html_path.read_text(encoding="utf-8")
    pos = [html.find(f'<section id="{sid}">') for sid, _ in deck.SECTIONS]
    assert all(p_ > 0 for p_ in pos), [sid for (sid, _), p_ in zip(deck.SECTIONS, pos,
                                                                      strict=True) if p_ < 0]
    assert pos == sorted(pos)


def test_no_scripts_no_external_resources(html_path):
    html = html_path.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    for attr in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert not re.match(r"^\s*(https?:|//|javascript:)", attr, re.I), attr
    srcs = re.findall(r'<img[^>]+src="([^"]*)"', html)
    assert len(srcs) >= 3  # charts (a), (b) and the gains chart
    assert all(s.startswith("data:image/png;base64,") for s in srcs)
    assert html_path.stat().st_size < 5_000_000


def test_hostile_names_inert_in_html(html_path):
    html = html_path.read_text(encoding="utf-8")
    assert HOSTILE_NAME not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, escaped (best account)


def test_headline_figures_in_text(run, html_path):
    text = _text(html_path.read_text(encoding="utf-8"))
    seg = run.read("segments")
    rec = seg[seg["recommended"]]
    assert len(rec) >= 1
    coverage = rec["share_of_base"].sum()
    capture = rec["top_accounts"].sum() / seg["top_accounts"].sum()
    lift_ = capture / coverage
    for figure in (report.fmt_pct(coverage), report.fmt_pct(capture), f"{lift_:.1f}x"):
        assert figure in text, figure
    best = rec.sort_values("share_top", ascending=False).iloc[0]
    assert report.fmt_pct(best["share_top"]) in text


def test_headline_numbers(run):
    h = deck.headline(deck.make_context(run, load_params()))
    seg = run.read("segments")
    rec = seg[seg["recommended"]]
    assert h["segments"] == list(rec.sort_values("priority")["segment"])
    assert h["coverage"] == pytest.approx(rec["accounts"].sum() / N_ACCOUNTS)
    assert h["top_in_focus"] + h["n_top_missed"] == seg["top_accounts"].sum()
    assert h["accounts"] == N_ACCOUNTS


def test_segment_colours_consistent(run):
    ctx = deck.make_context(run, load_params())
    segs = [s for s in ctx.segs["segment"] if s != "Rest of base"]
    assert ctx.colours["Rest of base"] == report.REST_COLOUR
    assert [ctx.colours[s] for s in segs] == report.PALETTE[:len(segs)]
    from helpers.present.plots import segment_colours

    assert segment_colours(["S2", "Rest of base", "S1"]) == {
        "S2": report.PALETTE[0], "Rest of base": report.REST_COLOUR, "S1": report.PALETTE[1]}


def test_missing_step4_tables_still_builds(tmp_path):
    store = make_run(tmp_path, step4=False)
    out = deck.build_report(store, load_params(), tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    for sid, _ in deck.SECTIONS:
        assert f'<section id="{sid}">' in html
    assert html.count(deck.NOT_AVAILABLE) >= 5
    x = deck.build_xlsx(store, load_params(), tmp_path / "r.xlsx")
    assert x.exists()


def test_xlsx_sheets_and_formula_neutralised(run, tmp_path):
    import openpyxl

    out = deck.build_xlsx(run, load_params(), tmp_path / "report.xlsx")
    wb = openpyxl.load_workbook(out)
    assert {"scored accounts", "segments", "hypothesis verdicts", "reconciliation",
            "run info"} <= set(wb.sheetnames)
    ws = wb["scored accounts"]
    header = [c.value for c in ws[1]]
    assert "segment" in header and "score" in header
    cells = [c.value for row in ws.iter_rows(min_row=2) for c in row]
    assert ws.max_row - 1 == N_ACCOUNTS
    assert "'" + FORMULA_NAME in cells
    assert FORMULA_NAME not in cells
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)


def _all_xlsx_text(path: Path) -> str:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    return "\n".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row
                     if c.value is not None)


def test_anonymised_outputs_leak_no_identity(run, tmp_path):
    p = load_params(anonymise=True)
    html = deck.build_report(run, p, tmp_path / "anon.html").read_text(encoding="utf-8")
    xlsx = _all_xlsx_text(deck.build_xlsx(run, p, tmp_path / "anon.xlsx"))
    raw = run.read("accounts_raw")
    import html as htmllib

    text = htmllib.unescape(html)
    for col in ("account_name", "domain", "owner"):
        for v in raw[col].unique():
            assert v not in text, (col, v)
            assert v not in xlsx, (col, v)
    for v in raw["account_id"]:  # the id from the warning too
        assert v not in text and v not in xlsx
    assert pseudonym(raw["account_id"].iloc[0]) in text  # best account shown by pseudonym
    assert "anonymised" in text


def test_sentences_from_findings_and_appendix_links(html_path):
    html = html_path.read_text(encoding="utf-8")
    assert "Of 6 hypotheses, 1 were validated" in html
    assert 'href="notebooks/05_presentation.html"' in html
    assert 'href="report.xlsx"' in html


def test_links_must_be_relative():
    with pytest.raises(ValueError):
        report.links([("x", "https://evil.example/")])
    with pytest.raises(ValueError):
        report.links([("x", "javascript:alert(1)")])
    assert report.links([("ok", "notebooks/01_setup.html")])["items"]


def test_over_phrase():
    from helpers.present.plots import over_phrase

    assert over_phrase(0.47) == "over 40 %"
    assert over_phrase(0.40) == "40 %"
    assert over_phrase(0.07) == "7 %"


def test_xlsx_contents_sheet_and_dressing(run, tmp_path):
    """report.xlsx: a linked contents sheet first; on every sheet a frozen header row,
    filters, fitted widths and money / percent formats."""
    import openpyxl

    out = deck.build_xlsx(run, load_params(), tmp_path / "report.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "contents"
    toc = wb["contents"]
    listed = [toc.cell(row=i, column=1).value for i in range(2, toc.max_row + 1)]
    assert listed == wb.sheetnames[1:]
    assert toc.cell(row=2, column=1).hyperlink.location == f"'{wb.sheetnames[1]}'!A1"
    assert all(toc.cell(row=i, column=2).value for i in range(2, toc.max_row + 1))
    for ws in wb:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref, ws.title
        assert ws.column_dimensions["A"].width >= 8, ws.title
    seg = wb["segments"]
    header = {c.value: c.column_letter for c in seg[1]}
    assert seg[f"{header['share_of_base']}2"].number_format == "0.0%"
    assert seg[f"{header['mean_acv']}2"].number_format == '#,##0 "USD"'
    acc = wb["scored accounts"]
    head = [c.value for c in acc[1]]
    assert head.index("segment_rule") == head.index("segment_name") + 1
    rules = {r["segment"]: r["rule"] for r in _segments_rows(run)}
    row = [c.value for c in acc[2]]
    assert row[head.index("segment_rule")] == rules[row[head.index("segment")]]


def _segments_rows(run):
    return run.read("segments")[["segment", "rule"]].astype(str).to_dict("records")


def test_column_kind_by_name_and_dtype():
    from helpers.core.export import column_kind

    assert column_kind("share_top", "float64") == "percent"
    assert column_kind("mean_acv", "float64") == "money"
    assert column_kind("score_rank", "int64") == "integer"
    assert column_kind("accuracy_ratio", "float64") == "number"
    assert column_kind("revenue", "object") == "text"
    assert column_kind("is_hospital", "bool") == "text"
    assert column_kind("n_top", "int64") == "integer"
    assert column_kind("revenue_share", "float64") == "percent"


def test_report_gains_chart_and_scheme_table_share_the_order(html_path, run):
    from helpers.present import plots

    html = html_path.read_text(encoding="utf-8")
    part = html[html.index('<section id="method-models">'):]
    part = part[:part.index("</section>")]
    colours = plots.scheme_colours(run.read("lift"))
    legend = re.findall(r'<span class="swatch" style="background: (#[0-9A-Fa-f]{6})"></span>'
                        r"([^<]+)</li>", part)
    assert [(c.upper(), n) for c, n in legend] == [(c.upper(), n) for n, c in colours.items()]
    first_rows = [n for n in colours if f"<td>{n}</td>" in part]
    positions = [part.index(f"<td>{n}</td>") for n in first_rows]
    assert positions == sorted(positions)  # the table lists the schemes best first

"""Benchmark the workbook chain on demo-shaped data rooms of several sizes (not a test).

    python benchmarks/bench.py [--sizes 2000,100000,1000000] [--out benchmarks/results/<date>.json]

For each size it builds (once, cached under ``--workdir``) a demo-shaped data room, sets up a
scratch project there (parameters and notebooks copied from this checkout, the data room
linked in as ``data/raw/demo``), and then measures:

* the chain: ``workbook run`` (papermill, five notebooks, HTML rendering) in a subprocess,
  with per-notebook wall time (from the run manifest), total wall time, peak memory (the
  process tree's summed RSS, sampled), report size;
* the same helper calls in one warm Python process without notebooks: every code cell of the
  five notebooks executed in order in a fresh interpreter whose imports are done before the
  clock starts, ``display`` a no-op (``--inprocess`` mode of this script);
* the overhead ratio (chain wall time / in-process wall time);
* the interactive paths (at every size, reported at 100k): the score-weights widget update
  (``widgets.weight_tables``) and the variable-explorer update (``verdicts.explore``), median
  of repeated calls.

Data rooms: up to ``TILE`` accounts they come straight from ``helpers.synthetic.demo.write_demo``. The
demo's company-name lists hold about 67k companies, so bigger rooms are tiles of ``TILE``
accounts, each generated with its own seed and made disjoint by tagging account ids, ticket
ids, company names and domains with the tile number (same distributions, planted truths and
file formats; ~26 tickets and ~11 usage rows per account, as in the demo).

The figures go to a JSON file (machine cores and memory included) so that two commits can be
compared.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TILE = 50_000
DEFAULT_SIZES = (2_000, 100_000, 1_000_000)
SEED = 20260930
RUN_ID = "bench"
INPROC_RUN_ID = "bench-inprocess"
NOTEBOOKS = ("01_setup", "02_hypotheses", "03_data_collection", "04_analysis", "05_presentation")
DOMAIN_HOST = re.compile(r"^((?:https?://)?(?:www\.)?)", re.IGNORECASE)


# --------------------------------------------------------------------------- data rooms


def _tag_tile(files: dict, t: int) -> dict:
    """Make tile ``t`` of a tiled data room disjoint from the others (ids, names, domains)."""
    import pandas as pd

    tag = f"t{t:02d}"

    def ids(s: pd.Series) -> pd.Series:  # "0015g00000XXXXXX" -> "0015g000tt" + "XXXXXX"
        return s.str.slice(0, 8) + f"{t:02d}" + s.str.slice(10)

    def domains(s: pd.Series) -> pd.Series:
        return s.str.replace(DOMAIN_HOST, lambda m: m.group(1) + tag, regex=True)

    def names(s: pd.Series) -> pd.Series:
        return (tag.upper() + " ") + s

    out = dict(files)
    for key in ("crm_accounts_2026Q2.csv", "crm_accounts_2026Q3.csv"):
        f = files[key].copy()
        f["Account ID"] = ids(f["Account ID"])
        f["Account Name"] = names(f["Account Name"])
        f["Website"] = domains(f["Website"])
        out[key] = f
    v = files["firmographics_vendor.csv"].copy()
    v["domain"], v["company_name"] = domains(v["domain"]), names(v["company_name"])
    out["firmographics_vendor.csv"] = v
    tk = files["support_tickets.csv"].copy()
    tk["ticket_id"] = tk["ticket_id"].str.replace("TCK-", f"TCK{t:02d}-", regex=False)
    tk["account_id"] = ids(tk["account_id"])
    out["support_tickets.csv"] = tk
    for key in ("product_usage_monthly.csv", "needs_survey.csv"):
        f = files[key].copy()
        f["account_id"] = ids(f["account_id"])
        out[key] = f
    p = files["prospects.csv"].copy()
    p["Website"], p["Company"] = domains(p["Website"]), names(p["Company"])
    out["prospects.csv"] = p
    return out


def build_data_room(out: Path, n_accounts: int, seed: int = SEED) -> dict:
    """Write a demo-shaped data room of ``n_accounts`` accounts into ``out`` (cached: a
    ``bench.json`` marker with the same size and seed means it is already there)."""
    marker = out / "bench.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        if info.get("n_accounts") == n_accounts and info.get("seed") == seed:
            return info
    from helpers.synthetic.demo import FILES, generate, write_demo

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    rows: dict[str, int] = {}
    if n_accounts <= TILE:
        write_demo(out, n_accounts=n_accounts, seed=seed)
    else:
        n_tiles = -(-n_accounts // TILE)
        for t in range(n_tiles):
            size = min(TILE, n_accounts - t * TILE)
            files = _tag_tile(generate(n_accounts=size, seed=seed + t), t)
            for name, content in files.items():
                path = out / name
                if isinstance(content, str):
                    if t == 0:
                        path.write_text(content, encoding="utf-8")
                    continue
                if name == "prospects.csv" and t > 0:
                    continue  # one prospect list
                content.to_csv(path, mode="a" if t else "w", header=t == 0, index=False,
                               lineterminator="\n", float_format=FILES[name])
            print(f"    tile {t + 1}/{n_tiles} written", flush=True)
    for path in sorted(out.glob("*.csv")):
        with path.open("rb") as fh:
            rows[path.name] = sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 24), b"")) - 1
    info = {"n_accounts": n_accounts, "seed": seed, "rows": rows,
            "bytes": sum(p.stat().st_size for p in out.iterdir()),
            "seconds": round(time.perf_counter() - t0, 1)}
    marker.write_text(json.dumps(info, indent=2))
    return info


def setup_project(root: Path, data_room: Path, n_accounts: int) -> Path:
    """A scratch project: params and notebooks from this checkout, the data room linked as
    data/raw/demo, and ``params/bench.yaml`` (the demo parameters; the collection budget
    scaled with the account count so the same hypotheses are selected at every size)."""
    for sub in ("params", "notebooks"):
        shutil.rmtree(root / sub, ignore_errors=True)
        shutil.copytree(REPO / sub, root / sub)
    raw = root / "data" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    link = raw / "demo"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(data_room.resolve(), target_is_directory=True)
    budget = max(2000.0, 2.5 * n_accounts)
    (root / "params" / "bench.yaml").write_text(
        f"extends: demo.yaml\nhypotheses: {{max_cost_usd: {budget:.0f}}}\n")
    for sub in ("data/processed", "reports"):
        shutil.rmtree(root / sub, ignore_errors=True)
    return root


# --------------------------------------------------------------------------- measuring


class TreeMemory:
    """Peak summed RSS of a process and its descendants, sampled every ``interval`` s."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.peak_single = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                rss = []
                for p in procs:
                    with contextlib.suppress(psutil.Error):
                        rss.append(p.memory_info().rss)
                self.peak = max(self.peak, sum(rss))
                self.peak_single = max(self.peak_single, max(rss, default=0))
            except psutil.Error:
                pass
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _env(root: Path) -> dict:
    env = dict(os.environ, WORKBOOK_ROOT=str(root), MPLBACKEND="Agg", PYTHONHASHSEED="0")
    env.pop("JUPYTER_PLATFORM_DIRS", None)
    return env


def run_chain(root: Path) -> dict:
    """``workbook run`` on the scratch project; wall time, per-notebook times, memory, sizes."""
    workbook = Path(sys.executable).with_name("workbook")
    cmd = [str(workbook), "run", "--params", "params/bench.yaml", "--run-id", RUN_ID]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=root, env=_env(root), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    with TreeMemory(proc.pid) as mem:
        log, _ = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"workbook run failed ({proc.returncode}):\n{log[-4000:]}")
    manifest = json.loads((root / "data" / "processed" / RUN_ID / "manifest.json").read_text())
    per_nb = {k: v["seconds"] for k, v in manifest.get("notebooks", {}).items()}
    reports = root / "reports" / RUN_ID
    report = reports / "report.html"
    xlsx = reports / "report.xlsx"
    nb_html = sum(p.stat().st_size for p in (reports / "notebooks").glob("*.html"))
    return {"wall_seconds": round(wall, 2), "notebook_seconds": per_nb,
            "render_and_startup_seconds": round(wall - sum(per_nb.values()), 2),
            "peak_rss_tree_mb": round(mem.peak / 2**20), "peak_rss_process_mb":
            round(mem.peak_single / 2**20),
            "report_html_bytes": report.stat().st_size if report.exists() else None,
            "report_xlsx_bytes": xlsx.stat().st_size if xlsx.exists() else None,
            "notebook_html_bytes": nb_html}


def run_inprocess(root: Path, repeats: int) -> dict:
    """This script's ``--inprocess`` mode in a fresh interpreter (imports before the clock)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--inprocess", str(root),
           "--repeats", str(repeats)]
    proc = subprocess.Popen(cmd, cwd=root, env=_env(root), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    with TreeMemory(proc.pid) as mem:
        out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"in-process run failed ({proc.returncode}):\n{err[-4000:]}")
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_rss_mb"] = round(mem.peak / 2**20)
    return res


def _notebook_cells(name: str) -> list[str]:
    import nbformat

    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def inprocess_main(root: Path, repeats: int) -> dict:
    """Execute every notebook's code cells in this process, no kernel, no display; then time
    the interactive paths. Prints one JSON line."""
    os.chdir(root / "notebooks")
    import IPython.display
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn  # noqa: F401
    import sklearn.tree  # noqa: F401
    import statsmodels.api  # noqa: F401

    # warm: everything the notebooks and helpers import, before the clock starts
    import helpers.analyse.explorer  # noqa: F401
    import helpers.pipeline  # noqa: F401
    import helpers.present.deck  # noqa: F401
    import helpers.present.plots  # noqa: F401
    import helpers.setup.widgets  # noqa: F401

    IPython.display.display = lambda *a, **k: None  # the notebook's display, minus rendering
    plt.show = lambda *a, **k: None
    times: dict[str, float] = {}
    total0 = time.perf_counter()
    ns: dict = {}
    for name in NOTEBOOKS:
        cells = _notebook_cells(name)
        ns = {"__name__": "__main__"}
        exec(cells[0], ns)  # the parameters cell, then papermill's injected values
        ns.update(run_id=INPROC_RUN_ID, params_path="params/bench.yaml", interactive=False)
        t0 = time.perf_counter()
        for src in cells[1:]:
            exec(compile(src, f"<{name}>", "exec"), ns)
            plt.close("all")
        times[name] = round(time.perf_counter() - t0, 2)
        if name == "04_analysis":
            step4_ns = ns
    wall = time.perf_counter() - total0
    interactive = time_interactive(step4_ns, repeats)
    return {"wall_seconds": round(wall, 2), "notebook_seconds": times, **interactive}


def time_interactive(ns: dict, repeats: int) -> dict:
    """Median time of the score-weights widget update and the variable-explorer update."""
    from helpers.analyse import verdicts
    from helpers.analyse.tested import kinds_of
    from helpers.setup import widgets

    s = ns["s"]
    scored = s.store.read("scored_accounts")
    weights = s.params.score
    alt = [weights.model_copy(update={"cost_per_ticket": weights.cost_per_ticket * f})
           for f in (0.5, 1.5)]
    ctx = ns["ctx"]
    kinds = kinds_of(ctx.tested)
    variables = list(kinds)

    def med(fn) -> float:
        fn(0)  # first call outside the median (caches, lazy imports)
        samples = []
        for i in range(repeats):
            t0 = time.perf_counter()
            fn(i + 1)
            samples.append(time.perf_counter() - t0)
        return round(1000 * statistics.median(samples), 2)

    widget_ms = med(lambda i: widgets.weight_tables(scored, alt[i % 2]))
    explorer_ms = med(lambda i: verdicts.explore(ctx.table, variables[i % len(variables)],
                                                 kinds[variables[i % len(variables)]]))
    return {"widget_update_ms_median": widget_ms, "explorer_update_ms_median": explorer_ms,
            "interactive_repeats": repeats, "n_explorer_variables": len(variables)}


# --------------------------------------------------------------------------- report


def machine() -> dict:
    import psutil

    return {"cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "platform": platform.platform(), "python": platform.python_version()}


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def git_dirty() -> bool | None:
    try:
        return bool(subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True,
                                   text=True, check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        return None


TARGETS = {2_000: {"chain_s": 45}, 1_000_000: {"chain_s": 180, "peak_gb": 4, "report_mb": 5}}


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def table(results: list[dict]) -> str:
    """The benchmark table (one row per size)."""
    head = ["accounts", "tickets", "usage"] + [n[:2] for n in NOTEBOOKS] + [
        "render+", "chain s", "in-proc s", "overhead", "peak MB", "report MB", "widget ms",
        "explorer ms"]
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for r in results:
        c, ip = r["chain"], r["inprocess"]
        rows = r["data"]["rows"]
        cells = [f"{r['n_accounts']:,}", f"{rows.get('support_tickets.csv', 0):,}",
                 f"{rows.get('product_usage_monthly.csv', 0):,}"]
        cells += [f"{c['notebook_seconds'].get(n, float('nan')):.1f}" for n in NOTEBOOKS]
        cells += [f"{c['render_and_startup_seconds']:.1f}", f"{c['wall_seconds']:.1f}",
                  _fmt(ip["wall_seconds"]), _fmt(r["overhead_ratio"], ".2f"),
                  f"{c['peak_rss_tree_mb']:,}", f"{(c['report_html_bytes'] or 0) / 1e6:.2f}",
                  _fmt(ip["widget_update_ms_median"]), _fmt(ip["explorer_update_ms_median"])]
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def bench_size(n: int, workdir: Path, repeats: int, skip_inprocess: bool = False) -> dict:
    data_room = workdir / "data" / f"raw-{n}"
    print(f"[{n:,} accounts] data room {data_room}", flush=True)
    data = build_data_room(data_room, n)
    root = setup_project(workdir / f"project-{n}", data_room, n)
    print(f"[{n:,} accounts] chain (workbook run) ...", flush=True)
    chain = run_chain(root)
    print(f"    {chain['wall_seconds']:.1f} s, peak {chain['peak_rss_tree_mb']:,} MB", flush=True)
    inproc = {"wall_seconds": None, "notebook_seconds": {},
              "widget_update_ms_median": None, "explorer_update_ms_median": None}
    if not skip_inprocess:
        print(f"[{n:,} accounts] same helper calls in one warm process ...", flush=True)
        inproc = run_inprocess(root, repeats)
        print(f"    {inproc['wall_seconds']:.1f} s", flush=True)
    return {"n_accounts": n, "data": data, "chain": chain, "inprocess": inproc,
            "overhead_ratio": round(chain["wall_seconds"] / inproc["wall_seconds"], 3)
            if inproc["wall_seconds"] else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES),
                        help="comma-separated account counts")
    parser.add_argument("--out", default=None, help="JSON file (default "
                        "benchmarks/results/<date>.json)")
    parser.add_argument("--workdir", default=os.environ.get("BENCH_WORKDIR", "/tmp/bench"),
                        help="where data rooms and scratch projects go (keep it out of the repo)")
    parser.add_argument("--repeats", type=int, default=25, help="interactive-path repeats")
    parser.add_argument("--skip-inprocess", action="store_true")
    parser.add_argument("--inprocess-max", type=int, default=None,
                        help="skip the in-process baseline above this many accounts")
    parser.add_argument("--inprocess", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inprocess:
        print(json.dumps(inprocess_main(Path(args.inprocess), args.repeats)))
        return 0
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    results = [bench_size(n, workdir, args.repeats, args.skip_inprocess or (
        args.inprocess_max is not None and n > args.inprocess_max)) for n in sizes]
    doc = {"date": dt.date.today().isoformat(), "commit": git_commit(),
           "uncommitted_changes": git_dirty(), "machine": machine(),
           "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
           "targets": TARGETS, "results": results}
    by_n = {r["n_accounts"]: r["chain"]["wall_seconds"] for r in results}
    if 100_000 in by_n and 1_000_000 in by_n:
        doc["growth_1m_over_100k"] = round(by_n[1_000_000] / by_n[100_000], 2)
    out = Path(args.out) if args.out else REPO / "benchmarks" / "results" / f"{doc['date']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print()
    print(table(results))
    if "growth_1m_over_100k" in doc:
        print(f"\n1M / 100k chain wall time: {doc['growth_1m_over_100k']}")
    print(f"\n{doc['machine']['cores']} cores, {doc['machine']['memory_gb']} GB; figures in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

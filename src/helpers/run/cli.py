"""The `workbook` command (also `python -m helpers`).

    workbook run --params params/demo.yaml --run-id 2026Q3 [--force] [--from 04_analysis]
    workbook check --params params/demo.yaml     # will this run start? (every input, all problems)
    workbook runs                                # list runs with their status
    workbook diff --run 2026Q3-v2 --against 2026Q3   # what changed between two runs
    workbook crm-export --run 2026Q3 [--changed-only] [--format salesforce|hubspot]
    workbook kernel                              # register the workbook's Jupyter kernel
    workbook demo --out data/raw/demo            # regenerate the demo data room
    workbook calibrate [--rooms 200] [--sizes 300,1500,5000]   # the calibration study
    workbook sql --params params/demo.yaml --dialect bigquery   # the aggregation for a warehouse
    workbook aggregate --params params/demo.yaml --kind usage --engine spark \
        --input data/usage_dataset --out usage_summary.parquet  # per-account summary file
    workbook --version

-q shows only warnings and errors; -v adds debug detail. Messages go through `logging`
(logger "helpers"): progress to stdout beside the command's result (the report path, a
table), warnings and errors to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys

from helpers.core.errors import WorkbookError

log = logging.getLogger("helpers")


def version() -> str:
    """The installed package's version ("unknown" when run from an uninstalled tree).

    Returns
    -------
    str
        The version.
    """
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("segmentation-workbook")
    except PackageNotFoundError:
        return "unknown"


def setup_logging(verbosity: int = 0) -> None:
    """Route the workbook's messages: progress and detail to stdout (as before logging),
    warnings and errors to stderr; -1 warnings only, 0 progress, 1+ debug.

    Parameters
    ----------
    verbosity
        -1 (``-q``), 0 or the number of ``-v``.
    """
    level = logging.WARNING if verbosity < 0 else logging.DEBUG if verbosity > 0 else logging.INFO
    fmt = logging.Formatter("%(message)s" if verbosity <= 0 else
                            "%(asctime)s %(name)s %(levelname)s: %(message)s")
    out, err = logging.StreamHandler(sys.stdout), logging.StreamHandler(sys.stderr)
    out.addFilter(lambda record: record.levelno < logging.WARNING)
    err.setLevel(logging.WARNING)
    for handler in (out, err):
        handler.setFormatter(fmt)
    log.handlers[:] = [out, err]
    log.setLevel(level)
    log.propagate = False


def _cmd_run(args: argparse.Namespace) -> int:
    from helpers.core.paths import project_root
    from helpers.run.chain import run_chain

    report = run_chain(args.params, args.run_id, force=args.force, start_from=args.start_from,
                       timeout=args.timeout, echo=log.info)
    try:
        shown = report.relative_to(project_root())
    except ValueError:
        shown = report
    print(f"report: {shown}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from helpers.run.checks import check_run, format_findings

    params, findings = check_run(args.params)
    failed = any(f.level == "error" for f in findings)
    print(format_findings(args.params, params, findings), file=sys.stderr if failed else sys.stdout)
    return 2 if failed else 0


def _cmd_runs(args: argparse.Namespace) -> int:
    from helpers.run.runs import format_runs, list_runs, write_index

    print(format_runs(list_runs()))
    if args.index:
        print(f"index: {write_index()}")
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    import pandas as pd

    from helpers.analyse import quarterly

    prev, cur = quarterly.load_run(args.against), quarterly.load_run(args.run)
    tables = quarterly.compare_runs(prev, cur)
    if prev.as_of < cur.as_of:
        tables.update(quarterly.migrate_runs(prev, cur))
    with pd.option_context("display.width", 160, "display.max_columns", 20,
                           "display.max_colwidth", 60):
        print(f"run {cur.run_id} (as of {cur.as_of}) against {prev.run_id} (as of {prev.as_of})")
        for name in ("change_params", "change_inputs", "change_ranking", "change_segments",
                     "migration_summary", "retention"):
            if name in tables:
                print(f"\n== {name}\n{tables[name].to_string(index=False)}")
        mm = tables.get("migration_matrix")
        if mm is not None:
            wide = quarterly.matrix_wide(mm).to_string(index=False)
            print(f"\n== migration_matrix (accounts)\n{wide}")
    if args.out:
        from helpers.core.export import safe_xlsx

        print(f"written: {safe_xlsx(tables, args.out)}")
    return 0


def _cmd_crm_export(args: argparse.Namespace) -> int:
    from helpers.analyse import quarterly
    from helpers.core.errors import RunError
    from helpers.core.export import safe_csv
    from helpers.core.paths import report_dir
    from helpers.core.store import RunStore

    store = RunStore(args.run)
    assign = store.read("segment_assignments")
    prev = None
    if args.changed_only:
        against = args.against
        if against is None:
            cmp = store.read_json("comparison") if store.has("comparison") else {}
            against = cmp.get("previous_run")
        if against is None:
            raise RunError(f"--changed-only: run '{args.run}' has no previous run to compare "
                           "with; name one with --against <run id>")
        prev = RunStore(against).read("segment_assignments")
    frame = quarterly.crm_export(assign, args.run, args.format, previous=prev,
                         changed_only=args.changed_only)
    suffix = "_changed" if args.changed_only else ""
    out = args.out or report_dir(args.run) / f"crm_{args.format}{suffix}.csv"
    print(f"{len(frame):,} account(s) -> {safe_csv(frame, out)}")
    return 0


def _cmd_kernel(args: argparse.Namespace) -> int:
    from helpers.run.chain import ensure_kernel

    log.info(f"kernel '{ensure_kernel()}' registered for {sys.executable}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from helpers.synthetic.demo import write_demo

    paths = write_demo(args.out, n_accounts=args.accounts, seed=args.seed)
    for p in paths:
        print(p)
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from helpers.synthetic.calibrate import run_cli

    return run_cli(args)


def _mapping_args(pairs: list[str] | None) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        canonical, sep, column = pair.partition("=")
        if not sep:
            raise SystemExit(f"--map expects canonical=column, got '{pair}'")
        out[canonical.strip()] = column.strip()
    return out


def _cmd_sql(args: argparse.Namespace) -> int:
    from helpers.collect import aggregate
    from helpers.core.params import load

    p = load(args.params)
    window = aggregate.Window(p.as_of, p.collection.ticket_window_days,
                              p.collection.usage_window_months)
    mappings = {kind: dict(src.mapping) for kind, src in (("tickets", p.inputs.tickets),
                                                          ("usage", p.inputs.usage)) if src}
    queries = aggregate.warehouse_sql(
        window, args.dialect, mappings=mappings,
        tables={"tickets": args.tickets_table, "usage": args.usage_table})
    print(aggregate.render_queries(queries, args.dialect, args.params))
    return 0


def _cmd_aggregate(args: argparse.Namespace) -> int:
    import datetime as dt

    from helpers.collect import aggregate
    from helpers.collect.sources import duckdb_config
    from helpers.core.errors import ParameterError

    p = None
    if args.params:
        from helpers.core.params import load

        p = load(args.params)
    src = getattr(p.inputs, args.kind) if p is not None else None
    path = args.input or (src.path if src is not None else None)
    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else (p.as_of if p else None)
    if path is None or as_of is None:
        raise ParameterError("aggregate needs --input and --as-of (or --params with "
                             f"inputs.{args.kind} and as_of)")
    days = args.window_days or (p.collection.ticket_window_days if p else 365)
    months = args.window_months or (p.collection.usage_window_months if p else 12)
    mapping = {**(dict(src.mapping) if src is not None else {}), **_mapping_args(args.map)}
    summary = aggregate.aggregate(args.kind, path, aggregate.Window(as_of, days, months),
                                  engine=args.engine, mapping=mapping,
                                  config=duckdb_config(p.aggregation if p else None),
                                  master=args.master)
    for warning in summary.attrs.get("warnings", []):
        log.warning(warning)
    aggregate.write_summary(summary, args.out)
    print(f"{len(summary):,} account(s) -> {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``workbook`` command line: one sub-command per task (run, check, runs, diff,
    crm-export, kernel, demo, calibrate, sql, aggregate), each with its ``func``.

    Returns
    -------
    ArgumentParser
        The parser.
    """
    parser = argparse.ArgumentParser(prog="workbook", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    loud = parser.add_mutually_exclusive_group()
    loud.add_argument("-q", "--quiet", action="store_true",
                      help="only warnings and errors (no progress)")
    loud.add_argument("-v", "--verbose", action="count", default=0,
                      help="more detail (debug messages)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the five notebooks for one run id")
    run.add_argument("--params", required=True, help="YAML parameter file (params/...)")
    run.add_argument("--run-id", required=True, help="names the run's folders, e.g. 2026Q3")
    run.add_argument("--force", action="store_true", help="replace an existing run id")
    run.add_argument("--from", dest="start_from", default=None, metavar="NOTEBOOK",
                     help="resume from this notebook, reusing earlier outputs of the same run")
    run.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    run.set_defaults(func=_cmd_run)

    check = sub.add_parser("check", help="will this run start? validate the parameter file, "
                           "open every input it names, check the mapped columns and the "
                           "hypothesis register; lists every problem (exit 2 on errors)")
    check.add_argument("--params", required=True)
    check.set_defaults(func=_cmd_check)

    runs = sub.add_parser("runs", help="list runs (newest first) and write reports/index.html")
    runs.add_argument("--no-index", dest="index", action="store_false",
                      help="do not (re)write reports/index.html")
    runs.set_defaults(func=_cmd_runs)

    diff = sub.add_parser("diff", help="what changed between two runs (parameters, inputs, "
                          "ranking, segments; migration when the as-of dates differ)")
    diff.add_argument("--run", required=True, help="the later run")
    diff.add_argument("--against", required=True, help="the run to compare with")
    diff.add_argument("--out", default=None, help="also write the tables to this XLSX file")
    diff.set_defaults(func=_cmd_diff)

    crm = sub.add_parser("crm-export", help="segment, quartile and score as a CRM custom-field "
                         "update file (CSV, formula-injection safe)")
    crm.add_argument("--run", required=True)
    crm.add_argument("--format", choices=["salesforce", "hubspot"], default="salesforce")
    crm.add_argument("--changed-only", action="store_true",
                     help="only accounts new or with another segment/quartile than --against")
    crm.add_argument("--against", default=None,
                     help="run to compare with (default: the run's previous run)")
    crm.add_argument("--out", default=None, help="output CSV (default reports/<run>/crm_...)")
    crm.set_defaults(func=_cmd_crm_export)

    kernel = sub.add_parser("kernel", help="register the workbook's Jupyter kernel")
    kernel.set_defaults(func=_cmd_kernel)

    demo = sub.add_parser("demo", help="regenerate the demo data room")
    demo.add_argument("--out", default="data/raw/demo")
    demo.add_argument("--accounts", type=int, default=1500)
    demo.add_argument("--seed", type=int, default=20260930)
    demo.set_defaults(func=_cmd_demo)

    from helpers.synthetic.calibrate import add_arguments

    calibrate = sub.add_parser("calibrate", help="the calibration study: Steps 1-4 on random "
                               "data rooms with known truths (recall, wrong signs, nulls)")
    add_arguments(calibrate)
    calibrate.set_defaults(func=_cmd_calibrate)

    sql = sub.add_parser("sql", help="print the ticket and usage aggregation as SQL for a "
                         "warehouse dialect (the parameters' as_of, windows and column mapping)")
    sql.add_argument("--params", required=True)
    from helpers.collect.aggregate import DIALECTS

    sql.add_argument("--dialect", choices=DIALECTS, required=True)
    sql.add_argument("--tickets-table", default="tickets", help="table of ticket rows")
    sql.add_argument("--usage-table", default="usage", help="table of monthly usage rows")
    sql.set_defaults(func=_cmd_sql)

    agg = sub.add_parser("aggregate", help="aggregate a row-level ticket or usage file / Parquet "
                         "dataset into a per-account summary (Parquet) on DuckDB or Spark")
    agg.add_argument("--kind", choices=["tickets", "usage"], required=True)
    agg.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    agg.add_argument("--input", default=None, help="file, directory or glob (default: the "
                     "parameters' inputs.<kind>.path)")
    agg.add_argument("--out", required=True, help="summary file to write (.parquet or .csv)")
    agg.add_argument("--params", default=None, help="take as_of, windows, mapping from here")
    agg.add_argument("--as-of", default=None, help="YYYY-MM-DD (default: the parameters')")
    agg.add_argument("--window-days", type=int, default=None)
    agg.add_argument("--window-months", type=int, default=None)
    agg.add_argument("--map", action="append", metavar="CANONICAL=COLUMN",
                     help="column mapping, e.g. --map created_at=Opened (repeatable)")
    agg.add_argument("--master", default="local[2]", help="Spark master (engine spark)")
    agg.set_defaults(func=_cmd_aggregate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one ``workbook`` command; a workbook error is printed without a traceback.

    Parameters
    ----------
    argv
        The arguments (None: the command line).

    Returns
    -------
    int
        The exit code: 0 done, 2 a workbook error (or ``check`` found errors), 130 interrupted.
    """
    args = build_parser().parse_args(argv)
    setup_logging(-1 if args.quiet else args.verbose)
    try:
        return args.func(args)
    except WorkbookError as exc:
        log.error(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

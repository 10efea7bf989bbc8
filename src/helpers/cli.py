"""The `workbook` command (also `python -m helpers`).

    workbook run --params params/demo.yaml --run-id 2026Q3 [--force] [--from 04_analysis]
    workbook check --params params/demo.yaml     # validate a parameter file only
    workbook runs                                # list runs with their status
    workbook kernel                              # register the workbook's Jupyter kernel
    workbook demo --out data/raw/demo            # regenerate the demo data room
"""

from __future__ import annotations

import argparse
import sys

from .errors import WorkbookError


def _cmd_run(args: argparse.Namespace) -> int:
    from .chain import run_chain
    from .paths import project_root

    report = run_chain(args.params, args.run_id, force=args.force, start_from=args.start_from,
                       timeout=args.timeout)
    try:
        shown = report.relative_to(project_root())
    except ValueError:
        shown = report
    print(f"report: {shown}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from .params import load, params_hash

    p = load(args.params)
    print(f"{args.params}: valid (as_of {p.as_of}, hash {params_hash(p)[:12]})")
    return 0


def _cmd_runs(args: argparse.Namespace) -> int:
    import json

    from .paths import processed_root

    rows = []
    for d in sorted(processed_root().iterdir()) if processed_root().exists() else []:
        m = d / "manifest.json"
        if d.is_dir() and m.exists():
            info = json.loads(m.read_text(encoding="utf-8"))
            status = info.get("status", "?")
            if status == "failed":
                status = f"failed at {info.get('failed_notebook')}"
            rows.append((d.name, info.get("as_of", ""), status, info.get("started_at", "")))
    if not rows:
        print("no runs yet: try `workbook run --params params/demo.yaml --run-id demo-2026Q3`")
        return 0
    rows.sort(key=lambda r: (r[3] or "", r[0]), reverse=True)
    print(f"{'run id':<24} {'as of':<12} {'started':<26} status")
    for run_id, as_of, status, started in rows:
        print(f"{run_id:<24} {as_of:<12} {started:<26} {status}")
    return 0


def _cmd_kernel(args: argparse.Namespace) -> int:
    from .chain import ensure_kernel

    print(f"kernel '{ensure_kernel()}' registered for {sys.executable}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import write_demo

    paths = write_demo(args.out, n_accounts=args.accounts, seed=args.seed)
    for p in paths:
        print(p)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbook", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the five notebooks for one run id")
    run.add_argument("--params", required=True, help="YAML parameter file (params/...)")
    run.add_argument("--run-id", required=True, help="names the run's folders, e.g. 2026Q3")
    run.add_argument("--force", action="store_true", help="replace an existing run id")
    run.add_argument("--from", dest="start_from", default=None, metavar="NOTEBOOK",
                     help="resume from this notebook, reusing earlier outputs of the same run")
    run.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    run.set_defaults(func=_cmd_run)

    check = sub.add_parser("check", help="validate a parameter file")
    check.add_argument("--params", required=True)
    check.set_defaults(func=_cmd_check)

    runs = sub.add_parser("runs", help="list runs")
    runs.set_defaults(func=_cmd_runs)

    kernel = sub.add_parser("kernel", help="register the workbook's Jupyter kernel")
    kernel.set_defaults(func=_cmd_kernel)

    demo = sub.add_parser("demo", help="regenerate the demo data room")
    demo.add_argument("--out", default="data/raw/demo")
    demo.add_argument("--accounts", type=int, default=1500)
    demo.add_argument("--seed", type=int, default=20260930)
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except WorkbookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

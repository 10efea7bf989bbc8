"""Benchmark the row-level usage aggregation on a large Parquet dataset (not part of the tests).

    python benchmarks/aggregate.py --rows 100000000 --engines duckdb,spark

Generates (once, reused) ``--rows`` monthly usage rows as a hive-partitioned Parquet dataset
under ``benchmarks/data/usage-<rows>/`` (git-ignored), written chunk by chunk so the rows are
never all in memory: ``--accounts`` accounts x consecutive months ending with the as-of month
(typed columns: text id, date month, three doubles), partitioned by year. Then runs the shared
usage aggregation (``helpers.collect.aggregate``) on each engine in a fresh child process and samples
the resident memory of the child and every process under it (Spark's JVM included) every
0.1 s: wall time and peak memory. DuckDB runs with ``--memory-limit`` and spills to
``--temp-dir``; Spark runs ``local[<cores>]``. Writes ``benchmarks/results/aggregate-<date>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = dt.date(2026, 9, 30)


def generate(out: Path, rows: int, accounts: int, chunk_accounts: int = 200_000,
             seed: int = 7) -> Path:
    """``rows`` usage rows (``accounts`` x ``rows // accounts`` months) as Parquet files under
    ``out/year=YYYY/``, one file per chunk of accounts and year."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    done = out / "_SUCCESS"
    if done.exists():
        return out
    months = rows // accounts
    last = AS_OF.year * 12 + AS_OF.month - 1
    month_ix = np.arange(last - months + 1, last + 1)
    month_dates = np.array([dt.date(int(m // 12), int(m % 12) + 1, 1) for m in month_ix],
                           dtype="datetime64[D]")
    years = month_ix // 12
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    for part, start in enumerate(range(0, accounts, chunk_accounts)):
        n = min(chunk_accounts, accounts - start)
        ids = np.char.add("ACC", np.char.zfill(np.arange(start, start + n).astype(str), 9))
        level = rng.gamma(2.0, 10.0, n)
        for year in np.unique(years):
            sel = np.flatnonzero(years == year)
            k = len(sel)
            users = np.maximum(0, np.round(level[:, None] * rng.lognormal(0, 0.3, (n, k))))
            table = pa.table({
                "account_id": np.repeat(ids, k),
                "month": pa.array(np.tile(month_dates[sel], n), type=pa.date32()),
                "active_users": users.ravel(),
                "sessions": np.round(users.ravel() * rng.uniform(5, 20, n * k)),
                "feature_adoption": rng.uniform(0, 1, n * k).round(3),
            })
            folder = out / f"year={year}"
            folder.mkdir(exist_ok=True)
            pq.write_table(table, folder / f"part-{part:05d}.parquet", compression="zstd")
        del ids, level
        print(f"  generated {min(start + n, accounts):,} / {accounts:,} accounts", flush=True)
    done.write_text(json.dumps({"rows": accounts * months, "accounts": accounts,
                                "months": months}))
    return out


def child(args: argparse.Namespace) -> None:
    """Run one engine (in this fresh process) and print its result as JSON."""
    from helpers.collect import aggregate as A

    window = A.Window(AS_OF, months=12)
    t0 = time.perf_counter()
    if args.child == "duckdb":
        cfg = A.DuckDBConfig(memory_limit=args.memory_limit, temp_directory=args.temp_dir,
                             threads=args.threads)
        out = A.run_duckdb("usage", args.data, window, config=cfg)
    else:
        spark = A.spark_session(f"local[{args.threads}]", app="aggregate-bench",
                                conf={"spark.driver.memory": args.spark_memory,
                                      "spark.sql.shuffle.partitions": str(args.threads * 4)})
        t0 = time.perf_counter()  # the session start is reported apart
        out = A.run_spark(spark, "usage", args.data, window)
        spark.stop()
    print(json.dumps({"seconds": time.perf_counter() - t0, "accounts_out": len(out),
                      "months_active_sum": int(out["months_active"].sum())}))


def measure(cmd: list[str]) -> dict:
    """Run ``cmd``, sampling the summed RSS of it and its descendants: its JSON, wall, peak."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss + sum(c.memory_info().rss
                                             for c in ps.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.1)
    out = proc.stdout.read()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed with exit code {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result.update({"process_wall_seconds": round(wall, 1), "peak_rss_mb": round(peak / 2**20)})
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--accounts", type=int, default=None,
                    help="default: rows / 25 (25 months per account, 12 in the window)")
    ap.add_argument("--engines", default="duckdb,spark")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--memory-limit", default="3GB", help="DuckDB memory_limit")
    ap.add_argument("--temp-dir", default=str(HERE / "data" / "duckdb-tmp"))
    ap.add_argument("--spark-memory", default="3g", help="spark.driver.memory")
    ap.add_argument("--out", default=None)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--data", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    accounts = args.accounts or args.rows // 25
    data = HERE / "data" / f"usage-{args.rows}"
    t0 = time.perf_counter()
    generate(data, args.rows, accounts)
    gen_s = time.perf_counter() - t0
    files = list(data.rglob("*.parquet"))
    size = sum(f.stat().st_size for f in files)
    print(f"dataset {data}: {len(files)} files, {size / 2**30:.2f} GiB "
          f"(generated in {gen_s:.0f} s, 0 if reused)")
    results = []
    for engine in args.engines.split(","):
        cmd = [sys.executable, __file__, "--child", engine, "--data", str(data),
               "--threads", str(args.threads), "--memory-limit", args.memory_limit,
               "--temp-dir", args.temp_dir, "--spark-memory", args.spark_memory]
        r = {"engine": engine, **measure(cmd)}
        results.append(r)
        print(f"{engine}: aggregation {r['seconds']:.1f} s (process {r['process_wall_seconds']}"
              f" s), peak {r['peak_rss_mb']:,} MB, {r['accounts_out']:,} accounts", flush=True)
    import psutil

    meta = json.loads((data / "_SUCCESS").read_text())
    doc = {"date": dt.date.today().isoformat(), "command": " ".join(sys.argv),
           "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                                    capture_output=True, text=True).stdout.strip(),
           "machine": {"cores": os.cpu_count(), "memory_gb": round(
               psutil.virtual_memory().total / 2**30, 1), "python": platform.python_version(),
               "load_average_at_end": os.getloadavg()},
           "dataset": {**meta, "files": len(files), "bytes": size},
           "settings": {"threads": args.threads, "duckdb_memory_limit": args.memory_limit,
                        "spark_driver_memory": args.spark_memory},
           "results": results}
    out = Path(args.out) if args.out else HERE / "results" / f"aggregate-{doc['date']}.json"
    if out.exists():  # several sizes on one day: one file, one entry per size
        old = json.loads(out.read_text())
        runs = old.get("runs", [old])
        doc = {"runs": [r for r in runs if r["dataset"]["rows"] != meta["rows"]] + [doc]}
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"written: {out}")


if __name__ == "__main__":
    main()

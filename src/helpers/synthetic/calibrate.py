"""The calibration study: Steps 1-4 on random data rooms with known truths
(``helpers.synthetic.factory``).

``workbook calibrate [--rooms 200] [--sizes 300,1500,5000] [--seed S] [--jobs 2] [--out PATH]``
runs the chain in-process (``pipeline`` functions, no notebooks, no report) on ``rooms`` rooms
at each size, compares every verdict with the room's truth and prints, per size: recall
(planted effects validated with the right sign, overall and for |delta| >= 0.2), wrong-sign
validations, the share of null hypotheses validated, interaction recall (the tree or the split
regression names both variables), failed rooms and time. The figures go to
``benchmarks/results/calibration-<date>.json``.

Only resampling counts are lowered (``FAST``): they feed the lift, stability and weight
robustness tables, never a verdict. Permutation counts, alpha, min_effect, min_power and the
tree / regression settings keep the method's defaults (nothing is tuned to the generator).
A room whose chain raises is a ``failed`` room (its error is recorded) and the study goes on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the factory (pandas) is imported when a room is run, not by the CLI
    from helpers.pipeline.step4 import Results
    from helpers.synthetic.factory import HypothesisTruth, Room, RoomTruth

SIZES = (300, 1500, 5000)
ROOMS = 200
DEFAULT_SEED = 20261203
STRONG = 0.2  # |Cliff's delta| at and above which an effect counts as strong (issue 14 target)
BANDS = (0.0, 0.1, 0.147, 0.2, 0.3, 0.5, 1.0)
TARGET_RECALL = 0.8
# resampling counts at the parameter minimums (or near): no verdict reads them
FAST = {"analysis": {"bootstrap": 10, "cv_repeats": 1},
        "robustness": {"draws": 10, "segment_bootstrap": 5}}
RESULTS_DIR = Path("benchmarks") / "results"


# --------------------------------------------------------------------------- one room
def _validated_sign(row: dict[str, Any], truth: HypothesisTruth) -> str:
    """The sign of a validated verdict in the truth's frame (towards ``positive_category``):
    categorical / boolean verdicts are about the category the workbook reports; another
    category than the positive one carries the opposite sign (the generator moves only the
    positive category)."""
    sign = str(row.get("direction") or "")
    if truth.kind == "numeric" or not sign:
        return sign
    reported = str(row.get("category") or "").strip().casefold()
    if truth.kind == "boolean":
        names_true = {"yes", "y", "true", "t", "1", "1.0", str(truth.true_label or "").casefold()}
        reported_true = reported in names_true
        positive_true = str(truth.positive_category).casefold() == str(truth.true_label).casefold()
        same = reported_true == positive_true
    else:
        same = reported == str(truth.positive_category).strip().casefold()
    return sign if same else {"+": "-", "-": "+"}[sign]


def _interaction_in_tree(tree: Any, x: str, by: str) -> bool:
    """Whether one branch of the tree splits on both ``x`` and ``by`` (either order)."""
    parent: dict[int, int] = {}
    var: dict[int, str] = {}
    for node, (split, left, right) in tree.splits.items():
        var[node] = split.variable
        parent[left] = parent[right] = node
    for node, v in var.items():
        path = {v}
        p = node
        while p in parent:
            p = parent[p]
            path.add(var[p])
        if {x, by} <= path:
            return True
    return False


def _interaction_in_split(split: Any, x: str, by: str) -> bool:
    """Whether the split regression (by ``by``) is worth it and keeps ``x`` in a group."""
    if split is None or split.by != by or not split.split_worth_it:
        return False
    return any(x in r.variables for r in split.groups.values())


def evaluate(step4: Results, truth: RoomTruth) -> dict[str, Any]:
    """Compare Step 4's verdicts, tree and split regression with the room's truth.

    Parameters
    ----------
    step4
        Step 4's results (``verdicts``, ``tree``, ``split``) for the room.
    truth
        The room's planted truth.

    Returns
    -------
    dict
        ``hypotheses`` (one row per hypothesis: truth, verdict, validated sign), ``interaction``
        and whether the tree / the split regression found it.
    """
    verdicts = step4.verdicts.set_index("variable")
    rows = []
    for h in truth.hypotheses:
        row = verdicts.loc[h.variable].to_dict() if h.variable in verdicts.index else {}
        verdict = str(row.get("verdict", "missing"))
        sign = _validated_sign(row, h) if verdict == "validated" else ""
        rows.append({"variable": h.variable, "kind": h.kind, "status": h.status,
                     "true_sign": h.true_sign, "stated": h.stated_direction,
                     "delta": h.delta_realised, "delta_population": h.delta_population,
                     "verdict": verdict, "sign": sign, "reason": str(row.get("reason", "")),
                     "in_regression": bool(row.get("in_regression", False))})
    found_tree = found_split = False
    if truth.interaction:
        x, by = truth.interaction
        found_tree = _interaction_in_tree(step4.tree.tree, x, by)
        found_split = _interaction_in_split(step4.regression.split, x, by)
    return {"hypotheses": rows, "interaction": truth.interaction is not None,
            "interaction_tree": found_tree, "interaction_split": found_split}


def reconciled(project: Path, run_id: str, truth: RoomTruth) -> dict[str, Any]:
    """Step 1's reconciliation against the room: every account kept or excluded, and the
    planted warts excluded by the right rules.

    Parameters
    ----------
    project
        The scratch project of the room.
    run_id
        Its run.
    truth
        The room's planted truth.

    Returns
    -------
    dict
        ``raw``, ``kept`` and one flag per check.
    """
    import pandas as pd

    base = project / "data" / "processed" / run_id
    recon = pd.read_parquet(base / "reconciliation.parquet").set_index("rule")["accounts"]
    excl = pd.read_parquet(base / "exclusions.parquet")
    rule = dict(zip(excl["account_id"].astype(str), excl["exclusion_rule"].astype(str),
                    strict=True))
    w = truth.warts
    return {
        "raw": int(recon.get("raw", -1)), "kept": int(recon.get("kept", -1)),
        "all_accounted": int(recon.get("raw", -1)) == truth.n_accounts == len(rule),
        "tests_excluded": all(rule.get(i) == "test" for i in w["test_accounts"]),
        "new_excluded": all(rule.get(i) == "too_new" for i in w["too_new"]),
        "outlier_excluded": rule.get(w["outlier"]) == "outlier",
        "kept_as_planted": sum(r == "kept" for r in rule.values()) == w["kept"],
    }


def run_room(seed: int, n_accounts: int, workdir: str | os.PathLike | None = None,
             keep: bool = False) -> dict[str, Any]:
    """Generate one room, run Steps 1-4 in-process in a scratch project, evaluate it.

    Never raises for the chain: a failure is recorded with the error's type and message.

    Parameters
    ----------
    seed
        The room's seed.
    n_accounts
        Its size.
    workdir
        Where the scratch project is made (None: the system's temporary folder).
    keep
        Keep the scratch project (else deleted).

    Returns
    -------
    dict
        The room's settings, truth, evaluation, reconciliation and timings (or its error).
    """
    import yaml

    from helpers.core import paths
    from helpers.synthetic.factory import generate_room, write_room

    t0, c0 = time.perf_counter(), time.process_time()
    room = generate_room(seed, n_accounts)
    tmp = Path(tempfile.mkdtemp(prefix="calib-", dir=workdir))
    rel = write_room(room, tmp)
    fast = tmp / "params" / f"{room.name}-fast.yaml"
    fast.write_text(yaml.safe_dump({"extends": f"{room.name}.yaml", **FAST}), encoding="utf-8")
    out: dict[str, Any] = {"seed": seed, "n_accounts": n_accounts, "room": room.name,
                           "params_file": str(rel), "truth": room.truth.to_dict()}
    try:
        # one core per room: rooms run side by side
        with paths.project_at(tmp, {"WORKBOOK_JOBS": "1"}):
            out.update(_chain_outcome(room, tmp, fast))
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            out["project"] = str(tmp)
    out["seconds"] = round(time.perf_counter() - t0, 3)
    out["cpu_seconds"] = round(time.process_time() - c0, 3)  # this process's CPU (2 cores shared)
    return out


def _chain_outcome(room: Room, project: Path, params_file: Path) -> dict[str, Any]:
    """Steps 1-4 on ``room`` in ``project`` (the current project root): its evaluation and
    reconciliation, status ``ok``; or status ``failed`` with the error (never raises)."""
    from helpers.pipeline import run_in_process

    try:
        res = run_in_process(room.name, str(params_file.relative_to(project)), report=False)
        return {**evaluate(res.step4, room.truth),
                "reconciliation": reconciled(project, room.name, room.truth), "status": "ok"}
    except Exception as exc:  # a failed room is a result of the study
        first = str(exc).splitlines()[0] if str(exc) else ""
        return {"status": "failed", "error": f"{type(exc).__name__}: {first}",
                "traceback": traceback.format_exc(limit=-3)}


# --------------------------------------------------------------------------- summary
def _share(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def min_detectable_effect(deltas: np.ndarray, found: np.ndarray,
                          recall: float = TARGET_RECALL) -> float | None:
    """The |delta| found ``recall`` of the time: a logistic fit of found ~ |delta| (Newton's
    method), solved for the recall; None when the fit is undefined or the value falls outside
    the observed range of |delta|.

    Parameters
    ----------
    deltas
        Each planted effect's |Cliff's delta|.
    found
        Whether each was validated with its sign.
    recall
        The share of effects found.

    Returns
    -------
    float or None
        The effect size.
    """
    d = np.abs(np.asarray(deltas, float))
    y = np.asarray(found, float)
    if len(d) < 5 or y.min() == y.max():
        return None
    x = np.column_stack([np.ones_like(d), d])
    beta = np.zeros(2)
    for _ in range(50):
        p = 1 / (1 + np.exp(-x @ beta))
        w = p * (1 - p) + 1e-9
        step = np.linalg.solve(x.T @ (x * w[:, None]) + 1e-6 * np.eye(2), x.T @ (y - p))
        beta += step
        if np.abs(step).max() < 1e-8:
            break
    if beta[1] <= 0:
        return None
    value = (np.log(recall / (1 - recall)) - beta[0]) / beta[1]
    if not d.min() <= value <= d.max():
        return None
    return round(float(value), 4)


def _recall_by_band(dl: np.ndarray, hit: np.ndarray) -> dict[str, dict[str, Any]]:
    """Effects and recall per band of |delta| (``BANDS``; the last band includes its top)."""
    bands = {}
    for lo, hi in zip(BANDS[:-1], BANDS[1:], strict=True):
        m = (dl >= lo) & (dl < hi if hi < 1 else dl <= hi)
        bands[f"{lo:g}-{hi:g}"] = {"effects": int(m.sum()), "recall": _share(int(hit[m].sum()),
                                                                             int(m.sum()))}
    return bands


def summarise(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The figures of one size (see the module docstring).

    Parameters
    ----------
    results
        :func:`run_room` of every room of one size.

    Returns
    -------
    dict
        The size's figures.
    """
    ok = [r for r in results if r["status"] == "ok"]
    hyps = [h for r in ok for h in r["hypotheses"]]
    planted = [h for h in hyps if h["status"] == "planted"]
    right = [h for h in planted if h["stated"] == h["true_sign"]]  # the analyst's sign is right
    hit = np.array([h["verdict"] == "validated" and h["sign"] == h["true_sign"] for h in right],
                   dtype=bool)
    dl = np.array([abs(h["delta"]) for h in right], dtype=float)
    wrong = [h for h in planted if h["verdict"] == "validated" and h["sign"] != h["true_sign"]]
    nulls = [h for h in hyps if h["status"] == "null"]
    nuis = [h for h in hyps if h["status"] == "nuisance"]
    inter = [r for r in ok if r["interaction"]]
    secs = [r["seconds"] for r in results]
    cpu = [r["cpu_seconds"] for r in results if "cpu_seconds" in r]
    failures: dict[str, int] = {}
    for r in results:
        if r["status"] != "ok":
            failures[r["error"]] = failures.get(r["error"], 0) + 1
    recon = [r["reconciliation"] for r in ok]
    strong = dl >= STRONG
    return {
        "rooms": len(results),
        "completed": len(ok),
        "failed": len(results) - len(ok),
        "failures": [{"error": e, "rooms": k} for e, k in sorted(failures.items())],
        "failed_seeds": [r["seed"] for r in results if r["status"] != "ok"][:20],
        "planted_effects": len(right),
        "recall": _share(int(hit.sum()), len(right)),
        "recall_strong": _share(int(hit[strong].sum()), int(strong.sum())),
        "strong_effects": int(strong.sum()),
        "recall_by_effect_size": _recall_by_band(dl, hit),
        "min_detectable_effect_80": min_detectable_effect(dl, hit),
        "wrong_sign": len(wrong),
        "wrong_sign_share": _share(len(wrong), len(planted)),
        "planted_misstated": len(planted) - len(right),
        "misstated_rejected_share": _share(
            sum(h["verdict"] == "rejected" for h in planted if h not in right),
            len(planted) - len(right)),
        "null_hypotheses": len(nulls),
        "null_validated_share": _share(sum(h["verdict"] == "validated" for h in nulls),
                                       len(nulls)),
        "nuisance_hypotheses": len(nuis),
        "nuisance_validated_share": _share(sum(h["verdict"] == "validated" for h in nuis),
                                           len(nuis)),
        "nuisance_in_regression_share": _share(sum(h["in_regression"] for h in nuis), len(nuis)),
        "interactions": len(inter),
        "interaction_recall": _share(sum(r["interaction_tree"] or r["interaction_split"]
                                         for r in inter), len(inter)),
        "interaction_recall_tree": _share(sum(r["interaction_tree"] for r in inter), len(inter)),
        "interaction_recall_split": _share(sum(r["interaction_split"] for r in inter),
                                           len(inter)),
        "reconciled_share": _share(sum(all(v for k, v in c.items() if isinstance(v, bool))
                                       for c in recon), len(recon)),
        "seconds_per_room_mean": round(float(np.mean(secs)), 3) if secs else None,
        "seconds_per_room_max": round(float(np.max(secs)), 3) if secs else None,
        "cpu_seconds_per_room_mean": round(float(np.mean(cpu)), 3) if cpu else None,
    }


# --------------------------------------------------------------------------- the study
def _room_task(task: tuple[int, int, str | None]) -> dict[str, Any]:
    seed, n, workdir = task
    return run_room(seed, n, workdir)


def room_seed(seed: int, size: int, index: int) -> int:
    """The seed of room ``index`` at ``size`` in a study seeded ``seed``.

    Parameters
    ----------
    seed
        The study's seed.
    size
        The room size.
    index
        The room's number at that size.

    Returns
    -------
    int
        The room's seed.
    """
    return int(np.random.SeedSequence([seed, size, index]).generate_state(1)[0])


def study(rooms: int = ROOMS, sizes: Sequence[int] = SIZES, seed: int = DEFAULT_SEED,
          jobs: int = 2, workdir: str | None = None, progress: Any = None) -> dict[str, Any]:
    """Run the study; returns the JSON document (per size: the summary; plus the settings).

    Parameters
    ----------
    rooms
        Rooms per size.
    sizes
        The room sizes (accounts).
    seed
        The study's seed.
    jobs
        Rooms run at once (processes).
    workdir
        Where the scratch projects are made (None: the system's temporary folder).
    progress
        Called with (size, :func:`summarise` of that size) after each size (None: silent).

    Returns
    -------
    dict
        The study document.
    """
    os.environ["WORKBOOK_JOBS"] = "1"  # the worker processes inherit it
    doc: dict[str, Any] = {"date": dt.date.today().isoformat(), "seed": seed, "rooms": rooms,
                           "sizes": {}, "fast_params": FAST, "jobs": jobs,
                           "command": None, "rooms_detail": {}}
    for size in sizes:
        tasks = [(room_seed(seed, size, i), size, workdir) for i in range(rooms)]
        t0 = time.perf_counter()
        if jobs > 1:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                results = list(pool.map(_room_task, tasks))
        else:
            results = [_room_task(t) for t in tasks]
        summary = summarise(results)
        summary["wall_seconds"] = round(time.perf_counter() - t0, 1)
        doc["sizes"][str(size)] = summary
        doc["rooms_detail"][str(size)] = [_compact(r) for r in results]
        if progress:
            progress(size, summary)
    return doc


def _compact(r: dict[str, Any]) -> dict[str, Any]:
    """A room's result without its truth and traceback (the seed regenerates the truth)."""
    keep = ("seed", "status", "error", "seconds", "cpu_seconds", "interaction", "interaction_tree",
            "interaction_split")
    out = {k: r[k] for k in keep if k in r}
    if "hypotheses" in r:
        out["hypotheses"] = [{k: h[k] for k in ("variable", "kind", "status", "true_sign",
                                                "stated", "delta", "verdict", "sign")}
                             for h in r["hypotheses"]]
    return out


def to_json(doc: dict[str, Any]) -> str:
    """The study's JSON: the figures indented, each room's detail on one line.

    Parameters
    ----------
    doc
        :func:`study`.

    Returns
    -------
    str
        The JSON text.
    """
    head = json.dumps({k: v for k, v in doc.items() if k != "rooms_detail"}, indent=1)
    detail = ",\n".join(
        f'  "{size}": [\n' + ",\n".join("   " + json.dumps(r) for r in rooms) + "\n  ]"
        for size, rooms in doc.get("rooms_detail", {}).items())
    return head[:-2] + ',\n "rooms_detail": {\n' + detail + "\n }\n}\n"


def format_summary(size: int, s: dict[str, Any]) -> str:
    """One size's figures as printed lines.

    Parameters
    ----------
    size
        The room size.
    s
        :func:`summarise` for that size.

    Returns
    -------
    str
        The lines.
    """
    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.1%}"

    mde = s["min_detectable_effect_80"]
    return "\n".join([
        f"== {size:,} accounts: {s['rooms']} rooms ({s['failed']} failed), "
        f"{s['wall_seconds']:.0f} s wall, {s['seconds_per_room_mean']:.1f} s per room "
        f"({s['cpu_seconds_per_room_mean'] or 0:.1f} s CPU)",
        f"   recall {pct(s['recall'])} of {s['planted_effects']} planted effects; "
        f"|delta| >= {STRONG}: {pct(s['recall_strong'])} of {s['strong_effects']}; "
        f"80 % recall at |delta| = {'n/a' if mde is None else f'{mde:.2f}'}",
        f"   wrong-sign validations {s['wrong_sign']} ({pct(s['wrong_sign_share'])} of planted); "
        f"nulls validated {pct(s['null_validated_share'])} of {s['null_hypotheses']}; "
        f"nuisance validated {pct(s['nuisance_validated_share'])}",
        f"   interaction found {pct(s['interaction_recall'])} of {s['interactions']} "
        f"(tree {pct(s['interaction_recall_tree'])}, split regression "
        f"{pct(s['interaction_recall_split'])}); reconciled {pct(s['reconciled_share'])}",
        *[f"   failed: {f['rooms']} x {f['error']}" for f in s["failures"]],
    ])


def main(argv: Sequence[str] | None = None) -> int:
    """``workbook calibrate`` (see the module docstring).

    Parameters
    ----------
    argv
        The arguments (None: the command line).

    Returns
    -------
    int
        The exit code.
    """
    parser = argparse.ArgumentParser(prog="workbook calibrate", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run_cli(parser.parse_args(list(argv) if argv is not None else None))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's flags.

    Parameters
    ----------
    parser
        The ``calibrate`` sub-command's parser.
    """
    parser.add_argument("--rooms", type=int, default=ROOMS, help=f"rooms per size ({ROOMS})")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="account counts, comma-separated (300,1500,5000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (2)")
    parser.add_argument("--out", default=None, help="JSON file (default benchmarks/results/"
                        "calibration-<date>.json under the project root)")
    parser.add_argument("--package-summary", action="store_true",
                        help="also copy the per-size summary into the package "
                        "(helpers/synthetic/calibration.json, read by the report)")


def run_cli(args: argparse.Namespace) -> int:
    """Run the study from parsed flags, print and write the figures.

    Parameters
    ----------
    args
        The parsed flags (:func:`add_arguments`).

    Returns
    -------
    int
        The exit code.
    """
    from helpers.core.paths import project_root

    sizes = [int(s) for s in str(args.sizes).split(",") if s.strip()]
    doc = study(rooms=args.rooms, sizes=sizes, seed=args.seed, jobs=args.jobs,
                progress=lambda size, s: print(format_summary(size, s), flush=True))
    doc["command"] = (f"workbook calibrate --rooms {args.rooms} --sizes "
                      f"{','.join(map(str, sizes))} --seed {args.seed} --jobs {args.jobs}")
    out = Path(args.out) if args.out else \
        project_root() / RESULTS_DIR / f"calibration-{doc['date']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_json(doc), encoding="utf-8")
    print(f"written: {out}")
    if args.package_summary:
        from helpers.synthetic.calibration import PACKAGE_SUMMARY, summary_of

        PACKAGE_SUMMARY.write_text(json.dumps(summary_of(doc, source=out.name), indent=1) + "\n",
                                   encoding="utf-8")
        print(f"written: {PACKAGE_SUMMARY}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

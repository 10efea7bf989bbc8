"""Time the notebook-04 root picker at 20k accounts (not a test; prints figures).

    python benchmarks/root_picker.py [--accounts 20000] [--repeats 5]

On the planted synthetic analysis table (``helpers.analyse.verdicts.planted_example``), with the
Step 4 tree parameters of ``params/base.yaml``'s defaults, it measures for every root:

* ``first view``: the first time a root is picked in a session whose root comparison has
  already fitted the trees (Step 4 does; ``fitted`` passed in): leaf table, gains curve and
  both SVG drawings made and sent to the widgets;
* ``cold``: the same with the tree fitted too (a root the comparison did not try);
* ``switch back``: picking a root already shown (the widget update from the kept rendering);

each the median of ``--repeats`` calls, driving the real ipywidgets picker (the slider's
value is set, as a drag or an arrow key would).
"""

from __future__ import annotations

import argparse
import statistics
import time

from helpers.analyse import verdicts
from helpers.analyse.rootpicker import AUTO, root_options, root_picker
from helpers.core.params import Tree


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    table, hyp = verdicts.planted_example(n_accounts=args.accounts, seed=7)
    kinds = dict(zip(hyp["variable"], hyp["kind"], strict=True))
    variables = [v for v in hyp["variable"] if v in table.columns]
    options = root_options(variables, kinds)
    print(f"{len(table):,} accounts, {len(variables)} variables, roots: {options}")

    def timed(fn) -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    first, cold, switch = {}, {}, {}
    for label in options:
        root = None if label == AUTO else label
        other = options[1] if label == AUTO else AUTO  # the root shown when the panel opens
        opening = Tree(forced_root=None if other == AUTO else other)
        f_cold, f_first, f_switch = [], [], []
        for _ in range(args.repeats):
            fitted: dict = {}
            pick = root_picker(table, variables, kinds, opening, True,
                               fitted=fitted).children[0].children[0]
            fitted.pop(root, None)
            f_cold.append(timed(lambda p=pick, lab=label: setattr(p, "value", lab)))
            pick.value = other
            f_switch.append(timed(lambda p=pick, lab=label: setattr(p, "value", lab)))
            # a new panel whose trees are fitted already (Step 4's root comparison did it)
            pick2 = root_picker(table, variables, kinds, opening, True,
                                fitted=fitted).children[0].children[0]
            f_first.append(timed(lambda p=pick2, lab=label: setattr(p, "value", lab)))
        cold[label] = statistics.median(f_cold)
        first[label] = statistics.median(f_first)
        switch[label] = statistics.median(f_switch)
    print(f"{'root':<24} {'cold (fit+draw)':>16} {'first view':>12} {'switch back':>12}")
    for label in cold:
        print(f"{label:<24} {cold[label] * 1000:>13.0f} ms {first[label] * 1000:>9.0f} ms "
              f"{switch[label] * 1000:>9.1f} ms")


if __name__ == "__main__":
    main()

"""The calibration study as a benchmark script: ``python benchmarks/calibrate.py [flags]`` is
``workbook calibrate [flags]`` (helpers.synthetic.calibrate; figures in docs/calibration.md)."""

from __future__ import annotations

import sys

from helpers.synthetic.calibrate import main

if __name__ == "__main__":
    sys.exit(main())

"""helpers: the small package under the segmentation workbook's notebooks.

Modules are named for the step of the best-current-customer method they serve
(see docs/architecture.md for the map from method to module to output file).
"""

__version__ = "0.1.0"

"""Steps 2 and 3 - hypotheses and data collection: the register, row-level sources, the
analysis table. File reading lives in :mod:`helpers.collect.read` (the edge)."""

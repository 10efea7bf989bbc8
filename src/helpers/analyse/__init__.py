"""Step 4 - analysis and prioritisation: what is tested (``tested``), tests (``profiling``),
tree, regression, verdicts, the notebook's views (``explorer``), gains (``schemes``,
``lift``), segments, robustness, needs, prospects, headline facts (``findings``) and the
quarter-to-quarter comparison (``quarterly``)."""

"""Step 4 - analysis and prioritisation: tests, tree, regression, verdicts, gains, segments, robustness, needs, prospects, quarter-to-quarter comparison."""

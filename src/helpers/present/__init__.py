"""Step 5 - present: the report's sections, rendering, charts, anonymising."""

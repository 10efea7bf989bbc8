"""Step 1 - set up the project: charter, customer list, quality score, weights panel."""

"""Running the chain: papermill chain, command line, notebook sessions, the list of runs."""

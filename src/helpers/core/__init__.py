"""Plumbing every step uses: errors, parameters, paths, file reading, the run store, run
records, safe exports and the thread pool."""

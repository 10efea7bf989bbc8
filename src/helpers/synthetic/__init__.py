"""Generated data rooms with known truths: the bundled demo, the random factory and the
calibration study (and the summary the report quotes)."""

"""Scan drivers, one per source kind: they plan the work, run the engine over it and collect the findings."""

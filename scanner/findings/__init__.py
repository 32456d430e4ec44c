"""Findings: matches gathered by credential (collect), their portable fingerprints, and what suppresses
them (inline markers are the engine's; .sprawlignore in ignore, reviewed baselines in baseline)."""

"""Outbound network access, guarded: the only way the scanner talks to a provider (DESIGN section 10)."""

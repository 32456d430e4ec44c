"""Incident response on leaked bundles: triage (whom to call, what to revoke first) and redact (a masked
copy to share)."""

"""The findings datastore: SQLite through sqlite-utils, one row per credential (keyed fingerprint),
every location kept, schema versioned and migrated forward. See schema.py for the tables."""
from scanner.store.db import DEFAULT_DB, LocationRow, Observed, Store
from scanner.store.errors import StoreError
from scanner.store.keys import credential_key, load_key

__all__ = ["DEFAULT_DB", "LocationRow", "Observed", "Store", "StoreError", "credential_key", "load_key"]

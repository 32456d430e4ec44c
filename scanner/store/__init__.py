"""The findings datastore: SQLite through sqlite-utils, one row per credential (keyed fingerprint),
every location kept, schema versioned and migrated forward. See schema.py for the tables.

Names load on first use: a command that only needs the default path does not import SQLite helpers."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from scanner.store.paths import DEFAULT_DB, default_db

_EXPORTS = {
    "LocationRow": "scanner.store.db", "Observed": "scanner.store.db", "Store": "scanner.store.db",
    "StoreError": "scanner.store.errors", "credential_key": "scanner.store.keys", "load_key": "scanner.store.keys",
}

if TYPE_CHECKING:
    from scanner.store.db import LocationRow, Observed, Store
    from scanner.store.errors import StoreError
    from scanner.store.keys import credential_key, load_key


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'scanner.store' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = ["DEFAULT_DB", "default_db", "LocationRow", "Observed", "Store", "StoreError", "credential_key", "load_key"]

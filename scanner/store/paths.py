"""Where the datastore lives when no path is given (the one definition; docs/datastore.md)."""
from __future__ import annotations

DEFAULT_DB = ".sprawl/sprawl.db"

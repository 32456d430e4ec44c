from scanner.errors import SprawlError


class StoreError(SprawlError):
    """The datastore cannot be opened, is corrupt, or was written under another key."""

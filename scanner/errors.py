"""Errors the user can act on: the CLI prints their message on one line and exits 2."""


class SprawlError(Exception):
    """Bad input, named in one line: a rule file, a repository, a baseline."""

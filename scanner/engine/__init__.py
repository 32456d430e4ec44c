"""The engine turns one blob into matches: prefilter, confirm, filter, score."""
from scanner.engine.core import Engine

__all__ = ["Engine"]

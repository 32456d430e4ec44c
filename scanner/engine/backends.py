"""Choosing a matcher backend: Hyperscan where it imports, else the portable Aho-Corasick matcher.

Both give the same findings (tests/test_backends.py); the portable one is the reference."""
from __future__ import annotations

from scanner.engine.matcher import Matcher, PortableMatcher
from scanner.errors import SprawlError
from scanner.rules.model import Rule

BACKENDS = ("auto", "portable", "hyperscan")


def make_matcher(rules: list[Rule], backend: str = "auto", context: bool = True) -> Matcher:
    """The Hyperscan matcher when asked for, or on "auto" when the package imports; else the portable one.
    context=False: for an engine without context analysis, which needs no hint words or decoder facts."""
    if backend not in BACKENDS:
        raise SprawlError(f"unknown matcher engine {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend != "portable":
        try:
            from scanner.engine.hyperscan_matcher import HyperscanMatcher
        except ImportError:
            if backend == "hyperscan":
                raise SprawlError("--engine hyperscan needs the hyperscan package, which did not import") from None
        else:
            return HyperscanMatcher(rules, context=context)
    return PortableMatcher(rules)

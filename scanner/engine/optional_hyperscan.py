"""Small Hyperscan databases for the stages that use one where the package is installed (it is
optional) and fall back to their own search where it is not: the decoders' facts, secret-ish query
parameter names, the keywords of far-reaching rules. The matcher backend has its own, cached on disk.
"""
from __future__ import annotations

from typing import Callable


def compile_scanner(expressions: list[bytes], first_only: bool = False, caseless: bool = False,
                    literal: bool = False) -> Callable[[bytes], list[tuple[int, int]]] | None:
    """A function from a text to the (expression index, end offset) of each match, in order of end;
    None without Hyperscan. first_only: each expression reported at its first (earliest-ending) match."""
    try:
        import hyperscan
    except ImportError:
        return None
    flags = (hyperscan.HS_FLAG_SINGLEMATCH if first_only else 0) | (hyperscan.HS_FLAG_CASELESS if caseless else 0)
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(expressions=list(expressions), ids=list(range(len(expressions))), flags=flags, literal=literal)
    scratch = hyperscan.Scratch(db)

    def scan(text: bytes) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        db.scan(text, match_event_handler=lambda i, _from, end, _flags, _ctx: found.append((i, end)), scratch=scratch)
        return found

    return scan

"""Small Hyperscan databases for the stages that use one where the package is installed (it is
optional) and fall back to their own search where it is not: the decoders' facts, base64 runs and
data: URI marks, secret-ish query parameter names, the keywords of far-reaching rules. They are
cached on disk, as the matcher backend's own databases are (load_or_compile serves both).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

_KEEP_DATABASES = 4  # of each kind, newest first


def load_or_compile(path: Path, compile_db, keep: int = _KEEP_DATABASES):
    """A database from the cache, or compiled now and written there (best effort). The kind of a
    database is its file name up to the first '-': of each kind the `keep` newest files are kept."""
    import hyperscan

    try:
        return hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
    except (OSError, hyperscan.error):
        pass  # missing, unreadable, or written by another Hyperscan build: compile afresh
    db = compile_db()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".hs-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(hyperscan.dumpb(db))
        os.replace(tmp, path)  # atomic: concurrent processes never read a half-written file
    except OSError:
        pass  # a read-only home still scans; it just compiles each time
    else:
        # Databases of other rule sets or Hyperscan builds: keep a few (switching back costs a compile).
        from scanner.rules.cache import prune

        prune(path.parent, f"{path.name.split('-', 1)[0]}-*.db", keep)
    return db


def compile_scanner(expressions: list[bytes], first_only: bool = False, caseless: bool = False,
                    literal: bool = False) -> Callable[[bytes | memoryview], list[tuple[int, int]]] | None:
    """A function from a text to the (expression index, end offset) of each match, in order of end;
    None without Hyperscan. first_only: each expression reported at its first (earliest-ending) match."""
    try:
        import hyperscan
    except ImportError:
        return None
    from scanner.rules.cache import cache_dir

    flags = (hyperscan.HS_FLAG_SINGLEMATCH if first_only else 0) | (hyperscan.HS_FLAG_CASELESS if caseless else 0)

    def compile_db():
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=list(expressions), ids=list(range(len(expressions))), flags=flags, literal=literal)
        return db

    # Cached like the matcher's databases: compiling the few small ones cost each worker 60 ms.
    key = hashlib.sha256(repr((list(expressions), flags, literal)).encode()).hexdigest()[:16]
    version = hyperscan.__version__  # type: ignore[attr-defined]  # the package's stubs omit it
    db = load_or_compile(cache_dir() / f"small-{key}-hs{version}.db", compile_db, keep=16)
    scratch = hyperscan.Scratch(db)

    def scan(text: bytes | memoryview) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        db.scan(text, match_event_handler=lambda i, _from, end, _flags, _ctx: found.append((i, end)), scratch=scratch)
        return found

    return scan

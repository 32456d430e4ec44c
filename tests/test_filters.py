"""The engine's filters that read rule data: the documented example values."""
from __future__ import annotations

import sys

from scanner.engine import filters


def test_documented_examples_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("SPRAWL_CACHE_DIR", str(tmp_path))
    filters._documented_examples.cache_clear()
    parsed = filters._documented_examples()
    assert parsed and list(tmp_path.glob("documented-*.json"))
    # The next process reads the cache: no YAML parser is needed (a missing module proves it is not used).
    filters._documented_examples.cache_clear()
    monkeypatch.setitem(sys.modules, "yaml", None)
    assert filters._documented_examples() == parsed
    filters._documented_examples.cache_clear()

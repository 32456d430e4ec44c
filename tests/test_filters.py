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


def test_release_numbers_and_anonymous_ftp_are_not_passwords_to_report_at_medium():
    """Perl's CoreList maps `'Test2::Event::Pass' => '1.302190'` and Net::FTP defaults `$pass = 'anonymous@'`:
    lowered, with the reason; a password that holds digits and dots among letters is not a release."""
    assert filters.filler_reason("1.302190") == "a version number"
    assert filters.filler_reason("v2.14.0") == "a version number"
    assert filters.filler_reason("anonymous@") == "default or dictionary password"
    assert filters.filler_reason("-anonymous@") == "default or dictionary password"
    assert filters.filler_reason("3.14.Sq9vLx2") is None
    assert filters.filler_reason("anonymous42!Qx") is None
    assert filters.filler_reason("anonymous2024Secret") is None  # a password that starts with the word
    assert filters.filler_reason("anonymous@ftp.acme.io") == "default or dictionary password"

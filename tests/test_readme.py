"""The README's Python examples run as written, from the repository's root, in a fresh interpreter."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

_SECTION = re.compile(r"^### Python API\n(.*?)(?=^##)", re.S | re.M)
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _examples() -> list[str]:
    section = _SECTION.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert section, "README.md has a '### Python API' section"
    return _BLOCK.findall(section.group(1))


@pytest.fixture(scope="module")
def rule_cache(tmp_path_factory):
    """One rule cache for the examples: the first compiles the matcher's databases, the others load them."""
    return tmp_path_factory.mktemp("readme-cache")


@pytest.mark.parametrize("index", range(len(_examples())))
def test_readme_python_example_runs(index, rule_cache):
    code = _examples()[index]
    env = {**os.environ, "PYTHONPATH": str(REPO), "SPRAWL_FINGERPRINT_KEY": "readme-test-key",
           "SPRAWL_CACHE_DIR": str(rule_cache)}
    res = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip(), "each example prints what it found"
    assert "ghp_" not in res.stdout or "****" in res.stdout  # previews, never the secret

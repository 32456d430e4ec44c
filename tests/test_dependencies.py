"""The package's dependency markers: Hyperscan is required wherever it publishes wheels (issue 21)."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _hyperscan() -> Requirement:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (found,) = [Requirement(d) for d in project["dependencies"] if d.startswith("hyperscan")]
    return found


@pytest.mark.parametrize("platform, machine, required", [
    ("linux", "x86_64", True), ("linux", "aarch64", True), ("darwin", "x86_64", True), ("darwin", "arm64", True),
    ("win32", "AMD64", True), ("linux", "ppc64le", False), ("linux", "s390x", False), ("win32", "ARM64", False),
])
def test_hyperscan_is_required_where_its_wheels_exist(platform, machine, required):
    marker = _hyperscan().marker
    assert marker is not None and marker.evaluate({"sys_platform": platform, "platform_machine": machine}) is required

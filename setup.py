"""Package discovery, which pyproject.toml alone cannot express here: every package under scanner/ is
found, and the top-level rules/ folder installs as the package data scanner._rules
(tests/test_wheel.py builds the wheel and imports every module from a fresh environment)."""
from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["scanner", "scanner.*"]), "scanner._rules"],
    package_dir={"scanner._rules": "rules"},
)

"""The configuration file: `.sprawl.toml`, or `[tool.sprawl]` in `pyproject.toml`, at the scanned root.

It gives defaults for the scanning commands' options; a flag given on the command line wins, and list
options (exclude, extra_rules, endpoint) add the flag's values to the file's. `sprawl config show` prints
what is in force and where each value came from (tests/test_config.py).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.errors import SprawlError

CONFIG_FILE = ".sprawl.toml"
# key in the file -> (the option's parameter name, the type its value must have)
KEYS: dict[str, tuple[str, type]] = {
    "exclude": ("exclude", list),
    "extra_rules": ("extra_rules", list),
    "rules": ("rules_paths", list),
    "min_confidence": ("min_confidence", str),
    "max_size": ("max_size", int),
    "baseline": ("baseline", str),
    "inventory": ("inventory_file", str),
    "db": ("record_db", str),
    "endpoints": ("endpoints", list),
    "engine": ("engine", str),
}
PATH_KEYS = frozenset({"extra_rules", "rules", "baseline", "inventory", "db"})  # relative to the file's folder


class ConfigError(SprawlError):
    """A configuration file that cannot be used; the message names the file and the key."""


@dataclass
class Config:
    """The values a configuration file sets, and the file they came from (None: no file)."""

    values: dict[str, Any] = field(default_factory=dict)  # parameter name -> value
    source: Path | None = None


def find(root: Path) -> Path | None:
    """The configuration file for a scan of `root`: `.sprawl.toml` there, else a `pyproject.toml` there
    with a `[tool.sprawl]` table; for a file, its folder; searched upwards to the repository root."""
    folder = root if root.is_dir() else root.parent
    for candidate in (folder.resolve(), *folder.resolve().parents):
        if (candidate / CONFIG_FILE).is_file():
            return candidate / CONFIG_FILE
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and "tool" in _read(pyproject) and "sprawl" in _read(pyproject)["tool"]:
            return pyproject
        if (candidate / ".git").exists():
            return None
    return None


def load(root: Path) -> Config:
    path = find(root)
    if path is None:
        return Config()
    table = _read(path)
    if path.name == "pyproject.toml":
        table = table["tool"]["sprawl"]
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in KEYS:
            raise ConfigError(f"{path}: unknown key {key!r}; known: {', '.join(sorted(KEYS))}")
        name, kind = KEYS[key]
        if isinstance(raw, list) and kind is list and all(isinstance(v, str) for v in raw):
            items = [path.parent / v if key in PATH_KEYS else v for v in raw]
            values[name] = tuple(items)
        elif isinstance(raw, kind) and kind is not list:
            values[name] = path.parent / str(raw) if key in PATH_KEYS else raw
        else:
            raise ConfigError(f"{path}: {key} must be {'a list of strings' if kind is list else kind.__name__}")
    return Config(values, path)


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def apply(ctx: Any, params: dict[str, Any], root: Path) -> Config:
    """Fill the options the command line left at their defaults from the configuration file of `root`;
    list options get the file's values and the flags'. Returns what the file set."""
    from click.core import ParameterSource

    config = load(root)
    for name, value in config.values.items():
        if name not in params:
            continue
        given = ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)
        if isinstance(value, tuple):
            params[name] = tuple(dict.fromkeys((*value, *params[name])))
        elif not given:
            params[name] = str(value) if name == "record_db" else value
    return config


def _register() -> None:
    import click

    from scanner.cli import main

    @main.group("config")
    def config_group() -> None:
        """The configuration file (.sprawl.toml, or [tool.sprawl] in pyproject.toml) and what is in force."""

    @config_group.command("show")
    @click.argument("path", default=".", type=click.Path(exists=True, path_type=Path))
    def show(path: Path) -> None:
        """Print every setting a scan of PATH would use, and where each came from (the file, or the default).

        \b
        Example:
          sprawl config show .
        """
        config = load(path)
        scan = main.commands["scan"]
        defaults = {p.name: p.default for p in scan.params if p.name}
        click.echo(f"configuration file: {config.source or 'none (defaults only)'}")
        for key, (name, _kind) in sorted(KEYS.items()):
            if name in config.values:
                value, source = config.values[name], str(config.source)
            else:
                value, source = defaults.get(name), "default"
            shown = ", ".join(map(str, value)) if isinstance(value, (tuple, list)) else value
            click.echo(f"{key} = {shown if shown not in (None, '') else '-'}  ({source})")


_register()

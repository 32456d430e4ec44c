"""The AI clients on a workstation: where their configs and transcripts are (layout), what a config
declares (config), how a transcript is read (transcript). Never calls the engine (DESIGN.md section 12).

The names below load on first use: the CLI imports `layout` for its option choices, and a `sprawl staged`
run should not pay for the config parsers (YAML, TOML) it never uses."""
from __future__ import annotations

import importlib

_WHERE = {
    "Attribution": "config", "ParsedConfig": "config", "ServerBlock": "config", "parse_config": "config",
    "CLIENTS": "layout", "PLATFORMS": "layout", "ClientFile": "layout", "Discovery": "layout", "Machine": "layout",
    "discover": "layout",
    "DecodedView": "transcript", "RoleFinder": "transcript", "decoded_view": "transcript",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)

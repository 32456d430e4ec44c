"""The AI clients on a workstation: where their configs and transcripts are (layout), what a config
declares (config), how a transcript is read (transcript). Never calls the engine (DESIGN.md section 12)."""
from scanner.sources.workstation.config import (
           Attribution,
           ParsedConfig,
           ServerBlock,
           parse_config,
)
from scanner.sources.workstation.layout import (
           CLIENTS,
           PLATFORMS,
           ClientFile,
           Discovery,
           Machine,
           discover,
)
from scanner.sources.workstation.transcript import DecodedView, RoleFinder, decoded_view

__all__ = ["CLIENTS", "PLATFORMS", "Attribution", "ClientFile", "DecodedView", "Discovery", "Machine", "ParsedConfig",
           "RoleFinder", "ServerBlock", "decoded_view", "discover", "parse_config"]

"""The agent inventory: model, YAML loading and validation, importers and merging."""
from scanner.inventory.loader import InventoryError, dump_inventory, load_inventory
from scanner.inventory.model import Credential, Identity, Inventory, Owner, PathOwner, Tool

__all__ = ["Credential", "Identity", "Inventory", "InventoryError", "Owner", "PathOwner", "Tool",
           "dump_inventory", "load_inventory"]

"""An inventory with a date no calendar has, or nested far too deep, is refused with one line naming the file,
the line and the field, exit code 2: never a traceback, never exit 1 (issue 17). Real files, the real CLI."""
from __future__ import annotations

import pytest
from conftest import run_sprawl

from scanner.inventory.loader import MAX_DEPTH, InventoryError, load_inventory


@pytest.mark.parametrize(("field", "value"), [("last_reviewed", "2026-13-45"), ("last_reviewed", "2026-02-30")])
def test_an_impossible_date_names_file_line_and_field(tmp_path, field, value):
    inv = tmp_path / "inventory.yaml"
    inv.write_text(f"kind: Inventory\nidentities:\n  - {{id: agent:x, kind: agent, {field}: {value}}}\n")
    with pytest.raises(InventoryError) as caught:
        load_inventory(inv)
    assert str(caught.value) == (f"{inv}:3: identities[0] (agent:x): field '{field}': '{value}' is not a date "
                                 "(YYYY-MM-DD)")
    for command in (["inventory", "validate", str(inv)], ["scan", str(tmp_path), "--inventory", str(inv)]):
        r = run_sprawl(*command)
        assert r.returncode == 2 and b"Traceback" not in r.stderr and b"internal error" not in r.stderr
        assert r.stderr.decode().strip() == f"sprawl: {caught.value}"


def test_a_credential_date_names_its_field_too(tmp_path):
    inv = tmp_path / "inventory.yaml"
    inv.write_text("kind: Inventory\ncredentials:\n  - id: cred:a\n    created_at: 2025-04-31\n")
    with pytest.raises(InventoryError, match=r"inventory.yaml:4: credentials\[0\] \(cred:a\): field 'created_at': "
                                             r"'2025-04-31' is not a date"):
        load_inventory(inv)


@pytest.mark.parametrize("shape", ["flow sequences", "flow mappings", "block sequences"])
def test_absurd_nesting_names_the_file_and_the_field(tmp_path, shape):
    depth = 100_000 if shape != "block sequences" else 5_000
    if shape == "flow sequences":
        body = "[" * depth + "]" * depth
    elif shape == "flow mappings":
        body = "{a: " * depth + "1" + "}" * depth
    else:
        body = "\n" + "".join("  " * i + "-\n" for i in range(1, depth)) + "  " * depth + "- 1\n"
    inv = tmp_path / "inventory.yaml"
    inv.write_text(f"kind: Inventory\nnotes: {body}\n")
    r = run_sprawl("inventory", "validate", str(inv))
    assert r.returncode == 2 and b"Traceback" not in r.stderr, r.stderr[-300:]
    [line] = r.stderr.decode().splitlines()
    assert line.startswith(f"sprawl: {inv}:") and "field 'notes" in line and f"more than {MAX_DEPTH} levels" in line


def test_ordinary_nesting_still_loads(tmp_path):
    inv = tmp_path / "inventory.yaml"
    inv.write_text("kind: Inventory\nidentities:\n  - {id: agent:x, kind: agent, last_reviewed: 2026-11-30}\n")
    assert load_inventory(inv).identities[0].last_reviewed.isoformat() == "2026-11-30"

"""sprawl's own metadata is not a finding (issue 18): the inventory's `key_id` and `fingerprint` fields
(`kind: Inventory` files) and the `secret-sprawl.io/key-id` and `secret-sprawl.io/fingerprint` annotations hold
identifiers and keyed fingerprints by design, so a match there is dropped when it is one: an identifier rule's
match (an AWS key id), or a value shaped as a fingerprint (32 or 64 hex digits, `hmac-sha256:` optional). A real
secret pasted into such a field is still reported. tests/test_own_metadata.py.
"""
from __future__ import annotations

import re

# The field name right before the value: `key_id: X`, `"fingerprint": "X"`, `secret-sprawl.io/key-id: X`.
_INVENTORY_FIELD = re.compile(rb"""(?:^|[\s{,])["']?(?:key_id|fingerprint)["']?[ \t]*:[ \t]*["']?\Z""")
_ANNOTATION = re.compile(rb"""secret-sprawl\.io/(?:key-id|fingerprint)["']?[ \t]*[:=][ \t]*["']?\Z""")
_INVENTORY_DOC = re.compile(rb"""(?m)^kind:[ \t]*["']?Inventory["']?[ \t]*(?:#.*)?\r?$""")
_FINGERPRINT = re.compile(r"(?:hmac-sha256:)?(?:[0-9a-f]{32}|[0-9a-f]{64})\Z")


def is_own_metadata(data: bytes, start: int, kind: str, value: str, inventory: bool) -> bool:
    """The match at `start` (rule kind `kind`, matched `value`) is a sprawl metadata field's value."""
    if kind != "identifier" and not _FINGERPRINT.match(value):
        return False
    line_start = data.rfind(b"\n", 0, start) + 1
    before = data[line_start:start]
    return bool(_ANNOTATION.search(before) or (inventory and _INVENTORY_FIELD.search(before)))


def is_inventory(data: bytes) -> bool:
    """A sprawl inventory file (`kind: Inventory` at the top level)."""
    return b"Inventory" in data and _INVENTORY_DOC.search(data) is not None

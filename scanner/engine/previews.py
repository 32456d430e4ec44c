"""What a report or a masked copy shows of a secret: never the whole value.

`preview` names a secret to its owner (a few leading characters, then ****); `mask` hides it in place,
same length, so line and column numbers of a masked copy still match the original."""
from __future__ import annotations

import re

# A PEM block's header: the preview of a private key shows only this, whatever follows it (a newline, or
# an escaped \n and the key's body on the same line).
_PEM_HEADER = re.compile(r"-----BEGIN [A-Z0-9 ]{1,40}-----")


def _kept(n: int) -> int:
    return min(6, n // 4)


def preview(secret: str) -> str:
    """A private key shows only its header line; anything else its first characters (at most a quarter)."""
    if secret.startswith("-----BEGIN"):
        header = _PEM_HEADER.match(secret)
        return (header.group() if header else "-----BEGIN") + " ****"
    return secret[: _kept(len(secret))] + "****"


def mask(secret: bytes) -> bytes:
    """Same length as the secret: the preview's prefix, then stars."""
    keep = _kept(len(secret))
    return secret[:keep] + b"*" * (len(secret) - keep)

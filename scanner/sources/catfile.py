"""The `git cat-file --batch` output, read one way for history blobs and for staged files.

For each requested name git writes `<oid> <type> <size>` and the contents, or `<name> missing`;
a stream that ends early means git stopped (a corrupt pack, a killed process).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from scanner.model import Skip
from scanner.sources.filesystem import as_utf8, is_binary, too_large

_PIECE = 1 << 20
STOPPED = "git cat-file stopped before this object"


def read_objects(out: IO[bytes], names: list[str], max_size: int | None = None,
                 unreadable: str = "missing or corrupt object") -> Iterator[bytes | Skip]:
    """Each requested object's text contents, in order, or a Skip saying why not (binary, too large,
    not a blob, `unreadable`, or git stopped before it). A blob over max_size is read past, not kept."""
    for i, name in enumerate(names):
        header = out.readline().split()
        if not header:
            for rest in names[i:]:
                yield Skip(rest, STOPPED, incomplete=True)
            return
        if len(header) != 3 or not header[2].isdigit():
            yield Skip(name, f"{unreadable}: {b' '.join(header[1:]).decode(errors='replace')}", incomplete=True)
            continue
        size = int(header[2])
        if max_size is not None and size > max_size:
            left = size + 1  # the contents and the newline after them, read past a piece at a time
            while left > 0 and (piece := out.read(min(left, _PIECE))):
                left -= len(piece)
            yield Skip(name, too_large(size, max_size))
            continue
        data = out.read(size)
        out.read(1)  # the newline after the contents
        if header[1] != b"blob":
            yield Skip(name, f"not a blob ({header[1].decode(errors='replace')})")
        elif is_binary(data):
            yield Skip(name, "binary")
        else:
            yield as_utf8(data)  # UTF-16 and UTF-32 text as UTF-8

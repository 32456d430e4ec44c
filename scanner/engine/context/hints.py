"""Hints: where a value is assigned to a secret-ish name, so that context can judge it as a generic secret.

The hint words are searched by the matcher in the same pass as the rule keywords (a second pass over
every blob cost a third of the context stage); this module says which words, and turns the offsets
just after them into the offsets of the values that follow the rest of the name and an assignment.
"""
from __future__ import annotations

import re

# "auth" only where a name can end or go on (author, authority and authenticate are everywhere).
HINT_WORDS = ("passw", "passphrase", "pwd", "secret", "token", "apikey", "api_key", "api-key", "api.key", "cred",
              "privatekey", "private_key", "private-key", "accesskey", "access_key", "access-key",
              "auth_", "auth-", "auth.", "auth=", "auth:", "auth ", "auth\"", "auth'", "authkey", "authorization")

_AFTER_NAME = re.compile(
    # `name: string = "..."` (a TypeScript annotation; Rust's `name: &str =`) before the plain operators; an
    # Objective-C or C# string literal may open with @.
    rb"""([A-Za-z0-9_.\-]{0,40})["'`\]]?[ \t]{0,8}"""
    rb"""(?::[ \t]{0,4}&?(?:'static[ \t]{1,4})?[A-Za-z_][\w.<>\[\]| ]{0,40}?=(?!=)|:=|=>|=|:|,|>)"""
    rb"""[ \t]{0,8}@?["'`]?(?=[A-Za-z0-9+/_\-.~!@#%^&*])"""
)


# Name characters become "a", the rest a space: the start of a name is then one rfind away (a JSON log
# can hold a hint on every line, and a per-character walk back cost seconds per 64 MB).
_NAME_MASK = bytes(0x61 if chr(i).isascii() and (chr(i).isalnum() or chr(i) in "_.-") else 0x20 for i in range(256))
_MAX_NAME = 80
QUOTES = b"\"'`"  # the quotes that open a literal value


def value_starts(data: bytes, word_ends: list[int], quoted_only: bool = False) -> list[tuple[int, str]]:
    """(offset, name) of each value assigned to a name holding a hint word, given the ascending offsets
    just after the hint words. The name is the text's own (the run of name characters around the word):
    the parse tree, built later and only for plausible values, names the value the same way.
    quoted_only: a value that no quote opens is given no name ("") — in code it is an expression or
    a URL's query parameter, never a literal to judge by its name."""
    found: list[tuple[int, str]] = []
    # Where hints are sparse (most source files), only the few bytes before each name are masked.
    whole = len(word_ends) * _MAX_NAME * 2 > len(data)
    mask = b""
    for end in word_ends:
        after = _AFTER_NAME.match(data, end)
        if after is not None:
            if quoted_only and data[after.end() - 1] not in QUOTES:
                found.append((after.end(), ""))
                continue
            name_end = after.end(1)
            floor = max(0, name_end - _MAX_NAME)
            if whole:
                mask = mask or data.translate(_NAME_MASK)
                start = mask.rfind(b" ", floor, name_end) + 1 or floor
            else:
                start = floor + (data[floor:name_end].translate(_NAME_MASK).rfind(b" ") + 1 or 0)
            found.append((after.end(), data[start:name_end].decode("latin-1")))
    return found

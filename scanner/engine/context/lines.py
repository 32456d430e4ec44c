"""Line parsers for formats without a grammar here: .env, INI/.cfg, .properties, Dockerfile ENV/ARG and
XML attributes and elements; and the fallback for any other text. Each answers the same question as
the tree-sitter context (scanner.engine.context.syntax.Site) from the one line an offset is on.
"""
from __future__ import annotations

import functools
import re

from scanner.engine.context.syntax import Site

_COMMENT_PREFIXES = {
    "env": (b"#",),
    "ini": (b"#", b";"),
    "properties": (b"#", b"!"),
    "dockerfile": (b"#",),
    "xml": (b"<!--",),
    None: (b"#", b"//", b";", b"--", b"/*", b"* ", b"<!--", b"rem ", b"REM "),
}
# A C preprocessor directive, in a file of no known format (a header, an Arduino sketch): `#define KEY "..."`
# defines a value, it is no comment (tests/test_detection_shapes.py::test_secrets_of_languages_without_a_grammar).
_C_DIRECTIVE = re.compile(rb"#[ \t]*(?:define|undef|if|ifdef|ifndef|elif|else|endif|include|pragma)\b")
# The name and operator just before a value: `export NAME=`, `name = `, `"name": `, `name => `, `<name>`.
_NAME_BEFORE = re.compile(
    rb"""(?:(?P<xml><(?P<tag>[A-Za-z_][\w:.\-]{0,60})[^<>]{0,200}>)
        |(?P<name>[A-Za-z0-9_$@][\w.\-\[\]'"$@]{0,80}?)["'`\]]?[ \t]{0,16}(?::=|=>|==|=|:|,|[ \t])[ \t]{0,8}["'`]?
        |(?P<attr>[A-Za-z_][\w:.\-]{0,60})[ \t]*=[ \t]*["'])$""",
    re.VERBOSE,
)
_ENV_PAIR = re.compile(rb"""([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S*)""")


@functools.lru_cache(maxsize=16)
def format_for(path: str) -> str | None:
    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if name == ".env" or name.startswith(".env.") or name.endswith(".env") or name.endswith(".envrc"):
        return "env"
    if name in ("dockerfile", "containerfile") or name.endswith(".dockerfile") or name.startswith("dockerfile."):
        return "dockerfile"
    if name.endswith((".ini", ".cfg", ".conf", ".cnf")) or name in (".pypirc", ".npmrc", ".gitconfig"):
        return "ini"
    if name.endswith(".properties"):
        return "properties"
    if name.endswith((".xml", ".config", ".csproj", ".plist", ".pom")):
        return "xml"
    return None


def line_site(data: bytes, offset: int, fmt: str | None) -> Site:
    """What the value at offset is assigned to on its line (a Site with literal=True when a name is found)."""
    lo = data.rfind(b"\n", 0, offset) + 1
    hi = data.find(b"\n", offset)
    if hi < 0:
        hi = len(data)
    line = data[lo:hi]
    stripped = line.lstrip()
    if stripped.startswith(_COMMENT_PREFIXES.get(fmt, _COMMENT_PREFIXES[None])) and not (
            fmt is None and _C_DIRECTIVE.match(stripped)):
        return Site(lo, hi, literal=False, comment=True)
    rel = offset - lo
    if fmt == "dockerfile" and stripped[:4].upper() in (b"ENV ", b"ARG "):
        for pair in _ENV_PAIR.finditer(line):
            if pair.start(2) <= rel <= pair.end(2):
                start, end = _unquote(line, pair.start(2), pair.end(2))
                return Site(lo + start, lo + end, True, name=pair.group(1).decode())
    m = _NAME_BEFORE.search(line[max(0, rel - 120) : rel])
    if m is None:
        return Site(offset, offset, literal=False)
    name = (m.group("tag") or m.group("name") or m.group("attr")).decode("utf-8", "replace")
    end = _value_end(line, rel, fmt)
    site = Site(offset, lo + end, literal=True, name=name)
    site.lookup = line[rel:end].decode("utf-8", "replace")
    return site


def _value_end(line: bytes, rel: int, fmt: str | None) -> int:
    quote = line[rel - 1 : rel] if rel else b""
    if quote in (b'"', b"'", b"`"):
        end = line.find(quote, rel)
        return end if end >= 0 else len(line)
    if fmt == "xml":
        end = line.find(b"<", rel)
        return end if end >= 0 else len(line)
    if fmt in ("env", "ini", "properties"):
        value = line[rel:].split(b" #", 1)[0].rstrip()
        return rel + len(value)
    m = re.compile(rb"[\s,;)\]}]").search(line, rel)
    return m.start() if m else len(line)


def _unquote(line: bytes, start: int, end: int) -> tuple[int, int]:
    if end - start >= 2 and line[start : start + 1] in (b'"', b"'") and line[end - 1 : end] == line[start : start + 1]:
        return start + 1, end - 1
    return start, end

"""What a rule's pattern can match, read off the standard library's regex parser: its widest match,
the most line breaks it can hold, and how far before each of its keywords it can start.

Keyword leads: most rules' matches start at or just before one of their keywords (ghp_ starts a GitHub
token; the generic rule's "token" starts its match, while "key" may come 8 bytes in, as in
"private_key"). Where that bound can be read off the pattern, the matcher tries, at each keyword hit,
only the starts its keyword's lead allows, instead of searching a window around the hit.

The bound is read off the pattern itself, with the standard library's parser: every way the pattern
can begin is spelled out, up to KEYWORD_LEAD plus the longest keyword, as the (lower-cased) byte each
position must hold, or "any" where more than one may. In each such beginning the earliest keyword it
must hold gives that keyword's lead. A match holds that keyword there, so the prefilter reports a hit
for it, and trying the starts within the lead of every hit finds every match.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
# The parser behind re, the only width calculator in the stdlib; private, so typeshed has no stubs for it.
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]

NAMED_GROUP = re.compile(r"\(\?P<[A-Za-z_]\w*>")


def syntax(pattern: str) -> Iterator[tuple[str, int, int]]:
    """The pattern read left to right as (kind, start, end) pieces: "escape" (a backslash and what it
    escapes), "class" (a whole [...] set; a `]` right after `[` or `[^` is a member), "(", ")", "|", or
    "char" (any other single character). The one hand-written reader of pattern syntax: the group and
    alternative walks of scanner.rules.loader and the Hyperscan prefilter writer all read through it
    (tests/test_rule_files.py::test_syntax_reads_escapes_classes_and_groups)."""
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            yield "escape", i, min(i + 2, n)
            i += 2
        elif c == "[":
            j = i + 1 + pattern.startswith("^", i + 1)
            j += pattern.startswith("]", j)
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            yield "class", i, min(j + 1, n)
            i = j + 1
        else:
            yield (c if c in "()|" else "char"), i, i + 1
            i += 1


def group_ends(pattern: str) -> list[tuple[int, int]]:
    """(start, end) of each group: the offsets of its `(` and its `)`, in the order the groups close."""
    out, stack = [], []
    for kind, at, _ in syntax(pattern):
        if kind == "(":
            stack.append(at)
        elif kind == ")" and stack:
            out.append((stack.pop(), at))
    return out


def parse_plain(pattern: str):
    """The pattern as the standard library's parser reads it, with named groups made plain (a rule may
    repeat a group name in alternatives, which the `regex` module allows and `re` does not)."""
    return sre_parse.parse(NAMED_GROUP.sub("(?:", pattern).encode())


def pattern_width(pattern: str) -> int | None:
    """The longest match of a pattern, in bytes as rules match them; None if unbounded (or not measurable).

    Measured by the standard library's parser (parse_plain)."""
    try:
        width = parse_plain(pattern).getwidth()[1]
    except (re.error, OverflowError, RecursionError):
        return None
    return None if width >= sre_constants.MAXREPEAT else width


UNBOUNDED = 1 << 30
_NEWLINE = 10
_BREAKING_CATEGORIES = {sre_constants.CATEGORY_SPACE, sre_constants.CATEGORY_NOT_DIGIT,
                        sre_constants.CATEGORY_NOT_WORD, sre_constants.CATEGORY_LINEBREAK}


def line_breaks(pattern: str) -> int:
    """The most line breaks a match of the pattern can hold (UNBOUNDED: no limit). Tells across how
    many lines a match can reach (scanner.engine.revisions). A pattern the standard parser cannot
    read counts as UNBOUNDED."""
    try:
        parsed = parse_plain(pattern)
    except (re.error, OverflowError, RecursionError):
        return UNBOUNDED
    return _breaks(parsed, parsed.state.flags)


def _breaks(sub, flags: int) -> int:
    c = sre_constants
    total = 0
    for op, av in sub:
        if op is c.LITERAL:
            total += av == _NEWLINE
        elif op is c.NOT_LITERAL:
            total += av != _NEWLINE
        elif op is c.ANY:
            total += bool(flags & c.SRE_FLAG_DOTALL)
        elif op is c.IN:
            total += _class_breaks_lines(av)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            if item := _breaks(av[2], flags):
                total += UNBOUNDED if av[1] >= c.MAXREPEAT else av[1] * item
        elif op is c.SUBPATTERN:
            total += _breaks(av[3], (flags | av[1]) & ~av[2])
        elif op is c.BRANCH:
            total += max(_breaks(branch, flags) for branch in av[1])
        elif op is c.ATOMIC_GROUP:
            total += _breaks(av, flags)
        elif op not in (c.AT, c.ASSERT, c.ASSERT_NOT):  # zero-width
            return UNBOUNDED  # a back-reference or a construct not measured: assume the worst
        if total >= UNBOUNDED:
            return UNBOUNDED
    return total


def _class_breaks_lines(items) -> bool:
    c = sre_constants
    negated, member = False, False
    for op, av in items:
        if op is c.NEGATE:
            negated = True
        elif op is c.LITERAL:
            member |= av == _NEWLINE
        elif op is c.RANGE:
            member |= av[0] <= _NEWLINE <= av[1]
        elif op is c.CATEGORY:
            member |= av in _BREAKING_CATEGORIES
        else:
            return True
    return member != negated


# The most a match may start before one of its keywords: the name_delimiters contract, and the furthest
# a lead is looked for.
KEYWORD_LEAD = 16
_MAX_BEGINNINGS = 4096  # more ways to begin than this: not worth spelling out (no leads)

_ANY = None  # a position more than one byte may fill: it can never be part of a keyword the match must hold
Beginning = tuple  # of int | None: the (lower-cased) byte at each position, where only one can be there


class _TooComplex(Exception):
    """Not worth spelling out, or a beginning without a keyword near enough: no leads."""


def keyword_leads(pattern: str, keywords: tuple[str, ...]) -> dict[str, int] | None:
    """Keyword -> how many bytes before a hit of it the rule's match may start (0: at the hit); None if
    that cannot be read off the pattern, or some way it begins holds no keyword within KEYWORD_LEAD
    bytes (its matches are then searched for around its keyword hits)."""
    if not keywords:
        return None
    try:
        # As the prefilter looks for them: a byte per character (keywords are ASCII in practice).
        words: dict[int, dict[tuple, str]] = {}  # length -> the keywords of that length, as byte tuples
        for kw in keywords:
            words.setdefault(len(kw), {})[tuple(kw.encode("latin-1"))] = kw
        limit = KEYWORD_LEAD + max(words)
        beginnings = _beginnings(list(parse_plain(pattern)), limit, words)
    except (re.error, UnicodeEncodeError, OverflowError, RecursionError, _TooComplex):
        return None
    if not beginnings:
        return None
    leads = {kw: 0 for kw in keywords}  # a keyword never first still has its hits tried where they are
    for beginning in beginnings:
        first = _earliest(beginning, words)
        if first is None:
            return None
        offset, found = first
        for kw in found:
            leads[kw] = max(leads[kw], offset)
    return leads


def _earliest(beginning: Beginning, words: dict[int, dict[tuple, str]],
              since: int = 0) -> tuple[int, list[str]] | None:
    """The first offset at which the beginning must hold a keyword, and the keywords it holds there;
    since: its first `since` positions are known to hold none."""
    for offset in range(max(0, since - max(words) + 1), min(len(beginning), KEYWORD_LEAD + 1)):
        found = [kw for length, of_length in words.items()
                 if (kw := of_length.get(beginning[offset : offset + length])) is not None]
        if found:
            return offset, found
    return None


def _beginnings(items: list, limit: int, words=None, heads: frozenset = frozenset([()])) -> set[Beginning]:
    """Every way a sequence of parsed items can begin (after one of heads), cut at limit positions.
    With words, a beginning is not spelled out further once it holds one of them: the rest of the
    pattern (a value of up to hundreds of bytes) cannot take back the keyword the name holds."""
    done: set[Beginning] = set()
    growing: set[Beginning] = set(heads)
    for op, av in items:
        grown: set[Beginning] = set()
        tails: dict[int, set[Beginning]] = {}  # room -> the item's beginnings: the same for every head of a length
        for head in growing:
            room = limit - len(head)
            if room not in tails:
                tails[room] = _item(op, av, room)
            for tail in tails[room]:
                beginning = (head + tail)[:limit]
                if words is None:
                    settled = len(beginning) >= limit
                elif not (settled := _earliest(beginning, words, len(head)) is not None) and len(beginning) >= limit:
                    raise _TooComplex  # a beginning with no keyword near enough: the bound cannot be read
                (done if settled else grown).add(beginning)
                if len(done) + len(grown) > _MAX_BEGINNINGS:
                    raise _TooComplex
        growing = grown
        if not growing:
            break
    return done | growing


def _item(op, av, room: int) -> set[Beginning]:
    c = sre_constants
    if op is c.LITERAL:
        return {(_lower(av),)}
    if op is c.IN:
        return {(_class(av),)}
    if op is c.NOT_LITERAL or op is c.ANY:
        return {(_ANY,)}
    if op is c.AT:
        return {()}  # zero-width
    if op is c.SUBPATTERN:
        return _beginnings(list(av[3]), room)
    if op is c.ATOMIC_GROUP:
        return _beginnings(list(av), room)
    if op is c.BRANCH:
        return set().union(*(_beginnings(list(branch), room) for branch in av[1]))
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        low, high, body = av
        # More repetitions than there is room for are cut at the room: a repeat of at least 48 counts
        # from the room's worth (more beginnings than can be only ever costs a looser bound).
        low = min(low, room)
        out: set[Beginning] = set()
        level: set[Beginning] = {()}  # the beginnings of `count` repetitions
        for count in range(min(high, room) + 1):
            if count >= low:
                out |= level
            if len(out) > _MAX_BEGINNINGS:
                raise _TooComplex
            grown = _beginnings(list(body), room, heads=frozenset(level))
            if grown == level:
                break  # every beginning is already cut at room: more repetitions change nothing
            level = grown
        return out
    raise _TooComplex  # a back-reference or a construct not read here


def _class(items) -> int | None:
    """The one (lower-cased) byte a class admits, as [Kk] does; _ANY if it admits more."""
    c = sre_constants
    members: set[int] = set()
    for op, av in items:
        if op is c.LITERAL:
            members.add(_lower(av))
        elif op is c.RANGE:
            members.update(_lower(b) for b in range(av[0], av[1] + 1))
        else:
            return _ANY  # a negated class or a category
    return members.pop() if len(members) == 1 else _ANY


def _lower(byte: int) -> int:
    """As bytes.lower() maps it: the prefilter looks for keywords in the lower-cased blob."""
    return byte + 32 if 65 <= byte <= 90 else byte

"""Context analysis: what a candidate sits in, and the generic secrets no provider rule can see.

For each confirmed candidate of a generic or password rule, and for each secret-ish name followed by
an assignment (a "hint"), the analyzer asks what the value is: a string literal assigned to which
name, a comment, an environment or secret-manager lookup, a code expression. Files whose language
tree-sitter knows are parsed (only when there is a candidate or hint to judge, with one parser per
language reused across files); .env, INI, .properties, Dockerfile and XML files, and everything else,
are judged from the line. Provider-prefixed candidates are not re-judged, except where context says
the text is an inline image, or a default password for a local or example host.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import cast

from scanner.engine import decoders
from scanner.engine.context.hints import QUOTES, value_starts
from scanner.engine.context.lines import format_for, line_site
from scanner.engine.context.names import (
    about_secret,
    is_secret_name,
    lookup_reason,
    name_words,
    passphrase,
    passphrase_name,
    sample_name,
    secret_name_kind,
    uuid_may_be_secret,
    value_reason,
)
from scanner.engine.context.syntax import Parsers, Site, Tree, language_for
from scanner.engine.entropy import shannon_entropy
from scanner.engine.filters import filler_reason, placeholder_reason

_CODE = frozenset({"python", "javascript", "typescript", "tsx", "go", "java", "ruby", "hcl"})
_COLON_ONLY = frozenset({"yaml", "json"})  # where only a colon assigns a value to a name
_MINIFIED_LINE = 1000
_BARE_VALUE = re.compile(rb"[^\s,;)\]}\"'<>]*")
WINDOW = 2048  # bytes of text parsed either side of an offset in a larger file
_UNPARSED = object()
_TOP_LEVEL = re.compile(rb"\n(?=[^\s#/*\-}\])])")
_LOCAL_OR_EXAMPLE_HOST = re.compile(
    rb"@(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]|[a-z0-9.\-]*example\.(?:com|net|org)|[a-z0-9.\-]+\.(?:example|test|invalid))(?![a-z0-9.\-])"
    rb"|[?&;](?:host|server)=(?:localhost|127\.0\.0\.1)\b",
    re.IGNORECASE,
)
_WEAK_WORDS = frozenset({"pass", "password", "secret", "pwd", "passwd", "pw"})

MakeClaim = Callable[..., object]


class ContextAnalyzer:
    """Build once per engine; parsers are created on first use and reused for every blob."""

    def __init__(self, ruleset):
        self.parsers = Parsers()
        self.generic_rule = ruleset.with_role("generic-assignment")
        self.password_rule = ruleset.with_role("password-assignment")

    def path_profile(self, path: str) -> tuple:
        """All that context analysis takes from a blob's path (see Engine.path_profile): wants_hints
        follows from the language and the format."""
        return (language_for(path) if path else None, format_for(path) if path else None, path.endswith(_SCRIPTS))

    def wants_hints(self, path: str) -> bool:
        """Generic secrets are found by name only where the format is known; elsewhere from URL query strings."""
        return self.generic_rule is not None and bool(path) and bool(language_for(path) or format_for(path))

    def refine(self, data: bytes, path: str, candidates: list, make: MakeClaim,
               hint_ends: list[int] | None = None, region: tuple[int, int] | None = None) -> list:
        """Candidates with context applied (some dropped, some demoted), plus generic secrets found by name.

        make(rule, start, end, secret, entropy, confidence, reasons, groups) builds a new candidate;
        hint_ends are the offsets just after the hint words, found by the matcher for a path that
        wants_hints; None for any other path (its format is unknown: no generic secrets by name).
        region: the candidates and hints were found in data[start:end] only (see Engine.scan); so are
        URL query parameters.
        """
        if not candidates and hint_ends is not None and not hint_ends:
            return candidates  # a known format without hints: nothing to judge, nothing to find by name
        view = _View(data, path, self.parsers)
        known = hint_ends is not None
        named = value_starts(data, hint_ends, quoted_only=view.lang in _CODE) if hint_ends else []
        hints = [pos for pos, _ in named]
        queries = view.query_sites(hints if known else None, region) if self.generic_rule is not None else []
        if not hints and not queries and not candidates:
            return candidates
        kept = []
        for c in candidates:
            reason = self._drop_reason(c, view)
            if reason is None:
                kept.append(c)
        if self.generic_rule is not None:
            sites = [view.site(pos) for pos, name in named if name and _plausible(view, pos, name)]
            kept.extend(self._generic(view, sites + queries, kept, make))
        return kept

    # --- judging candidates that rules found -------------------------------------------------------

    def _drop_reason(self, c, view: _View) -> str | None:
        data = view.data
        if view.in_image(c.start):
            return "inside a base64 image or font"
        decoded = _decoded_value(c.secret)
        if decoded is not None:
            # A Kubernetes Secret's data: the value is base64; judge what it decodes to.
            if reason := placeholder_reason(decoded):
                return f"base64 of a {reason}"
            if filler := filler_reason(decoded):
                c.confidence = "low"
                c.reasons.append(f"base64 of a {filler}")
        if c.rule.kind in ("password", "connection-string") or c.rule.provider in ("password", "basic-auth", "db-connection"):
            if _weak(c.secret) and _LOCAL_OR_EXAMPLE_HOST.search(_line(data, c.start)):
                c.confidence = "low"
                c.reasons.append("default password for a local or example host")
        if c.rule.role == "password-assignment" and " " in c.secret and not passphrase(c.secret):
            return "words of a message or prompt, not a passphrase"
        if c.rule.role == "basic-authorization":
            creds = decoders.basic_credentials(c.secret)
            if creds is not None and (not creds[1] or value_reason(creds[1])):
                return "Authorization: Basic with a placeholder password"
            if creds is None:
                c.confidence = "low"
                c.reasons.append("does not decode to user:password")
        if not c.rule.is_generic:
            return None
        if decoded is not None and (reason := value_reason(decoded) or _json_reason(decoded)):
            return f"base64 of a {reason}"
        if reason := value_reason(c.secret):
            if reason != "names a variable or setting":
                return reason
            if _names_secret(c.secret):
                if view.lang or view.fmt:
                    return reason
                # Without knowing the format, a value such as smtp_password may still be the password.
                c.confidence = "low"
                c.reasons.append(reason)
        site = view.site(c.start)
        if site.comment:
            c.demote("in a comment")
            return None
        if view.lang in _CODE and not site.literal:
            return "a code expression, not a literal"
        if site.lookup and (reason := lookup_reason(site.lookup)) and site.lookup.find(c.secret) != 0:
            return reason
        if site.name:
            if lookup_reason(site.name):
                # process.env.X || "..." or os.environ["X"] = "...": a fallback or a value set in code ships
                # with the code (tests/test_detection_shapes.py::test_fallbacks_of_environment_lookups).
                c.reasons.append("the value of an environment variable, hard-coded")
            elif about_secret(site.name):
                return "the name describes the secret, it does not hold it"
            elif sample_name(site.name):
                c.demote("the name marks a sample")
        if view.minified(c.start):
            c.demote("in minified code")
        return None

    # --- generic secrets found by name -------------------------------------------------------------

    def _generic(self, view: _View, sites: list[Site], taken: list, make: MakeClaim) -> list:
        found, seen = [], set()
        for site in sites:
            if not site.literal or site.is_key or not site.name or site.comment:
                continue
            span = (site.value_start, site.value_end)
            if span in seen or any(c.start < span[1] and c.end > span[0] for c in taken):
                continue
            seen.add(span)
            cand = self._judge_value(view, site, make)
            if cand is not None:
                found.append(cand)
        return found

    def _judge_value(self, view: _View, site: Site, make: MakeClaim):
        assert site.name is not None  # _generic passes only sites with a name
        kind = secret_name_kind(site.name)
        if kind is None:
            return None
        raw = view.data[site.value_start : site.value_end]
        if not 6 <= len(raw) <= 400 or view.minified(site.value_start):
            return None
        value = raw.decode("utf-8", "replace")
        reasons = [f"assigned to {site.name.strip()[:60]!r}"]
        judged = value
        decoded = _decoded_value(value)
        if decoded is not None:
            if _json_reason(decoded):
                return None
            judged = decoded
            reasons.append("base64-decoded")
        uuid_key = False
        if reason := value_reason(judged) or value_reason(value):
            uuid_key = reason == "UUID" and uuid_may_be_secret(site.name)
            if not uuid_key:
                return None
            reasons.append("a UUID under a secret name")
        if any(ch.isspace() for ch in judged):
            quoted = view.data[site.value_start - 1 : site.value_start] in QUOTES if site.value_start else False
            if not (quoted and passphrase(judged) and passphrase_name(site.name)):
                return None
            reasons.append("a passphrase")
        if kind == "generic" and _a_word(judged):
            return None  # a word or a name, not a key
        entropy = shannon_entropy(judged)
        rule = self.password_rule if kind == "password" and self.password_rule is not None else self.generic_rule
        if kind == "password":
            if len(judged) < 6 or entropy < 2.0:
                return None
            confidence = "medium"
        else:
            floor = _entropy_floor(judged)
            if len(judged) < 8 or entropy < min(3.0, floor):
                return None
            has_digit = any(ch.isdigit() for ch in judged)
            confidence = "medium" if entropy >= floor and (has_digit or len(judged) >= 24) else "low"
            if uuid_key:
                confidence = "medium"  # 122 random bits, whatever its letter counts say
        if filler := filler_reason(judged):
            confidence = "low"
            reasons.append(filler)
        if sample_name(site.name):
            confidence = "low"
            reasons.append("the name marks a sample")
        return make(rule, site.value_start, site.value_end, value, round(entropy, 3), confidence, reasons, {})


_SCRIPTS = (".js", ".mjs", ".cjs", ".css")  # where a very long line is minified code


class _View:
    """One blob's context: its language or line format, and its parse tree, built on first need."""

    def __init__(self, data: bytes, path: str, parsers: Parsers):
        self.data, self.path, self.parsers = data, path, parsers
        self.lang = language_for(path) if path else None
        self.fmt = format_for(path) if path and self.lang is None else None
        self._trees: dict[tuple[int, int], Tree | None] = {}  # (start, end) of a window -> its parse
        self._images: list[tuple[int, int]] | None = None
        self.script = path.endswith(_SCRIPTS)

    def site(self, offset: int) -> Site:
        if self.lang is None:
            return line_site(self.data, offset, self.fmt)
        lo, tree = self._window_tree(offset)
        if tree is None:
            return line_site(self.data, offset, self.fmt)
        site = tree.site(offset - lo)
        site.value_start += lo
        site.value_end += lo
        return site

    def _window_tree(self, offset: int) -> tuple[int, Tree | None]:
        """A parse tree of the text around offset. Small files are parsed whole; in larger ones a window
        from the first unindented line (a top-level statement or key) in the WINDOW bytes before offset
        (or from the file's start, where that is among them) to the end of the line WINDOW bytes after
        it, since tree-sitter's cost grows with the text while an assignment's context is a few lines.

        The window is a function of the text within WINDOW bytes of offset alone (not of which values
        were judged before, nor of where in the file the text is, but for the file's start being among
        those bytes), so judging the changed part of a file's next version gives what judging all of
        it gives (scanner.engine.revisions)."""
        data = self.data
        assert self.lang is not None  # called by site() only for a blob in a parsed language
        if len(data) <= 2 * WINDOW:
            lo, hi = 0, len(data)
        else:
            start = offset - WINDOW
            if start <= 0:
                # The file's start is sure to be outside any string; the first unindented line after
                # it may be inside one (a module docstring's lines are unindented too).
                lo = 0
            else:
                top = _TOP_LEVEL.search(data, start, offset)
                lo = top.start() + 1 if top else data.rfind(b"\n", 0, start) + 1
            hi = data.find(b"\n", min(len(data), offset + WINDOW))
            hi = len(data) if hi < 0 else hi
        tree = self._trees.get((lo, hi), _UNPARSED)
        if tree is _UNPARSED:
            tree = self._trees[(lo, hi)] = self.parsers.parse(data[lo:hi], self.lang)
        return lo, cast("Tree | None", tree)  # not _UNPARSED: a parse replaced it

    def in_image(self, offset: int) -> bool:
        if self._images is None:
            self._images = decoders.data_uris(self.data)
        return any(lo <= offset < hi for lo, hi in self._images)

    def minified(self, offset: int) -> bool:
        """A very long line in a script: bundled or minified code, whose names are not the author's."""
        if not self.script:
            return False
        return len(_line(self.data, offset)) > _MINIFIED_LINE

    def query_sites(self, hints: list[int] | None, region: tuple[int, int] | None = None) -> list[Site]:
        """URL query parameters (?api_key=..., &token=...) as sites named by the parameter: on the lines
        of the hints where those were looked for (a parameter is a hint too), else in the whole blob
        (or the region of it being scanned)."""
        data = self.data
        if b"?" not in data and b"&" not in data:
            return []
        spans, lines = [], set()
        for pos in hints if hints is not None else ():
            lo = data.rfind(b"\n", 0, pos) + 1
            if lo not in lines:
                lines.add(lo)
                hi = data.find(b"\n", pos)
                spans.append((lo, len(data) if hi < 0 else hi))
        if hints is None:
            spans = [region or (0, len(data))]
        return [Site(start, end, True, name=name) for lo, hi in spans
                for name, start, end, _ in decoders.named_query_params(data, lo, hi) if is_secret_name(name)]


def _plausible(view: _View, pos: int, name: str) -> bool:
    """A quick look at the name and value, so that a file is parsed only for values that could be secrets:
    a secret-ish name (not token_type or author), of a few characters, that is not a placeholder. (In
    code a value is a literal only where a quote opens it: value_starts names no other value there.)"""
    kind = secret_name_kind(name)
    if kind is None:
        return False
    data = view.data
    quote = data[pos - 1 : pos] if pos else b""
    quoted = bool(quote) and quote in QUOTES
    # The operator ends at most 8 spaces (and a quote) before the value (hints._AFTER_NAME).
    if view.lang in _COLON_ONLY and data[max(0, pos - quoted - 9) : pos - quoted].rstrip(b" \t")[-1:] != b":":
        return False  # `name = value` in YAML or JSON is text, not an assignment: no parse will name it
    if quoted:
        end = data.find(quote, pos, pos + 400)
        raw = data[pos : end if end >= 0 else pos + 64]
        whole = end >= 0 and b"\\" not in raw
    else:
        bare = _BARE_VALUE.match(data, pos, pos + 400)
        assert bare is not None  # _BARE_VALUE matches the empty string too: it always matches
        raw = bare.group()
        after = data[pos + len(raw) : pos + len(raw) + 1]
        whole = after in (b"", b" ", b"\t", b"\r", b"\n")  # else the value may go on past what was read
    value = raw.decode("utf-8", "replace")
    if whole and _a_word(value) and kind == "generic":
        # _judge_value drops a word under a generic name whatever the parse says (a bare value read up
        # to a space is the value, or the start of one holding a space, which it drops too). AWS
        # paginators hold "input_token": "NextToken" on every page: that was a parse each.
        return False
    reason = value_reason(value)
    if reason == "UUID" and uuid_may_be_secret(name):
        reason = None
    return len(value) >= 6 and reason is None and shannon_entropy(value) >= 2.0


def _a_word(value: str) -> bool:
    """A word or a name (NextToken, Bearer), not a key."""
    return value.isalpha() and len(value) < 24


def _line(data: bytes, offset: int) -> bytes:
    lo = data.rfind(b"\n", 0, offset) + 1
    hi = data.find(b"\n", offset)
    return data[lo : hi if hi >= 0 else len(data)]


def _decoded_value(value: str) -> str | None:
    """The text a base64 value decodes to (a Kubernetes Secret's data), if it is one short line of text."""
    if len(value) < 8 or value.isalpha() or value.isdigit():
        return None
    out = decoders.b64_text(value.encode())
    if out is None or len(out) < 4 or b"\n" in out.strip():
        return None
    return out.decode("utf-8").strip()


_HEX_VALUE = re.compile(r"[0-9a-fA-F]{24,128}")


def _entropy_floor(value: str) -> float:
    """Bits a character a random value of this alphabet clears: hex carries at most 4, and a random 32-hex
    key falls below 3.5 one time in five, so hex is held to 2.8 (the floor of generic-hex-secret-assignment;
    tests/test_detection_cases.py::test_hex_keys_of_low_entropy_under_secret_names)."""
    return 2.8 if _HEX_VALUE.fullmatch(value) else 3.5


def _json_reason(decoded: str) -> str | None:
    """Base64 of a JSON object or array is state (a pagination cursor, a continuation or page token),
    not a key; a secret inside it is found in the decoded text (tests/test_detection_cases.py::
    test_a_base64_json_cursor_is_not_a_secret)."""
    if decoded[:1] not in ("{", "[") or decoded[-1:] not in ("}", "]"):
        return None
    try:
        json.loads(decoded)
    except ValueError:
        return None
    return "JSON document (a cursor or state), not a key"


def _weak(secret: str) -> bool:
    return secret.lower() in _WEAK_WORDS or filler_reason(secret) == "default or dictionary password"


def _names_secret(value: str) -> bool:
    """real_key, db_password, SECRET_KEY: an identifier that names a credential rather than holding one."""
    return any(w in ("key", "keys", "pass", "password", "passwd", "pwd", "secret", "token", "env", "config",
                     "settings", "value", "auth", "credential", "credentials") for w in name_words(value))

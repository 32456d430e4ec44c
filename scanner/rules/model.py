"""What a rule is. Patterns are compiled on first use so start-up stays fast."""
from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal

from scanner.errors import SprawlError
from scanner.rules.patterns import KEYWORD_LEAD, keyword_leads, line_breaks, pattern_width

KINDS = frozenset(
    {"api-key", "token", "private-key", "password", "connection-string", "webhook", "certificate", "generic",
     "identifier"}
)
PRIVILEGES = frozenset({"admin", "write", "read", "metered", "test"})
# Behaviours the engine keys on by a rule's role, never by its id (docs/rules.md):
#   generic-assignment: the rule context reports a secret-ish name's literal under (generic secrets);
#   password-assignment: the same for a password-ish name;
#   basic-authorization: its secret is an `Authorization: Basic` value, decoded and judged as user:password.
ROLES = frozenset({"generic-assignment", "password-assignment", "basic-authorization"})
CONFIDENCES = ("low", "medium", "high")
PREFILTERS = ("strict", "loose")  # how the Hyperscan matcher pre-checks a rule (scanner.engine.hyperscan_matcher)
_STRUCTURAL_PROVIDERS = frozenset(
    {"password", "jwt", "http", "curl", "basic-auth", "uri", "db-connection", "sensitive", "redirect", "net"}
)
NEAR_START = "sprawl_near_start"  # the group that marks where a match of Rule.near_regex starts


class RuleError(SprawlError, ValueError):
    """A rule file that cannot be used; the message names the file and the field."""

    def __str__(self) -> str:
        return f"rule error: {super().__str__()}"


@dataclass(slots=True)
class Rule:
    id: str
    name: str
    provider: str
    kind: str
    pattern: str
    keywords: tuple[str, ...]
    privilege: str
    lifetime: str  # "static" or an ISO-8601 duration such as PT1H
    confidence: str = "high"  # before entropy, checks and context adjust it
    min_entropy: float = 0.0
    check: str | None = None
    window: int = 512  # bytes either side of a keyword hit searched in large blobs
    remediation: str = ""
    references: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    negative_examples: tuple[str, ...] = ()
    source_file: str = ""
    paths: tuple[str, ...] = ()  # file-name globs; empty: every file
    exclude_words: tuple[str, ...] = ()  # in the name or match before the secret, these mean "not a secret"
    name_delimiters: bytes | None = None  # the match starts inside a name; what may come before the name
    prefilter: str = "strict"  # one of PREFILTERS; loose: Hyperscan pre-checks it without its \b assertions
    role: str | None = None  # one of ROLES: a behaviour the engine keys on
    publishable: bool = False  # a key meant to be public: its blast radius is capped
    _compiled: object = field(default=None, repr=False)  # the regex module's compiled pattern
    _leads: dict[str, int] | None | Literal[False] = field(default=False, repr=False)  # keyword_leads; False: not worked out yet
    _near: object = field(default=None, repr=False)  # near_regex, compiled on first use
    near_tries: int = field(default=0, init=False, repr=False, compare=False)  # hits matcher.starting_near was given
    _globs: PathGlobs | None = field(default=None, repr=False)
    _width: int | None = field(default=-1, repr=False)  # -1: not computed yet
    _breaks: int = field(default=-1, repr=False)  # -1: not computed yet

    @property
    def regex(self):
        """The pattern compiled (by the `regex` module, on first use), on bytes, MULTILINE."""
        if self._compiled is None:
            import regex  # here, not at import: rules compile on first use, a clean pre-commit run needs none

            try:
                self._compiled = regex.compile(self.pattern.encode(), regex.MULTILINE)
            except regex.error as exc:
                raise RuleError(f"{self.source_file}: rule {self.id}: field 'pattern': {exc}") from None
        return self._compiled

    @property
    def keyword_leads(self) -> dict[str, int] | None:
        """Keyword -> how far before a hit of it a match may start: as the pattern says, else for a
        name_delimiters rule the contract's KEYWORD_LEAD; None where neither says."""
        if self._leads is False:
            leads = keyword_leads(self.pattern, self.keywords)
            if leads is None and self.name_delimiters is not None and self.keywords:
                leads = dict.fromkeys(self.keywords, KEYWORD_LEAD)
            self._leads = leads
        return self._leads

    @property
    def near_regex(self):
        """The pattern after a lazy skip of up to KEYWORD_LEAD bytes, anchored where the search starts: one C
        call tries each of those starts, leftmost first. The match proper starts at the group NEAR_START;
        a caller allowing fewer starts rejects a match that starts past its last (scanner.engine.matcher.
        starting_near). One compiled pattern a rule, not one a skip: `regex` takes ~8 ms to compile one."""
        if self._near is None:
            import regex

            self._near = regex.compile(b"(?s:.){0,%d}?(?P<%s>)(?:%s)" % (
                KEYWORD_LEAD, NEAR_START.encode(), self.pattern.encode()), regex.MULTILINE)
        return self._near

    @property
    def max_width(self) -> int | None:
        """The most bytes a match can span, or None if the pattern can match any length."""
        if self._width == -1:
            self._width = pattern_width(self.pattern)
        return self._width

    @property
    def line_breaks(self) -> int:
        """The most line breaks a match can hold (UNBOUNDED: no limit)."""
        if self._breaks == -1:
            self._breaks = line_breaks(self.pattern)
        return self._breaks

    def applies_to(self, path: str) -> bool:
        if not self.paths:
            return True
        if self._globs is None:
            self._globs = PathGlobs(self.paths)
        return self._globs.match(path)

    @property
    def is_generic(self) -> bool:
        return self.kind == "generic" or self.provider in ("generic", "password")

    @property
    def specificity(self) -> int:
        """2 for a provider's own format, 1 for a structure any provider's secret can sit in
        (a JWT, a URL with a password, a bearer header), 0 for a generic assignment. Where rules
        claim the same text, the more specific one names the credential."""
        if self.is_generic and self.provider != "password":
            return 0
        if self.provider in _STRUCTURAL_PROVIDERS:
            return 1
        return 2


@dataclass(slots=True)
class RuleSet:
    rules: list[Rule]
    by_id: dict[str, Rule] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {r.id: r for r in self.rules}

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self):
        return iter(self.rules)

    @property
    def providers(self) -> set[str]:
        return {r.provider for r in self.rules}

    def extended(self, extra: RuleSet) -> RuleSet:
        """These rules and the extra ones; an extra rule with the id of one of these replaces it (a company
        tightening or widening a built-in rule), tests/test_config.py::test_extra_rules_add_to_the_built_ins."""
        replaced = {r.id for r in extra}
        return RuleSet([r for r in self.rules if r.id not in replaced] + list(extra))

    def with_role(self, role: str) -> Rule | None:
        """The rule that plays this role in this rule set (the first, in load order), if any."""
        return next((r for r in self.rules if r.role == role), None)

    @property
    def version(self) -> str:
        """A hash of every pattern and setting: a blob scanned under the same version need not be rescanned."""
        h = hashlib.sha256()
        for r in sorted(self.rules, key=lambda r: r.id):
            h.update(repr((r.id, r.pattern, r.keywords, r.min_entropy, r.check, r.confidence, r.window, r.paths, r.exclude_words, r.name_delimiters)).encode())
        return h.hexdigest()[:16]

    def only(self, ids: set[str]) -> "RuleSet":
        return RuleSet([r for r in self.rules if r.id in ids])


class PathGlobs:
    """Whether a path's file name, or the whole path, matches one of some shell globs (fnmatch, case
    sensitive): one compiled pattern for them all, where fnmatchcase translates and caches each glob and
    a tree of thousands of files would ask each rule's every glob twice a file."""

    def __init__(self, globs: list[str] | tuple[str, ...]):
        self._pattern = re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs)) if globs else None

    def match(self, path: str) -> bool:
        if self._pattern is None:
            return False
        name = path.replace("\\", "/").rsplit("/", 1)[-1]
        return self._pattern.match(name) is not None or self._pattern.match(path) is not None


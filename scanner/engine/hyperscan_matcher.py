"""The Hyperscan matcher backend (a dependency wherever Hyperscan has wheels; the portable matcher elsewhere).

Hyperscan databases, each scanned over the raw blob in one C pass, answer the questions the portable
matcher answers with an Aho-Corasick walk and then more cheaply:

- which rules can match anywhere in the blob: every rule pattern, compiled in prefilter mode with
  wide bounded repeats relaxed to open ones, reported at most once (SINGLEMATCH); in the same pass,
  where the context stage's hint words end and what the decoders look for (see _context_patterns);
- where each rule keyword occurs (case-insensitive literals; every hit reported), which replaces
  the portable matcher's lower-cased copy, latin-1 decode and Aho-Corasick walk; it is scanned only
  when some rule can match.

The rule's own regex then runs exactly where the portable matcher runs it (the windows around
the same keyword hits), but only for rules that can match. A prefilter pattern matches a superset
of what the rule matches, so skipping the others loses nothing and both backends yield the same
candidates; in keyword-dense text most triggered rules are skipped.

A large blob (a log file) is asked the first question block by block, then sub-block by
sub-block where a block fired, each with a margin wider than the rule's longest match: a match
can only start where its rule fired, so the rule's regex runs there only, keyword hits are taken
only near there, and each keyword's first hit (the order rules run in) comes from a single-match
database of the keywords of the rules that can match. Rules of long but bounded matches (a JWT, a
PEM block) are located by the ends their prefilter patterns report, in one pass over the whole blob
beside the rules of unbounded width, which are only asked whether they can match at all.

Why not the rule patterns themselves with SOM_LEFTMOST, as Nosey Parker and Kingfisher do:
measured on the built-in rules, Hyperscan rejects 188 of the ~700 with SOM ("Pattern is too large",
from repeats such as `[\\w.\\-]{0,40}(?:[ \\t]{1,3}[\\w.\\-]{1,25}){0,5}`), rejects private-key-pem even
without SOM, and takes over four minutes to compile the rest; the relaxed prefilter database
compiles in about a second and is cached on disk, keyed by the rules' hash.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import hyperscan

from scanner.engine.context.hints import HINT_WORDS
from scanner.engine.context.syntax import EXTENSIONS as SOURCE_EXTENSIONS
from scanner.engine.decoders import FACT_PATTERNS, Facts
from scanner.engine.matcher import PortableMatcher, Prescan, keyword_lead
from scanner.engine.optional_hyperscan import load_or_compile
from scanner.rules.cache import cache_dir
from scanner.rules.model import PathGlobs, Rule, RuleError, RuleSet
from scanner.rules.patterns import NAMED_GROUP, group_ends, syntax

_MODE = hyperscan.HS_MODE_BLOCK
_HS_VERSION = hyperscan.__version__  # type: ignore[attr-defined]  # the package's stubs omit it; names the cached databases
_KEYWORD_FLAGS = hyperscan.HS_FLAG_CASELESS  # ASCII-only folding without UTF8, as bytes.lower()
_RULE_FLAGS = (hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_MULTILINE
               | hyperscan.HS_FLAG_ALLOWEMPTY)


# Large blobs are located block by block (see HyperscanMatcher._locate); rules whose matches can be
# longer than the margin are searched wherever their windows allow.
BLOCK = 256 * 1024
SUB_BLOCK = 16 * 1024
_MARGIN = 4096


@dataclass(slots=True)
class _LargeBlobRules:
    """The databases for large blobs (see HyperscanMatcher._locate), each with its scratch space."""

    margin: int  # the longest match of the located rules (shorter than _MARGIN), plus a byte of context
    located_db: object  # those rules: located block, then sub-block
    located_scratch: object
    # The rules of longer matches, asked about the whole blob in one pass (None: there are none): those of
    # unbounded width whether they can match at all, the far ones (bounded by _FAR_WIDTH) at every end.
    whole_db: object
    whole_scratch: object
    far_widths: dict[int, int]  # far rule -> its longest match


# Rules of bounded width up to this are located block by block (their margin is their width, each side).
_FAR_WIDTH = BLOCK // 2
# First-hit databases kept per matcher (one per set of keywords of the rules that can match a large blob).
_FIRSTS_KEPT = 64
# Names the cached databases built from prefilter_pattern: bump when what it writes, or which rules a database
# holds, changes (4: rules for extensions moved from the named database to the rules database; 5: a
# leading optional class dropped, repeats of at most 4 kept; 6: not inside a group repeated).
_PREFILTER_FORMAT = 6
def _scratch(db):
    return hyperscan.Scratch(db) if db is not None else None


class HyperscanMatcher(PortableMatcher):
    """Keyword hits and possible rules from one Hyperscan pass; windows and rule regexes as the portable matcher."""

    name = "hyperscan"

    def __init__(self, rules: list[Rule], cache: Path | None = None, context: bool = True):
        super().__init__(rules)
        self._context = context
        # Keywords are lower-cased text compared with the latin-1 view of the blob: one that is not
        # latin-1 can never hit in the portable matcher either.
        keywords = [(kw.encode("latin-1"), k) for kw, k in self.prefilter.keyword_ids.items() if _latin1(kw)]
        self._lengths = {k: len(kw) for kw, k in keywords}
        # The keyword database holds the hint words too, so its name carries their hash as well.
        version, cache = RuleSet(list(rules)).version, cache or cache_dir()
        words = hashlib.sha256("\0".join(sorted(self.prefilter.keyword_ids)).encode()).hexdigest()[:12]
        # Two databases, not one: with Hyperscan 5.4 a caseless literal such as "-p" compiled beside the
        # rule patterns made another rule's match go unreported (tests/test_backends.py found it).
        self.keywords_db = load_or_compile(cache / f"keywords-{version}-{words}-hs{_HS_VERSION}.db",
                                           lambda: _compile_keywords(keywords)) if keywords else None
        # Serving context analysis, the rule database holds its patterns too (see _context_patterns).
        extra = _context_patterns() if context else []
        tag = hashlib.sha256(b"\0".join(e for e, _ in extra)).hexdigest()[:8] if extra else "bare"
        # Rules for some file names only (.pgpass, kaggle.json) have a database of their own, asked only about
        # those files: one such pattern without a keyword cost a sixth of the pass over source code. A rule for
        # every file of an extension (`*.py`, `*.php`) is not: that pass would run on most files of a tree or a
        # history (a fifth more Hyperscan time there); it sits with the others, its path checked where its
        # matches are (PortableMatcher._matches).
        self._named = [i for i, r in enumerate(rules) if r.paths and not _by_extension(r)]
        general = [i for i, r in enumerate(rules) if not r.paths or _by_extension(r)]
        self.rules_db = load_or_compile(cache / f"rules-{version}-{tag}-p{_PREFILTER_FORMAT}-hs{_HS_VERSION}.db",
                                        lambda: _compile_rules([rules[i] for i in general], general, extra, len(rules)))
        self.named_db = load_or_compile(cache / f"named-{version}-p{_PREFILTER_FORMAT}-hs{_HS_VERSION}.db",
                                        lambda: _compile_rules([rules[i] for i in self._named], self._named)) if self._named else None
        self._named_scratch = _scratch(self.named_db)
        self._named_for: dict[str, bool] = {}  # path -> whether a rule of named files applies to it
        self._named_globs = PathGlobs([g for i in self._named for g in rules[i].paths])
        self._path_rules = frozenset(i for i, r in enumerate(rules) if r.paths)
        # A few dozen literals compile in milliseconds: no cache needed.
        self.hints_db = _compile_keywords([(w.encode(), k) for w, k in self.prefilter.extra_ids.items()])
        self._hints_scratch = hyperscan.Scratch(self.hints_db)
        self._keywords_scratch = hyperscan.Scratch(self.keywords_db) if self.keywords_db else None
        self._keyword_bytes = dict((k, kw) for kw, k in keywords)  # for the large blobs' first-hit databases
        self._firsts: dict[frozenset[int], tuple[hyperscan.Database, hyperscan.Scratch]] = {}  # see _firsts_database
        self._longest_keyword = max((len(kw) for kw, _ in keywords), default=0)
        self._rules_scratch = hyperscan.Scratch(self.rules_db)
        self._large: _LargeBlobRules | None = None  # built on the first large blob (_large_blob_rules)
        self._cache, self._version = cache, version

    def keyword_hits(self, data: bytes, hits: dict[int, list[int]] | None = None, offset: int = 0) -> dict[int, list[int]]:
        """Keyword id -> ascending start offsets (plus offset: data may be a slice of the blob, and
        successive slices, in order, add to the same hits)."""
        return self._literal_hits(self.keywords_db, self._keywords_scratch, data, {} if hits is None else hits, offset)

    def _literal_hits(self, db, scratch, data: bytes, hits: dict[int, list[int]], offset: int = 0) -> dict[int, list[int]]:
        if db is None:
            return hits
        lengths = self._lengths

        # Matches arrive in order of their end, so each keyword's list comes out ascending.
        def on_keyword(k: int, _from: int, end: int, _flags: int, _ctx) -> None:
            if (positions := hits.get(k)) is None:
                hits[k] = [offset + end - lengths[k]]
            else:
                positions.append(offset + end - lengths[k])

        db.scan(data, match_event_handler=on_keyword, scratch=scratch)
        return hits

    def prescan(self, data: bytes, hints: bool = False, path: str = "") -> Prescan:
        if len(data) > 2 * BLOCK:
            return self._prescan_large(data, hints, path)
        possible, hint_ends, facts = self._blob_pass(data)
        if self._names_file(path):
            possible |= self._possible(data, self.named_db, self._named_scratch)
        possible = self._for_path(possible, path)
        if hints and not self._context:
            hint_ends = self._hint_ends(data)
        # Most blobs can match no rule at all: their keyword hits (a Python call each) are then not needed.
        hits = self.keyword_hits(data) if possible else {}
        return Prescan(hits, possible, hint_ends if hints else [], decoder_facts=facts)

    def _names_file(self, path: str) -> bool:
        """Whether a rule for some file names only applies to this path (remembered: a history holds
        each path many times)."""
        named = self._named_for.get(path)
        if named is None:
            if len(self._named_for) > 65536:
                self._named_for.clear()
            named = self._named_for[path] = self._named_globs.match(path)
        return named

    def _blob_pass(self, data: bytes) -> tuple[set[int], list[int], Facts | None]:
        """The rules that can match the blob and, from the same pass when the matcher serves context
        analysis, the ends of the hint words and the decoders' facts."""
        if not self._context:
            return self._possible(data), [], None
        possible: set[int] = set()
        hint_ends: list[int] = []
        first_ends = [-1] * len(FACT_PATTERNS)
        rules_end, hints_from = len(self.rules), len(self.rules) + len(FACT_PATTERNS)

        def on_match(i: int, _from: int, end: int, _flags: int, _ctx) -> None:
            if i < rules_end:
                possible.add(i)
            elif i >= hints_from:
                hint_ends.append(end)  # matches arrive in order of their end
            else:
                first_ends[i - rules_end] = end

        self.rules_db.scan(data, match_event_handler=on_match, scratch=self._rules_scratch)
        return possible, hint_ends, Facts.from_first_ends(first_ends)

    def _for_path(self, possible: set[int], path: str) -> set[int]:
        """possible without the rules for other files: a database that holds every rule (a large blob's) or a
        rule for an extension (_by_extension) reports them; they would not run (PortableMatcher._matches), but a
        rule for a file name that can match anywhere (.fetchmailrc's) made every large log fetch every keyword
        hit (tests/test_backends.py::test_a_rule_for_other_files_costs_a_large_blob_nothing)."""
        if possible.isdisjoint(self._path_rules):
            return possible
        return {i for i in possible if i not in self._path_rules or self.rules[i].applies_to(path)}

    def _prescan_large(self, data: bytes, hints: bool, path: str) -> Prescan:
        possible, ranges = self._locate(data)
        if self._names_file(path):
            # Rules for some file names only are not located (_large_blob_rules): searched in the whole blob.
            possible |= self._possible(data, self.named_db, self._named_scratch)
        possible = self._for_path(possible, path)
        if not possible:
            return Prescan({}, possible, self._hint_ends(data) if hints else [])
        keyworded = self.prefilter.rule_keywords
        if any(keyworded[i] and i not in ranges for i in possible):
            # A rule that can match anywhere in the blob: every keyword hit is needed.
            every = self.keyword_hits(data)
            return Prescan(every, possible, self.prefilter.extra_ends(every) if hints else [], ranges)
        # Every rule that can match is located: keyword hits are needed only near where their matches can
        # start, and each keyword's first hit anywhere (the order rules run in, as for any blob).
        hits: dict[int, list[int]] = {}
        for lo, hi in self._keyword_regions(ranges, len(data)):
            self.keyword_hits(data[lo:hi], hits, lo)
        first = self._first_hits(data, {k for i in possible for k in keyworded[i]})
        return Prescan(hits, possible, self._hint_ends(data) if hints else [], ranges, first)

    def _possible(self, data: bytes, db=None, scratch=None) -> set[int]:
        possible: set[int] = set()

        def on_rule(i: int, _from: int, _end: int, _flags: int, _ctx) -> None:
            possible.add(i)

        (db or self.rules_db).scan(data, match_event_handler=on_rule, scratch=scratch or self._rules_scratch)
        return possible

    def _locate(self, data: bytes) -> tuple[set[int], dict[int, list[tuple[int, int]]]]:
        """The rules that can match a large blob, and where the matches of those of bounded width can start.

        In keyword-dense text (logs) a rule's keywords are everywhere while its matches are few. Each
        block is scanned with a margin at least as wide as the longest match either side, so a match
        that starts in the block is seen whole, with the characters around it. Rules of short matches
        are narrowed further, to the sub-blocks of a block that fired; rules of long bounded matches
        (a JWT, a PEM block) are located by their match ends in one pass over the blob (_far_reaching);
        rules of unbounded width are only asked whether they can match anywhere.
        tests/test_backends.py::test_large_keyword_dense_blob_located_by_block_finds_the_same guards that
        both backends find the same there.
        """
        lb = self._large_blob_rules()
        possible, ranges = self._far_reaching(data, lb)
        size = len(data)

        def fired(db, scratch, lo: int, hi: int, margin: int) -> set[int]:
            return self._possible(data[max(0, lo - margin) : hi + margin], db, scratch)

        def add(i: int, lo: int, hi: int) -> None:
            spans = ranges.setdefault(i, [])
            if spans and spans[-1][1] == lo:
                spans[-1] = (spans[-1][0], hi)
            else:
                spans.append((lo, hi))

        for lo in range(0, size, BLOCK):
            hi = min(size, lo + BLOCK)
            in_block = fired(lb.located_db, lb.located_scratch, lo, hi, lb.margin)
            if not in_block:
                continue
            possible |= in_block
            margin = max(cast(int, self.rules[i].max_width) for i in in_block) + 1  # located rules: bounded width
            for sub in range(lo, hi, SUB_BLOCK):
                sub_hi = min(hi, sub + SUB_BLOCK)
                for i in fired(lb.located_db, lb.located_scratch, sub, sub_hi, margin) & in_block:
                    add(i, sub, sub_hi)
        return possible, ranges  # each rule's spans ascend: blocks and sub-blocks are walked in order

    def _far_reaching(self, data: bytes, lb: _LargeBlobRules) -> tuple[set[int], dict[int, list[tuple[int, int]]]]:
        """The rules of long matches that can match the blob, and where the far ones' matches can start: a
        match of width at most w that ends at t starts in [t - w, t], and its rule's prefilter pattern
        reports that end. The spans are merged where they overlap, so a search through them is the search
        through the whole blob (a match that overlaps the next span's start is seen from its own span).
        Ends are few (3,800 JWT-like ones in 200 MiB of logs): one pass over the blob, where a block-by-block
        pass with a margin as wide as a PEM bundle read each byte 1.4 times."""
        possible: set[int] = set()
        ends: dict[int, list[int]] = {}
        if lb.whole_db is None:
            return possible, {}
        far_widths = lb.far_widths

        def on_match(i: int, _from: int, end: int, _flags: int, _ctx) -> None:
            if i in far_widths:
                ends.setdefault(i, []).append(end)
            else:
                possible.add(i)

        lb.whole_db.scan(data, match_event_handler=on_match, scratch=lb.whole_scratch)  # type: ignore[attr-defined]
        possible |= ends.keys()
        # Ends ascend (matches arrive in order of their end), and so do the spans' starts.
        return possible, {i: merged_spans((max(0, end - far_widths[i]), end + 1) for end in rule_ends)
                          for i, rule_ends in ends.items()}

    def _first_hits(self, data: bytes, keywords: set[int]) -> dict[int, int]:
        """Keyword id -> its first hit in data, for these keywords (those of the rules that can match: the
        order rules run in compares no others). One pass of a database of just these, each reported once
        and the pass stopped when all have been, so it mostly ends near the blob's start; logs hold hundreds
        of thousands of hits, a Python call each in the keyword database."""
        found: dict[int, int] = {}
        keywords &= self._keyword_bytes.keys()  # the others (not latin-1) never hit
        if not keywords:
            return found
        db, scratch = self._firsts_database(frozenset(keywords))
        lengths, wanted = self._lengths, len(keywords)

        def on_keyword(k: int, _from: int, end: int, _flags: int, _ctx) -> bool:
            found[k] = end - lengths[k]  # matches arrive in order of their end: this is k's earliest
            return len(found) == wanted  # all found: stop the pass

        try:
            db.scan(data, match_event_handler=on_keyword, scratch=scratch)
        except hyperscan.ScanTerminated:
            pass
        return found

    def _firsts_database(self, keywords: frozenset[int]) -> tuple[hyperscan.Database, hyperscan.Scratch]:
        """A single-match literal database of these keywords, compiled on first need (about a millisecond
        for a few dozen) and kept: the rules that can match a log file are much the same from file to file."""
        entry = self._firsts.get(keywords)
        if entry is None:
            if len(self._firsts) >= _FIRSTS_KEPT:
                self._firsts.clear()
            words = self._keyword_bytes
            db = _compile_keywords([(words[k], k, hyperscan.HS_FLAG_SINGLEMATCH) for k in sorted(keywords)])
            entry = self._firsts[keywords] = (db, hyperscan.Scratch(db))
        return entry

    def _large_blob_rules(self) -> _LargeBlobRules:
        """Built on the first large blob: measuring every pattern's width costs start-up time that the
        pre-commit hook, which sees small files, should not pay."""
        if self._large is None:
            rules = self.rules
            # Rules for some file names only (.pgpass, /etc/shadow) stay out, as they stay out of the rules
            # database (see _prescan_large): 23 such rules, line-anchored with few literals, were a fifth of
            # the located pass and half of the whole one over transcripts and logs.
            named = set(self._named)
            general = [i for i in range(len(rules)) if i not in named]
            widths = [r.max_width for r in rules]
            located = [i for i in general if (w := widths[i]) is not None and w < _MARGIN]
            far = [i for i in general if (w := widths[i]) is not None and _MARGIN <= w <= _FAR_WIDTH]
            wide = [i for i in general if (w := widths[i]) is None or w > _FAR_WIDTH]
            version = f"{self._version}-{_MARGIN}-{_FAR_WIDTH}-p{_PREFILTER_FORMAT}-hs{_HS_VERSION}-general"

            located_db = load_or_compile(self._cache / f"located-{version}.db",
                                         lambda: _compile_rules([rules[i] for i in located], located)) if located else None
            # The far rules report every match end (see _far_reaching); the wide ones only whether they match.
            whole = far + wide
            whole_db = load_or_compile(self._cache / f"whole-{version}.db",
                                       lambda: _compile_rules([rules[i] for i in whole], whole, every_match=set(far))
                                       ) if whole else None
            self._large = _LargeBlobRules(
                max((cast(int, widths[i]) for i in located), default=0) + 1, located_db, _scratch(located_db),
                whole_db, _scratch(whole_db), {i: cast(int, widths[i]) for i in far})
        return self._large

    def _keyword_regions(self, ranges: dict[int, list[tuple[int, int]]], size: int) -> list[tuple[int, int]]:
        """Where a keyword hit can open a window in which a located rule's match starts: a hit at h
        opens [h - before, h + window), so for starts in [lo, hi) hits in (lo - window, hi + before]."""
        regions = []
        for i, spans in ranges.items():
            rule, extra = self.rules[i], self._longest_keyword
            regions += [(max(0, lo - rule.window), min(size, hi + keyword_lead(rule) + extra)) for lo, hi in spans]
        return merged_spans(sorted(regions))

    def _hint_ends(self, data: bytes) -> list[int]:
        ends: list[int] = []
        self.hints_db.scan(data, match_event_handler=lambda _k, _from, end, _flags, _ctx: ends.append(end),
                           scratch=self._hints_scratch)
        return ends


_EXTENSION_GLOB = re.compile(r"\*\.[A-Za-z0-9]+")


def _by_extension(rule: Rule) -> bool:
    """A rule with keywords for the source files of some language (a glob `*.py`, `*.php` among its paths):
    not a rule for a file name (`.s3cfg`, with `*.s3cfg` for its copies), which few files of a tree hold."""
    return bool(rule.keywords) and any(_EXTENSION_GLOB.fullmatch(g) and g[1:].lower() in SOURCE_EXTENSIONS
                                       for g in rule.paths)


def merged_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans given in ascending order of their start, with those that overlap or touch joined."""
    merged: list[tuple[int, int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def prefilter_pattern(pattern: str, loose: bool = False) -> bytes:
    """The rule pattern as a Hyperscan prefilter expression, matching a superset of what it matches.

    Named groups become plain groups (Hyperscan has no use for them, and some rules repeat a name
    in alternatives); a bounded repeat {m,n} with n over 4 becomes {m,}, which costs Hyperscan far less to
    compile (a small one stays: relaxed, `(?:[^\\n]*\\n){0,2}` kept a rule's state alive to the end of each
    block after every hit of its keyword, 7 times the scan of a log that names the provider on every line).
    Character classes are copied as they are: '{1,2}' inside [...] is not a repeat. loose (a rule's
    `prefilter: loose`): word-boundary assertions are dropped too (an assertion dropped only widens
    what matches), since beside a long digit or hex run one costs the scan several times over.
    An optional character class a match can begin with is dropped too (_optional_leads).
    """
    out: list[str] = []
    skip_to = 0  # the end of a named group's opening, a bounded repeat or an optional lead already written
    leads = _optional_leads(pattern)
    for kind, start, end in syntax(pattern):
        if start < skip_to:
            continue
        if start in leads:
            skip_to = leads[start]
        elif kind == "escape":
            if not (loose and pattern[start + 1 : end] == "b"):
                out.append(pattern[start:end])
        elif kind == "(" and (m := NAMED_GROUP.match(pattern, start)) is not None:
            out.append("(?:")
            skip_to = m.end()
        elif kind == "char" and (m := _BOUNDED.match(pattern, start)) is not None:
            out.append(f"{{{m.group(1)},}}")
            skip_to = m.end()
        else:
            out.append(pattern[start:end])
    return "".join(out).encode()


def _optional_leads(pattern: str) -> dict[int, int]:
    """Start -> end of each optional character class (`[\\s"']?` before a provider's name) that a match can
    begin with: at the pattern's start or an alternative's, in groups opened there, none of them repeated.
    A match without it is held in the rule's match and ends where it ends, so the prefilter loses nothing
    by dropping it, and in 634 rules it cost the scan of a log 8% (tests/test_backends.py::
    test_prefilter_pattern_is_a_relaxed_superset)."""
    closing = dict(group_ends(pattern))  # a group's "(" -> its ")"
    leads: dict[int, int] = {}
    at_start, groups = True, []  # groups: each open group's "(" and whether a match could begin at it
    skip_to = 0
    for kind, start, end in syntax(pattern):
        if start < skip_to:
            continue
        if kind == "(":
            groups.append((start, at_start))
            opening = NAMED_GROUP.match(pattern, start) or _GROUP_OPENING.match(pattern, start)
            skip_to = opening.end() if opening else end  # `(?:`, `(?i:`, `(?P<name>` match nothing
            continue
        if kind == "|":
            at_start = groups[-1][1] if groups else True
            continue
        if kind == ")" and groups:
            groups.pop()
        elif (kind == "class" and at_start and (m := _OPTIONAL.match(pattern, end)) is not None
              and not any(_repeated(pattern, closing.get(g, -2) + 1) for g, _ in groups)):
            leads[start] = skip_to = m.end()
            continue
        at_start = False
    return leads


def _repeated(pattern: str, at: int) -> bool:
    """Whether the quantifier at `at` (after a group) lets the group match more than once."""
    return pattern[at : at + 1] in ("*", "+") or (
        pattern.startswith("{", at) and not pattern.startswith(("{1}", "{0,1}", "{1,1}"), at))


# A group's opening, up to what it holds: `(?:`, `(?i:`, `(?i-s:`; `(` alone for a capturing group.
_GROUP_OPENING = re.compile(r"\((?:\?[a-zA-Z]*(?:-[a-zA-Z]+)?:)?")
_OPTIONAL = re.compile(r"\?\??(?![+*?{])")
_BOUNDED = re.compile(r"\{(\d+),(?:\d{2,}|[5-9])\}")  # {m,n} with n over 4


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _compile_keywords(keywords: list[tuple]):
    """Caseless literals: (text, id), or (text, id, more flags)."""
    db = hyperscan.Database(mode=_MODE)
    db.compile(expressions=[kw[0] for kw in keywords], ids=[kw[1] for kw in keywords],
               flags=[_KEYWORD_FLAGS | (kw[2] if len(kw) > 2 else 0) for kw in keywords], literal=True)
    return db


def _context_patterns() -> list[tuple[bytes, int]]:
    """What context analysis looks for in every blob, as patterns with flags: the decoders' facts (each
    wanted at its first match) and the hint words (every hit). Compiled beside the rule patterns, they
    cost about half of a database of their own: a source tree is scanned once, not twice."""
    facts = [(pattern, hyperscan.HS_FLAG_SINGLEMATCH) for pattern in FACT_PATTERNS]
    return facts + [(re.escape(word.encode()), _KEYWORD_FLAGS) for word in HINT_WORDS]


def _compile_rules(rules: list[Rule], ids: list[int] | None = None, extra: Sequence[tuple[bytes, int]] = (),
                   extra_from: int | None = None, every_match: Container[int] = ()):
    """The rules' prefilter patterns (ids: theirs, else their index), then the extra patterns (numbered
    on from extra_from, else from len(rules)). A rule is reported at its first match only, unless its id
    is in every_match."""
    db = hyperscan.Database(mode=_MODE)
    ids = ids or list(range(len(rules)))
    first_extra = len(rules) if extra_from is None else extra_from
    try:
        db.compile(expressions=[prefilter_pattern(r.pattern, r.prefilter == "loose") for r in rules] + [e for e, _ in extra],
                   ids=ids + list(range(first_extra, first_extra + len(extra))),
                   flags=[_RULE_FLAGS & ~hyperscan.HS_FLAG_SINGLEMATCH if i in every_match else _RULE_FLAGS for i in ids]
                   + [f for _, f in extra])
    except hyperscan.error as exc:
        raise _unportable(rules, exc) from None
    return db


def _unportable(rules: list[Rule], exc: Exception) -> RuleError:
    """Name the rule whose pattern Hyperscan cannot compile (found one by one, only on this error path)."""
    for rule in rules:
        try:
            hyperscan.Database(mode=_MODE).compile(expressions=[prefilter_pattern(rule.pattern, rule.prefilter == "loose")], ids=[0],
                                                   flags=_RULE_FLAGS)
        except hyperscan.error as err:
            return RuleError(f"{rule.source_file}: rule {rule.id}: field 'pattern': Hyperscan cannot compile it "
                             f"({err}); keep patterns to the syntax both matcher backends accept")
    return RuleError(f"the Hyperscan database of every rule pattern does not compile: {exc}")

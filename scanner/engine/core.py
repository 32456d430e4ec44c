"""The hybrid engine, in stages:

1. rule matches: a matcher (scanner.engine.matcher) yields (rule, regex match) pairs (RuleMatch);
2. confirm: entropy floor, placeholders, format checks, filler -> _Claim;
3. context (scanner.engine.context): literals, names, comments, lookups; generic secrets found by name;
4. decode (scanner.engine.decoders): base64, percent-encoding, JSON escapes, scanned again and reported
   at the outer span;
5. test paths: a finding in test code is reported one confidence lower;
6. resolve: where rules claim overlapping text, keep the most specific claim;
7. locate: line, column and the line's text, only for what survives.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from scanner.engine import decoders, own_fields, previews
from scanner.engine.context import ContextAnalyzer
from scanner.engine.entropy import shannon_entropy
from scanner.engine.filters import documented_example, example_like, filler_reason, placeholder_reason
from scanner.engine.matcher import Matcher, PortableMatcher
from scanner.model import CONFIDENCE_RANK, Match
from scanner.rules.checks import run_check
from scanner.rules.model import CONFIDENCES, Rule, RuleSet

# How much of a long line is kept around a match, for allow markers and redacted snippets.
LINE_CONTEXT = 240
ALLOW_MARKERS = (
    "sprawl:allow",
    "gitleaks:allow",
    "betterleaks:allow",
    "kingfisher:ignore",
    "pragma: allowlist secret",
    "nosec",
)
# Test code is full of fake credentials; a finding there is reported one confidence level lower.
_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|__tests__|spec|specs|testdata|test-data|mocks?)/"
    r"|(?:^|/)(?:test_[^/]*|[^/]*_tests?\.[a-z]+|tests\.py|[^/]*\.(?:test|spec)\.[a-z]+|conftest\.py)$",
    re.IGNORECASE,
)


def is_test_path(path: str) -> bool:
    return bool(path) and bool(_TEST_PATH.search(path.replace("\\", "/")))


_ALLOW_RE = re.compile("|".join(re.escape(m) for m in ALLOW_MARKERS).encode())


@dataclass(slots=True)
class _Claim:
    """A rule's claim that text is a secret, until overlapping claims are resolved into matches."""

    rule: Rule
    start: int
    end: int
    secret: str
    entropy: float
    confidence: str
    reasons: list[str]
    groups: dict[str, str]
    decoded: bool = False  # found inside an encoded span: start/end are the span's, secret is the decoded value
    inner: tuple[int, int] | None = None  # where in the decoded text (two secrets in one blob both kept)

    def demote(self, reason: str) -> None:
        self.confidence = CONFIDENCES[max(0, CONFIDENCE_RANK[self.confidence] - 1)]
        self.reasons.append(reason)

    def priority(self) -> tuple:
        return (self.rule.specificity, CONFIDENCE_RANK[self.confidence], self.end - self.start)


class Engine:
    """Turns blobs into matches. Build once; scanning does not recompile anything."""

    def __init__(self, ruleset: RuleSet, matcher: Matcher | None = None, context: bool = True):
        self.ruleset = ruleset
        self.rules: list[Rule] = list(ruleset)
        self.matcher: Matcher = matcher or PortableMatcher(self.rules)
        # context=False keeps only rules and filters: for measuring what context analysis costs.
        self.context: ContextAnalyzer | None = ContextAnalyzer(ruleset) if context else None
        self._path_rules = [r for r in self.rules if r.paths]

    def path_profile(self, path: str) -> tuple:
        """All that a blob's matches take from its path: the same bytes under two paths of one profile
        give the same matches (so a history scan need not scan a renamed file again)."""
        return (is_test_path(path), tuple(r.id for r in self._path_rules if r.applies_to(path)),
                self.context.path_profile(path) if self.context is not None else None)

    def scan(self, data: bytes, path: str = "", region: tuple[int, int] | None = None) -> list[Match]:
        """The matches in data. region (start, end): only those found in data[start:end], judged in the
        context of the whole blob (scanner.engine.revisions scans a file's changed lines so)."""
        if not data:
            return []
        candidates = self._candidates(data, path, 0, region)
        if candidates and ((inventory := own_fields.is_inventory(data)) or b"secret-sprawl.io/" in data):
            # issue 18: sprawl's own metadata fields hold identifiers and fingerprints, not secrets
            candidates = [c for c in candidates if c.decoded or not own_fields.is_own_metadata(
                data, c.start, c.rule.kind, c.secret, inventory)]
        if is_test_path(path):
            for cand in candidates:
                cand.demote("in a test file")
        return _to_matches(data, _resolve_overlaps(candidates))

    def _candidates(self, data: bytes, path: str, depth: int, region: tuple[int, int] | None = None) -> list[_Claim]:
        context = self.context
        hints = context is not None and context.wants_hints(path)
        lo, hi = region or (0, len(data))
        text = data[lo:hi] if region else data
        found, pre = self.matcher.scan(text, path, hints)
        candidates = [c for rule, m in found if (c := _confirm(rule, m, text))]
        hint_ends = pre.hint_ends
        if lo:
            for c in candidates:
                c.start, c.end = c.start + lo, c.end + lo
            hint_ends = [end + lo for end in hint_ends]
        if context is not None:
            candidates = context.refine(data, path, candidates, _Claim, hint_ends if hints else None, region)
            if depth < decoders.MAX_DEPTH:
                for c in self._decoded(text, depth, pre.decoder_facts):
                    c.start, c.end = c.start + lo, c.end + lo
                    candidates.append(c)
        return candidates

    def _decoded(self, data: bytes, depth: int, facts: decoders.Facts | None) -> list[_Claim]:
        """Candidates inside encoded spans, moved to the outer span (the place a reader can find)."""
        found = []
        for start, end, text, how in decoders.decoded_spans(data, facts):
            for inner in self._candidates(text, "", depth + 1):
                inner.inner = (inner.start, inner.end) if inner.inner is None else inner.inner
                inner.start, inner.end, inner.decoded = start, end, True
                inner.reasons.append(f"decoded from {how}")
                found.append(inner)
        return found


def _confirm(rule: Rule, m, data: bytes) -> _Claim | None:
    start, end = m.span("secret")
    if start < 0 or end <= start:
        return None
    name_start = m.start()
    if rule.name_delimiters is not None:
        name_start = _name_start(data, name_start)
        if name_start is None or (name_start > 0 and data[name_start - 1] not in rule.name_delimiters):
            return None
    if rule.exclude_words:
        before = data[name_start:start].lower()
        if any(w.encode() in before for w in rule.exclude_words):
            return None
    secret = data[start:end].decode("utf-8", "replace")
    entropy = shannon_entropy(secret)
    if entropy < rule.min_entropy:
        return None
    if placeholder_reason(secret) or documented_example(secret):
        return None
    groups = {k: v.decode("utf-8", "replace") for k, v in m.groupdict().items() if k != "secret" and v}
    if groups.get("user", "").lower() == secret.lower():
        return None  # postgres:postgres, a local default rather than a secret
    confidence, reasons = rule.confidence, []
    if example_like(secret):
        confidence = "low"
        reasons.append("marked as an example")
    elif filler := filler_reason(secret):
        confidence = "low"
        reasons.append(filler)
    if rule.check:
        verdict = run_check(rule.check, secret)
        if verdict is False:
            confidence = "low"
            reasons.append(f"{rule.check} check failed")
        elif verdict:
            reasons.append(f"{rule.check} check passed")
    return _Claim(rule, start, end, secret, round(entropy, 3), confidence, reasons, groups)


_NAME_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_MAX_NAME_PREFIX = 40


def _name_start(data: bytes, pos: int) -> int | None:
    """Start of the variable name that the match at pos sits in (None if the name is too long)."""
    lo = max(0, pos - _MAX_NAME_PREFIX - 1)
    i = pos
    while i > lo and data[i - 1] in _NAME_CHARS:
        i -= 1
    if i == lo and lo > 0 and data[lo - 1] in _NAME_CHARS:
        return None
    return i


def _resolve_overlaps(candidates: list[_Claim]) -> list[_Claim]:
    """Where several rules claim overlapping text, keep the most specific, most confident claim."""
    if len(candidates) < 2:
        return candidates
    accepted: list[_Claim] = []
    by_start: list[_Claim] = []  # the accepted, in order of their start
    starts: list[int] = []
    for cand in sorted(candidates, key=_Claim.priority, reverse=True):
        if all(_apart_inside(cand, a) for a in _overlapping(by_start, starts, cand)):
            accepted.append(cand)
            at = bisect.bisect_right(starts, cand.start)
            starts.insert(at, cand.start)
            by_start.insert(at, cand)
    return accepted


def _overlapping(by_start: list[_Claim], starts: list[int], cand: _Claim) -> Iterator[_Claim]:
    """The accepted claims that overlap cand. No two of them overlap unless they share their span, so only
    those that start inside cand, and those of the last span starting before it, can: a blob with 100,000
    matches (a debug log printing a password on every line) is not compared pairwise
    (tests/test_engine.py::test_overlaps_and_snippets_are_those_of_the_pairwise_reading)."""
    first = bisect.bisect_left(starts, cand.start)
    before = first - 1
    while before >= 0 and starts[before] == starts[first - 1]:
        if by_start[before].end > cand.start:
            yield by_start[before]
        before -= 1
    for at in range(first, len(starts)):
        if starts[at] >= cand.end:
            break
        yield by_start[at]


def _apart_inside(a: _Claim, b: _Claim) -> bool:
    """Two candidates decoded from the same span at separate places in its decoded text."""
    return (a.inner is not None and b.inner is not None and (a.start, a.end) == (b.start, b.end)
            and (a.inner[1] <= b.inner[0] or a.inner[0] >= b.inner[1]))


def _to_matches(data: bytes, candidates: list[_Claim]) -> list[Match]:
    """Line and column are computed only here, for confirmed candidates, counting newlines incrementally."""
    matches: list[Match] = []
    line, counted_to = 1, 0
    ordered = sorted(candidates, key=lambda c: c.start)
    starts = [c.start for c in ordered]
    for c in ordered:
        line += data.count(b"\n", counted_to, c.start)
        counted_to = c.start
        line_start = data.rfind(b"\n", 0, c.start) + 1
        line_end = data.find(b"\n", c.start)
        if line_end < 0:
            line_end = len(data)
        lo, hi = max(line_start, c.start - LINE_CONTEXT), min(line_end, c.end + LINE_CONTEXT)
        marker = _ALLOW_RE.search(data, lo, hi)
        matches.append(
            Match(
                rule_id=c.rule.id,
                provider=c.rule.provider,
                kind=c.rule.kind,
                secret=c.secret,
                start=c.start,
                end=c.end,
                line=line,
                column=c.start - line_start + 1,
                confidence=c.confidence,
                entropy=c.entropy,
                reasons=c.reasons,
                groups=c.groups,
                snippet=_masked_snippet(data, lo, hi, ordered, starts),
                allowed_by=marker.group().decode() if marker else None,
            )
        )
    return matches


def _masked_snippet(data: bytes, lo: int, hi: int, candidates: list[_Claim], starts: list[int]) -> str:
    """The text around a secret with every secret in it replaced by its preview, whichever finding each
    belongs to (an encoded span by its decoded secret's preview): a snippet never discloses a secret
    (tests/test_engine.py::test_snippets_mask_every_secret_on_the_line). candidates are in order of their
    start (starts: theirs) and overlap only where they share a span, so their ends ascend too: only those
    from the last one ending after lo are looked at."""
    out, at = [], lo
    first = bisect.bisect_left(starts, lo)
    while first > 0 and candidates[first - 1].end > lo:
        first -= 1
    for i in range(first, len(candidates)):  # not a slice: a copy of the rest, for every snippet
        c = candidates[i]
        if c.start >= hi:
            break
        if c.end <= lo:
            continue
        start, end = max(c.start, at), min(c.end, hi)
        if end <= start:
            continue  # inside a span already masked
        out.append(data[at:start])
        out.append(previews.preview(c.secret).encode())
        at = end
    out.append(data[at:hi])
    return b"".join(out).decode("utf-8", "replace")

"""Load and validate rule files: one YAML file per provider.

File shape::

    provider: github
    rules:
      - id: github-pat-classic
        name: GitHub personal access token (classic)
        kind: token
        keywords: [ghp_]
        pattern: '(?P<secret>ghp_[A-Za-z0-9]{36})'
        check: github-checksum
        privilege: admin
        lifetime: static
        examples: ['GITHUB_TOKEN=ghp_...']
        negative_examples: ['ghp_short']

Optional fields: confidence, min_entropy, check, window, remediation, references,
provider (overrides the file's), exclude_words (words that, in the name or matched text
before the secret, mean it is not one: e.g. [public, csrf] for a generic token rule),
name_delimiters (for patterns that start inside a variable name, at most 16 bytes before one of
the rule's keywords (the matcher tries only those starts): the engine
extends the match back over the rest of the name, at most 40 name characters, and keeps it
only if one of these characters, or the start of the blob, comes before the name), paths (file-name globs: the rule runs only on
files whose name or path matches one, e.g. ['*.php', '.npmrc']), and prefilter (loose: the Hyperscan matcher pre-checks the pattern without its word-boundary assertions
(\b), which cost the pre-check dearly beside long hex or digit runs in large logs; strict by default), role (a behaviour the engine keys on: generic-assignment,
password-assignment or basic-authorization; see ROLES in scanner.rules.model) and publishable (true for a key
meant to be public, such as a publishable payments key: its blast radius is capped).

Files whose name starts with "_" in a rules folder are data, not rules, and are skipped.

Every error names the file, the rule and the field.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from pathlib import Path
from typing import NoReturn

from scanner.rules import cache as rule_cache
from scanner.rules.model import CONFIDENCES, KINDS, PREFILTERS, PRIVILEGES, ROLES, Rule, RuleError, RuleSet
from scanner.rules.patterns import KEYWORD_LEAD, group_ends, keyword_leads, syntax

_CACHE_FORMAT = 11  # bump when Rule's fields, their validation or what is measured of patterns change

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")
# Both matcher backends (regex and Hyperscan) must accept every pattern: no look-around, no backreferences.
_UNPORTABLE = re.compile(r"\(\?<?[=!]|\\[1-9]|\(\?P=|\\k<|\(\?\(")
_FIELDS = {
    "id", "name", "kind", "keywords", "pattern", "privilege", "lifetime", "confidence", "min_entropy",
    "check", "window", "remediation", "references", "examples", "negative_examples", "provider", "paths",
    "exclude_words", "name_delimiters", "prefilter", "role", "publishable",
}


def default_rules_dir() -> Path:
    """SPRAWL_RULES_DIR, else the checkout's rules/ folder, else the copy installed as scanner._rules."""
    env = os.environ.get("SPRAWL_RULES_DIR")
    if env:
        return Path(env)
    return builtin_rules_dir()


def builtin_rules_dir() -> Path:
    """The rules shipped with sprawl: the checkout's rules/ folder, else the installed scanner._rules."""
    checkout = Path(__file__).resolve().parent.parent.parent / "rules"
    if checkout.is_dir():
        return checkout
    return Path(__file__).resolve().parent.parent / "_rules"


def load_rules(paths: list[Path] | None = None) -> RuleSet:
    """Load every *.yaml rule file under the given files or folders (default: the built-in rules).

    Parsing hundreds of YAML files costs more than the rest of a pre-commit run, so a validated
    rule set is cached as JSON keyed by a hash of the files' contents: any edit invalidates it.
    """
    files = _rule_files(paths)
    # The files' identities (inode, size, change time: any write moves the change time) name the content
    # key they had last time, so an unchanged rule set is loaded without reading 700 files (a fifth of
    # a pre-commit run); anything else reads them and keys by content (tests/test_rules.py::test_rule_cache).
    stat_key = _stat_key(files)
    known = rule_cache.load(stat_key, "rulefiles") if stat_key else None
    if known and (ruleset := _from_cache(rule_cache.load(str(known[0])))) is not None:
        return ruleset
    contents = [(f, _read(f)) for f in files]
    key = hashlib.sha256(repr((_CACHE_FORMAT, [(str(f), t) for f, t in contents])).encode()).hexdigest()[:32]
    cached = _from_cache(rule_cache.load(key))
    if cached is not None:
        ruleset = cached
    else:
        ruleset = _parse(contents, paths)
        rule_cache.store(key, [_rule_to_json(r) for r in ruleset])
    if stat_key:
        rule_cache.store(stat_key, [key], "rulefiles")
    return ruleset


def _stat_key(files: list[Path]) -> str | None:
    stats = []
    try:
        for f in files:
            st = f.stat()
            stats.append((str(f), st.st_ino, st.st_size, st.st_ctime_ns, st.st_mtime_ns))
    except OSError:
        return None  # read below, where a missing file is a clear error
    return hashlib.sha256(repr((_CACHE_FORMAT, stats)).encode()).hexdigest()[:32]


def _rule_files(paths: list[Path] | None) -> list[Path]:
    files: list[Path] = []
    for p in paths or [default_rules_dir()]:
        p = Path(p)
        if p.is_dir():
            # A leading underscore marks a data file kept beside the rules (_documented-examples.yaml).
            names = sorted(e.name for e in os.scandir(p) if e.name.endswith((".yaml", ".yml")) and not e.name.startswith("_"))
            files.extend(p / n for n in names if n.endswith(".yaml"))
            files.extend(p / n for n in names if n.endswith(".yml"))
        elif p.is_file():
            files.append(p)
        else:
            raise RuleError(f"{p}: no such rule file or folder")
    return files


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read: {exc}") from None


def _parse(contents: list[tuple[Path, str]], paths: list[Path] | None) -> RuleSet:
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for f, text in contents:
        for rule in _load_file(f, text):
            if rule.id in seen:
                raise RuleError(f"{f}: rule {rule.id}: field 'id': duplicate of a rule in {seen[rule.id]}")
            seen[rule.id] = str(f)
            rules.append(rule)
    if not rules:
        raise RuleError(f"no rules found in {', '.join(str(p) for p in paths or [default_rules_dir()])}")
    return RuleSet(rules)


def _load_file(path: Path, text: str) -> list[Rule]:
    import yaml  # here, not at import: a rule set read from the cache needs no YAML parser

    try:
        doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise RuleError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise RuleError(f"{path}: field 'rules': expected a list of rules")
    provider = doc.get("provider")
    if not isinstance(provider, str) or not provider:
        raise RuleError(f"{path}: field 'provider': expected a provider name")
    return [_parse_rule(path, provider, i, raw) for i, raw in enumerate(doc["rules"])]


def _parse_rule(path: Path, provider: str, index: int, raw: object) -> Rule:
    where = f"{path}: rules[{index}]"
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: expected a mapping")
    if isinstance(raw.get("id"), str):
        where = f"{path}: rule {raw['id']}"

    def fail(field: str, why: str) -> NoReturn:
        raise RuleError(f"{where}: field '{field}': {why}")

    unknown = set(raw) - _FIELDS
    if unknown:
        fail(sorted(unknown)[0], "unknown field")
    for name in ("id", "name", "kind", "pattern", "privilege", "lifetime"):
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            fail(name, "required text")
    if not _ID.match(raw["id"]):
        fail("id", "must be kebab-case (a-z, 0-9, -)")
    if raw["kind"] not in KINDS:
        fail("kind", f"must be one of {', '.join(sorted(KINDS))}")
    if raw["privilege"] not in PRIVILEGES:
        fail("privilege", f"must be one of {', '.join(sorted(PRIVILEGES))}")
    lifetime = raw["lifetime"]
    if lifetime != "static" and not _DURATION.match(lifetime):
        fail("lifetime", "must be 'static' or an ISO-8601 duration such as PT1H")
    confidence = raw.get("confidence", "high")
    if confidence not in CONFIDENCES:
        fail("confidence", f"must be one of {', '.join(CONFIDENCES)}")
    pattern = raw["pattern"]
    if "(?P<secret>" not in pattern:
        fail("pattern", "needs a named group (?P<secret>...)")
    if _UNPORTABLE.search(pattern):
        fail("pattern", "look-around, backreferences and conditionals are not portable to Hyperscan")
    if (why := ambiguous_repetition(pattern)) is not None:
        fail("pattern", f"{why}: it can backtrack without end on a short input; make the alternatives "
                        "or the repeated parts exclusive")
    keywords = raw.get("keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k for k in keywords):
        fail("keywords", "expected a list of non-empty strings")
    examples = raw.get("examples")
    if not isinstance(examples, list) or not examples or not all(isinstance(e, str) for e in examples):
        fail("examples", "at least one example is required")
    negatives = raw.get("negative_examples")
    if not isinstance(negatives, list) or not negatives or not all(isinstance(e, str) for e in negatives):
        fail("negative_examples", "at least one negative example is required")
    min_entropy = raw.get("min_entropy", 0.0)
    if not isinstance(min_entropy, (int, float)) or not 0 <= min_entropy <= 8:
        fail("min_entropy", "expected a number of bits per character, 0 to 8")
    check = raw.get("check")
    if check is not None:
        from scanner.rules.checks import CHECKS

        if check not in CHECKS:
            fail("check", f"unknown check; known: {', '.join(sorted(CHECKS))}")
    window = raw.get("window", 512)
    if not isinstance(window, int) or window < 16:
        fail("window", "expected an integer of at least 16")
    references = raw.get("references", [])
    if not isinstance(references, list):
        fail("references", "expected a list")
    paths = raw.get("paths", [])
    if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
        fail("paths", "expected a list of file-name globs such as '*.php'")
    exclude_words = raw.get("exclude_words", [])
    if not isinstance(exclude_words, list) or not all(isinstance(w, str) and w for w in exclude_words):
        fail("exclude_words", "expected a list of words")
    name_delimiters = raw.get("name_delimiters")
    if name_delimiters is not None and (not isinstance(name_delimiters, str) or not name_delimiters):
        fail("name_delimiters", "expected the characters that may precede the variable name")
    if name_delimiters is not None and keywords and keyword_leads(pattern, tuple(keywords)) is None:
        # The matcher tries only starts within KEYWORD_LEAD bytes before a keyword hit (scanner.engine.matcher
        # .starting_near): a longer name part would make the backends' windows disagree (tests/test_engine.py).
        fail("pattern", f"with name_delimiters, a match must start at most {KEYWORD_LEAD} bytes before one of its "
                        "keywords (bound the name part, e.g. [A-Za-z0-9]{1,15}; the engine extends the match back "
                        "over the rest of the name)")
    prefilter = raw.get("prefilter", "strict")
    if prefilter is True or prefilter is False:  # the old boolean form: false meant "not pre-checked"
        prefilter = "strict" if prefilter else "loose"
    if prefilter not in PREFILTERS:
        fail("prefilter", f"expected one of {', '.join(PREFILTERS)}")
    role = raw.get("role")
    if role is not None and role not in ROLES:
        fail("role", f"unknown role; known: {', '.join(sorted(ROLES))}")
    publishable = raw.get("publishable", False)
    if not isinstance(publishable, bool):
        fail("publishable", "expected true or false")
    rule_provider = raw.get("provider", provider)
    return Rule(
        id=raw["id"],
        name=raw["name"],
        provider=rule_provider,
        kind=raw["kind"],
        pattern=pattern,
        keywords=tuple(sorted({k.lower() for k in keywords})),
        privilege=raw["privilege"],
        lifetime=lifetime,
        confidence=confidence,
        min_entropy=float(min_entropy),
        check=check,
        window=window,
        remediation=str(raw.get("remediation", "")),
        references=tuple(str(r) for r in references),
        examples=tuple(examples),
        negative_examples=tuple(negatives),
        source_file=str(path),
        paths=tuple(paths),
        exclude_words=tuple(w.lower() for w in exclude_words),
        name_delimiters=name_delimiters.encode() if name_delimiters else None,
        prefilter=prefilter,
        role=role,
        publishable=publishable,
    )


def _from_cache(cached: list | None) -> RuleSet | None:
    """The cached rule set, or None where there is none or it does not fit this version's Rule (an entry
    another version wrote): then the rule files are read again."""
    if cached is None:
        return None
    try:
        return RuleSet([_rule_from_json(d) for d in cached])
    except (TypeError, KeyError, AttributeError, ValueError):
        return None


def _rule_to_json(rule: Rule) -> dict:
    d = {f.name: getattr(rule, f.name) for f in dataclasses.fields(rule) if f.init and not f.name.startswith("_")}
    # Measured once per rule set (parsing ~700 patterns costs each process half a second).
    d["_width"], d["_breaks"], d["_leads"] = rule.max_width, rule.line_breaks, rule.keyword_leads
    if d["name_delimiters"] is not None:
        d["name_delimiters"] = d["name_delimiters"].decode("latin-1")
    return d


def _rule_from_json(d: dict) -> Rule:
    d = dict(d)
    for name in ("keywords", "references", "examples", "negative_examples", "paths", "exclude_words"):
        d[name] = tuple(d[name])
    if d["name_delimiters"] is not None:
        d["name_delimiters"] = d["name_delimiters"].encode("latin-1")
    return Rule(**d)


# -- patterns that backtrack without end ---------------------------------------------------------------
def ambiguous_repetition(pattern: str) -> str | None:
    """Why a pattern has a repetition that can match one text in exponentially many ways, or None.

    Two shapes, the ones that make a backtracking engine run for minutes on a few dozen bytes:
    an unbounded repetition of alternatives of one character each whose sets overlap
    (`(?:[a-z0-9]|[a-z])+X`), and an unbounded repetition of a sequence that is itself an unbounded
    repetition plus only optional parts or parts it can match (`(a+)+`, `(\\w+\\s?)*`).
    (tests/test_rule_files.py)"""
    from re import _parser as sre  # type: ignore[attr-defined]  # the stdlib's own parser of the syntax

    try:
        tree = sre.parse(pattern)
        # The parser folds alternatives of one character each into one set: they are read from the text.
        for body in _repeated_group_bodies(pattern):
            sets = [_chars(list(sre.parse(alt)), sre) for alt in _top_level_split(body)]
            for i, a in enumerate(sets):
                if a is not None and any(b is not None and a & b for b in sets[i + 1 :]):
                    return "a repeated group's alternatives match the same characters"
    except Exception:  # noqa: BLE001  (a pattern the stdlib cannot parse is judged when it compiles)
        return None
    return _walk(tree, sre)


def may_backtrack(pattern: str) -> bool:
    """Whether a pattern repeats (without a small bound) a group holding an alternation or a quantifier:
    the only shape whose regex can backtrack for long, so the only rules a scan runs under the regex
    time budget (the budget's own cost is a tenth of the portable engine's throughput)."""
    return any(re.search(r"[|+*?{]", body) for body in _repeated_group_bodies(pattern))


_UNBOUNDED = re.compile(r"[+*]|\{\d*,\}|\{\d*,(?:9|[1-9]\d+)\}")


def _repeated_group_bodies(pattern: str) -> list[str]:
    """The contents (without a `?:`-style prefix) of each group repeated without a small bound."""
    bodies = []
    for start, end in group_ends(pattern):
        if not _UNBOUNDED.match(pattern, end + 1):
            continue
        body = pattern[start + 1 : end]
        if body.startswith("?"):
            m = re.match(r"\?(?:P<\w+>|<\w+>|[:>]|[a-zA-Z]+:)", body)
            if m is None:
                continue
            body = body[m.end() :]
        bodies.append(body)
    return bodies


def _top_level_split(body: str) -> list[str]:
    """The alternatives of a group's contents (split at `|` outside nested groups and classes)."""
    parts, depth, start = [], 0, 0
    for kind, at, _ in syntax(body):
        if kind in ("(", ")"):
            depth += 1 if kind == "(" else -1
        elif kind == "|" and depth == 0:
            parts.append(body[start:at])
            start = at + 1
    parts.append(body[start:])
    return parts


def _walk(items, sre) -> str | None:
    for op, av in items:
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            lo, hi, body = av
            if hi == sre.MAXREPEAT or hi > 8:
                if (why := _ambiguous_body(body, sre)) is not None:
                    return why
            if (why := _walk(body, sre)) is not None:
                return why
        elif op == sre.SUBPATTERN:
            if (why := _walk(av[-1], sre)) is not None:
                return why
        elif op == sre.BRANCH:
            for alt in av[1]:
                if (why := _walk(alt, sre)) is not None:
                    return why
        elif op in (sre.ATOMIC_GROUP,):
            if (why := _walk(av, sre)) is not None:
                return why
    return None


def _unwrap(items, sre):
    """A sequence that is one group, as that group's contents."""
    while len(items) == 1 and items[0][0] == sre.SUBPATTERN:
        items = items[0][1][-1]
    return items


def _ambiguous_body(body, sre) -> str | None:
    items = list(_unwrap(body, sre))
    if len(items) == 1 and items[0][0] == sre.BRANCH:
        sets = [_chars([*alt], sre) for alt in items[0][1][1]]
        for i, a in enumerate(sets):
            for b in sets[i + 1 :]:
                if a is not None and b is not None and a & b:
                    return "a repeated group's alternatives match the same characters"
    for k, (op, av) in enumerate(items):
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and (av[1] == sre.MAXREPEAT or av[1] > 8):
            inner = _chars([*_unwrap(av[2], sre)], sre)
            if inner is None:
                continue
            rest = items[:k] + items[k + 1 :]
            if all(_optional(it, sre) or ((c := _chars([it], sre)) is not None and c <= inner) for it in rest):
                return "a repetition nested in a repetition can split one text in many ways"
    return None


def _optional(item, sre) -> bool:
    op, av = item
    return op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] == 0


_ALL = frozenset(range(256))


def _chars(items, sre) -> frozenset[int] | None:
    """The set of bytes a sequence of exactly one character can match, or None if it is not one character."""
    if len(items) != 1:
        return None
    op, av = items[0]
    if op == sre.LITERAL:
        return frozenset({av}) if av < 256 else frozenset()
    if op == sre.NOT_LITERAL:
        return _ALL - {av}
    if op == sre.ANY:
        return _ALL - {10}
    if op == sre.IN:
        out: set[int] = set()
        negate = False
        for iop, iav in av:
            if iop == sre.NEGATE:
                negate = True
            elif iop == sre.LITERAL:
                out.add(iav)
            elif iop == sre.RANGE:
                out.update(range(iav[0], min(iav[1], 255) + 1))
            elif iop == sre.CATEGORY:
                out.update(_CATEGORIES.get(str(iav), _ALL))
        return frozenset(_ALL - out if negate else out)
    if op == sre.SUBPATTERN:
        return _chars(list(av[-1]), sre)
    if op == sre.BRANCH:
        sets = [_chars(list(alt), sre) for alt in av[1]]
        if any(s is None for s in sets):
            return None
        return frozenset().union(*[s for s in sets if s is not None])
    return None


_DIGITS = frozenset(range(0x30, 0x3A))
_WORD = _DIGITS | frozenset(range(0x41, 0x5B)) | frozenset(range(0x61, 0x7B)) | {0x5F}
_SPACE = frozenset(b" \t\n\r\f\v")
_CATEGORIES = {
    "CATEGORY_DIGIT": _DIGITS, "CATEGORY_NOT_DIGIT": _ALL - _DIGITS,
    "CATEGORY_WORD": _WORD, "CATEGORY_NOT_WORD": _ALL - _WORD,
    "CATEGORY_SPACE": _SPACE, "CATEGORY_NOT_SPACE": _ALL - _SPACE,
}

"""The two matcher backends (portable, Hyperscan) must find exactly the same things on every input."""
from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest

from scanner.engine import Engine
from scanner.engine.backends import make_matcher
from scanner.engine.matcher import PortableMatcher
from scanner.rules import load_rules
from scanner.rules.model import RuleError
from tests.conftest import CORPUS, GITHUB_TOKEN, run_sprawl

hyperscan = pytest.importorskip("hyperscan")
from scanner.engine.hyperscan_matcher import HyperscanMatcher  # noqa: E402


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    ruleset = load_rules()
    cache = tmp_path_factory.mktemp("hs-cache")
    return (Engine(ruleset, PortableMatcher(list(ruleset))),
            Engine(ruleset, HyperscanMatcher(list(ruleset), cache=cache)))


def _found(engine: Engine, text: str, path: str = "") -> list[tuple]:
    return [(m.rule_id, m.start, m.end, m.secret, m.confidence, m.line, m.column, tuple(m.reasons))
            for m in engine.scan(text.encode(), path)]


def _differences(engines, cases: list[tuple[str, str]]) -> list[str]:
    portable, fast = engines
    diffs = []
    for text, path in cases:
        a, b = _found(portable, text, path), _found(fast, text, path)
        if a != b:
            diffs.append(f"{text[:80]!r} ({path}): portable {a} hyperscan {b}")
    return diffs


def test_rule_examples_identical(engines):
    cases = []
    for rule in engines[0].rules:
        path = rule.paths[0].replace("*", "sample") if rule.paths else "config.txt"
        cases += [(text, path) for text in (*rule.examples, *rule.negative_examples)]
    # Every example at once too: windows of neighbouring keywords merge in a large blob.
    cases.append(("\n".join(text for text, _ in cases), "all-examples.txt"))
    diffs = _differences(engines, cases)
    assert not diffs, f"{len(diffs)} differences, first: {diffs[0]}"
    assert any(_found(engines[1], text, path) for text, path in cases)  # the comparison is not vacuous


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no peers corpus at {CORPUS}")
def test_peer_corpus_identical(engines):
    cases = []
    for f in sorted(CORPUS.glob("*.jsonl")):
        for line in f.open(encoding="utf-8"):
            case = json.loads(line)
            cases.append((case["text"], case.get("path", "")))
    assert len(cases) > 5000
    diffs = _differences(engines, cases)
    assert not diffs, f"{len(diffs)} of {len(cases)} corpus cases differ, first: {diffs[0]}"


def test_case_folding_and_overlapping_keywords(engines):
    # Mixed case, keywords inside keywords, a keyword at the very start and end, non-ASCII bytes around.
    portable, fast = engines
    blob = (f"GITHUB_TOKEN={GITHUB_TOKEN}\nGiThUb_ToKeN = '{GITHUB_TOKEN}'\n\xe9\xc9 token"
            f" password: Sup3r-S3cret-Passw0rd!\nGHP_").encode("latin-1")
    assert portable.matcher.keyword_hits(blob) == fast.matcher.keyword_hits(blob)
    assert [m.start for m in portable.scan(blob, "a.env")] == [m.start for m in fast.scan(blob, "a.env")]
    assert fast.scan(blob, "a.env")


def test_databases_cached_on_disk_by_rules_hash(tmp_path):
    import os

    from scanner.engine.hyperscan_matcher import _FAR_WIDTH, _MARGIN
    from scanner.rules.model import RuleSet

    # A few rules of every kind the databases are split by (GitHub's, for the prescan below; named files;
    # long bounded and unbounded matches): the built-in set takes a minute to compile on a loaded machine.
    every = list(load_rules())
    kinds = (lambda r: r.id.startswith("github-pat"), lambda r: bool(r.paths),
             lambda r: r.max_width is not None and _MARGIN <= r.max_width <= _FAR_WIDTH, lambda r: r.max_width is None)
    rules = [r for kind in kinds for r in [r for r in every if kind(r)][:3]]
    version = RuleSet(rules).version
    # Other rule sets' databases from earlier runs: a few newest are kept, older ones deleted.
    for n in range(6):
        old = tmp_path / f"rules-{n:016x}-hs0.db"
        old.write_bytes(b"old")
        os.utime(old, (1_000_000 + n, 1_000_000 + n))
    HyperscanMatcher(rules, cache=tmp_path)
    assert sorted(p.name for p in tmp_path.glob("rules-0*-hs0.db")) == [f"rules-{n:016x}-hs0.db" for n in (3, 4, 5)]
    for old in tmp_path.glob("rules-0*-hs0.db"):
        old.unlink()
    cached = sorted(tmp_path.glob("*.db"))
    assert [p.name.split("-")[0] for p in cached] == ["keywords", "named", "rules"]
    assert all(version in p.name for p in cached)
    # Those of large blobs are compiled, and cached, when the first large blob is scanned.
    HyperscanMatcher(rules, cache=tmp_path)._large_blob_rules()
    assert sorted(p.name.split("-")[0] for p in tmp_path.glob("*.db")) == ["keywords", "located", "named", "rules", "whole"]
    stamps = [p.stat().st_mtime_ns for p in cached]
    HyperscanMatcher(rules, cache=tmp_path)
    assert [p.stat().st_mtime_ns for p in cached] == stamps  # loaded, not recompiled
    # A corrupt cache file is compiled over, not trusted.
    cached[2].write_bytes(b"not a hyperscan database")
    matcher = HyperscanMatcher(rules, cache=tmp_path)
    assert matcher.prescan(f"TOKEN={GITHUB_TOKEN}".encode()).possible
    assert cached[2].read_bytes() != b"not a hyperscan database"


def test_prefilter_pattern_is_a_relaxed_superset():
    from scanner.engine.hyperscan_matcher import prefilter_pattern

    assert prefilter_pattern(r"(?P<secret>ab{1,3}[{1,2}]c{2,5}?)") == rb"(?:ab{1,3}[{1,2}]c{2,}?)"
    assert prefilter_pattern(r"[]{0,3}]x\{1,2\}(?P<user>y{3})") == rb"[]{0,3}]x\{1,2\}(?:y{3})"
    # An optional class where a match starts is dropped (at the pattern's start, at a top-level alternative's,
    # inside a group opened there); elsewhere, or possessive, it stays.
    assert prefilter_pattern(r"[ \t]?(?:(?i:kw)=|(?:^|\s)kw\n)(?P<secret>v)") == rb"(?:(?i:kw)=|(?:^|\s)kw\n)(?:v)"
    assert prefilter_pattern(r"x|(?:[ab]??(?i:y)|z)") == rb"x|(?:(?i:y)|z)"
    assert prefilter_pattern(r"a[b]?c") == rb"a[b]?c"
    assert prefilter_pattern(r"(?:a)[b]?c") == rb"(?:a)[b]?c"
    assert prefilter_pattern(r"[b]?+c") == rb"[b]?+c"
    assert prefilter_pattern(r"(?:[a]?b){2}|(?:[a]?b)?c") == rb"(?:[a]?b){2}|(?:b)?c"  # twice: not at the start
    # A repeat of at most 4 stays bounded (relaxed, a few lines' repeat ran to the end of every block).
    assert prefilter_pattern(r"(?:x[^\n]{0,80}\n){0,2}y{1,4}z{2,10}") == rb"(?:x[^\n]{0,}\n){0,2}y{1,4}z{2,}"


def test_rule_hyperscan_cannot_compile_is_named(tmp_path):
    (tmp_path / "odd.yaml").write_text(
        "provider: odd\n"
        "rules:\n"
        "  - id: odd-keep-out\n"
        "    name: Odd token\n"
        "    kind: token\n"
        "    keywords: [oddtok]\n"
        "    pattern: 'oddtok_\\K(?P<secret>[a-z0-9]{20})'\n"
        "    privilege: read\n"
        "    lifetime: static\n"
        "    examples: ['oddtok_abcdefghij0123456789']\n"
        "    negative_examples: ['oddtok_short']\n"
    )
    rules = list(load_rules([tmp_path]))
    with pytest.raises(RuleError, match=r"rule odd-keep-out: field 'pattern': Hyperscan cannot compile"):
        HyperscanMatcher(rules, cache=tmp_path / "cache")
    r = run_sprawl("scan", str(tmp_path / "odd.yaml"), "--rules", str(tmp_path), "--engine", "hyperscan",
                   env={"SPRAWL_CACHE_DIR": str(tmp_path / "cache")})
    assert r.returncode == 2 and b"Traceback" not in r.stderr and b"odd-keep-out" in r.stderr


def test_make_matcher_selects_backend():
    rules = list(load_rules())
    assert make_matcher(rules).name == "hyperscan"  # automatic: hyperscan imports here
    assert make_matcher(rules, "portable").name == "portable"
    assert make_matcher(rules, "hyperscan").name == "hyperscan"


def test_cli_engine_option_same_findings(tree: Path):
    reports = {}
    for engine in ("portable", "hyperscan"):
        r = run_sprawl("scan", str(tree), "-f", "json", "--engine", engine, "--no-ignore-file")
        assert r.returncode == 1, r.stderr
        reports[engine] = [(f["rule_id"], f["fingerprint"]) for f in json.loads(r.stdout)["findings"]]
    assert reports["portable"] == reports["hyperscan"] and reports["portable"]


def test_cli_unknown_engine_is_a_usage_error(tree: Path):
    r = run_sprawl("scan", str(tree), "--engine", "turbo")
    assert r.returncode == 2 and b"Traceback" not in r.stderr and b"turbo" in r.stderr


def test_unknown_engine_in_environment_is_one_line_error(tree: Path):
    r = run_sprawl("scan", str(tree), env={"SPRAWL_ENGINE": "turbo"})
    assert r.returncode == 2 and b"Traceback" not in r.stderr
    assert b"SPRAWL_ENGINE" in r.stderr and b"'turbo' is not one of" in r.stderr


def test_large_keyword_dense_blob_located_by_block_finds_the_same(engines):
    # A log larger than the block size, keywords on every line, secrets straddling block and
    # sub-block edges and the blob's ends: block location must not lose or change a finding.
    from scanner.engine.hyperscan_matcher import BLOCK, SUB_BLOCK

    filler = b'{"level":"info","msg":"token refreshed","key":"cache:17","password_policy":"ok"}\n'
    data = bytearray(filler * (3 * BLOCK // len(filler) + 10))
    # The Mailgun signing key's rule is pre-checked without its word boundaries (prefilter: loose).
    secret = (f'"github_token":"{GITHUB_TOKEN}","api_key":"sk_live_4eC39HqLyjWDarjtT1zdp7dc",'
              f'"mailgun_signing_key":"3f1e9a7c5b2d4e6f8a0b1c2d3e4f5a6b-1a2b3c4d-5e6f7a8b"').encode()
    for edge in (0, SUB_BLOCK - 20, BLOCK - 30, BLOCK + 300, 2 * BLOCK - len(secret) // 2, len(data) - len(secret)):
        data[edge:edge + len(secret)] = secret
    portable, fast = engines
    assert len(data) > 2 * BLOCK and fast.matcher.prescan(bytes(data)).ranges
    a, b = _found(portable, data.decode(), "app.log"), _found(fast, data.decode(), "app.log")
    assert a == b
    assert sum(1 for f in a if f[3] == GITHUB_TOKEN) == 6
    assert sum(1 for f in a if f[0] == "mailgun-signing-key") == 6
    assert next(r for r in fast.matcher.rules if r.id == "mailgun-signing-key").prefilter == "loose"


def test_long_matches_in_a_large_blob_are_located_by_their_ends_and_found_the_same(engines):
    # JWTs and PEM blocks (rules of long bounded matches) in a log larger than the blocks: at the blob's
    # ends, across block edges, back to back (a match overlapping the next one's window), and many
    # JWT-like decoys: locating them by the ends the whole-blob pass reports must lose nothing.
    import base64
    import json as json_

    from scanner.engine.hyperscan_matcher import BLOCK

    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json_.dumps(obj).encode()).rstrip(b"=").decode()

    def jwt(n: int) -> bytes:
        body = b64({"sub": f"svc-{n}", "iss": "https://auth.acme.test", "exp": 4102444800, "scope": "orders:write"})
        return f'{b64({"alg": "HS256", "typ": "JWT"})}.{body}.{"Qx9" * 14}{n:04d}'.encode()

    pem_body = "\n".join(base64.b64encode(bytes((k * 7 + j * 13) % 256 for j in range(48))).decode() for k in range(10))
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{pem_body}\n-----END RSA PRIVATE KEY-----".encode()
    filler = b'{"level":"info","msg":"token refreshed","trace":"eyJub3QiOiJhIHRva2VuIn0","key":"cache:17"}\n'
    data = bytearray(filler * (3 * BLOCK // len(filler) + 10))
    pieces = {0: b"Authorization: Bearer " + jwt(1), BLOCK - 40: b"bearer=" + jwt(2),
              BLOCK + 4000: b'"auth":"' + jwt(3) + b'" next=' + jwt(4),
              2 * BLOCK - 700: b"key_pem=" + pem, len(data) - 300: b"id_token=" + jwt(5)}
    for at, piece in pieces.items():
        data[at:at + len(piece)] = piece
    portable, fast = engines
    assert len(data) > 2 * BLOCK
    a, b = _found(portable, data.decode(), "app.log"), _found(fast, data.decode(), "app.log")
    assert a == b
    assert sum(1 for f in a if f[0] == "jwt-token") == 5
    assert any(f[0] == "private-key-pem" for f in a)


def test_prefilter_field_values(tmp_path):
    def rule(prefilter: str) -> str:
        return ("provider: odd\nrules:\n  - id: odd-loose\n    name: Odd token\n    kind: token\n"
                f"    keywords: [oddtok]\n    prefilter: {prefilter}\n    pattern: '\\boddtok_(?P<secret>[a-z0-9]{{20}})\\b'\n"
                "    privilege: read\n    lifetime: static\n    examples: ['oddtok_abcdefghij0123456789']\n"
                "    negative_examples: ['oddtok_short']\n")

    for value, expected in (("loose", "loose"), ("strict", "strict"), ("false", "loose"), ("true", "strict")):
        (tmp_path / "odd.yaml").write_text(rule(value))
        assert next(iter(load_rules([tmp_path]))).prefilter == expected
    (tmp_path / "odd.yaml").write_text(rule("sometimes"))
    with pytest.raises(RuleError, match=r"rule odd-loose: field 'prefilter'"):
        load_rules([tmp_path])


def test_loose_prefilter_drops_word_boundaries_only_outside_classes():
    from scanner.engine.hyperscan_matcher import prefilter_pattern

    assert prefilter_pattern(r"\b(?P<secret>[0-9]{15,16}[\b]x)\b", loose=True) == rb"(?:[0-9]{15,}[\b]x)"
    assert prefilter_pattern(r"\bx\b") == rb"\bx\b"


def test_small_databases_are_cached_on_disk_too(tmp_path, monkeypatch):
    pytest.importorskip("hyperscan")
    from scanner.engine.optional_hyperscan import compile_scanner

    monkeypatch.setenv("SPRAWL_CACHE_DIR", str(tmp_path))
    assert compile_scanner([b"needle"], literal=True)(b"a needle, another needle") == [(0, 8), (0, 24)]
    (cached,) = tmp_path.glob("small-*.db")
    stamp = cached.stat().st_mtime_ns
    assert compile_scanner([b"needle"], literal=True)(b"needle") == [(0, 6)]
    assert cached.stat().st_mtime_ns == stamp  # loaded, not compiled again
    cached.write_bytes(b"not a hyperscan database")
    assert compile_scanner([b"needle"], literal=True)(b"needle") == [(0, 6)]
    assert compile_scanner([b"other"], literal=True)(b"needle") == []
    assert len(list(tmp_path.glob("small-*.db"))) == 2


_PGPASS_LINE = "db.internal:5432:billing:billing_rw:{}\n".format(
    "".join(random.Random(5).choices(string.ascii_letters + string.digits, k=14)))
_SINGLE_QUOTED_LINE = "SECRET_KEY = '{}'\n".format(
    "".join(random.Random(7).choices("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%&*;<>?@^", k=32)))


@pytest.mark.parametrize("rule_id, line, where, elsewhere, named", [
    # No keyword, one file name: a database of its own, asked only about the files the rule names.
    ("pgpass-entry", _PGPASS_LINE, ["home/ops/.pgpass", "pgpass.conf"], ["notes.txt"], True),
    # A language's source files (*.py, *.php...: most files of a tree): in the database every blob is scanned
    # with (no second pass over each source file), dropped by path where it matches.
    ("generic-secret-punctuated-single-quoted", _SINGLE_QUOTED_LINE, ["app/settings.py", "wp-config.php"],
     ["Main.java", "notes.txt"], False),
])
def test_a_rule_for_some_files_runs_on_those_only(engines, rule_id, line, where, elsewhere, named):
    portable, fast = engines
    for path in where + elsewhere:
        found = _found(fast, line, path)
        assert found == _found(portable, line, path)
        assert any(f[0] == rule_id for f in found) == (path in where), path
    assert fast.matcher._names_file(where[0]) == named and not fast.matcher._names_file(elsewhere[0])


def test_a_rule_for_other_files_costs_a_large_blob_nothing(engines):
    # fetchmailrc-password (paths: .fetchmailrc) can match anywhere in a file (no bounded width) and its keyword,
    # `pass`, is on every line of a log; pgpass-entry (paths: .pgpass) has no keyword and a bounded width.
    # A large blob's databases hold neither (rules for file names are asked only about their files): a log
    # is still searched only near where its located rules can match (Prescan.first set), and each rule
    # still runs on its own file, large as it may be, finding what the portable matcher finds.
    from scanner.engine.hyperscan_matcher import BLOCK

    filler = b'2026-01-02T03:04:05Z INFO auth: pass through ok user=svc-42 key=cache:17\n'
    data = (filler * (3 * BLOCK // len(filler) + 10) + f'export GITHUB_TOKEN="{GITHUB_TOKEN}"\n'.encode()
            + b"poll imap.example.com user dev pass K7vR2mXq9pW ssl\n"
            + b"db.internal:5432:orders:svc_orders:Qm4vT9xLr2Wp\n")
    portable, fast = engines
    ids = {r.id: i for i, r in enumerate(fast.matcher.rules)}
    for path, named in (("var/log/app.log", None), ("home/dev/.fetchmailrc", "fetchmailrc-password"),
                        ("home/dev/.pgpass", "pgpass-entry")):
        pre = fast.matcher.prescan(data, path=path)
        assert {ids["fetchmailrc-password"], ids["pgpass-entry"]} & pre.possible == ({ids[named]} if named else set())
        if not named:
            assert pre.first is not None  # located: not every keyword hit of the blob fetched
        found = _found(fast, data.decode(), path)
        assert found == _found(portable, data.decode(), path)
        assert {f[0] for f in found} & {"fetchmailrc-password", "pgpass-entry"} == ({named} if named else set())
        assert any(f[3] == GITHUB_TOKEN for f in found)


def test_a_rules_hits_are_searched_or_matched_near_and_found_the_same(engines, monkeypatch):
    """matcher.starting_near searches each hit's window until a rule has had NEAR_REGEX_AFTER hits in the
    process, then compiles its near pattern: either way the same matches, here with every hit of every
    rule's examples sent down one path, then down the other."""
    from scanner.engine import matcher

    rules = load_rules()
    cases = [ex for r in rules if r.max_width is not None and r.keyword_leads for ex in r.examples]
    # Examples back to back on one line too: hits of one rule close together, matches overlapping windows.
    cases += [" ".join(cases[i:i + 5]) for i in range(0, len(cases), 5)]
    assert len(cases) > 500
    found = {}
    for near_after in (0, 10**9):
        monkeypatch.setattr(matcher, "NEAR_REGEX_AFTER", near_after)
        found[near_after] = [_found(engine, text) for text in cases for engine in engines]
    assert found[0] == found[10**9]
    assert sum(map(len, found[0])) > len(cases)  # the examples are found at all

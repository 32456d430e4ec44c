"""Rule files load with PyYAML's pure-Python loader; patterns that backtrack without end are rejected by the
loader (and so by `sprawl rules check`); a rule regex that still runs too long on a blob is stopped by the
regex time budget and reported as a skip."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import REPO, run_sprawl

from scanner.rules import RuleError, load_rules
from scanner.rules.loader import ambiguous_repetition

RULE_FILES = sorted((REPO / "rules").glob("*.yaml"))


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_every_rule_file_loads_with_the_pure_python_loader(path):
    # yaml.SafeLoader is the pure-Python loader (CSafeLoader is libyaml's): used where libyaml is absent.
    assert yaml.SafeLoader.__module__ == "yaml.loader"
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    assert doc == yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _rule(pattern: str, example: str) -> str:
    return (f"provider: test\nrules:\n  - id: slow-rule\n    name: slow\n    kind: token\n    keywords: [tok]\n"
            f"    pattern: '{pattern}'\n    privilege: read\n    lifetime: static\n    confidence: high\n"
            f"    examples: ['{example}']\n    negative_examples: ['nothing here']\n")


@pytest.mark.parametrize("pattern", [r"(?:[a-z0-9]|[a-z])+X", r"(a+)+b", r"(\w+\s?)*x", r"(?:[a-z]|\w)*",
                                     r"(?:[a-z0-9]|[a-z]){1,64}X"])
def test_ambiguous_repetitions_are_named(pattern):
    assert ambiguous_repetition(pattern) is not None


@pytest.mark.parametrize("pattern", [r"(?:[a-z0-9-]+\.)+[a-z]{2,}", r"(?P<secret>[A-Za-z0-9]{32})", r"(?:\d|[a-f]){3}",
                                     r"(?:a|b)+", r"(?:ab|cd)+"])
def test_exclusive_repetitions_pass(pattern):
    assert ambiguous_repetition(pattern) is None


def test_every_shipped_pattern_passes_the_check():
    assert [r.id for r in load_rules() if ambiguous_repetition(r.pattern)] == []


def test_rules_check_rejects_the_nested_quantifier_rule(tmp_path):
    rule = tmp_path / "slow.yaml"
    rule.write_text(_rule(r"tok=(?P<secret>(?:[a-z0-9]|[a-z])+X)", "tok=abcdefghX"))
    with pytest.raises(RuleError, match="alternatives match the same characters"):
        load_rules([rule])
    res = run_sprawl("rules", "check", str(rule))
    assert res.returncode == 2 and b"alternatives match the same characters" in res.stderr, res.stderr.decode()


def test_a_regex_that_runs_too_long_is_stopped_and_reported(tmp_path):
    # The check does not see this one (an alternative with an optional tail); the time budget stops it.
    rule = tmp_path / "slow.yaml"
    rule.write_text(_rule(r"tok=(?P<secret>(?:[a-z0-9]|[a-z]c?)+X)", "tok=abcdX"))
    load_rules([rule])
    data = tmp_path / "input.txt"
    data.write_text("tok=" + "abcdefghij" * 4 + " X\n")  # 47 bytes
    # The portable engine: Hyperscan's pass proves this input holds no match and never runs the regex.
    res = run_sprawl("scan", str(data), "--rules", str(rule), "-f", "json", "--no-ignore-file", "--engine", "portable")
    assert res.returncode == 3, res.stderr.decode()
    [skip] = json.loads(res.stdout)["summary"]["skipped"]
    assert skip["reason"] == "regex time limit: rule slow-rule not fully checked"
    assert Path(skip["path"]) == data


def test_syntax_reads_escapes_classes_and_groups():
    from scanner.rules.loader import _top_level_split
    from scanner.rules.patterns import group_ends as _group_ends
    from scanner.rules.patterns import syntax

    pattern = r"(?P<a>x\(|[])|(]y)[^]z]{1,2}\b|w"
    kinds = [(kind, pattern[start:end]) for kind, start, end in syntax(pattern)]
    assert kinds[:5] == [("(", "("), ("char", "?"), ("char", "P"), ("char", "<"), ("char", "a")]
    assert ("escape", r"\(") in kinds and ("class", "[])|(]") in kinds and ("class", "[^]z]") in kinds
    assert ("escape", r"\b") in kinds and kinds[-2:] == [("|", "|"), ("char", "w")]
    # The `(` and `)` inside the escape and the class open and close no group.
    assert _group_ends(pattern) == [(0, pattern.index("y") + 1)]
    assert _top_level_split(r"a|[|]|(b|c)|\|") == ["a", "[|]", "(b|c)", r"\|"]


def test_a_name_part_longer_than_the_keyword_lead_is_refused(tmp_path):
    (tmp_path / "odd.yaml").write_text(
        "provider: odd\n"
        "rules:\n"
        "  - id: odd-long-name\n"
        "    name: Odd key\n"
        "    kind: generic\n"
        "    keywords: [key]\n"
        "    name_delimiters: \" \\t\"\n"
        "    pattern: '[A-Za-z0-9]{1,30}_key = (?P<secret>[a-z0-9]{20})'\n"
        "    privilege: read\n"
        "    lifetime: static\n"
        "    examples: ['service_key = abcdefghij0123456789']\n"
        "    negative_examples: ['service_key = short']\n"
    )
    with pytest.raises(RuleError, match=r"rule odd-long-name: field 'pattern': with name_delimiters"):
        load_rules([tmp_path])

"""Run every rule's own examples: a rule that cannot show a passing example does not ship."""
from __future__ import annotations

from dataclasses import dataclass

from scanner.model import CONFIDENCE_RANK
from scanner.rules.model import RuleSet

_MEDIUM = CONFIDENCE_RANK["medium"]


@dataclass(slots=True)
class ExampleFailure:
    rule_id: str
    source_file: str
    example: str
    positive: bool
    found: list[str]

    def __str__(self) -> str:
        what = "example not matched" if self.positive else "negative example matched"
        return f"{self.source_file}: rule {self.rule_id}: {what}: {self.example[:120]!r} (found: {self.found})"


def check_examples(ruleset: RuleSet, engine=None) -> list[ExampleFailure]:
    """An example must be found by its own rule at medium confidence or above (at low, for a rule whose
    confidence is low); a negative must not be."""
    from scanner.engine import Engine

    engine = engine or Engine(ruleset)
    failures: list[ExampleFailure] = []
    for rule in ruleset:
        # A path-restricted rule's examples are scanned as a file its globs accept.
        path = rule.paths[0].replace("*", "example") if rule.paths else ""
        for text, positive in [(e, True) for e in rule.examples] + [(e, False) for e in rule.negative_examples]:
            matches = engine.scan(text.encode(), path)
            found = [f"{m.rule_id}:{m.confidence}" for m in matches]
            # A rule that only ever reports at low confidence (identifiers, weak passwords) is held to that.
            floor = min(_MEDIUM, CONFIDENCE_RANK[rule.confidence])
            hit = any(m.rule_id == rule.id and CONFIDENCE_RANK[m.confidence] >= floor for m in matches)
            if hit != positive:
                failures.append(ExampleFailure(rule.id, rule.source_file, text, positive, found))
    return failures


def main(argv: list[str] | None = None) -> int:
    """python -m scanner.engine.selftest [RULE_FILE...]: check the examples of the given (default: all) rule files."""
    import sys
    from pathlib import Path

    from scanner.engine import Engine
    from scanner.rules.loader import load_rules
    from scanner.rules.model import RuleError

    argv = sys.argv[1:] if argv is None else argv
    try:
        full = load_rules()
        engine = Engine(full)  # all rules compete, as in a real scan
        wanted = {r.id for r in load_rules([Path(a) for a in argv])} if argv else {r.id for r in full}
        failures = check_examples(full.only(wanted), engine)
    except RuleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for f in failures:
        print(f)
    print(f"{len(wanted)} rules checked, {len(failures)} example failures")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

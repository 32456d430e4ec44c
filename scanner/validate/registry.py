"""Which validator handles which rule: by rule id first, then by the rule's provider.

Invariant: a validator is registered only under its own provider, so a secret found by one provider's rule is
never handed to another provider's validator (tests/test_validate_registry.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from scanner.validate.base import Validator
from scanner.validate.result import Candidate


class Registry:
    def __init__(self, validators: Iterable[Validator]) -> None:
        self.by_rule: dict[str, Validator] = {}
        self.by_provider: dict[str, list[Validator]] = {}
        for validator in validators:
            for rule_id in validator.rule_ids:
                if rule_id in self.by_rule:
                    raise ValueError(f"rule {rule_id} has two validators")
                self.by_rule[rule_id] = validator
            self.by_provider.setdefault(validator.provider, []).append(validator)

    def for_candidate(self, candidate: Candidate) -> Validator | None:
        """The validator for the candidate's rule, if it is of the candidate's provider; else None."""
        validator = self.by_rule.get(candidate.rule_id)
        if validator is None or validator.provider != candidate.provider:
            return None
        return validator

    def rule_ids(self) -> set[str]:
        return set(self.by_rule)

    def providers(self) -> set[str]:
        return set(self.by_provider)


def default_registry() -> Registry:
    """Every validator shipped in scanner.validate.providers."""
    from scanner.validate.providers import ALL_VALIDATORS

    return Registry(ALL_VALIDATORS)

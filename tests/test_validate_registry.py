"""The registry: every validator's rule ids exist in rules/*.yaml under the validator's own provider, and
the providers the issue names are all covered."""

from __future__ import annotations

import pytest

from scanner.rules.loader import load_rules
from scanner.validate.providers import ALL_VALIDATORS
from scanner.validate.registry import Registry, default_registry
from scanner.validate.result import Candidate


def rule_providers() -> dict[str, str]:
    return {rule.id: rule.provider for rule in load_rules().rules}


def test_every_registered_rule_exists_under_the_validators_provider() -> None:
    providers = rule_providers()
    for validator in ALL_VALIDATORS:
        for rule_id in validator.rule_ids:
            assert providers.get(rule_id) == validator.provider, (rule_id, validator.provider)


def test_the_issues_providers_are_covered() -> None:
    wanted = {"aws", "gcp", "azure", "github", "gitlab", "bitbucket", "npm", "pypi", "docker", "huggingface",
              "openai", "anthropic", "cohere", "mistral", "groq", "replicate", "pinecone", "langchain", "slack",
              "discord", "telegram", "twilio", "sendgrid", "mailgun", "stripe", "square", "paypal", "shopify",
              "datadog", "newrelic", "sentry", "grafana", "pagerduty", "cloudflare", "digitalocean", "heroku",
              "linear", "notion", "atlassian", "db-connection"}
    assert wanted <= default_registry().providers()


def test_two_validators_for_one_rule_is_an_error() -> None:
    with pytest.raises(ValueError, match="two validators"):
        Registry([ALL_VALIDATORS[0], ALL_VALIDATORS[0]])


def test_lookup_checks_the_provider() -> None:
    registry = default_registry()
    assert registry.for_candidate(Candidate("github-pat-classic", "github", "x")) is not None
    assert registry.for_candidate(Candidate("github-pat-classic", "gitlab", "x")) is None
    assert registry.for_candidate(Candidate("no-such-rule", "github", "x")) is None

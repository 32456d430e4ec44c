"""Anthropic: list models with the API key; admin keys list the organization's users (one page).

Docs: https://docs.anthropic.com/en/api/models-list, https://docs.anthropic.com/en/api/admin-api/users/list-users
"""

from scanner.validate.base import HttpCheck, header

API = "https://api.anthropic.com"
VERSION = {"anthropic-version": "2023-06-01"}

API_KEY = HttpCheck(
    provider="anthropic",
    rule_ids=("anthropic-api-key",),
    base=API,
    path="/v1/models?limit=1",
    expect_path="data",
    auth=header("x-api-key"),
    extra_headers=VERSION,
    insufficient_statuses=frozenset({403}),
)

ADMIN_KEY = HttpCheck(
    provider="anthropic",
    rule_ids=("anthropic-admin-api-key",),
    base=API,
    path="/v1/organizations/users?limit=20",
    expect_path="data",
    auth=header("x-api-key"),
    extra_headers=VERSION,
    insufficient_statuses=frozenset({403}),
    resources_path="data",
    resources_key="email",
)

VALIDATORS = [API_KEY, ADMIN_KEY]

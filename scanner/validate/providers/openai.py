"""OpenAI: list models with the key (403 with a JSON scope error = a live restricted key); admin keys list admin keys.

Docs: https://platform.openai.com/docs/api-reference/models/list,
https://platform.openai.com/docs/api-reference/admin-api-keys/list
"""

from scanner.validate.base import HttpCheck

API = "https://api.openai.com"
ORG_HEADERS = {"org": "openai-organization", "project": "openai-project"}

API_KEY = HttpCheck(
    provider="openai",
    rule_ids=("openai-api-key", "openai-api-key-context"),
    base=API,
    path="/v1/models",
    expect_path="data",
    insufficient_statuses=frozenset({403}),
    identity_headers=ORG_HEADERS,
)

ADMIN_KEY = HttpCheck(
    provider="openai",
    rule_ids=("openai-admin-key",),
    base=API,
    path="/v1/organization/admin_api_keys?limit=20",
    expect_path="data",
    insufficient_statuses=frozenset({403}),
    identity_headers=ORG_HEADERS,
    resources_path="data",
    resources_key="name",
)

VALIDATORS = [API_KEY, ADMIN_KEY]

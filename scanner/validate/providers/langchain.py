"""LangSmith: list the workspaces the key reaches (US host; EU via --endpoint langchain=...).

Docs: https://docs.langchain.com/langsmith/manage-organization-by-api
"""

from scanner.validate.base import HttpCheck, header, is_list

VALIDATORS = [
    HttpCheck(
        provider="langchain",
        rule_ids=("langchain-langsmith-personal-token", "langchain-langsmith-service-key"),
        base="https://api.smith.langchain.com",
        path="/api/v1/workspaces",
        auth=header("X-API-Key"),
        revoked_statuses=frozenset({401, 403}),
        resources_path="",
        accepted=is_list,
        resources_key="display_name",
        extra_documented=("https://eu.api.smith.langchain.com",),
    )
]
